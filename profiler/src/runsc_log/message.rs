//! The runsc messages that explain a failure, recognised by their wording in gVisor's
//! source (paths below are in google/gvisor). Each recogniser accepts every wording
//! the message has had; older ones are named with the commit that changed them.
//!
//! | message | source |
//! |---|---|
//! | `Unsupported syscall name(0x…,…). It is likely …` (since 2020-05, `32ab382c8`); before: `Unsupported syscall: name, regs: …` | `runsc/boot/compat.go` |
//! | Cloud Run prints the same behind `Container Sandbox: ` | — |
//! | `A process tried to create a raw socket, which is disabled by default. Should the runtime config enable --net-raw?` (since 2024-01, `c351246ce`); before: `…, but --net-raw was not specified. …`; and `… without CAP_NET_RAW. …` | `pkg/sentry/socket/netstack/provider.go` |
//! | `Unsupported socket option: N`; `SOL_IP options not supported on endpoints other than tcpip.Endpoint: option = N…` (also `SOL_IPV6`, `SOL_ICMPV6`, `SOL_PACKET`) | `pkg/sentry/socket/unix/transport/unix.go`, `pkg/sentry/socket/netstack/netstack.go` |
//! | `netfilter: …`, `Nftables: Unsupported …`, `IP6T_SO_SET_ADD_COUNTERS is not supported` | `pkg/sentry/socket/netfilter/netfilter.go`, `pkg/sentry/socket/netlink/netfilter/protocol.go` |
//! | `Netlink RDMA: unsupported …` | `pkg/sentry/socket/netlink/rdma/protocol.go` |
//! | `Unimplemented keyctl operation: N` | `pkg/sentry/syscalls/linux/sys_key.go` |
//! | `ignoring unknown filesystem type "t"`, `ignoring unknown mount option "o"` | `runsc/boot/vfs.go` |
//! | `nvproxy: handler is undefined for …`, `nvproxy: missing capability for …`, `NVIDIA driver version V is not officially supported` | `pkg/sentry/devices/nvproxy/` |
//! | `Signal N, PID: P, TID: T, fault addr: 0x…: terminating thread group` (since 2023-03, `edf84e165`); before: `Signal N: terminating thread group` and `Uncaught signal: "name" (N), PID: P, TID: T, fault addr: 0x…` | `pkg/sentry/kernel/task_signals.go`, `runsc/boot/compat.go` |
//! | `application exiting with exit status N` / `killed by signal N[ (core dumped)]` (since 2021-07, `052eb90dc`); before: `application exiting with {Code:N Signo:S}` | `runsc/cmd/boot.go`, `pkg/abi/linux/wait.go` |
//! | `Exiting with status: W` (a raw wait status) | `runsc/cli/cli.go` |
//! | `FATAL ERROR: …` | `runsc/cmd/util/util.go` |
//! | `Version …`, `Args: […]` (the header of every runsc command's log) | `runsc/cli/cli.go` |
//!
//! Go's runtime writes `panic: …`, `fatal error: …`, `[signal …]` and goroutine stacks
//! as raw lines; [`runtime_line`] recognises them.

use super::strace::{hex, SyscallName};
use super::task::number;

/// What a message says, when it says something sandprof uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message<'a> {
    /// runsc's unimplemented-syscall event.
    UnsupportedSyscall {
        /// The syscall.
        name: SyscallName<'a>,
        /// Its six arguments, when the wording carries them.
        args: Option<[u64; 6]>,
    },
    /// A raw socket was refused.
    RawSocket {
        /// The fix the message asks for.
        needs: RawSocketFix,
    },
    /// A socket option gVisor does not support on that socket.
    Sockopt {
        /// Level named by the message (`SOL_IP`…), when it names one.
        level: Option<&'a str>,
        /// Option number.
        option: Option<u64>,
    },
    /// iptables/nftables through netfilter or netlink was refused or not understood.
    Netfilter,
    /// A netlink request gVisor does not serve.
    Netlink,
    /// A keyctl operation gVisor does not implement.
    Keyctl {
        /// The operation number.
        operation: u32,
    },
    /// A mount whose filesystem type runsc does not know was skipped.
    MountTypeIgnored {
        /// The type.
        fstype: &'a [u8],
    },
    /// A mount option runsc does not know was ignored.
    MountOptionIgnored {
        /// The option.
        option: &'a [u8],
    },
    /// A GPU (nvproxy) operation gVisor does not support, or a driver it does not know.
    Nvproxy {
        /// Which.
        kind: NvproxyProblem,
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
    /// The `Version V, GOVERSION, GOARCH, …` line at the top of a runsc command's log.
    Version {
        /// runsc's version, e.g. `release-20240101.0`.
        version: &'a [u8],
        /// Go's name for the architecture: `amd64` or `arm64`.
        goarch: Option<&'a [u8]>,
    },
}

/// What the raw-socket message asks for. Ordered and hashable: the log facts key their
/// event counts by it.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RawSocketFix {
    /// runsc's `--net-raw` flag.
    NetRaw,
    /// CAP_NET_RAW in the container's capabilities.
    CapNetRaw,
}

/// nvproxy problems. Ordered and hashable: the log facts key their event counts by it.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NvproxyProblem {
    /// An ioctl, control command or allocation class nvproxy has no handler for.
    Unsupported,
    /// The container did not request the driver capability the operation needs.
    MissingCapability,
    /// The host driver version is not one nvproxy supports.
    UnsupportedDriver,
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

/// Recognises a message (after the envelope, and after a task prefix if any).
pub fn classify(message: &[u8]) -> Option<Message<'_>> {
    let message = message
        .strip_prefix(b"Container Sandbox: ")
        .unwrap_or(message);
    let first = *message.first()?;
    match first {
        b'U' => unsupported_syscall(message)
            .or_else(|| {
                let option = message.strip_prefix(b"Unsupported socket option: ")?;
                Some(Message::Sockopt {
                    level: None,
                    option: integer_prefix(option),
                })
            })
            .or_else(|| uncaught_signal(message))
            .or_else(|| {
                let op = message.strip_prefix(b"Unimplemented keyctl operation: ")?;
                Some(Message::Keyctl {
                    operation: number(op)?,
                })
            }),
        b'A' => raw_socket(message).or_else(|| args_line(message)),
        b'S' => sockopt_level(message).or_else(|| task_signal(message)),
        b'n' => netfilter_or_nvproxy(message),
        b'N' => {
            if message.starts_with(b"Nftables: ") {
                Some(Message::Netfilter)
            } else if message.starts_with(b"Netlink RDMA: unsupported") {
                Some(Message::Netlink)
            } else if message.starts_with(b"NVIDIA driver version ")
                && message.ends_with(b" is not officially supported")
            {
                Some(Message::Nvproxy {
                    kind: NvproxyProblem::UnsupportedDriver,
                })
            } else {
                None
            }
        }
        b'I' => {
            if message.starts_with(b"IP6T_SO_SET_ADD_COUNTERS is not supported")
                || message.starts_with(b"IPT_SO_SET_ADD_COUNTERS is not supported")
            {
                Some(Message::Netfilter)
            } else {
                None
            }
        }
        b'i' => {
            if let Some(rest) = message.strip_prefix(b"ignoring unknown filesystem type ") {
                Some(Message::MountTypeIgnored {
                    fstype: unquote(rest),
                })
            } else {
                let rest = message.strip_prefix(b"ignoring unknown mount option ")?;
                Some(Message::MountOptionIgnored {
                    option: unquote(rest),
                })
            }
        }
        b'a' => {
            let rest = message.strip_prefix(b"application exiting with ")?;
            Some(Message::Exit {
                status: exit_status_text(rest)?,
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
        _ => None,
    }
}

/// Both wordings of the unimplemented-syscall event.
fn unsupported_syscall(message: &[u8]) -> Option<Message<'_>> {
    if let Some(rest) = message.strip_prefix(b"Unsupported syscall: ") {
        // 2018-10 to 2020-05: `Unsupported syscall: name, regs: <proto text>`.
        let comma = memchr::memchr(b',', rest).unwrap_or(rest.len());
        let name = syscall_name(&rest[..comma])?;
        let args = rest
            .get(comma..)
            .and_then(|r| r.strip_prefix(b", regs: "))
            .and_then(legacy_register_args);
        return Some(Message::UnsupportedSyscall { name, args });
    }
    let rest = message.strip_prefix(b"Unsupported syscall ")?;
    let open = memchr::memchr(b'(', rest)?;
    let name = syscall_name(&rest[..open])?;
    let close = memchr::memchr(b')', &rest[open..])? + open;
    let mut args = [0u64; 6];
    let mut count = 0;
    for (slot, arg) in args
        .iter_mut()
        .zip(rest[open + 1..close].split(|&b| b == b','))
    {
        *slot = hex(arg.strip_prefix(b"0x")?)?;
        count += 1;
    }
    Some(Message::UnsupportedSyscall {
        name,
        args: (count == 6).then_some(args),
    })
}

fn syscall_name(s: &[u8]) -> Option<SyscallName<'_>> {
    if s.is_empty()
        || !s
            .iter()
            .all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return None;
    }
    if let Some(n) = s.strip_prefix(b"sys_").and_then(number) {
        return Some(SyscallName::Number(n));
    }
    std::str::from_utf8(s).ok().map(SyscallName::Named)
}

/// Arguments from the registers as the oldest wording printed them (protobuf text):
/// amd64 `rdi:N rsi:N rdx:N r10:N r8:N r9:N` (zero fields omitted), arm64 `regs:N` × 31.
fn legacy_register_args(regs: &[u8]) -> Option<[u64; 6]> {
    let mut args = [0u64; 6];
    let mut arm64 = 0usize;
    let mut seen = false;
    for token in regs.split(|&b| matches!(b, b' ' | b'<' | b'>' | b'{' | b'}')) {
        let Some(colon) = memchr::memchr(b':', token) else {
            continue;
        };
        let (key, value) = (&token[..colon], &token[colon + 1..]);
        let Some(value) = super::args::integer(value) else {
            continue;
        };
        let slot = match key {
            b"rdi" => 0,
            b"rsi" => 1,
            b"rdx" => 2,
            b"r10" => 3,
            b"r8" => 4,
            b"r9" => 5,
            b"regs" => {
                arm64 += 1;
                if arm64 > 6 {
                    continue;
                }
                arm64 - 1
            }
            _ => {
                seen |= key == b"orig_rax" || key == b"rip" || key == b"pc";
                continue;
            }
        };
        args[slot] = value;
        seen = true;
    }
    seen.then_some(args)
}

fn raw_socket(message: &[u8]) -> Option<Message<'_>> {
    let rest = message.strip_prefix(b"A process tried to create a raw socket")?;
    let needs = if memchr::memmem::find(rest, b"--net-raw").is_some() {
        RawSocketFix::NetRaw
    } else if memchr::memmem::find(rest, b"CAP_NET_RAW").is_some() {
        RawSocketFix::CapNetRaw
    } else {
        return None;
    };
    Some(Message::RawSocket { needs })
}

fn args_line(message: &[u8]) -> Option<Message<'_>> {
    let list = message.strip_prefix(b"Args: [")?;
    let list = list.strip_suffix(b"]").unwrap_or(list);
    // Flags come before the subcommand, some with their value as the next word
    // (`--root /run/runsc`), so look for the first word that names a subcommand.
    let command = list
        .split(|&b| b == b' ')
        .skip(1)
        .find(|w| RUNSC_COMMANDS.contains(w));
    Some(Message::Args { command })
}

/// runsc subcommands whose logs carry facts about the workload (registered by
/// `runsc/cli/cli.go`, implemented in `runsc/cmd/`).
const RUNSC_COMMANDS: &[&[u8]] = &[
    b"boot",
    b"checkpoint",
    b"create",
    b"delete",
    b"do",
    b"events",
    b"exec",
    b"gofer",
    b"kill",
    b"pause",
    b"restore",
    b"resume",
    b"run",
    b"start",
    b"state",
    b"wait",
];

fn sockopt_level(message: &[u8]) -> Option<Message<'_>> {
    const TAIL: &[u8] = b" options not supported on endpoints other than tcpip.Endpoint: option = ";
    let at = memchr::memmem::find(message, TAIL)?;
    let level = &message[..at];
    if !level.starts_with(b"SOL_") {
        return None;
    }
    Some(Message::Sockopt {
        level: std::str::from_utf8(level).ok(),
        option: integer_prefix(&message[at + TAIL.len()..]),
    })
}

/// `Signal N: terminating thread group` and
/// `Signal N, PID: P, TID: T, fault addr: 0x…: terminating thread group`.
fn task_signal(message: &[u8]) -> Option<Message<'_>> {
    let rest = message.strip_prefix(b"Signal ")?;
    if !message.ends_with(b": terminating thread group") {
        return None;
    }
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let signal = number(&rest[..digits])?;
    let rest = &rest[digits..];
    if rest.starts_with(b": ") {
        return Some(Message::Signal {
            signal,
            pid: None,
            tid: None,
        });
    }
    Some(Message::Signal {
        signal,
        pid: field_after(rest, b"PID: "),
        tid: field_after(rest, b"TID: "),
    })
}

/// `Uncaught signal: "name" (N), PID: P, TID: T, fault addr: 0x…` (until 2023-03).
fn uncaught_signal(message: &[u8]) -> Option<Message<'_>> {
    let rest = message.strip_prefix(b"Uncaught signal: ")?;
    let open = memchr::memmem::find(rest, b" (")? + 2;
    let digits = rest[open..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    Some(Message::Signal {
        signal: number(&rest[open..open + digits])?,
        pid: field_after(rest, b"PID: "),
        tid: field_after(rest, b"TID: "),
    })
}

fn field_after(s: &[u8], key: &[u8]) -> Option<u32> {
    let at = memchr::memmem::find(s, key)? + key.len();
    let digits = s[at..].iter().take_while(|b| b.is_ascii_digit()).count();
    number(&s[at..at + digits])
}

fn netfilter_or_nvproxy(message: &[u8]) -> Option<Message<'_>> {
    if message.starts_with(b"netfilter: ") {
        return Some(Message::Netfilter);
    }
    let rest = message.strip_prefix(b"nvproxy: ")?;
    let kind = if rest.starts_with(b"handler is undefined for ") {
        NvproxyProblem::Unsupported
    } else if rest.starts_with(b"missing capability for ") {
        NvproxyProblem::MissingCapability
    } else {
        return None;
    };
    Some(Message::Nvproxy { kind })
}

/// `exit status 1`, `killed by signal 9`, `killed by signal 11 (core dumped)`, and the
/// pre-2021 `{Code:1 Signo:0}`.
fn exit_status_text(s: &[u8]) -> Option<ExitStatus> {
    if let Some(code) = s.strip_prefix(b"exit status ") {
        return Some(ExitStatus::Code(number(code)?));
    }
    if let Some(rest) = s.strip_prefix(b"killed by signal ") {
        let (digits, core) = match rest.strip_suffix(b" (core dumped)") {
            Some(d) => (d, true),
            None => (rest, false),
        };
        return Some(ExitStatus::Signal {
            signal: number(digits)?,
            core,
        });
    }
    let inner = s.strip_prefix(b"{Code:")?.strip_suffix(b"}")?;
    let space = memchr::memchr(b' ', inner)?;
    let code = integer_prefix(&inner[..space])?;
    let signal = inner[space + 1..].strip_prefix(b"Signo:")?;
    let signal = number(signal)?;
    Some(if signal != 0 {
        ExitStatus::Signal {
            signal,
            core: false,
        }
    } else {
        ExitStatus::Code(u32::try_from(code & 0xff).ok()?)
    })
}

/// A leading integer (decimal, or `0x` hex), ignoring what follows it.
fn integer_prefix(s: &[u8]) -> Option<u64> {
    let end = s
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric()))
        .unwrap_or(s.len());
    super::args::integer(&s[..end])
}

/// `"ext3"` → `ext3` (Go's `%q`; no escapes expected in type or option names).
fn unquote(s: &[u8]) -> &[u8] {
    s.strip_prefix(b"\"")
        .and_then(|s| s.strip_suffix(b"\""))
        .unwrap_or(s)
}

/// Lines Go's runtime writes to stderr, which runsc sends to its log file.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum RuntimeLine {
    /// `panic: …`.
    Panic,
    /// `fatal error: …`.
    Fatal,
    /// `[signal SIGSEGV: …]`, `goroutine N [...]:`, a frame or its `\tfile:line` line,
    /// `created by …`, or a blank line inside a stack dump.
    Stack,
}

/// Recognises a raw Go runtime line.
pub fn runtime_line(line: &[u8]) -> Option<RuntimeLine> {
    if line.starts_with(b"panic: ") {
        return Some(RuntimeLine::Panic);
    }
    if line.starts_with(b"fatal error: ") {
        return Some(RuntimeLine::Fatal);
    }
    if line.starts_with(b"[signal ")
        || (line.starts_with(b"goroutine ") && line.ends_with(b"]:"))
        || line.starts_with(b"created by ")
        || (line.starts_with(b"\t") && memchr::memchr(b':', line).is_some())
        || is_frame(line)
    {
        return Some(RuntimeLine::Stack);
    }
    None
}

/// `pkg/path.Func(0x1, …)` or `pkg.(*T).Method(...)`: a call frame.
fn is_frame(line: &[u8]) -> bool {
    line.ends_with(b")")
        && memchr::memchr(b'(', line).is_some_and(|i| {
            let callee = &line[..i];
            i > 0 && callee.contains(&b'.') && !callee.contains(&b' ')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsupported_syscall_current_wording() {
        assert_eq!(
            classify(b"Unsupported syscall ioctl(0x3,0x5413,0x7ffc0,0x0,0x0,0x0). It is likely that you can safely ignore this message and that this is not the cause of any error. Please, refer to https://gvisor.dev/c/linux/amd64/ioctl for more information."),
            Some(Message::UnsupportedSyscall {
                name: SyscallName::Named("ioctl"),
                args: Some([3, 0x5413, 0x7ffc0, 0, 0, 0]),
            })
        );
        assert_eq!(
            classify(b"Container Sandbox: Unsupported syscall sys_451(0x0,0x0,0x0,0x0,0x0,0x0). It is likely ..."),
            Some(Message::UnsupportedSyscall {
                name: SyscallName::Number(451),
                args: Some([0; 6]),
            })
        );
    }

    #[test]
    fn unsupported_syscall_legacy_wording() {
        assert_eq!(
            classify(b"Unsupported syscall: prctl, regs: arch:<amd64:<rax:18446744073709551578 rdi:38 rsi:1 orig_rax:157 rip:4198400 > > "),
            Some(Message::UnsupportedSyscall {
                name: SyscallName::Named("prctl"),
                args: Some([38, 1, 0, 0, 0, 0]),
            })
        );
        assert_eq!(
            classify(b"Unsupported syscall: keyctl, regs: arch:<arm64:<regs:1 regs:0 regs:7 regs:0 regs:0 regs:0 regs:9 pc:1 > > "),
            Some(Message::UnsupportedSyscall {
                name: SyscallName::Named("keyctl"),
                args: Some([1, 0, 7, 0, 0, 0]),
            })
        );
        assert_eq!(
            classify(b"Unsupported syscall: bpf, regs: <nil>"),
            Some(Message::UnsupportedSyscall {
                name: SyscallName::Named("bpf"),
                args: None,
            })
        );
    }

    #[test]
    fn raw_sockets_in_every_wording() {
        let net_raw = Some(Message::RawSocket {
            needs: RawSocketFix::NetRaw,
        });
        assert_eq!(classify(b"A process tried to create a raw socket, which is disabled by default. Should the runtime config enable --net-raw?"), net_raw);
        assert_eq!(classify(b"A process tried to create a raw socket, but --net-raw was not specified. Should runsc be run with --net-raw?"), net_raw);
        assert_eq!(
            classify(b"A process tried to create a raw socket without CAP_NET_RAW. Should the container config enable CAP_NET_RAW?"),
            Some(Message::RawSocket {
                needs: RawSocketFix::CapNetRaw
            })
        );
    }

    #[test]
    fn sockopts_netfilter_netlink_keyctl_mounts_nvproxy() {
        assert_eq!(
            classify(b"Unsupported socket option: 49"),
            Some(Message::Sockopt {
                level: None,
                option: Some(49)
            })
        );
        assert_eq!(
            classify(b"SOL_IP options not supported on endpoints other than tcpip.Endpoint: option = 19, endpoint = *unix.connectionedEndpoint"),
            Some(Message::Sockopt {
                level: Some("SOL_IP"),
                option: Some(19)
            })
        );
        assert_eq!(
            classify(b"netfilter: dnatTargetMakerV4: bad proto 47"),
            Some(Message::Netfilter)
        );
        assert_eq!(
            classify(b"Nftables: Unsupported message type: 9"),
            Some(Message::Netfilter)
        );
        assert_eq!(
            classify(b"IP6T_SO_SET_ADD_COUNTERS is not supported"),
            Some(Message::Netfilter)
        );
        assert_eq!(
            classify(b"Netlink RDMA: unsupported client 5"),
            Some(Message::Netlink)
        );
        assert_eq!(
            classify(b"Unimplemented keyctl operation: 29"),
            Some(Message::Keyctl { operation: 29 })
        );
        assert_eq!(
            classify(b"ignoring unknown filesystem type \"ext4\""),
            Some(Message::MountTypeIgnored { fstype: b"ext4" })
        );
        assert_eq!(
            classify(b"ignoring unknown mount option \"nodev\""),
            Some(Message::MountOptionIgnored { option: b"nodev" })
        );
        assert_eq!(
            classify(b"nvproxy: handler is undefined for frontend ioctl 42 == 0x2a (argSize=16, cmd=0xc010462a)"),
            Some(Message::Nvproxy {
                kind: NvproxyProblem::Unsupported
            })
        );
        assert_eq!(
            classify(b"nvproxy: missing capability for allocation class 0xc7c0"),
            Some(Message::Nvproxy {
                kind: NvproxyProblem::MissingCapability
            })
        );
        assert_eq!(
            classify(b"NVIDIA driver version 999.1 is not officially supported"),
            Some(Message::Nvproxy {
                kind: NvproxyProblem::UnsupportedDriver
            })
        );
    }

    #[test]
    fn signals_in_every_wording() {
        assert_eq!(
            classify(b"Signal 11, PID: 7, TID: 8, fault addr: 0x0: terminating thread group"),
            Some(Message::Signal {
                signal: 11,
                pid: Some(7),
                tid: Some(8)
            })
        );
        assert_eq!(
            classify(b"Signal 9: terminating thread group"),
            Some(Message::Signal {
                signal: 9,
                pid: None,
                tid: None
            })
        );
        assert_eq!(
            classify(
                b"Uncaught signal: \"segmentation fault\" (11), PID: 7, TID: 8, fault addr: 0x10"
            ),
            Some(Message::Signal {
                signal: 11,
                pid: Some(7),
                tid: Some(8)
            })
        );
        assert_eq!(classify(b"Signal 9: ignored"), None);
    }

    #[test]
    fn exits_in_every_wording() {
        let app = |status| {
            Some(Message::Exit {
                status,
                scope: ExitScope::Application,
            })
        };
        assert_eq!(
            classify(b"application exiting with exit status 3"),
            app(ExitStatus::Code(3))
        );
        assert_eq!(
            classify(b"application exiting with killed by signal 11 (core dumped)"),
            app(ExitStatus::Signal {
                signal: 11,
                core: true
            })
        );
        assert_eq!(
            classify(b"application exiting with {Code:1 Signo:0}"),
            app(ExitStatus::Code(1))
        );
        assert_eq!(
            classify(b"application exiting with {Code:0 Signo:9}"),
            app(ExitStatus::Signal {
                signal: 9,
                core: false
            })
        );
        assert_eq!(
            classify(b"Exiting with status: 256"),
            Some(Message::Exit {
                status: ExitStatus::Code(1),
                scope: ExitScope::Command
            })
        );
        assert_eq!(
            classify(b"Exiting with status: 139"),
            Some(Message::Exit {
                status: ExitStatus::Signal {
                    signal: 11,
                    core: true
                },
                scope: ExitScope::Command
            })
        );
    }

    #[test]
    fn headers_and_fatal_errors() {
        assert_eq!(
            classify(b"Args: [/usr/bin/runsc --root /run/runsc --debug=true --strace boot --bundle=/b --pidns=true 0123abcd]"),
            Some(Message::Args {
                command: Some(b"boot")
            })
        );
        assert_eq!(
            classify(b"Version release-20240101.0, go1.22.0, amd64, 8 CPUs, linux, PID 42, PPID 1, UID 0, GID 0"),
            Some(Message::Version {
                version: b"release-20240101.0",
                goarch: Some(b"amd64")
            })
        );
        assert_eq!(
            classify(b"FATAL ERROR: running sandbox: boom"),
            Some(Message::FatalError)
        );
        assert_eq!(classify(b"Some other message"), None);
    }

    #[test]
    fn runtime_lines() {
        assert_eq!(
            runtime_line(b"panic: runtime error: index out of range [3] with length 3"),
            Some(RuntimeLine::Panic)
        );
        assert_eq!(
            runtime_line(b"fatal error: concurrent map writes"),
            Some(RuntimeLine::Fatal)
        );
        assert_eq!(
            runtime_line(b"goroutine 1 [running]:"),
            Some(RuntimeLine::Stack)
        );
        assert_eq!(
            runtime_line(b"gvisor.dev/gvisor/pkg/sentry/kernel.(*Task).run(0xc000, 0x1)"),
            Some(RuntimeLine::Stack)
        );
        assert_eq!(
            runtime_line(b"\tpkg/sentry/kernel/task_run.go:97 +0x1c"),
            Some(RuntimeLine::Stack)
        );
        assert_eq!(
            runtime_line(b"[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x0]"),
            Some(RuntimeLine::Stack)
        );
        assert_eq!(runtime_line(b"hello world"), None);
    }
}
