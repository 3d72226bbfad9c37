//! The syscall hot path. Almost everything happens at return, where both the outcome
//! and (in `pt_regs`) the arguments are known: one task lookup, one spec lookup, one
//! count. At entry only the calls that never return are counted.
//!
//! raw_syscalls:sys_enter is `(struct pt_regs *regs, long id)` and sys_exit is
//! `(struct pt_regs *regs, long ret)`:
//! https://github.com/torvalds/linux/blob/v6.18/include/trace/events/syscalls.h

use aya_ebpf::{
    bindings::BPF_NOEXIST,
    helpers::{bpf_get_current_pid_tgid, bpf_ktime_get_ns, bpf_probe_read_kernel},
    programs::RawTracePointContext,
};
use profiler_common::{
    event::{EventKind, LostCause, ProcessEvent},
    key::{TaskState, EXE_UNKNOWN, NR_COMPAT_BIT, TASK_EXEC_PENDING},
    spec::{
        spec_index, SyscallSpec, MAX_SYSCALL_NR, SPEC_CHECK_COMPAT_AT_ENTER, SPEC_COUNT_AT_ENTER,
        SPEC_EXEC_LIKE, SPEC_FORK_LIKE,
    },
};

use crate::{
    cache, capture,
    config::{config, in_target_cgroup},
    maps::{count_call, lost, EVENTS, SYSCALL_SPECS, TASKS},
};

/// Largest errno the kernel returns (`MAX_ERRNO`).
const MAX_ERRNO: i64 = 4095;

/// Bytes of `pt_regs` read at once: the syscall number and the mode word.
const REGS_WINDOW: usize = 32;

/// The syscall number and ABI of the current call, read from `pt_regs`.
struct CallId {
    nr: u64,
    compat: bool,
}

#[inline(always)]
fn read_call_id(regs: *const u8) -> Option<CallId> {
    let start = config!(regs_window) as usize;
    // SAFETY: `regs` is the tracepoint's `struct pt_regs *`; the helper validates the
    // kernel address and fails instead of faulting.
    let window: [u8; REGS_WINDOW] =
        unsafe { bpf_probe_read_kernel(regs.wrapping_add(start).cast()) }.ok()?;
    let nr_at = config!(nr_in_window) as usize;
    let mode_at = config!(mode_in_window) as usize;
    if nr_at > REGS_WINDOW - 8 || mode_at > REGS_WINDOW - 8 {
        return None;
    }
    let word = |at: usize| u64::from_ne_bytes(window_bytes(&window, at));
    let nr = if config!(nr_width) == 4 {
        u64::from(word(nr_at) as u32)
    } else {
        word(nr_at)
    };
    let compat = word(mode_at) & config!(compat_mask) == config!(compat_value);
    Some(CallId { nr, compat })
}

#[inline(always)]
fn window_bytes(window: &[u8; REGS_WINDOW], at: usize) -> [u8; 8] {
    let mut out = [0u8; 8];
    let mut i = 0;
    while i < 8 {
        out[i] = window[(at + i) & (REGS_WINDOW - 1)];
        i += 1;
    }
    out
}

#[inline(always)]
fn spec(nr: u64, compat: bool) -> Option<&'static SyscallSpec> {
    if nr >= u64::from(MAX_SYSCALL_NR) {
        return None;
    }
    SYSCALL_SPECS.get(spec_index(nr as u32, compat))
}

/// The traced state of the current task, adopting it if it belongs to the target
/// cgroup and is seen for the first time.
#[inline(always)]
pub fn current_task(pid_tgid: u64) -> Option<TaskState> {
    let tid = pid_tgid as u32;
    if let Some(task) = TASKS.get_ptr(tid) {
        // SAFETY: a successful lookup returns a pointer to the live value.
        return Some(unsafe { *task });
    }
    if !in_target_cgroup(pid_tgid) {
        return None;
    }
    adopt(pid_tgid, EXE_UNKNOWN)
}

/// Starts tracing the current task, found in the target cgroup.
#[inline(always)]
pub fn adopt(pid_tgid: u64, exe: u64) -> Option<TaskState> {
    let tgid = (pid_tgid >> 32) as u32;
    let task = TaskState {
        exe,
        prev_exe: exe,
        tgid,
        flags: 0,
    };
    if TASKS
        .insert(pid_tgid as u32, task, u64::from(BPF_NOEXIST))
        .is_err()
    {
        // Either a racing program adopted it first (fine) or the map is full.
        if TASKS.get_ptr(pid_tgid as u32).is_none() {
            lost(LostCause::TasksFull);
            return None;
        }
        return Some(task);
    }
    cache::tasks_changed();
    emit_process(EventKind::Adopt, tgid, 0, exe);
    Some(task)
}

/// Sends a process record; counts it lost if the ring buffer is full.
#[inline(always)]
pub fn emit_process(kind: EventKind, tgid: u32, parent_tgid: u32, exe: u64) {
    let Some(mut entry) = EVENTS.reserve::<ProcessEvent>(0) else {
        lost(LostCause::RingBufFull);
        return;
    };
    entry.write(ProcessEvent {
        kind: kind as u32,
        tgid,
        parent_tgid,
        _pad: 0,
        exe,
        // SAFETY: a plain BPF helper call.
        ktime_ns: unsafe { bpf_ktime_get_ns() },
    });
    entry.submit(0);
}

pub fn on_enter(ctx: &RawTracePointContext) {
    let nr: u64 = ctx.arg(1);
    // Fast path: one array lookup decides that nothing happens at entry.
    let Some(native) = spec(nr, false) else {
        return;
    };
    if native.flags & (SPEC_COUNT_AT_ENTER | SPEC_CHECK_COMPAT_AT_ENTER) == 0 {
        return;
    }
    let pid_tgid = bpf_get_current_pid_tgid();
    let Some(task) = current_task(pid_tgid) else {
        return;
    };
    let Some(call) = read_call_id(ctx.arg(0)) else {
        return;
    };
    let Some(spec) = spec(call.nr, call.compat) else {
        return;
    };
    if spec.flags & SPEC_COUNT_AT_ENTER != 0 {
        count_call(task.exe, call_nr(&call), 0);
    }
}

/// The ABI of the exec whose return this is: the mode word describes the new image, so
/// the number decides. It is an exec-like number of the native table or the compat one.
#[inline(always)]
fn exec_return_abi(call: &CallId) -> bool {
    let native_exec = spec(call.nr, false).is_some_and(|s| s.flags & SPEC_EXEC_LIKE != 0);
    !native_exec && spec(call.nr, true).is_some_and(|s| s.flags & SPEC_EXEC_LIKE != 0)
}

#[inline(always)]
fn call_nr(call: &CallId) -> u32 {
    if call.compat {
        call.nr as u32 | NR_COMPAT_BIT
    } else {
        call.nr as u32
    }
}

pub fn on_exit(ctx: &RawTracePointContext) {
    let pid_tgid = bpf_get_current_pid_tgid();
    let Some(task) = cache::task(pid_tgid) else {
        return;
    };
    let regs: *const u8 = ctx.arg(0);
    let ret: i64 = ctx.arg(1);
    let Some(mut call) = read_call_id(regs) else {
        return;
    };
    if task.flags & TASK_EXEC_PENDING != 0 {
        call.compat = exec_return_abi(&call);
        if let Some(state) = TASKS.get_ptr_mut(pid_tgid as u32) {
            // SAFETY: a successful lookup returns a pointer to the live value.
            unsafe { (*state).flags &= !TASK_EXEC_PENDING };
            cache::tasks_changed();
        }
    }
    if call.nr >= u64::from(NR_COMPAT_BIT) {
        // Number -1: the return of a sigreturn (counted at entry), or of `syscall(-1)`,
        // which names no syscall.
        return;
    }
    let spec = spec(call.nr, call.compat);
    let flags = spec.map_or(0, |s| s.flags);
    if spec.is_none() {
        lost(LostCause::NrOutOfRange);
    }
    if flags & SPEC_COUNT_AT_ENTER != 0 {
        return;
    }
    if flags & SPEC_FORK_LIKE != 0 && ret == 0 {
        // The new task returning from clone/fork: not a call of its own.
        return;
    }
    let exec_success = flags & SPEC_EXEC_LIKE != 0 && ret == 0;
    let exe = if exec_success {
        task.prev_exe
    } else {
        task.exe
    };
    let errno = if (-MAX_ERRNO..0).contains(&ret) {
        (-ret) as u32
    } else {
        0
    };
    cache::count(exe, call_nr(&call), errno);
    // A successful exec has replaced the registers and the memory the arguments
    // pointed to; `sched_process_exec` recorded what was executed.
    if let Some(spec) = spec {
        if !call.compat && !exec_success && spec.n_fields > 0 && capture::may_record(regs, spec) {
            capture::enter(
                ctx,
                capture::Call {
                    pid_tgid,
                    exe,
                    nr: call.nr as u32,
                    errno,
                },
            );
        }
    }
}
