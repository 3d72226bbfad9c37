//! A run's standard output or error: read from a pipe to its end on a thread of its
//! own, keeping the first [`KEPT_BYTES`] and counting and hashing all of it, so output
//! of any size is compared exactly and shown in part, and memory stays bounded.

use std::hash::Hasher as _;
use std::io::{self, PipeReader, Read as _};
use std::thread::JoinHandle;

/// Bytes of each stream kept in the result.
pub const KEPT_BYTES: usize = 1 << 20;

/// One stream of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Captured {
    /// The first [`KEPT_BYTES`] bytes.
    pub head: Vec<u8>,
    /// Bytes written in all.
    pub total: u64,
    /// A hash of all of them (equal streams, equal hashes; compared within one
    /// process only).
    pub hash: u64,
}

impl Captured {
    /// Whether bytes were left out of [`Captured::head`].
    pub fn truncated(&self) -> bool {
        self.total > self.head.len() as u64
    }

    /// The kept bytes as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.head).into_owned()
    }
}

/// Starts reading `pipe` to its end.
pub fn spawn_reader(mut pipe: PipeReader) -> JoinHandle<io::Result<Captured>> {
    std::thread::spawn(move || {
        let mut captured = Captured::default();
        let mut hasher = std::hash::DefaultHasher::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match pipe.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            hasher.write(&buf[..n]);
            captured.total += n as u64;
            let room = KEPT_BYTES.saturating_sub(captured.head.len());
            captured.head.extend_from_slice(&buf[..n.min(room)]);
        }
        captured.hash = hasher.finish();
        Ok(captured)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    #[test]
    fn keeps_the_head_and_counts_everything() {
        let (reader, mut writer) = std::io::pipe().unwrap();
        let handle = spawn_reader(reader);
        let chunk = vec![b'x'; 300 * 1024];
        for _ in 0..4 {
            writer.write_all(&chunk).unwrap();
        }
        drop(writer);
        let got = handle.join().unwrap().unwrap();
        assert_eq!(got.total, 1200 * 1024);
        assert_eq!(got.head.len(), KEPT_BYTES);
        assert!(got.truncated());
    }
}
