//! What a pod spec itself will break, or need configured, under gVisor and under Kata:
//! host namespaces, hostPath and subPath volumes, privileged containers, devices and
//! sysctls. Kata facts come from the database where it has them; the rest are stated
//! here with their upstream source.

use k8s_openapi::api::core::v1::PodSpec;
use syscall_db::{Database, RemediationKind, Runtime};

use crate::analysis::dbref;
use crate::analysis::finding::{
    Category, DbReference, Evidence, Finding, Occurrence, RemediationRef, Severity,
};
use crate::k8s::sources;
use crate::k8s::yaml::Origin;

/// The only sysctls runsc reads from the OCI spec; it ignores the rest.
const GVISOR_SYSCTLS: &[&str] = &["fs.nr_open", "net.ipv6.conf.all.disable_ipv6"];

/// A spec feature and what each runtime does with it.
struct SpecFact {
    runtime: Runtime,
    id: &'static str,
    severity: Severity,
    effect: &'static str,
    remediation: (RemediationKind, &'static str),
    /// runsc flag of a `RunscFlag` remediation.
    flag: Option<&'static str>,
    source: (&'static str, &'static str),
}

const GVISOR_FACTS: &[SpecFact] = &[
    SpecFact {
        runtime: Runtime::Gvisor,
        id: "gvisor.pod.host-network",
        severity: Severity::Breaks,
        effect: "runsc builds its own network stack from the interfaces of the namespace it is given; given the node's, the sandbox takes the node's addresses and the pod does not get the node's network as it would under runc.",
        remediation: (RemediationKind::PodSpec, "Drop hostNetwork and reach the node through a Service or the downward API; keep pods that need the node's network on runc."),
        flag: None,
        source: (sources::GVISOR, "runsc/sandbox/network.go"),
    },
    SpecFact {
        runtime: Runtime::Gvisor,
        id: "gvisor.pod.host-pid",
        severity: Severity::Breaks,
        effect: "The Sentry has its own PID namespace: the node's processes are not visible, and signalling or tracing them fails.",
        remediation: (RemediationKind::OtherRuntime, "Node agents that watch host processes must stay on runc."),
        flag: None,
        source: (sources::GVISOR, "runsc/boot/loader.go"),
    },
    SpecFact {
        runtime: Runtime::Gvisor,
        id: "gvisor.pod.host-ipc",
        severity: Severity::Breaks,
        effect: "System V IPC and POSIX message queues live in the Sentry: nothing is shared with the node.",
        remediation: (RemediationKind::OtherRuntime, "Workloads sharing IPC with the node must stay on runc."),
        flag: None,
        source: (sources::GVISOR, "runsc/boot/loader.go"),
    },
    SpecFact {
        runtime: Runtime::Gvisor,
        id: "gvisor.pod.host-path",
        severity: Severity::Degraded,
        effect: "hostPath files are served through the gofer; changes made on the node are seen late and inotify misses them unless the mount is declared shared.",
        remediation: (RemediationKind::Annotation, "Annotate the pod dev.gvisor.spec.mount.<volume>.share=shared and let containerd pass dev.gvisor.* annotations."),
        flag: None,
        source: (sources::GVISOR, sources::GVISOR_CONTAINERD),
    },
    SpecFact {
        runtime: Runtime::Gvisor,
        id: "gvisor.pod.privileged",
        severity: Severity::Breaks,
        effect: "privileged gives capabilities inside the Sentry only: node devices are not passed in and kernel settings of the node cannot be changed.",
        remediation: (RemediationKind::OtherRuntime, "Privileged node tooling must stay on runc."),
        flag: None,
        source: (sources::GVISOR, "runsc/specutils/specutils.go"),
    },
    SpecFact {
        runtime: Runtime::Gvisor,
        id: "gvisor.pod.devices",
        severity: Severity::NeedsConfig,
        effect: "Device-plugin resources reach the sandbox only through runsc's device proxies (nvproxy for NVIDIA GPUs).",
        remediation: (RemediationKind::RunscFlag, "Enable runsc --nvproxy on the node (sandprof k8s node writes it into runsc.toml when the report asks)."),
        flag: Some("--nvproxy"),
        source: (sources::GVISOR, "g3doc/user_guide/gpu.md"),
    },
    SpecFact {
        runtime: Runtime::Gvisor,
        id: "gvisor.pod.sysctls",
        severity: Severity::Degraded,
        effect: "runsc applies only fs.nr_open and net.ipv6.conf.all.disable_ipv6 from the pod's sysctls; others are silently not applied.",
        remediation: (RemediationKind::CodeChange, "Do not rely on the listed sysctls, or keep the pod on runc or Kata."),
        flag: None,
        source: (sources::GVISOR, sources::GVISOR_SYSCTLS),
    },
];

const KATA_FACTS: &[SpecFact] = &[
    SpecFact {
        runtime: Runtime::Kata,
        id: "kata.host-network",
        severity: Severity::Breaks,
        effect: "Host networking is not supported: the guest VM cannot use the node's network namespace, and trying may reconfigure the node's network.",
        remediation: (RemediationKind::OtherRuntime, "Keep hostNetwork pods on runc."),
        flag: None,
        source: (sources::KATA, sources::KATA_LIMITATIONS),
    },
    SpecFact {
        runtime: Runtime::Kata,
        id: "kata.host-pid",
        severity: Severity::Breaks,
        effect: "The pod's processes run on the guest kernel: the node's processes are not visible.",
        remediation: (RemediationKind::OtherRuntime, "Keep hostPID pods on runc."),
        flag: None,
        source: (sources::KATA, sources::KATA_LIMITATIONS),
    },
    SpecFact {
        runtime: Runtime::Kata,
        id: "kata.host-ipc",
        severity: Severity::Breaks,
        effect: "IPC objects live in the guest kernel: nothing is shared with the node.",
        remediation: (RemediationKind::OtherRuntime, "Keep hostIPC pods on runc."),
        flag: None,
        source: (sources::KATA, sources::KATA_LIMITATIONS),
    },
    SpecFact {
        runtime: Runtime::Kata,
        id: "kata.host-path",
        severity: Severity::Degraded,
        effect: "hostPath directories and files are shared into the VM (copied without live sync on confidential setups); device nodes and special files under /dev come from the guest, not the node.",
        remediation: (RemediationKind::PodSpec, "Use hostPath only for regular files and directories, or keep the pod on runc."),
        flag: None,
        source: (sources::KATA, sources::KATA_LIMITATIONS),
    },
    SpecFact {
        runtime: Runtime::Kata,
        id: "kata.sub-path",
        severity: Severity::Breaks,
        effect: "volumeMounts.subPath is not supported by Kata Containers.",
        remediation: (RemediationKind::PodSpec, "Mount the whole volume, or project the single file with a ConfigMap/Secret items list."),
        flag: None,
        source: (sources::KATA, sources::KATA_LIMITATIONS),
    },
    SpecFact {
        runtime: Runtime::Kata,
        id: "kata.privileged",
        severity: Severity::Degraded,
        effect: "A privileged container is privileged inside the guest only, and gets no node devices (privileged_without_host_devices).",
        remediation: (RemediationKind::OtherRuntime, "Privileged node tooling must stay on runc."),
        flag: None,
        source: (sources::KATA, sources::KATA_LIMITATIONS),
    },
    SpecFact {
        runtime: Runtime::Kata,
        id: "kata.devices",
        severity: Severity::NeedsConfig,
        effect: "Device-plugin resources reach the guest only by PCI passthrough (VFIO), which the Kata configuration must enable.",
        remediation: (RemediationKind::NodeConfig, "Use a Kata flavour configured for VFIO passthrough of this device (e.g. kata-deploy's GPU shims)."),
        flag: None,
        source: (sources::KATA, "docs/use-cases/NVIDIA-GPU-passthrough-and-Kata.md"),
    },
];

/// The spec's features that matter to a sandbox, with what shows them.
struct Triggers {
    list: Vec<(&'static str, Vec<String>)>,
}

fn triggers(spec: &PodSpec) -> Triggers {
    let mut list = Vec::new();
    let mut flag = |topic, on: Option<bool>, field: &str| {
        if on == Some(true) {
            list.push((topic, vec![format!("{field}: true")]));
        }
    };
    flag("host-network", spec.host_network, "hostNetwork");
    flag("host-pid", spec.host_pid, "hostPID");
    flag("host-ipc", spec.host_ipc, "hostIPC");
    let containers: Vec<_> = spec
        .init_containers
        .iter()
        .flatten()
        .chain(&spec.containers)
        .collect();
    let host_paths: Vec<String> = spec
        .volumes
        .iter()
        .flatten()
        .filter_map(|v| {
            v.host_path
                .as_ref()
                .map(|h| format!("volume {}: hostPath {}", v.name, h.path))
        })
        .collect();
    if !host_paths.is_empty() {
        list.push(("host-path", host_paths));
    }
    let sub_paths: Vec<String> = containers
        .iter()
        .flat_map(|c| {
            c.volume_mounts.iter().flatten().filter_map(move |m| {
                m.sub_path
                    .as_ref()
                    .or(m.sub_path_expr.as_ref())
                    .map(|p| format!("container {}: {} subPath {p}", c.name, m.mount_path))
            })
        })
        .collect();
    if !sub_paths.is_empty() {
        list.push(("sub-path", sub_paths));
    }
    let privileged: Vec<String> = containers
        .iter()
        .filter(|c| c.security_context.as_ref().and_then(|s| s.privileged) == Some(true))
        .map(|c| format!("container {}: privileged: true", c.name))
        .collect();
    if !privileged.is_empty() {
        list.push(("privileged", privileged));
    }
    let devices: Vec<String> = containers
        .iter()
        .flat_map(|c| {
            let r = c.resources.as_ref();
            r.and_then(|r| r.limits.as_ref())
                .into_iter()
                .chain(r.and_then(|r| r.requests.as_ref()))
                .flat_map(|m| m.keys())
                .filter(|k| k.contains('/') && !k.starts_with("hugepages"))
                .map(move |k| format!("container {}: resource {k}", c.name))
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if !devices.is_empty() {
        list.push(("devices", devices));
    }
    let sysctls: Vec<String> = spec
        .security_context
        .as_ref()
        .and_then(|p| p.sysctls.as_ref())
        .into_iter()
        .flatten()
        .filter(|s| !GVISOR_SYSCTLS.contains(&s.name.as_str()))
        .map(|s| format!("sysctl {}={}", s.name, s.value))
        .collect();
    if !sysctls.is_empty() {
        list.push(("sysctls", sysctls));
    }
    Triggers { list }
}

/// Findings for one pod spec, for each runtime asked.
pub fn findings(
    db: &Database,
    spec: &PodSpec,
    origin: &Origin,
    object: &str,
    runtimes: &[Runtime],
) -> Vec<Finding> {
    let mut out = Vec::new();
    for (topic, shown) in triggers(spec).list {
        for fact in GVISOR_FACTS.iter().chain(KATA_FACTS) {
            if !runtimes.contains(&fact.runtime) || fact.id.rsplit('.').next() != Some(topic) {
                continue;
            }
            out.push(finding(db, fact, topic, &shown, origin, object));
        }
    }
    out
}

fn finding(
    db: &Database,
    fact: &SpecFact,
    topic: &str,
    shown: &[String],
    origin: &Origin,
    object: &str,
) -> Finding {
    // Prefer the database's curated Kata fact when it has this one.
    let db_fact = (fact.runtime == Runtime::Kata)
        .then(|| db.kata_fact(fact.id))
        .flatten();
    let (effect, remediations, reference) = match db_fact {
        Some(k) => (
            format!("{} {}", k.effect, k.reason),
            dbref::remediation_refs(db, &k.remediations),
            dbref::kata_reference(db, k),
        ),
        None => (
            fact.effect.to_owned(),
            vec![RemediationRef {
                id: format!("{}.fix", fact.id),
                kind: fact.remediation.0,
                flag: fact.flag.map(str::to_owned),
                annotation: None,
                summary: fact.remediation.1.to_owned(),
            }],
            DbReference {
                entry: fact.id.to_owned(),
                revision: fact.source.0.to_owned(),
                paths: vec![fact.source.1.to_owned()],
            },
        ),
    };
    Finding {
        runtime: fact.runtime,
        severity: fact.severity,
        category: Category::PodSpec,
        title: format!("{object}: {topic} ({})", shown.join("; ")),
        effect,
        evidence: Evidence {
            calls: 0,
            first: Some(Occurrence {
                file: Some(origin.file.clone()),
                document: Some(origin.document as u64),
                ..Occurrence::default()
            }),
            detail: shown.to_vec(),
            ..Evidence::default()
        },
        remediations,
        reference,
        observation: None,
    }
}
