//! Ring-buffer records. Only rare things travel through the ring buffer: an exec, a
//! process start or end, the first sighting of an argument signature. Everything
//! frequent is counted in maps instead.

use crate::key::{IntSigKey, StrSigKey};
use crate::spec::STR_LEN;

/// Record kinds, the first `u32` of every record.
#[repr(u32)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// [`ExecEvent`].
    Exec = 1,
    /// [`ProcessEvent`]: a new process (not a thread) of a traced task.
    Fork = 2,
    /// [`ProcessEvent`]: the last thread of a traced process exited.
    Exit = 3,
    /// [`ProcessEvent`]: a task of the target cgroup traced from its first syscall.
    Adopt = 4,
    /// [`IntSigEvent`].
    IntSig = 5,
    /// [`StrSigEvent`].
    StrSig = 6,
}

impl EventKind {
    /// Decodes the first word of a record; unknown values are refused.
    pub const fn from_u32(v: u32) -> Option<Self> {
        Some(match v {
            1 => Self::Exec,
            2 => Self::Fork,
            3 => Self::Exit,
            4 => Self::Adopt,
            5 => Self::IntSig,
            6 => Self::StrSig,
            _ => return None,
        })
    }
}

/// Why an event or a count could not be recorded. Indexes `LOST`.
#[repr(u32)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum LostCause {
    /// The ring buffer was full.
    RingBufFull = 0,
    /// `COUNTS` was full: a syscall return was not counted.
    CountsFull = 1,
    /// `INT_SIGS` was full: a new signature was not recorded (the call was counted).
    IntSigsFull = 2,
    /// `STR_SIGS` was full: likewise.
    StrSigsFull = 3,
    /// `TASKS` was full: a new task was not traced.
    TasksFull = 4,
    /// The exec filename could not be read from the tracepoint.
    ExecNameUnreadable = 5,
    /// A syscall number beyond the spec table was seen (counted, arguments not captured).
    NrOutOfRange = 6,
}

/// Number of [`LostCause`] values, the length of `LOST`.
pub const LOST_CAUSES: u32 = 7;

/// A successful exec of a traced task.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct ExecEvent {
    /// [`EventKind::Exec`].
    pub kind: u32,
    /// Thread id after the exec (the thread group leader).
    pub tid: u32,
    /// Thread id that called exec, if it was not the leader.
    pub old_tid: u32,
    /// Set when the task was adopted by the cgroup filter at this exec.
    pub adopted: u32,
    /// Executable id now assigned to the task.
    pub exe: u64,
    /// Executable id before the exec.
    pub prev_exe: u64,
    /// Monotonic timestamp, ns.
    pub ktime_ns: u64,
    /// Filename as passed to exec, NUL padded.
    pub filename: [u8; STR_LEN],
}

/// A process start, end or adoption.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct ProcessEvent {
    /// [`EventKind::Fork`], [`EventKind::Exit`] or [`EventKind::Adopt`].
    pub kind: u32,
    /// The process (thread group) id.
    pub tgid: u32,
    /// For `Fork`: the parent process id. Otherwise 0.
    pub parent_tgid: u32,
    /// Explicit padding, always 0.
    pub _pad: u32,
    /// Executable id of the process at that moment.
    pub exe: u64,
    /// Monotonic timestamp, ns.
    pub ktime_ns: u64,
}

/// First sighting of an integer-only argument signature.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct IntSigEvent {
    /// [`EventKind::IntSig`].
    pub kind: u32,
    /// Thread that made the call.
    pub tid: u32,
    /// Its process.
    pub tgid: u32,
    /// Explicit padding, always 0.
    pub _pad: u32,
    /// Its executable id.
    pub exe: u64,
    /// The signature.
    pub key: IntSigKey,
}

/// First sighting of an argument signature with strings.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct StrSigEvent {
    /// [`EventKind::StrSig`].
    pub kind: u32,
    /// Thread that made the call.
    pub tid: u32,
    /// Its process.
    pub tgid: u32,
    /// Explicit padding, always 0.
    pub _pad: u32,
    /// Its executable id.
    pub exe: u64,
    /// The signature.
    pub key: StrSigKey,
}
