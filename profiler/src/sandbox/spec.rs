//! The OCI runtime configuration (`config.json`) of a run, built with the `oci-spec`
//! types: what containerd's CRI plugin gives a Kubernetes container by default.
//!
//! - mounts: a fresh /proc; /dev as a tmpfs with devpts, shm and mqueue; /sys read-only
//!   with the cgroup hierarchy read-only below it; tmpfs on /run and /tmp;
//! - the default capability set of a Kubernetes container (effective and permitted
//!   only for uid 0, as containerd does since it stopped granting them to other users);
//! - its own PID, IPC, UTS, mount, cgroup and network namespaces;
//! - the paths CRI masks and makes read-only under /proc and /sys;
//! - no seccomp profile: Kubernetes runs containers `Unconfined` unless told otherwise.
//!
//! A user's own bundle keeps its configuration; only what a run must own is replaced
//! (the root path, the cgroup, the terminal, and the command when one is given).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use oci_spec::runtime::{
    Capability, LinuxBuilder, LinuxCapabilitiesBuilder, LinuxNamespaceBuilder, LinuxNamespaceType,
    Mount, MountBuilder, ProcessBuilder, RootBuilder, Spec, SpecBuilder, UserBuilder,
};
use thiserror::Error;

/// The capabilities containerd gives a container unless the pod spec changes them
/// (containerd `oci/spec.go`, `defaultUnixCaps`).
pub const KUBERNETES_CAPABILITIES: [Capability; 14] = [
    Capability::Chown,
    Capability::DacOverride,
    Capability::Fsetid,
    Capability::Fowner,
    Capability::Mknod,
    Capability::NetRaw,
    Capability::Setgid,
    Capability::Setuid,
    Capability::Setfcap,
    Capability::Setpcap,
    Capability::NetBindService,
    Capability::SysChroot,
    Capability::Kill,
    Capability::AuditWrite,
];

/// Paths CRI hides from a container (containerd `pkg/cri/opts/spec_linux.go`).
const MASKED_PATHS: [&str; 10] = [
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// Paths CRI makes read-only.
const READONLY_PATHS: [&str; 6] = [
    "/proc/asound",
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// The hostname a run's container gets.
pub const HOSTNAME: &str = "sandprof-try";

/// Whom the process runs as, resolved to numbers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessUser {
    /// User id.
    pub uid: u32,
    /// Group id.
    pub gid: u32,
    /// Supplementary groups.
    pub additional_gids: Vec<u32>,
}

/// What runs in the container.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessConfig {
    /// Program and arguments.
    pub args: Vec<String>,
    /// Environment, `KEY=VALUE`.
    pub env: Vec<String>,
    /// Working directory inside the container.
    pub cwd: String,
    /// Whom it runs as.
    pub user: ProcessUser,
    /// Capabilities added to the Kubernetes default set (`--cap-add`).
    pub cap_add: Vec<Capability>,
}

/// A configuration that cannot be built or read.
#[derive(Debug, Error)]
pub enum SpecError {
    /// oci-spec refused a value.
    #[error("cannot build the container configuration: {0}")]
    Build(#[from] oci_spec::OciSpecError),
    /// A user bundle's `config.json` is unusable.
    #[error("{path}: {problem}")]
    Bundle {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
}

/// Parses a capability name as Kubernetes and `capsh` write it (`NET_ADMIN`,
/// `CAP_NET_ADMIN`, any case).
pub fn parse_capability(name: &str) -> Result<Capability, String> {
    let upper = name.trim().to_ascii_uppercase();
    let bare = upper.strip_prefix("CAP_").unwrap_or(&upper);
    bare.parse::<Capability>()
        .map_err(|_| format!("`{name}` is not a Linux capability (e.g. NET_ADMIN, SYS_PTRACE)"))
}

fn mount(
    destination: &str,
    kind: &str,
    source: &str,
    options: &[&str],
) -> Result<Mount, SpecError> {
    Ok(MountBuilder::default()
        .destination(destination)
        .typ(kind)
        .source(source)
        .options(options.iter().map(|o| (*o).to_owned()).collect::<Vec<_>>())
        .build()?)
}

/// A bind mount of host path `source` at `destination`, read-only or not, as a
/// Kubernetes volume (hostPath) is given to a container.
pub fn bind_mount(source: &Path, destination: &str, read_only: bool) -> Result<Mount, SpecError> {
    let access = if read_only { "ro" } else { "rw" };
    Ok(MountBuilder::default()
        .destination(destination)
        .typ("bind")
        .source(source)
        .options(vec!["rbind".to_owned(), access.to_owned()])
        .build()?)
}

/// The mounts containerd's CRI plugin gives a container, plus a tmpfs /tmp.
fn kubernetes_mounts() -> Result<Vec<Mount>, SpecError> {
    Ok(vec![
        mount("/proc", "proc", "proc", &["nosuid", "noexec", "nodev"])?,
        mount(
            "/dev",
            "tmpfs",
            "tmpfs",
            &["nosuid", "strictatime", "mode=755", "size=65536k"],
        )?,
        mount(
            "/dev/pts",
            "devpts",
            "devpts",
            &[
                "nosuid",
                "noexec",
                "newinstance",
                "ptmxmode=0666",
                "mode=0620",
                "gid=5",
            ],
        )?,
        mount(
            "/dev/shm",
            "tmpfs",
            "shm",
            &["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
        )?,
        mount(
            "/dev/mqueue",
            "mqueue",
            "mqueue",
            &["nosuid", "noexec", "nodev"],
        )?,
        mount(
            "/sys",
            "sysfs",
            "sysfs",
            &["nosuid", "noexec", "nodev", "ro"],
        )?,
        mount(
            "/sys/fs/cgroup",
            "cgroup",
            "cgroup",
            &["nosuid", "noexec", "nodev", "relatime", "ro"],
        )?,
        mount(
            "/run",
            "tmpfs",
            "tmpfs",
            &["nosuid", "strictatime", "mode=755", "size=65536k"],
        )?,
        mount("/tmp", "tmpfs", "tmpfs", &["nosuid", "nodev", "mode=1777"])?,
    ])
}

/// The capability set for `user` with `add`ed ones: the bounding set always; the
/// effective and permitted sets only for uid 0.
fn capabilities(
    user: &ProcessUser,
    add: &[Capability],
) -> Result<oci_spec::runtime::LinuxCapabilities, SpecError> {
    let set: HashSet<Capability> = KUBERNETES_CAPABILITIES.iter().chain(add).copied().collect();
    let granted = if user.uid == 0 {
        set.clone()
    } else {
        HashSet::new()
    };
    Ok(LinuxCapabilitiesBuilder::default()
        .bounding(set)
        .effective(granted.clone())
        .permitted(granted)
        .inheritable(HashSet::new())
        .ambient(HashSet::new())
        .build()?)
}

/// The configuration of a Kubernetes-like container running `process` on `rootfs`,
/// in cgroup `cgroups_path`.
pub fn kubernetes_spec(
    process: &ProcessConfig,
    rootfs: &Path,
    readonly: bool,
    cgroups_path: &str,
) -> Result<Spec, SpecError> {
    let user = UserBuilder::default()
        .uid(process.user.uid)
        .gid(process.user.gid)
        .additional_gids(process.user.additional_gids.clone())
        .build()?;
    let proc = ProcessBuilder::default()
        .terminal(false)
        .user(user)
        .args(process.args.clone())
        .env(process.env.clone())
        .cwd(&process.cwd)
        .capabilities(capabilities(&process.user, &process.cap_add)?)
        .no_new_privileges(false)
        .build()?;
    let namespaces = [
        LinuxNamespaceType::Pid,
        LinuxNamespaceType::Ipc,
        LinuxNamespaceType::Uts,
        LinuxNamespaceType::Mount,
        LinuxNamespaceType::Cgroup,
        LinuxNamespaceType::Network,
    ]
    .into_iter()
    .map(|typ| LinuxNamespaceBuilder::default().typ(typ).build())
    .collect::<Result<Vec<_>, _>>()?;
    let linux = LinuxBuilder::default()
        .namespaces(namespaces)
        .cgroups_path(cgroups_path)
        .masked_paths(MASKED_PATHS.map(str::to_owned).to_vec())
        .readonly_paths(READONLY_PATHS.map(str::to_owned).to_vec())
        .build()?;
    Ok(SpecBuilder::default()
        .version("1.0.2")
        .hostname(HOSTNAME)
        .root(
            RootBuilder::default()
                .path(rootfs)
                .readonly(readonly)
                .build()?,
        )
        .process(proc)
        .mounts(kubernetes_mounts()?)
        .linux(linux)
        .build()?)
}

/// A user's bundle configuration made fit for a run: the root path made absolute
/// (against `bundle`), no terminal (output is captured), sandprof's cgroup, and `args`
/// when given. Returns the spec and its root file system.
pub fn adopt_bundle(
    bundle: &Path,
    args: Option<&[String]>,
    cgroups_path: &str,
) -> Result<(Spec, PathBuf, bool), SpecError> {
    let path = bundle.join("config.json");
    let mut spec = Spec::load(&path).map_err(|e| SpecError::Bundle {
        path: path.clone(),
        problem: format!("not a readable OCI runtime configuration: {e}"),
    })?;
    let problem = |problem: &str| SpecError::Bundle {
        path: path.clone(),
        problem: problem.to_owned(),
    };
    let root = spec
        .root()
        .clone()
        .ok_or_else(|| problem("it has no `root`"))?;
    let rootfs = if root.path().is_absolute() {
        root.path().clone()
    } else {
        bundle.join(root.path())
    };
    let readonly = root.readonly().unwrap_or(false);
    let mut process = spec
        .process()
        .clone()
        .ok_or_else(|| problem("it has no `process`"))?;
    process.set_terminal(Some(false));
    if let Some(args) = args {
        process.set_args(Some(args.to_vec()));
    }
    if process.args().as_ref().is_none_or(Vec::is_empty) {
        return Err(problem(
            "its `process.args` is empty and no command was given after `--`",
        ));
    }
    spec.set_process(Some(process));
    let mut linux = spec
        .linux()
        .clone()
        .ok_or_else(|| problem("it has no `linux` section"))?;
    linux.set_cgroups_path(Some(PathBuf::from(cgroups_path)));
    spec.set_linux(Some(linux));
    Ok((spec, rootfs, readonly))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root_process() -> ProcessConfig {
        ProcessConfig {
            args: vec!["/bin/true".to_owned()],
            env: vec!["PATH=/usr/bin:/bin".to_owned()],
            cwd: "/".to_owned(),
            user: ProcessUser {
                uid: 0,
                gid: 0,
                additional_gids: Vec::new(),
            },
            cap_add: vec![Capability::SysPtrace],
        }
    }

    #[test]
    fn capabilities_parse_as_kubernetes_writes_them() {
        assert_eq!(parse_capability("NET_ADMIN"), Ok(Capability::NetAdmin));
        assert_eq!(
            parse_capability("cap_sys_ptrace"),
            Ok(Capability::SysPtrace)
        );
        assert_eq!(
            parse_capability("NET_WIZARD"),
            Err("`NET_WIZARD` is not a Linux capability (e.g. NET_ADMIN, SYS_PTRACE)".to_owned())
        );
    }

    #[test]
    fn kubernetes_defaults() {
        let spec = kubernetes_spec(&root_process(), Path::new("/r"), true, "/a/b").unwrap();
        let json = serde_json::to_value(&spec).unwrap();
        assert_eq!(
            json["root"],
            serde_json::json!({"path": "/r", "readonly": true})
        );
        assert_eq!(json["linux"]["cgroupsPath"], "/a/b");
        let destinations: Vec<&str> = json["mounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["destination"].as_str().unwrap())
            .collect();
        assert_eq!(
            destinations,
            [
                "/proc",
                "/dev",
                "/dev/pts",
                "/dev/shm",
                "/dev/mqueue",
                "/sys",
                "/sys/fs/cgroup",
                "/run",
                "/tmp"
            ]
        );
        let mut bounding: Vec<String> = json["process"]["capabilities"]["bounding"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_owned())
            .collect();
        bounding.sort();
        assert_eq!(bounding.len(), 15);
        assert!(bounding.contains(&"CAP_SYS_PTRACE".to_owned()));
        let namespaces: Vec<&str> = json["linux"]["namespaces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["type"].as_str().unwrap())
            .collect();
        assert_eq!(
            namespaces,
            ["pid", "ipc", "uts", "mount", "cgroup", "network"]
        );
    }

    #[test]
    fn non_root_users_get_the_bounding_set_only() {
        let mut process = root_process();
        process.user.uid = 1000;
        let spec = kubernetes_spec(&process, Path::new("/r"), true, "/a").unwrap();
        let json = serde_json::to_value(&spec).unwrap();
        assert_eq!(
            json["process"]["capabilities"]["effective"],
            serde_json::json!([])
        );
        assert_eq!(
            json["process"]["capabilities"]["bounding"]
                .as_array()
                .unwrap()
                .len(),
            15
        );
    }
}
