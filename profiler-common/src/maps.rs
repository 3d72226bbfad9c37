//! Names and sizes of the maps and globals the probe defines. The probe names its maps
//! with these constants and the loader looks them up with the same constants, so a
//! rename cannot silently break the pairing.

/// `Array<SyscallSpec>`, indexed by [`crate::spec::spec_index`].
pub const SYSCALL_SPECS: &str = "SYSCALL_SPECS";
/// `HashMap<u32 tid, TaskState>`: every task being traced.
pub const TASKS: &str = "TASKS";
/// `PerCpuHashMap<CountKey, u64>`: syscall calls per (executable, number, errno).
pub const COUNTS: &str = "COUNTS";
/// `HashMap<IntSigKey, u64>`: argument signatures without strings → calls.
pub const INT_SIGS: &str = "INT_SIGS";
/// `HashMap<StrSigKey, u64>`: argument signatures with strings → calls.
pub const STR_SIGS: &str = "STR_SIGS";
/// `PerCpuArray<u64>`, indexed by [`crate::event::LostCause`].
pub const LOST: &str = "LOST";
/// `Array<u64>`, indexed by native syscall number (below
/// [`crate::spec::MAX_SYSCALL_NR`]): calls whose argument signature was not recorded
/// because its signature map was full. Their sum is `LOST[IntSigsFull] +
/// LOST[StrSigsFull]`.
pub const LOST_SIGNATURES: &str = "LOST_SIGNATURES";
/// `PerCpuArray<CountSlot>` of [`COUNT_CACHE_SLOTS`]: the calls `syscalls_sys_exit`
/// counted on each CPU and has not yet added to [`COUNTS`].
pub const COUNT_CACHE: &str = "COUNT_CACHE";
/// Slots of [`COUNT_CACHE`] per CPU (a power of two).
pub const COUNT_CACHE_SLOTS: u32 = 32;

/// The [`COUNT_CACHE`] slot of calls of syscall `nr` returning `errno` (a multiplicative
/// hash; the executable is left out, one process rarely has two).
#[inline(always)]
pub const fn count_cache_slot(nr: u32, errno: u32) -> u32 {
    (nr ^ (errno << 10)).wrapping_mul(0x9e37_79b1) >> (32 - COUNT_CACHE_SLOTS.trailing_zeros())
}
/// `Array<u64>`: words userspace and the probe share, indexed by `CONTROL_*`.
pub const CONTROL: &str = "CONTROL";
/// [`CONTROL`] word: bumped by the probe whenever it changes `TASKS`, so per-CPU copies
/// of task states go stale.
pub const CONTROL_GENERATION: u32 = 0;
/// [`CONTROL`] word: non-zero once userspace has registered the tasks that existed
/// before the capture; until then nothing is cached.
pub const CONTROL_CACHE_ENABLED: u32 = 1;
/// [`CONTROL`] word: bumped by userspace whenever it removes tasks from `TASKS`. A word
/// of its own because userspace can only write a whole word, which would undo an
/// atomic add the probe made to [`CONTROL_GENERATION`] in between; the probe compares
/// the sum of the two.
pub const CONTROL_USER_GENERATION: u32 = 2;
/// Entries of [`CONTROL`].
pub const CONTROL_WORDS: u32 = 3;

/// `ProgramArray`: the programs `syscalls_sys_exit` tail-calls.
pub const PROGRAMS: &str = "PROGRAMS";
/// Index of `syscalls_capture` in [`PROGRAMS`].
pub const CAPTURE_PROGRAM: u32 = 0;
/// The argument-capture program, loaded but not attached.
pub const CAPTURE_PROGRAM_NAME: &str = "syscalls_capture";
/// `RingBuf`: exec, process and first-sighting records.
pub const EVENTS: &str = "EVENTS";
/// `PerCpuArray<StrSigKey>` of one element: scratch space, too large for the BPF stack.
pub const SCRATCH: &str = "SCRATCH";

/// The hash maps the probe declares with `BPF_F_NO_PREALLOC`: allocated as used. The
/// loader clears the flag on kernels that do not allow it in tracing programs.
pub const NO_PREALLOC_MAPS: [&str; 4] = [TASKS, COUNTS, INT_SIGS, STR_SIGS];

/// Global holding the [`crate::spec::ProbeConfig`].
pub const PROBE_CONFIG: &str = "PROBE_CONFIG";

/// Capacity of [`TASKS`]: live traced threads at once.
pub const TASKS_CAPACITY: u32 = 65_536;
/// Capacity of [`COUNTS`]: distinct (executable, syscall, errno) triples.
pub const COUNTS_CAPACITY: u32 = 131_072;
/// Capacity of [`INT_SIGS`] and of [`STR_SIGS`] each, unless the loader sizes them
/// (`sandprof profile --max-signatures`).
pub const SIGNATURES_CAPACITY: u32 = 65_536;
/// Size of [`EVENTS`] in bytes (a power of two, a multiple of the page size).
pub const EVENTS_BYTES: u32 = 8 << 20;
