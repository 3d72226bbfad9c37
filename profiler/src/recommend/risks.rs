//! What each option leaves exposed, and the controls that compensate: host-kernel or
//! hypervisor bugs, hardware side channels, shared storage and the shared network, plus
//! what the option's own configuration (runsc flags, GPU access, guest seccomp) opens.

use syscall_db::Runtime;

use crate::k8s::sources;

use super::facts::{GVISOR_GPU, GVISOR_SECURITY, KATA_GPU, KATA_GUEST_SECCOMP};
use super::model::{Choice, ResidualRisk};
use super::workload::WorkloadFacts;

/// The residual risks of `choice` for this workload: first the four every option
/// shares (in the same order for each, so options compare line by line), then what the
/// option's own configuration opens.
pub fn residual_risks(choice: Choice, gpu: bool, facts: &WorkloadFacts) -> Vec<ResidualRisk> {
    let mut out = vec![
        host_kernel(choice),
        side_channels(),
        shared_storage(choice),
        shared_network(),
    ];
    match choice {
        Choice::Gvisor => out.extend(gvisor_configuration(gpu, facts)),
        Choice::Kata => out.extend(kata_configuration(gpu)),
        Choice::HardenedRunc => out.push(no_sandbox()),
    }
    out
}

fn risk(id: &str, risk: String, controls: &[&str]) -> ResidualRisk {
    ResidualRisk {
        id: id.to_owned(),
        risk,
        controls: controls.iter().map(|c| (*c).to_owned()).collect(),
    }
}

/// The boundary itself failing: what an escape must chain, and how to keep it hard.
fn host_kernel(choice: Choice) -> ResidualRisk {
    let dedicated_pool = "a dedicated node pool for sandboxed pods (the label and taint \
                          `sandprof k8s node` writes), so an escape lands on a node without \
                          other workloads' secrets";
    let seccomp_in_sandbox = match choice {
        Choice::Gvisor => {
            "keep seccompProfile RuntimeDefault on the pod: the Sentry enforces it inside \
             the sandbox"
        }
        Choice::Kata => {
            "keep seccompProfile RuntimeDefault on the pod and set disable_guest_seccomp = \
             false in the Kata configuration, or the guest ignores it"
        }
        Choice::HardenedRunc => {
            "seccompProfile RuntimeDefault (or a profile narrowed to what the profile shows \
             the workload calls)"
        }
    };
    let (kernel_risk, patch) = match choice {
        Choice::Gvisor => (
            format!(
                "a bug in the Sentry chained with a bug in a host syscall its allowlist keeps, \
                 or in the gofer ({} {GVISOR_SECURITY})",
                sources::GVISOR
            ),
            "update runsc and the node kernel on a fixed cadence",
        ),
        Choice::Kata => (
            "a guest-kernel bug chained with a bug in the VMM's virtio devices, vhost or KVM"
                .to_owned(),
            "update Kata (VMM and guest kernel) and the node kernel on a fixed cadence",
        ),
        Choice::HardenedRunc => (
            "any bug in a host syscall the seccomp profile allows is an escape".to_owned(),
            "patch node kernels promptly; treat runc as a stopgap for this workload",
        ),
    };
    risk(
        "host-kernel",
        kernel_risk,
        &[patch, dedicated_pool, seccomp_in_sandbox],
    )
}

/// The same for every option: no software boundary stops the hardware's own leaks.
fn side_channels() -> ResidualRisk {
    risk(
        "side-channels",
        format!(
            "hardware side channels (Spectre-class, MDS, L1TF) cross every one of these \
             boundaries, a VM's included ({} {GVISOR_SECURITY})",
            sources::GVISOR
        ),
        &[
            "keep microcode and the kernel's mitigations on",
            "disable SMT, or use core scheduling, on nodes shared by hostile tenants",
            "dedicated nodes per tenant for the most sensitive tier",
        ],
    )
}

fn shared_storage(choice: Choice) -> ResidualRisk {
    let storage = match choice {
        Choice::Gvisor => "hostPath and shared volumes reach the node's files through the gofer",
        Choice::Kata => "hostPath and shared volumes reach the node's files through virtio-fs",
        Choice::HardenedRunc => "hostPath and shared volumes are the node's files",
    };
    risk(
        "shared-storage",
        format!("{storage}: whatever is mounted is inside the boundary"),
        &[
            "no hostPath volumes (sandprof audit: no-host-path)",
            "one PersistentVolume per tenant, read-only where the workload allows",
            "no container runtime socket or kubelet directory mounted",
        ],
    )
}

fn shared_network() -> ResidualRisk {
    risk(
        "shared-network",
        "the sandbox shares the cluster network: it can reach other pods, the node, the \
         kubelet and the cloud metadata endpoint unless denied"
            .to_owned(),
        &[
            "a default-deny NetworkPolicy in the namespace, then an egress allow-list",
            "block the node's metadata endpoint (169.254.169.254) and the kubelet port",
            "automountServiceAccountToken: false unless the workload calls the API",
        ],
    )
}

/// What gVisor's configuration for this workload opens: the runsc flags its reports ask
/// for, and nvproxy when it needs a GPU.
fn gvisor_configuration(gpu: bool, facts: &WorkloadFacts) -> Vec<ResidualRisk> {
    let mut out = Vec::new();
    let mut flags: Vec<&str> = facts
        .reports
        .iter()
        .filter_map(|r| r.verdict(Runtime::Gvisor))
        .flat_map(|v| &v.configuration)
        .filter_map(|r| r.flag.as_deref())
        .collect();
    flags.sort_unstable();
    flags.dedup();
    if !flags.is_empty() {
        out.push(risk(
            "runsc-flags",
            format!(
                "the workload needs runsc {}: each flag hands the sandbox more of the host",
                flags.join(" ")
            ),
            &[
                "set the flags in this RuntimeClass's runsc.toml only, not for every sandbox \
                 on the node",
                "a separate RuntimeClass (and node pool) for workloads that need them",
            ],
        ));
    }
    if gpu {
        out.push(risk(
            "gpu-driver",
            format!(
                "nvproxy forwards allowlisted ioctls to the host's NVIDIA driver: its bugs \
                 are reachable from the sandbox ({} {GVISOR_GPU})",
                sources::GVISOR
            ),
            &[
                "update NVIDIA drivers as soon as gVisor supports the new version",
                "keep --nvproxy-allowed-driver-capabilities to compute,utility",
                "GPU nodes only for GPU workloads",
            ],
        ));
    }
    out
}

/// What Kata's defaults leave open: the guest ignores the pod's seccomp profile, and a
/// passed-through GPU is isolated by the IOMMU alone.
fn kata_configuration(gpu: bool) -> Vec<ResidualRisk> {
    let mut out = vec![risk(
        "guest-seccomp",
        format!(
            "Kata does not apply the pod's seccomp profile inside the guest unless told to \
             (disable_guest_seccomp defaults to true; {} {KATA_GUEST_SECCOMP})",
            sources::KATA
        ),
        &["set disable_guest_seccomp = false in configuration-<hypervisor>.toml"],
    )];
    if gpu {
        out.push(risk(
            "gpu-dma",
            format!(
                "a passed-through GPU does DMA: its isolation is the IOMMU's ({} {KATA_GPU})",
                sources::KATA
            ),
            &[
                "IOMMU on for every GPU node",
                "one GPU per pod; share a GPU between tenants only through vGPU or MIG",
            ],
        ));
    }
    out
}

fn no_sandbox() -> ResidualRisk {
    risk(
        "no-sandbox",
        "nothing stands between the workload and the host kernel but the hardening".to_owned(),
        &[
            "hostUsers: false (user namespaces), so root in the pod is not root on the node",
            "plan the move to a sandbox once the exclusions are lifted",
        ],
    )
}
