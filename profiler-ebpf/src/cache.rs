//! Per-CPU caches in front of the two hash lookups every traced syscall return made:
//! the task (`TASKS`, by thread id) and the count (`COUNTS`, by executable, number and
//! errno). Each hash lookup cost about 45 ns per call on the benchmark machine; an
//! array slot of this CPU costs a few.
//!
//! Only `syscalls_sys_exit` (and the program it tail-calls) uses them. The kernel never
//! runs a program on a CPU while the same program already runs there (it counts a
//! "recursion miss" instead), so a slot is never written by two runs at once, even on
//! kernels that preempt programs.
//!
//! - The task slot remembers the last thread this CPU looked up, with the generation of
//!   `TASKS` it saw; every change to `TASKS` bumps the generation (the probe's own
//!   changes one word, userspace's removals another). "Not traced" is
//!   remembered only when following a task tree, where a task becomes traced only by
//!   entering `TASKS`; a task can move into a target cgroup without that. Nothing is
//!   cached until userspace has registered the tasks that existed before the capture
//!   (`CONTROL_CACHE_ENABLED`).
//! - The count slots hold calls not yet added to `COUNTS`, one key per slot; a call of
//!   another key in the same slot adds the pending calls to `COUNTS` first. Userspace
//!   adds what is left in the slots after detaching, so counts stay exact.

use aya_ebpf::bindings::BPF_NOEXIST;
use profiler_common::{
    event::LostCause,
    key::{CountKey, TaskState},
    maps::{
        count_cache_slot, CONTROL_CACHE_ENABLED, CONTROL_GENERATION, CONTROL_USER_GENERATION,
        COUNT_CACHE_SLOTS,
    },
};

use crate::{
    config::config,
    maps::{add, lost_n, CONTROL, COUNTS, COUNT_CACHE, TASK_CACHE},
    syscalls::current_task,
};

/// The last thread this CPU looked up.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct TaskSlot {
    /// Its `pid_tgid`.
    pid_tgid: u64,
    /// The `TASKS` generation the entry was read at.
    generation: u64,
    /// Its state, if `traced`.
    state: TaskState,
    /// Non-zero if the thread is traced.
    traced: u64,
}

#[inline(always)]
fn control(word: u32) -> u64 {
    match CONTROL.get(word) {
        // SAFETY: a live array element; volatile because other CPUs change it.
        Some(value) => unsafe { core::ptr::read_volatile(value) },
        None => 0,
    }
}

/// Marks every cached task state stale: `TASKS` changed.
#[inline(always)]
pub fn tasks_changed() {
    if let Some(generation) = CONTROL.get_ptr_mut(CONTROL_GENERATION) {
        crate::maps::bump(generation);
    }
}

/// The traced state of the current task, from this CPU's slot when it is current.
#[inline(always)]
pub fn task(pid_tgid: u64) -> Option<TaskState> {
    if control(CONTROL_CACHE_ENABLED) == 0 {
        return current_task(pid_tgid);
    }
    // Read before the lookup: a change after it makes the slot stale, not wrong. Both
    // words only grow, so any change to either changes the sum.
    let generation = control(CONTROL_GENERATION).wrapping_add(control(CONTROL_USER_GENERATION));
    let Some(slot) = TASK_CACHE.get_ptr_mut(0) else {
        return current_task(pid_tgid);
    };
    // SAFETY: this CPU's slot; only this program writes it (see the module comment).
    let slot = unsafe { &mut *slot };
    if slot.pid_tgid == pid_tgid && slot.generation == generation {
        return (slot.traced != 0).then_some(slot.state);
    }
    let found = current_task(pid_tgid);
    if found.is_none() && config!(cgroup_id) != 0 {
        // A task can move into the target cgroup at any time without `TASKS`
        // changing: "not traced" is only cached when following a task tree.
        return None;
    }
    slot.pid_tgid = pid_tgid;
    slot.generation = generation;
    slot.traced = u64::from(found.is_some());
    slot.state = found.unwrap_or_default();
    found
}

/// Counts one call in this CPU's slot for its key.
#[inline(always)]
pub fn count(exe: u64, nr: u32, errno: u32) {
    let key = CountKey { exe, nr, errno };
    let index = count_cache_slot(nr, errno);
    let Some(slot) = COUNT_CACHE.get_ptr_mut(index & (COUNT_CACHE_SLOTS - 1)) else {
        crate::maps::count_call(exe, nr, errno);
        return;
    };
    // SAFETY: this CPU's slot; only this program writes it (see the module comment).
    let slot = unsafe { &mut *slot };
    if slot.key == key {
        slot.count += 1;
        return;
    }
    if slot.count > 0 {
        flush(&slot.key, slot.count);
    }
    slot.key = key;
    slot.count = 1;
}

/// Adds `count` calls of `key` to `COUNTS`.
#[inline(always)]
fn flush(key: &CountKey, count: u64) {
    if let Some(counter) = COUNTS.get_ptr_mut(key) {
        add(counter, count);
        return;
    }
    if COUNTS.insert(key, count, u64::from(BPF_NOEXIST)).is_ok() {
        return;
    }
    // Another program inserted the key first, or the map is full.
    match COUNTS.get_ptr_mut(key) {
        Some(counter) => add(counter, count),
        None => lost_n(LostCause::CountsFull, count),
    }
}
