//! One line through the parsers into the facts builder: where runsc's text is in it
//! ([`locate`]), its envelope (glog text, runsc's JSON, or a shipper's JSON around
//! either), then the task prefix, strace, and the messages. A line with no envelope is a
//! continuation of the message before it (runsc's multi-line messages: the spec, timing
//! tables), a Go runtime dump, or text pasted without its header: a task-prefixed or
//! bare strace line, or a runsc message.

use super::envelope::{self, Encoding, Envelope, JsonProblem, JsonRecord, Level};
use super::facts::{FactsBuilder, Inline, TerminationKind, Where};
use super::locate::{locate, Located};
use super::message::{self, Message, RuntimeLine};
use super::strace::{self, StraceLine, SyscallName};
use super::task::{self, TaskIds};

/// What a line turned out to be.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Recognised as runsc's, in this encoding.
    Recognised(Option<&'static str>),
    /// Not runsc's: why.
    Unparsed(String),
}

/// Per-file state of the line reader.
pub struct LineReader {
    file: u32,
    /// The stream of the last line with no tag, by its runsc pid: consecutive lines are
    /// mostly the same runsc process's.
    last_stream: Option<(Option<u32>, u32)>,
    /// The last line with an envelope started a message whose further lines, if it has
    /// any, follow with no envelope.
    in_message: bool,
}

/// The longest task name (Linux's TASK_COMM_LEN less its NUL): a longer one is not a
/// strace line's.
const MAX_COMM: usize = 15;

/// Where a line was, for the builder.
struct Place<'a> {
    number: u64,
    located: Located<'a>,
    runsc_pid: Option<u32>,
}

impl LineReader {
    /// A reader for file `file` of the builder.
    pub fn new(file: u32) -> Self {
        Self {
            file,
            last_stream: None,
            in_message: false,
        }
    }

    /// Reads one non-blank line.
    pub fn line(&mut self, builder: &mut FactsBuilder<'_>, number: u64, text: &[u8]) -> Outcome {
        // Most lines are runsc's own text from their first byte: read them straight away.
        if let Some(env) = envelope::parse_text(text) {
            let place = Place {
                number,
                located: Located::plain(text),
                runsc_pid: env.runsc_pid,
            };
            self.envelope(builder, &place, env);
            return Outcome::Recognised(Some(Encoding::Text.as_str()));
        }
        let located = locate(text);
        let place = Place {
            number,
            located,
            runsc_pid: None,
        };
        self.located(builder, place, 0)
    }

    /// Reads one entry of a JSON array (a Cloud Logging export).
    pub fn json_entry(
        &mut self,
        builder: &mut FactsBuilder<'_>,
        number: u64,
        entry: &[u8],
    ) -> Outcome {
        let place = Place {
            number,
            located: Located {
                content: entry,
                source_line: None,
                tag: None,
                prefixes: Default::default(),
            },
            runsc_pid: None,
        };
        self.json(builder, &place, entry, 0)
    }

    fn located(&mut self, builder: &mut FactsBuilder<'_>, place: Place<'_>, depth: u8) -> Outcome {
        if !place.located.prefixes.is_empty() {
            if let Some(file) = builder.file_mut() {
                for name in place.located.prefixes.names() {
                    if !file.prefixes.contains(&name) {
                        file.prefixes.push(name);
                    }
                }
            }
        }
        let content = place.located.content;
        if content.first() == Some(&b'{') {
            let outcome = self.json(builder, &place, content, depth);
            // A `{` that is not a JSON line inside a multi-line message is its text (the
            // spec runsc prints, one key per line).
            return match outcome {
                Outcome::Unparsed(_) if self.in_message || builder.in_block() => {
                    builder.detail_line(content);
                    Outcome::Recognised(None)
                }
                outcome => outcome,
            };
        }
        if let Some(env) = envelope::parse_text(content) {
            let place = Place {
                runsc_pid: env.runsc_pid,
                ..place
            };
            self.envelope(builder, &place, env);
            return Outcome::Recognised(Some(Encoding::Text.as_str()));
        }
        self.bare(builder, &place, content)
    }

    fn json(
        &mut self,
        builder: &mut FactsBuilder<'_>,
        place: &Place<'_>,
        content: &[u8],
        depth: u8,
    ) -> Outcome {
        match envelope::parse_json(content) {
            Ok(JsonRecord::Runsc(env)) => {
                let encoding = env.encoding.as_str();
                self.envelope(builder, place, env);
                // runsc's JSON line holds its whole message, dump included: nothing after
                // it continues it. (A shipper's wrapped lines are lines of text, and may.)
                self.in_message = false;
                builder.close_block();
                Outcome::Recognised(Some(encoding))
            }
            // A shipper's envelope holds a line of its own; one level of it, no more.
            Ok(JsonRecord::Wrapped { text, shipper, tag }) if depth == 0 => {
                let mut located = locate(&text);
                let tag_bytes = tag.as_deref().map(str::as_bytes);
                located.tag = located.tag.or(tag_bytes);
                let inner = Place {
                    number: place.number,
                    located,
                    runsc_pid: None,
                };
                if located.content.iter().all(u8::is_ascii_whitespace) {
                    return Outcome::Recognised(Some(shipper));
                }
                match self.located(builder, inner, depth + 1) {
                    Outcome::Recognised(_) => Outcome::Recognised(Some(shipper)),
                    unparsed => unparsed,
                }
            }
            Ok(JsonRecord::Wrapped { .. }) => {
                Outcome::Unparsed("JSON wrapped in JSON more than once".to_owned())
            }
            Err(JsonProblem::Syntax(e)) => Outcome::Unparsed(format!("invalid JSON: {e}")),
            Err(JsonProblem::Shape(what)) => {
                Outcome::Unparsed(format!("JSON, but not a log line: {what}"))
            }
        }
    }

    fn envelope(&mut self, builder: &mut FactsBuilder<'_>, place: &Place<'_>, env: Envelope<'_>) {
        builder.note_time(&env.time);
        let message = &*env.message;
        // JSON keeps a multi-line message (a traceback) in one line; a text line is
        // one line by construction.
        let newline = match env.encoding {
            Encoding::Text => None,
            Encoding::Json | Encoding::JsonK8s => memchr::memchr(b'\n', message),
        };
        let (first, rest) = match newline {
            Some(i) => (&message[..i], Some(&message[i + 1..])),
            None => (message, None),
        };
        self.in_message = true;
        builder.close_block();
        let place = Place {
            runsc_pid: env.runsc_pid.or(place.runsc_pid),
            located: place.located,
            number: place.number,
        };
        match task::parse_prefix(first) {
            Some((ids, after)) => {
                if let Some(line) = strace::parse(after) {
                    self.strace(builder, &place, &env.time, ids, &line);
                } else if let Some(msg) = message::classify(after, true, builder.catalogue()) {
                    let at = self.at(builder, &place, &env.time, Some(ids), b"");
                    builder.message(Some(ids), msg, after, at);
                }
            }
            None => {
                let at = self.at(builder, &place, &env.time, None, b"");
                match message::classify(first, false, builder.catalogue()) {
                    Some(msg) => builder.message(None, msg, first, at),
                    None if env.level >= Level::Error => {
                        builder.message(None, Message::FatalError, first, at)
                    }
                    None => {}
                }
            }
        }
        if let Some(rest) = rest {
            for line in rest.split(|&b| b == b'\n') {
                match message::runtime_line(line) {
                    Some(kind) => self.runtime(builder, kind, line, &place),
                    None => {
                        builder.detail_line(line);
                    }
                }
            }
        }
    }

    fn strace(
        &mut self,
        builder: &mut FactsBuilder<'_>,
        place: &Place<'_>,
        time: &[u8],
        ids: TaskIds,
        line: &StraceLine<'_>,
    ) {
        let at = self.at(builder, place, time, Some(ids), line.comm);
        builder.strace(ids, line, at);
        if let Some(stats) = builder.file_mut() {
            stats.strace_lines += 1;
        }
    }

    /// A line with no envelope.
    fn bare(&mut self, builder: &mut FactsBuilder<'_>, place: &Place<'_>, text: &[u8]) -> Outcome {
        if let Some(kind) = message::runtime_line(text) {
            self.runtime(builder, kind, text, place);
            return Outcome::Recognised(None);
        }
        if builder.in_block() {
            builder.detail_line(text);
            return Outcome::Recognised(None);
        }
        // Text pasted without its header is read as what it is even inside a message:
        // runsc's multi-line messages (the spec, timing tables) look like neither.
        if self.headerless(builder, place, text) || self.in_message {
            return Outcome::Recognised(None);
        }
        Outcome::Unparsed("not a runsc log line".to_owned())
    }

    /// A Go runtime line that starts a dump: a panic or fatal error ends the sandbox
    /// (or the gofer) that wrote it; a goroutine header alone (a stack dump runsc was
    /// asked for) starts a dump that is not a failure.
    fn runtime(
        &mut self,
        builder: &mut FactsBuilder<'_>,
        kind: RuntimeLine,
        text: &[u8],
        place: &Place<'_>,
    ) {
        let failure = match kind {
            RuntimeLine::Panic => TerminationKind::Panic,
            RuntimeLine::Fatal => TerminationKind::GoFatal,
            RuntimeLine::Goroutine => {
                if !builder.detail_line(text) {
                    self.in_message = true;
                }
                return;
            }
        };
        // Inside a JSON message's dump, the place is the message's.
        let at = self.at(builder, place, b"", None, b"");
        builder.runtime_failure(failure, text, at);
        self.in_message = true;
    }

    /// Text pasted without runsc's header: a task-prefixed line (strace or message), a
    /// bare strace line, or one of runsc's messages (Cloud Run shows them behind
    /// `Container Sandbox: `).
    fn headerless(
        &mut self,
        builder: &mut FactsBuilder<'_>,
        place: &Place<'_>,
        text: &[u8],
    ) -> bool {
        if let Some((ids, after)) = task::parse_prefix(text) {
            if let Some(line) = strace::parse(after).filter(|l| plausible(builder, l)) {
                self.strace(builder, place, b"", ids, &line);
                return true;
            }
            if let Some(msg) = message::classify(after, true, builder.catalogue()) {
                let at = self.at(builder, place, b"", Some(ids), b"");
                builder.message(Some(ids), msg, after, at);
                return true;
            }
            return false;
        }
        if let Some(line) = strace::parse(text).filter(|l| plausible(builder, l)) {
            // No task prefix: every line is one unknown process's.
            let ids = TaskIds {
                pid: Some(UNKNOWN_PID),
                tid: UNKNOWN_PID,
                namespaced: None,
            };
            self.strace(builder, place, b"", ids, &line);
            return true;
        }
        if let Some(msg) = message::classify(text, false, builder.catalogue()) {
            let at = self.at(builder, place, b"", None, b"");
            builder.message(None, msg, text, at);
            return true;
        }
        false
    }

    fn at(
        &mut self,
        builder: &mut FactsBuilder<'_>,
        place: &Place<'_>,
        time: &[u8],
        ids: Option<TaskIds>,
        comm: &[u8],
    ) -> Where {
        let stream = match (place.located.tag, self.last_stream) {
            (None, Some((pid, stream))) if pid == place.runsc_pid => stream,
            (tag, _) => {
                let stream = builder.stream(self.file, tag, place.runsc_pid);
                if tag.is_none() {
                    self.last_stream = Some((place.runsc_pid, stream));
                }
                stream
            }
        };
        Where {
            file: self.file,
            line: place.number,
            source_line: place.located.source_line,
            stream,
            time: Inline::new(time),
            pid: ids.and_then(|i| i.pid).filter(|&p| p != UNKNOWN_PID),
            tid: ids.map(|i| i.tid).filter(|&t| t != UNKNOWN_PID),
            comm: Inline::new(comm),
        }
    }
}

/// The process id given to strace lines pasted without their task prefix: gVisor never
/// logs a task with id 0, so it stands for "one process, not named".
pub const UNKNOWN_PID: u32 = 0;

/// Whether a strace line found without runsc's header is one: a task name a task can
/// have, a syscall of a native arch (or a number), and an argument list that closes or
/// was visibly cut.
fn plausible(builder: &FactsBuilder<'_>, line: &StraceLine<'_>) -> bool {
    let comm_ok = !line.comm.is_empty()
        && line.comm.len() <= MAX_COMM
        && line.comm.iter().all(|&b| b >= 0x20 && b != 0x7f);
    let name_ok = match line.name {
        SyscallName::Named(_) => line
            .name
            .as_str()
            .is_some_and(|n| builder.spec().is_syscall(n)),
        SyscallName::Number(_) => true,
    };
    let ended =
        !line.truncated || line.args.ends_with(b"...") || line.args.ends_with("…".as_bytes());
    comm_ok && name_ok && (line.outcome.is_some() || ended)
}
