//! The decision rules. Each option gets a compatibility from the evidence, then
//! exclusion rules (an option that cannot work, or cannot meet the threat model, is out)
//! and scoring rules (points for and against, each with its reason). The highest score
//! among the viable options wins; a tie goes to the option the threat model favours.
//! Every rule has a stable id, listed in `docs/kubernetes.md`.

use std::collections::BTreeSet;

use syscall_db::Runtime;

use crate::analysis::finding::{RemediationRef, VerdictStatus};
use crate::k8s::sources;
use crate::report::text;

use super::facts::{self, GVISOR_DOCKER, GVISOR_GPU, KATA_GPU, KATA_INSTALL};
use super::model::{
    Choice, CompatStatus, Compatibility, Decision, Exclusion, Factor, Nodes, Threat,
};
use super::workload::WorkloadFacts;

/// What the decision is asked for.
#[derive(Clone, Copy, Debug)]
pub struct Question<'a> {
    /// Threat model.
    pub threat: Threat,
    /// Nodes.
    pub nodes: Nodes,
    /// Whether the workload needs a GPU.
    pub gpu: bool,
    /// The evidence.
    pub facts: &'a WorkloadFacts,
}

/// An option with its judgement, before it is laid out.
#[derive(Clone, Debug)]
pub struct Judged {
    /// The option.
    pub choice: Choice,
    /// How the workload fares.
    pub compatibility: Compatibility,
    /// Why it is out.
    pub excluded: Vec<Exclusion>,
    /// Points.
    pub factors: Vec<Factor>,
}

impl Judged {
    /// Sum of the points.
    pub fn score(&self) -> i32 {
        self.factors.iter().map(|f| f.points).sum()
    }
}

/// Judges every option, in [`Choice::ALL`] order.
pub fn judge(q: &Question<'_>) -> Vec<Judged> {
    Choice::ALL
        .iter()
        .map(|&choice| {
            let compatibility = compatibility(choice, q);
            Judged {
                choice,
                excluded: exclusions(choice, q, &compatibility),
                factors: factors(choice, q, &compatibility),
                compatibility,
            }
        })
        .collect()
}

/// The decision over judged options.
pub fn decide(q: &Question<'_>, judged: &[Judged]) -> Decision {
    let preference = tie_order(q.threat);
    let rank = |c: Choice| {
        preference
            .iter()
            .position(|p| *p == c)
            .unwrap_or(usize::MAX)
    };
    let mut viable: Vec<&Judged> = judged.iter().filter(|j| j.excluded.is_empty()).collect();
    viable.sort_by(|a, b| {
        b.score()
            .cmp(&a.score())
            .then_with(|| rank(a.choice).cmp(&rank(b.choice)))
    });

    let mut reasons = Vec::new();
    for j in judged {
        for e in &j.excluded {
            reasons.push(format!("{} is out ({}): {}", j.choice, e.rule, e.reason));
        }
    }
    let Some(best) = viable.first() else {
        reasons.insert(
            0,
            format!(
                "no option is viable for {}: hardened runc is the stopgap until one of the \
                 exclusions below is lifted; it does not meet the threat model",
                threat_name(q.threat)
            ),
        );
        return Decision {
            choice: Choice::HardenedRunc,
            runtime_class: None,
            meets_threat_model: false,
            reasons,
            runner_up: None,
        };
    };
    let runner_up = viable.get(1).copied();
    let headline = match runner_up {
        None => format!(
            "{} is the only viable option ({} points)",
            best.choice,
            best.score()
        ),
        Some(r) if r.score() == best.score() => format!(
            "{} and {} tie at {} points; the tie goes to {}: {}",
            best.choice,
            r.choice,
            best.score(),
            best.choice,
            tie_reason(q.threat)
        ),
        Some(r) => format!(
            "{} scores {} points against {} for {}",
            best.choice,
            best.score(),
            r.score(),
            r.choice
        ),
    };
    reasons.insert(0, headline);
    for f in best.factors.iter().filter(|f| f.points != 0) {
        reasons.push(format!("{:+} {}: {}", f.points, f.rule, f.reason));
    }
    if best.choice == Choice::Kata {
        reasons.push(facts::kata_hypervisor_reason(q.gpu));
    }
    Decision {
        choice: best.choice,
        runtime_class: facts::sandbox(best.choice, q.gpu).map(|s| s.runtime_class().to_owned()),
        meets_threat_model: true,
        reasons,
        runner_up: runner_up.map(|r| r.choice),
    }
}

/// Who wins a tie: the VM boundary for a regulator, the smaller per-pod cost otherwise.
fn tie_order(threat: Threat) -> [Choice; 3] {
    match threat {
        Threat::Regulatory => [Choice::Kata, Choice::Gvisor, Choice::HardenedRunc],
        _ => [Choice::Gvisor, Choice::Kata, Choice::HardenedRunc],
    }
}

fn tie_reason(threat: Threat) -> &'static str {
    match threat {
        Threat::Regulatory => "a regulator asks for the boundary that is easiest to demonstrate",
        _ => "the smaller fixed cost per pod",
    }
}

/// The threat model in words.
pub fn threat_name(threat: Threat) -> &'static str {
    match threat {
        Threat::UntrustedCode => "untrusted code",
        Threat::MultiTenant => "multi-tenant nodes",
        Threat::CiRunner => "CI runners",
        Threat::Regulatory => "a regulatory boundary",
    }
}

/// How the workload fares under `choice`, from every report and the manifests.
fn compatibility(choice: Choice, q: &Question<'_>) -> Compatibility {
    let facts = q.facts;
    let runtime = match choice {
        Choice::Gvisor => Runtime::Gvisor,
        Choice::Kata => Runtime::Kata,
        Choice::HardenedRunc => return runc_compatibility(facts),
    };
    let mut status = CompatStatus::Unknown;
    let mut basis = Vec::new();
    let mut configuration = BTreeSet::new();
    let mut blockers = BTreeSet::new();
    let mut refs: Vec<&RemediationRef> = Vec::new();
    for named in &facts.reports {
        let Some(v) = named.verdict(runtime) else {
            continue;
        };
        basis.push(format!("{}: {}", named.source, text::status_name(v.status)));
        status = worse(
            status,
            match v.status {
                VerdictStatus::Compatible | VerdictStatus::Works => CompatStatus::Compatible,
                VerdictStatus::CompatibleWithConfiguration | VerdictStatus::WorksDegraded => {
                    CompatStatus::NeedsConfiguration
                }
                VerdictStatus::LikelyToBreak | VerdictStatus::Breaks => CompatStatus::LikelyToBreak,
                VerdictStatus::Incomplete
                | VerdictStatus::NoEvidence
                | VerdictStatus::NoFailureFound => CompatStatus::Unknown,
            },
        );
        configuration.extend(v.configuration.iter().map(configuration_line));
        refs.extend(&v.configuration);
        blockers.extend(v.blockers.iter().cloned());
    }
    if basis.is_empty() {
        basis.push(
            "no report judges the workload for this runtime: pass --profile or --report".to_owned(),
        );
    }
    if choice == Choice::Gvisor {
        if !facts.nested_containers.is_empty() {
            configuration.insert(format!(
                "containers inside the sandbox: runsc --net-raw, plus \
                 --allow-packet-socket-write for Docker 28 and later ({} {GVISOR_DOCKER})",
                sources::GVISOR
            ));
        }
        let has_nvproxy = refs.iter().any(|r| r.flag.as_deref() == Some("--nvproxy"));
        if q.gpu && !has_nvproxy {
            configuration.insert(format!(
                "runsc --nvproxy on a supported driver ({} {GVISOR_GPU})",
                sources::GVISOR
            ));
        }
    }
    // When the manifests request the GPU, their audit already says how Kata gets it.
    if choice == Choice::Kata && q.gpu && facts.gpu_requests.is_empty() {
        configuration.insert(format!(
            "GPU passthrough through VFIO ({} {KATA_GPU})",
            sources::KATA
        ));
    }
    if status == CompatStatus::Compatible && !configuration.is_empty() {
        status = CompatStatus::NeedsConfiguration;
    }
    Compatibility {
        status,
        basis,
        configuration: configuration.into_iter().collect(),
        blockers: blockers.into_iter().collect(),
    }
}

/// runc runs the workload today; what is in question is the hardening.
fn runc_compatibility(facts: &WorkloadFacts) -> Compatibility {
    let mut basis = vec!["the workload runs under runc today".to_owned()];
    let mut status = if facts.manifest_files.is_empty() {
        basis.push(
            "the hardening controls were not checked against its pod spec: pass --manifest"
                .to_owned(),
        );
        CompatStatus::Unknown
    } else if facts.missing_hardening.is_empty() {
        basis.push(format!(
            "{}: every hardening control in place",
            facts.manifest_files.join(", ")
        ));
        CompatStatus::Compatible
    } else {
        basis.push(format!(
            "{}: {} hardening controls missing",
            facts.manifest_files.join(", "),
            facts.missing_hardening.len()
        ));
        CompatStatus::NeedsConfiguration
    };
    let blockers: Vec<String> = facts
        .nested_containers
        .iter()
        .map(|e| {
            format!(
                "starts containers of its own ({e}): that needs CAP_SYS_ADMIN or a privileged \
                 container, which the hardening removes"
            )
        })
        .collect();
    if !blockers.is_empty() {
        status = CompatStatus::LikelyToBreak;
    }
    Compatibility {
        status,
        basis,
        configuration: facts.missing_hardening.clone(),
        blockers,
    }
}

fn worse(a: CompatStatus, b: CompatStatus) -> CompatStatus {
    let rank = |s| match s {
        CompatStatus::Unknown => 0,
        CompatStatus::Compatible => 1,
        CompatStatus::NeedsConfiguration => 2,
        CompatStatus::LikelyToBreak => 3,
    };
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

fn configuration_line(r: &RemediationRef) -> String {
    match (&r.flag, &r.annotation) {
        (Some(flag), _) => format!("runsc {flag} ({})", r.id),
        (None, Some(annotation)) => format!("annotation {annotation} ({})", r.id),
        (None, None) => format!("{} ({})", r.summary, r.id),
    }
}

/// Rules that put `choice` out of the running.
fn exclusions(choice: Choice, q: &Question<'_>, compat: &Compatibility) -> Vec<Exclusion> {
    let mut out = Vec::new();
    let mut exclude = |rule: &str, reason: String| {
        out.push(Exclusion {
            rule: rule.to_owned(),
            reason,
        });
    };
    if choice == Choice::Kata && q.nodes == Nodes::NoVirt {
        exclude(
            "kata-needs-kvm",
            format!(
                "every Kata pod is a VM and needs /dev/kvm, which nodes without nested \
                 virtualization do not have ({} {KATA_INSTALL})",
                sources::KATA
            ),
        );
    }
    if choice == Choice::Kata && q.gpu && q.nodes == Nodes::NestedVirt {
        exclude(
            "kata-gpu-needs-iommu",
            format!(
                "GPU passthrough hands the device to the pod's VM through VFIO and the IOMMU \
                 of the machine the VMM runs on; a node VM has neither the GPU nor an IOMMU \
                 to give ({} {KATA_GPU})",
                sources::KATA
            ),
        );
    }
    if compat.status == CompatStatus::LikelyToBreak {
        exclude(
            "likely-to-break",
            format!(
                "the evidence says the workload breaks: {}",
                compat.blockers.join("; ")
            ),
        );
    }
    if choice == Choice::HardenedRunc && q.threat != Threat::Regulatory {
        exclude(
            "shared-kernel",
            format!(
                "with {} a single host-kernel bug is an escape; runc shares the node's \
                 kernel with the workload",
                threat_name(q.threat)
            ),
        );
    }
    out
}

/// Points for and against `choice`.
fn factors(choice: Choice, q: &Question<'_>, compat: &Compatibility) -> Vec<Factor> {
    let mut out = Vec::new();
    let mut add = |rule: &str, points: i32, reason: &str| {
        out.push(Factor {
            rule: rule.to_owned(),
            points,
            reason: reason.to_owned(),
        });
    };

    let (points, reason) = threat_fit(choice, q.threat);
    add("threat-fit", points, reason);

    match (choice, q.threat) {
        (Choice::Kata, Threat::Regulatory) => add(
            "vm-boundary",
            2,
            "a hardware-virtualization boundary with its own guest kernel is the isolation \
             auditors already know how to assess",
        ),
        (Choice::Kata, Threat::MultiTenant) => add(
            "vm-boundary",
            1,
            "tenants' long-running services get a VM boundary and the full Linux kernel \
             without emulation gaps",
        ),
        (Choice::Gvisor, Threat::CiRunner) => add(
            "start-up-and-density",
            2,
            "short-lived jobs pay no VM boot: upstream measured gVisor's start-up on par with \
             runc, and an idle sandbox at about 19 MiB",
        ),
        (Choice::Gvisor, Threat::UntrustedCode) => add(
            "start-up-and-density",
            1,
            "many small sandboxes: no VM boot, and about 19 MiB per idle sandbox",
        ),
        _ => {}
    }

    if choice == Choice::Kata && q.nodes == Nodes::NestedVirt {
        add(
            "nested-virtualization",
            -2,
            "every guest runs under two hypervisors: slower boot, I/O and memory faults",
        );
    }

    if compat.status == CompatStatus::NeedsConfiguration {
        let n = compat.configuration.len();
        let reason = format!(
            "{n} configuration item{} to carry: {}",
            if n == 1 { "" } else { "s" },
            compat.configuration.join("; ")
        );
        add("needs-configuration", -1, &reason);
    }

    if q.gpu {
        match choice {
            Choice::Gvisor if q.threat == Threat::CiRunner => add(
                "gpu-nvproxy",
                -1,
                "nvproxy supports selected GPUs and exact driver versions only",
            ),
            Choice::Gvisor => add(
                "gpu-nvproxy",
                -3,
                "nvproxy passes the allowlisted GPU ioctls to the host's NVIDIA driver: a \
                 driver bug stays reachable from the sandbox, and only selected GPUs and \
                 exact driver versions are supported",
            ),
            Choice::Kata => add(
                "gpu-passthrough",
                -1,
                "a whole GPU per pod, IOMMU and VFIO on every GPU node; the host driver is \
                 not used by the pod",
            ),
            Choice::HardenedRunc => {}
        }
    }

    let jobs_need_kernel = !q.facts.nested_containers.is_empty() || !q.facts.ptrace.is_empty();
    if q.threat == Threat::CiRunner && choice == Choice::Kata && jobs_need_kernel {
        add(
            "native-kernel-for-jobs",
            1,
            "the job starts containers or traces processes: the guest kernel runs them \
             natively, with no extra runtime flags",
        );
    }
    if !q.facts.nested_containers.is_empty() && choice == Choice::Gvisor {
        add(
            "nested-containers",
            -1,
            "containers inside the sandbox need raw sockets (and, for Docker 28+, packet \
             writes) enabled in runsc, which widens what sandboxed code can send",
        );
    }
    out
}

/// How well the option's boundary answers the threat, before anything else.
fn threat_fit(choice: Choice, threat: Threat) -> (i32, &'static str) {
    match (choice, threat) {
        (Choice::Gvisor, Threat::Regulatory) => (
            2,
            "a strong boundary, but a user-space kernel is less familiar to auditors than a VM",
        ),
        (Choice::Gvisor, _) => (
            3,
            "the workload never reaches the host kernel's syscall surface",
        ),
        (Choice::Kata, _) => (
            3,
            "the workload's kernel is a guest kernel behind hardware virtualization",
        ),
        (Choice::HardenedRunc, Threat::Regulatory) => (
            1,
            "namespaces, seccomp and dropped capabilities only: the host kernel stays shared",
        ),
        (Choice::HardenedRunc, _) => (
            0,
            "the host kernel stays shared with code the operator does not control",
        ),
    }
}
