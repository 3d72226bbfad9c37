//! The task prefix runsc puts in front of every message a task logs (gVisor
//! `pkg/sentry/kernel/task_log.go`, `updateInfoLocked`), in its three generations:
//!
//! - before 2021-09 (`9fff9469a`): `[ tid] `, the thread id in the root pid namespace;
//! - since then: `[ pid: tid] `, both padded with `% 4d`;
//! - since 2023-06 (`6422ef409`), for a task in a nested pid namespace:
//!   `[ rootpid(  pid): roottid(  tid)] `, root ids first, then the task's own.

/// Ids from a task prefix. The root-namespace ids identify the task across the log.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskIds {
    /// Thread-group id in the root pid namespace; absent in the oldest format.
    pub pid: Option<u32>,
    /// Thread id in the root pid namespace.
    pub tid: u32,
    /// Ids in the task's own pid namespace, when they differ from the root ones.
    pub namespaced: Option<(u32, u32)>,
}

/// Parses a task prefix at the start of `message`; returns the ids and the rest of the
/// message after `] `.
pub fn parse_prefix(message: &[u8]) -> Option<(TaskIds, &[u8])> {
    if message.first() != Some(&b'[') {
        return None;
    }
    if let Some(fast) = parse_common(message) {
        return Some(fast);
    }
    let close = memchr::memchr(b']', message)?;
    let inside = &message[1..close];
    let rest = message.get(close + 1..)?;
    let rest = rest.strip_prefix(b" ").unwrap_or(rest);
    let ids = match memchr::memchr(b':', inside) {
        None => {
            let (tid, ns) = id_pair(inside)?;
            if ns.is_some() {
                return None;
            }
            TaskIds {
                pid: None,
                tid,
                namespaced: None,
            }
        }
        Some(colon) => {
            let (pid, ns_pid) = id_pair(&inside[..colon])?;
            let (tid, ns_tid) = id_pair(&inside[colon + 1..])?;
            let namespaced = match (ns_pid, ns_tid) {
                (Some(p), Some(t)) => Some((p, t)),
                (None, None) => None,
                _ => return None,
            };
            TaskIds {
                pid: Some(pid),
                tid,
                namespaced,
            }
        }
    };
    Some((ids, rest))
}

/// The common case, without searching: `[ pid: tid] ` with both numbers written
/// `% 4d` (one to four digits, space-padded) or wider with no padding.
fn parse_common(message: &[u8]) -> Option<(TaskIds, &[u8])> {
    let (pid, at) = padded_number(message, 1)?;
    if message.get(at) != Some(&b':') {
        return None;
    }
    let (tid, at) = padded_number(message, at + 1)?;
    if message.get(at) != Some(&b']') {
        return None;
    }
    let rest = &message[at + 1..];
    Some((
        TaskIds {
            pid: Some(pid),
            tid,
            namespaced: None,
        },
        rest.strip_prefix(b" ").unwrap_or(rest),
    ))
}

/// Spaces then 1–10 digits from `at`; the number and the index after it.
fn padded_number(s: &[u8], mut at: usize) -> Option<(u32, usize)> {
    while s.get(at) == Some(&b' ') {
        at += 1;
    }
    let start = at;
    let mut n: u64 = 0;
    while let Some(&b) = s.get(at).filter(|b| b.is_ascii_digit()) {
        n = n * 10 + u64::from(b - b'0');
        at += 1;
        if at - start > 10 {
            return None;
        }
    }
    if at == start {
        return None;
    }
    Some((u32::try_from(n).ok()?, at))
}

/// ` 12` or ` 12(   3)`: a root id, optionally followed by the namespaced id.
fn id_pair(s: &[u8]) -> Option<(u32, Option<u32>)> {
    let s = trim_spaces(s);
    match memchr::memchr(b'(', s) {
        None => Some((number(s)?, None)),
        Some(open) => {
            let inner = s[open + 1..].strip_suffix(b")")?;
            Some((
                number(trim_spaces(&s[..open]))?,
                Some(number(trim_spaces(inner))?),
            ))
        }
    }
}

fn trim_spaces(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&b| b != b' ').unwrap_or(s.len());
    let end = s.iter().rposition(|&b| b != b' ').map_or(start, |i| i + 1);
    &s[start..end]
}

/// A decimal u32 with no sign and no padding.
pub fn number(s: &[u8]) -> Option<u32> {
    if s.is_empty() || s.len() > 10 {
        return None;
    }
    let mut n: u64 = 0;
    for &b in s {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n * 10 + u64::from(b - b'0');
    }
    u32::try_from(n).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_generations() {
        assert_eq!(
            parse_prefix(b"[   7] sh E getpid()"),
            Some((
                TaskIds {
                    pid: None,
                    tid: 7,
                    namespaced: None
                },
                &b"sh E getpid()"[..]
            ))
        );
        assert_eq!(
            parse_prefix(b"[   7:   9] sh E getpid()"),
            Some((
                TaskIds {
                    pid: Some(7),
                    tid: 9,
                    namespaced: None
                },
                &b"sh E getpid()"[..]
            ))
        );
        assert_eq!(
            parse_prefix(b"[  12(   1):  13(   2)] sh E getpid()"),
            Some((
                TaskIds {
                    pid: Some(12),
                    tid: 13,
                    namespaced: Some((1, 2))
                },
                &b"sh E getpid()"[..]
            ))
        );
        assert_eq!(
            parse_prefix(b"[ 123456: 123457] x"),
            Some((
                TaskIds {
                    pid: Some(123456),
                    tid: 123457,
                    namespaced: None
                },
                &b"x"[..]
            ))
        );
    }

    #[test]
    fn not_prefixes() {
        for s in [
            &b"[]"[..],
            b"[ a: 1] x",
            b"[ 1(2): 3] x",
            b"[ 1(2] x",
            b"[ 99999999999: 1] x",
            b"no bracket",
            b"[ 1: 2 unterminated",
        ] {
            assert_eq!(parse_prefix(s), None, "{}", String::from_utf8_lossy(s));
        }
    }
}
