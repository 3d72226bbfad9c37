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
//!
//! Log shippers wrap lines in JSON of their own; [`parse_json`] takes the line out of
//! those too: Cloud Logging entries (`textPayload`, or `jsonPayload` holding either
//! runsc's JSON fields or a `message`), and Docker's json-file (`log`, `stream`, `time`,
//! no `level`).

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
    /// The glog header's thread-id column, which runsc fills with its process id: it
    /// tells the runsc processes (sandboxes, gofers) of interleaved logs apart.
    pub runsc_pid: Option<u32>,
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
    let runsc_pid = super::task::number(&line[digits_start..i]);
    let message = strip_source(&line[i + 1..])?;
    Some(Envelope {
        encoding: Encoding::Text,
        level,
        time: Cow::Borrowed(&line[1..21]),
        message: Cow::Borrowed(message),
        runsc_pid,
    })
}

/// Whether `line` starts with a glog header's level letter and stamp (the check
/// [`parse_text`] starts with, for finding a header inside a line).
pub fn looks_like_glog(line: &[u8]) -> bool {
    line.len() >= 24
        && matches!(line[0], b'D' | b'I' | b'W' | b'E' | b'F')
        && is_glog_stamp(&line[1..22])
}

/// `mmdd hh:mm:ss.uuuuuu ` (with the space after it), checked position by position.
fn is_glog_stamp(s: &[u8]) -> bool {
    const DIGITS: [usize; 16] = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 16, 17, 18, 19];
    // As an array, every index below is known in range.
    let Ok(s) = <&[u8; 21]>::try_from(s) else {
        return false;
    };
    s[4] == b' '
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
    // `file:line` is a dozen bytes: walk back over the line's digits to the colon by
    // hand, where a search for the last `:` costs more to set up than it scans.
    let mut colon = source.len();
    while colon > 0 && source[colon - 1].is_ascii_digit() {
        colon -= 1;
    }
    if colon == source.len() {
        return None;
    }
    let file = source[..colon].strip_suffix(b":")?;
    if file.is_empty() || file.contains(&b' ') {
        return None;
    }
    match s.get(close + 1) {
        Some(b' ') => Some(&s[close + 2..]),
        None => Some(&s[close + 1..]),
        Some(_) => None,
    }
}

/// The fields of a JSON log line sandprof reads: runsc's own (`msg`/`log`, `level`,
/// `time`) and those of the shippers that wrap lines (Cloud Logging's `textPayload`,
/// `jsonPayload`, `timestamp`, `resource`; Docker's `stream`).
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
    #[serde(borrow, default, rename = "textPayload")]
    text_payload: Option<Cow<'a, str>>,
    #[serde(borrow, default, rename = "jsonPayload")]
    json_payload: Option<JsonPayload<'a>>,
    #[serde(borrow, default)]
    timestamp: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    resource: Option<Resource<'a>>,
    #[serde(borrow, default)]
    stream: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct JsonPayload<'a> {
    #[serde(borrow, default)]
    msg: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    log: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    message: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    level: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    time: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Resource<'a> {
    #[serde(borrow, default)]
    labels: Option<ResourceLabels<'a>>,
}

#[derive(Deserialize)]
struct ResourceLabels<'a> {
    #[serde(borrow, default)]
    pod_name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    container_name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    revision_name: Option<Cow<'a, str>>,
}

/// Why a line starting with `{` is not a log line sandprof reads.
#[derive(Debug, PartialEq, Eq)]
pub enum JsonProblem {
    /// Not valid JSON (or not an object).
    Syntax(String),
    /// Valid JSON, but no log line in it.
    Shape(&'static str),
}

/// A JSON log line: runsc's own, or a line a shipper wrapped.
#[derive(Debug, PartialEq, Eq)]
pub enum JsonRecord<'a> {
    /// runsc's `json` or `json-k8s` (also inside a Cloud Logging `jsonPayload`).
    Runsc(Envelope<'a>),
    /// A line of text a shipper wrapped (Cloud Logging `textPayload` or
    /// `jsonPayload.message`, Docker's `log`): read it like a line of a text log.
    Wrapped {
        /// The line.
        text: Cow<'a, [u8]>,
        /// Which shipper (`cloud-logging`, `docker-json`).
        shipper: &'static str,
        /// The entry's resource (pod and container, or Cloud Run revision), which tells
        /// interleaved sandboxes apart.
        tag: Option<String>,
    },
}

/// Takes a JSON line apart.
pub fn parse_json(line: &[u8]) -> Result<JsonRecord<'_>, JsonProblem> {
    let parsed: JsonLine<'_> =
        serde_json::from_slice(line).map_err(|e| JsonProblem::Syntax(e.to_string()))?;
    let tag = parsed.resource.as_ref().and_then(resource_tag);
    if let Some(payload) = parsed.json_payload {
        let runsc = match (payload.msg, payload.log) {
            (Some(text), None) => Some((Encoding::Json, text)),
            (None, Some(text)) => Some((Encoding::JsonK8s, text)),
            _ => None,
        };
        return match (runsc, payload.level, payload.message) {
            (Some((encoding, text)), Some(level), _) => {
                runsc_envelope(encoding, text, &level, payload.time.or(parsed.timestamp))
                    .map(JsonRecord::Runsc)
            }
            (_, _, Some(message)) => Ok(wrapped(message, "cloud-logging", tag)),
            (Some((_, text)), None, None) => Ok(wrapped(text, "cloud-logging", tag)),
            (None, _, None) => Err(JsonProblem::Shape("a `jsonPayload` with no message")),
        };
    }
    if let Some(text) = parsed.text_payload {
        return Ok(wrapped(text, "cloud-logging", tag));
    }
    let (encoding, text) = match (parsed.msg, parsed.log) {
        (Some(msg), None) => (Encoding::Json, msg),
        (None, Some(log)) => (Encoding::JsonK8s, log),
        (Some(_), Some(_)) => return Err(JsonProblem::Shape("both `msg` and `log` keys")),
        (None, None) => return Err(JsonProblem::Shape("no `msg`, `log` or payload key")),
    };
    match parsed.level {
        Some(level) => runsc_envelope(encoding, text, &level, parsed.time).map(JsonRecord::Runsc),
        // Docker's json-file: the line as the container wrote it, newline included.
        None if encoding == Encoding::JsonK8s && parsed.stream.is_some() => {
            Ok(wrapped(text, "docker-json", None))
        }
        None => Err(JsonProblem::Shape("no `level` key")),
    }
}

fn resource_tag(resource: &Resource<'_>) -> Option<String> {
    let labels = resource.labels.as_ref()?;
    match (
        &labels.pod_name,
        &labels.container_name,
        &labels.revision_name,
    ) {
        (Some(pod), Some(container), _) => Some(format!("{pod}/{container}")),
        (_, _, Some(revision)) => Some(revision.to_string()),
        (None, Some(container), None) => Some(container.to_string()),
        _ => None,
    }
}

fn wrapped<'a>(text: Cow<'a, str>, shipper: &'static str, tag: Option<String>) -> JsonRecord<'a> {
    let text = match text {
        Cow::Borrowed(t) => Cow::Borrowed(trim_newline(t.as_bytes())),
        Cow::Owned(t) => Cow::Owned(trim_newline(t.as_bytes()).to_vec()),
    };
    JsonRecord::Wrapped { text, shipper, tag }
}

fn trim_newline(s: &[u8]) -> &[u8] {
    let s = s.strip_suffix(b"\n").unwrap_or(s);
    s.strip_suffix(b"\r").unwrap_or(s)
}

fn runsc_envelope<'a>(
    encoding: Encoding,
    text: Cow<'a, str>,
    level: &str,
    time: Option<Cow<'a, str>>,
) -> Result<Envelope<'a>, JsonProblem> {
    let level = match level {
        "debug" | "2" => Level::Debug,
        "info" | "1" => Level::Info,
        "warning" | "0" => Level::Warning,
        "error" => Level::Error,
        "fatal" => Level::Fatal,
        _ => return Err(JsonProblem::Shape("unknown `level`")),
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
        time: match time {
            Some(Cow::Borrowed(t)) => Cow::Borrowed(t.as_bytes()),
            Some(Cow::Owned(t)) => Cow::Owned(t.into_bytes()),
            None => Cow::Borrowed(&b""[..]),
        },
        message,
        runsc_pid: None,
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

    fn runsc(line: &[u8]) -> Envelope<'_> {
        match parse_json(line).unwrap() {
            JsonRecord::Runsc(env) => env,
            other => panic!("not runsc's JSON: {other:?}"),
        }
    }

    #[test]
    fn json_and_k8s_lines() {
        let env = runsc(
            br#"{"msg":"compat.go:120] Unsupported syscall x","level":"info","time":"2024-01-02T15:04:05.123456789Z"}"#,
        );
        assert_eq!(env.encoding, Encoding::Json);
        assert_eq!(env.level, Level::Info);
        assert_eq!(&*env.time, b"2024-01-02T15:04:05.123456789Z");
        assert_eq!(&*env.message, b"Unsupported syscall x");

        let env = runsc(
            br#"{"log":"util.go:1] a\n\tb","level":"warning","time":"2024-01-02T15:04:05Z"}"#,
        );
        assert_eq!(env.encoding, Encoding::JsonK8s);
        assert_eq!(env.level, Level::Warning);
        assert_eq!(&*env.message, b"a\n\tb");

        let env = runsc(br#"{"msg":"no source","level":"error","time":"t"}"#);
        assert_eq!(env.level, Level::Error);
        assert_eq!(&*env.message, b"no source");
    }

    #[test]
    fn lines_shippers_wrapped() {
        assert_eq!(
            parse_json(
                br#"{"insertId":"1","resource":{"type":"cloud_run_revision","labels":{"revision_name":"svc-00001-abc"}},"textPayload":"I1201 22:20:16.046634   1 x.go:1] hi","timestamp":"2026-12-01T22:20:16Z"}"#
            ),
            Ok(JsonRecord::Wrapped {
                text: Cow::Borrowed(&b"I1201 22:20:16.046634   1 x.go:1] hi"[..]),
                shipper: "cloud-logging",
                tag: Some("svc-00001-abc".to_owned()),
            })
        );
        assert_eq!(
            parse_json(
                br#"{"jsonPayload":{"message":"Container Sandbox: x"},"resource":{"labels":{"pod_name":"p","container_name":"c"}}}"#
            ),
            Ok(JsonRecord::Wrapped {
                text: Cow::Borrowed(&b"Container Sandbox: x"[..]),
                shipper: "cloud-logging",
                tag: Some("p/c".to_owned()),
            })
        );
        let env = match parse_json(
            br#"{"jsonPayload":{"msg":"boot.go:1] application exiting with exit status 1","level":"info"},"timestamp":"2026-12-01T22:20:16Z"}"#,
        )
        .unwrap()
        {
            JsonRecord::Runsc(env) => env,
            other => panic!("{other:?}"),
        };
        assert_eq!(&*env.message, b"application exiting with exit status 1");
        assert_eq!(&*env.time, b"2026-12-01T22:20:16Z");
        assert_eq!(
            parse_json(
                br#"{"log":"panic: boom\n","stream":"stderr","time":"2026-12-01T22:20:16Z"}"#
            ),
            Ok(JsonRecord::Wrapped {
                text: Cow::Owned(b"panic: boom".to_vec()),
                shipper: "docker-json",
                tag: None,
            })
        );
    }

    #[test]
    fn json_problems() {
        assert!(matches!(
            parse_json(b"{\"msg\":"),
            Err(JsonProblem::Syntax(_))
        ));
        assert_eq!(
            parse_json(br#"{"level":"info"}"#),
            Err(JsonProblem::Shape("no `msg`, `log` or payload key"))
        );
        assert_eq!(
            parse_json(br#"{"msg":"x","level":"loud"}"#),
            Err(JsonProblem::Shape("unknown `level`"))
        );
        assert_eq!(
            parse_json(br#"{"jsonPayload":{"x":1}}"#),
            Err(JsonProblem::Shape("a `jsonPayload` with no message"))
        );
    }

    /// `file:line] ` found by searching for `]` and the last `:`: the definition the
    /// short walk must agree with.
    fn reference_strip_source(s: &[u8]) -> Option<&[u8]> {
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

    proptest::proptest! {
        #[test]
        fn strip_source_agrees_with_the_search(
            s in proptest::collection::vec(proptest::sample::select(b"a.: ]12".to_vec()), 0..24)
        ) {
            proptest::prop_assert_eq!(strip_source(&s), reference_strip_source(&s));
        }

        #[test]
        fn glog_stamps_are_checked_at_every_position(
            at in 0usize..21,
            byte in proptest::sample::select(b"0 9:.a/".to_vec()),
        ) {
            let mut stamp = *b"0102 15:04:05.123456 ";
            let expected = match stamp[at] {
                b'0'..=b'9' => byte.is_ascii_digit(),
                separator => byte == separator,
            };
            stamp[at] = byte;
            proptest::prop_assert_eq!(is_glog_stamp(&stamp), expected);
        }
    }
}
