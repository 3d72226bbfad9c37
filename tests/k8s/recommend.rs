//! `sandprof recommend`: the exact decision for combinations of threat model, nodes, GPU
//! and evidence; one test per exclusion rule; the JSON schema read back; and the
//! rendered layouts against golden files (bless with `SANDPROF_BLESS=1`).

use std::path::Path;

use sandprof::audit::audit;
use sandprof::k8s::evidence::WorkloadEvidence;
use sandprof::k8s::yaml::parse_documents;
use sandprof::profile::io as profile_io;
use sandprof::recommend::model::{Choice, CompatStatus, Exclusion, Nodes, Recommendation, Threat};
use sandprof::recommend::workload::WorkloadFacts;
use sandprof::recommend::{recommend, render, Request};
use syscall_db::{Database, Runtime};

use super::golden;

const NETDIAG: &str = "fixtures/profiles/netdiag.sandprof.json";
const NEEDS_NET_RAW: &str = "fixtures/k8s/node/report-needs-net-raw.json";
const WEB: &str = "fixtures/k8s/audit/web.yaml";

fn at(relative: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// Evidence named by paths relative to the tests directory, so goldens are portable.
#[derive(Default)]
struct Given<'a> {
    profile: Option<&'a str>,
    report: Option<&'a str>,
    manifests: &'a [&'a str],
}

fn facts(given: &Given<'_>) -> WorkloadFacts {
    let db = Database::get();
    let mut facts = WorkloadFacts::default();
    if let Some(report) = given.report {
        let mut evidence = WorkloadEvidence::load(&at(report)).unwrap();
        evidence.file = report.to_owned();
        facts.add_report(evidence);
    }
    if let Some(profile) = given.profile {
        let profiles = vec![(profile.to_owned(), profile_io::read(&at(profile)).unwrap())];
        let judged = WorkloadEvidence::judge(db, &profiles).unwrap();
        facts.add_profiles(&profiles, judged);
    }
    if !given.manifests.is_empty() {
        let mut files = Vec::new();
        let mut documents = Vec::new();
        for m in given.manifests {
            let text = std::fs::read_to_string(at(m)).unwrap();
            documents.extend(parse_documents(m, &text).unwrap());
            files.push((*m).to_owned());
        }
        let result = audit(db, &files, &documents, &Runtime::ALL).unwrap();
        facts.add_audit(&files, &documents, result).unwrap();
    }
    facts
}

fn ask(threat: Threat, nodes: Nodes, gpu: bool, facts: &WorkloadFacts) -> Recommendation {
    recommend(&Request { threat, nodes, gpu }, facts)
}

fn option(r: &Recommendation, choice: Choice) -> &sandprof::recommend::model::Assessment {
    r.options.iter().find(|a| a.choice == choice).unwrap()
}

fn rules(excluded: &[Exclusion]) -> Vec<&str> {
    excluded.iter().map(|e| e.rule.as_str()).collect()
}

/// (choice, runner-up, meets the threat model, scores of gVisor, Kata, hardened runc).
type Outcome = (Choice, Option<Choice>, bool, [i32; 3]);

fn outcome(r: &Recommendation) -> Outcome {
    (
        r.decision.choice,
        r.decision.runner_up,
        r.decision.meets_threat_model,
        [
            option(r, Choice::Gvisor).score,
            option(r, Choice::Kata).score,
            option(r, Choice::HardenedRunc).score,
        ],
    )
}

#[test]
fn decisions_for_threat_nodes_gpu_and_evidence() {
    use Choice::{Gvisor, HardenedRunc, Kata};
    use Nodes::{BareMetal, NestedVirt, NoVirt};
    use Threat::{CiRunner, MultiTenant, Regulatory, UntrustedCode};

    let none = facts(&Given::default());
    let netdiag = facts(&Given {
        profile: Some(NETDIAG),
        ..Given::default()
    });
    let net_raw = facts(&Given {
        report: Some(NEEDS_NET_RAW),
        ..Given::default()
    });
    let cases: &[(&str, Threat, Nodes, bool, &WorkloadFacts, Outcome)] = &[
        // Cheap sandboxes for hostile code; the VM is the runner-up.
        (
            "untrusted",
            UntrustedCode,
            BareMetal,
            false,
            &none,
            (Gvisor, Some(Kata), true, [4, 3, 0]),
        ),
        // gVisor breaks the workload and the nodes allow a VM: Kata.
        (
            "untrusted+breaks",
            UntrustedCode,
            BareMetal,
            false,
            &netdiag,
            (Kata, None, true, [4, 3, 0]),
        ),
        // A GPU for hostile code: passthrough keeps the host driver away from the pod.
        (
            "untrusted+gpu",
            UntrustedCode,
            BareMetal,
            true,
            &none,
            (Kata, Some(Gvisor), true, [1, 2, 0]),
        ),
        // ... unless the nodes are VMs, where passthrough is out.
        (
            "untrusted+gpu+nested",
            UntrustedCode,
            NestedVirt,
            true,
            &none,
            (Gvisor, None, true, [1, 0, 0]),
        ),
        // A flag to carry ties gVisor with Kata; the smaller per-pod cost wins the tie.
        (
            "untrusted+net-raw",
            UntrustedCode,
            BareMetal,
            false,
            &net_raw,
            (Gvisor, Some(Kata), true, [3, 3, 0]),
        ),
        // Long-running tenants on bare metal: the VM boundary.
        (
            "multi-tenant",
            MultiTenant,
            BareMetal,
            false,
            &none,
            (Kata, Some(Gvisor), true, [3, 4, 0]),
        ),
        // ... but not through two hypervisors.
        (
            "multi-tenant+nested",
            MultiTenant,
            NestedVirt,
            false,
            &none,
            (Gvisor, Some(Kata), true, [3, 2, 0]),
        ),
        // CI jobs start all the time: no VM boot.
        (
            "ci",
            CiRunner,
            BareMetal,
            false,
            &none,
            (Gvisor, Some(Kata), true, [5, 3, 0]),
        ),
        // A regulator weighs the VM boundary, even nested.
        (
            "regulatory",
            Regulatory,
            BareMetal,
            false,
            &none,
            (Kata, Some(Gvisor), true, [2, 5, 1]),
        ),
        (
            "regulatory+nested",
            Regulatory,
            NestedVirt,
            false,
            &none,
            (Kata, Some(Gvisor), true, [2, 3, 1]),
        ),
        (
            "regulatory+net-raw",
            Regulatory,
            BareMetal,
            false,
            &net_raw,
            (Kata, Some(Gvisor), true, [1, 5, 1]),
        ),
        // No KVM: gVisor, with hardened runc as the fallback a regulator may accept.
        (
            "regulatory+no-virt",
            Regulatory,
            NoVirt,
            false,
            &none,
            (Gvisor, Some(HardenedRunc), true, [2, 5, 1]),
        ),
        // Nothing viable: hardened runc as a stopgap that does not meet the threat model.
        (
            "untrusted+breaks+no-virt",
            UntrustedCode,
            NoVirt,
            false,
            &netdiag,
            (HardenedRunc, None, false, [4, 3, 0]),
        ),
    ];
    for (name, threat, nodes, gpu, facts, expected) in cases {
        let r = ask(*threat, *nodes, *gpu, facts);
        assert_eq!(&outcome(&r), expected, "{name}");
        let chosen = option(&r, r.decision.choice);
        assert_eq!(
            r.decision.runtime_class, chosen.runtime_class,
            "{name}: the decision names the chosen option's RuntimeClass"
        );
        if expected.2 {
            assert!(chosen.viable(), "{name}: a viable option is chosen");
        }
    }
}

#[test]
fn kata_needs_kvm() {
    let r = ask(
        Threat::MultiTenant,
        Nodes::NoVirt,
        false,
        &facts(&Given::default()),
    );
    let kata = option(&r, Choice::Kata);
    assert_eq!(rules(&kata.excluded), ["kata-needs-kvm"]);
    assert_eq!(
        kata.excluded[0].reason,
        "every Kata pod is a VM and needs /dev/kvm, which nodes without nested virtualization \
         do not have (kata-containers/kata-containers@7c6ba40c54ea29b459b4997cff948caaba4e658b \
         docs/installation.md)"
    );
    assert_eq!(r.decision.choice, Choice::Gvisor);
    assert_eq!(r.decision.runner_up, None);
    // The same nodes with KVM keep Kata in.
    let r = ask(
        Threat::MultiTenant,
        Nodes::NestedVirt,
        false,
        &facts(&Given::default()),
    );
    assert!(option(&r, Choice::Kata).viable());
}

#[test]
fn kata_gpu_needs_an_iommu() {
    let none = facts(&Given::default());
    let r = ask(Threat::UntrustedCode, Nodes::NestedVirt, true, &none);
    assert_eq!(
        rules(&option(&r, Choice::Kata).excluded),
        ["kata-gpu-needs-iommu"]
    );
    // gVisor reaches the GPU through nvproxy instead, and says what that takes.
    let gvisor = option(&r, Choice::Gvisor);
    assert_eq!(
        gvisor.compatibility.configuration,
        ["runsc --nvproxy on a supported driver (google/gvisor@3c5eee17dc45659fb86843531074f38e78e0cc35 \
          g3doc/user_guide/gpu.md)"]
    );
    // On bare metal passthrough is possible, on the QEMU flavour.
    let r = ask(Threat::UntrustedCode, Nodes::BareMetal, true, &none);
    assert!(option(&r, Choice::Kata).viable());
    assert_eq!(r.decision.runtime_class.as_deref(), Some("kata-qemu"));
}

#[test]
fn likely_to_break_rules_an_option_out() {
    let netdiag = facts(&Given {
        profile: Some(NETDIAG),
        ..Given::default()
    });
    let r = ask(Threat::UntrustedCode, Nodes::BareMetal, false, &netdiag);
    let gvisor = option(&r, Choice::Gvisor);
    assert_eq!(rules(&gvisor.excluded), ["likely-to-break"]);
    assert_eq!(gvisor.compatibility.status, CompatStatus::LikelyToBreak);
    assert_eq!(
        gvisor.compatibility.basis,
        [format!("{NETDIAG}: likely to break")]
    );
    assert_eq!(
        gvisor.excluded[0].reason,
        "the evidence says the workload breaks: 32-bit executable /opt/legacy/probe32 cannot \
         run; kexec_load is refused with EPERM without CAP_SYS_BOOT; socket(domain=AF_NETLINK) \
         fails with EPROTONOSUPPORT"
    );
    assert_eq!(
        option(&r, Choice::Kata).compatibility.status,
        CompatStatus::Compatible
    );

    // Hardened runc breaks a job that starts containers of its own.
    let mut ci = facts(&Given::default());
    ci.nested_containers
        .push("job.sandprof.json: calls unshare, mount".to_owned());
    let r = ask(Threat::CiRunner, Nodes::BareMetal, false, &ci);
    let runc = option(&r, Choice::HardenedRunc);
    assert_eq!(rules(&runc.excluded), ["likely-to-break", "shared-kernel"]);
    assert_eq!(
        runc.compatibility.blockers,
        [
            "starts containers of its own (job.sandprof.json: calls unshare, mount): that needs \
          CAP_SYS_ADMIN or a privileged container, which the hardening removes"
        ]
    );
    // gVisor can run them with flags that cost a point; Kata runs them natively: a tie
    // the smaller per-pod cost breaks.
    assert_eq!(
        outcome(&r),
        (Choice::Gvisor, Some(Choice::Kata), true, [4, 4, 0])
    );
    let factors: Vec<(&str, i32)> = option(&r, Choice::Kata)
        .factors
        .iter()
        .map(|f| (f.rule.as_str(), f.points))
        .collect();
    assert_eq!(factors, [("threat-fit", 3), ("native-kernel-for-jobs", 1)]);
    assert_eq!(
        r.decision.reasons[0],
        "gVisor and Kata Containers tie at 4 points; the tie goes to gVisor: the smaller fixed \
         cost per pod"
    );
}

#[test]
fn shared_kernel_rules_runc_out_unless_regulatory() {
    let none = facts(&Given::default());
    for threat in [Threat::UntrustedCode, Threat::MultiTenant, Threat::CiRunner] {
        let r = ask(threat, Nodes::BareMetal, false, &none);
        assert_eq!(
            rules(&option(&r, Choice::HardenedRunc).excluded),
            ["shared-kernel"],
            "{threat:?}"
        );
    }
    let r = ask(Threat::Regulatory, Nodes::BareMetal, false, &none);
    assert!(option(&r, Choice::HardenedRunc).viable());
}

#[test]
fn stopgap_when_nothing_is_viable() {
    let netdiag = facts(&Given {
        profile: Some(NETDIAG),
        ..Given::default()
    });
    let r = ask(Threat::UntrustedCode, Nodes::NoVirt, false, &netdiag);
    assert_eq!(r.decision.choice, Choice::HardenedRunc);
    assert!(!r.decision.meets_threat_model);
    assert_eq!(r.decision.runtime_class, None);
    assert_eq!(
        r.decision.reasons[0],
        "no option is viable for untrusted code: hardened runc is the stopgap until one of the \
         exclusions below is lifted; it does not meet the threat model"
    );
    let ids: Vec<&str> = r.residual_risks.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "host-kernel",
            "side-channels",
            "shared-storage",
            "shared-network",
            "no-sandbox"
        ]
    );
    let steps: Vec<&str> = r.rollout.iter().map(|s| s.title.as_str()).collect();
    assert_eq!(
        steps,
        [
            "Apply the hardening controls",
            "Enforce them in a canary namespace",
            "Gate every change in CI",
            "Plan the move to a sandbox"
        ]
    );
}

#[test]
fn manifests_bring_hardening_gaps_spec_findings_and_the_gpu() {
    let web = facts(&Given {
        manifests: &[WEB],
        ..Given::default()
    });
    assert_eq!(
        web.gpu_requests,
        [format!(
            "{WEB}, document 2: CronJob/report container report requests nvidia.com/gpu"
        )]
    );
    let r = ask(Threat::UntrustedCode, Nodes::BareMetal, false, &web);
    // No --gpu: the manifest's request is the reason a GPU is assumed.
    assert_eq!(r.gpu.as_deref(), Some(web.gpu_requests[0].as_str()));
    // The pod spec's subPath breaks Kata, so gVisor wins despite the GPU.
    let kata = option(&r, Choice::Kata);
    assert_eq!(
        kata.compatibility.blockers,
        ["Deployment/web: sub-path (container web: /etc/web/web.conf subPath web.conf)"]
    );
    assert_eq!(rules(&kata.excluded), ["likely-to-break"]);
    assert_eq!(outcome(&r), (Choice::Gvisor, None, true, [0, 2, -1]));
    // The audit already asks for nvproxy; it is not repeated.
    assert_eq!(
        option(&r, Choice::Gvisor).compatibility.configuration,
        ["runsc --nvproxy (gvisor.pod.devices.fix)"]
    );
    let runc = option(&r, Choice::HardenedRunc);
    assert_eq!(runc.compatibility.status, CompatStatus::NeedsConfiguration);
    assert_eq!(
        runc.compatibility.basis[1],
        format!(
            "{WEB}: {} hardening controls missing",
            web.missing_hardening.len()
        )
    );
    golden("recommend-untrusted-bare-metal-web.md", &markdown(&r));
}

fn markdown(r: &Recommendation) -> String {
    let mut out = Vec::new();
    render::markdown(r, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn layouts_and_schema_match_the_goldens() {
    let netdiag = facts(&Given {
        profile: Some(NETDIAG),
        ..Given::default()
    });
    let r = ask(Threat::UntrustedCode, Nodes::BareMetal, false, &netdiag);
    let json = serde_json::to_string_pretty(&r).unwrap() + "\n";
    // The schema reads back into the same value.
    let back: Recommendation = serde_json::from_str(&json).unwrap();
    assert_eq!(back, r);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["schema"], "sandprof.recommendation");
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["decision"]["choice"], "kata");
    assert_eq!(v["options"][2]["choice"], "hardened-runc");
    assert_eq!(v["options"][0]["excluded"][0]["rule"], "likely-to-break");
    golden("recommend-untrusted-bare-metal-netdiag.json", &json);
    golden("recommend-untrusted-bare-metal-netdiag.md", &markdown(&r));

    let stopgap = ask(Threat::UntrustedCode, Nodes::NoVirt, false, &netdiag);
    let mut table = Vec::new();
    render::table(&stopgap, &mut table).unwrap();
    golden(
        "recommend-untrusted-no-virt-netdiag.txt",
        &String::from_utf8(table).unwrap(),
    );
}
