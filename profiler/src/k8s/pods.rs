//! Pod-spec changes sandprof makes: placing a pod in a sandbox (RuntimeClass and the
//! toleration of the sandbox-node taint) and the layered hardening of its
//! securityContext. Each change is reported, so a patch says what it did.

use k8s_openapi::api::core::v1::{
    Capabilities, Container, PodSecurityContext, PodSpec, SeccompProfile, SecurityContext,
    Toleration,
};

use super::sandbox::{Sandbox, NODE_KEY};

/// The toleration of the taint sandprof puts on the sandbox's nodes.
pub fn sandbox_toleration(sandbox: Sandbox) -> Toleration {
    Toleration {
        key: Some(NODE_KEY.to_owned()),
        operator: Some("Equal".to_owned()),
        value: Some(sandbox.runtime_class().to_owned()),
        effect: Some("NoSchedule".to_owned()),
        ..Toleration::default()
    }
}

/// Puts the pod in the sandbox: `runtimeClassName` and the toleration. The RuntimeClass
/// itself adds the node selector and toleration at admission; the toleration is also
/// written here so the pod still schedules where the RuntimeClass admission plugin is
/// off.
pub fn place_in_sandbox(spec: &mut PodSpec, sandbox: Sandbox, changes: &mut Vec<String>) {
    let class = sandbox.runtime_class();
    if spec.runtime_class_name.as_deref() != Some(class) {
        changes.push(match &spec.runtime_class_name {
            Some(old) => format!("runtimeClassName: {old} -> {class}"),
            None => format!("runtimeClassName: {class}"),
        });
        spec.runtime_class_name = Some(class.to_owned());
    }
    let toleration = sandbox_toleration(sandbox);
    let tolerations = spec.tolerations.get_or_insert_with(Vec::new);
    if !tolerations.contains(&toleration) {
        tolerations.push(toleration);
        changes.push(format!("toleration {NODE_KEY}={class}:NoSchedule"));
    }
}

/// Applies the hardened securityContext to the pod and all its containers:
/// runAsNonRoot, seccomp RuntimeDefault, no privilege escalation, all capabilities
/// dropped, read-only root filesystem, and `hostUsers: false` when the handler supports
/// user namespaces (`sandbox` is `None` for hardened runc).
pub fn harden(spec: &mut PodSpec, sandbox: Option<Sandbox>, changes: &mut Vec<String>) {
    let pod = spec
        .security_context
        .get_or_insert_with(PodSecurityContext::default);
    if pod.run_as_non_root != Some(true) {
        pod.run_as_non_root = Some(true);
        changes.push("pod: runAsNonRoot: true".to_owned());
    }
    if pod.seccomp_profile.is_none() {
        pod.seccomp_profile = Some(runtime_default_seccomp());
        changes.push("pod: seccompProfile: RuntimeDefault".to_owned());
    }
    let userns = sandbox.is_none_or(Sandbox::supports_host_users_false);
    let host_namespaces = spec.host_network == Some(true)
        || spec.host_pid == Some(true)
        || spec.host_ipc == Some(true);
    if userns && !host_namespaces && spec.host_users != Some(false) {
        spec.host_users = Some(false);
        changes.push("pod: hostUsers: false".to_owned());
    }
    for container in spec
        .init_containers
        .iter_mut()
        .flatten()
        .chain(spec.containers.iter_mut())
    {
        harden_container(container, changes);
    }
}

fn harden_container(container: &mut Container, changes: &mut Vec<String>) {
    let name = container.name.clone();
    let sc = container
        .security_context
        .get_or_insert_with(SecurityContext::default);
    let mut set = |what: &str| changes.push(format!("container {name}: {what}"));
    if sc.allow_privilege_escalation != Some(false) {
        sc.allow_privilege_escalation = Some(false);
        set("allowPrivilegeEscalation: false");
    }
    let caps = sc.capabilities.get_or_insert_with(Capabilities::default);
    let drop = caps.drop.get_or_insert_with(Vec::new);
    if !drop.iter().any(|c| c == "ALL") {
        drop.push("ALL".to_owned());
        set("capabilities.drop: [ALL]");
    }
    if sc.read_only_root_filesystem != Some(true) {
        sc.read_only_root_filesystem = Some(true);
        set("readOnlyRootFilesystem: true");
    }
    if sc.run_as_non_root == Some(false) {
        sc.run_as_non_root = Some(true);
        set("runAsNonRoot: false -> true");
    }
    if sc.privileged == Some(true) {
        sc.privileged = Some(false);
        set("privileged: true -> false");
    }
}

/// `seccompProfile: {type: RuntimeDefault}`.
pub fn runtime_default_seccomp() -> SeccompProfile {
    SeccompProfile {
        type_: "RuntimeDefault".to_owned(),
        ..SeccompProfile::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::k8s::sandbox::KataHypervisor;

    fn spec() -> PodSpec {
        PodSpec {
            containers: vec![Container {
                name: "app".into(),
                ..Container::default()
            }],
            ..PodSpec::default()
        }
    }

    #[test]
    fn hardening_lists_every_change_once() {
        let mut s = spec();
        let mut changes = Vec::new();
        harden(&mut s, None, &mut changes);
        assert_eq!(
            changes,
            vec![
                "pod: runAsNonRoot: true",
                "pod: seccompProfile: RuntimeDefault",
                "pod: hostUsers: false",
                "container app: allowPrivilegeEscalation: false",
                "container app: capabilities.drop: [ALL]",
                "container app: readOnlyRootFilesystem: true",
            ]
        );
        let mut again = Vec::new();
        harden(&mut s, None, &mut again);
        assert!(again.is_empty(), "second pass changed {again:?}");
    }

    #[test]
    fn sandboxed_pods_keep_host_users() {
        let mut s = spec();
        let mut changes = Vec::new();
        harden(
            &mut s,
            Some(Sandbox::Kata(KataHypervisor::Qemu)),
            &mut changes,
        );
        assert_eq!(s.host_users, None);
        place_in_sandbox(&mut s, Sandbox::Gvisor, &mut changes);
        assert_eq!(s.runtime_class_name.as_deref(), Some("gvisor"));
        assert_eq!(
            s.tolerations,
            Some(vec![sandbox_toleration(Sandbox::Gvisor)])
        );
    }
}
