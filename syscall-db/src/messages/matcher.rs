//! Matching a message's text against the catalogue's wordings.
//!
//! A wording is literal text with `{name}` captures; a capture runs to the next literal
//! (its first occurrence) or to the end of the text. Every wording starts with a literal,
//! so wordings are bucketed by their first byte and a line is rejected after one
//! comparison in the common case: runsc's debug logs are mostly messages no wording
//! names, and this runs on each of them. Text after a wording's last literal is allowed
//! (runsc appends details to some messages), and a text cut short by a log console (it
//! ends in `…` or `...`) matches the wording it is a prefix of.

use std::fmt::Write as _;

use super::{Message, Recognised, TaskPrefix};
use crate::error::Problem;

/// Values a wording captured, by name, in wording order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Captures {
    values: Vec<(String, String)>,
}

impl Captures {
    /// Captures from `(name, value)` pairs.
    pub fn from_pairs<N: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (N, V)>,
    ) -> Captures {
        Captures {
            values: pairs
                .into_iter()
                .map(|(n, v)| (n.into(), v.into()))
                .collect(),
        }
    }

    /// The value captured as `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every `(name, value)`, in wording order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// `template` with each `{name}` replaced by its capture; a capture the text did not
    /// reach (it was cut short) reads `?`.
    pub fn fill(&self, template: &str) -> String {
        let mut out = String::with_capacity(template.len());
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            let Some(close) = rest[open..].find('}').map(|c| open + c) else {
                break;
            };
            let name = &rest[open + 1..close];
            out.push_str(&rest[..open]);
            if is_capture_name(name) {
                let _ = write!(out, "{}", self.get(name).unwrap_or("?"));
            } else {
                out.push_str(&rest[open..=close]);
            }
            rest = &rest[close + 1..];
        }
        out.push_str(rest);
        out
    }
}

fn is_capture_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

#[derive(Debug)]
enum Segment {
    Literal(Vec<u8>),
    Capture(String),
}

#[derive(Debug)]
struct Pattern {
    message: usize,
    task: TaskPrefix,
    segments: Vec<Segment>,
}

/// The compiled wordings.
#[derive(Debug)]
pub(super) struct Matcher {
    patterns: Vec<Pattern>,
    /// Pattern indexes by the first byte of their first literal, in file order.
    by_first: Vec<Vec<usize>>,
}

impl Matcher {
    pub(super) fn new(messages: &[Message], problems: &mut Vec<Problem>) -> Matcher {
        let mut patterns = Vec::new();
        for (index, message) in messages.iter().enumerate() {
            if message.recognised != Recognised::Wording {
                continue;
            }
            for wording in &message.wordings {
                match compile(&wording.text) {
                    Ok(segments) => patterns.push(Pattern {
                        message: index,
                        task: message.task,
                        segments,
                    }),
                    Err(why) => problems.push(Problem {
                        file: super::PATH.to_owned(),
                        item: format!("message `{}`", message.id),
                        message: format!("wording {:?} {why}", wording.text),
                    }),
                }
            }
        }
        let mut by_first = vec![Vec::new(); 256];
        for (i, pattern) in patterns.iter().enumerate() {
            if let Some(Segment::Literal(lit)) = pattern.segments.first() {
                by_first[usize::from(lit[0])].push(i);
            }
        }
        Matcher { patterns, by_first }
    }

    pub(super) fn recognise(&self, text: &[u8], task: bool) -> Option<(usize, Captures)> {
        let first = *text.first()?;
        for &i in &self.by_first[usize::from(first)] {
            let pattern = &self.patterns[i];
            let task_ok = match pattern.task {
                TaskPrefix::Any => true,
                TaskPrefix::Present => task,
                TaskPrefix::Absent => !task,
            };
            if !task_ok {
                continue;
            }
            if let Some(captures) = match_segments(&pattern.segments, text) {
                return Some((pattern.message, captures));
            }
        }
        None
    }
}

/// Splits a wording into literals and captures; it must start with a literal, and no
/// two captures may touch or share a name.
fn compile(text: &str) -> Result<Vec<Segment>, &'static str> {
    let mut segments = Vec::new();
    let mut rest = text;
    let mut names: Vec<&str> = Vec::new();
    while !rest.is_empty() {
        let capture = rest.find('{').and_then(|open| {
            let close = open + rest[open..].find('}')?;
            is_capture_name(&rest[open + 1..close]).then_some((open, close))
        });
        match capture {
            Some((open, close)) => {
                if open > 0 {
                    segments.push(Segment::Literal(rest.as_bytes()[..open].to_vec()));
                } else if matches!(segments.last(), Some(Segment::Capture(_))) {
                    return Err("has two captures with no text between them");
                }
                let name = &rest[open + 1..close];
                if names.contains(&name) {
                    return Err("captures the same name twice");
                }
                names.push(name);
                segments.push(Segment::Capture(name.to_owned()));
                rest = &rest[close + 1..];
            }
            None => {
                segments.push(Segment::Literal(rest.as_bytes().to_vec()));
                rest = "";
            }
        }
    }
    match segments.first() {
        Some(Segment::Literal(_)) => Ok(segments),
        _ => Err("does not start with literal text"),
    }
}

/// The text without a trailing `…` or `...`, if it has one.
fn cut_short(text: &[u8]) -> Option<&[u8]> {
    text.strip_suffix("…".as_bytes())
        .or_else(|| text.strip_suffix(b"..."))
}

/// Shortest part of a literal a cut-short text must show for it to count as that
/// literal: less would match too much.
const MIN_CUT_LITERAL: usize = 16;

fn match_segments(segments: &[Segment], text: &[u8]) -> Option<Captures> {
    let short = cut_short(text);
    let mut captures = Captures::default();
    let mut pos = 0;
    let mut i = 0;
    while i < segments.len() {
        match &segments[i] {
            Segment::Literal(lit) => {
                // Only the first segment gets here: later literals are consumed by the
                // capture before them.
                if text[pos..].starts_with(lit) {
                    pos += lit.len();
                } else {
                    let short = short?;
                    let shown = &short[pos.min(short.len())..];
                    let enough = shown.len() >= MIN_CUT_LITERAL.min(lit.len());
                    return (enough && lit.starts_with(shown)).then_some(captures);
                }
                i += 1;
            }
            Segment::Capture(name) => {
                let next = match segments.get(i + 1) {
                    Some(Segment::Literal(lit)) => Some(lit),
                    _ => None,
                };
                let Some(lit) = next else {
                    let end = short.map_or(text.len(), <[u8]>::len).max(pos);
                    captures.values.push((name.clone(), lossy(&text[pos..end])));
                    return Some(captures);
                };
                match find(&text[pos..], lit) {
                    Some(at) => {
                        captures
                            .values
                            .push((name.clone(), lossy(&text[pos..pos + at])));
                        pos += at + lit.len();
                        i += 2;
                    }
                    None => {
                        // Cut short before the literal: keep what the capture shows.
                        let short = short?;
                        let end = short.len().max(pos);
                        captures.values.push((name.clone(), lossy(&text[pos..end])));
                        return Some(captures);
                    }
                }
            }
        }
    }
    Some(captures)
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segments(text: &str) -> Vec<Segment> {
        compile(text).unwrap()
    }

    fn captured(wording: &str, text: &str) -> Option<Vec<(String, String)>> {
        match_segments(&segments(wording), text.as_bytes()).map(|c| c.values)
    }

    fn pairs(p: &[(&str, &str)]) -> Option<Vec<(String, String)>> {
        Some(
            p.iter()
                .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn captures_run_to_the_next_literal_or_the_end() {
        assert_eq!(
            captured(
                "nvproxy: unknown control command {cmd} (paramsSize={size})",
                "nvproxy: unknown control command 0x20800122 (paramsSize=16)"
            ),
            pairs(&[("cmd", "0x20800122"), ("size", "16")])
        );
        assert_eq!(
            captured("Error opening {path}: {reason}", "Error opening /a: b: c"),
            pairs(&[("path", "/a"), ("reason", "b: c")])
        );
        assert_eq!(captured("Error opening {path}: {reason}", "Error x"), None);
    }

    #[test]
    fn text_cut_short_by_a_console() {
        assert_eq!(
            captured(
                "nvproxy: unknown frontend ioctl {nr} == {hex} (argSize={size}, cmd={cmd})",
                "nvproxy: unknown frontend ioctl 42 == 0x2a (argSi…"
            ),
            pairs(&[("nr", "42"), ("hex", "0x2a (argSi")])
        );
        assert_eq!(
            captured(
                "A process tried to create a raw socket without CAP_NET_RAW. Should the container config enable CAP_NET_RAW?",
                "A process tried to create a raw socket without CAP_NET..."
            ),
            pairs(&[])
        );
        assert_eq!(
            captured("A process tried to create a raw socket", "A pro…"),
            None
        );
    }

    #[test]
    fn bad_wordings() {
        assert_eq!(
            compile("{a}x").unwrap_err(),
            "does not start with literal text"
        );
        assert_eq!(
            compile("x{a}{b}").unwrap_err(),
            "has two captures with no text between them"
        );
        assert_eq!(
            compile("x{a} {a}").unwrap_err(),
            "captures the same name twice"
        );
        // Braces that are not a capture name are text.
        assert_eq!(compile("x {Code:1}").unwrap().len(), 1);
    }

    #[test]
    fn fill_replaces_known_names_only() {
        let c = Captures::from_pairs([("a", "1")]);
        assert_eq!(
            c.fill("{a} and {b} and {Not a name}"),
            "1 and ? and {Not a name}"
        );
    }
}
