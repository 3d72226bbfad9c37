//! What each option is, independent of the workload: what it protects against, what an
//! escape must get through, what it costs and what a node needs. Upstream figures are
//! copied as numbers with the file and revision they come from (the revisions in
//! [`sources`]); sentences are ours.

use crate::bench::suite::MetricId;
use crate::bench::BenchResult;
use crate::k8s::runtimeclass::Measurement;
use crate::k8s::sandbox::{KataHypervisor, Sandbox};
use crate::k8s::sources;

use super::model::{Choice, CostBasis, CostItem, Nodes};

/// gVisor: security model (Sentry, gofer, host syscall allowlist, side channels).
pub const GVISOR_SECURITY: &str = "g3doc/architecture_guide/security.md";
/// gVisor: platforms (systrap default, KVM on bare metal, nested VMs).
pub const GVISOR_PLATFORMS: &str = "g3doc/architecture_guide/platforms.md";
/// gVisor: nvproxy (supported GPUs and drivers, driver surface).
pub const GVISOR_GPU: &str = "g3doc/user_guide/gpu.md";
/// gVisor: Docker inside the sandbox and the runsc flags it needs.
pub const GVISOR_DOCKER: &str = "g3doc/user_guide/tutorials/docker-in-gvisor.md";
/// gVisor: debug and strace logs under `[runsc_config]`.
pub const GVISOR_DEBUGGING: &str = "g3doc/user_guide/debugging.md";
/// gVisor: benchmark data behind the performance guide (GCE n1-standard-4, Docker;
/// methodology in `g3doc/architecture_guide/performance.md`).
pub const GVISOR_DENSITY: &str = "website/performance/density.csv";
/// gVisor: start-up times.
pub const GVISOR_STARTUP: &str = "website/performance/startup.csv";
/// gVisor: raw syscall times per platform.
pub const GVISOR_SYSCALL: &str = "website/performance/syscall.csv";

/// Kata: node prerequisites (`/dev/kvm`, nested virtualization, vhost modules).
pub const KATA_INSTALL: &str = "docs/installation.md";
/// Kata: threat model (guest kernel, VMM devices).
pub const KATA_THREAT_MODEL: &str = "docs/threat-model/threat-model.md";
/// Kata: hypervisor comparison (VFIO, start-up, overhead, CRI compatibility).
pub const KATA_HYPERVISORS: &str = "docs/design/virtualization.md";
/// Kata: NVIDIA GPU passthrough (VFIO, IOMMU, whole GPU or vGPU per VM).
pub const KATA_GPU: &str = "docs/use-cases/NVIDIA-GPU-passthrough-and-Kata.md";
/// Kata: `disable_guest_seccomp` and its default.
pub const KATA_GUEST_SECCOMP: &str =
    "src/runtime/config/configuration-qemu.toml.in, src/runtime/Makefile (DEFDISABLEGUESTSECCOMP)";

/// One row of an upstream benchmark table: runtime, value.
struct Measured {
    runc: f64,
    runsc: f64,
}

/// `density.csv`, `density.empty`: host memory per idle container, in bytes.
const DENSITY_EMPTY: Measured = Measured {
    runc: 4_092_149.76,
    runsc: 23_695_032.32,
};
/// `startup.csv`, `startup.empty`: container start through Docker, in milliseconds.
const STARTUP_EMPTY: Measured = Measured {
    runc: 1_193.107_68,
    runsc: 1_144.177_5,
};
/// `syscall.csv`: one raw syscall, in nanoseconds, under runc, runsc on the ptrace
/// platform and runsc on the KVM platform.
const SYSCALL_NS: (f64, f64, f64) = (1_939.0, 38_219.0, 763.0);

const MIB: f64 = 1024.0 * 1024.0;

/// The Kata flavour sandprof proposes: QEMU when a GPU is passed through (the NVIDIA
/// reference stack is QEMU-based), Cloud Hypervisor otherwise (the smaller overhead of
/// the hypervisors with full CRI support, filesystem sharing and VFIO).
pub fn kata_hypervisor(gpu: bool) -> KataHypervisor {
    if gpu {
        KataHypervisor::Qemu
    } else {
        KataHypervisor::Clh
    }
}

/// Why [`kata_hypervisor`] picked its answer.
pub fn kata_hypervisor_reason(gpu: bool) -> String {
    if gpu {
        format!(
            "Kata flavour kata-qemu: the NVIDIA passthrough reference stack is built on QEMU, \
             and Firecracker has no VFIO ({} {KATA_GPU}; {KATA_HYPERVISORS})",
            sources::KATA
        )
    } else {
        format!(
            "Kata flavour kata-clh: Cloud Hypervisor has full CRI support and virtio-fs, \
             with a 130Mi RuntimeClass overhead against QEMU's 320Mi ({} {KATA_HYPERVISORS}; \
             {})",
            sources::KATA,
            sources::KATA_OVERHEAD
        )
    }
}

/// The sandbox an option runs as, if it is one.
pub fn sandbox(choice: Choice, gpu: bool) -> Option<Sandbox> {
    match choice {
        Choice::Gvisor => Some(Sandbox::Gvisor),
        Choice::Kata => Some(Sandbox::Kata(kata_hypervisor(gpu))),
        Choice::HardenedRunc => None,
    }
}

/// What the option protects against.
pub fn protects_against(choice: Choice) -> Vec<String> {
    let lines: &[&str] = match choice {
        Choice::Gvisor => &[
            "host-kernel bugs reached through the workload's syscalls: the Sentry serves them and passes none through",
            "escapes through /proc, /sys and device files: the Sentry serves its own",
            "a compromised Sentry: it runs in empty namespaces under a seccomp allowlist without open or socket on the host",
        ],
        Choice::Kata => &[
            "host-kernel bugs reached through the workload's syscalls: they land in the guest kernel",
            "kernel-level tampering (modules, sysctls, mounts): confined to the pod's VM",
            "an escape needs a guest-kernel compromise and then a VMM or KVM bug",
        ],
        Choice::HardenedRunc => &[
            "privilege escalation through capabilities, setuid binaries and a writable root filesystem",
            "syscalls the RuntimeDefault seccomp profile denies",
        ],
    };
    lines.iter().map(|s| (*s).to_owned()).collect()
}

/// What an escape has to get through.
pub fn escape_surface(choice: Choice) -> String {
    match choice {
        Choice::Gvisor => format!(
            "the Sentry (a Go user-space kernel), then the host syscalls its seccomp allowlist \
             keeps, and the gofer's file operations ({} {GVISOR_SECURITY})",
            sources::GVISOR
        ),
        Choice::Kata => format!(
            "the guest kernel, then the VMM's virtio devices (block or virtio-fs, net, vsock), \
             vhost and KVM in the host kernel ({} {KATA_THREAT_MODEL})",
            sources::KATA
        ),
        Choice::HardenedRunc => "the host kernel itself: every syscall the seccomp profile \
                                 allows, one bug away from the node"
            .to_owned(),
    }
}

/// What the option costs, each figure with its basis.
pub fn cost(choice: Choice, gpu: bool) -> Vec<CostItem> {
    match choice {
        Choice::Gvisor => {
            let overhead = Sandbox::Gvisor.default_overhead();
            vec![
                CostItem {
                    what: "memory per sandbox".to_owned(),
                    value: format!(
                        "+{:.1} MiB over runc for an idle container ({:.1} MiB against {:.1} MiB)",
                        (DENSITY_EMPTY.runsc - DENSITY_EMPTY.runc) / MIB,
                        DENSITY_EMPTY.runsc / MIB,
                        DENSITY_EMPTY.runc / MIB
                    ),
                    basis: CostBasis::Published,
                    source: format!("{} {GVISOR_DENSITY}", sources::GVISOR),
                },
                CostItem {
                    what: "start-up".to_owned(),
                    value: format!(
                        "{:.0} ms against runc's {:.0} ms for an empty container started \
                         through Docker: no measurable penalty",
                        STARTUP_EMPTY.runsc, STARTUP_EMPTY.runc
                    ),
                    basis: CostBasis::Published,
                    source: format!("{} {GVISOR_STARTUP}", sources::GVISOR),
                },
                CostItem {
                    what: "syscall".to_owned(),
                    value: format!(
                        "{:.2} µs on the ptrace platform, {:.2} µs on KVM, against {:.2} µs \
                         under runc; systrap (the default) is not in this data: syscall-heavy \
                         workloads must measure",
                        SYSCALL_NS.1 / 1000.0,
                        SYSCALL_NS.2 / 1000.0,
                        SYSCALL_NS.0 / 1000.0
                    ),
                    basis: CostBasis::Published,
                    source: format!("{} {GVISOR_SYSCALL}", sources::GVISOR),
                },
                CostItem {
                    what: "RuntimeClass overhead".to_owned(),
                    value: format!("{} CPU, {} memory", overhead.cpu, overhead.memory),
                    basis: CostBasis::Estimate,
                    source: overhead.source,
                },
            ]
        }
        Choice::Kata => {
            let hv = kata_hypervisor(gpu);
            let overhead = Sandbox::Kata(hv).default_overhead();
            let mut items = vec![
                CostItem {
                    what: "RuntimeClass overhead".to_owned(),
                    value: format!(
                        "{} CPU, {} memory (kata-{})",
                        overhead.cpu,
                        overhead.memory,
                        hv.as_str()
                    ),
                    basis: CostBasis::Published,
                    source: overhead.source,
                },
                CostItem {
                    what: "start-up".to_owned(),
                    value: "one VM boot per pod; no figure published at this revision: time \
                            the smoke pod of `sandprof k8s node` on the target nodes"
                        .to_owned(),
                    basis: CostBasis::Unmeasured,
                    source: format!("{} {KATA_HYPERVISORS}", sources::KATA),
                },
            ];
            if gpu {
                items.push(CostItem {
                    what: "GPU".to_owned(),
                    value: "a whole GPU per pod with passthrough; sharing needs NVIDIA vGPU \
                            (time-sliced or MIG-backed)"
                        .to_owned(),
                    basis: CostBasis::Published,
                    source: format!("{} {KATA_GPU}", sources::KATA),
                });
            }
            items
        }
        Choice::HardenedRunc => vec![CostItem {
            what: "overhead".to_owned(),
            value: "none: the runtime the workload runs on today".to_owned(),
            basis: CostBasis::Baseline,
            source: "runc".to_owned(),
        }],
    }
}

/// gVisor's cost measured on the node by `sandprof bench`: the figures that replace
/// the published ones.
pub fn measured_gvisor_cost(bench: &BenchResult) -> Vec<CostItem> {
    let source = format!(
        "sandprof bench on {}, runsc {} (platform {}), {} repetitions",
        bench.date,
        bench.runsc.version,
        bench.runsc.platform.as_deref().unwrap_or("default"),
        bench.repetitions
    );
    let medians = |id: MetricId| {
        bench
            .metric(id)
            .map_or((0.0, 0.0), |m| (m.runc.median, m.runsc.median))
    };
    let (runc_mem, runsc_mem) = medians(MetricId::PssIdle);
    let (runc_start, runsc_start) = medians(MetricId::Startup);
    let (runc_call, runsc_call) = medians(MetricId::Syscall);
    let overhead = Measurement::from_bench(bench);
    let item = |what: &str, value: String| CostItem {
        what: what.to_owned(),
        value,
        basis: CostBasis::Measured,
        source: source.clone(),
    };
    vec![
        item(
            "memory per sandbox",
            format!(
                "+{:.1} MiB over runc for an idle container ({runsc_mem:.1} MiB against \
                 {runc_mem:.1} MiB)",
                runsc_mem - runc_mem
            ),
        ),
        item(
            "start-up",
            format!("{runsc_start:.0} ms against runc's {runc_start:.0} ms, create to exit"),
        ),
        item(
            "syscall",
            format!("{runsc_call:.2} µs against {runc_call:.2} µs under runc (getppid)"),
        ),
        item(
            "RuntimeClass overhead",
            format!(
                "{}m CPU, {}Mi memory (the measured footprint +25%)",
                overhead.cpu_millicores, overhead.memory_mib
            ),
        ),
    ]
}

/// What a node needs for the option.
pub fn node_requirements(choice: Choice, nodes: Nodes, gpu: bool) -> Vec<String> {
    let mut out = Vec::new();
    match choice {
        Choice::Gvisor => {
            out.push(format!(
                "no hardware virtualization: the default systrap platform runs on any x86-64 \
                 or arm64 Linux node, VMs included ({} {GVISOR_PLATFORMS})",
                sources::GVISOR
            ));
            if nodes == Nodes::BareMetal {
                out.push(
                    "on bare metal, runsc --platform=kvm cuts the cost of each syscall".to_owned(),
                );
            }
            if gpu {
                out.push(format!(
                    "runsc --nvproxy, a supported NVIDIA GPU and an exactly supported driver \
                     version (`runsc nvproxy list-supported-drivers`); only the compute and \
                     utility driver capabilities by default ({} {GVISOR_GPU})",
                    sources::GVISOR
                ));
            }
        }
        Choice::Kata => {
            out.push(format!(
                "/dev/kvm on the node (bare metal, or a VM with nested virtualization exposed) \
                 and the vhost_vsock and vhost_net modules ({} {KATA_INSTALL})",
                sources::KATA
            ));
            if gpu {
                out.push(format!(
                    "GPU passthrough: IOMMU on (intel_iommu=on or the AMD equivalent), the \
                     kernel's VFIO modules, the GPU bound to vfio-pci, a QEMU or Cloud \
                     Hypervisor handler and a guest image with the NVIDIA driver ({} {KATA_GPU})",
                    sources::KATA
                ));
            }
        }
        Choice::HardenedRunc => {
            out.push(
                "any node; seccomp and an LSM (AppArmor or SELinux) enabled, and id-mapped \
                 mount support for user namespaces (hostUsers: false)"
                    .to_owned(),
            );
            if gpu {
                out.push("the vendor's device plugin and container toolkit".to_owned());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_measurement_replaces_the_published_gvisor_figures() {
        let bench = crate::bench::result::fixture(&[
            (MetricId::PssIdle, 7.5, 40.3),
            (MetricId::Pss256Mib, 263.0, 293.1),
            (MetricId::Startup, 60.0, 1860.0),
            (MetricId::Syscall, 0.25, 46.0),
        ]);
        let cost = measured_gvisor_cost(&bench);
        let values: Vec<(&str, &str)> = cost
            .iter()
            .map(|c| (c.what.as_str(), c.value.as_str()))
            .collect();
        assert_eq!(
            values,
            [
                (
                    "memory per sandbox",
                    "+32.8 MiB over runc for an idle container (40.3 MiB against 7.5 MiB)"
                ),
                ("start-up", "1860 ms against runc's 60 ms, create to exit"),
                ("syscall", "46.00 µs against 0.25 µs under runc (getppid)"),
                (
                    "RuntimeClass overhead",
                    "1m CPU, 41Mi memory (the measured footprint +25%)"
                ),
            ]
        );
        assert!(cost.iter().all(|c| c.basis == CostBasis::Measured));
        assert_eq!(
            cost[0].source,
            "sandprof bench on 2026-12-02T02:08:38Z, runsc 0.0~20221219.0 (platform ptrace), 1 \
             repetitions"
        );
    }

    #[test]
    fn gvisor_memory_cost_is_computed_from_the_upstream_table() {
        let cost = cost(Choice::Gvisor, false);
        assert_eq!(
            cost[0].value,
            "+18.7 MiB over runc for an idle container (22.6 MiB against 3.9 MiB)"
        );
        assert_eq!(cost[0].basis, CostBasis::Published);
        assert_eq!(
            cost[2].value,
            "38.22 µs on the ptrace platform, 0.76 µs on KVM, against 1.94 µs under runc; \
             systrap (the default) is not in this data: syscall-heavy workloads must measure"
        );
        assert_eq!(cost[3].basis, CostBasis::Estimate);
    }
}
