//! Following the traced tree: new tasks inherit their parent's state, an exec sets the
//! executable id (the FNV-1a hash of the path), exits drop the task. Field offsets of the tracepoint records come from
//! tracefs via `PROBE_CONFIG` (they differ between kernels: `sched_process_fork` moved its
//! comm fields to `__data_loc` strings, for instance).
//!
//! Why `task:task_newtask` rather than `sched:sched_process_fork`: it carries
//! `clone_flags`, so a thread is told apart from a process, and it fires after the point
//! of no return of `copy_process`, so no task is registered for a fork that fails:
//! https://github.com/torvalds/linux/blob/v6.18/kernel/fork.c

use aya_ebpf::{
    helpers::{bpf_get_current_pid_tgid, bpf_ktime_get_ns, bpf_probe_read_kernel_str_bytes},
    programs::TracePointContext,
    EbpfContext as _,
};
use profiler_common::{
    event::{EventKind, ExecEvent, LostCause},
    key::{exe_id_of, PathWords, TaskState, EXE_UNKNOWN, TASK_EXEC_PENDING},
    spec::STR_LEN,
};

use crate::{
    config::{config, in_target_cgroup},
    maps::{lost, EVENTS, SCRATCH, TASKS},
    syscalls::{adopt, emit_process},
};

pub fn on_newtask(ctx: &TracePointContext) {
    let pid_tgid = bpf_get_current_pid_tgid();
    let parent = match TASKS.get_ptr(pid_tgid as u32) {
        // SAFETY: a successful lookup returns a pointer to the live value.
        Some(parent) => unsafe { *parent },
        None if in_target_cgroup(pid_tgid) => match adopt(pid_tgid, EXE_UNKNOWN) {
            Some(parent) => parent,
            None => return,
        },
        None => return,
    };
    // SAFETY: offsets come from this kernel's tracepoint format; `read_at` uses a
    // checked probe read.
    let (Ok(child), Ok(clone_flags)) = (
        unsafe { ctx.read_at::<i32>(config!(newtask_pid) as usize) },
        unsafe { ctx.read_at::<u64>(config!(newtask_clone_flags) as usize) },
    ) else {
        return;
    };
    let is_thread = clone_flags & config!(clone_thread) != 0;
    let child = child as u32;
    let state = TaskState {
        exe: parent.exe,
        prev_exe: parent.exe,
        tgid: if is_thread { parent.tgid } else { child },
        flags: 0,
    };
    if TASKS.insert(child, state, 0).is_err() {
        lost(LostCause::TasksFull);
        return;
    }
    if !is_thread {
        emit_process(EventKind::Fork, child, parent.tgid, parent.exe);
    }
}

pub fn on_exec(ctx: &TracePointContext) {
    let pid_tgid = bpf_get_current_pid_tgid();
    let tid = pid_tgid as u32;
    // SAFETY: offset from this kernel's tracepoint format, checked probe read.
    let old_tid =
        unsafe { ctx.read_at::<i32>(config!(exec_old_pid) as usize) }.unwrap_or(tid as i32) as u32;
    // A non-leader thread that execs takes over the leader's pid: its state moves.
    let (previous, adopted) = match TASKS.get_ptr(old_tid) {
        // SAFETY: a successful lookup returns a pointer to the live value.
        Some(task) => (unsafe { *task }, false),
        None if in_target_cgroup(pid_tgid) => (
            TaskState {
                exe: EXE_UNKNOWN,
                prev_exe: EXE_UNKNOWN,
                tgid: (pid_tgid >> 32) as u32,
                flags: 0,
            },
            true,
        ),
        None => return,
    };
    if old_tid != tid {
        let _ = TASKS.remove(old_tid);
    }
    let Some(scratch) = SCRATCH.get_ptr_mut(0) else {
        return;
    };
    // SAFETY: the per-CPU scratch slot belongs to this program run on this CPU; its
    // first string slot holds the filename.
    let filename = unsafe { &mut (*scratch).strs[0] };
    let exe = if read_filename(ctx, filename) {
        // SAFETY: the string slots of the scratch key are 8-aligned and 256 bytes long.
        exe_id_of(unsafe { &*core::ptr::from_ref(filename).cast::<PathWords>() })
    } else {
        lost(LostCause::ExecNameUnreadable);
        EXE_UNKNOWN
    };
    let state = TaskState {
        exe,
        prev_exe: previous.exe,
        tgid: (pid_tgid >> 32) as u32,
        flags: TASK_EXEC_PENDING,
    };
    if TASKS.insert(tid, state, 0).is_err() {
        lost(LostCause::TasksFull);
        return;
    }
    let Some(mut entry) = EVENTS.reserve::<ExecEvent>(0) else {
        lost(LostCause::RingBufFull);
        return;
    };
    // SAFETY: the reserved record is uninitialised memory of the right size; every
    // field is written before submit.
    unsafe {
        let event = entry.as_mut_ptr();
        (*event).kind = EventKind::Exec as u32;
        (*event).tid = tid;
        (*event).old_tid = old_tid;
        (*event).adopted = u32::from(adopted);
        (*event).exe = exe;
        (*event).prev_exe = previous.exe;
        (*event).ktime_ns = bpf_ktime_get_ns();
        core::ptr::copy_nonoverlapping(
            filename.as_ptr(),
            core::ptr::addr_of_mut!((*event).filename).cast::<u8>(),
            STR_LEN,
        );
    }
    entry.submit(0);
}

/// Reads the exec record's `__data_loc char[] filename` into `buf`, NUL padded.
#[inline(always)]
fn read_filename(ctx: &TracePointContext, buf: &mut [u8; STR_LEN]) -> bool {
    *buf = [0; STR_LEN];
    // SAFETY: offset from this kernel's tracepoint format, checked probe read.
    let Ok(loc) = (unsafe { ctx.read_at::<u32>(config!(exec_filename) as usize) }) else {
        return false;
    };
    // A `__data_loc` holds the string's offset in the record (low 16 bits) and its
    // length (high 16 bits).
    let src = (ctx.as_ptr() as *const u8).wrapping_add((loc & 0xffff) as usize);
    // SAFETY: `src` points into the tracepoint record; the helper bounds the read.
    unsafe { bpf_probe_read_kernel_str_bytes(src, buf) }.is_ok()
}

pub fn on_exit(ctx: &TracePointContext) {
    let tid = bpf_get_current_pid_tgid() as u32;
    let Some(task) = TASKS.get_ptr(tid) else {
        return;
    };
    // SAFETY: a successful lookup returns a pointer to the live value.
    let task = unsafe { *task };
    let _ = TASKS.remove(tid);
    // SAFETY: offset from this kernel's tracepoint format, checked probe read.
    let group_dead = unsafe { ctx.read_at::<u8>(config!(exit_group_dead) as usize) }.unwrap_or(0);
    if group_dead != 0 {
        emit_process(EventKind::Exit, task.tgid, 0, task.exe);
    }
}
