//! A JSON array of log entries, read one entry at a time: what Cloud Logging's
//! `gcloud logging read --format=json` and the console's "download as JSON" write
//! (pretty-printed, one entry spanning many lines). Each top-level object is cut out by
//! tracking strings and nesting, without parsing it, and handed over with the line it
//! starts on; memory is bounded by the largest entry, never by the file.

use std::io::{self, BufRead};

/// Whether `head` (the first bytes of a file) starts a JSON array of objects: `[`, then
/// `{` or `]`, with only whitespace around them. A task prefix (`[   1:`) or
/// `kubectl --prefix` (`[pod/`) does not.
pub fn starts_array(head: &[u8]) -> bool {
    let mut bytes = head.iter().copied().filter(|b| !b.is_ascii_whitespace());
    bytes.next() == Some(b'[') && matches!(bytes.next(), Some(b'{' | b']'))
}

/// One entry of the array.
#[derive(Debug, PartialEq, Eq)]
pub enum Entry<'a> {
    /// An object's bytes and the line it starts on (1-based).
    Object(u64, &'a [u8]),
    /// An object larger than the limit, skipped; the line it starts on.
    TooLong(u64),
    /// Something other than an object where an entry should be, up to the next
    /// top-level `,`; the line it starts on.
    NotAnObject(u64),
}

/// Where the reader is in JSON text: inside a string or not, and how deeply nested.
#[derive(Default)]
struct Nesting {
    depth: u32,
    in_string: bool,
    escaped: bool,
}

impl Nesting {
    /// Steps over `b`. Outside a string, returns it with the depth before it (a closing
    /// bracket at depth 1 closes the outermost value); inside one, `None`.
    fn step(&mut self, b: u8) -> Option<(u8, u32)> {
        if self.in_string {
            match (self.escaped, b) {
                (true, _) => self.escaped = false,
                (false, b'\\') => self.escaped = true,
                (false, b'"') => self.in_string = false,
                _ => {}
            }
            return None;
        }
        let before = self.depth;
        match b {
            b'"' => self.in_string = true,
            b'{' | b'[' => self.depth += 1,
            b'}' | b']' => self.depth = self.depth.saturating_sub(1),
            _ => {}
        }
        Some((b, before))
    }
}

/// Reads the entries of a JSON array.
pub struct ArrayReader<R> {
    reader: R,
    line: u64,
    started: bool,
    done: bool,
    entry: Vec<u8>,
    max_entry: usize,
}

impl<R: BufRead> ArrayReader<R> {
    /// Entries of the array `reader` holds; entries over `max_entry` bytes are skipped.
    pub fn new(reader: R, max_entry: usize) -> Self {
        Self {
            reader,
            line: 1,
            started: false,
            done: false,
            entry: Vec::new(),
            max_entry,
        }
    }

    /// Lines read so far.
    pub fn lines(&self) -> u64 {
        self.line
    }

    /// The next entry, or `None` after the closing `]` (or at the end of the input).
    pub fn next_entry(&mut self) -> io::Result<Option<Entry<'_>>> {
        if self.done {
            return Ok(None);
        }
        if !self.started {
            match self.skip_until(|b| b == b'[')? {
                Some(_) => self.started = true,
                None => {
                    self.done = true;
                    return Ok(None);
                }
            }
        }
        let Some(first) = self.skip_until(|b| !b.is_ascii_whitespace() && b != b',')? else {
            self.done = true;
            return Ok(None);
        };
        match first {
            b']' => {
                self.done = true;
                Ok(None)
            }
            b'{' => self.object(),
            _ => {
                let start = self.line;
                self.skip_value()?;
                Ok(Some(Entry::NotAnObject(start)))
            }
        }
    }

    /// Consumes bytes up to and including the first one `stop` accepts; returns it.
    fn skip_until(&mut self, stop: impl Fn(u8) -> bool) -> io::Result<Option<u8>> {
        loop {
            let buf = self.reader.fill_buf()?;
            if buf.is_empty() {
                return Ok(None);
            }
            for (i, &b) in buf.iter().enumerate() {
                if stop(b) {
                    self.line += count_newlines(&buf[..i]);
                    self.reader.consume(i + 1);
                    return Ok(Some(b));
                }
            }
            let n = buf.len();
            self.line += count_newlines(buf);
            self.reader.consume(n);
        }
    }

    /// Reads an object whose `{` was consumed.
    fn object(&mut self) -> io::Result<Option<Entry<'_>>> {
        let start = self.line;
        self.entry.clear();
        self.entry.push(b'{');
        let mut nesting = Nesting {
            depth: 1,
            ..Nesting::default()
        };
        let mut too_long = false;
        loop {
            let buf = self.reader.fill_buf()?;
            if buf.is_empty() {
                // Cut off: hand over what there is; the JSON parser will say so.
                self.done = true;
                break;
            }
            let mut end = None;
            for (i, &b) in buf.iter().enumerate() {
                if let Some((b'}' | b']', 1)) = nesting.step(b) {
                    end = Some(i + 1);
                    break;
                }
            }
            let take = end.unwrap_or(buf.len());
            self.line += count_newlines(&buf[..take]);
            if !too_long && self.entry.len() + take <= self.max_entry {
                self.entry.extend_from_slice(&buf[..take]);
            } else {
                too_long = true;
                self.entry.clear();
            }
            self.reader.consume(take);
            if end.is_some() {
                break;
            }
        }
        if too_long {
            return Ok(Some(Entry::TooLong(start)));
        }
        Ok(Some(Entry::Object(start, &self.entry)))
    }

    /// Skips a non-object value up to the next top-level `,` or the closing `]`.
    fn skip_value(&mut self) -> io::Result<()> {
        let mut nesting = Nesting::default();
        loop {
            let buf = self.reader.fill_buf()?;
            if buf.is_empty() {
                self.done = true;
                return Ok(());
            }
            for (i, &b) in buf.iter().enumerate() {
                if let Some((stop @ (b',' | b']'), 0)) = nesting.step(b) {
                    self.done = stop == b']';
                    self.line += count_newlines(&buf[..i]);
                    self.reader.consume(i + 1);
                    return Ok(());
                }
            }
            let n = buf.len();
            self.line += count_newlines(buf);
            self.reader.consume(n);
        }
    }
}

fn count_newlines(bytes: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', bytes).count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(text: &str, max: usize) -> Vec<(u64, Option<String>)> {
        let mut reader = ArrayReader::new(io::BufReader::with_capacity(3, text.as_bytes()), max);
        let mut out = Vec::new();
        while let Some(entry) = reader.next_entry().unwrap() {
            out.push(match entry {
                Entry::Object(line, bytes) => {
                    (line, Some(String::from_utf8(bytes.to_vec()).unwrap()))
                }
                Entry::TooLong(line) => (line, None),
                Entry::NotAnObject(line) => (line, Some("not an object".to_owned())),
            });
        }
        out
    }

    #[test]
    fn pretty_printed_entries_with_their_first_line() {
        let text = "[\n  {\n    \"a\": \"x}\\\"{\",\n    \"b\": [1, {\"c\": 2}]\n  },\n  {\"d\": 1},\n  7,\n  {\"e\": 2}\n]\n";
        assert_eq!(
            entries(text, 1 << 20),
            vec![
                (
                    2,
                    Some("{\n    \"a\": \"x}\\\"{\",\n    \"b\": [1, {\"c\": 2}]\n  }".to_owned())
                ),
                (6, Some("{\"d\": 1}".to_owned())),
                (7, Some("not an object".to_owned())),
                (8, Some("{\"e\": 2}".to_owned())),
            ]
        );
    }

    #[test]
    fn oversized_and_cut_off_entries() {
        assert_eq!(
            entries("[{\"a\": \"0123456789\"}, {\"b\": 1}, {\"c\"", 12),
            vec![
                (1, None),
                (1, Some("{\"b\": 1}".to_owned())),
                (1, Some("{\"c\"".to_owned())),
            ]
        );
        assert_eq!(entries("[]", 10), vec![]);
        assert_eq!(entries("", 10), vec![]);
    }

    #[test]
    fn which_files_are_arrays() {
        assert!(starts_array(b"[\n  {\n"));
        assert!(starts_array(b" [ ]"));
        assert!(!starts_array(b"[   1:   1] sh E getpid()"));
        assert!(!starts_array(b"[pod/x/y] I1201"));
        assert!(!starts_array(b"{\"msg\":1}"));
    }
}
