//! The rollout and validation plan for the chosen option, in sandprof commands where
//! sandprof does the step: a canary node and its smoke pod, `sandprof verify` from inside
//! a pod, the `report`/`audit` gate in CI, a canary namespace under the default policy,
//! the post-mortem path when something fails, then the wider rollout and the way back.

use crate::k8s::sandbox::Sandbox;
use crate::k8s::sources;

use super::facts::GVISOR_DEBUGGING;
use super::model::RolloutStep;
use super::workload::WorkloadFacts;

/// Namespace the plan uses for the canary.
pub const CANARY_NAMESPACE: &str = "sandbox-canary";

/// The plan: for a sandbox when `sandbox` names one, else for hardened runc.
pub fn plan(sandbox: Option<Sandbox>, gpu: bool, facts: &WorkloadFacts) -> Vec<RolloutStep> {
    let manifests = if facts.manifest_files.is_empty() {
        "MANIFEST.yaml".to_owned()
    } else {
        facts.manifest_files.join(" ")
    };
    let profiles = if facts.profile_files.is_empty() {
        "PROFILE.sandprof.json".to_owned()
    } else {
        facts.profile_files.join(" ")
    };
    match sandbox {
        Some(sandbox) => sandbox_plan(sandbox, gpu, facts, &manifests, &profiles),
        None => runc_plan(&manifests, &profiles),
    }
}

fn step(title: &str, commands: Vec<String>, pass_when: String) -> RolloutStep {
    RolloutStep {
        title: title.to_owned(),
        commands,
        pass_when,
    }
}

/// The steps of a sandboxed rollout, in the order an operator carries them out.
///
/// Over 100 lines on purpose: each step is a short literal (title, commands, when it
/// passes) and the plan reads top to bottom as it is executed; helpers would split
/// the one sequence an operator follows.
fn sandbox_plan(
    sandbox: Sandbox,
    gpu: bool,
    facts: &WorkloadFacts,
    manifests: &str,
    profiles: &str,
) -> Vec<RolloutStep> {
    let (runtime, runtime_args, expect) = match sandbox {
        Sandbox::Gvisor => ("gvisor", "--runtime gvisor".to_owned(), "gvisor"),
        Sandbox::Kata(hv) => (
            "kata",
            format!("--runtime kata --kata {}", hv.as_str()),
            "kata",
        ),
    };
    let class = sandbox.runtime_class();
    let evidence = match (&facts.report_file, facts.profile_files.is_empty()) {
        (Some(report), _) => format!(" --report {report}"),
        (None, false) => facts
            .profile_files
            .iter()
            .map(|p| format!(" --profile {p}"))
            .collect(),
        (None, true) => String::new(),
    };

    let mut node = Vec::new();
    match sandbox {
        Sandbox::Gvisor if gpu => {
            node.push(
                "runsc nvproxy list-supported-drivers   # the node's driver must be listed"
                    .to_owned(),
            );
        }
        Sandbox::Kata(_) => {
            node.push("ls -l /dev/kvm && lsmod | grep -E 'vhost_vsock|vhost_net'".to_owned());
        }
        Sandbox::Gvisor => {}
    }
    node.push(format!(
        "sandprof k8s node {runtime_args}{evidence} --config /etc/containerd/config.toml \
         --node NODE   # review the diff, then add --write"
    ));
    node.push(format!(
        "sandprof k8s runtimeclass {runtime_args} > runtimeclass-{class}.yaml && kubectl \
         apply -f runtimeclass-{class}.yaml"
    ));

    let (post_mortem, post_mortem_pass) = match sandbox {
        Sandbox::Gvisor => (
            vec![
                format!(
                    "on the canary node, add to /etc/containerd/runsc.toml under \
                     [runsc_config]: debug = \"true\", strace = \"true\", debug-log = \
                     \"/var/log/runsc/%ID%/gvisor.%COMMAND%.log\"   # {} {GVISOR_DEBUGGING}",
                    sources::GVISOR
                ),
                "sandprof runsc-log /var/log/runsc/SANDBOX_ID/ --format markdown".to_owned(),
            ],
            "each failure is explained by a finding; its remediation is applied and the CI \
             gate re-run before the canary resumes",
        ),
        Sandbox::Kata(_) => (
            vec![
                "journalctl -u containerd --grep kata --since -1h".to_owned(),
                format!("sandprof report --runtime kata --format markdown {profiles}"),
            ],
            "each failure is explained by the shim's log or a finding, and fixed before the \
             canary resumes",
        ),
    };

    vec![
        step(
            "Enable the runtime on one canary node",
            node,
            format!(
                "the smoke pod sandprof-smoke-{class} succeeds and prints the {runtime} \
                 evidence"
            ),
        ),
        step(
            "Prove the boundary from inside a pod",
            vec![format!(
                "kubectl run sandprof-verify --rm -i --restart=Never --image=SANDPROF_IMAGE \
                 --overrides='{{\"spec\":{{\"runtimeClassName\":\"{class}\"}}}}' -- sandprof \
                 verify --expect {expect}"
            )],
            format!("exit 0: the runtime is detected as {expect} and every boundary check passes"),
        ),
        step(
            "Gate every change in CI",
            vec![
                format!("sandprof report --runtime {runtime} --fail-on breaks {profiles}"),
                format!(
                    "sandprof audit --runtime {runtime} --fail-on breaks --fail-on-hardening \
                     {manifests}"
                ),
            ],
            "both exit 0 for the image and manifests being rolled out".to_owned(),
        ),
        step(
            "Run a canary namespace in the sandbox",
            vec![
                format!("kubectl create namespace {CANARY_NAMESPACE}"),
                format!(
                    "sandprof k8s policy {runtime_args} --namespace {CANARY_NAMESPACE} | \
                     kubectl apply -f -"
                ),
                format!(
                    "sandprof k8s workload {runtime_args} --manifest {manifests} | kubectl \
                     apply -n {CANARY_NAMESPACE} -f -"
                ),
            ],
            "the canary serves within its error and latency budget for a full traffic cycle, \
             without restarts"
                .to_owned(),
        ),
        step(
            "When the canary fails: post-mortem",
            post_mortem,
            post_mortem_pass.to_owned(),
        ),
        step(
            "Widen namespace by namespace",
            vec![format!(
                "sandprof k8s policy {runtime_args} --namespace NAMESPACE | kubectl apply -f -"
            )],
            "each namespace passes the canary criteria before the next one moves".to_owned(),
        ),
        step(
            "Roll back",
            vec![
                "kubectl delete mutatingadmissionpolicy,mutatingadmissionpolicybinding,\
                 validatingadmissionpolicy,validatingadmissionpolicybinding -l \
                 app.kubernetes.io/managed-by=sandprof"
                    .to_owned(),
                "kubectl apply -f ORIGINAL_MANIFESTS   # pods recreated without runtimeClassName run on runc"
                    .to_owned(),
            ],
            "the workload's pods run on runc again".to_owned(),
        ),
    ]
}

fn runc_plan(manifests: &str, profiles: &str) -> Vec<RolloutStep> {
    vec![
        step(
            "Apply the hardening controls",
            vec![format!("sandprof audit --fail-on-hardening {manifests}")],
            "every control is in place".to_owned(),
        ),
        step(
            "Enforce them in a canary namespace",
            vec![
                format!("kubectl create namespace {CANARY_NAMESPACE}"),
                format!(
                    "kubectl label namespace {CANARY_NAMESPACE} \
                     pod-security.kubernetes.io/enforce=restricted"
                ),
                format!("kubectl apply -n {CANARY_NAMESPACE} -f {manifests}"),
            ],
            "the pods are admitted under the restricted Pod Security Standard and serve within \
             budget"
                .to_owned(),
        ),
        step(
            "Gate every change in CI",
            vec![
                format!("sandprof audit --fail-on-hardening {manifests}"),
                format!("sandprof report --fail-on breaks {profiles}"),
            ],
            "the audit exits 0; the report shows what still keeps the workload out of a \
             sandbox"
                .to_owned(),
        ),
        step(
            "Plan the move to a sandbox",
            vec!["sandprof recommend ... (again, once the exclusions are lifted)".to_owned()],
            "a sandbox is viable for this workload".to_owned(),
        ),
    ]
}
