//! Evaluating a rule [`Condition`] against one captured field value, including the path
//! glob dialect rules use for /proc, /sys and /dev.

use crate::model::{Condition, FieldValue, Value};

/// Whether `condition` holds for `value`. `resolve` maps a symbolic name to its number
/// (the constants of the field's group on the profile's arch); a name that does not
/// resolve never matches an integer.
pub(crate) fn holds(
    condition: &Condition,
    value: &FieldValue,
    resolve: impl Fn(&str) -> Option<u64>,
) -> bool {
    match condition {
        Condition::Eq(expected) => equals(expected, value, &resolve),
        Condition::In(options) => options.iter().any(|o| equals(o, value, &resolve)),
        Condition::AnyBits(bits) => match value {
            FieldValue::Int(v) => {
                let mask = bits
                    .iter()
                    .filter_map(|b| number(b, &resolve))
                    .fold(0, |acc, b| acc | b);
                v & mask != 0
            }
            FieldValue::Str(_) => false,
        },
        Condition::Prefix(prefix) => {
            matches!(value, FieldValue::Str(s) if s.starts_with(prefix.as_str()))
        }
        Condition::Glob(pattern) => {
            matches!(value, FieldValue::Str(s) if glob_matches(pattern, s))
        }
    }
}

fn equals(expected: &Value, value: &FieldValue, resolve: &impl Fn(&str) -> Option<u64>) -> bool {
    match (expected, value) {
        (Value::Name(name), FieldValue::Str(s)) => name == s,
        (expected, FieldValue::Int(v)) => number(expected, resolve) == Some(*v),
        (Value::Number(_), FieldValue::Str(_)) => false,
    }
}

fn number(value: &Value, resolve: &impl Fn(&str) -> Option<u64>) -> Option<u64> {
    match value {
        Value::Number(n) => Some(*n),
        Value::Name(name) => resolve(name),
    }
}

/// Matches `path` against `pattern`: `*` is any run of characters except `/`, `**` any
/// run including `/`, `{a,b}` either alternative; every other character (`#` included)
/// matches itself.
pub fn glob_matches(pattern: &str, path: &str) -> bool {
    match expand_first_brace(pattern) {
        Some(alternatives) => alternatives.iter().any(|p| glob_matches(p, path)),
        None => match_star(pattern.as_bytes(), path.as_bytes()),
    }
}

/// Whether `pattern` is well formed: braces balanced and not nested, no empty pattern.
pub fn glob_is_valid(pattern: &str) -> bool {
    let mut depth = 0usize;
    for c in pattern.chars() {
        match c {
            '{' if depth == 0 => depth = 1,
            '}' if depth == 1 => depth = 0,
            '{' | '}' => return false,
            _ => {}
        }
    }
    depth == 0 && !pattern.is_empty()
}

/// The pattern with its first `{...}` group replaced by each alternative in turn.
fn expand_first_brace(pattern: &str) -> Option<Vec<String>> {
    let open = pattern.find('{')?;
    let close = open + pattern[open..].find('}')?;
    let (head, tail) = (&pattern[..open], &pattern[close + 1..]);
    Some(
        pattern[open + 1..close]
            .split(',')
            .map(|alt| format!("{head}{alt}{tail}"))
            .collect(),
    )
}

fn match_star(pattern: &[u8], path: &[u8]) -> bool {
    match pattern {
        [] => path.is_empty(),
        [b'*', b'*', rest @ ..] => (0..=path.len()).any(|i| match_star(rest, &path[i..])),
        [b'*', rest @ ..] => {
            let component = path.iter().position(|&c| c == b'/').unwrap_or(path.len());
            (0..=component).any(|i| match_star(rest, &path[i..]))
        }
        [c, rest @ ..] => path.first() == Some(c) && match_star(rest, &path[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_star_stays_in_one_component() {
        assert!(glob_matches("/proc/#/*", "/proc/#/status"));
        assert!(!glob_matches("/proc/#/*", "/proc/#/task/#/status"));
        assert!(glob_matches("/proc/#/task/*/stat", "/proc/#/task/#/stat"));
    }

    #[test]
    fn double_star_crosses_components() {
        assert!(glob_matches(
            "/sys/fs/cgroup/**",
            "/sys/fs/cgroup/a/b/memory.max"
        ));
        assert!(glob_matches("/sys/**/uevent", "/sys/devices/x/uevent"));
        assert!(!glob_matches("/sys/**/uevent", "/proc/uevent"));
    }

    #[test]
    fn braces_and_hash() {
        let p = "/proc/{self,thread-self,#}/smaps_rollup";
        assert!(glob_matches(p, "/proc/self/smaps_rollup"));
        assert!(glob_matches(p, "/proc/#/smaps_rollup"));
        assert!(!glob_matches(p, "/proc/1/smaps_rollup"));
        assert!(!glob_matches(p, "/proc/#/smaps"));
        assert!(glob_is_valid(p));
        assert!(!glob_is_valid("/proc/{a,{b}}"));
        assert!(!glob_is_valid("/proc/{a"));
    }

    #[test]
    fn integer_conditions() {
        let resolve = |name: &str| match name {
            "AF_NETLINK" => Some(16),
            "CLONE_NEWNET" => Some(0x4000_0000),
            _ => None,
        };
        let v = FieldValue::Int(16);
        assert!(holds(
            &Condition::Eq(Value::Name("AF_NETLINK".into())),
            &v,
            resolve
        ));
        assert!(holds(&Condition::Eq(Value::Number(16)), &v, resolve));
        assert!(!holds(
            &Condition::Eq(Value::Name("AF_UNKNOWN".into())),
            &v,
            resolve
        ));
        assert!(holds(
            &Condition::In(vec![Value::Number(2), Value::Name("AF_NETLINK".into())]),
            &v,
            resolve
        ));
        let flags = FieldValue::Int(0x4000_0000 | 0x100);
        assert!(holds(
            &Condition::AnyBits(vec![Value::Name("CLONE_NEWNET".into())]),
            &flags,
            resolve
        ));
        assert!(!holds(
            &Condition::AnyBits(vec![Value::Number(0x8)]),
            &flags,
            resolve
        ));
    }

    #[test]
    fn string_conditions() {
        let path = FieldValue::Str("/dev/net/tun".into());
        assert!(holds(&Condition::Prefix("/dev/net/".into()), &path, |_| {
            None
        }));
        assert!(holds(
            &Condition::Eq(Value::Name("/dev/net/tun".into())),
            &path,
            |_| None
        ));
        assert!(!holds(&Condition::Eq(Value::Number(1)), &path, |_| None));
        assert!(!holds(
            &Condition::Prefix("/dev".into()),
            &FieldValue::Int(1),
            |_| None
        ));
    }
}
