//! Where the Kubernetes and node facts come from: the upstream revisions sandprof read
//! them at. Every generated file and note cites one of these, so an operator can check
//! a default against the document it came from.

/// gVisor revision the containerd, CRI-O and `/proc` facts were read at.
pub const GVISOR: &str = "google/gvisor@3c5eee17dc45659fb86843531074f38e78e0cc35";
/// Kata Containers revision the shim, RuntimeClass and limitation facts were read at.
pub const KATA: &str = "kata-containers/kata-containers@7c6ba40c54ea29b459b4997cff948caaba4e658b";

/// gVisor: containerd handler (`runtime_type`, `ConfigPath`, `[runsc_config]`).
pub const GVISOR_CONTAINERD: &str = "g3doc/user_guide/containerd/configuration.md";
/// gVisor: CRI-O handler (`runtime_type = "vm"`, `grouping`, `selinux = false`).
pub const GVISOR_CRIO: &str = "g3doc/user_guide/containerd/crio.md";
/// gVisor: the kernel release and build string the Sentry reports.
pub const GVISOR_VERSION: &str = "pkg/sentry/kernel/version/version.go";
/// gVisor: the fields of `/proc/<pid>/status` the Sentry writes.
pub const GVISOR_PROC_STATUS: &str = "pkg/sentry/fsimpl/proc/task_files.go";
/// gVisor: the only sysctls runsc reads from the OCI spec.
pub const GVISOR_SYSCTLS: &str = "runsc/boot/loader.go, runsc/sandbox/sandbox.go";

/// Kata: containerd handler layout for containerd 1.7 and 2.x.
pub const KATA_CONTAINERD: &str = "docs/how-to/containerd-kata.md";
/// Kata: CRI-O drop-in written by kata-deploy.
pub const KATA_CRIO: &str = "tools/packaging/kata-deploy/binary/src/runtime/crio.rs";
/// Kata: RuntimeClass `overhead.podFixed` defaults per hypervisor.
pub const KATA_OVERHEAD: &str =
    "tools/packaging/kata-deploy/helm-chart/kata-deploy/templates/runtimeclasses.yaml";
/// Kata: Firecracker needs a block-device snapshotter.
pub const KATA_FIRECRACKER: &str = "docs/how-to/how-to-use-kata-containers-with-firecracker.md";
/// Kata: architectural limitations (host network, hostPath, subPath, privileged…).
pub const KATA_LIMITATIONS: &str = "docs/Limitations.md";
/// Kata: the virtio-fs tag the guest mounts the shared container files from.
pub const KATA_SHARED_TAG: &str = "src/runtime/virtcontainers/kata_agent.go (mountGuestTag)";
/// Kata: the guest kernel command line (`systemd.unit=kata-containers.target`).
pub const KATA_KERNEL_PARAMS: &str = "src/runtime-rs/crates/hypervisor/src/kernel_param.rs";

/// containerd asks only `io.containerd.runc.v2` runtimes whether they support user
/// namespaces, so the kubelet refuses `hostUsers: false` for any other handler.
pub const CONTAINERD_USERNS: &str = "containerd/containerd internal/cri/server/service.go \
     (introspectRuntimeFeatures); google/gvisor#13303";
/// The fixed inode numbers of the kernel's initial namespaces.
pub const LINUX_INIT_NS: &str = "torvalds/linux include/uapi/linux/nsfs.h (enum init_ns_ino)";
