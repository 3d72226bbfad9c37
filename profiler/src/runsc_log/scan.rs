//! The line scanner: splits a byte stream into lines without copying each line and
//! without allocating per line. It owns one buffer, refills it from the reader in large
//! reads, and hands out slices of it; a line longer than the buffer grows it up to a
//! limit, beyond which the line is reported as too long and skipped, so memory stays
//! bounded whatever the input.

use std::io::{self, Read};

/// Initial buffer size: large reads keep syscalls and refill copies rare.
const INITIAL_CAPACITY: usize = 1 << 20;

/// Longest line kept whole. runsc caps strace argument dumps well below this; a
/// longer line is a corrupt or foreign file.
pub const MAX_LINE: usize = 16 << 20;

/// One line handed out by [`LineScanner::next_line`].
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// The line's bytes, without the trailing `\n` (and `\r`, if any).
    Text(&'a [u8]),
    /// A line longer than [`MAX_LINE`]; its bytes were skipped.
    TooLong,
}

/// Splits a reader into lines, numbering them from 1.
pub struct LineScanner<R> {
    reader: R,
    buf: Vec<u8>,
    /// Start of unconsumed bytes in `buf`.
    start: usize,
    /// End of valid bytes in `buf`.
    end: usize,
    eof: bool,
    line_number: u64,
    max_line: usize,
}

impl<R: Read> LineScanner<R> {
    /// A scanner over `reader`.
    pub fn new(reader: R) -> Self {
        Self::with_limits(reader, INITIAL_CAPACITY, MAX_LINE)
    }

    /// A scanner with a given initial buffer and line limit (tests use small ones).
    pub fn with_limits(reader: R, initial_capacity: usize, max_line: usize) -> Self {
        let capacity = initial_capacity.clamp(1, max_line.max(1));
        Self {
            reader,
            buf: vec![0; capacity],
            start: 0,
            end: 0,
            eof: false,
            line_number: 0,
            max_line: max_line.max(1),
        }
    }

    /// The next line with its number (1-based), or `None` at the end of the input.
    pub fn next_line(&mut self) -> io::Result<Option<(u64, Line<'_>)>> {
        let mut skipping = false;
        loop {
            if let Some(pos) = memchr::memchr(b'\n', &self.buf[self.start..self.end]) {
                let line_start = self.start;
                let line_end = self.start + pos;
                self.start = line_end + 1;
                self.line_number += 1;
                if skipping {
                    return Ok(Some((self.line_number, Line::TooLong)));
                }
                return Ok(Some((
                    self.line_number,
                    Line::Text(trim_cr(&self.buf[line_start..line_end])),
                )));
            }
            if self.eof {
                if self.start == self.end {
                    if skipping {
                        self.line_number += 1;
                        return Ok(Some((self.line_number, Line::TooLong)));
                    }
                    return Ok(None);
                }
                let line_start = self.start;
                self.start = self.end;
                self.line_number += 1;
                if skipping {
                    return Ok(Some((self.line_number, Line::TooLong)));
                }
                return Ok(Some((
                    self.line_number,
                    Line::Text(trim_cr(&self.buf[line_start..self.end])),
                )));
            }
            // No complete line in the buffer: make room, then read more.
            let pending = self.end - self.start;
            if pending >= self.max_line {
                // The line is over the limit: drop what we have and skip to its end.
                skipping = true;
                self.start = 0;
                self.end = 0;
            } else if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.start = 0;
                self.end = pending;
            }
            if self.end == self.buf.len() {
                let grown = (self.buf.len() * 2).min(self.max_line);
                self.buf.resize(grown, 0);
            }
            self.fill()?;
        }
    }

    /// Reads once into the free end of the buffer; sets `eof` when the reader is done.
    fn fill(&mut self) -> io::Result<()> {
        loop {
            match self.reader.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

fn trim_cr(line: &[u8]) -> &[u8] {
    match line.split_last() {
        Some((b'\r', rest)) => rest,
        _ => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], capacity: usize, max: usize) -> Vec<(u64, Option<Vec<u8>>)> {
        let mut scanner = LineScanner::with_limits(input, capacity, max);
        let mut out = Vec::new();
        while let Some((n, line)) = scanner.next_line().unwrap() {
            out.push(match line {
                Line::Text(t) => (n, Some(t.to_vec())),
                Line::TooLong => (n, None),
            });
        }
        out
    }

    #[test]
    fn splits_on_newlines_and_keeps_a_last_unterminated_line() {
        assert_eq!(
            lines(b"a\r\nbb\n\nccc", 2, 64),
            vec![
                (1, Some(b"a".to_vec())),
                (2, Some(b"bb".to_vec())),
                (3, Some(b"".to_vec())),
                (4, Some(b"ccc".to_vec())),
            ]
        );
    }

    #[test]
    fn skips_lines_over_the_limit_and_counts_them() {
        assert_eq!(
            lines(b"short\n0123456789abcdef\nok\n0123456789", 4, 8),
            vec![
                (1, Some(b"short".to_vec())),
                (2, None),
                (3, Some(b"ok".to_vec())),
                (4, None),
            ]
        );
    }

    #[test]
    fn empty_input_has_no_lines() {
        assert_eq!(lines(b"", 4, 8), vec![]);
    }
}
