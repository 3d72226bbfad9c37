//! Which runtime the current process runs under, from what it can read:
//!
//! - gVisor's Sentry reports a fixed kernel build string in `/proc/version` and, since
//!   2026, a release ending in `-gvisor` (4.4.0 before), and writes no `NoNewPrivs` line
//!   in `/proc/<pid>/status`;
//! - a Kata guest mounts the container's shared files from the virtio-fs tag
//!   `kataShared`, and its kernel command line names `kata-containers.target` or carries
//!   `agent.*` parameters;
//! - any VM shows the `hypervisor` CPU flag and virtio devices, which alone do not mean
//!   Kata: the node itself may be a VM.

use serde::Serialize;

use super::SystemView;
use crate::k8s::sources;

/// gVisor's kernel build string (`LinuxVersion`).
const GVISOR_BUILD: &str = "#1 SMP Sun Jan 10 15:06:54 PST 2016";
/// Kata's virtio-fs tag for the shared container files.
const KATA_SHARED_TAG: &str = "kataShared";

/// The runtime in use.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DetectedRuntime {
    /// gVisor: a user-space kernel.
    Gvisor,
    /// Kata Containers: a guest kernel in a VM.
    Kata,
    /// The node's own kernel, shared with the host: runc (or any namespaced container,
    /// or no container at all).
    RuncOrHost,
    /// Nothing identifies the kernel (no `/proc/version` to read): no runtime can be
    /// named, and least of all the host's.
    Unknown,
}

impl DetectedRuntime {
    /// As printed.
    pub fn label(self) -> &'static str {
        match self {
            DetectedRuntime::Gvisor => "gVisor (runsc)",
            DetectedRuntime::Kata => "Kata Containers (guest VM)",
            DetectedRuntime::RuncOrHost => "runc/host (shared host kernel)",
            DetectedRuntime::Unknown => "unknown (no evidence of the kernel)",
        }
    }
}

/// The conclusion and what it rests on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Detection {
    /// The runtime.
    pub runtime: DetectedRuntime,
    /// Each piece of evidence read, for or against.
    pub evidence: Vec<String>,
}

/// Looks for each runtime's markers.
pub fn detect(view: &SystemView) -> anyhow::Result<Detection> {
    let mut evidence = Vec::new();
    let mut gvisor = false;
    let mut kata = false;
    // runc/host is what remains when no sandbox marker is found, which is only a
    // conclusion when there was a kernel to look at.
    let mut kernel_seen = true;

    match view.read("/proc/version")? {
        Some(v) if v.contains(GVISOR_BUILD) => {
            gvisor = true;
            evidence.push(format!(
                "/proc/version carries gVisor's build string: {} ({} {})",
                v.trim(),
                sources::GVISOR,
                sources::GVISOR_VERSION
            ));
        }
        Some(v) => evidence.push(format!("/proc/version: {}", v.trim())),
        None => {
            kernel_seen = false;
            evidence.push("/proc/version: absent".to_owned());
        }
    }
    if let Some(release) = view.read("/proc/sys/kernel/osrelease")? {
        let release = release.trim();
        if release.ends_with("-gvisor") || release == "4.4.0" {
            gvisor = true;
            evidence.push(format!("kernel release {release} is one gVisor reports"));
        }
    }
    if let Some(status) = view.read("/proc/self/status")? {
        let has_seccomp = status.lines().any(|l| l.starts_with("Seccomp:"));
        let has_nnp = status.lines().any(|l| l.starts_with("NoNewPrivs:"));
        if has_seccomp && !has_nnp {
            evidence.push(format!(
                "/proc/self/status has no NoNewPrivs line, as under gVisor ({})",
                sources::GVISOR_PROC_STATUS
            ));
        }
    }

    if let Some(mountinfo) = view.read("/proc/self/mountinfo")? {
        let shared: Vec<&str> = mountinfo
            .lines()
            .filter(|l| mount_source(l) == Some(KATA_SHARED_TAG))
            .filter_map(|l| l.split(' ').nth(4))
            .collect();
        if !shared.is_empty() {
            kata = true;
            evidence.push(format!(
                "mounts from Kata's virtio-fs tag `{KATA_SHARED_TAG}`: {} ({} {})",
                shared.join(", "),
                sources::KATA,
                sources::KATA_SHARED_TAG
            ));
        }
    }
    if let Some(cmdline) = view.read("/proc/cmdline")? {
        let markers: Vec<&str> = cmdline
            .split_whitespace()
            .filter(|p| *p == "systemd.unit=kata-containers.target" || p.starts_with("agent."))
            .collect();
        if !markers.is_empty() {
            kata = true;
            evidence.push(format!(
                "kernel command line has Kata guest parameters: {} ({})",
                markers.join(" "),
                sources::KATA_KERNEL_PARAMS
            ));
        }
    }

    let hypervisor_flag = view.read("/proc/cpuinfo")?.is_some_and(|c| {
        c.lines()
            .any(|l| l.starts_with("flags") && l.split_whitespace().any(|f| f == "hypervisor"))
    });
    let virtio = view.list("/sys/bus/virtio/devices")?.unwrap_or_default();
    if hypervisor_flag || !virtio.is_empty() {
        evidence.push(format!(
            "running in a VM: hypervisor CPU flag {}, {} virtio device(s){}",
            if hypervisor_flag { "set" } else { "not set" },
            virtio.len(),
            if kata {
                ""
            } else {
                "; no Kata marker, so the VM is the node itself"
            }
        ));
    }

    let runtime = match (gvisor, kata, kernel_seen) {
        (true, _, _) => DetectedRuntime::Gvisor,
        (false, true, _) => DetectedRuntime::Kata,
        (false, false, true) => DetectedRuntime::RuncOrHost,
        (false, false, false) => DetectedRuntime::Unknown,
    };
    Ok(Detection { runtime, evidence })
}

/// The mount source of a `/proc/<pid>/mountinfo` line (the field after the fstype that
/// follows the ` - ` separator).
pub(crate) fn mount_source(line: &str) -> Option<&str> {
    let (_, tail) = line.split_once(" - ")?;
    tail.split(' ').nth(1)
}
