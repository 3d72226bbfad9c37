//! The sandboxed runtimes sandprof wires into a node, and the names each one goes by:
//! CRI handler, RuntimeClass, containerd shim type, configuration file, node label and
//! taint, and the RuntimeClass overhead defaults with their source.

use std::fmt;

use syscall_db::Runtime;

use super::sources;

/// Label and taint key sandprof puts on sandbox nodes; the value is the RuntimeClass.
pub const NODE_KEY: &str = "sandbox.sandprof.dev/runtime";

/// The virtual machine monitor a Kata handler starts.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum KataHypervisor {
    /// QEMU: the widest device and feature support.
    Qemu,
    /// Cloud Hypervisor: a smaller VMM with virtio-fs.
    Clh,
    /// Firecracker: the smallest VMM; needs the devmapper snapshotter, no virtio-fs.
    Fc,
}

impl KataHypervisor {
    /// The shim name Kata's packaging uses (`qemu`, `clh`, `fc`).
    pub const fn as_str(self) -> &'static str {
        match self {
            KataHypervisor::Qemu => "qemu",
            KataHypervisor::Clh => "clh",
            KataHypervisor::Fc => "fc",
        }
    }
}

/// A sandboxed runtime as configured on a node.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Sandbox {
    /// gVisor through `containerd-shim-runsc-v1`.
    Gvisor,
    /// Kata Containers through `containerd-shim-kata-v2`, with one hypervisor.
    Kata(KataHypervisor),
}

/// A `overhead.podFixed` default and where it comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OverheadDefault {
    /// CPU, as a Kubernetes quantity.
    pub cpu: &'static str,
    /// Memory, as a Kubernetes quantity.
    pub memory: &'static str,
    /// Where the numbers come from.
    pub source: String,
}

impl Sandbox {
    /// Builds the sandbox from the command-line choice of runtime and Kata flavour.
    pub fn new(runtime: Runtime, kata: KataHypervisor) -> Sandbox {
        match runtime {
            Runtime::Gvisor => Sandbox::Gvisor,
            Runtime::Kata => Sandbox::Kata(kata),
        }
    }

    /// The database runtime this sandbox is an instance of.
    pub const fn runtime(self) -> Runtime {
        match self {
            Sandbox::Gvisor => Runtime::Gvisor,
            Sandbox::Kata(_) => Runtime::Kata,
        }
    }

    /// The CRI handler name: the containerd `runtimes.<name>` table, the CRI-O
    /// `runtimes.<name>` table and the RuntimeClass `handler`.
    pub fn handler(self) -> &'static str {
        match self {
            Sandbox::Gvisor => "runsc",
            Sandbox::Kata(KataHypervisor::Qemu) => "kata-qemu",
            Sandbox::Kata(KataHypervisor::Clh) => "kata-clh",
            Sandbox::Kata(KataHypervisor::Fc) => "kata-fc",
        }
    }

    /// The RuntimeClass name pods refer to in `runtimeClassName`.
    pub fn runtime_class(self) -> &'static str {
        match self {
            Sandbox::Gvisor => "gvisor",
            Sandbox::Kata(_) => self.handler(),
        }
    }

    /// containerd `runtime_type`: `io.containerd.<name>.<version>` names the shim binary
    /// `containerd-shim-<name>-<version>`.
    pub fn containerd_runtime_type(self) -> &'static str {
        match self {
            Sandbox::Gvisor => "io.containerd.runsc.v1",
            Sandbox::Kata(KataHypervisor::Qemu) => "io.containerd.kata-qemu.v2",
            Sandbox::Kata(KataHypervisor::Clh) => "io.containerd.kata-clh.v2",
            Sandbox::Kata(KataHypervisor::Fc) => "io.containerd.kata-fc.v2",
        }
    }

    /// The shim binary path CRI-O runs.
    pub fn shim_path(self) -> &'static str {
        match self {
            Sandbox::Gvisor => "/usr/local/bin/containerd-shim-runsc-v1",
            Sandbox::Kata(_) => "/opt/kata/bin/containerd-shim-kata-v2",
        }
    }

    /// The configuration file the shim reads (`ConfigPath`).
    pub fn config_path(self) -> String {
        match self {
            Sandbox::Gvisor => "/etc/containerd/runsc.toml".to_owned(),
            Sandbox::Kata(hv) => format!(
                "/opt/kata/share/defaults/kata-containers/configuration-{}.toml",
                hv.as_str()
            ),
        }
    }

    /// Pod annotations containerd passes through to the runtime.
    pub fn pod_annotations(self) -> &'static str {
        match self {
            Sandbox::Gvisor => "dev.gvisor.*",
            Sandbox::Kata(_) => "io.katacontainers.*",
        }
    }

    /// The upstream document the handler layout was read from.
    pub fn containerd_source(self) -> String {
        match self {
            Sandbox::Gvisor => format!("{} {}", sources::GVISOR, sources::GVISOR_CONTAINERD),
            Sandbox::Kata(_) => format!("{} {}", sources::KATA, sources::KATA_CONTAINERD),
        }
    }

    /// The default `overhead.podFixed` when nothing was measured.
    pub fn default_overhead(self) -> OverheadDefault {
        match self {
            // gVisor publishes no per-pod overhead. The Sentry and gofer of an idle
            // sandbox hold a few tens of MiB; this is our estimate, to be replaced by a
            // measurement.
            Sandbox::Gvisor => OverheadDefault {
                cpu: "100m",
                memory: "64Mi",
                source: "sandprof estimate (gVisor publishes no pod overhead); measure it and \
                         pass --measurement"
                    .to_owned(),
            },
            Sandbox::Kata(hv) => {
                let memory = match hv {
                    KataHypervisor::Qemu => "320Mi",
                    KataHypervisor::Clh | KataHypervisor::Fc => "130Mi",
                };
                OverheadDefault {
                    cpu: "250m",
                    memory,
                    source: format!(
                        "kata-deploy default for `{}` ({} {})",
                        hv.as_str(),
                        sources::KATA,
                        sources::KATA_OVERHEAD
                    ),
                }
            }
        }
    }

    /// Whether the kubelet accepts `hostUsers: false` for this handler. It does not:
    /// containerd reports user-namespace support only for runc-type runtimes.
    pub const fn supports_host_users_false(self) -> bool {
        false
    }
}

impl fmt::Display for Sandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Sandbox::Gvisor => f.write_str("gVisor (runsc)"),
            Sandbox::Kata(hv) => write!(f, "Kata Containers ({})", hv.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_upstream_packaging() {
        let fc = Sandbox::Kata(KataHypervisor::Fc);
        assert_eq!(fc.handler(), "kata-fc");
        assert_eq!(fc.runtime_class(), "kata-fc");
        assert_eq!(fc.containerd_runtime_type(), "io.containerd.kata-fc.v2");
        assert_eq!(
            fc.config_path(),
            "/opt/kata/share/defaults/kata-containers/configuration-fc.toml"
        );
        assert_eq!(Sandbox::Gvisor.handler(), "runsc");
        assert_eq!(Sandbox::Gvisor.runtime_class(), "gvisor");
        assert_eq!(Sandbox::Gvisor.config_path(), "/etc/containerd/runsc.toml");
    }

    #[test]
    fn kata_overhead_defaults_match_kata_deploy() {
        let qemu = Sandbox::Kata(KataHypervisor::Qemu).default_overhead();
        assert_eq!((qemu.cpu, qemu.memory), ("250m", "320Mi"));
        let clh = Sandbox::Kata(KataHypervisor::Clh).default_overhead();
        assert_eq!((clh.cpu, clh.memory), ("250m", "130Mi"));
    }
}
