//! The capture spec: which syscalls need special handling and which of their arguments
//! the probe records, and how. Userspace derives it from `syscall-db` and writes it into
//! [`crate::maps::SYSCALL_SPECS`] before attaching; adding a capture rule is adding data.

/// Largest native syscall number the spec can describe (exclusive). Native and compat
/// numbers get a table half each, see [`spec_index`].
pub const MAX_SYSCALL_NR: u32 = 1024;
/// Entries in [`crate::maps::SYSCALL_SPECS`].
pub const SPEC_ENTRIES: u32 = 2 * MAX_SYSCALL_NR;

/// Index of a syscall in the spec table: native numbers first, compat (32-bit) after.
#[inline(always)]
pub const fn spec_index(nr: u32, compat: bool) -> u32 {
    if compat {
        nr + MAX_SYSCALL_NR
    } else {
        nr
    }
}

/// Count this syscall when it is entered: it never returns (`exit`, `exit_group`), or
/// its return carries no syscall number (`rt_sigreturn` restores the registers and sets
/// the number to -1).
pub const SPEC_COUNT_AT_ENTER: u32 = 1 << 0;
/// Creates a task: the new task also returns from it, with 0, and that return is not a
/// call of its own (`clone`, `clone3`, `fork`, `vfork`).
pub const SPEC_FORK_LIKE: u32 = 1 << 2;
/// Replaces the executable: a successful return belongs to the old executable
/// (`execve`, `execveat`).
pub const SPEC_EXEC_LIKE: u32 = 1 << 3;
/// On entry, look at the registers to learn whether this is a compat call, because the
/// compat syscall with the same number is counted at entry.
pub const SPEC_CHECK_COMPAT_AT_ENTER: u32 = 1 << 4;

/// Fields of one argument signature.
pub const MAX_FIELDS: usize = 4;
/// String slots of one argument signature.
pub const MAX_STRS: usize = 2;
/// Bytes of one captured string, NUL included (a power of two: the probe masks indices).
pub const STR_LEN: usize = 256;
/// Path prefixes the probe can filter on.
pub const MAX_PATH_PREFIXES: usize = 4;
/// Bytes of one path prefix.
pub const PATH_PREFIX_LEN: usize = 8;

/// How a field of a signature is read.
#[repr(u32)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum FieldKind {
    /// Slot unused.
    None = 0,
    /// The argument register itself, masked.
    Arg = 1,
    /// A `u16` at `offset` in the user memory the argument points to (sockaddr family).
    UserU16 = 2,
    /// A `u32` at `offset` in the user memory the argument points to.
    UserU32 = 3,
    /// A `u64` at `offset` in the user memory the argument points to.
    UserU64 = 4,
    /// A NUL-terminated user string, always kept.
    UserStr = 5,
    /// A NUL-terminated user path, kept only under a prefix of
    /// [`ProbeConfig::path_prefixes`]; numeric path components are folded to `#`.
    /// A call whose path matches no prefix records no signature (it is still counted).
    UserPath = 6,
}

impl FieldKind {
    /// Decodes a kind written by the other side; unknown values are refused.
    pub const fn from_u32(v: u32) -> Option<Self> {
        Some(match v {
            0 => Self::None,
            1 => Self::Arg,
            2 => Self::UserU16,
            3 => Self::UserU32,
            4 => Self::UserU64,
            5 => Self::UserStr,
            6 => Self::UserPath,
            _ => return None,
        })
    }

    /// Whether the field is stored in a string slot rather than a value slot.
    pub const fn is_string(self) -> bool {
        matches!(self, Self::UserStr | Self::UserPath)
    }
}

/// How to read one field of a signature.
#[repr(C)]
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSpec {
    /// A [`FieldKind`] as `u32`.
    pub kind: u32,
    /// Syscall argument index, 0 to 5.
    pub arg: u32,
    /// For `User*` kinds: byte offset into the pointed-to memory. For string kinds:
    /// the string slot (`0..MAX_STRS`).
    pub offset: u32,
    /// Explicit padding, always 0.
    pub _pad: u32,
    /// Bits kept of an integer value (`u64::MAX` keeps all).
    pub mask: u64,
}

/// What the probe does with one syscall number.
#[repr(C)]
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct SyscallSpec {
    /// `SPEC_*` flags.
    pub flags: u32,
    /// Number of leading used entries of `fields`.
    pub n_fields: u32,
    /// 1 + the argument index of the first [`FieldKind::UserPath`] field, 0 if there is
    /// none. A call whose path matches no prefix records no signature, so the return
    /// program tests this one path itself and enters argument capture only when it
    /// matches or cannot be read.
    pub path_gate: u32,
    /// Explicit padding, always 0.
    pub _pad: u32,
    /// Fields captured at return; field `i` lands in value or string slot `i`/`offset`.
    pub fields: [FieldSpec; MAX_FIELDS],
}

/// A path prefix, NUL padded; `len` bytes are compared, and the byte after them in the
/// path must be `/` or the end of the string.
#[repr(C)]
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct PathPrefix {
    /// Length in bytes; 0 marks an unused slot.
    pub len: u32,
    /// Explicit padding, always 0.
    pub _pad: u32,
    /// The prefix bytes.
    pub bytes: [u8; PATH_PREFIX_LEN],
}

/// Facts about the running kernel and architecture, and the target filter, written by
/// userspace into the probe's `PROBE_CONFIG` global before load.
#[repr(C)]
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct ProbeConfig {
    /// Byte offset in `struct pt_regs` of the register window read at every return.
    pub regs_window: u32,
    /// Offset of the syscall number within the window (`orig_ax` / `syscallno`).
    pub nr_in_window: u32,
    /// Offset of the mode word within the window (`cs` / `pstate`).
    pub mode_in_window: u32,
    /// Width of the syscall number field: 4 or 8 bytes.
    pub nr_width: u32,
    /// `mode & compat_mask == compat_value` marks a compat (32-bit) call.
    pub compat_mask: u64,
    /// See `compat_mask`.
    pub compat_value: u64,
    /// Byte offsets in `struct pt_regs` of syscall arguments 0 to 5, as they stand when
    /// the syscall returns.
    pub arg_offsets: [u32; 6],
    /// Offsets of the kernel struct fields the task programs read, from the kernel's
    /// BTF: `task_struct.pid`.
    pub task_pid: u32,
    /// `linux_binprm.filename` (a `const char *`).
    pub binprm_filename: u32,
    /// `CLONE_THREAD` of this kernel's ABI.
    pub clone_thread: u64,
    /// Non-zero: trace tasks whose cgroup at `cgroup_level` has this id, and adopt them
    /// as they show up. Zero: trace only tasks in `TASKS` and their descendants.
    pub cgroup_id: u64,
    /// Level of `cgroup_id` in the cgroup v2 hierarchy (root is 0).
    pub cgroup_level: u32,
    /// sandprof's own process id (in the initial pid namespace): never adopted, so the
    /// tracer does not trace itself when it runs inside the target cgroup.
    pub tracer_tgid: u32,
    /// Prefixes for [`FieldKind::UserPath`].
    pub path_prefixes: [PathPrefix; MAX_PATH_PREFIXES],
}

#[cfg(feature = "user")]
mod pod {
    // SAFETY: all three are `repr(C)`, made of integers and arrays of integers with
    // explicit padding fields, so every bit pattern is valid and none has padding.
    unsafe impl aya::Pod for super::SyscallSpec {}
    // SAFETY: as above.
    unsafe impl aya::Pod for super::FieldSpec {}
    // SAFETY: as above.
    unsafe impl aya::Pod for super::ProbeConfig {}
}
