//! The cheap layered controls every pod should have whatever its runtime: non-root,
//! all capabilities dropped and none added, read-only root, seccomp, no privilege
//! escalation, not privileged, a user namespace, and nothing of the host (PID, IPC,
//! network namespaces, hostPath).

use k8s_openapi::api::core::v1::{Container, PodSpec};
use serde::Serialize;

/// One control on one pod or container.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ControlResult {
    /// Stable id, e.g. `drop-all-capabilities`.
    pub control: &'static str,
    /// Container, or `None` for a pod-level control.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// Whether it is in place.
    pub passed: bool,
    /// What the spec says.
    pub detail: String,
}

/// Checks the pod-level controls, then each container's (init containers first).
pub fn check(spec: &PodSpec) -> Vec<ControlResult> {
    let mut out = Vec::new();
    let pod = |control, passed, detail: String| ControlResult {
        control,
        container: None,
        passed,
        detail,
    };
    let host: Vec<&str> = [
        (spec.host_pid, "hostPID"),
        (spec.host_ipc, "hostIPC"),
        (spec.host_network, "hostNetwork"),
    ]
    .into_iter()
    .filter(|(v, _)| *v == Some(true))
    .map(|(_, n)| n)
    .collect();
    out.push(pod(
        "no-host-namespaces",
        host.is_empty(),
        if host.is_empty() {
            "no host namespace".to_owned()
        } else {
            format!("{} set", host.join(", "))
        },
    ));
    let host_paths: Vec<String> = spec
        .volumes
        .iter()
        .flatten()
        .filter_map(|v| {
            v.host_path
                .as_ref()
                .map(|h| format!("{} ({})", v.name, h.path))
        })
        .collect();
    out.push(pod(
        "no-host-path",
        host_paths.is_empty(),
        if host_paths.is_empty() {
            "no hostPath volume".to_owned()
        } else {
            format!("hostPath volumes: {}", host_paths.join(", "))
        },
    ));
    out.push(pod(
        "user-namespace",
        spec.host_users == Some(false),
        match spec.host_users {
            Some(false) => "hostUsers: false".to_owned(),
            Some(true) => "hostUsers: true".to_owned(),
            None => "hostUsers unset: the pod shares the node's user namespace".to_owned(),
        },
    ));
    for c in spec
        .init_containers
        .iter()
        .flatten()
        .chain(&spec.containers)
    {
        container_controls(spec, c, &mut out);
    }
    out
}

fn container_controls(spec: &PodSpec, c: &Container, out: &mut Vec<ControlResult>) {
    let sc = c.security_context.as_ref();
    let psc = spec.security_context.as_ref();
    let mut push = |control, passed, detail: String| {
        out.push(ControlResult {
            control,
            container: Some(c.name.clone()),
            passed,
            detail,
        })
    };

    let non_root = sc
        .and_then(|s| s.run_as_non_root)
        .or(psc.and_then(|p| p.run_as_non_root));
    let uid = sc
        .and_then(|s| s.run_as_user)
        .or(psc.and_then(|p| p.run_as_user));
    let (passed, detail) = match (non_root, uid) {
        (_, Some(0)) => (false, "runAsUser: 0".to_owned()),
        (Some(true), _) => (true, "runAsNonRoot: true".to_owned()),
        (_, Some(u)) => (true, format!("runAsUser: {u}")),
        (Some(false), None) => (false, "runAsNonRoot: false".to_owned()),
        (None, None) => (
            false,
            "neither runAsNonRoot nor runAsUser: runs as the image's user, often root".to_owned(),
        ),
    };
    push("run-as-non-root", passed, detail);

    let caps = sc.and_then(|s| s.capabilities.as_ref());
    let dropped = caps.and_then(|c| c.drop.as_ref());
    let drops_all = dropped.is_some_and(|d| d.iter().any(|c| c == "ALL"));
    push(
        "drop-all-capabilities",
        drops_all,
        match dropped {
            Some(d) if !d.is_empty() => format!("drop: [{}]", d.join(", ")),
            _ => "no capability dropped".to_owned(),
        },
    );
    let added = caps.and_then(|c| c.add.clone()).unwrap_or_default();
    push(
        "no-added-capabilities",
        added.is_empty(),
        if added.is_empty() {
            "none added".to_owned()
        } else {
            format!("add: [{}]", added.join(", "))
        },
    );

    let ro = sc.and_then(|s| s.read_only_root_filesystem) == Some(true);
    push(
        "read-only-root-filesystem",
        ro,
        format!(
            "readOnlyRootFilesystem: {}",
            if ro { "true" } else { "not set" }
        ),
    );

    let seccomp = sc
        .and_then(|s| s.seccomp_profile.as_ref())
        .or(psc.and_then(|p| p.seccomp_profile.as_ref()))
        .map(|p| p.type_.as_str());
    push(
        "seccomp",
        matches!(seccomp, Some("RuntimeDefault" | "Localhost")),
        match seccomp {
            Some(t) => format!("seccompProfile: {t}"),
            None => "no seccompProfile: the runtime default applies only if the kubelet sets it"
                .to_owned(),
        },
    );

    let escalation = sc.and_then(|s| s.allow_privilege_escalation);
    push(
        "no-privilege-escalation",
        escalation == Some(false),
        match escalation {
            Some(v) => format!("allowPrivilegeEscalation: {v}"),
            None => "allowPrivilegeEscalation unset (defaults to true)".to_owned(),
        },
    );

    let privileged = sc.and_then(|s| s.privileged) == Some(true);
    push(
        "not-privileged",
        !privileged,
        format!("privileged: {privileged}"),
    );
}
