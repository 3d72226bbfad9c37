//! Following the traced tree: new tasks inherit their parent's state, an exec sets the
//! executable id (a hash of the path), exits drop the task.
//!
//! The three programs are raw tracepoints: they get the tracepoint's arguments, not a
//! formatted record, and the offsets of the two kernel struct fields they read
//! (`task_struct.pid`, `linux_binprm.filename`) come from the kernel's BTF via
//! `PROBE_CONFIG`. Raw tracepoints detach without waiting: closing the perf events of
//! classic tracepoints waited for an RCU grace period each, 60 to 80 ms apiece.
//! https://github.com/torvalds/linux/blob/v6.18/include/trace/events/task.h
//! https://github.com/torvalds/linux/blob/v6.18/include/trace/events/sched.h
//!
//! Why `task_newtask` rather than `sched_process_fork`: it carries `clone_flags`, so a
//! thread is told apart from a process, and it fires after the point of no return of
//! `copy_process`, so no task is registered for a fork that fails:
//! https://github.com/torvalds/linux/blob/v6.18/kernel/fork.c

use aya_ebpf::{
    helpers::{
        bpf_get_current_pid_tgid, bpf_ktime_get_ns, bpf_probe_read_kernel,
        bpf_probe_read_kernel_str_bytes,
    },
    programs::RawTracePointContext,
};
use profiler_common::{
    event::{EventKind, ExecEvent, LostCause},
    key::{exe_id_of, PathWords, TaskState, EXE_UNKNOWN, TASK_EXEC_PENDING},
    spec::STR_LEN,
};

use crate::{
    cache,
    config::{config, in_target_cgroup},
    maps::{lost, EVENTS, SCRATCH, TASKS},
    syscalls::{adopt, emit_process},
};

/// `task_newtask(struct task_struct *task, u64 clone_flags)`.
pub fn on_newtask(ctx: &RawTracePointContext) {
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
    let task: *const u8 = ctx.arg(0);
    let clone_flags: u64 = ctx.arg(1);
    // SAFETY: `task` is the new task; the offset is this kernel's, from its BTF; the
    // helper validates the address and fails instead of faulting.
    let Ok(child) = (unsafe {
        bpf_probe_read_kernel(task.wrapping_add(config!(task_pid) as usize).cast::<i32>())
    }) else {
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
    cache::tasks_changed();
    if !is_thread {
        emit_process(EventKind::Fork, child, parent.tgid, parent.exe);
    }
}

/// `sched_process_exec(struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)`.
pub fn on_exec(ctx: &RawTracePointContext) {
    let pid_tgid = bpf_get_current_pid_tgid();
    let tid = pid_tgid as u32;
    let old_tid = ctx.arg::<i32>(1) as u32;
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
    let exe = if read_filename(ctx.arg(2), filename) {
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
    let inserted = TASKS.insert(tid, state, 0);
    cache::tasks_changed();
    if inserted.is_err() {
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

/// Reads `bprm->filename` into `buf`, NUL padded.
#[inline(always)]
fn read_filename(bprm: *const u8, buf: &mut [u8; STR_LEN]) -> bool {
    *buf = [0; STR_LEN];
    // SAFETY: `bprm` is the exec's `struct linux_binprm *`; the offset is this kernel's,
    // from its BTF; the helpers validate the addresses and fail instead of faulting.
    unsafe {
        let Ok(filename) = bpf_probe_read_kernel(
            bprm.wrapping_add(config!(binprm_filename) as usize)
                .cast::<*const u8>(),
        ) else {
            return false;
        };
        bpf_probe_read_kernel_str_bytes(filename, buf).is_ok()
    }
}

/// `sched_process_exit(struct task_struct *p, bool group_dead)`.
pub fn on_exit(ctx: &RawTracePointContext) {
    let tid = bpf_get_current_pid_tgid() as u32;
    let Some(task) = TASKS.get_ptr(tid) else {
        return;
    };
    // SAFETY: a successful lookup returns a pointer to the live value.
    let task = unsafe { *task };
    let _ = TASKS.remove(tid);
    cache::tasks_changed();
    // A `bool` argument: only its low byte is defined.
    let group_dead = ctx.arg::<u64>(1) & 0xff;
    if group_dead != 0 {
        emit_process(EventKind::Exit, task.tgid, 0, task.exe);
    }
}
