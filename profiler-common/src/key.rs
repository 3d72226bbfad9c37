//! Keys and values of the in-kernel aggregation maps. The kernel counts; userspace reads
//! the maps once, when the capture stops.

use crate::spec::{MAX_FIELDS, MAX_STRS, STR_LEN};

/// Set in a syscall number (in keys and records) when the call came through the compat
/// (32-bit) entry: the number is then one of the compat table.
pub const NR_COMPAT_BIT: u32 = 1 << 31;

/// Executable id of tasks adopted mid-capture before they were seen executing anything.
pub const EXE_UNKNOWN: u32 = 0;
/// Executable ids at and above this one are handed out by userspace for tasks that were
/// already running when the capture started; the kernel counts up from 1.
pub const EXE_USER_BASE: u32 = 1 << 30;

/// What the probe keeps per traced thread.
#[repr(C)]
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskState {
    /// Executable the thread runs now.
    pub exe: u32,
    /// Executable before its last successful exec (the `execve` return belongs to it).
    pub prev_exe: u32,
    /// Thread group (process) id.
    pub tgid: u32,
    /// Explicit padding, always 0.
    pub _pad: u32,
}

/// `COUNTS` key: one syscall number, from one executable, with one outcome.
#[repr(C)]
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CountKey {
    /// Executable id.
    pub exe: u32,
    /// Syscall number, with [`NR_COMPAT_BIT`] for compat calls.
    pub nr: u32,
    /// errno returned, 0 for success.
    pub errno: u32,
    /// Explicit padding, always 0.
    pub _pad: u32,
}

/// A field value could not be read from user memory; the value slot holds 0.
pub const SIG_UNREADABLE_BASE: u32 = 1 << 0;
/// The string in slot `i` is cut at `STR_LEN - 1` bytes: `SIG_TRUNCATED_BASE << i`.
pub const SIG_TRUNCATED_BASE: u32 = 1 << 8;

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

/// A path in the `EXES` map, NUL padded.
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct ExePath {
    /// The path bytes as the kernel reported them at exec.
    pub bytes: [u8; STR_LEN],
}

impl Default for ExePath {
    fn default() -> Self {
        Self {
            bytes: [0; STR_LEN],
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
    unsafe impl aya::Pod for super::IntSigKey {}
    // SAFETY: as above.
    unsafe impl aya::Pod for super::StrSigKey {}
    // SAFETY: as above.
    unsafe impl aya::Pod for super::ExePath {}
}
