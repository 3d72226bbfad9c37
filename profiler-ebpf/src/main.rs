//! sandprof's kernel side. Six programs:
//! - `syscalls_sys_enter` / `syscalls_sys_exit` (raw tracepoints): count every syscall of
//!   a traced task per (executable, number, errno); `syscalls_capture`, entered from
//!   `syscalls_sys_exit` by tail call, records the first sighting of each distinct
//!   argument signature the capture spec asks for;
//! - `task_newtask`, `sched_process_exec`, `sched_process_exit` (raw tracepoints):
//!   follow the traced task tree and the executables it runs.
//!
//! The programs are generic: which syscalls get which treatment, which arguments are
//! read and how, the `pt_regs` layout and the kernel struct offsets all come from
//! userspace (the `SYSCALL_SPECS` map and the `PROBE_CONFIG` global).
#![no_std]
#![no_main]
// `atomic_xadd`: the BPF target has 64-bit atomic add but no CAS, so core's `Atomic*`
// types do not offer `fetch_add` there.
#![expect(
    internal_features,
    reason = "atomic_xadd is the only atomic add on bpf"
)]
#![feature(core_intrinsics)]

mod cache;
mod capture;
mod config;
mod maps;
mod syscalls;
mod tasks;

use aya_ebpf::{macros::raw_tracepoint, programs::RawTracePointContext};

/// Every program returns 0: tracepoint return values are ignored by the kernel, and
/// failures are counted in `LOST` where they lose data.
const DONE: u32 = 0;

#[raw_tracepoint(tracepoint = "sys_enter")]
pub fn syscalls_sys_enter(ctx: RawTracePointContext) -> u32 {
    syscalls::on_enter(&ctx);
    DONE
}

#[raw_tracepoint(tracepoint = "sys_exit")]
pub fn syscalls_sys_exit(ctx: RawTracePointContext) -> u32 {
    syscalls::on_exit(&ctx);
    DONE
}

/// Argument capture, entered by tail call from `syscalls_sys_exit`; never attached.
#[raw_tracepoint(tracepoint = "sys_exit")]
pub fn syscalls_capture(ctx: RawTracePointContext) -> u32 {
    capture::run(&ctx);
    DONE
}

#[raw_tracepoint(tracepoint = "task_newtask")]
pub fn task_newtask(ctx: RawTracePointContext) -> u32 {
    tasks::on_newtask(&ctx);
    DONE
}

#[raw_tracepoint(tracepoint = "sched_process_exec")]
pub fn sched_process_exec(ctx: RawTracePointContext) -> u32 {
    tasks::on_exec(&ctx);
    DONE
}

#[raw_tracepoint(tracepoint = "sched_process_exit")]
pub fn sched_process_exit(ctx: RawTracePointContext) -> u32 {
    tasks::on_exit(&ctx);
    DONE
}

/// The benchmark's floor: a program that does nothing, on the same raw tracepoints and
/// attached the same way as `syscalls_sys_enter`. sandprof never attaches it; the
/// benchmark does, to measure what any syscall tracer pays before doing any work.
#[raw_tracepoint(tracepoint = "sys_enter")]
pub fn bench_noop_sys_enter(_ctx: RawTracePointContext) -> u32 {
    DONE
}

/// See [`bench_noop_sys_enter`].
#[raw_tracepoint(tracepoint = "sys_exit")]
pub fn bench_noop_sys_exit(_ctx: RawTracePointContext) -> u32 {
    DONE
}

#[cfg(not(test))]
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    // Unreachable in a verified program: the verifier rejects code that could get here.
    loop {}
}

#[unsafe(link_section = "license")]
#[unsafe(no_mangle)]
static LICENSE: [u8; 4] = *b"GPL\0";
