//! Log envelopes: the part of a runsc log line that says when and at what level, around
//! the message itself. runsc writes three encodings (gVisor `pkg/log/`: `glog.go`,
//! `json.go`, `json_k8s.go`; chosen by `--debug-log-format`/`--log-format`, see
//! `runsc/config/flags.go`), and Go's runtime writes raw lines (panics, stacks) to the
//! same file because runsc dups its stderr there (`runsc/cli/cli.go`).
//!
//! - text: `Lmmdd hh:mm:ss.uuuuuu threadid file:line] message`, `L` one of `D I W`
//!   (and `E F` from other glog writers);
//! - json: `{"msg":"file:line] message","level":"info","time":"RFC 3339"}`;
//! - json-k8s: the same with `log` instead of `msg`. `runsc` fatal errors also go out
//!   as `{"msg":…,"level":"error",…}` without the `file:line] ` part
//!   (`runsc/cmd/util/util.go`).

use std::borrow::Cow;

use serde::Deserialize;

/// Log level as written by runsc.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// `D`, `debug`.
    Debug,
    /// `I`, `info`.
    Info,
    /// `W`, `warning`.
    Warning,
    /// `E`, `error`.
    Error,
    /// `F`, `fatal`.
    Fatal,
}

/// Which encoding a line used.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Encoding {
    /// glog-style text.
    Text,
    /// `--log-format json`.
    Json,
    /// `--log-format json-k8s`.
    JsonK8s,
}

impl Encoding {
    /// The name `--log-format` uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Text => "text",
            Encoding::Json => "json",
            Encoding::JsonK8s => "json-k8s",
        }
    }
}

/// A line with its envelope taken apart.
#[derive(Debug, PartialEq, Eq)]
pub struct Envelope<'a> {
    /// Encoding of the line.
    pub encoding: Encoding,
    /// Level.
    pub level: Level,
    /// Timestamp as written (`0102 15:04:05.123456` for text, RFC 3339 for JSON).
    pub time: Cow<'a, [u8]>,
    /// The message, without the `file:line] ` source prefix. For JSON this may hold
    /// several lines (a traceback); the first is the message proper.
    pub message: Cow<'a, [u8]>,
}

/// Takes a text (glog) line apart, or returns `None` if it is not one.
pub fn parse_text(line: &[u8]) -> Option<Envelope<'_>> {
    // L mmdd SP hh:mm:ss.uuuuuu SP threadid SP file:line ] SP message
    // 0 1..5 5  6..21           21
    let level = match *line.first()? {
        b'D' => Level::Debug,
        b'I' => Level::Info,
        b'W' => Level::Warning,
        b'E' => Level::Error,
        b'F' => Level::Fatal,
        _ => return None,
    };
    if line.len() < 24 || !is_glog_stamp(&line[1..22]) {
        return None;
    }
    // threadid: space-padded decimal, then one space.
    let mut i = 22;
    while line.get(i) == Some(&b' ') {
        i += 1;
    }
    let digits_start = i;
    while line.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    if i == digits_start || line.get(i) != Some(&b' ') {
        return None;
    }
    let message = strip_source(&line[i + 1..])?;
    Some(Envelope {
        encoding: Encoding::Text,
        level,
        time: Cow::Borrowed(&line[1..21]),
        message: Cow::Borrowed(message),
    })
}

/// `mmdd hh:mm:ss.uuuuuu ` (with the space after it), checked position by position.
fn is_glog_stamp(s: &[u8]) -> bool {
    const DIGITS: [usize; 16] = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 16, 17, 18, 19];
    s.len() == 21
        && s[4] == b' '
        && s[7] == b':'
        && s[10] == b':'
        && s[13] == b'.'
        && s[20] == b' '
        && DIGITS.iter().all(|&i| s[i].is_ascii_digit())
}

/// Strips `file:line] ` from the start of a message; `None` if it is not there.
fn strip_source(s: &[u8]) -> Option<&[u8]> {
    let close = memchr::memchr(b']', s)?;
    let source = &s[..close];
    let colon = memchr::memrchr(b':', source)?;
    let (file, line) = (&source[..colon], &source[colon + 1..]);
    if file.is_empty()
        || file.contains(&b' ')
        || line.is_empty()
        || !line.iter().all(u8::is_ascii_digit)
    {
        return None;
    }
    match s.get(close + 1) {
        Some(b' ') => Some(&s[close + 2..]),
        None => Some(&s[close + 1..]),
        Some(_) => None,
    }
}

#[derive(Deserialize)]
struct JsonLine<'a> {
    #[serde(borrow, default)]
    msg: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    log: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    level: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    time: Option<Cow<'a, str>>,
}

/// Why a line starting with `{` is not a runsc JSON log line.
#[derive(Debug, PartialEq, Eq)]
pub enum JsonProblem {
    /// Not valid JSON (or not an object).
    Syntax(String),
    /// Valid JSON, but not runsc's shape (no `msg`/`log`, or no `level`).
    Shape(&'static str),
}

/// Takes a JSON or json-k8s line apart.
pub fn parse_json(line: &[u8]) -> Result<Envelope<'_>, JsonProblem> {
    let parsed: JsonLine<'_> =
        serde_json::from_slice(line).map_err(|e| JsonProblem::Syntax(e.to_string()))?;
    let (encoding, text) = match (parsed.msg, parsed.log) {
        (Some(msg), None) => (Encoding::Json, msg),
        (None, Some(log)) => (Encoding::JsonK8s, log),
        (Some(_), Some(_)) => return Err(JsonProblem::Shape("both `msg` and `log` keys")),
        (None, None) => return Err(JsonProblem::Shape("no `msg` or `log` key")),
    };
    let level = match parsed.level.as_deref() {
        Some("debug" | "2") => Level::Debug,
        Some("info" | "1") => Level::Info,
        Some("warning" | "0") => Level::Warning,
        Some("error") => Level::Error,
        Some("fatal") => Level::Fatal,
        Some(_) => return Err(JsonProblem::Shape("unknown `level`")),
        None => return Err(JsonProblem::Shape("no `level` key")),
    };
    let message = match text {
        Cow::Borrowed(s) => Cow::Borrowed(strip_source(s.as_bytes()).unwrap_or(s.as_bytes())),
        Cow::Owned(s) => {
            let bytes = s.into_bytes();
            match strip_source(&bytes) {
                Some(stripped) => Cow::Owned(stripped.to_vec()),
                None => Cow::Owned(bytes),
            }
        }
    };
    Ok(Envelope {
        encoding,
        level,
        time: match parsed.time {
            Some(Cow::Borrowed(t)) => Cow::Borrowed(t.as_bytes()),
            Some(Cow::Owned(t)) => Cow::Owned(t.into_bytes()),
            None => Cow::Borrowed(&b""[..]),
        },
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_line() {
        let env =
            parse_text(b"I0102 15:04:05.123456    4242 strace.go:567] [   1:   1] sh E getpid()")
                .unwrap();
        assert_eq!(env.encoding, Encoding::Text);
        assert_eq!(env.level, Level::Info);
        assert_eq!(&*env.time, b"0102 15:04:05.123456");
        assert_eq!(&*env.message, b"[   1:   1] sh E getpid()");
    }

    #[test]
    fn text_line_with_empty_message_and_wide_thread_id() {
        let env = parse_text(b"W1231 23:59:59.000001 12345678 compat.go:120]").unwrap();
        assert_eq!(env.level, Level::Warning);
        assert_eq!(&*env.message, b"");
    }

    #[test]
    fn not_text_lines() {
        for line in [
            &b"goroutine 1 [running]:"[..],
            b"I0102 15:04:05.12345    42 x.go:1] short stamp",
            b"X0102 15:04:05.123456    42 x.go:1] bad level",
            b"I0102 15:04:05.123456    42 x.go:1]missing space",
            b"I0102 15:04:05.123456    42 no source here",
            b"I0102 15:04:05.123456",
        ] {
            assert_eq!(parse_text(line), None, "{}", String::from_utf8_lossy(line));
        }
    }

    #[test]
    fn json_and_k8s_lines() {
        let env = parse_json(
            br#"{"msg":"compat.go:120] Unsupported syscall x","level":"info","time":"2024-01-02T15:04:05.123456789Z"}"#,
        )
        .unwrap();
        assert_eq!(env.encoding, Encoding::Json);
        assert_eq!(env.level, Level::Info);
        assert_eq!(&*env.time, b"2024-01-02T15:04:05.123456789Z");
        assert_eq!(&*env.message, b"Unsupported syscall x");

        let env = parse_json(
            br#"{"log":"util.go:1] a\n\tb","level":"warning","time":"2024-01-02T15:04:05Z"}"#,
        )
        .unwrap();
        assert_eq!(env.encoding, Encoding::JsonK8s);
        assert_eq!(env.level, Level::Warning);
        assert_eq!(&*env.message, b"a\n\tb");

        let env = parse_json(br#"{"msg":"no source","level":"error","time":"t"}"#).unwrap();
        assert_eq!(env.level, Level::Error);
        assert_eq!(&*env.message, b"no source");
    }

    #[test]
    fn json_problems() {
        assert!(matches!(
            parse_json(b"{\"msg\":"),
            Err(JsonProblem::Syntax(_))
        ));
        assert_eq!(
            parse_json(br#"{"level":"info"}"#),
            Err(JsonProblem::Shape("no `msg` or `log` key"))
        );
        assert_eq!(
            parse_json(br#"{"msg":"x","level":"loud"}"#),
            Err(JsonProblem::Shape("unknown `level`"))
        );
    }
}
