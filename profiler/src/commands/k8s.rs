//! `sandprof k8s node|runtimeclass|workload|policy`: the node and cluster configuration
//! that moves a workload into a sandbox, written from the evidence (a report, the node's
//! containerd config, the user's manifests) and checked against the Kubernetes API types.

use std::io::{self, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context as _};

use super::args::RuntimeArg;
use super::output::Output;
use crate::k8s::containerd::ConfigSchema;
use crate::k8s::evidence::WorkloadEvidence;
use crate::k8s::node::{self, Cri, ExistingConfig};
use crate::k8s::runtimeclass::{self, Measurement};
use crate::k8s::sandbox::{KataHypervisor, Sandbox};
use crate::k8s::sandboxed_workload::{self as workload, NewDeployment};
use crate::k8s::yaml;
use crate::k8s::{policy, policy_kyverno};

/// Options of `sandprof k8s`.
#[derive(Debug, clap::Args)]
pub struct Options {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Enable the runtime on a node: CRI handler, runsc.toml, label, taint, smoke pod.
    Node(NodeOptions),
    /// Write the RuntimeClass (handler, pod overhead, scheduling).
    Runtimeclass(ClassOptions),
    /// Write a sandboxed, hardened Deployment, or patch your own manifests.
    Workload(WorkloadOptions),
    /// Default a namespace to the sandbox: mutating and validating admission policies.
    Policy(PolicyOptions),
}

/// Which sandbox.
#[derive(Debug, clap::Args)]
struct SandboxArgs {
    /// Runtime.
    #[arg(long, value_enum)]
    runtime: RuntimeArg,
    /// Kata hypervisor.
    #[arg(long, value_enum, default_value_t = KataHypervisor::Qemu)]
    kata: KataHypervisor,
}

impl SandboxArgs {
    fn sandbox(&self) -> Sandbox {
        Sandbox::new(self.runtime.into(), self.kata)
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
enum CriArg {
    Containerd,
    Crio,
}

#[derive(Debug, clap::Args)]
struct NodeOptions {
    #[command(flatten)]
    sandbox: SandboxArgs,
    /// Container runtime interface on the node.
    #[arg(long, value_enum, default_value_t = CriArg::Containerd)]
    cri: CriArg,
    /// containerd major version (decides the config layout when no --config is given).
    #[arg(long, default_value_t = 2)]
    containerd_version: u8,
    /// The node's containerd config to merge the handler into (shown as a diff).
    #[arg(long, value_name = "PATH")]
    config: Option<PathBuf>,
    /// Write the merged config (after a backup) instead of showing the diff.
    #[arg(long, requires = "config")]
    write: bool,
    /// A report (`sandprof report --format json`) saying which runsc flags are needed.
    #[arg(long, value_name = "REPORT")]
    report: Option<PathBuf>,
    /// Profiles to judge instead of a report (repeat to merge several): the runsc flags
    /// come from the gVisor verdict's configuration.
    #[arg(long = "profile", value_name = "PROFILE", conflicts_with = "report")]
    profiles: Vec<PathBuf>,
    /// Node name used in the label and taint commands.
    #[arg(long, default_value = "NODE")]
    node: String,
    #[command(flatten)]
    release: super::release::ReleaseArgs,
}

#[derive(Debug, clap::Args)]
struct ClassOptions {
    #[command(flatten)]
    sandbox: SandboxArgs,
    /// Measured pod overhead instead of the defaults: a `sandprof bench --out` file, or
    /// the plain fields (JSON; see docs/kubernetes.md).
    #[arg(long, value_name = "FILE")]
    measurement: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct WorkloadOptions {
    #[command(flatten)]
    sandbox: SandboxArgs,
    /// Patch these manifests instead of writing a new Deployment.
    #[arg(long = "manifest", value_name = "FILE")]
    manifests: Vec<PathBuf>,
    /// Only place the workloads in the sandbox; leave their securityContext alone.
    #[arg(long)]
    no_harden: bool,
    /// Name of the new Deployment.
    #[arg(long, default_value = "app")]
    name: String,
    /// Image of the new Deployment.
    #[arg(long, required_unless_present = "manifests")]
    image: Option<String>,
    /// Namespace of the new Deployment.
    #[arg(long)]
    namespace: Option<String>,
    /// Replicas of the new Deployment.
    #[arg(long, default_value_t = 1)]
    replicas: i32,
}

#[derive(Debug, clap::Args)]
struct PolicyOptions {
    #[command(flatten)]
    sandbox: SandboxArgs,
    /// Namespace whose pods all go to the sandbox.
    #[arg(long)]
    namespace: String,
    /// Measured pod overhead, as for `runtimeclass` (the policy writes it into pods).
    #[arg(long, value_name = "FILE")]
    measurement: Option<PathBuf>,
    /// Admission engine that applies the default.
    #[arg(long, value_enum, default_value_t = PolicyEngine::Native)]
    engine: PolicyEngine,
}

/// Who enforces a namespace's default sandbox.
#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
enum PolicyEngine {
    /// Kubernetes' own MutatingAdmissionPolicy and ValidatingAdmissionPolicy (1.36+).
    Native,
    /// A Kyverno ClusterPolicy (Kyverno 1.13+).
    Kyverno,
}

/// Runs the subcommand.
pub fn run(opts: Options) -> anyhow::Result<ExitCode> {
    let mut out = Output::stdout();
    match opts.command {
        Command::Node(o) => node_cmd(o, &mut out)?,
        Command::Runtimeclass(o) => {
            let sandbox = o.sandbox.sandbox();
            let m = load_measurement(o.measurement.as_ref(), sandbox)?;
            let rc = runtimeclass::runtime_class(sandbox, m.as_ref());
            out.write_all(yaml::to_yaml_stream(&[rc])?.as_bytes())?;
        }
        Command::Workload(o) => workload_cmd(o, &mut out)?,
        Command::Policy(o) => policy_cmd(o, &mut out)?,
    }
    out.finish()?;
    Ok(ExitCode::SUCCESS)
}

fn policy_cmd(o: PolicyOptions, out: &mut dyn io::Write) -> anyhow::Result<()> {
    let sandbox = o.sandbox.sandbox();
    let m = load_measurement(o.measurement.as_ref(), sandbox)?;
    let rc = runtimeclass::runtime_class(sandbox, m.as_ref());
    let requires = match o.engine {
        PolicyEngine::Native => "Kubernetes 1.36+ (MutatingAdmissionPolicy v1)".to_owned(),
        PolicyEngine::Kyverno => format!("Kyverno {}+", policy_kyverno::MIN_KYVERNO),
    };
    writeln!(
        out,
        "# Pods created in namespace {ns} get runtimeClassName {rc}; others are refused.\n\
         # Needs {requires} and the RuntimeClass from `sandprof k8s runtimeclass`.",
        ns = o.namespace,
        rc = sandbox.runtime_class()
    )?;
    let text = match o.engine {
        PolicyEngine::Native => {
            let d = policy::namespace_default(&rc, &o.namespace);
            yaml::to_yaml_stream(&[
                serde_json::to_value(&d.mutating)?,
                serde_json::to_value(&d.mutating_binding)?,
                serde_json::to_value(&d.validating)?,
                serde_json::to_value(&d.validating_binding)?,
            ])?
        }
        PolicyEngine::Kyverno => {
            yaml::to_yaml_stream(&[policy_kyverno::namespace_default(&rc, &o.namespace)])?
        }
    };
    out.write_all(text.as_bytes())?;
    Ok(())
}

fn load_measurement(
    path: Option<&PathBuf>,
    sandbox: Sandbox,
) -> anyhow::Result<Option<Measurement>> {
    path.map(|p| Measurement::load(p, sandbox.runtime()))
        .transpose()
}

fn node_cmd(o: NodeOptions, out: &mut dyn io::Write) -> anyhow::Result<()> {
    let sandbox = o.sandbox.sandbox();
    let cri = match o.cri {
        CriArg::Containerd => {
            Cri::Containerd(ConfigSchema::for_containerd_major(o.containerd_version)?)
        }
        CriArg::Crio => Cri::Crio,
    };
    let existing = match &o.config {
        Some(path) => Some(ExistingConfig {
            path: path.clone(),
            text: std::fs::read_to_string(path)
                .with_context(|| format!("failed to read {}", path.display()))?,
        }),
        None => None,
    };
    let evidence = match (&o.report, o.profiles.is_empty()) {
        (Some(report), _) => Some(WorkloadEvidence::load(report)?),
        (None, false) => Some(WorkloadEvidence::from_profiles(
            o.release.resolve()?.database(),
            &o.profiles,
        )?),
        (None, true) => None,
    };
    let plan = node::plan(sandbox, cri, existing.as_ref(), evidence.as_ref(), &o.node)?;

    writeln!(
        out,
        "# {sandbox} on a {} node",
        match cri {
            Cri::Containerd(_) => "containerd",
            Cri::Crio => "CRI-O",
        }
    )?;
    if let Some(change) = &plan.config_change {
        if o.write {
            if change.before == change.after {
                writeln!(
                    out,
                    "\n# {} already has the handler; unchanged",
                    change.path.display()
                )?;
            } else {
                let backup = node::write_change(change)?;
                writeln!(
                    out,
                    "\n# wrote {} (backup: {})",
                    change.path.display(),
                    backup.display()
                )?;
            }
        } else {
            writeln!(
                out,
                "\n# merge into {} (apply with --write):",
                change.path.display()
            )?;
            out.write_all(node::unified_diff(change).as_bytes())?;
        }
    }
    for file in &plan.files {
        writeln!(out, "\n# file: {}", file.path)?;
        out.write_all(file.content.as_bytes())?;
    }
    writeln!(out, "\n# commands")?;
    for c in &plan.commands {
        writeln!(out, "{c}")?;
    }
    writeln!(out, "\n# file: smoke-{}.yaml", sandbox.runtime_class())?;
    out.write_all(yaml::to_yaml_stream(&[&plan.smoke_pod])?.as_bytes())?;
    if !plan.notes.is_empty() {
        writeln!(out, "\n# notes")?;
        for n in &plan.notes {
            writeln!(out, "# - {n}")?;
        }
    }
    Ok(())
}

fn workload_cmd(o: WorkloadOptions, out: &mut dyn io::Write) -> anyhow::Result<()> {
    let sandbox = o.sandbox.sandbox();
    if o.manifests.is_empty() {
        let Some(image) = o.image.as_deref() else {
            bail!("--image is required to write a new Deployment");
        };
        let d = workload::deployment(
            &NewDeployment {
                name: &o.name,
                namespace: o.namespace.as_deref(),
                image,
                replicas: o.replicas,
            },
            Some(sandbox),
        );
        out.write_all(yaml::to_yaml_stream(&[d])?.as_bytes())?;
        return Ok(());
    }
    let (_, documents) = yaml::read_manifests(&o.manifests)?;
    let patched = workload::patch(&documents, Some(sandbox), !o.no_harden)?;
    for p in &patched {
        if p.changes.is_empty() {
            writeln!(out, "# {} ({}): unchanged", p.object, p.origin)?;
        } else {
            writeln!(out, "# {} ({}):", p.object, p.origin)?;
            for c in &p.changes {
                writeln!(out, "#   {c}")?;
            }
        }
    }
    let values: Vec<_> = patched.into_iter().map(|p| p.value).collect();
    out.write_all(yaml::to_yaml_stream(&values)?.as_bytes())?;
    Ok(())
}
