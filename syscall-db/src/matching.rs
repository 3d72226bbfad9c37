//! The path glob dialect rules use for /proc, /sys and /dev: validation, and matching
//! through a compiled form that shares work between brace alternatives. Conditions as
//! a whole are evaluated by the compiled rule index.

/// Matches `path` against `pattern`: `*` is any run of characters except `/`, `**` any
/// run including `/`, `{a,b}` either alternative; every other character (`#` included)
/// matches itself.
pub fn glob_matches(pattern: &str, path: &str) -> bool {
    Glob::new(pattern).matches(path)
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

/// A glob parsed once. A brace group stays one token, so `/proc/{self,#}/{a,b,c}`
/// matches `/proc/` once and each alternative of the second group only after one of
/// the first has matched, instead of trying six expanded patterns from the start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Glob {
    tokens: Vec<Token>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    /// Bytes that match themselves.
    Literal(Box<[u8]>),
    /// `*`: any run without `/`.
    Star,
    /// `**`: any run.
    DoubleStar,
    /// `{a,b}`: any one of these sequences.
    Alternatives(Vec<Vec<Token>>),
}

/// What must match after the tokens at hand: a stack of token runs, innermost first.
struct Rest<'a> {
    tokens: &'a [Token],
    then: Option<&'a Rest<'a>>,
}

impl Glob {
    /// Parses `pattern`. An unbalanced `{` or `}` is taken literally (validation rejects
    /// such patterns in rules).
    pub(crate) fn new(pattern: &str) -> Glob {
        Glob {
            tokens: tokens(pattern, true),
        }
    }

    /// Whether `path` matches the whole pattern.
    pub(crate) fn matches(&self, path: &str) -> bool {
        run(&self.tokens, None, path.as_bytes())
    }
}

fn tokens(pattern: &str, braces: bool) -> Vec<Token> {
    let mut out = Vec::new();
    let mut literal = Vec::new();
    let mut rest = pattern;
    let flush = |literal: &mut Vec<u8>, out: &mut Vec<Token>| {
        if !literal.is_empty() {
            out.push(Token::Literal(std::mem::take(literal).into_boxed_slice()));
        }
    };
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("**") {
            flush(&mut literal, &mut out);
            out.push(Token::DoubleStar);
            rest = after;
        } else if let Some(after) = rest.strip_prefix('*') {
            flush(&mut literal, &mut out);
            out.push(Token::Star);
            rest = after;
        } else if let Some((group, after)) = braces
            .then(|| rest.strip_prefix('{')?.split_once('}'))
            .flatten()
        {
            flush(&mut literal, &mut out);
            let alternatives = group.split(',').map(|alt| tokens(alt, false)).collect();
            out.push(Token::Alternatives(alternatives));
            rest = after;
        } else {
            let mut bytes = [0; 4];
            literal.extend_from_slice(c.encode_utf8(&mut bytes).as_bytes());
            rest = &rest[c.len_utf8()..];
        }
    }
    flush(&mut literal, &mut out);
    out
}

fn run(tokens: &[Token], then: Option<&Rest<'_>>, path: &[u8]) -> bool {
    let Some((token, rest)) = tokens.split_first() else {
        return match then {
            Some(next) => run(next.tokens, next.then, path),
            None => path.is_empty(),
        };
    };
    match token {
        // The first byte alone rules out most alternatives, without a memcmp call.
        Token::Literal(bytes) => {
            path.first() == bytes.first()
                && path.starts_with(bytes)
                && run(rest, then, &path[bytes.len()..])
        }
        Token::Star => {
            let component = path.iter().position(|&c| c == b'/').unwrap_or(path.len());
            (0..=component).any(|i| run(rest, then, &path[i..]))
        }
        Token::DoubleStar => (0..=path.len()).any(|i| run(rest, then, &path[i..])),
        Token::Alternatives(alternatives) => {
            let after = Rest { tokens: rest, then };
            alternatives
                .iter()
                .any(|alternative| run(alternative, Some(&after), path))
        }
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
    fn groups_combine_and_stars_work_inside_them() {
        let g = Glob::new("/a/{b,c*}/{d,**/e}");
        for path in ["/a/b/d", "/a/c/d", "/a/cx/d", "/a/b/x/y/e", "/a/cz/q/e"] {
            assert!(g.matches(path), "{path}");
        }
        for path in [
            "/a/b/x/d", "/a/c/x/d", "/a/b", "/a/d/d", "/a/b/d/", "/a/cz/e",
        ] {
            assert!(!g.matches(path), "{path}");
        }
        assert!(glob_matches("/proc/{", "/proc/{"));
        assert!(glob_matches("/dev/net/tun", "/dev/net/tun"));
        assert!(!glob_matches("/dev/net/tun", "/dev/net/tun0"));
    }
}
