//! The maps, named after the constants in `profiler_common::maps`, and the small helpers
//! every program uses to count into them.

use core::intrinsics::{atomic_xadd, AtomicOrdering};

use crate::cache::TaskSlot;
use crate::capture::{Call, Work};
use aya_ebpf::{
    bindings::{BPF_F_NO_PREALLOC, BPF_NOEXIST},
    macros::map,
    maps::{Array, HashMap, PerCpuArray, PerCpuHashMap, ProgramArray, RingBuf},
};
use profiler_common::{
    event::{LostCause, LOST_CAUSES},
    key::{CountKey, CountSlot, IntSigKey, StrSigKey, TaskState},
    maps::{
        CONTROL_WORDS, COUNTS_CAPACITY, COUNT_CACHE_SLOTS, EVENTS_BYTES, SIGNATURES_CAPACITY,
        TASKS_CAPACITY,
    },
    spec::{SyscallSpec, MAX_SYSCALL_NR, SPEC_ENTRIES},
};

#[map(name = "SYSCALL_SPECS")]
pub static SYSCALL_SPECS: Array<SyscallSpec> = Array::with_max_entries(SPEC_ENTRIES, 0);

// The hash maps are not preallocated: preallocating COUNTS alone (131,072 entries on
// every CPU) took 0.1 to 0.4 s at start, and a capture uses a small part of them. An
// entry is allocated when a key is first inserted, which the programs do rarely. On
// kernels before 6.1, where tracing programs may not use such maps safely, the loader
// clears the flag (`NO_PREALLOC_MAPS`).

#[map(name = "TASKS")]
pub static TASKS: HashMap<u32, TaskState> =
    HashMap::with_max_entries(TASKS_CAPACITY, BPF_F_NO_PREALLOC);

#[map(name = "COUNTS")]
pub static COUNTS: PerCpuHashMap<CountKey, u64> =
    PerCpuHashMap::with_max_entries(COUNTS_CAPACITY, BPF_F_NO_PREALLOC);

#[map(name = "INT_SIGS")]
pub static INT_SIGS: HashMap<IntSigKey, u64> =
    HashMap::with_max_entries(SIGNATURES_CAPACITY, BPF_F_NO_PREALLOC);

#[map(name = "STR_SIGS")]
pub static STR_SIGS: HashMap<StrSigKey, u64> =
    HashMap::with_max_entries(SIGNATURES_CAPACITY, BPF_F_NO_PREALLOC);

#[map(name = "LOST")]
pub static LOST: PerCpuArray<u64> = PerCpuArray::with_max_entries(LOST_CAUSES, 0);

// Shared, not per CPU: it is only written when a map is full, and a per-CPU array of a
// thousand entries costs milliseconds to create.
#[map(name = "LOST_SIGNATURES")]
pub static LOST_SIGNATURES: Array<u64> = Array::with_max_entries(MAX_SYSCALL_NR, 0);

#[map(name = "EVENTS")]
pub static EVENTS: RingBuf = RingBuf::with_byte_size(EVENTS_BYTES, 0);

#[map(name = "SCRATCH")]
pub static SCRATCH: PerCpuArray<StrSigKey> = PerCpuArray::with_max_entries(1, 0);

/// The call `syscalls_sys_exit` hands to `syscalls_capture`.
#[map(name = "CALL")]
pub static CALL: PerCpuArray<Call> = PerCpuArray::with_max_entries(1, 0);

/// Working state of the argument capture: the strings a call has to read.
#[map(name = "WORK")]
pub static WORK: PerCpuArray<Work> = PerCpuArray::with_max_entries(1, 0);

#[map(name = "TASK_CACHE")]
pub static TASK_CACHE: PerCpuArray<TaskSlot> = PerCpuArray::with_max_entries(1, 0);

#[map(name = "COUNT_CACHE")]
pub static COUNT_CACHE: PerCpuArray<CountSlot> =
    PerCpuArray::with_max_entries(COUNT_CACHE_SLOTS, 0);

#[map(name = "CONTROL")]
pub static CONTROL: Array<u64> = Array::with_max_entries(CONTROL_WORDS, 0);

#[map(name = "PROGRAMS")]
pub static PROGRAMS: ProgramArray = ProgramArray::with_max_entries(1, 0);

/// Adds `n` to a counter in map memory. Atomic even for per-CPU values: a program on
/// this CPU can be preempted by another that counts into the same slot.
#[inline(always)]
pub fn add(counter: *mut u64, n: u64) {
    // SAFETY: `counter` comes from a successful map lookup: a live, 8-byte aligned map
    // value for the duration of this program. The result is unused, which is what lets
    // LLVM emit the plain BPF atomic add (no fetch) the `generic` CPU has.
    unsafe { atomic_xadd::<u64, u64, { AtomicOrdering::Relaxed }>(counter, n) };
}

/// Adds one to a counter in map memory (see [`add`]).
#[inline(always)]
pub fn bump(counter: *mut u64) {
    add(counter, 1);
}

/// Counts something that could not be recorded.
#[inline(always)]
pub fn lost(cause: LostCause) {
    lost_n(cause, 1);
}

/// Counts `n` things that could not be recorded.
#[inline(always)]
pub fn lost_n(cause: LostCause, n: u64) {
    if let Some(counter) = LOST.get_ptr_mut(cause as u32) {
        add(counter, n);
    }
}

/// Counts a call of native syscall `nr` whose signature was not recorded because the
/// signature map was full, both in total (`cause`) and per syscall.
#[inline(always)]
pub fn lost_signature(cause: LostCause, nr: u32) {
    lost(cause);
    if let Some(counter) = LOST_SIGNATURES.get_ptr_mut(nr) {
        bump(counter);
    }
}

/// Counts one syscall return (or entry, for calls that never return).
#[inline(always)]
pub fn count_call(exe: u64, nr: u32, errno: u32) {
    let key = CountKey { exe, nr, errno };
    if let Some(counter) = COUNTS.get_ptr_mut(key) {
        bump(counter);
        return;
    }
    if COUNTS.insert(key, 1, u64::from(BPF_NOEXIST)).is_ok() {
        return;
    }
    // Another program inserted the key first, or the map is full.
    match COUNTS.get_ptr_mut(key) {
        Some(counter) => bump(counter),
        None => lost(LostCause::CountsFull),
    }
}
