//! The runsc messages that carry facts sandprof parses itself, recognised by their
//! wording in gVisor's source (paths below are in google/gvisor), in every wording they
//! have had (older ones named with the commit that changed them). Every other message
//! that says something about the workload is data: the catalogue in `syscall-db`
//! (`data/gvisor/messages.toml`), which [`classify`] consults after these.
//!
//! | message | source |
//! |---|---|
//! | `Unsupported syscall name(0x…,…). It is likely …` (since 2020-05, `32ab382c8`); before: `Unsupported syscall: name, regs: …`; Cloud Run's `Container Sandbox: ` prefix, arguments cut short with `…`, `UNKNOWN[N/0xN]` names | `runsc/boot/compat.go` |
//! | `Signal N, PID: P, TID: T, fault addr: 0x…: terminating thread group` (since 2023-03, `edf84e165`); before: `Signal N: terminating thread group` and `Uncaught signal: "name" (N), PID: P, TID: T, fault addr: 0x…` | `pkg/sentry/kernel/task_signals.go`, `runsc/boot/compat.go` |
//! | `application exiting with exit status N` / `killed by signal N[ (core dumped)]` (since 2021-07, `052eb90dc`); before: `application exiting with {Code:N Signo:S}` | `runsc/cmd/boot.go`, `pkg/abi/linux/wait.go` |
//! | `Exiting with status: W` (a raw wait status) | `runsc/cli/cli.go` |
//! | `FATAL ERROR: …` | `runsc/cmd/util/util.go` |
//! | `Version …` (`Version release-…, go…, amd64, …`; older and Debian builds: `Version 0.0~20221219.0`, with `GOARCH: amd64` on a line of its own), `Args: […]`, and the configuration lines `Platform: …` and `Network: …` | `runsc/cli/cli.go`, `runsc/cli/main.go` |
//!
//! Go's runtime writes `panic: …`, `fatal error: …`, `SIGSYS: bad system call` and
//! goroutine stacks as raw lines; [`runtime_line`] recognises the lines that start such
//! a dump (the lines after them, up to the next log line, are its detail).

mod parse;

use syscall_db::messages::{Captures, MessageCatalogue};

use super::strace::SyscallName;
use super::task::number;

/// What a message says, when it says something sandprof uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message<'a> {
    /// runsc's unimplemented-syscall event.
    UnsupportedSyscall {
        /// The syscall.
        name: SyscallName<'a>,
        /// Its arguments, as far as the wording carries them.
        args: ShownArgs,
    },
    /// A message of the catalogue, by its index there.
    Catalogued {
        /// Index into the catalogue's messages.
        message: usize,
        /// What its wording captured.
        captures: Captures,
    },
    /// A task was killed by a signal it did not handle.
    Signal {
        /// Signal number.
        signal: u32,
        /// Process id, when the message names it (else the task prefix does).
        pid: Option<u32>,
        /// Thread id, likewise.
        tid: Option<u32>,
    },
    /// The sandboxed application, or a runsc command, exited.
    Exit {
        /// How.
        status: ExitStatus,
        /// Which message: the application's (`application exiting with`) or the runsc
        /// command's (`Exiting with status`).
        scope: ExitScope,
    },
    /// runsc failed (`FATAL ERROR: …`).
    FatalError,
    /// The `Args: [...]` line at the top of a runsc command's log.
    Args {
        /// The runsc subcommand (`boot`, `gofer`, `create`…), when it can be told.
        command: Option<&'a [u8]>,
    },
    /// The `Version …` line at the top of a runsc command's log.
    Version {
        /// runsc's version, e.g. `release-20240101.0` or `0.0~20221219.0`.
        version: &'a [u8],
        /// Go's name for the architecture (`amd64`, `arm64`), when the line has it.
        goarch: Option<&'a [u8]>,
    },
    /// `GOARCH: amd64`, the header line of older and Debian builds.
    Goarch(&'a [u8]),
    /// `Platform: ptrace` in the configuration header.
    Platform(&'a [u8]),
    /// `Network: sandbox, logging: false` in the configuration header: the mode.
    Network(&'a [u8]),
}

/// The arguments an unsupported-syscall report shows: six, or fewer when the message
/// was cut short.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct ShownArgs {
    /// The values, zero past `count`.
    pub values: [u64; 6],
    /// How many were shown.
    pub count: u8,
}

impl ShownArgs {
    /// Argument `i`, if shown.
    pub fn get(&self, i: usize) -> Option<u64> {
        (i < usize::from(self.count)).then(|| self.values[i])
    }
}

/// How a process or sandbox ended.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// Exited with this code.
    Code(u32),
    /// Killed by this signal.
    Signal {
        /// Signal number.
        signal: u32,
        /// A core dump was written.
        core: bool,
    },
}

impl ExitStatus {
    /// Decodes a raw wait status (`WIFEXITED`/`WIFSIGNALED`), as `Exiting with status`
    /// prints it; stopped/continued statuses are not exits.
    pub fn from_wait_status(ws: u32) -> Option<Self> {
        match ws & 0x7f {
            0 => Some(ExitStatus::Code((ws >> 8) & 0xff)),
            0x7f => None,
            signal => Some(ExitStatus::Signal {
                signal,
                core: ws & 0x80 != 0,
            }),
        }
    }

    /// Whether this is a failure (non-zero code or a signal).
    pub fn is_failure(self) -> bool {
        self != ExitStatus::Code(0)
    }
}

/// Whose exit an [`Message::Exit`] is.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ExitScope {
    /// The container's application (the sandbox's init process).
    Application,
    /// A runsc command (`boot`, `gofer`, `run`…).
    Command,
}

/// Recognises a message (after the envelope, and after the task prefix if it had one:
/// `task` says so). The messages parsed here first, then the catalogue's wordings.
pub fn classify<'a>(
    message: &'a [u8],
    task: bool,
    catalogue: &MessageCatalogue,
) -> Option<Message<'a>> {
    let message = message
        .strip_prefix(b"Container Sandbox: ")
        .unwrap_or(message);
    own_message(message).or_else(|| {
        catalogue
            .recognise(message, task)
            .map(|(message, captures)| Message::Catalogued { message, captures })
    })
}

fn own_message(message: &[u8]) -> Option<Message<'_>> {
    match *message.first()? {
        b'U' => parse::unsupported_syscall(message).or_else(|| parse::uncaught_signal(message)),
        b'A' => parse::args_line(message),
        b'S' => parse::task_signal(message),
        b'a' => {
            let rest = message.strip_prefix(b"application exiting with ")?;
            Some(Message::Exit {
                status: parse::exit_status_text(rest)?,
                scope: ExitScope::Application,
            })
        }
        b'E' => {
            let rest = message.strip_prefix(b"Exiting with status: ")?;
            Some(Message::Exit {
                status: ExitStatus::from_wait_status(number(rest)?)?,
                scope: ExitScope::Command,
            })
        }
        b'F' => message
            .starts_with(b"FATAL ERROR: ")
            .then_some(Message::FatalError),
        b'V' => {
            let rest = message.strip_prefix(b"Version ")?;
            let mut parts = rest
                .split(|&b| b == b',')
                .map(|p| p.strip_prefix(b" ").unwrap_or(p));
            let version = parts.next()?;
            let goarch = parts.nth(1);
            Some(Message::Version { version, goarch })
        }
        b'G' => message.strip_prefix(b"GOARCH: ").map(Message::Goarch),
        // The configuration header is indented with tabs.
        b'\t' | b' ' => {
            let start = message.iter().position(|&b| b != b'\t' && b != b' ')?;
            let line = &message[start..];
            if let Some(platform) = line.strip_prefix(b"Platform: ") {
                Some(Message::Platform(platform))
            } else {
                let rest = line.strip_prefix(b"Network: ")?;
                let end = memchr::memchr(b',', rest).unwrap_or(rest.len());
                Some(Message::Network(&rest[..end]))
            }
        }
        _ => None,
    }
}

/// Lines Go's runtime writes to stderr, which runsc sends to its log file.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum RuntimeLine {
    /// `panic: …`.
    Panic,
    /// `fatal error: …`, or a signal the Go runtime could not handle (`SIGSYS: bad
    /// system call` when runsc's own seccomp filter refused a host syscall).
    Fatal,
    /// `goroutine N [state]:`: a stack dump (every goroutine's, on a panic).
    Goroutine,
}

/// Recognises a raw Go runtime line that starts a dump. Stack frames, `\tfile:line`
/// lines and register dumps are only read as the detail of a dump they follow: on
/// their own they look like too many other things.
pub fn runtime_line(line: &[u8]) -> Option<RuntimeLine> {
    if line.starts_with(b"panic: ") {
        return Some(RuntimeLine::Panic);
    }
    if line.starts_with(b"fatal error: ") || is_unexpected_signal(line) {
        return Some(RuntimeLine::Fatal);
    }
    if let Some(rest) = line.strip_prefix(b"goroutine ") {
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits > 0 && rest[digits..].starts_with(b" [") && line.ends_with(b"]:") {
            return Some(RuntimeLine::Goroutine);
        }
    }
    None
}

/// `SIGSYS: bad system call`, `SIGSEGV: segmentation violation`: Go's report of a
/// signal it could not turn into a panic.
fn is_unexpected_signal(line: &[u8]) -> bool {
    let Some(rest) = line.strip_prefix(b"SIG") else {
        return false;
    };
    let name = rest.iter().take_while(|b| b.is_ascii_uppercase()).count();
    (2..=6).contains(&name) && rest[name..].starts_with(b": ") && rest.len() > name + 2
}

#[cfg(test)]
mod tests;
