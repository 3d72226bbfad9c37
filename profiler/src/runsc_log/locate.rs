//! Finding runsc's text inside a line as it reached the engineer: behind a line number
//! (`cat -n`, an editor or issue tracker, also glued to the text), a `grep -n` or
//! `grep -Hn` prefix, `kubectl logs --prefix` and `--timestamps`, or a Cloud Logging text
//! export's timestamp and resource columns. What was in front is kept: the line number
//! it printed is the line in the original log (evidence cites it), and a pod, file or
//! resource name tells interleaved logs apart.
//!
//! Most lines of a log start with runsc's own text, so that is checked first, at no
//! cost; only other lines are searched, for a glog header anywhere in them (its
//! `hh:mm:ss.uuuuuu` shape is tried at each `:`), else for known prefixes in front of
//! text that has no header (strace lines and messages pasted without one).

use super::envelope::looks_like_glog;

/// What was found in front of runsc's text.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Prefixes(u8);

impl Prefixes {
    /// A line number (`cat -n`, an editor).
    pub const LINE_NUMBER: Prefixes = Prefixes(1);
    /// `grep -n` / `grep -Hn`.
    pub const GREP: Prefixes = Prefixes(2);
    /// `kubectl logs --prefix`.
    pub const KUBECTL: Prefixes = Prefixes(4);
    /// An RFC 3339 timestamp (`kubectl logs --timestamps`, log exports).
    pub const TIMESTAMP: Prefixes = Prefixes(8);
    /// A Cloud Logging text export's resource column.
    pub const CLOUD_LOGGING: Prefixes = Prefixes(16);
    /// Something else, in front of a glog header.
    pub const OTHER: Prefixes = Prefixes(32);

    const NAMES: [(Prefixes, &'static str); 6] = [
        (Prefixes::LINE_NUMBER, "line numbers"),
        (Prefixes::GREP, "grep"),
        (Prefixes::KUBECTL, "kubectl --prefix"),
        (Prefixes::TIMESTAMP, "timestamps"),
        (Prefixes::CLOUD_LOGGING, "Cloud Logging"),
        (Prefixes::OTHER, "other text"),
    ];

    /// Whether none was found.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The names of the prefixes found.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        Self::NAMES
            .into_iter()
            .filter(move |(p, _)| self.0 & p.0 != 0)
            .map(|(_, name)| name)
    }

    fn add(&mut self, other: Prefixes) {
        self.0 |= other.0;
    }
}

/// A line with the prefixes in front of runsc's text taken off.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Located<'a> {
    /// runsc's text (or what is left, when nothing in it is runsc's).
    pub content: &'a [u8],
    /// The line number printed in front of it.
    pub source_line: Option<u64>,
    /// A pod and container (`kubectl --prefix`), file (`grep -H`) or resource name
    /// (Cloud Logging) in front of it.
    pub tag: Option<&'a [u8]>,
    /// The prefixes found.
    pub prefixes: Prefixes,
}

impl<'a> Located<'a> {
    /// `content` as it is, with nothing in front.
    pub fn plain(content: &'a [u8]) -> Self {
        Located {
            content,
            source_line: None,
            tag: None,
            prefixes: Prefixes::default(),
        }
    }
}

/// Finds runsc's text in `line`.
pub fn locate(line: &[u8]) -> Located<'_> {
    if looks_like_glog(line) || line.first() == Some(&b'{') {
        return Located::plain(line);
    }
    let stripped = strip_prefixes(line);
    if looks_like_glog(stripped.content) || stripped.prefixes.is_empty() && !has_colon(line) {
        return stripped;
    }
    if let Some(at) = find_glog(line) {
        let mut front = strip_prefixes(&line[..at]);
        // What is left in front is a line number (glued, or with a space after it), or
        // something unknown.
        let rest = trim_blanks(front.content);
        if !rest.is_empty() {
            if let Some(n) = all_digits(rest) {
                front.source_line = Some(n);
                front.prefixes.add(Prefixes::LINE_NUMBER);
            } else {
                front.prefixes.add(Prefixes::OTHER);
            }
        }
        front.content = &line[at..];
        return front;
    }
    stripped
}

fn has_colon(line: &[u8]) -> bool {
    memchr::memchr(b':', line).is_some()
}

/// The start of a glog header anywhere in `line`: its stamp's first `:` is 8 bytes after
/// the level letter.
fn find_glog(line: &[u8]) -> Option<usize> {
    memchr::memchr_iter(b':', line)
        .filter(|&colon| colon >= 8)
        .map(|colon| colon - 8)
        .find(|&start| looks_like_glog(&line[start..]))
}

/// Takes known prefixes off the front of `line`, in any order they come in.
fn strip_prefixes(line: &[u8]) -> Located<'_> {
    let mut out = Located::plain(line);
    let mut after_timestamp = false;
    for _ in 0..6 {
        let rest = out.content;
        if let Some((tag, len)) = kubectl_prefix(rest) {
            out.tag = Some(tag);
            out.prefixes.add(Prefixes::KUBECTL);
            out.content = &rest[len..];
        } else if let Some(len) = rfc3339_prefix(rest) {
            out.prefixes.add(Prefixes::TIMESTAMP);
            out.content = &rest[len..];
            after_timestamp = true;
            continue;
        } else if let Some((tag, len)) = after_timestamp.then(|| column(rest)).flatten() {
            out.tag = Some(tag);
            out.prefixes.add(Prefixes::CLOUD_LOGGING);
            out.content = &rest[len..];
        } else if let Some((number, len)) = line_number(rest) {
            out.source_line = Some(number);
            out.prefixes.add(Prefixes::LINE_NUMBER);
            out.content = &rest[len..];
        } else if let Some((file, number, len)) = grep_prefix(rest) {
            if file.is_some() {
                out.tag = file;
            }
            out.source_line = Some(number);
            out.prefixes.add(Prefixes::GREP);
            out.content = &rest[len..];
        } else {
            break;
        }
        after_timestamp = false;
    }
    out
}

/// `[pod/name/container] `: a bracket with no spaces and a `/` in it (a task prefix has
/// neither).
fn kubectl_prefix(s: &[u8]) -> Option<(&[u8], usize)> {
    let inner = s.strip_prefix(b"[")?;
    let close = memchr::memchr2(b']', b' ', inner)?;
    if inner[close] != b']' || !inner[..close].contains(&b'/') {
        return None;
    }
    let after = close + 2;
    (s.get(after) == Some(&b' ')).then_some((&inner[..close], after + 1))
}

/// `2026-12-01T22:20:16.046634Z ` (fraction and zone optional; `+hh:mm` zones too),
/// followed by a space or tab.
fn rfc3339_prefix(s: &[u8]) -> Option<usize> {
    const DIGITS: [usize; 14] = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18];
    if s.len() < 20
        || !DIGITS.iter().all(|&i| s[i].is_ascii_digit())
        || s[4] != b'-'
        || s[7] != b'-'
        || !matches!(s[10], b'T' | b' ')
        || s[13] != b':'
        || s[16] != b':'
    {
        return None;
    }
    let mut i = 19;
    if s.get(i) == Some(&b'.') {
        i += 1;
        while s.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    match s.get(i) {
        Some(b'Z') => i += 1,
        Some(b'+' | b'-') if s.len() >= i + 6 && s[i + 3] == b':' => i += 6,
        _ => {}
    }
    // Cloud Logging's console writes ` UTC` after the time.
    if s[i..].starts_with(b" UTC") {
        i += 4;
    }
    match s.get(i) {
        Some(b' ' | b'\t') => Some(i + 1 + skip_blanks(&s[i + 1..])),
        _ => None,
    }
}

/// A tab-separated column after a timestamp: `name\t`.
fn column(s: &[u8]) -> Option<(&[u8], usize)> {
    let tab = memchr::memchr(b'\t', s)?;
    let name = &s[..tab];
    (!name.is_empty() && !name.contains(&b' ')).then_some((name, tab + 1))
}

/// `   241\t` (`cat -n`): optional spaces, digits, a tab.
fn line_number(s: &[u8]) -> Option<(u64, usize)> {
    let spaces = s.iter().take_while(|&&b| b == b' ').count();
    let digits = s[spaces..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    let end = spaces + digits;
    if digits == 0 || s.get(end) != Some(&b'\t') {
        return None;
    }
    Some((all_digits(&s[spaces..end])?, end + 1))
}

/// `1234:` or `1234-` (`grep -n`, context lines), or `file:1234:` (`grep -Hn`).
fn grep_prefix(s: &[u8]) -> Option<(Option<&[u8]>, u64, usize)> {
    let digits = s.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits > 0 && matches!(s.get(digits), Some(b':' | b'-')) {
        let number = all_digits(&s[..digits])?;
        // `12:34:56` is a time, not a line number.
        if s.get(digits + 1).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        return Some((None, number, digits + 1));
    }
    let colon = memchr::memchr2(b':', b' ', s)?;
    if s[colon] != b':' || colon == 0 {
        return None;
    }
    let rest = &s[colon + 1..];
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || !matches!(rest.get(digits), Some(b':' | b'-')) {
        return None;
    }
    Some((
        Some(&s[..colon]),
        all_digits(&rest[..digits])?,
        colon + 1 + digits + 1,
    ))
}

fn trim_blanks(s: &[u8]) -> &[u8] {
    let start = skip_blanks(s);
    let end = s
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(start, |i| i + 1);
    &s[start..end.max(start)]
}

fn skip_blanks(s: &[u8]) -> usize {
    s.iter().take_while(|&&b| b == b' ' || b == b'\t').count()
}

/// A decimal number of at most 18 digits (line numbers; more is not one).
fn all_digits(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 18 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0u64, |n, &b| n * 10 + u64::from(b - b'0')))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GLOG: &str = "I1201 22:20:16.046634   29559 strace.go:570] [   1:   1] sysctl E brk(0x0)";

    /// What was found: the content, the line number, the tag, the prefixes' names.
    type Found = (String, Option<u64>, Option<String>, Vec<&'static str>);

    fn found(line: &str) -> Found {
        let l = locate(line.as_bytes());
        (
            String::from_utf8(l.content.to_vec()).unwrap(),
            l.source_line,
            l.tag.map(|t| String::from_utf8(t.to_vec()).unwrap()),
            l.prefixes.names().collect(),
        )
    }

    #[test]
    fn every_prefix_in_front_of_a_glog_line() {
        let g = GLOG.to_owned();
        type Case<'a> = (String, Option<u64>, Option<&'a str>, Vec<&'a str>);
        let cases: [Case<'_>; 8] = [
            (g.clone(), None, None, vec![]),
            (
                format!("   241\t{g}"),
                Some(241),
                None,
                vec!["line numbers"],
            ),
            (
                format!("  21579 {g}"),
                Some(21579),
                None,
                vec!["line numbers"],
            ),
            (format!("239{g}"), Some(239), None, vec!["line numbers"]),
            (format!("1234:{g}"), Some(1234), None, vec!["grep"]),
            (
                format!("runsc.log.20261201.boot.txt:3:{g}"),
                Some(3),
                Some("runsc.log.20261201.boot.txt"),
                vec!["grep"],
            ),
            (
                format!("[pod/keyutils-7d9/app] 2026-12-01T22:23:05.615313000Z {g}"),
                None,
                Some("pod/keyutils-7d9/app"),
                vec!["kubectl --prefix", "timestamps"],
            ),
            (
                format!("2026-12-01T22:23:04.495676000Z\tsysctl-00001-zb4\t{g}"),
                None,
                Some("sysctl-00001-zb4"),
                vec!["timestamps", "Cloud Logging"],
            ),
        ];
        for (line, number, tag, prefixes) in cases {
            assert_eq!(
                found(&line),
                (g.clone(), number, tag.map(str::to_owned), prefixes),
                "{line}"
            );
        }
        assert_eq!(found(&format!("whatever here {g}")).3, vec!["other text"]);
    }

    #[test]
    fn prefixes_in_front_of_text_without_a_header() {
        assert_eq!(
            found("[pod/x-0/app] Container Sandbox: Unsupported syscall bpf(0x0)"),
            (
                "Container Sandbox: Unsupported syscall bpf(0x0)".to_owned(),
                None,
                Some("pod/x-0/app".to_owned()),
                vec!["kubectl --prefix"]
            )
        );
        assert_eq!(
            found("2026-12-01 22:20:16.046 UTC\tsvc-00001\tContainer Sandbox: x"),
            (
                "Container Sandbox: x".to_owned(),
                None,
                Some("svc-00001".to_owned()),
                vec!["timestamps", "Cloud Logging"]
            )
        );
        assert_eq!(found("    12\tpanic: boom").0, "panic: boom".to_owned());
        // Not prefixes: a task prefix, a time, a headerless strace line.
        for line in [
            "[   1:   1] sh E getpid()",
            "12:34:56 x",
            "python3 X brk(0x0) = 0 (0x0) (1µs)",
            "  \"ociVersion\": \"1.0.0\",",
        ] {
            assert_eq!(found(line), (line.to_owned(), None, None, vec![]), "{line}");
        }
    }
}
