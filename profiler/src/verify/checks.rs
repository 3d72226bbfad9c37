//! The isolation boundary as the process sees it: host PID, IPC and network
//! namespaces, user-namespace mapping, seccomp, effective capabilities, no_new_privs,
//! read-only root and a mounted service-account token. Each check passes, fails or
//! cannot tell, and says what it read.

use serde::Serialize;

use super::detect::{mount_source, DetectedRuntime};
use super::SystemView;
use crate::k8s::sources;

/// Outcome of a check.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckStatus {
    /// The boundary holds here.
    Pass,
    /// It does not.
    Fail,
    /// The evidence is missing or unreadable.
    Unknown,
}

/// One check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Stable id.
    pub id: &'static str,
    /// Outcome.
    pub status: CheckStatus,
    /// What was read and what it means.
    pub evidence: String,
}

/// Inode numbers of the kernel's initial namespaces (fixed since Linux 3.8 for ipc,
/// uts, user and pid, 4.6 for cgroup, 6.18 for net and mnt).
const INIT_PID_NS: u64 = 0xEFFF_FFFC;
const INIT_IPC_NS: u64 = 0xEFFF_FFFF;
const INIT_NET_NS: u64 = 0xEFFF_FFF9;

/// Interfaces that exist only in a node's network namespace (the host ends of pod
/// links and the bridges and tunnels of common CNI plugins).
const HOST_SIDE_INTERFACES: &[&str] = &[
    "veth", "cni", "docker", "cali", "flannel", "cilium_", "vxlan", "weave", "kube-",
];

const SERVICE_ACCOUNT_TOKEN: &str = "/var/run/secrets/kubernetes.io/serviceaccount/token";

/// Capability names by bit (include/uapi/linux/capability.h).
const CAPABILITIES: [&str; 41] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// Runs every check.
pub fn run(view: &SystemView, runtime: DetectedRuntime) -> anyhow::Result<Vec<Check>> {
    let status = view.read("/proc/self/status")?;
    let field = |name: &str| -> Option<String> {
        status.as_deref().and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
                .map(|v| v.trim().to_owned())
        })
    };
    // Under Kata the initial namespaces are the guest kernel's, not the node's.
    let whose = if runtime == DetectedRuntime::Kata {
        " (the guest VM's kernel, not the node's)"
    } else {
        ""
    };
    let mut checks = vec![
        namespace(view, "pid", INIT_PID_NS, whose)?,
        namespace(view, "ipc", INIT_IPC_NS, whose)?,
        network(view, whose)?,
        user_namespace(view)?,
    ];
    checks.push(match field("Seccomp") {
        Some(mode) if mode == "2" => pass("seccomp", "Seccomp: 2 (filter)".to_owned()),
        Some(mode) if mode == "1" => pass("seccomp", "Seccomp: 1 (strict)".to_owned()),
        Some(mode) => fail("seccomp", format!("Seccomp: {mode}: no seccomp filter")),
        None => unknown(
            "seccomp",
            "/proc/self/status has no Seccomp line".to_owned(),
        ),
    });
    checks.push(
        match field("CapEff").map(|v| u64::from_str_radix(&v, 16).map_err(|_| v)) {
            Some(Ok(0)) => pass("capabilities", "CapEff: 0 (none)".to_owned()),
            Some(Ok(bits)) => fail(
                "capabilities",
                format!("CapEff: {bits:016x}: {}", cap_names(bits)),
            ),
            Some(Err(raw)) => unknown("capabilities", format!("CapEff `{raw}` is not hexadecimal")),
            None => unknown(
                "capabilities",
                "/proc/self/status has no CapEff line".to_owned(),
            ),
        },
    );
    checks.push(match field("NoNewPrivs") {
        Some(v) if v == "1" => pass("no-new-privs", "NoNewPrivs: 1".to_owned()),
        Some(v) => fail(
            "no-new-privs",
            format!("NoNewPrivs: {v}: setuid binaries can raise privileges"),
        ),
        None if runtime == DetectedRuntime::Gvisor => unknown(
            "no-new-privs",
            format!(
                "gVisor does not report NoNewPrivs ({})",
                sources::GVISOR_PROC_STATUS
            ),
        ),
        None => unknown(
            "no-new-privs",
            "/proc/self/status has no NoNewPrivs line".to_owned(),
        ),
    });
    checks.push(read_only_root(view)?);
    checks.push(if view.exists(SERVICE_ACCOUNT_TOKEN) {
        fail(
            "service-account-token",
            format!("{SERVICE_ACCOUNT_TOKEN} is mounted: set automountServiceAccountToken: false unless the pod calls the API"),
        )
    } else if runtime == DetectedRuntime::Unknown {
        // Absence proves nothing in a tree that does not even hold /proc/version.
        unknown(
            "service-account-token",
            format!("{SERVICE_ACCOUNT_TOKEN} absent, but nothing here identifies a system"),
        )
    } else {
        pass("service-account-token", format!("{SERVICE_ACCOUNT_TOKEN} absent"))
    });
    Ok(checks)
}

fn pass(id: &'static str, evidence: String) -> Check {
    Check {
        id,
        status: CheckStatus::Pass,
        evidence,
    }
}

fn fail(id: &'static str, evidence: String) -> Check {
    Check {
        id,
        status: CheckStatus::Fail,
        evidence,
    }
}

fn unknown(id: &'static str, evidence: String) -> Check {
    Check {
        id,
        status: CheckStatus::Unknown,
        evidence,
    }
}

/// `pid:[4026531836]` → 4026531836.
fn ns_inode(link: &str) -> Option<u64> {
    link.split_once(":[")?.1.strip_suffix(']')?.parse().ok()
}

fn namespace(view: &SystemView, ns: &str, init: u64, whose: &str) -> anyhow::Result<Check> {
    let id: &'static str = match ns {
        "pid" => "host-pid-namespace",
        "ipc" => "host-ipc-namespace",
        _ => "host-namespace",
    };
    let path = format!("/proc/self/ns/{ns}");
    Ok(match view.read_link(&path)? {
        None => unknown(id, format!("{path} absent")),
        Some(link) => match ns_inode(&link) {
            Some(inode) if inode == init => fail(
                id,
                format!(
                    "{path} -> {link}: the kernel's initial {ns} namespace{whose} ({})",
                    sources::LINUX_INIT_NS
                ),
            ),
            Some(_) => pass(id, format!("{path} -> {link}: a namespace of its own")),
            None => unknown(id, format!("{path} -> {link}: not a namespace link")),
        },
    })
}

fn network(view: &SystemView, whose: &str) -> anyhow::Result<Check> {
    let id = "host-network-namespace";
    let link = view.read_link("/proc/self/ns/net")?;
    if let Some(link) = &link {
        if ns_inode(link) == Some(INIT_NET_NS) {
            return Ok(fail(
                id,
                format!("/proc/self/ns/net -> {link}: the kernel's initial network namespace{whose} ({})", sources::LINUX_INIT_NS),
            ));
        }
    }
    // Before Linux 6.18 the initial network namespace has no fixed inode: look for
    // interfaces that only a node's namespace holds.
    let Some(dev) = view.read("/proc/net/dev")? else {
        return Ok(unknown(id, "/proc/net/dev absent".to_owned()));
    };
    let interfaces: Vec<&str> = dev
        .lines()
        .skip(2)
        .filter_map(|l| l.split_once(':').map(|(name, _)| name.trim()))
        .collect();
    let host_side: Vec<&str> = interfaces
        .iter()
        .copied()
        .filter(|i| HOST_SIDE_INTERFACES.iter().any(|p| i.starts_with(p)))
        .collect();
    Ok(if host_side.is_empty() {
        pass(
            id,
            format!(
                "{}interfaces {}: none is the host side of a pod link",
                link.map(|l| format!("/proc/self/ns/net -> {l}; "))
                    .unwrap_or_default(),
                interfaces.join(", ")
            ),
        )
    } else {
        fail(
            id,
            format!("node-side interfaces visible: {}", host_side.join(", ")),
        )
    })
}

fn user_namespace(view: &SystemView) -> anyhow::Result<Check> {
    let id = "user-namespace";
    Ok(match view.read("/proc/self/uid_map")? {
        None => unknown(id, "/proc/self/uid_map absent".to_owned()),
        Some(map) => {
            let rows: Vec<Vec<&str>> = map
                .lines()
                .map(|l| l.split_whitespace().collect())
                .collect();
            let shown = rows
                .iter()
                .map(|r| r.join(" "))
                .collect::<Vec<_>>()
                .join("; ");
            if rows
                .iter()
                .any(|r| r.first() == Some(&"0") && r.get(1) == Some(&"0"))
            {
                fail(id, format!("uid_map {shown}: uid 0 is the host's uid 0"))
            } else {
                pass(
                    id,
                    format!("uid_map {shown}: root maps to an unprivileged host uid"),
                )
            }
        }
    })
}

fn read_only_root(view: &SystemView) -> anyhow::Result<Check> {
    let id = "read-only-root";
    let Some(mountinfo) = view.read("/proc/self/mountinfo")? else {
        return Ok(unknown(id, "/proc/self/mountinfo absent".to_owned()));
    };
    // The last mount on `/` is the one visible.
    let root = mountinfo
        .lines()
        .rfind(|l| l.split(' ').nth(4) == Some("/"));
    Ok(match root {
        None => unknown(id, "no mount on / in /proc/self/mountinfo".to_owned()),
        Some(line) => {
            let options = line.split(' ').nth(5).unwrap_or("");
            let source = mount_source(line).unwrap_or("?");
            if options.split(',').any(|o| o == "ro") {
                pass(id, format!("/ from {source} mounted {options}"))
            } else {
                fail(id, format!("/ from {source} mounted {options}: writable"))
            }
        }
    })
}

fn cap_names(bits: u64) -> String {
    let names: Vec<String> = (0..64)
        .filter(|b| bits & (1u64 << b) != 0)
        .map(|b| {
            CAPABILITIES
                .get(b)
                .map(|n| (*n).to_owned())
                .unwrap_or_else(|| format!("cap{b}"))
        })
        .collect();
    if names.len() > 8 {
        format!(
            "{} capabilities incl. {}",
            names.len(),
            names[..8].join(", ")
        )
    } else {
        names.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_links_parse() {
        assert_eq!(ns_inode("pid:[4026531836]"), Some(INIT_PID_NS));
        assert_eq!(ns_inode("net:[4026532300]"), Some(4026532300));
        assert_eq!(ns_inode("garbage"), None);
    }

    #[test]
    fn capability_names_are_listed() {
        assert_eq!(
            cap_names(1 << 13 | 1 << 10),
            "CAP_NET_BIND_SERVICE, CAP_NET_RAW"
        );
    }
}
