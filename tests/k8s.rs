//! Kubernetes wiring: node configuration for every runtime × CRI combination against
//! golden files, every emitted manifest read back into the Kubernetes API types, the
//! audit's exact findings and errors, and `verify` on this machine. Regenerate the
//! golden files with `SANDPROF_BLESS=1 cargo test -p sandprof-tests k8s::`.

use std::path::{Path, PathBuf};

use sandprof::analysis::finding::{Severity, VerdictStatus};
use sandprof::audit::audit;
use sandprof::k8s::containerd::{self, ConfigSchema};
use sandprof::k8s::k8s_openapi::api::admissionregistration::v1::{
    MutatingAdmissionPolicy, MutatingAdmissionPolicyBinding, ValidatingAdmissionPolicy,
    ValidatingAdmissionPolicyBinding,
};
use sandprof::k8s::k8s_openapi::api::apps::v1::Deployment;
use sandprof::k8s::k8s_openapi::api::core::v1::Pod;
use sandprof::k8s::k8s_openapi::api::node::v1::RuntimeClass;
use sandprof::k8s::node::{self, Cri, ExistingConfig};
use sandprof::k8s::policy::namespace_default;
use sandprof::k8s::policy_kyverno;
use sandprof::k8s::runtimeclass::runtime_class;
use sandprof::k8s::sandbox::{KataHypervisor, Sandbox};
use sandprof::k8s::sandboxed_workload::{deployment, patch, NewDeployment};
use sandprof::k8s::yaml::{parse_documents, to_yaml_stream, Document};
use sandprof::verify::{verify, CheckStatus, DetectedRuntime, SystemView};
use syscall_db::{Database, Runtime};

const SANDBOXES: [Sandbox; 4] = [
    Sandbox::Gvisor,
    Sandbox::Kata(KataHypervisor::Qemu),
    Sandbox::Kata(KataHypervisor::Clh),
    Sandbox::Kata(KataHypervisor::Fc),
];

// sandprof recommend: decisions, exclusion rules, layouts.
mod recommend;

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/k8s")
        .join(path)
}

/// Compares with `golden/k8s/<name>`, or rewrites it under `SANDPROF_BLESS=1`.
fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("golden/k8s")
        .join(name);
    if std::env::var_os("SANDPROF_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (bless with SANDPROF_BLESS=1)", path.display()));
    assert_eq!(
        actual,
        expected,
        "{} differs (bless with SANDPROF_BLESS=1)",
        path.display()
    );
}

/// One YAML document read back into `T`, refusing anything the type would drop.
fn read_back<T: serde::de::DeserializeOwned + serde::Serialize>(yaml: &str) -> T {
    let docs = parse_documents("emitted", yaml).unwrap();
    assert_eq!(docs.len(), 1);
    docs[0].typed::<T>().unwrap()
}

#[test]
fn node_configuration_for_every_runtime_and_cri() {
    let cris = [
        ("containerd1", Cri::Containerd(ConfigSchema::V2)),
        ("containerd2", Cri::Containerd(ConfigSchema::V3)),
        ("crio", Cri::Crio),
    ];
    for sandbox in SANDBOXES {
        for (cri_name, cri) in cris {
            let plan = node::plan(sandbox, cri, None, None, "worker-1").unwrap();
            let mut text = String::new();
            for file in &plan.files {
                // Every emitted TOML file parses.
                let doc = containerd::parse(&file.content, &file.path).unwrap();
                if let Cri::Containerd(schema) = cri {
                    if file.path == "/etc/containerd/config.toml" {
                        let h = &doc["plugins"][schema.cri_plugin()]["containerd"]["runtimes"]
                            [sandbox.handler()];
                        assert_eq!(
                            h["runtime_type"].as_str(),
                            Some(sandbox.containerd_runtime_type())
                        );
                        assert_eq!(
                            h["options"]["ConfigPath"].as_str(),
                            Some(sandbox.config_path().as_str())
                        );
                    }
                }
                text.push_str(&format!("### {}\n{}\n", file.path, file.content));
            }
            text.push_str("### commands\n");
            for c in &plan.commands {
                text.push_str(c);
                text.push('\n');
            }
            let smoke = to_yaml_stream(&[&plan.smoke_pod]).unwrap();
            let back: Pod = read_back(&smoke);
            assert_eq!(back, plan.smoke_pod);
            text.push_str(&format!("### smoke pod\n{smoke}### notes\n"));
            for n in &plan.notes {
                text.push_str(n);
                text.push('\n');
            }
            golden(&format!("node-{}-{cri_name}.txt", sandbox.handler()), &text);
        }
    }
}

#[test]
fn containerd_merge_keeps_the_users_config() {
    let path = fixture("node/containerd-1.7.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let existing = ExistingConfig {
        path: PathBuf::from("/etc/containerd/config.toml"),
        text,
    };
    let plan = node::plan(
        Sandbox::Kata(KataHypervisor::Qemu),
        Cri::Containerd(ConfigSchema::V3),
        Some(&existing),
        None,
        "worker-1",
    )
    .unwrap();
    let change = plan.config_change.as_ref().unwrap();
    assert!(change.after.starts_with(&existing.text));
    assert_eq!(
        plan.notes[0],
        "/etc/containerd/config.toml uses config version 2; the handler follows that layout"
    );
    golden(
        "merge-kata-qemu-containerd-1.7.diff",
        &node::unified_diff(change),
    );
}

/// `k8s node --write` replaces the containerd config whole, keeping its mode, after a
/// backup with the same mode; names another user could plant in the config's
/// directory (the temporary file's, the backup's) are never written through.
#[test]
fn writing_the_node_config_follows_no_planted_link() {
    use std::os::unix::fs::{symlink, PermissionsExt as _};

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    let before = "version = 2\n";
    std::fs::write(&config, before).unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o640)).unwrap();
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "precious\n").unwrap();
    // The temporary name sandprof once used, aimed at a file that exists...
    symlink(&victim, dir.path().join("config.toml.sandprof-tmp")).unwrap();
    // ...and the first backup name, aimed at one that does not, which an existence
    // check would take for a free name.
    let planted = dir.path().join("planted");
    symlink(&planted, dir.path().join("config.toml.sandprof-backup")).unwrap();

    let change = node::ConfigChange {
        path: config.clone(),
        before: before.to_owned(),
        after: "version = 2\n[plugins]\n".to_owned(),
    };
    let backup = node::write_change(&change).unwrap();

    assert_eq!(backup, dir.path().join("config.toml.sandprof-backup.1"));
    assert_eq!(std::fs::read_to_string(&backup).unwrap(), before);
    assert_eq!(std::fs::read_to_string(&config).unwrap(), change.after);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    assert_eq!((mode(&config), mode(&backup)), (0o640, 0o640));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    assert!(
        !planted.exists(),
        "the backup was written through a planted link"
    );
}

#[test]
fn runsc_flags_come_from_the_report() {
    let evidence =
        sandprof::k8s::evidence::WorkloadEvidence::load(&fixture("node/report-needs-net-raw.json"))
            .unwrap();
    let plan = node::plan(
        Sandbox::Gvisor,
        Cri::Containerd(ConfigSchema::V3),
        None,
        Some(&evidence),
        "n",
    )
    .unwrap();
    let runsc = plan
        .files
        .iter()
        .find(|f| f.path == "/etc/containerd/runsc.toml")
        .unwrap();
    let doc = containerd::parse(&runsc.content, &runsc.path).unwrap();
    assert_eq!(doc["runsc_config"]["net-raw"].as_str(), Some("true"));
    assert_eq!(doc["runsc_config"].as_table().unwrap().len(), 1);
}

#[test]
fn runsc_flags_come_from_a_profile() {
    let profile =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/profiles/netdiag.sandprof.json");
    let evidence = sandprof::k8s::evidence::WorkloadEvidence::from_profiles(
        Database::get(),
        std::slice::from_ref(&profile),
    )
    .unwrap();
    assert_eq!(evidence.file, profile.display().to_string());
    // The profile breaks under gVisor for other reasons; the flags it needs are still
    // configured, so the node is ready once the blockers are fixed.
    let verdict = evidence.verdict(Runtime::Gvisor).unwrap();
    assert_eq!(verdict.status, VerdictStatus::LikelyToBreak);
    // Exactly the runsc flags of the verdict's configuration (netdiag opens raw sockets,
    // so --net-raw is one of them), `--name` becoming `name = "true"`.
    let mut wanted: Vec<(String, String)> = verdict
        .configuration
        .iter()
        .filter_map(|r| r.flag.as_deref())
        .map(|flag| (flag.trim_start_matches("--").to_owned(), "true".to_owned()))
        .collect();
    wanted.sort();
    wanted.dedup();
    assert!(wanted.contains(&("net-raw".to_owned(), "true".to_owned())));
    let flags: Vec<_> = evidence
        .runsc_flags()
        .unwrap()
        .into_iter()
        .map(|f| (f.name, f.value))
        .collect();
    assert_eq!(flags, wanted);
    let plan = node::plan(
        Sandbox::Gvisor,
        Cri::Containerd(ConfigSchema::V3),
        None,
        Some(&evidence),
        "n",
    )
    .unwrap();
    let runsc = plan
        .files
        .iter()
        .find(|f| f.path == "/etc/containerd/runsc.toml")
        .unwrap();
    let doc = containerd::parse(&runsc.content, &runsc.path).unwrap();
    let written: Vec<(String, String)> = doc["runsc_config"]
        .as_table()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.to_owned(), v.as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(written, wanted);
    assert_eq!(
        plan.notes.last().unwrap(),
        &format!(
            "{} says the workload is likely to break under gVisor (runsc): fix these 3 \
             blockers first (kexec_load is refused with EPERM without CAP_SYS_BOOT; \
             socket(domain=AF_NETLINK) fails with EPROTONOSUPPORT; 32-bit executable \
             /opt/legacy/probe32 cannot run)",
            profile.display()
        )
    );

    let missing =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/profiles/absent.sandprof.json");
    let err = sandprof::k8s::evidence::WorkloadEvidence::from_profiles(
        Database::get(),
        std::slice::from_ref(&missing),
    )
    .unwrap_err();
    assert_eq!(
        format!("{err:#}"),
        format!(
            "cannot read {}: No such file or directory (os error 2)",
            missing.display()
        )
    );
}

#[test]
fn cluster_objects_round_trip_through_the_api_types() {
    for sandbox in SANDBOXES {
        let rc = runtime_class(sandbox, None);
        let text = to_yaml_stream(&[&rc]).unwrap();
        assert_eq!(read_back::<RuntimeClass>(&text), rc);
        golden(
            &format!("runtimeclass-{}.yaml", sandbox.runtime_class()),
            &text,
        );

        let d = deployment(
            &NewDeployment {
                name: "web",
                namespace: Some("shop"),
                image: "example.com/web:2",
                replicas: 2,
            },
            Some(sandbox),
        );
        let text = to_yaml_stream(&[&d]).unwrap();
        assert_eq!(read_back::<Deployment>(&text), d);
        golden(
            &format!("deployment-{}.yaml", sandbox.runtime_class()),
            &text,
        );

        let p = namespace_default(&rc, "tenants");
        assert_eq!(
            read_back::<MutatingAdmissionPolicy>(&to_yaml_stream(&[&p.mutating]).unwrap()),
            p.mutating
        );
        assert_eq!(
            read_back::<MutatingAdmissionPolicyBinding>(
                &to_yaml_stream(&[&p.mutating_binding]).unwrap()
            ),
            p.mutating_binding
        );
        assert_eq!(
            read_back::<ValidatingAdmissionPolicy>(&to_yaml_stream(&[&p.validating]).unwrap()),
            p.validating
        );
        assert_eq!(
            read_back::<ValidatingAdmissionPolicyBinding>(
                &to_yaml_stream(&[&p.validating_binding]).unwrap()
            ),
            p.validating_binding
        );
    }
    let p = namespace_default(&runtime_class(Sandbox::Gvisor, None), "tenants");
    let objects = [
        serde_json::to_value(&p.mutating).unwrap(),
        serde_json::to_value(&p.mutating_binding).unwrap(),
        serde_json::to_value(&p.validating).unwrap(),
        serde_json::to_value(&p.validating_binding).unwrap(),
    ];
    golden(
        "policy-gvisor-tenants.yaml",
        &to_yaml_stream(&objects).unwrap(),
    );
}

#[test]
fn kyverno_policy_has_the_structure_kyverno_requires() {
    for sandbox in SANDBOXES {
        let rc = runtime_class(sandbox, None);
        let policy = policy_kyverno::namespace_default(&rc, "tenants");
        let text = to_yaml_stream(&[&policy]).unwrap();
        // Read back exactly: the typed subset refuses any field it does not declare.
        assert_eq!(read_back::<policy_kyverno::ClusterPolicy>(&text), policy);
        if sandbox == Sandbox::Gvisor {
            golden("policy-kyverno-gvisor-tenants.yaml", &text);
        }

        // The fields Kyverno needs, as a plain JSON value.
        let docs = parse_documents("emitted", &text).unwrap();
        let v = &docs[0].value;
        let class = sandbox.runtime_class();
        assert_eq!(v["apiVersion"], "kyverno.io/v1");
        assert_eq!(v["kind"], "ClusterPolicy");
        assert_eq!(
            v["metadata"]["name"],
            format!("sandprof-{class}-in-tenants").as_str()
        );
        assert_eq!(
            v["metadata"]["annotations"]["pod-policies.kyverno.io/autogen-controllers"],
            "none"
        );
        let rules = v["spec"]["rules"].as_array().unwrap();
        let names: Vec<&str> = rules.iter().map(|r| r["name"].as_str().unwrap()).collect();
        assert_eq!(
            names,
            [
                "set-runtime-class",
                "append-toleration",
                "set-toleration",
                "require-runtime-class"
            ]
        );
        for rule in rules {
            assert_eq!(
                rule["match"],
                serde_json::json!({"any": [{"resources": {
                    "kinds": ["Pod"], "namespaces": ["tenants"], "operations": ["CREATE"]
                }}]})
            );
        }
        let overhead = rc.overhead.as_ref().unwrap().pod_fixed.as_ref().unwrap();
        assert_eq!(
            rules[0]["mutate"]["patchStrategicMerge"],
            serde_json::json!({"spec": {
                "runtimeClassName": class,
                "overhead": {"cpu": overhead["cpu"].0, "memory": overhead["memory"].0},
                "nodeSelector": {"sandbox.sandprof.dev/runtime": class},
            }})
        );
        let toleration = serde_json::json!({
            "key": "sandbox.sandprof.dev/runtime",
            "operator": "Equal",
            "value": class,
            "effect": "NoSchedule",
        });
        // Kyverno's JSON patches are a YAML list inside a string: it must parse too.
        let patches: serde_json::Value =
            yaml_list(rules[1]["mutate"]["patchesJson6902"].as_str().unwrap());
        assert_eq!(
            patches,
            serde_json::json!([{"op": "add", "path": "/spec/tolerations/-", "value": toleration}])
        );
        assert_eq!(
            rules[2]["mutate"]["patchStrategicMerge"],
            serde_json::json!({"spec": {"tolerations": [toleration]}})
        );
        assert_eq!(
            rules[3]["validate"],
            serde_json::json!({
                "failureAction": "Enforce",
                "message": format!(
                    "pods in namespace tenants must run in the {class} sandbox \
                     (runtimeClassName: {class})"
                ),
                "pattern": {"spec": {"runtimeClassName": class}},
            })
        );
    }
}

/// A YAML list as JSON, read through the manifest reader (which wants a mapping at the
/// top, so the list is nested under a key first).
fn yaml_list(text: &str) -> serde_json::Value {
    let wrapped = format!("items:\n{}", indent(text));
    let docs = parse_documents("patches", &wrapped).unwrap();
    docs[0].value["items"].clone()
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect()
}

fn documents(files: &[&str]) -> (Vec<String>, Vec<Document>) {
    let mut names = Vec::new();
    let mut docs = Vec::new();
    for f in files {
        let path = fixture(&format!("audit/{f}"));
        let text = std::fs::read_to_string(&path).unwrap();
        docs.extend(parse_documents(f, &text).unwrap());
        names.push((*f).to_owned());
    }
    (names, docs)
}

#[test]
fn patched_manifest_reads_back() {
    let (_, docs) = documents(&["web.yaml"]);
    let patched = patch(&docs, Some(Sandbox::Gvisor), true).unwrap();
    assert_eq!(
        patched[0].changes,
        vec![
            "runtimeClassName: gvisor",
            "toleration sandbox.sandprof.dev/runtime=gvisor:NoSchedule"
        ]
    );
    assert_eq!(
        patched[1].changes,
        vec![
            "runtimeClassName: gvisor",
            "toleration sandbox.sandprof.dev/runtime=gvisor:NoSchedule",
            "pod: runAsNonRoot: true",
            "pod: seccompProfile: RuntimeDefault",
            "container report: allowPrivilegeEscalation: false",
            "container report: capabilities.drop: [ALL]",
            "container report: readOnlyRootFilesystem: true",
        ]
    );
    let text = to_yaml_stream(&patched.iter().map(|p| &p.value).collect::<Vec<_>>()).unwrap();
    let back = parse_documents("patched", &text).unwrap();
    let d: Deployment = back[0].typed().unwrap();
    assert_eq!(
        d.spec.template.spec.unwrap().runtime_class_name.as_deref(),
        Some("gvisor")
    );
}

#[test]
fn audit_reports_exact_findings() {
    let (names, docs) = documents(&["node-agent.yaml", "web.yaml"]);
    let a = audit(Database::get(), &names, &docs, &Runtime::ALL).unwrap();
    let found: Vec<(Runtime, Severity, &str, Option<u64>)> = a
        .report
        .findings
        .iter()
        .map(|f| {
            (
                f.runtime,
                f.severity,
                f.title.as_str(),
                f.evidence.first.as_ref().and_then(|o| o.document),
            )
        })
        .collect();
    use Runtime::*;
    use Severity::*;
    assert_eq!(
        found,
        vec![
            (
                Gvisor,
                Breaks,
                "DaemonSet/agent: host-network (hostNetwork: true)",
                Some(2)
            ),
            (
                Kata,
                Breaks,
                "DaemonSet/agent: host-network (hostNetwork: true)",
                Some(2)
            ),
            (
                Gvisor,
                Breaks,
                "DaemonSet/agent: host-pid (hostPID: true)",
                Some(2)
            ),
            (
                Kata,
                Breaks,
                "DaemonSet/agent: host-pid (hostPID: true)",
                Some(2)
            ),
            (
                Gvisor,
                Breaks,
                "DaemonSet/agent: privileged (container agent: privileged: true)",
                Some(2)
            ),
            (
                Kata,
                Breaks,
                "Deployment/web: sub-path (container web: /etc/web/web.conf subPath web.conf)",
                Some(1)
            ),
            (
                Gvisor,
                NeedsConfig,
                "CronJob/report: devices (container report: resource nvidia.com/gpu)",
                Some(2)
            ),
            (
                Kata,
                NeedsConfig,
                "CronJob/report: devices (container report: resource nvidia.com/gpu)",
                Some(2)
            ),
            (
                Gvisor,
                Degraded,
                "DaemonSet/agent: host-path (volume proc: hostPath /proc)",
                Some(2)
            ),
            (
                Kata,
                Degraded,
                "DaemonSet/agent: host-path (volume proc: hostPath /proc)",
                Some(2)
            ),
            (
                Kata,
                Degraded,
                "DaemonSet/agent: privileged (container agent: privileged: true)",
                Some(2)
            ),
            (
                Gvisor,
                Degraded,
                "Deployment/web: sysctls (sysctl net.ipv4.tcp_keepalive_time=60)",
                Some(1)
            ),
        ]
    );
    let statuses: Vec<_> = a
        .report
        .verdicts
        .iter()
        .map(|v| (v.runtime, v.status))
        .collect();
    assert_eq!(
        statuses,
        vec![
            (Gvisor, VerdictStatus::LikelyToBreak),
            (Kata, VerdictStatus::LikelyToBreak)
        ]
    );
    assert_eq!(
        a.report.caveats,
        vec!["node-agent.yaml, document 1: ServiceAccount agent has no pod template; not audited"]
    );
    let missing: Vec<(&str, &str, Option<&str>)> = a
        .hardening
        .iter()
        .flat_map(|o| {
            o.results
                .iter()
                .filter(|r| !r.passed)
                .map(move |r| (o.object.as_str(), r.control, r.container.as_deref()))
        })
        .collect();
    assert_eq!(
        missing,
        vec![
            ("DaemonSet/agent", "no-host-namespaces", None),
            ("DaemonSet/agent", "no-host-path", None),
            ("DaemonSet/agent", "user-namespace", None),
            ("DaemonSet/agent", "run-as-non-root", Some("agent")),
            ("DaemonSet/agent", "drop-all-capabilities", Some("agent")),
            (
                "DaemonSet/agent",
                "read-only-root-filesystem",
                Some("agent")
            ),
            ("DaemonSet/agent", "seccomp", Some("agent")),
            ("DaemonSet/agent", "no-privilege-escalation", Some("agent")),
            ("DaemonSet/agent", "not-privileged", Some("agent")),
            ("CronJob/report", "user-namespace", None),
            ("CronJob/report", "run-as-non-root", Some("report")),
            ("CronJob/report", "drop-all-capabilities", Some("report")),
            (
                "CronJob/report",
                "read-only-root-filesystem",
                Some("report")
            ),
            ("CronJob/report", "seccomp", Some("report")),
            ("CronJob/report", "no-privilege-escalation", Some("report")),
        ]
    );
}

/// An empty manifest, or one without a workload, is no evidence: never "compatible",
/// and a failure under `--fail-on`.
#[test]
fn audit_of_a_manifest_without_workloads_is_no_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.yaml");
    std::fs::write(&empty, "").unwrap();
    let service = dir.path().join("service.yaml");
    std::fs::write(
        &service,
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n  - port: 80\n",
    )
    .unwrap();
    for (file, documents) in [
        (&empty, "0 manifest documents"),
        (&service, "1 manifest document"),
    ] {
        let out = std::process::Command::new(crate::support::sandprof_bin())
            .args(["audit", "--format", "json", "--fail-on", "breaks"])
            .arg(file)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let audit: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let verdicts = audit["report"]["verdicts"].as_array().unwrap();
        assert_eq!(verdicts.len(), 2);
        for (verdict, name) in verdicts.iter().zip(["gVisor", "Kata Containers"]) {
            assert_eq!(verdict["status"], "no-evidence");
            assert_eq!(
                verdict["summary"],
                format!(
                    "No evidence: {documents} read, none a workload with a pod spec, so there \
                     is nothing to judge {name} by; this is not a pass."
                )
            );
        }
    }
}

/// With nothing to read (`--root ''`, or an empty recorded tree) verify names no
/// runtime: "runc/host" is a conclusion about a kernel, and there is none to look at.
#[test]
fn verify_without_evidence_is_unknown() {
    let empty = tempfile::tempdir().unwrap();
    for root in ["", empty.path().to_str().unwrap()] {
        let out = std::process::Command::new(crate::support::sandprof_bin())
            .args(["verify", "--format", "json", "--root", root])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(result["detection"]["runtime"], "unknown", "--root {root:?}");
        assert_eq!(
            result["detection"]["evidence"],
            serde_json::json!(["/proc/version: absent"])
        );
        let statuses: Vec<&str> = result["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["status"].as_str().unwrap())
            .collect();
        assert_eq!(statuses, vec!["unknown"; 9]);
    }
    let view = SystemView::recorded(Path::new(""));
    assert_eq!(
        verify(&view).unwrap().detection.runtime,
        DetectedRuntime::Unknown
    );
}

#[test]
fn audit_errors_name_file_and_document() {
    let read = |f: &str| std::fs::read_to_string(fixture(&format!("audit/{f}"))).unwrap();
    assert_eq!(
        parse_documents("malformed.yaml", &read("malformed.yaml"))
            .unwrap_err()
            .to_string(),
        "malformed.yaml, document 1: invalid YAML: did not find expected ',' or '}' at line 9 \
         column 1, while parsing a flow mapping at line 8 column 13"
    );
    let docs = parse_documents("unknown-kind.yaml", &read("unknown-kind.yaml")).unwrap();
    let err = audit(Database::get(), &[], &docs, &Runtime::ALL)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "unknown-kind.yaml, document 2: unknown kind `Widget` (sandprof reads Pod, Deployment, \
         ReplicaSet, StatefulSet, DaemonSet, Job, CronJob, and passes over built-in kinds without pods)"
    );
    let docs = parse_documents("unknown-field.yaml", &read("unknown-field.yaml")).unwrap();
    let err = format!(
        "{:#}",
        audit(Database::get(), &[], &docs, &Runtime::ALL).unwrap_err()
    );
    assert_eq!(
        err,
        "unknown-field.yaml, document 1: not a valid v1 Pod: field \
         `spec.containers[0].securityContext.runAsUsr` is not part of the Kubernetes 1.37 API \
         type or has an invalid value"
    );
}

/// This machine runs the tests as root on the node's own kernel, with no container.
#[test]
fn verify_on_this_machine_finds_the_host() {
    let v = verify(&SystemView::live()).unwrap();
    assert_eq!(v.detection.runtime, DetectedRuntime::RuncOrHost);
    use CheckStatus::*;
    let statuses: Vec<_> = v.checks.iter().map(|c| (c.id, c.status)).collect();
    assert_eq!(
        statuses,
        vec![
            ("host-pid-namespace", Fail),
            ("host-ipc-namespace", Fail),
            ("host-network-namespace", Fail),
            ("user-namespace", Fail),
            ("seccomp", Fail),
            ("capabilities", Fail),
            ("no-new-privs", Fail),
            ("read-only-root", Fail),
            ("service-account-token", Pass),
        ]
    );
    assert_eq!(
        v.checks[0].evidence,
        "/proc/self/ns/pid -> pid:[4026531836]: the kernel's initial pid namespace \
         (torvalds/linux include/uapi/linux/nsfs.h (enum init_ns_ino))"
    );
}
