//! Parsers for the wordings of the messages [`super::classify`] recognises itself.

use super::{ExitStatus, Message, ShownArgs};
use crate::runsc_log::strace::{hex, is_name, syscall_name_at, SyscallName};
use crate::runsc_log::task::number;

/// Both wordings of the unimplemented-syscall event.
pub(super) fn unsupported_syscall(message: &[u8]) -> Option<Message<'_>> {
    if let Some(rest) = message.strip_prefix(b"Unsupported syscall: ") {
        // 2018-10 to 2020-05: `Unsupported syscall: name, regs: <proto text>`.
        let comma = memchr::memchr(b',', rest).unwrap_or(rest.len());
        let name = syscall_name(&rest[..comma])?;
        let args = rest
            .get(comma..)
            .and_then(|r| r.strip_prefix(b", regs: "))
            .and_then(legacy_register_args)
            .map(|values| ShownArgs { values, count: 6 })
            .unwrap_or_default();
        return Some(Message::UnsupportedSyscall { name, args });
    }
    let rest = message.strip_prefix(b"Unsupported syscall ")?;
    let open = memchr::memchr(b'(', rest)?;
    let name = syscall_name(&rest[..open])?;
    // A log console may cut the message short (`setsockopt(0x12e,0x1,0xd,…`): keep the
    // arguments shown in full.
    let inner = &rest[open + 1..];
    let inner = &inner[..memchr::memchr(b')', inner).unwrap_or(inner.len())];
    let mut args = ShownArgs::default();
    for (slot, arg) in args.values.iter_mut().zip(inner.split(|&b| b == b',')) {
        match arg.strip_prefix(b"0x").and_then(hex) {
            Some(value) => *slot = value,
            None => break,
        }
        args.count += 1;
    }
    Some(Message::UnsupportedSyscall { name, args })
}

/// `name`, `sys_N`, or `UNKNOWN[N/0xN]` (how Cloud Run's console names numbers the
/// reporting release had no name for).
fn syscall_name(s: &[u8]) -> Option<SyscallName<'_>> {
    if s.starts_with(b"UNKNOWN[") {
        let mut with_paren = s.to_vec();
        with_paren.push(b'(');
        return match syscall_name_at(&with_paren)? {
            (SyscallName::Number(n), len) if len == s.len() => Some(SyscallName::Number(n)),
            _ => None,
        };
    }
    if !is_name(s) {
        return None;
    }
    if let Some(n) = s.strip_prefix(b"sys_").and_then(number) {
        return Some(SyscallName::Number(n));
    }
    Some(SyscallName::Named(s))
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
        let Some(value) = crate::runsc_log::args::integer(value) else {
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

pub(super) fn args_line(message: &[u8]) -> Option<Message<'_>> {
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

/// `Signal N: terminating thread group` and
/// `Signal N, PID: P, TID: T, fault addr: 0x…: terminating thread group`.
pub(super) fn task_signal(message: &[u8]) -> Option<Message<'_>> {
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
pub(super) fn uncaught_signal(message: &[u8]) -> Option<Message<'_>> {
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

/// `exit status 1`, `killed by signal 9`, `killed by signal 11 (core dumped)`, and the
/// pre-2021 `{Code:1 Signo:0}`.
pub(super) fn exit_status_text(s: &[u8]) -> Option<ExitStatus> {
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
    crate::runsc_log::args::integer(&s[..end])
}
