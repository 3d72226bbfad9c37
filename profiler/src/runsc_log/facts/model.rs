//! The log facts' data types: what a set of runsc logs said about the workload, with
//! where each thing was said. Plain data for the analysis; [`super::builder`] fills it.

use syscall_db::messages::Captures;
use syscall_db::FieldValues;

use crate::runsc_log::message::{ExitScope, ExitStatus};
use crate::runsc_log::strace::SyscallName;

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

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// The text (invalid UTF-8 shown with replacement characters).
    pub fn to_string_lossy(&self) -> String {
        String::from_utf8_lossy(self.as_bytes()).into_owned()
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl<const N: usize> Default for Inline<N> {
    fn default() -> Self {
        Self::EMPTY
    }
}

impl<const N: usize> std::fmt::Debug for Inline<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.to_string_lossy())
    }
}

/// Where a line was: file, line number, the stream it belongs to, time, task.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Where {
    /// Index into [`LogFacts::files`].
    pub file: u32,
    /// Line number in the file as read, 1-based.
    pub line: u64,
    /// The line number the input itself printed in front of the line (`cat -n`,
    /// `grep -n`, an editor): the line in the original log.
    pub source_line: Option<u64>,
    /// Index into [`LogFacts::streams`]: which runsc process (in which pod, for
    /// interleaved logs) wrote it. Process ids are only unique within a stream.
    pub stream: u32,
    /// Time as written.
    pub time: Inline<40>,
    /// Process id (root pid namespace of the sandbox).
    pub pid: Option<u32>,
    /// Thread id (root pid namespace of the sandbox).
    pub tid: Option<u32>,
    /// Task name.
    pub comm: Inline<32>,
}

impl Where {
    /// Log order: file, then line.
    pub fn order(&self) -> (u32, u64) {
        (self.file, self.line)
    }
}

/// A syscall, by name, or by number when runsc had no name for it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SyscallId {
    /// Named.
    Named(String),
    /// `sys_N` or `UNKNOWN[N/0xN]`.
    Number(u32),
}

impl SyscallId {
    /// From a parsed name.
    pub fn from_name(name: SyscallName<'_>) -> Self {
        match name {
            SyscallName::Named(n) => SyscallId::Named(String::from_utf8_lossy(n).into_owned()),
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
    /// Captured arguments (see [`crate::runsc_log::capture::CaptureSpec`]).
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
    /// A message of the catalogue (`syscall_db::messages`), by its index there, with
    /// what its wording captured.
    Catalogued {
        /// Index into the catalogue's messages.
        message: usize,
        /// Captured values.
        captures: Captures,
    },
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
    /// For unsupported syscalls: the six arguments of the first report, as far as the
    /// report showed them.
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
    /// The application or a runsc command exited with a failure, and no process
    /// termination in the logs is that exit.
    Exit {
        /// Whose exit.
        scope: ExitScope,
        /// How.
        status: ExitStatus,
    },
    /// runsc printed `FATAL ERROR: …`.
    FatalError,
    /// A Go panic in runsc (the Sentry or the gofer).
    Panic,
    /// A Go runtime fatal error in runsc (including a host signal the Go runtime could
    /// not handle, such as SIGSYS from runsc's own seccomp filter).
    GoFatal,
}

/// How a suspect call went wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SuspectKind {
    /// It returned this errno.
    Failed(u16),
    /// It never returned: the task died in it.
    Unfinished,
    /// runsc reported it unsupported (no strace line for it).
    Unsupported,
}

/// A call that failed in a process shortly before the process ended: a candidate cause.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suspect {
    /// Syscall.
    pub syscall: SyscallId,
    /// How it went wrong.
    pub kind: SuspectKind,
    /// How strace described the errno (`no such file or directory`).
    pub errno_text: String,
    /// Its arguments as logged (cut to a few hundred bytes).
    pub args: String,
    /// The first path among its arguments, if any.
    pub path: Option<String>,
    /// Where.
    pub at: Where,
    /// Calls the process made after it, up to its end.
    pub calls_after: u64,
    /// What the process wrote to its standard error after the call that names it (its
    /// path, its syscall) or reports its error (the errno's text), if anything.
    pub named_in_output: Option<Naming>,
    /// The same syscall later succeeded in the process (a fallback or a retry).
    pub succeeded_later: bool,
}

/// How a process's error output mentions a suspect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Naming {
    /// The output's text (cut to a few hundred bytes).
    pub text: String,
    /// It names the call itself (its path or syscall), not only its errno's text.
    pub names_call: bool,
}

/// A process's signal to itself (or to its own process group), which a death by that
/// signal is then put down to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SelfSignal {
    /// The syscall (`kill`, `tgkill`, `tkill`).
    pub syscall: String,
    /// Signal.
    pub signal: u32,
    /// Where.
    pub at: Where,
}

/// A termination with what led to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Termination {
    /// What ended, how.
    pub kind: TerminationKind,
    /// Where it was logged.
    pub at: Where,
    /// The application's own exit (runsc logged `application exiting with …` for this
    /// process: it was the container's init).
    pub application: bool,
    /// The message, then stack or detail lines (bounded).
    pub detail: Vec<String>,
    /// Calls that failed in the process before it ended (for a process), or anywhere in
    /// the sandbox (for the sandbox), in log order.
    pub suspects: Vec<Suspect>,
    /// For a death by signal: the process sent the signal itself.
    pub self_signal: Option<SelfSignal>,
}

/// One input file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SourceFile {
    /// Name as given (or `-` for stdin).
    pub name: String,
    /// The runsc command that wrote it (`boot`, `gofer`…), from its name or header.
    pub command: Option<String>,
    /// Encodings seen (`text`, `json`, `json-k8s`), and the envelopes around them
    /// (`cloud-logging`, `docker-json`).
    pub encodings: Vec<&'static str>,
    /// Prefixes found in front of runsc's lines (`line-number`, `grep`, `kubectl`,
    /// `timestamp`, `cloud-logging-text`).
    pub prefixes: Vec<&'static str>,
    /// Lines read.
    pub lines: u64,
    /// Lines that were not blank.
    pub nonblank: u64,
    /// Lines recognised as runsc's (an envelope, a Go runtime line, a continuation of
    /// a multi-line message, a strace line or a runsc message without a header).
    pub recognised: u64,
    /// strace lines.
    pub strace_lines: u64,
    /// Lines that could not be parsed.
    pub unparsed: u64,
    /// The first few of those: (line number, reason).
    pub unparsed_samples: Vec<(u64, String)>,
    /// The first few non-blank lines, for saying what a file that is not a log holds.
    pub first_lines: Vec<(u64, String)>,
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

/// A runsc process whose lines the logs hold: one per (file, prefix tag, runsc pid).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stream {
    /// The file.
    pub file: u32,
    /// What told it apart in a file of interleaved logs: a `kubectl --prefix` pod and
    /// container, a `grep -H` file name, a Cloud Logging resource name.
    pub tag: Option<String>,
    /// The pid runsc's glog header names (the runsc process).
    pub runsc_pid: Option<u32>,
}

/// Everything the logs said.
#[derive(Clone, Debug, Default)]
pub struct LogFacts {
    /// Input files, in the order read.
    pub files: Vec<SourceFile>,
    /// The runsc processes whose lines were read.
    pub streams: Vec<Stream>,
    /// Syscall exits, aggregated.
    pub calls: Vec<CallStat>,
    /// runsc messages, aggregated.
    pub events: Vec<EventStat>,
    /// Terminations, in log order.
    pub terminations: Vec<Termination>,
    /// Every `application exiting with …` runsc logged, successful ones included: the
    /// container's own outcome.
    pub application_exits: Vec<(ExitStatus, Where)>,
    /// Exit lines whose result was cut off.
    pub truncated_calls: u64,
    /// Entry lines with no exit line by the end of their file.
    pub unfinished_calls: u64,
    /// Overflow of the caps.
    pub overflow: Overflow,
    /// runsc's version, from the first `Version` header, as written.
    pub runsc_version: Option<String>,
    /// The gVisor release that version is (`release-20221219.0`, also for Debian's
    /// `0.0~20221219.0`; `syscall_db::Release`'s tag), when it names one.
    pub gvisor_release: Option<String>,
    /// Go architecture names from the headers (`amd64`, `arm64`).
    pub goarches: Vec<String>,
    /// The platform the headers name (`ptrace`, `systrap`, `kvm`).
    pub platform: Option<String>,
    /// The network mode the headers name (`sandbox`, `host`, `none`).
    pub network: Option<String>,
    /// The first and last timestamps, as written.
    pub first_time: Option<Inline<40>>,
    /// See [`LogFacts::first_time`].
    pub last_time: Option<Inline<40>>,
}

impl LogFacts {
    /// Lines read, over every file.
    pub fn lines(&self) -> u64 {
        self.files.iter().map(|f| f.lines).sum()
    }

    /// Lines recognised as runsc's, over every file.
    pub fn recognised(&self) -> u64 {
        self.files.iter().map(|f| f.recognised).sum()
    }

    /// strace lines, over every file.
    pub fn strace_lines(&self) -> u64 {
        self.files.iter().map(|f| f.strace_lines).sum()
    }
}

/// Whether an errno suggests the sandbox refused something (as opposed to ordinary
/// outcomes like ENOENT or EAGAIN).
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

/// Text cut to `max` bytes at a character boundary, with `…` when cut.
pub fn sample_of(text: &[u8], max: usize) -> String {
    let mut end = text.len().min(max);
    while end > 0 && end < text.len() && (text[end] & 0xc0) == 0x80 {
        end -= 1;
    }
    let mut s = String::from_utf8_lossy(&text[..end]).into_owned();
    if end < text.len() {
        s.push('…');
    }
    s
}

/// Longest message sample kept, in bytes.
pub const MAX_SAMPLE: usize = 400;

/// Text cut to [`MAX_SAMPLE`] bytes.
pub fn sample(text: &[u8]) -> String {
    sample_of(text, MAX_SAMPLE)
}
