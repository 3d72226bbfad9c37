//! `sandprof recommend`: gVisor, Kata Containers or hardened runc for a threat model and
//! the nodes at hand, weighed against the evidence about the workload (a report, or
//! profiles judged on the spot, and its manifests), with the reasons, the residual risks
//! and the rollout plan; as a terminal table, Markdown or JSON.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use syscall_db::Runtime;

use super::output::Output;
use crate::audit;
use crate::bench::BenchResult;
use crate::k8s::evidence::WorkloadEvidence;
use crate::k8s::yaml;
use crate::profile::io as profile_io;
use crate::recommend::model::{Nodes, Threat};
use crate::recommend::workload::WorkloadFacts;
use crate::recommend::{self, render, Request};

/// Options of `sandprof recommend`.
#[derive(Debug, clap::Args)]
pub struct Options {
    /// What the sandbox must stand against.
    #[arg(long, value_enum)]
    pub threat: Threat,
    /// What the nodes offer for virtualization.
    #[arg(long, value_enum)]
    pub nodes: Nodes,
    /// Profiles of the workload (repeat to merge several), judged as by `sandprof report`.
    #[arg(long = "profile", value_name = "PROFILE", conflicts_with = "report")]
    pub profiles: Vec<PathBuf>,
    /// A report of the workload (`sandprof report --format json`).
    #[arg(long, value_name = "REPORT")]
    pub report: Option<PathBuf>,
    /// The workload's manifests (repeat): what their pod specs break, lack in hardening,
    /// and whether they request a GPU.
    #[arg(long = "manifest", value_name = "FILE")]
    pub manifests: Vec<PathBuf>,
    /// The workload needs a GPU (also assumed when a manifest requests one).
    #[arg(long)]
    pub gpu: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// A `sandprof bench --out` measurement: gVisor's cost rows (memory, start-up,
    /// syscall, RuntimeClass overhead) come from it instead of published figures.
    #[arg(long, value_name = "FILE")]
    pub bench: Option<PathBuf>,
    #[command(flatten)]
    pub release: super::release::ReleaseArgs,
}

/// Output formats.
#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// The decision, a decision table and the plan, for a terminal.
    Table,
    /// A section for a design review or migration ticket.
    Markdown,
    /// The recommendation as JSON (schema `sandprof.recommendation`, docs/kubernetes.md).
    Json,
}

/// Runs the subcommand.
pub fn run(opts: Options) -> anyhow::Result<ExitCode> {
    let release = opts.release.resolve()?;
    let db = release.database();
    let mut facts = WorkloadFacts::default();
    if let Some(path) = &opts.report {
        facts.add_report(WorkloadEvidence::load(path)?);
    }
    if !opts.profiles.is_empty() {
        let profiles = profile_io::read_many(&opts.profiles)?;
        let judged = WorkloadEvidence::judge(db, &profiles)?;
        facts.add_profiles(&profiles, judged);
    }
    if !opts.manifests.is_empty() {
        let (files, documents) = yaml::read_manifests(&opts.manifests)?;
        let result = audit::audit(db, &files, &documents, &Runtime::ALL)?;
        facts.add_audit(&files, &documents, result)?;
    }

    let request = Request {
        threat: opts.threat,
        nodes: opts.nodes,
        gpu: opts.gpu,
    };
    let mut recommendation = recommend::recommend(&request, &facts);
    if let Some(path) = &opts.bench {
        recommend::use_measurement(&mut recommendation, &BenchResult::load(path)?);
    }
    let mut out = Output::stdout();
    match opts.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &recommendation)
                .context("failed to write JSON")?;
            writeln!(out)?;
        }
        Format::Table => render::table(&recommendation, &mut out)?,
        Format::Markdown => render::markdown(&recommendation, &mut out)?,
    }
    out.finish()?;
    Ok(ExitCode::SUCCESS)
}
