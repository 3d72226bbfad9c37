//! `PROBE_CONFIG`, the read-only global userspace fills before load: `pt_regs` layout,
//! kernel struct offsets, the cgroup filter and path prefixes. It lives in `.rodata`,
//! which the loader freezes, so the verifier sees its values as constants and prunes
//! branches that cannot be taken (e.g. the cgroup filter in pid mode).

use aya_ebpf::{helpers::bpf_get_current_ancestor_cgroup_id, Global};
use profiler_common::spec::{PathPrefix, ProbeConfig, MAX_PATH_PREFIXES};

#[unsafe(no_mangle)]
pub(crate) static PROBE_CONFIG: Global<ProbeConfig> = Global::new(ProbeConfig {
    regs_window: 0,
    nr_in_window: 0,
    mode_in_window: 0,
    nr_width: 8,
    compat_mask: 0,
    compat_value: 1,
    arg_offsets: [0; 6],
    task_pid: 0,
    binprm_filename: 0,
    clone_thread: 0,
    cgroup_id: 0,
    cgroup_level: 0,
    tracer_tgid: 0,
    path_prefixes: [PathPrefix {
        len: 0,
        _pad: 0,
        bytes: [0; 8],
    }; MAX_PATH_PREFIXES],
});

/// Reads one field of the config without copying the whole struct onto the stack.
macro_rules! config {
    ($field:ident) => {{
        let config: *const profiler_common::spec::ProbeConfig =
            core::ptr::from_ref(&$crate::config::PROBE_CONFIG).cast();
        #[allow(unused_unsafe, reason = "the macro is also used inside unsafe blocks")]
        // SAFETY: `Global<T>` is `repr(transparent)` over an always-initialised `T`; the
        // volatile read keeps the compiler from folding the loader-provided value away.
        let value = unsafe { core::ptr::read_volatile(core::ptr::addr_of!((*config).$field)) };
        value
    }};
}
pub(crate) use config;

/// Whether the current task belongs to the target cgroup (cgroup mode only) and is not
/// sandprof itself.
#[inline(always)]
pub fn in_target_cgroup(pid_tgid: u64) -> bool {
    let cgroup_id = config!(cgroup_id);
    if cgroup_id == 0 || (pid_tgid >> 32) as u32 == config!(tracer_tgid) {
        return false;
    }
    // SAFETY: a plain BPF helper call; any level is accepted and out-of-range levels
    // return 0, which never equals a non-zero id.
    let ancestor = unsafe { bpf_get_current_ancestor_cgroup_id(config!(cgroup_level) as i32) };
    ancestor == cgroup_id
}

/// The prefix at `index` of the path filter.
#[inline(always)]
pub fn path_prefix(index: usize) -> PathPrefix {
    let config: *const ProbeConfig = core::ptr::from_ref(&PROBE_CONFIG).cast();
    if index >= MAX_PATH_PREFIXES {
        return PathPrefix::default();
    }
    // SAFETY: as in `cfg!`; `index` is in bounds.
    unsafe { core::ptr::read_volatile(core::ptr::addr_of!((*config).path_prefixes[index])) }
}
