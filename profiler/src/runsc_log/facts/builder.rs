//! Building [`LogFacts`] line by line, in memory bounded by the number of distinct
//! things seen (and by hard caps on those, whose overflow is counted), never by the
//! number of lines:
//!
//! - strace exit lines → [`CallStat`] per (syscall, task name, captured arguments);
//! - runsc messages → [`EventStat`] per kind;
//! - a process exiting non-zero or killed, the application or a runsc command failing,
//!   a panic, a fatal error → [`Termination`], with the calls that failed in that
//!   process shortly before (see [`super::process`]), or in the sandbox for the sandbox.

use std::collections::VecDeque;

use rustc_hash::FxHashMap;
use syscall_db::messages::MessageCatalogue;
use syscall_db::FieldValues;

use super::model::{
    is_refusal, sample, CallStat, EventKind, EventStat, Failures, Inline, LogFacts, SelfSignal,
    SourceFile, Stream, Suspect, SuspectKind, SyscallId, Termination, TerminationKind, Where,
};
use super::process::{key, FailedCall, InFlight, Tasks, MAX_THREADS};
use crate::runsc_log::capture::CaptureSpec;
use crate::runsc_log::message::{ExitScope, ExitStatus, Message, ShownArgs};
use crate::runsc_log::strace::{Outcome, Phase, StraceLine, SyscallName};
use crate::runsc_log::task::TaskIds;
use crate::runsc_log::{args, release};

/// Most distinct call aggregates kept; further ones are counted in
/// [`super::Overflow::calls`].
pub const MAX_CALL_STATS: usize = 1 << 18;
/// Most distinct message aggregates kept.
pub const MAX_EVENT_STATS: usize = 1 << 14;
/// Most terminations kept.
pub const MAX_TERMINATIONS: usize = 1 << 10;
/// Most streams (runsc processes) told apart.
pub const MAX_STREAMS: usize = 1 << 12;
/// Stack or detail lines kept per termination.
pub const MAX_DETAIL_LINES: usize = 40;
/// Lines within which a second report of the same signal is the same death.
const SIGNAL_REPEAT_LINES: u64 = 16;
/// Refusals and unsupported reports remembered per stream, for failures of the sandbox
/// as a whole.
const SANDBOX_SUSPECTS: usize = 8;

/// A refused call or unsupported report, for failures of the sandbox as a whole.
#[derive(Clone, Debug)]
struct SandboxFailure {
    name_id: u32,
    kind: SuspectKind,
    errno_text: Inline<40>,
    args: Inline<160>,
    at: Where,
}

/// Builds [`LogFacts`] line by line.
pub struct FactsBuilder<'s> {
    spec: &'s CaptureSpec,
    catalogue: &'static MessageCatalogue,
    facts: LogFacts,
    /// Interned syscall names (as `name` or `sys_N`) and task names, so the per-line
    /// lookup borrows the line's bytes instead of allocating a key.
    names: FxHashMap<Box<[u8]>, u32>,
    /// `names` by id.
    name_list: Vec<SyscallId>,
    comms: FxHashMap<Box<[u8]>, u32>,
    call_index: FxHashMap<(u32, u32, FieldValues), usize>,
    event_index: FxHashMap<EventKind, usize>,
    /// Streams by (file, hash of the tag, runsc pid).
    stream_index: FxHashMap<(u32, u64, u32), u32>,
    tasks: Tasks,
    /// Per stream: the latest refused calls and unsupported reports anywhere in it,
    /// kept fixed-size (refusals can be frequent) and made suspects only when needed.
    sandbox: FxHashMap<u32, VecDeque<SandboxFailure>>,
    /// Index of the termination that bare stack lines are attached to.
    open_block: Option<usize>,
}

impl<'s> FactsBuilder<'s> {
    /// A builder reading arguments as `spec` says.
    pub fn new(spec: &'s CaptureSpec) -> Self {
        Self {
            spec,
            catalogue: MessageCatalogue::get(),
            facts: LogFacts::default(),
            names: FxHashMap::default(),
            name_list: Vec::new(),
            comms: FxHashMap::default(),
            call_index: FxHashMap::default(),
            event_index: FxHashMap::default(),
            stream_index: FxHashMap::default(),
            tasks: Tasks::default(),
            sandbox: FxHashMap::default(),
            open_block: None,
        }
    }

    /// The capture spec.
    pub fn spec(&self) -> &'s CaptureSpec {
        self.spec
    }

    /// The message catalogue.
    pub fn catalogue(&self) -> &'static MessageCatalogue {
        self.catalogue
    }

    /// Starts a new input file; returns its index.
    pub fn begin_file(&mut self, name: String, command: Option<String>) -> u32 {
        self.facts.files.push(SourceFile {
            name,
            command,
            ..SourceFile::default()
        });
        self.open_block = None;
        u32::try_from(self.facts.files.len() - 1).unwrap_or(u32::MAX)
    }

    /// The current file's record.
    pub fn file_mut(&mut self) -> Option<&mut SourceFile> {
        self.facts.files.last_mut()
    }

    /// Ends the current file: calls still in flight never returned.
    pub fn end_file(&mut self) {
        self.facts.unfinished_calls += self.tasks.clear() as u64;
        self.open_block = None;
    }

    /// The stream of `file` a line with this tag and runsc pid belongs to.
    pub fn stream(&mut self, file: u32, tag: Option<&[u8]>, runsc_pid: Option<u32>) -> u32 {
        let hash = tag.map_or(0, |t| {
            use std::hash::BuildHasher as _;
            // Never 0, which stands for "no tag".
            rustc_hash::FxBuildHasher.hash_one(t) | 1
        });
        let index_key = (file, hash, runsc_pid.unwrap_or(u32::MAX));
        if let Some(&id) = self.stream_index.get(&index_key) {
            return id;
        }
        if self.facts.streams.len() >= MAX_STREAMS {
            // Past the cap, lines share the file's last stream.
            return u32::try_from(self.facts.streams.len() - 1).unwrap_or(0);
        }
        let id = u32::try_from(self.facts.streams.len()).unwrap_or(u32::MAX);
        self.facts.streams.push(Stream {
            file,
            tag: tag.map(|t| String::from_utf8_lossy(t).into_owned()),
            runsc_pid,
        });
        self.stream_index.insert(index_key, id);
        id
    }

    /// Notes a line's timestamp (the first and last are kept).
    pub fn note_time(&mut self, time: &[u8]) {
        if time.is_empty() {
            return;
        }
        let time = Inline::new(time);
        if self.facts.first_time.is_none() {
            self.facts.first_time = Some(time);
        }
        self.facts.last_time = Some(time);
    }

    /// Records a strace line.
    pub fn strace(&mut self, ids: TaskIds, line: &StraceLine<'_>, at: Where) {
        match line.phase {
            Phase::Enter => self.enter(ids, line, at),
            Phase::Exit => self.exit(ids, line, at),
        }
    }

    fn enter(&mut self, ids: TaskIds, line: &StraceLine<'_>, at: Where) {
        let thread = key(at.stream, ids.tid);
        if let (SyscallName::Named("exit_group" | "exit"), Some(pid)) = (line.name, ids.pid) {
            // exit/exit_group never return: the entry line carries the status.
            self.tasks.in_flight.remove(&thread);
            let code = args::nth(line.args, 0).and_then(args::integer);
            if line.name == SyscallName::Named("exit") {
                return;
            }
            let state = self.tasks.remove(key(at.stream, pid));
            let code = code.map_or(0, |c| (c & 0xff) as u32);
            if code != 0 {
                let suspects = state
                    .map(|s| s.suspects(|id| self.name_list[id as usize].clone()))
                    .unwrap_or_default();
                self.terminate(Termination {
                    kind: TerminationKind::ProcessExit { pid, code },
                    at,
                    application: false,
                    detail: vec![format!("exit_group({code})")],
                    suspects,
                    self_signal: None,
                });
            }
            return;
        }
        if line.name == SyscallName::Named("write") {
            self.error_output(ids, line, at);
        }
        if self.tasks.in_flight.len() >= MAX_THREADS && !self.tasks.in_flight.contains_key(&thread)
        {
            self.facts.overflow.tasks += 1;
            return;
        }
        let Some(name_id) = self.name_id(line.name) else {
            self.facts.overflow.tasks += 1;
            return;
        };
        self.tasks.in_flight.insert(
            thread,
            InFlight {
                name_id,
                args: Inline::new(line.args),
                at,
            },
        );
    }

    /// A write to standard error: what the program says went wrong.
    fn error_output(&mut self, ids: TaskIds, line: &StraceLine<'_>, at: Where) {
        let mut list = args::split(line.args);
        let fd = list.next().and_then(|a| {
            let end = memchr::memchr(b' ', a).unwrap_or(a.len());
            args::integer(&a[..end])
        });
        if fd != Some(2) {
            return;
        }
        let Some(text) = list.next().and_then(args::quoted) else {
            return;
        };
        let Some(pid) = ids.pid else {
            return;
        };
        match self.tasks.process(key(at.stream, pid)) {
            Some(state) => state.wrote_error_output(text),
            None => self.facts.overflow.tasks += 1,
        }
    }

    /// The interned id of a syscall name; `None` when the table is full.
    fn name_id(&mut self, name: SyscallName<'_>) -> Option<u32> {
        let mut number_name = [0u8; 16];
        let bytes: &[u8] = match name {
            SyscallName::Named(n) => n.as_bytes(),
            SyscallName::Number(n) => {
                use std::io::Write as _;
                let mut cursor = std::io::Cursor::new(&mut number_name[..]);
                // 16 bytes hold `sys_` and any u32.
                let _ = write!(cursor, "sys_{n}");
                let len = cursor.position() as usize;
                &number_name[..len]
            }
        };
        if let Some(&id) = self.names.get(bytes) {
            return Some(id);
        }
        let id = intern(&mut self.names, bytes)?;
        self.name_list.push(SyscallId::from_name(name));
        Some(id)
    }

    fn exit(&mut self, ids: TaskIds, line: &StraceLine<'_>, at: Where) {
        self.tasks.in_flight.remove(&key(at.stream, ids.tid));
        let Some(outcome) = line.outcome else {
            self.facts.truncated_calls += 1;
            return;
        };
        let (Some(name_id), Some(comm_id)) =
            (self.name_id(line.name), intern(&mut self.comms, line.comm))
        else {
            self.facts.overflow.calls += 1;
            return;
        };
        let captured = match line.name {
            SyscallName::Named(name) => self.spec.read(name, line.args),
            SyscallName::Number(_) => None,
        };
        let (fields, incomplete) = match captured {
            Some(c) => (c.fields, c.incomplete),
            None => (FieldValues::new(), Vec::new()),
        };
        let call_key = (name_id, comm_id, fields);
        let index = match self.call_index.get(&call_key) {
            Some(&i) => Some(i),
            None => {
                let syscall = SyscallId::from_name(line.name);
                let index = self.new_call(syscall, line.comm, call_key.2.clone(), incomplete, at);
                if let Some(i) = index {
                    self.call_index.insert(call_key, i);
                }
                index
            }
        };
        let Some(index) = index else {
            self.facts.overflow.calls += 1;
            return;
        };
        let stat = &mut self.facts.calls[index];
        stat.calls += 1;
        if let Outcome::Failed(errno) = outcome {
            match stat.failures.iter_mut().find(|f| f.errno == errno) {
                Some(f) => {
                    f.count += 1;
                    f.last = at;
                }
                None => stat.failures.push(Failures {
                    errno,
                    count: 1,
                    first: at,
                    last: at,
                }),
            }
        }
        let Some(pid) = ids.pid else {
            return;
        };
        let process = key(at.stream, pid);
        match outcome {
            Outcome::Returned(_) => {
                if let Some(state) = self.tasks.process(process) {
                    state.returned(name_id, true);
                    state.comm = at.comm;
                }
                self.note_self_signal(ids, line, at);
            }
            Outcome::Failed(errno) => self.failed(process, name_id, errno, line, at),
        }
    }

    /// Remembers a failed call for its process, and a refused one for its sandbox.
    fn failed(&mut self, process: u64, name_id: u32, errno: u16, line: &StraceLine<'_>, at: Where) {
        // Paths are written `0x7f… /path`: only then split the arguments to find one.
        let path = memchr::memmem::find(line.args, b" /")
            .and_then(|_| args::split(line.args).find_map(args::user_path));
        let kernel_path = path.is_some_and(|p| {
            std::str::from_utf8(p).is_ok_and(|p| syscall_db::paths::kept_path(p).is_some())
        });
        let refusal = is_refusal(errno);
        match self.tasks.process(process) {
            Some(state) => {
                state.returned(name_id, false);
                state.comm = at.comm;
                state.failed(FailedCall {
                    name_id,
                    kind: SuspectKind::Failed(errno),
                    errno_text: line.errno_text,
                    args: line.args,
                    path,
                    at,
                    ordinary: !refusal && !kernel_path,
                });
            }
            None => self.facts.overflow.tasks += 1,
        }
        if refusal {
            self.sandbox_failure(
                at.stream,
                SandboxFailure {
                    name_id,
                    kind: SuspectKind::Failed(errno),
                    errno_text: Inline::new(line.errno_text),
                    args: Inline::new(line.args),
                    at,
                },
            );
        }
    }

    /// A successful kill, tgkill or tkill of the caller's own process (or group).
    fn note_self_signal(&mut self, ids: TaskIds, line: &StraceLine<'_>, at: Where) {
        let SyscallName::Named(name @ ("kill" | "tgkill" | "tkill")) = line.name else {
            return;
        };
        let mut list = args::split(line.args);
        let mut next_int = || list.next().and_then(args::integer);
        let (own_pid, own_tid) = match ids.namespaced {
            Some((pid, tid)) => (Some(pid), tid),
            None => (ids.pid, ids.tid),
        };
        let target_is_self = match name {
            "kill" => next_int().is_some_and(|p| p == 0 || Some(p) == own_pid.map(u64::from)),
            "tgkill" => {
                let tgid = next_int();
                let _tid = next_int();
                tgid.is_some_and(|p| Some(p) == own_pid.map(u64::from))
            }
            _ => next_int() == Some(u64::from(own_tid)),
        };
        if !target_is_self {
            return;
        }
        let Some(signal) = args::split(line.args).last().and_then(|s| {
            args::integer(s).or_else(|| {
                std::str::from_utf8(s)
                    .ok()
                    .and_then(|name| self.spec.constant("signal", name))
            })
        }) else {
            return;
        };
        let Some(pid) = ids.pid else {
            return;
        };
        if let Some(state) = self.tasks.process(key(at.stream, pid)) {
            state.signalled_itself(SelfSignal {
                syscall: name.to_owned(),
                signal: u32::try_from(signal).unwrap_or(u32::MAX),
                at,
            });
        }
    }

    fn sandbox_failure(&mut self, stream: u32, failure: SandboxFailure) {
        let list = self.sandbox.entry(stream).or_default();
        if list.len() >= SANDBOX_SUSPECTS {
            list.pop_front();
        }
        list.push_back(failure);
    }

    fn new_call(
        &mut self,
        syscall: SyscallId,
        comm: &[u8],
        fields: FieldValues,
        incomplete: Vec<String>,
        at: Where,
    ) -> Option<usize> {
        if self.facts.calls.len() >= MAX_CALL_STATS {
            return None;
        }
        self.facts.calls.push(CallStat {
            syscall,
            comm: String::from_utf8_lossy(comm).into_owned(),
            fields,
            incomplete,
            calls: 0,
            first: at,
            failures: Vec::new(),
        });
        Some(self.facts.calls.len() - 1)
    }

    /// Records a runsc message. `ids` is the task prefix, if the message had one;
    /// `text` the whole message, for samples.
    pub fn message(&mut self, ids: Option<TaskIds>, message: Message<'_>, text: &[u8], at: Where) {
        self.open_block = None;
        match message {
            Message::UnsupportedSyscall { name, args } => self.unsupported(name, args, text, at),
            Message::Catalogued { message, captures } => {
                self.count_event(EventKind::Catalogued { message, captures }, text, at, None);
            }
            Message::Signal { signal, pid, tid } => {
                let pid = pid.or(ids.and_then(|i| i.pid));
                let tid = tid.or(ids.map(|i| i.tid));
                self.signal(signal, pid, tid, text, at);
            }
            Message::Exit { status, scope } => self.exit_message(status, scope, text, at),
            Message::FatalError => {
                let suspects = self.sandbox_suspects(at.stream);
                self.terminate(Termination {
                    kind: TerminationKind::FatalError,
                    at,
                    application: false,
                    detail: vec![sample(text)],
                    suspects,
                    self_signal: None,
                });
                self.open_block = self.facts.terminations.len().checked_sub(1);
            }
            Message::Args { command } => {
                if let (Some(command), Some(file)) = (command, self.facts.files.last_mut()) {
                    if file.command.is_none() {
                        file.command = Some(String::from_utf8_lossy(command).into_owned());
                    }
                }
            }
            Message::Version { version, goarch } => {
                if self.facts.runsc_version.is_none() {
                    let version = String::from_utf8_lossy(version).into_owned();
                    self.facts.gvisor_release = release::of_version(&version);
                    self.facts.runsc_version = Some(version);
                }
                if let Some(goarch) = goarch {
                    self.goarch(goarch);
                }
            }
            Message::Goarch(goarch) => self.goarch(goarch),
            Message::Platform(platform) => {
                if self.facts.platform.is_none() {
                    self.facts.platform = Some(String::from_utf8_lossy(platform).into_owned());
                }
            }
            Message::Network(network) => {
                if self.facts.network.is_none() {
                    self.facts.network = Some(String::from_utf8_lossy(network).into_owned());
                }
            }
        }
    }

    fn goarch(&mut self, goarch: &[u8]) {
        let arch = String::from_utf8_lossy(goarch).trim().to_owned();
        if !arch.is_empty() && !self.facts.goarches.contains(&arch) {
            self.facts.goarches.push(arch);
        }
    }

    fn unsupported(&mut self, name: SyscallName<'_>, args: ShownArgs, text: &[u8], at: Where) {
        let syscall = SyscallId::from_name(name);
        let key_args = key_args(&syscall, &args);
        let shown = (args.count > 0).then_some(args.values);
        if let Some(name_id) = self.name_id(name) {
            self.sandbox_failure(
                at.stream,
                SandboxFailure {
                    name_id,
                    kind: SuspectKind::Unsupported,
                    errno_text: Inline::EMPTY,
                    args: Inline::new(format_args_shown(&args).as_bytes()),
                    at,
                },
            );
        }
        self.count_event(
            EventKind::UnsupportedSyscall { syscall, key_args },
            text,
            at,
            shown,
        );
    }

    fn signal(&mut self, signal: u32, pid: Option<u32>, tid: Option<u32>, text: &[u8], at: Where) {
        // Until 2023 runsc logged a killing signal twice: the task's debug line and the
        // uncaught-signal event. One death, one termination. The older task line names
        // no pid; the event that repeats it does.
        if let Some(last) = self.facts.terminations.last_mut() {
            if let TerminationKind::Signal {
                pid: last_pid,
                signal: last_signal,
            } = &mut last.kind
            {
                let same_pid = last_pid.is_none() || pid.is_none() || *last_pid == pid;
                if *last_signal == signal
                    && same_pid
                    && last.at.file == at.file
                    && at.line.saturating_sub(last.at.line) <= SIGNAL_REPEAT_LINES
                {
                    *last_pid = last_pid.or(pid);
                    return;
                }
            }
        }
        let unfinished = tid
            .and_then(|t| self.tasks.in_flight.remove(&key(at.stream, t)))
            .map(|f| Suspect {
                syscall: self.name_list[f.name_id as usize].clone(),
                kind: SuspectKind::Unfinished,
                errno_text: String::new(),
                args: f.args.to_string_lossy(),
                path: None,
                at: f.at,
                calls_after: 0,
                named_in_output: None,
                succeeded_later: false,
            });
        let state = pid.and_then(|p| self.tasks.remove(key(at.stream, p)));
        let self_signal = state.as_ref().and_then(|s| s.self_signal(signal));
        // runsc's signal message names no task: the process's last call does.
        let mut at = at;
        if at.comm.is_empty() {
            if let Some(dying) = &unfinished {
                at.comm = dying.at.comm;
            } else if let Some(state) = &state {
                at.comm = state.comm;
            }
        }
        let mut suspects = state
            .map(|s| s.suspects(|id| self.name_list[id as usize].clone()))
            .unwrap_or_default();
        suspects.extend(unfinished);
        self.terminate(Termination {
            kind: TerminationKind::Signal { pid, signal },
            at,
            application: false,
            detail: vec![sample(text)],
            suspects,
            self_signal,
        });
    }

    /// `application exiting with …` is the init process's end when the logs hold it
    /// (its exit_group or killing signal, just before): that termination is then marked
    /// as the application's. Otherwise it is a termination of its own.
    fn exit_message(&mut self, status: ExitStatus, scope: ExitScope, text: &[u8], at: Where) {
        if scope == ExitScope::Application && self.facts.application_exits.len() < MAX_TERMINATIONS
        {
            self.facts.application_exits.push((status, at));
        }
        if !status.is_failure() {
            return;
        }
        if scope == ExitScope::Application {
            let same = self.facts.terminations.iter_mut().rev().take(64).find(|t| {
                t.at.file == at.file
                    && !t.application
                    && match (t.kind.clone(), status) {
                        (TerminationKind::ProcessExit { code, .. }, ExitStatus::Code(c)) => {
                            code == c
                        }
                        (
                            TerminationKind::Signal { signal, .. },
                            ExitStatus::Signal { signal: s, .. },
                        ) => signal == s,
                        _ => false,
                    }
            });
            if let Some(termination) = same {
                termination.application = true;
                termination.detail.push(sample(text));
                return;
            }
        }
        let suspects = self.sandbox_suspects(at.stream);
        self.terminate(Termination {
            kind: TerminationKind::Exit { scope, status },
            at,
            application: scope == ExitScope::Application,
            detail: vec![sample(text)],
            suspects,
            self_signal: None,
        });
    }

    fn sandbox_suspects(&self, stream: u32) -> Vec<Suspect> {
        let Some(list) = self.sandbox.get(&stream) else {
            return Vec::new();
        };
        list.iter()
            .map(|f| Suspect {
                syscall: self.name_list[f.name_id as usize].clone(),
                kind: f.kind,
                errno_text: f.errno_text.to_string_lossy(),
                args: f.args.to_string_lossy(),
                path: args::split(f.args.as_bytes())
                    .find_map(args::user_path)
                    .map(|p| String::from_utf8_lossy(p).into_owned()),
                at: f.at,
                calls_after: 0,
                named_in_output: None,
                succeeded_later: false,
            })
            .collect()
    }

    /// Records a Go runtime panic or fatal error line; the lines that follow attach to
    /// it.
    pub fn runtime_failure(&mut self, kind: TerminationKind, text: &[u8], at: Where) {
        let suspects = self.sandbox_suspects(at.stream);
        self.terminate(Termination {
            kind,
            at,
            application: false,
            detail: vec![sample(text)],
            suspects,
            self_signal: None,
        });
        self.open_block = self.facts.terminations.len().checked_sub(1);
    }

    /// Whether a block (a panic's or fatal error's dump) is open.
    pub fn in_block(&self) -> bool {
        self.open_block.is_some()
    }

    /// Records a stack or detail line; returns whether a termination took it.
    pub fn detail_line(&mut self, text: &[u8]) -> bool {
        let Some(termination) = self
            .open_block
            .and_then(|i| self.facts.terminations.get_mut(i))
        else {
            return false;
        };
        if termination.detail.len() < MAX_DETAIL_LINES {
            termination.detail.push(sample(text));
        }
        true
    }

    /// Ends a multi-line block: following bare lines are no longer its detail.
    pub fn close_block(&mut self) {
        self.open_block = None;
    }

    fn count_event(&mut self, kind: EventKind, text: &[u8], at: Where, args: Option<[u64; 6]>) {
        if let Some(&i) = self.event_index.get(&kind) {
            let stat = &mut self.facts.events[i];
            stat.count += 1;
            stat.last = at;
            return;
        }
        if self.facts.events.len() >= MAX_EVENT_STATS {
            self.facts.overflow.events += 1;
            return;
        }
        self.event_index
            .insert(kind.clone(), self.facts.events.len());
        self.facts.events.push(EventStat {
            kind,
            count: 1,
            first: at,
            last: at,
            sample: sample(text),
            args,
        });
    }

    fn terminate(&mut self, termination: Termination) {
        if self.facts.terminations.len() >= MAX_TERMINATIONS {
            self.facts.overflow.terminations += 1;
            return;
        }
        self.facts.terminations.push(termination);
    }

    /// The facts gathered.
    pub fn finish(mut self) -> LogFacts {
        self.end_file();
        self.facts
    }
}

/// The id of `bytes` in `map`, adding it if new; `None` when the map is full.
fn intern(map: &mut FxHashMap<Box<[u8]>, u32>, bytes: &[u8]) -> Option<u32> {
    if let Some(&id) = map.get(bytes) {
        return Some(id);
    }
    if map.len() >= MAX_CALL_STATS {
        return None;
    }
    let id = u32::try_from(map.len()).ok()?;
    map.insert(Box::from(bytes), id);
    Some(id)
}

/// The arguments runsc keys its own reports by (`runsc/boot/compat.go`,
/// `compat_amd64.go`, `compat_arm64.go`), as far as the report showed them.
fn key_args(syscall: &SyscallId, args: &ShownArgs) -> Vec<(u8, u64)> {
    let indexes: &[u8] = match syscall {
        SyscallId::Named(name) => match name.as_str() {
            "prctl" | "arch_prctl" => &[0],
            "ioctl" | "epoll_ctl" | "shmctl" | "futex" | "fallocate" => &[1],
            "getsockopt" | "setsockopt" => &[1, 2],
            "semctl" => &[2],
            _ => &[],
        },
        SyscallId::Number(_) => &[],
    };
    indexes
        .iter()
        .filter_map(|&i| Some((i, args.get(usize::from(i))?)))
        .collect()
}

fn format_args_shown(args: &ShownArgs) -> String {
    args.values[..usize::from(args.count)]
        .iter()
        .map(|a| format!("{a:#x}"))
        .collect::<Vec<_>>()
        .join(", ")
}
