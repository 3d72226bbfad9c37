//! Decoding ring-buffer records into owned values. Every record starts with its kind;
//! a record too short for its kind, or of an unknown kind, is an error the caller counts
//! (as `undecodable_records`), never a panic.

use std::mem::size_of;

use profiler_common::event::{EventKind, ExecEvent, IntSigEvent, ProcessEvent, StrSigEvent};
use profiler_common::key::{IntSigKey, StrSigKey};

/// A decoded record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    /// A traced task executed a file.
    Exec(ExecRecord),
    /// A traced process forked a new process.
    Fork {
        /// The child.
        tgid: u32,
        /// The parent.
        parent: u32,
        /// Executable id inherited from the parent.
        exe: u64,
    },
    /// The last thread of a traced process exited.
    Exit {
        /// The process.
        tgid: u32,
    },
    /// A task of the target cgroup was seen for the first time.
    Adopt {
        /// Its process.
        tgid: u32,
    },
    /// First sighting of a signature.
    Signature(SignatureRecord),
}

/// A successful exec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecRecord {
    /// Thread (and process) id after the exec.
    pub tid: u32,
    /// Thread that called exec.
    pub old_tid: u32,
    /// Adopted by the cgroup filter at this exec.
    pub adopted: bool,
    /// New executable id.
    pub exe: u64,
    /// Previous executable id.
    pub prev_exe: u64,
    /// Path as passed to exec.
    pub filename: String,
}

/// First sighting of a signature: who made the call. The key identifies it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureRecord {
    /// Thread.
    pub tid: u32,
    /// Process.
    pub tgid: u32,
    /// Executable id.
    pub exe: u64,
    /// The signature.
    pub key: SignatureKey,
}

/// A signature key of either map.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SignatureKey {
    /// From `INT_SIGS`.
    Int(IntSigKey),
    /// From `STR_SIGS`.
    Str(Box<StrSigKey>),
}

impl SignatureKey {
    /// The integer part.
    pub fn base(&self) -> &IntSigKey {
        match self {
            SignatureKey::Int(key) => key,
            SignatureKey::Str(key) => &key.base,
        }
    }
}

/// Why a record could not be decoded.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Shorter than its kind's layout.
    #[error("record of kind {kind} is {len} bytes, expected at least {expected}")]
    Short {
        /// Kind word.
        kind: u32,
        /// Bytes received.
        len: usize,
        /// Bytes needed.
        expected: usize,
    },
    /// Unknown kind word.
    #[error("record of unknown kind {0}")]
    UnknownKind(u32),
    /// Not even a kind word.
    #[error("record of {0} bytes has no kind")]
    Empty(usize),
}

/// Types that may be copied out of a record's bytes.
///
/// # Safety
/// Implementors must be `repr(C)`, free of padding and valid for every bit pattern.
unsafe trait Plain: Copy {}
// SAFETY: profiler-common's record types are `repr(C)` integers and byte arrays with
// explicit padding fields, valid for any bit pattern.
unsafe impl Plain for ExecEvent {}
// SAFETY: as above.
unsafe impl Plain for ProcessEvent {}
// SAFETY: as above.
unsafe impl Plain for IntSigEvent {}
// SAFETY: as above.
unsafe impl Plain for StrSigEvent {}

fn read<T: Plain>(bytes: &[u8], kind: u32) -> Result<T, DecodeError> {
    if bytes.len() < size_of::<T>() {
        return Err(DecodeError::Short {
            kind,
            len: bytes.len(),
            expected: size_of::<T>(),
        });
    }
    // SAFETY: the length was checked, `T: Plain` accepts any bit pattern, and
    // `read_unaligned` has no alignment requirement.
    Ok(unsafe { std::ptr::read_unaligned(bytes.as_ptr().cast::<T>()) })
}

/// The bytes of a NUL-padded string as text (invalid UTF-8 is replaced, not dropped).
pub fn c_string(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

/// Decodes one record.
pub fn decode(bytes: &[u8]) -> Result<Record, DecodeError> {
    let kind_bytes: [u8; 4] = bytes
        .get(..4)
        .and_then(|b| b.try_into().ok())
        .ok_or(DecodeError::Empty(bytes.len()))?;
    let kind = u32::from_ne_bytes(kind_bytes);
    Ok(
        match EventKind::from_u32(kind).ok_or(DecodeError::UnknownKind(kind))? {
            EventKind::Exec => {
                let e: ExecEvent = read(bytes, kind)?;
                Record::Exec(ExecRecord {
                    tid: e.tid,
                    old_tid: e.old_tid,
                    adopted: e.adopted != 0,
                    exe: e.exe,
                    prev_exe: e.prev_exe,
                    filename: c_string(&e.filename),
                })
            }
            EventKind::Fork => {
                let e: ProcessEvent = read(bytes, kind)?;
                Record::Fork {
                    tgid: e.tgid,
                    parent: e.parent_tgid,
                    exe: e.exe,
                }
            }
            EventKind::Exit => Record::Exit {
                tgid: read::<ProcessEvent>(bytes, kind)?.tgid,
            },
            EventKind::Adopt => Record::Adopt {
                tgid: read::<ProcessEvent>(bytes, kind)?.tgid,
            },
            EventKind::IntSig => {
                let e: IntSigEvent = read(bytes, kind)?;
                Record::Signature(SignatureRecord {
                    tid: e.tid,
                    tgid: e.tgid,
                    exe: e.exe,
                    key: SignatureKey::Int(e.key),
                })
            }
            EventKind::StrSig => {
                let e: StrSigEvent = read(bytes, kind)?;
                Record::Signature(SignatureRecord {
                    tid: e.tid,
                    tgid: e.tgid,
                    exe: e.exe,
                    key: SignatureKey::Str(Box::new(e.key)),
                })
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes_of<T: Plain>(value: &T) -> Vec<u8> {
        // SAFETY: `T: Plain` has no padding, so every byte is initialised.
        unsafe {
            std::slice::from_raw_parts(std::ptr::from_ref(value).cast::<u8>(), size_of::<T>())
        }
        .to_vec()
    }

    #[test]
    fn decodes_exec_records() {
        let mut filename = [0u8; 256];
        filename[..7].copy_from_slice(b"/bin/sh");
        let event = ExecEvent {
            kind: EventKind::Exec as u32,
            tid: 10,
            old_tid: 11,
            adopted: 1,
            exe: 0xabc,
            prev_exe: 0xdef,
            ktime_ns: 5,
            filename,
        };
        assert_eq!(
            decode(&bytes_of(&event)),
            Ok(Record::Exec(ExecRecord {
                tid: 10,
                old_tid: 11,
                adopted: true,
                exe: 0xabc,
                prev_exe: 0xdef,
                filename: "/bin/sh".to_owned(),
            }))
        );
    }

    #[test]
    fn bad_records_are_errors() {
        assert_eq!(decode(&[1, 0]), Err(DecodeError::Empty(2)));
        assert_eq!(decode(&[9, 0, 0, 0]), Err(DecodeError::UnknownKind(9)));
        let short = [EventKind::Fork as u32 as u8, 0, 0, 0, 1, 2];
        assert_eq!(
            decode(&short),
            Err(DecodeError::Short {
                kind: 2,
                len: 6,
                expected: size_of::<ProcessEvent>()
            })
        );
        assert_eq!(
            DecodeError::UnknownKind(9).to_string(),
            "record of unknown kind 9"
        );
    }

    #[test]
    fn strings_stop_at_nul_and_keep_invalid_bytes_visible() {
        assert_eq!(c_string(b"/proc/self\0junk"), "/proc/self");
        assert_eq!(c_string(b"a\xffb"), "a\u{fffd}b");
        assert_eq!(c_string(b"full"), "full");
    }
}
