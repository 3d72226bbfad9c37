//! Log facts: what a set of runsc logs says about the workload, aggregated while the
//! lines stream past, in memory bounded by the number of distinct things seen (and by
//! hard caps on those, whose overflow is counted), never by the number of lines.
//!
//! - strace exit lines → [`CallStat`] per (syscall, task name, captured arguments),
//!   with counts per errno and the first and last occurrence of each;
//! - runsc messages → [`EventStat`] per kind;
//! - terminations (a process exiting non-zero or killed, the application or a runsc
//!   command exiting, a panic, a fatal error) → [`Termination`], each with the failing
//!   call nearest to it in that process (or in the sandbox), its likely cause.

use rustc_hash::FxHashMap;
use syscall_db::FieldValues;

use super::capture::CaptureSpec;
use super::message::{ExitScope, ExitStatus, Message, NvproxyProblem, RawSocketFix};
use super::strace::{Outcome, Phase, StraceLine, SyscallName};
use super::task::TaskIds;

/// Most distinct call aggregates kept; further ones are counted in
/// [`Overflow::calls`].
pub const MAX_CALL_STATS: usize = 1 << 18;
/// Most distinct message aggregates kept.
pub const MAX_EVENT_STATS: usize = 1 << 14;
/// Most terminations kept.
pub const MAX_TERMINATIONS: usize = 1 << 10;
/// Most live processes and threads tracked for root causes.
pub const MAX_TASKS: usize = 1 << 16;
/// Stack or detail lines kept per termination.
pub const MAX_DETAIL_LINES: usize = 40;
/// Lines within which a second report of the same signal is the same death.
const SIGNAL_REPEAT_LINES: u64 = 16;
/// Longest message sample kept, in bytes.
const MAX_SAMPLE: usize = 400;

/// A fixed-capacity string, so recording an occurrence never allocates.
#[derive(Copy, Clone, PartialEq, Eq)]
pub struct Inline<const N: usize> {
    len: u8,
    bytes: [u8; N],
}

impl<const N: usize> Inline<N> {
    /// The empty string.
    pub const EMPTY: Self = Self {
        len: 0,
        bytes: [0; N],
    };

    /// Copies `s`, cut to `N` bytes at a character boundary.
    pub fn new(s: &[u8]) -> Self {
        let mut len = s.len().min(N).min(usize::from(u8::MAX));
        while len > 0 && len < s.len() && (s[len] & 0xc0) == 0x80 {
            len -= 1;
        }
        let mut bytes = [0; N];
        bytes[..len].copy_from_slice(&s[..len]);
        Self {
            len: len as u8,
            bytes,
        }
    }

    /// The text (invalid UTF-8 shown with replacement characters).
    pub fn to_string_lossy(&self) -> String {
        String::from_utf8_lossy(&self.bytes[..usize::from(self.len)]).into_owned()
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl<const N: usize> std::fmt::Debug for Inline<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.to_string_lossy())
    }
}

/// Where a line was: file, line number, time, task.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Where {
    /// Index into [`LogFacts::files`].
    pub file: u32,
    /// Line number, 1-based.
    pub line: u64,
    /// Time as written.
    pub time: Inline<40>,
    /// Process id (root pid namespace).
    pub pid: Option<u32>,
    /// Thread id (root pid namespace).
    pub tid: Option<u32>,
    /// Task name.
    pub comm: Inline<32>,
}

/// A syscall, by name, or by number when runsc had no name for it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SyscallId {
    /// Named.
    Named(String),
    /// `sys_N`.
    Number(u32),
}

impl SyscallId {
    fn from_name(name: SyscallName<'_>) -> Self {
        match name {
            SyscallName::Named(n) => SyscallId::Named(n.to_owned()),
            SyscallName::Number(n) => SyscallId::Number(n),
        }
    }

    /// The name, or `sys_N`.
    pub fn display(&self) -> String {
        match self {
            SyscallId::Named(n) => n.clone(),
            SyscallId::Number(n) => format!("sys_{n}"),
        }
    }
}

/// Calls of one syscall by one task name with one set of captured arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallStat {
    /// Syscall.
    pub syscall: SyscallId,
    /// Task name.
    pub comm: String,
    /// Captured arguments (see [`CaptureSpec`]).
    pub fields: FieldValues,
    /// Captured fields that could not be read.
    pub incomplete: Vec<String>,
    /// Calls that returned (exit lines).
    pub calls: u64,
    /// The first call.
    pub first: Where,
    /// Failures by errno number, in the order first seen.
    pub failures: Vec<Failures>,
}

/// Failures with one errno.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failures {
    /// errno number.
    pub errno: u16,
    /// How many.
    pub count: u64,
    /// First.
    pub first: Where,
    /// Last.
    pub last: Where,
}

/// What kind of runsc message an [`EventStat`] counts.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventKind {
    /// "Unsupported syscall", keyed by the syscall and the arguments runsc itself keys
    /// its reports by (`runsc/boot/compat.go`: the command of ioctl, prctl,
    /// arch_prctl…, level and name of get/setsockopt).
    UnsupportedSyscall {
        /// Syscall.
        syscall: SyscallId,
        /// (argument index, value) pairs that tell reports apart.
        key_args: Vec<(u8, u64)>,
    },
    /// A raw socket was refused.
    RawSocket(RawSocketFix),
    /// An unsupported socket option.
    Sockopt {
        /// Level, when named.
        level: Option<String>,
        /// Option number, when given.
        option: Option<u64>,
    },
    /// iptables/nftables.
    Netfilter,
    /// A netlink request not served.
    Netlink,
    /// An unimplemented keyctl operation.
    Keyctl(u32),
    /// An unknown filesystem type, mount skipped.
    MountTypeIgnored(String),
    /// An unknown mount option, ignored.
    MountOptionIgnored(String),
    /// nvproxy.
    Nvproxy(NvproxyProblem),
}

/// Occurrences of one kind of message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventStat {
    /// Kind.
    pub kind: EventKind,
    /// How many.
    pub count: u64,
    /// First.
    pub first: Where,
    /// Last.
    pub last: Where,
    /// The first message's text (cut to a few hundred bytes).
    pub sample: String,
    /// For unsupported syscalls: the six arguments of the first report.
    pub args: Option<[u64; 6]>,
}

/// How something ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TerminationKind {
    /// A process called exit_group with a non-zero status.
    ProcessExit {
        /// Process id.
        pid: u32,
        /// Status passed to exit_group.
        code: u32,
    },
    /// A task was killed by a signal it did not handle.
    Signal {
        /// Process id, when known.
        pid: Option<u32>,
        /// Signal.
        signal: u32,
    },
    /// The application or a runsc command exited with a failure.
    Exit {
        /// Whose exit.
        scope: ExitScope,
        /// How.
        status: ExitStatus,
    },
    /// runsc printed `FATAL ERROR: …`.
    FatalError,
    /// A Go panic in runsc.
    Panic,
    /// A Go runtime fatal error in runsc.
    GoFatal,
}

/// What the nearest failing call was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CauseKind {
    /// It returned this errno.
    Failed(u16),
    /// It never returned (the task died in it).
    Unfinished,
    /// runsc reported it unsupported.
    Unsupported,
}

/// The call nearest to a termination, its likely cause.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cause {
    /// Syscall.
    pub syscall: SyscallId,
    /// How it failed.
    pub kind: CauseKind,
    /// Its arguments as logged (cut to a few hundred bytes).
    pub args: String,
    /// Where.
    pub at: Where,
}

/// A termination with its likely cause.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Termination {
    /// What ended, how.
    pub kind: TerminationKind,
    /// Where it was logged.
    pub at: Where,
    /// The message, then stack or detail lines (bounded).
    pub detail: Vec<String>,
    /// The failing call nearest to it: in the same process for a process, anywhere
    /// in the sandbox for the sandbox.
    pub cause: Option<Cause>,
}

/// One input file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SourceFile {
    /// Name as given (or `-` for stdin).
    pub name: String,
    /// The runsc command that wrote it (`boot`, `gofer`…), from its name or header.
    pub command: Option<String>,
    /// Encodings seen (`text`, `json`, `json-k8s`).
    pub encodings: Vec<&'static str>,
    /// Lines read.
    pub lines: u64,
    /// Lines recognised as runsc's (an envelope, a Go runtime line, a continuation).
    pub recognised: u64,
    /// strace lines.
    pub strace_lines: u64,
    /// Lines that could not be parsed.
    pub unparsed: u64,
    /// The first few of those: (line number, reason).
    pub unparsed_samples: Vec<(u64, String)>,
}

/// What was dropped to stay within the caps.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overflow {
    /// Exit lines counted in no [`CallStat`] because the cap was reached.
    pub calls: u64,
    /// Messages counted in no [`EventStat`].
    pub events: u64,
    /// Terminations not kept.
    pub terminations: u64,
    /// Tasks not tracked for root causes.
    pub tasks: u64,
}

/// Everything the logs said.
#[derive(Clone, Debug, Default)]
pub struct LogFacts {
    /// Input files, in the order read.
    pub files: Vec<SourceFile>,
    /// Syscall exits, aggregated.
    pub calls: Vec<CallStat>,
    /// runsc messages, aggregated.
    pub events: Vec<EventStat>,
    /// Terminations, in log order.
    pub terminations: Vec<Termination>,
    /// Exit lines whose result was cut off.
    pub truncated_calls: u64,
    /// Entry lines with no exit line by the end of their file.
    pub unfinished_calls: u64,
    /// Overflow of the caps.
    pub overflow: Overflow,
    /// runsc's version, from the first `Version` header.
    pub runsc_version: Option<String>,
    /// Go architecture names from the `Version` headers (`amd64`, `arm64`).
    pub goarches: Vec<String>,
    /// The first and last timestamps, as written.
    pub first_time: Option<Inline<40>>,
    /// See [`LogFacts::first_time`].
    pub last_time: Option<Inline<40>>,
}

/// Whether an errno suggests the sandbox refused something (as opposed to ordinary
/// outcomes like ENOENT or EAGAIN): these are the calls a root cause is looked for in.
pub fn is_refusal(errno: u16) -> bool {
    matches!(
        errno,
        1 /* EPERM */
            | 6 /* ENXIO */
            | 13 /* EACCES */
            | 19 /* ENODEV */
            | 22 /* EINVAL */
            | 25 /* ENOTTY */
            | 38 /* ENOSYS */
            | 92 /* ENOPROTOOPT */
            | 93 /* EPROTONOSUPPORT */
            | 94 /* ESOCKTNOSUPPORT */
            | 95 /* EOPNOTSUPP */
            | 96 /* EPFNOSUPPORT */
            | 97 /* EAFNOSUPPORT */
    )
}

/// A call entered and not yet returned. Kept for every running thread, so it holds
/// no heap data: the syscall by interned id, its arguments cut to a fixed size.
#[derive(Clone, Debug)]
struct InFlight {
    name_id: u32,
    args: Inline<120>,
    at: Where,
}

#[derive(Clone, Debug, Default)]
struct ProcessState {
    last_refusal: Option<Cause>,
}

/// Builds [`LogFacts`] line by line.
pub struct FactsBuilder<'s> {
    spec: &'s CaptureSpec,
    facts: LogFacts,
    /// Interned syscall names (as `name` or `sys_N`) and task names, so the per-line
    /// lookup borrows the line's bytes instead of allocating a key.
    names: FxHashMap<Box<[u8]>, u32>,
    /// `names` by id.
    name_list: Vec<SyscallId>,
    comms: FxHashMap<Box<[u8]>, u32>,
    call_index: FxHashMap<(u32, u32, FieldValues), usize>,
    event_index: FxHashMap<EventKind, usize>,
    in_flight: FxHashMap<u32, InFlight>,
    processes: FxHashMap<u32, ProcessState>,
    last_refusal: Option<Cause>,
    last_unsupported: Option<Cause>,
    /// Index of the termination that bare stack lines are attached to.
    open_block: Option<usize>,
}

impl<'s> FactsBuilder<'s> {
    /// A builder reading arguments as `spec` says.
    pub fn new(spec: &'s CaptureSpec) -> Self {
        Self {
            spec,
            facts: LogFacts::default(),
            names: FxHashMap::default(),
            name_list: Vec::new(),
            comms: FxHashMap::default(),
            call_index: FxHashMap::default(),
            event_index: FxHashMap::default(),
            in_flight: FxHashMap::default(),
            processes: FxHashMap::default(),
            last_refusal: None,
            last_unsupported: None,
            open_block: None,
        }
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
        let in_flight = std::mem::take(&mut self.in_flight);
        self.facts.unfinished_calls += in_flight.len() as u64;
        self.processes.clear();
        self.open_block = None;
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
        if let (SyscallName::Named("exit_group" | "exit"), Some(pid)) = (line.name, ids.pid) {
            // exit/exit_group never return: the entry line carries the status.
            self.in_flight.remove(&ids.tid);
            let code = super::args::nth(line.args, 0).and_then(super::args::integer);
            let state = self.processes.remove(&pid);
            if let (SyscallName::Named("exit_group"), Some(code)) = (line.name, code) {
                let code = (code & 0xff) as u32;
                if code != 0 {
                    self.terminate(
                        TerminationKind::ProcessExit { pid, code },
                        at,
                        vec![format!("exit_group({code})")],
                        state.and_then(|s| s.last_refusal),
                    );
                }
            }
            return;
        }
        if self.in_flight.len() >= MAX_TASKS && !self.in_flight.contains_key(&ids.tid) {
            self.facts.overflow.tasks += 1;
            return;
        }
        let Some(name_id) = self.name_id(line.name) else {
            self.facts.overflow.tasks += 1;
            return;
        };
        self.in_flight.insert(
            ids.tid,
            InFlight {
                name_id,
                args: Inline::new(line.args),
                at,
            },
        );
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
        self.in_flight.remove(&ids.tid);
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
        let key = (name_id, comm_id, fields);
        let index = match self.call_index.get(&key) {
            Some(&i) => Some(i),
            None => {
                let syscall = SyscallId::from_name(line.name);
                let index = self.new_call(syscall, line.comm, key.2.clone(), incomplete, at);
                if let Some(i) = index {
                    self.call_index.insert(key, i);
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
            if is_refusal(errno) {
                let cause = Cause {
                    syscall: stat.syscall.clone(),
                    kind: CauseKind::Failed(errno),
                    args: sample(line.args),
                    at,
                };
                if let Some(pid) = ids.pid {
                    self.note_process_refusal(pid, cause.clone());
                }
                self.last_refusal = Some(cause);
            }
        }
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

    fn note_process_refusal(&mut self, pid: u32, cause: Cause) {
        if let Some(state) = self.processes.get_mut(&pid) {
            state.last_refusal = Some(cause);
        } else if self.processes.len() < MAX_TASKS {
            self.processes.insert(
                pid,
                ProcessState {
                    last_refusal: Some(cause),
                },
            );
        } else {
            self.facts.overflow.tasks += 1;
        }
    }

    /// Records a runsc message. `ids` is the task prefix, if the message had one;
    /// `text` the whole message, for samples.
    pub fn message(&mut self, ids: Option<TaskIds>, message: Message<'_>, text: &[u8], at: Where) {
        self.open_block = None;
        let event = match message {
            Message::UnsupportedSyscall { name, args } => {
                let syscall = SyscallId::from_name(name);
                let key_args = args.map(|a| key_args(&syscall, &a)).unwrap_or_default();
                let cause = Cause {
                    syscall: syscall.clone(),
                    kind: CauseKind::Unsupported,
                    args: args.map(|a| format_args6(&a)).unwrap_or_default(),
                    at,
                };
                self.last_unsupported = Some(cause);
                self.count_event(
                    EventKind::UnsupportedSyscall { syscall, key_args },
                    text,
                    at,
                    args,
                );
                return;
            }
            Message::RawSocket { needs } => EventKind::RawSocket(needs),
            Message::Sockopt { level, option } => EventKind::Sockopt {
                level: level.map(str::to_owned),
                option,
            },
            Message::Netfilter => EventKind::Netfilter,
            Message::Netlink => EventKind::Netlink,
            Message::Keyctl { operation } => EventKind::Keyctl(operation),
            Message::MountTypeIgnored { fstype } => {
                EventKind::MountTypeIgnored(String::from_utf8_lossy(fstype).into_owned())
            }
            Message::MountOptionIgnored { option } => {
                EventKind::MountOptionIgnored(String::from_utf8_lossy(option).into_owned())
            }
            Message::Nvproxy { kind } => EventKind::Nvproxy(kind),
            Message::Signal { signal, pid, tid } => {
                let pid = pid.or(ids.and_then(|i| i.pid));
                let tid = tid.or(ids.map(|i| i.tid));
                // Until 2023 runsc logged a killing signal twice: the task's debug line
                // and the uncaught-signal event. One death, one termination.
                // The older task line names no pid; the event that repeats it does.
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
                let cause = self.process_cause(pid, tid);
                self.terminate(
                    TerminationKind::Signal { pid, signal },
                    at,
                    vec![sample(text)],
                    cause,
                );
                return;
            }
            Message::Exit { status, scope } => {
                if status.is_failure() {
                    let cause = self.sandbox_cause();
                    self.terminate(
                        TerminationKind::Exit { scope, status },
                        at,
                        vec![sample(text)],
                        cause,
                    );
                }
                return;
            }
            Message::FatalError => {
                let cause = self.sandbox_cause();
                self.terminate(TerminationKind::FatalError, at, vec![sample(text)], cause);
                self.open_block = self.facts.terminations.len().checked_sub(1);
                return;
            }
            Message::Args { command } => {
                if let (Some(command), Some(file)) = (command, self.facts.files.last_mut()) {
                    if file.command.is_none() {
                        file.command = Some(String::from_utf8_lossy(command).into_owned());
                    }
                }
                return;
            }
            Message::Version { version, goarch } => {
                if self.facts.runsc_version.is_none() {
                    self.facts.runsc_version = Some(String::from_utf8_lossy(version).into_owned());
                }
                if let Some(goarch) = goarch {
                    let arch = String::from_utf8_lossy(goarch).into_owned();
                    if !self.facts.goarches.contains(&arch) {
                        self.facts.goarches.push(arch);
                    }
                }
                return;
            }
        };
        self.count_event(event, text, at, None);
    }

    /// Records a Go runtime panic or fatal error line; the stack lines that follow
    /// attach to it.
    pub fn runtime_failure(&mut self, kind: TerminationKind, text: &[u8], at: Where) {
        let cause = self.sandbox_cause();
        self.terminate(kind, at, vec![sample(text)], cause);
        self.open_block = self.facts.terminations.len().checked_sub(1);
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

    /// The call nearest to a task's death: the task's unfinished call if it died in
    /// one, else its process's last refused call.
    fn process_cause(&mut self, pid: Option<u32>, tid: Option<u32>) -> Option<Cause> {
        let unfinished = tid.and_then(|t| self.in_flight.remove(&t)).map(|f| Cause {
            syscall: self.name_list[f.name_id as usize].clone(),
            kind: CauseKind::Unfinished,
            args: f.args.to_string_lossy(),
            at: f.at,
        });
        let refused = pid
            .and_then(|p| self.processes.remove(&p))
            .and_then(|s| s.last_refusal);
        unfinished.or(refused)
    }

    /// The call nearest to a sandbox-wide failure: the later of the last refused call
    /// and the last unsupported-syscall report.
    fn sandbox_cause(&self) -> Option<Cause> {
        match (&self.last_refusal, &self.last_unsupported) {
            (Some(a), Some(b)) => Some(if later(&b.at, &a.at) { b } else { a }.clone()),
            (a, b) => a.clone().or_else(|| b.clone()),
        }
    }

    fn terminate(
        &mut self,
        kind: TerminationKind,
        at: Where,
        detail: Vec<String>,
        cause: Option<Cause>,
    ) {
        if self.facts.terminations.len() >= MAX_TERMINATIONS {
            self.facts.overflow.terminations += 1;
            return;
        }
        self.facts.terminations.push(Termination {
            kind,
            at,
            detail,
            cause,
        });
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

/// Whether `a` was logged after `b` (same file: by line; else by file order).
fn later(a: &Where, b: &Where) -> bool {
    (a.file, a.line) > (b.file, b.line)
}

/// The arguments runsc keys its own reports by (`runsc/boot/compat.go`,
/// `compat_amd64.go`, `compat_arm64.go`).
fn key_args(syscall: &SyscallId, args: &[u64; 6]) -> Vec<(u8, u64)> {
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
    indexes.iter().map(|&i| (i, args[usize::from(i)])).collect()
}

fn format_args6(args: &[u64; 6]) -> String {
    args.iter()
        .map(|a| format!("{a:#x}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Text cut to [`MAX_SAMPLE`] bytes at a character boundary.
pub fn sample(text: &[u8]) -> String {
    let mut end = text.len().min(MAX_SAMPLE);
    while end > 0 && end < text.len() && (text[end] & 0xc0) == 0x80 {
        end -= 1;
    }
    let mut s = String::from_utf8_lossy(&text[..end]).into_owned();
    if end < text.len() {
        s.push('…');
    }
    s
}
