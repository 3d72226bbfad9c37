//! `--strace` lines: what follows the task prefix when runsc traces a syscall (gVisor
//! `pkg/sentry/strace/strace.go`, `printEnter`/`printExit`):
//!
//! - entry: `comm E name(arg, arg, …)`;
//! - exit:  `comm X name(arg, …) = result`, where `result` went through three formats:
//!   - before 2021-09 (`9fff9469a`): `0x3 (1.2µs)` / `0x0 errno=2 (message) (1.2µs)`;
//!   - 2021-09 to 2026-04: `3 (0x3) (1.2µs)` / `0 (0x0) errno=2 (message) (1.2µs)`;
//!   - since 2026-04 (`542d21e21`): `3 (0x3) (1.2µs)` / `-1 errno=2 (message) (1.2µs)`.
//!
//! A syscall runsc has no name for is written `sys_N` (`SyscallEnter`); `UNKNOWN[N/0xN]`
//! is accepted as well (some log shippers rewrite the name that way). Arguments may
//! be cut short (`"abc"...` for buffers over `--strace-log-size`, or a line cut by the
//! log writer); the parser keeps what is there and says the line was truncated.

/// Entry or exit.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Phase {
    /// `E`: the syscall was entered.
    Enter,
    /// `X`: it returned.
    Exit,
}

/// The syscall's name as written.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum SyscallName<'a> {
    /// A name from runsc's table, e.g. `openat`: lowercase ASCII letters, digits and
    /// `_`, as the parsers check. Kept as bytes: a name is compared and looked up on
    /// every line, and read as text only when first seen.
    Named(&'a [u8]),
    /// `sys_N` or `UNKNOWN[N/0xN]`: a number runsc has no name for.
    Number(u32),
}

impl<'a> SyscallName<'a> {
    /// The name as text; `None` for a number.
    pub fn as_str(self) -> Option<&'a str> {
        match self {
            SyscallName::Named(name) => std::str::from_utf8(name).ok(),
            SyscallName::Number(_) => None,
        }
    }
}

/// How an exit line says the call ended.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Success, with the return value.
    Returned(u64),
    /// Failure with this errno number.
    Failed(u16),
}

/// One strace line, borrowed from the log.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct StraceLine<'a> {
    /// Task name (`comm`).
    pub comm: &'a [u8],
    /// Entry or exit.
    pub phase: Phase,
    /// Syscall.
    pub name: SyscallName<'a>,
    /// The argument list between the parentheses, as written.
    pub args: &'a [u8],
    /// For exit lines: how the call ended; `None` when the result was cut off.
    pub outcome: Option<Outcome>,
    /// For a failure: how runsc described the errno (`no such file or directory`).
    pub errno_text: &'a [u8],
    /// The line ended before its argument list or result did.
    pub truncated: bool,
}

/// Parses `comm E|X name(args)[ = result]`; `None` if `rest` is not a strace line.
pub fn parse(rest: &[u8]) -> Option<StraceLine<'_>> {
    // The phase letter is the first ` E ` or ` X ` followed by a syscall name and `(`;
    // the task name before it may itself contain spaces.
    for i in memchr::memchr2_iter(b'E', b'X', rest) {
        if i == 0 || rest[i - 1] != b' ' || rest.get(i + 1) != Some(&b' ') {
            continue;
        }
        let after = &rest[i + 2..];
        let Some((name, name_len)) = syscall_name_at(after) else {
            continue;
        };
        let phase = if rest[i] == b'E' {
            Phase::Enter
        } else {
            Phase::Exit
        };
        let comm = &rest[..i - 1];
        let body = &after[name_len + 1..];
        return Some(match phase {
            Phase::Enter => {
                let (args, truncated) = match body.split_last() {
                    Some((b')', args)) => (args, false),
                    _ => (body, true),
                };
                StraceLine {
                    comm,
                    phase,
                    name,
                    args,
                    outcome: None,
                    errno_text: b"",
                    truncated,
                }
            }
            Phase::Exit => match split_result(body) {
                Some((args, outcome, errno_text)) => StraceLine {
                    comm,
                    phase,
                    name,
                    args,
                    outcome: Some(outcome),
                    errno_text,
                    truncated: false,
                },
                None => StraceLine {
                    comm,
                    phase,
                    name,
                    args: body.strip_suffix(b")").unwrap_or(body),
                    outcome: None,
                    errno_text: b"",
                    truncated: true,
                },
            },
        });
    }
    None
}

/// The bytes of a syscall name in runsc's table: lowercase letters, digits and `_`.
const NAME_BYTE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        table[b] = byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_';
        b += 1;
    }
    table
};

/// Whether `s` is a whole syscall name as runsc's table writes them.
pub fn is_name(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| NAME_BYTE[usize::from(b)])
}

/// Reads `name(` at the start of `s` (`name` also `sys_N` or `UNKNOWN[N/0xN]`);
/// returns the name and the offset of `(`.
pub fn syscall_name_at(s: &[u8]) -> Option<(SyscallName<'_>, usize)> {
    if let Some(rest) = s.strip_prefix(b"UNKNOWN[") {
        let close = memchr::memchr(b']', rest)?;
        let inside = &rest[..close];
        let slash = memchr::memchr(b'/', inside)?;
        let number = super::task::number(&inside[..slash])?;
        if inside[slash + 1..].strip_prefix(b"0x").and_then(hex) != Some(u64::from(number)) {
            return None;
        }
        let len = "UNKNOWN[".len() + close + 1;
        return (s.get(len) == Some(&b'(')).then_some((SyscallName::Number(number), len));
    }
    let len = s
        .iter()
        .position(|&b| !NAME_BYTE[usize::from(b)])
        .unwrap_or(s.len());
    if len == 0 || s.get(len) != Some(&b'(') {
        return None;
    }
    let ident = &s[..len];
    if let Some(digits) = ident.strip_prefix(b"sys_") {
        if let Some(n) = super::task::number(digits) {
            return Some((SyscallName::Number(n), len));
        }
    }
    Some((SyscallName::Named(ident), len))
}

/// Splits `args) = result` at the last `) = `, which must be followed by a well-formed
/// result (the result itself never contains one); also returns the errno's text.
fn split_result(body: &[u8]) -> Option<(&[u8], Outcome, &[u8])> {
    // The result is a few dozen bytes at the end: scanning back for `=` finds it at
    // once, where building a substring searcher per line would cost more.
    let at = memchr::memrchr_iter(b'=', body)
        .find(|&i| i >= 2 && body[i - 2..i] == *b") " && body.get(i + 1) == Some(&b' '))?
        - 2;
    let (outcome, errno_text) = parse_result(&body[at + 4..])?;
    Some((&body[..at], outcome, errno_text))
}

/// `3 (0x3) (1µs)`, `-1 errno=2 (…) (…)`, `0 (0x0) errno=2 (…) (…)`, `0x3 (1µs)`,
/// `0x0 errno=2 (…) (…)`.
fn parse_result(s: &[u8]) -> Option<(Outcome, &[u8])> {
    let token_len = memchr::memchr(b' ', s).unwrap_or(s.len());
    let token = &s[..token_len];
    let value = if let Some(h) = token.strip_prefix(b"0x") {
        hex(h)?
    } else if let Some(d) = token.strip_prefix(b"-") {
        decimal(d)?.wrapping_neg()
    } else {
        decimal(token)?
    };
    let rest = &s[token_len..];
    let errno_at = memchr::memchr_iter(b'=', rest).find(|&i| i >= 5 && rest[i - 5..i] == *b"errno");
    if let Some(at) = errno_at {
        let digits = &rest[at + 1..];
        let n = digits.iter().take_while(|b| b.is_ascii_digit()).count();
        let errno = u16::try_from(decimal(&digits[..n])?).ok()?;
        // ` (no such file or directory) (3µs)`
        let text = digits[n..]
            .strip_prefix(b" (")
            .and_then(|t| memchr::memchr(b')', t).map(|end| &t[..end]))
            .unwrap_or(b"");
        return Some((Outcome::Failed(errno), text));
    }
    // A success ends with the elapsed time in parentheses.
    if rest.is_empty() || rest.last() == Some(&b')') {
        Some((Outcome::Returned(value), b""))
    } else {
        None
    }
}

fn decimal(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    s.iter().try_fold(0u64, |n, &b| {
        b.is_ascii_digit()
            .then(|| n.checked_mul(10)?.checked_add(u64::from(b - b'0')))
            .flatten()
    })
}

/// Hex digits without `0x`.
pub fn hex(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 16 {
        return None;
    }
    s.iter().try_fold(0u64, |n, &b| {
        let d = (b as char).to_digit(16)?;
        Some(n << 4 | u64::from(d))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exit(s: &str) -> (Option<Outcome>, bool, String) {
        let line = parse(s.as_bytes()).unwrap();
        assert_eq!(line.phase, Phase::Exit);
        (
            line.outcome,
            line.truncated,
            String::from_utf8(line.args.to_vec()).unwrap(),
        )
    }

    #[test]
    fn entry_line() {
        let line =
            parse(b"my app E openat(AT_FDCWD /, 0x7f00 /proc/self/status, O_RDONLY, 0o0)").unwrap();
        assert_eq!(line.comm, b"my app");
        assert_eq!(line.phase, Phase::Enter);
        assert_eq!(line.name, SyscallName::Named(b"openat"));
        assert_eq!(
            line.args,
            b"AT_FDCWD /, 0x7f00 /proc/self/status, O_RDONLY, 0o0"
        );
        assert_eq!(line.outcome, None);
        assert!(!line.truncated);
    }

    #[test]
    fn exit_results_in_all_three_generations() {
        let ok = (Some(Outcome::Returned(3)), false, "0x1".to_owned());
        let enoent = (Some(Outcome::Failed(2)), false, "0x1".to_owned());
        assert_eq!(exit("sh X dup(0x1) = 0x3 (1.2µs)"), ok);
        assert_eq!(exit("sh X dup(0x1) = 3 (0x3) (1.2µs)"), ok);
        assert_eq!(
            exit("sh X dup(0x1) = 0x0 errno=2 (no such file or directory) (3µs)"),
            enoent
        );
        assert_eq!(
            exit("sh X dup(0x1) = 0 (0x0) errno=2 (no such file or directory) (3µs)"),
            enoent
        );
        assert_eq!(
            exit("sh X dup(0x1) = -1 errno=2 (no such file or directory) (3µs)"),
            enoent
        );
        assert_eq!(
            exit("sh X mmap(0x0) = 140737488351232 (0x7ffffffff000) (1µs)").0,
            Some(Outcome::Returned(0x7fff_ffff_f000))
        );
    }

    #[test]
    fn result_found_after_buffers_that_contain_the_separator() {
        assert_eq!(
            exit(r#"sh X write(0x1, 0x7f00 "a) = b", 0x6) = 6 (0x6) (2µs)"#),
            (
                Some(Outcome::Returned(6)),
                false,
                r#"0x1, 0x7f00 "a) = b", 0x6"#.to_owned()
            )
        );
    }

    #[test]
    fn truncated_lines_keep_what_is_there() {
        assert_eq!(
            exit(r#"sh X write(0x1, 0x7f00 "abc"..."#),
            (None, true, r#"0x1, 0x7f00 "abc"..."#.to_owned())
        );
        let line = parse(b"sh E write(0x1, 0x7f00 \"ab").unwrap();
        assert!(line.truncated);
        assert_eq!(line.args, b"0x1, 0x7f00 \"ab");
    }

    #[test]
    fn unknown_syscall_numbers() {
        let line = parse(b"sh E sys_451(0x1, 0x2)").unwrap();
        assert_eq!(line.name, SyscallName::Number(451));
        let line =
            parse(b"sh X UNKNOWN[451/0x1c3](0x1) = -1 errno=38 (function not implemented) (1us)")
                .unwrap();
        assert_eq!(line.name, SyscallName::Number(451));
        assert_eq!(line.outcome, Some(Outcome::Failed(38)));
        assert_eq!(parse(b"sh E UNKNOWN[451/0x1c4](0x1)"), None);
    }

    #[test]
    fn task_names_that_look_like_phases() {
        let line = parse(b"X E Y E getpid()").unwrap();
        assert_eq!(line.comm, b"X E Y");
        assert_eq!(line.name, SyscallName::Named(b"getpid"));
        assert_eq!(line.args, b"");
    }

    #[test]
    fn not_strace() {
        for s in [
            &b"Signal 9, PID: 1, TID: 1, fault addr: 0x0: terminating thread group"[..],
            b"sh E Getpid()",
            b"sh E getpid",
            b"",
        ] {
            assert_eq!(parse(s), None);
        }
    }
}
