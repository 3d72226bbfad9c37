//! Reading a log: each line through the envelope, task-prefix, strace and message
//! parsers into the facts builder. A line no parser accepts is counted and sampled,
//! never fatal; a file none of whose first lines is runsc's is an error, since it is
//! not a runsc log at all.

use std::io::Read;

use anyhow::{bail, Context as _};

use super::capture::CaptureSpec;
use super::envelope::{self, Encoding, Envelope, Level};
use super::facts::{sample, FactsBuilder, Inline, LogFacts, TerminationKind, Where};
use super::input::{self, Input};
use super::message::{self, Message, RuntimeLine};
use super::scan::{Line, LineScanner, MAX_LINE};
use super::{strace, task};

/// Unparsed lines sampled per file.
const UNPARSED_SAMPLES: usize = 5;
/// Non-blank lines read before a file with no runsc line is refused.
const SNIFF_LINES: u64 = 200;

/// Reads every input into one set of facts.
pub fn read_inputs(inputs: &[Input], spec: &CaptureSpec) -> anyhow::Result<LogFacts> {
    let mut builder = FactsBuilder::new(spec);
    for input in inputs {
        let reader = input::open(input)?;
        read_one(
            &mut builder,
            input.name(),
            input.command_from_name(),
            reader,
        )?;
    }
    Ok(builder.finish())
}

/// Reads one log into `builder`.
pub fn read_one(
    builder: &mut FactsBuilder<'_>,
    name: String,
    command: Option<String>,
    reader: impl Read,
) -> anyhow::Result<()> {
    let file = builder.begin_file(name.clone(), command);
    let mut scanner = LineScanner::new(reader);
    let mut reader = FileReader {
        file,
        nonblank: 0,
        first_line: None,
        continuation: false,
    };
    while let Some((number, line)) = scanner
        .next_line()
        .with_context(|| format!("cannot read {name}"))?
    {
        reader.line(builder, number, line);
        if reader.nonblank >= SNIFF_LINES {
            reader.refuse_foreign(builder, &name)?;
        }
    }
    reader.refuse_foreign(builder, &name)?;
    builder.end_file();
    Ok(())
}

struct FileReader {
    file: u32,
    nonblank: u64,
    first_line: Option<(u64, String)>,
    /// The last message ended with `:`: bare lines that follow are its continuation
    /// (tracebacks, memory map and register dumps).
    continuation: bool,
}

impl FileReader {
    fn line(&mut self, builder: &mut FactsBuilder<'_>, number: u64, line: Line<'_>) {
        let Some(stats) = builder.file_mut() else {
            return;
        };
        stats.lines += 1;
        let text = match line {
            Line::Text(text) => text,
            Line::TooLong => {
                self.nonblank += 1;
                unparsed(
                    builder,
                    number,
                    format!("longer than {} MiB", MAX_LINE >> 20),
                );
                return;
            }
        };
        if text.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        self.nonblank += 1;
        if self.first_line.is_none() {
            self.first_line = Some((number, sample(&text[..text.len().min(120)])));
        }
        if text[0] == b'{' {
            match envelope::parse_json(text) {
                Ok(env) => self.envelope(builder, number, env),
                Err(problem) => {
                    let reason = match problem {
                        envelope::JsonProblem::Syntax(e) => format!("invalid JSON: {e}"),
                        envelope::JsonProblem::Shape(what) => {
                            format!("JSON, but not a runsc log line: {what}")
                        }
                    };
                    unparsed(builder, number, reason);
                }
            }
            return;
        }
        if let Some(env) = envelope::parse_text(text) {
            self.envelope(builder, number, env);
            return;
        }
        self.bare(builder, number, text);
    }

    /// A line with no envelope: Go runtime output, a continuation, or Cloud Run's
    /// `Container Sandbox: …` text.
    fn bare(&mut self, builder: &mut FactsBuilder<'_>, number: u64, text: &[u8]) {
        let at = self.at(number, b"", None, b"");
        match message::runtime_line(text) {
            Some(RuntimeLine::Panic) => {
                builder.runtime_failure(TerminationKind::Panic, text, at);
                recognised(builder, None);
                return;
            }
            Some(RuntimeLine::Fatal) => {
                builder.runtime_failure(TerminationKind::GoFatal, text, at);
                recognised(builder, None);
                return;
            }
            Some(RuntimeLine::Stack) => {
                builder.detail_line(text);
                recognised(builder, None);
                return;
            }
            None => {}
        }
        if text.starts_with(b"Container Sandbox: ") {
            if let Some(msg) = message::classify(text) {
                builder.message(None, msg, text, at);
                recognised(builder, None);
                return;
            }
        }
        if builder.detail_line(text) || self.continuation {
            recognised(builder, None);
            return;
        }
        unparsed(builder, number, "not a runsc log line".to_owned());
    }

    fn envelope(&mut self, builder: &mut FactsBuilder<'_>, number: u64, env: Envelope<'_>) {
        recognised(builder, Some(env.encoding.as_str()));
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
        self.continuation = first.ends_with(b":");
        builder.close_block();
        match task::parse_prefix(first) {
            Some((ids, after)) => {
                if let Some(line) = strace::parse(after) {
                    let at = self.at(number, &env.time, Some(ids), line.comm);
                    builder.strace(ids, &line, at);
                    if let Some(stats) = builder.file_mut() {
                        stats.strace_lines += 1;
                    }
                } else if let Some(msg) = message::classify(after) {
                    let at = self.at(number, &env.time, Some(ids), b"");
                    builder.message(Some(ids), msg, after, at);
                }
            }
            None => {
                let at = self.at(number, &env.time, None, b"");
                match message::classify(first) {
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
                builder.detail_line(line);
            }
        }
    }

    fn at(&self, number: u64, time: &[u8], ids: Option<task::TaskIds>, comm: &[u8]) -> Where {
        Where {
            file: self.file,
            line: number,
            time: Inline::new(time),
            pid: ids.and_then(|i| i.pid),
            tid: ids.map(|i| i.tid),
            comm: Inline::new(comm),
        }
    }

    /// Refuses a file none of whose non-blank lines so far is runsc's.
    fn refuse_foreign(&self, builder: &mut FactsBuilder<'_>, name: &str) -> anyhow::Result<()> {
        let Some(stats) = builder.file_mut() else {
            return Ok(());
        };
        if stats.recognised == 0 && self.nonblank > 0 {
            let (line, text) = self.first_line.clone().unwrap_or((1, String::new()));
            bail!(
                "{name} is not a runsc log: none of its first {} non-blank lines is a runsc \
                 log line (text, json or json-k8s) or Go runtime output; line {line} reads {text:?}",
                self.nonblank
            );
        }
        Ok(())
    }
}

fn recognised(builder: &mut FactsBuilder<'_>, encoding: Option<&'static str>) {
    if let Some(stats) = builder.file_mut() {
        stats.recognised += 1;
        if let Some(encoding) = encoding {
            if !stats.encodings.contains(&encoding) {
                stats.encodings.push(encoding);
            }
        }
    }
}

fn unparsed(builder: &mut FactsBuilder<'_>, number: u64, reason: String) {
    if let Some(stats) = builder.file_mut() {
        stats.unparsed += 1;
        if stats.unparsed_samples.len() < UNPARSED_SAMPLES {
            stats.unparsed_samples.push((number, reason));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runsc_log::facts::{CauseKind, SyscallId};

    fn read(text: &str) -> anyhow::Result<LogFacts> {
        let spec = CaptureSpec::default();
        let mut builder = FactsBuilder::new(&spec);
        read_one(&mut builder, "t.boot.txt".to_owned(), None, text.as_bytes())?;
        Ok(builder.finish())
    }

    #[test]
    fn a_process_exit_is_explained_by_its_last_refused_call() {
        let facts = read(concat!(
            "I0102 15:04:05.000001       1 strace.go:567] [   5:   5] app E socket(AF_NETLINK, SOCK_RAW, 0x4)\n",
            "I0102 15:04:05.000002       1 strace.go:605] [   5:   5] app X socket(AF_NETLINK, SOCK_RAW, 0x4) = -1 errno=93 (protocol not supported) (3us)\n",
            "I0102 15:04:05.000003       1 strace.go:605] [   5:   5] app X openat(AT_FDCWD /, 0x7f00 /x, O_RDONLY, 0o0) = -1 errno=2 (no such file or directory) (3us)\n",
            "I0102 15:04:05.000004       1 strace.go:567] [   5:   5] app E exit_group(0x1)\n",
            "garbage\n",
        ))
        .unwrap();
        assert_eq!(facts.files[0].lines, 5);
        assert_eq!(facts.files[0].recognised, 4);
        assert_eq!(facts.files[0].unparsed, 1);
        assert_eq!(
            facts.files[0].unparsed_samples,
            vec![(5, "not a runsc log line".to_owned())]
        );
        assert_eq!(facts.calls.len(), 2);
        assert_eq!(facts.terminations.len(), 1);
        let cause = facts.terminations[0].cause.as_ref().unwrap();
        assert_eq!(cause.syscall, SyscallId::Named("socket".to_owned()));
        assert_eq!(cause.kind, CauseKind::Failed(93));
        assert_eq!(cause.at.line, 2);
    }

    #[test]
    fn a_foreign_file_is_refused() {
        let err = read("hello\nworld\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.boot.txt is not a runsc log: none of its first 2 non-blank lines is a runsc log \
             line (text, json or json-k8s) or Go runtime output; line 1 reads \"hello\""
        );
        assert_eq!(read("").unwrap().files[0].lines, 0);
    }
}

#[cfg(test)]
mod proptests {
    use proptest::prelude::*;

    use super::*;

    fn read_bytes(bytes: &[u8]) -> anyhow::Result<LogFacts> {
        let spec = CaptureSpec::default();
        let mut builder = FactsBuilder::new(&spec);
        read_one(&mut builder, "p.boot.txt".to_owned(), None, bytes)?;
        Ok(builder.finish())
    }

    /// A runsc header line first, so the file is never refused as foreign and every
    /// later line goes through the parsers.
    const HEADER: &[u8] =
        b"I1122 15:04:05.000001       1 cli.go:276] Version release-1, go1, amd64\n";

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Any bytes: no panic, and every line is accounted for as recognised,
        /// unparsed or blank.
        #[test]
        fn any_bytes_are_read_without_panicking(body in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let mut input = HEADER.to_vec();
            input.extend_from_slice(&body);
            let facts = read_bytes(&input).unwrap();
            let file = &facts.files[0];
            let text = input.strip_suffix(b"\n").unwrap_or(&input);
            let blank = text
                .split(|&b| b == b'\n')
                .filter(|line| line.iter().all(u8::is_ascii_whitespace))
                .count() as u64;
            prop_assert_eq!(file.recognised + file.unparsed + blank, file.lines);
        }

        /// Lines built from runsc's formats, with any task name and arguments, parse
        /// back to what went in.
        #[test]
        fn generated_strace_exits_parse_back(
            pid in 1u32..4_000_000,
            tid in 1u32..4_000_000,
            comm in "[ -~]{0,15}",
            name in "[a-z][a-z0-9_]{0,20}",
            args in "[ -~]{0,200}",
            errno in proptest::option::of(1u16..4096),
            generation in 0usize..3,
        ) {
            let result = match (errno, generation) {
                (None, 0) => "0x3 (1.2µs)".to_owned(),
                (None, _) => "3 (0x3) (1.2µs)".to_owned(),
                (Some(e), 0) => format!("0x0 errno={e} (some error) (1µs)"),
                (Some(e), 1) => format!("0 (0x0) errno={e} (some error) (1µs)"),
                (Some(e), _) => format!("-1 errno={e} (some error) (1µs)"),
            };
            let line = format!(
                "I1122 15:04:05.000002       1 strace.go:605] [{pid:4}:{tid:4}] {comm} X {name}({args}) = {result}\n"
            );
            let mut input = HEADER.to_vec();
            input.extend_from_slice(line.as_bytes());
            let facts = read_bytes(&input).unwrap();
            prop_assert_eq!(facts.files[0].strace_lines, 1);
            prop_assert_eq!(facts.calls.len(), 1);
            let call = &facts.calls[0];
            prop_assert_eq!((call.first.pid, call.first.tid), (Some(pid), Some(tid)));
            let failures: Vec<u16> = call.failures.iter().map(|f| f.errno).collect();
            prop_assert_eq!(failures, errno.into_iter().collect::<Vec<_>>());
        }
    }
}
