//! Loading and attaching the probe: preflight checks that turn a missing privilege or
//! kernel feature into one clear error, the probe config and spec table, and the five
//! attachments. Every attachment is held by a file descriptor owned by the returned
//! [`Probe`], so whatever way sandprof ends (return, error, panic, signal, even
//! SIGKILL) the kernel detaches the programs when the process goes.

use std::fs;
use std::path::Path;

use anyhow::{bail, Context as _};
use aya::maps::{Array, MapData, ProgramArray};
use aya::programs::RawTracePoint;
use aya::{Ebpf, EbpfLoader};
use profiler_common::maps as names;
use profiler_common::spec::{ProbeConfig, SyscallSpec};
use syscall_db::Arch;

use super::arch::{regs_layout, CLONE_THREAD};
use super::btf::KernelBtf;
use super::object;
use super::spec::{path_prefixes, CapturePlan};
use super::to_profile::Host;

/// The probe object, built by `build.rs` from `profiler-ebpf`.
pub const PROBE_OBJECT: &[u8] = aya::include_bytes_aligned!(concat!(env!("OUT_DIR"), "/profiler"));

/// Effective capability bits sandprof looks at (see capability(7)).
const CAP_SYS_ADMIN: u32 = 21;
const CAP_PERFMON: u32 = 38;
const CAP_BPF: u32 = 39;

/// Where the target filter points.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CgroupFilter {
    /// cgroup v2 id (the inode number of its directory).
    pub id: u64,
    /// Depth below the cgroup root (the root is level 0).
    pub level: u32,
}

/// The loaded and attached probe.
pub struct Probe {
    /// The object, its maps and its attached programs.
    pub ebpf: Ebpf,
    /// The plan the spec table was written from.
    pub plan: CapturePlan,
}

/// Checks privileges and kernel features; every failure names what is missing.
/// `proc_root` and `sys_root` are `/proc` and `/sys` except in tests.
pub fn preflight(proc_root: &Path, sys_root: &Path) -> anyhow::Result<()> {
    let status = fs::read_to_string(proc_root.join("self/status"))
        .context("failed to read /proc/self/status to check capabilities")?;
    let cap_eff = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        .context("/proc/self/status has no readable CapEff line")?;
    check_capabilities(cap_eff)?;
    if !sys_root.join("kernel/btf/vmlinux").exists() {
        bail!(
            "this kernel exposes no BTF ({} is missing); sandprof needs a kernel built with \
             CONFIG_DEBUG_INFO_BTF=y (Linux 5.8 or later)",
            sys_root.join("kernel/btf/vmlinux").display()
        );
    }
    Ok(())
}

/// What tracing needs, as measured on Linux 6.18 (`setpriv --reuid=65534
/// --ambient-caps=…`): map creation, program load and raw-tracepoint attach need
/// `CAP_BPF` and `CAP_PERFMON`, or `CAP_SYS_ADMIN`. (The kernel's BTF, which gives the
/// struct offsets, is readable by everyone.)
fn check_capabilities(cap_eff: u64) -> anyhow::Result<()> {
    let has = |cap: u32| cap_eff & (1u64 << cap) != 0;
    let mut missing = Vec::new();
    if !(has(CAP_BPF) || has(CAP_SYS_ADMIN)) {
        missing.push("CAP_BPF");
    }
    if !(has(CAP_PERFMON) || has(CAP_SYS_ADMIN)) {
        missing.push("CAP_PERFMON");
    }
    if missing.is_empty() {
        return Ok(());
    }
    bail!(
        "tracing needs root, or CAP_BPF and CAP_PERFMON (to load and attach the probe); this \
         process lacks {} (CapEff {cap_eff:#x}); run it as root, e.g. `sudo sandprof \
         profile …`",
        missing.join(" and ")
    )
}

/// Builds the probe config for `arch`, with the kernel's struct offsets from its BTF,
/// and the filter.
pub fn probe_config(arch: Arch, cgroup: Option<CgroupFilter>) -> anyhow::Result<ProbeConfig> {
    let layout = regs_layout(arch)
        .with_context(|| format!("tracing `{arch}` processes is not supported"))?;
    let btf = KernelBtf::running()?;
    for (_, tracepoint, args) in TASK_PROGRAMS {
        let found = btf.tracepoint_args(tracepoint)?;
        if found < args {
            bail!(
                "this kernel's `{tracepoint}` tracepoint passes {found} arguments, sandprof \
                 needs {args} (`sched_process_exit` gained `group_dead` in recent kernels)"
            );
        }
    }
    let mut config = ProbeConfig {
        task_pid: btf.member_offset("task_struct", "pid")?,
        binprm_filename: btf.member_offset("linux_binprm", "filename")?,
        clone_thread: CLONE_THREAD,
        tracer_tgid: std::process::id(),
        path_prefixes: path_prefixes(),
        ..ProbeConfig::default()
    };
    layout.apply(&mut config);
    if let Some(filter) = cgroup {
        config.cgroup_id = filter.id;
        config.cgroup_level = filter.level;
    }
    Ok(config)
}

impl Probe {
    /// Loads the probe with `config`, each signature map sized for `max_signatures`
    /// entries, writes the spec table and attaches everything.
    pub fn load(
        config: &ProbeConfig,
        plan: CapturePlan,
        max_signatures: u32,
    ) -> anyhow::Result<Probe> {
        if PROBE_OBJECT.is_empty() {
            bail!(
                "this sandprof was built without its eBPF object (AYA_BUILD_SKIP was set); \
                 rebuild it after `cargo xtask setup`"
            );
        }
        // An unknown release is treated as an old kernel: preallocated maps are safe
        // everywhere.
        let version = object::kernel_version(&Host::current().kernel).unwrap_or((0, 0));
        let object = object::for_kernel(PROBE_OBJECT, version)?;
        // No BTF for the loader: the probe has no CO-RE relocations to apply. (aya 0.14's
        // `EbpfLoader::new` reads and parses the kernel's BTF all the same, about a tenth
        // of start-up; its constructor offers no way around that.)
        let mut ebpf = EbpfLoader::new()
            .btf(None)
            .override_global(names::PROBE_CONFIG, config, true)
            .map_max_entries(names::INT_SIGS, max_signatures)
            .map_max_entries(names::STR_SIGS, max_signatures)
            .load(&object)
            .map_err(explain_bpf_error)
            .context("failed to load the eBPF object")?;
        write_specs(&mut ebpf, &plan.specs)?;
        // Task tracking first, so no fork of a traced task is missed once syscalls count.
        for (program, tracepoint, _) in TASK_PROGRAMS {
            let prog: &mut RawTracePoint = program_mut(&mut ebpf, program)?;
            prog.load()
                .with_context(|| format!("the kernel rejected program `{program}`"))?;
            prog.attach(tracepoint).with_context(|| {
                format!("failed to attach `{program}` to raw tracepoint {tracepoint}")
            })?;
        }
        install_capture_program(&mut ebpf)?;
        for (program, tracepoint) in SYSCALL_PROGRAMS {
            let prog: &mut RawTracePoint = program_mut(&mut ebpf, program)?;
            prog.load()
                .with_context(|| format!("the kernel rejected program `{program}`"))?;
            prog.attach(tracepoint).with_context(|| {
                format!(
                    "failed to attach `{program}` to raw tracepoint {tracepoint}; \
                     raw tracepoints need Linux 4.17 or later"
                )
            })?;
        }
        Ok(Probe { ebpf, plan })
    }

    /// Detaches every program, syscalls first; the maps stay readable.
    pub fn detach(&mut self) -> anyhow::Result<()> {
        for (program, _) in SYSCALL_PROGRAMS {
            program_mut::<RawTracePoint>(&mut self.ebpf, program)?
                .unload()
                .with_context(|| format!("failed to detach `{program}`"))?;
        }
        for (program, _, _) in TASK_PROGRAMS {
            program_mut::<RawTracePoint>(&mut self.ebpf, program)?
                .unload()
                .with_context(|| format!("failed to detach `{program}`"))?;
        }
        Ok(())
    }
}

/// Task programs, their raw tracepoints and the arguments they read.
const TASK_PROGRAMS: [(&str, &str, usize); 3] = [
    ("task_newtask", "task_newtask", 2),
    ("sched_process_exec", "sched_process_exec", 3),
    ("sched_process_exit", "sched_process_exit", 2),
];

/// Syscall programs and their raw tracepoints, the return side first.
const SYSCALL_PROGRAMS: [(&str, &str); 2] = [
    ("syscalls_sys_exit", "sys_exit"),
    ("syscalls_sys_enter", "sys_enter"),
];

fn program_mut<'a, T>(ebpf: &'a mut Ebpf, name: &str) -> anyhow::Result<&'a mut T>
where
    &'a mut T: TryFrom<&'a mut aya::programs::Program, Error = aya::programs::ProgramError>,
{
    let program = ebpf
        .program_mut(name)
        .with_context(|| format!("the eBPF object has no program `{name}`"))?;
    program
        .try_into()
        .with_context(|| format!("program `{name}` has an unexpected type"))
}

/// Loads `syscalls_capture` and puts it where `syscalls_sys_exit` tail-calls it.
fn install_capture_program(ebpf: &mut Ebpf) -> anyhow::Result<()> {
    let name = names::CAPTURE_PROGRAM_NAME;
    let program: &mut RawTracePoint = program_mut(ebpf, name)?;
    program
        .load()
        .with_context(|| format!("the kernel rejected program `{name}`"))?;
    let fd = program
        .fd()
        .with_context(|| format!("program `{name}` has no descriptor"))?
        .try_clone()
        .with_context(|| format!("failed to duplicate the descriptor of `{name}`"))?;
    let map = ebpf
        .map_mut(names::PROGRAMS)
        .with_context(|| format!("the eBPF object has no map `{}`", names::PROGRAMS))?;
    let mut programs: ProgramArray<&mut MapData> = ProgramArray::try_from(map)?;
    programs
        .set(names::CAPTURE_PROGRAM, &fd, 0)
        .with_context(|| format!("failed to install `{name}` for tail calls"))?;
    Ok(())
}

fn write_specs(ebpf: &mut Ebpf, specs: &[SyscallSpec]) -> anyhow::Result<()> {
    let map = ebpf
        .map_mut(names::SYSCALL_SPECS)
        .with_context(|| format!("the eBPF object has no map `{}`", names::SYSCALL_SPECS))?;
    let mut table: Array<&mut MapData, SyscallSpec> = Array::try_from(map)?;
    for (index, spec) in specs.iter().enumerate() {
        if *spec != SyscallSpec::default() {
            table
                .set(index as u32, spec, 0)
                .with_context(|| format!("failed to write spec entry {index}"))?;
        }
    }
    Ok(())
}

/// Adds what a bare `EPERM` or `ENOSYS` from bpf() means.
fn explain_bpf_error(err: aya::EbpfError) -> anyhow::Error {
    let text = format!("{err:#}");
    let hint = if text.contains("Operation not permitted") {
        Some("the kernel refused bpf(): run as root, or with CAP_BPF and CAP_PERFMON")
    } else if text.contains("Function not implemented") {
        Some("this kernel has no bpf() syscall (CONFIG_BPF_SYSCALL is off)")
    } else {
        None
    };
    let err = anyhow::Error::new(err);
    match hint {
        Some(hint) => err.context(hint),
        None => err,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_roots(cap_eff: &str, btf: bool) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("proc/self")).unwrap();
        fs::write(
            dir.path().join("proc/self/status"),
            format!("Name:\tsandprof\nCapEff:\t{cap_eff}\n"),
        )
        .unwrap();
        fs::create_dir_all(dir.path().join("sys/kernel/btf")).unwrap();
        if btf {
            fs::write(dir.path().join("sys/kernel/btf/vmlinux"), b"").unwrap();
        }
        dir
    }

    fn caps(caps: &[u32]) -> u64 {
        caps.iter().fold(0, |acc, cap| acc | (1 << cap))
    }

    #[test]
    fn root_or_bpf_and_perfmon_pass() {
        assert!(check_capabilities(0x1ff_ffff_ffff).is_ok());
        assert!(check_capabilities(caps(&[CAP_BPF, CAP_PERFMON])).is_ok());
        assert!(check_capabilities(caps(&[CAP_SYS_ADMIN])).is_ok());
    }

    #[test]
    fn missing_capabilities_are_named() {
        let err = |cap_eff| check_capabilities(cap_eff).unwrap_err().to_string();
        assert_eq!(
            err(0),
            "tracing needs root, or CAP_BPF and CAP_PERFMON (to load and attach the probe); \
             this process lacks CAP_BPF and CAP_PERFMON (CapEff 0x0); run it as root, e.g. \
             `sudo sandprof profile …`"
        );
        // What the kernel refused when measured: CAP_BPF alone cannot load tracing
        // programs, CAP_PERFMON alone cannot create maps.
        assert!(
            err(caps(&[CAP_BPF])).contains("this process lacks CAP_PERFMON (CapEff 0x8000000000)")
        );
        assert!(
            err(caps(&[CAP_PERFMON])).contains("this process lacks CAP_BPF (CapEff 0x4000000000)")
        );
    }

    #[test]
    fn missing_btf_is_named() {
        let dir = fake_roots("000001ffffffffff", false);
        let err = preflight(&dir.path().join("proc"), &dir.path().join("sys"))
            .map_err(|e| format!("{e:#}"))
            .unwrap_err();
        assert!(err.starts_with("this kernel exposes no BTF ("), "{err}");
        assert!(err.ends_with(
            "kernel/btf/vmlinux is missing); sandprof needs a kernel built with \
             CONFIG_DEBUG_INFO_BTF=y (Linux 5.8 or later)"
        ));
    }
}
