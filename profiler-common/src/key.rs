//! Keys and values of the in-kernel aggregation maps. The kernel counts; userspace reads
//! the maps once, when the capture stops.

use crate::spec::{MAX_FIELDS, MAX_STRS, STR_LEN};

/// Set in a syscall number (in keys and records) when the call came through the compat
/// (32-bit) entry: the number is then one of the compat table.
pub const NR_COMPAT_BIT: u32 = 1 << 31;

/// Executable id of tasks adopted mid-capture before they were seen executing anything.
pub const EXE_UNKNOWN: u64 = 0;

/// Executable ids are a 64-bit FNV-1a hash of the path as exec reported it, computed by
/// the probe over the 32 little-endian words of the NUL-padded 256-byte buffer it reads
/// the path into (words, not bytes: a fixed loop without a branch per byte is cheap for
/// the kernel's verifier). Userspace, which sees every exec, maps them back to paths;
/// with 64 bits a collision among the executables of one capture is not a practical
/// concern.
pub const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
/// See [`FNV_OFFSET`].
pub const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// Words of a NUL-padded path buffer: the probe's string buffers are 8-aligned in map
/// memory and are hashed and folded as words (on the little-endian machines sandprof
/// runs on).
pub type PathWords = [u64; STR_LEN / 8];

/// The executable id of a path held NUL-padded in a buffer, as the probe computes it.
#[inline(always)]
pub fn exe_id_of(words: &PathWords) -> u64 {
    let mut hash = FNV_OFFSET;
    let mut k = 0;
    while k < STR_LEN / 8 {
        hash = (hash ^ words[k]).wrapping_mul(FNV_PRIME);
        k += 1;
    }
    if hash == EXE_UNKNOWN {
        1
    } else {
        hash
    }
}

/// The executable id of `path` (bytes up to the first NUL, at most `STR_LEN - 1` of
/// them, as the probe reads it).
pub fn exe_id(path: &[u8]) -> u64 {
    let len = path
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(path.len())
        .min(STR_LEN - 1);
    let mut words: PathWords = [0; STR_LEN / 8];
    for (i, &b) in path[..len].iter().enumerate() {
        words[i / 8] |= u64::from(b) << ((i % 8) * 8);
    }
    exe_id_of(&words)
}

/// What the probe keeps per traced thread.
#[repr(C)]
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskState {
    /// Executable the thread runs now.
    pub exe: u64,
    /// Executable before its last successful exec (the `execve` return belongs to it).
    pub prev_exe: u64,
    /// Thread group (process) id.
    pub tgid: u32,
    /// `TASK_*` flags.
    pub flags: u32,
}

/// The task has just executed a file and its next syscall return is that of the exec.
/// That return is judged by this flag, not by the registers: an exec from 64-bit into a
/// 32-bit binary returns in 32-bit mode with the 64-bit syscall number, and the reverse.
pub const TASK_EXEC_PENDING: u32 = 1 << 0;

/// `COUNTS` key: one syscall number, from one executable, with one outcome.
#[repr(C)]
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CountKey {
    /// Executable id.
    pub exe: u64,
    /// Syscall number, with [`NR_COMPAT_BIT`] for compat calls.
    pub nr: u32,
    /// errno returned, 0 for success.
    pub errno: u32,
}

/// One slot of the per-CPU count cache (`COUNT_CACHE`): calls of `key` counted on this
/// CPU and not yet added to `COUNTS`. Userspace adds what is left in the slots when it
/// drains the maps.
#[repr(C)]
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct CountSlot {
    /// What is counted.
    pub key: CountKey,
    /// Calls not yet in `COUNTS`.
    pub count: u64,
}

/// A field value could not be read from user memory; the value slot holds 0.
pub const SIG_UNREADABLE_BASE: u32 = 1 << 0;
/// The string in slot `i` is cut at `STR_LEN - 1` bytes: `SIG_TRUNCATED_BASE << i`.
pub const SIG_TRUNCATED_BASE: u32 = 1 << 8;
/// The path in string slot `i` lies outside the kept prefixes and is left out (the slot
/// holds zeros); the call was recorded for a non-zero value of its other fields:
/// `SIG_OUTSIDE_BASE << i`.
pub const SIG_OUTSIDE_BASE: u32 = 1 << 16;

/// `INT_SIGS` key: one distinct argument signature of one syscall, with its outcome.
#[repr(C)]
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct IntSigKey {
    /// Syscall number (native; arguments of compat calls are not captured).
    pub nr: u32,
    /// errno returned, 0 for success.
    pub errno: u32,
    /// `SIG_UNREADABLE_BASE << field` and `SIG_TRUNCATED_BASE << slot` bits.
    pub flags: u32,
    /// Explicit padding, always 0.
    pub _pad: u32,
    /// Field values, masked; string fields leave their value slot 0.
    pub values: [u64; MAX_FIELDS],
}

/// `STR_SIGS` key: an [`IntSigKey`] plus the captured strings, NUL padded.
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct StrSigKey {
    /// The integer part.
    pub base: IntSigKey,
    /// String slots.
    pub strs: [[u8; STR_LEN]; MAX_STRS],
}

impl Default for StrSigKey {
    fn default() -> Self {
        Self {
            base: IntSigKey::default(),
            strs: [[0; STR_LEN]; MAX_STRS],
        }
    }
}

#[cfg(feature = "user")]
mod pod {
    // SAFETY: all are `repr(C)`, made of integers and arrays of integers with explicit
    // padding fields, so every bit pattern is valid and none has padding.
    unsafe impl aya::Pod for super::TaskState {}
    // SAFETY: as above.
    unsafe impl aya::Pod for super::CountKey {}
    // SAFETY: as above.
    unsafe impl aya::Pod for super::CountSlot {}
    // SAFETY: as above.
    unsafe impl aya::Pod for super::IntSigKey {}
    // SAFETY: as above.
    unsafe impl aya::Pod for super::StrSigKey {}
}
