//! `sandprof audit MANIFEST...`: for every Pod, Deployment, ReplicaSet, StatefulSet,
//! DaemonSet, Job and CronJob in the manifests, the hardening controls it lacks, then
//! what its spec will break or need configured under gVisor and Kata.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use syscall_db::{Database, Runtime};

use super::args::RuntimeArg;
use super::output::Output;
use crate::audit::{self, Audit};
use crate::k8s::yaml;
use crate::report::{self, FailOn, Format, Gate};

/// Options of `sandprof audit`.
#[derive(Debug, clap::Args)]
pub struct Options {
    /// Manifest files (multi-document YAML).
    #[arg(required = true, value_name = "MANIFEST")]
    pub manifests: Vec<PathBuf>,
    /// Runtimes to judge the specs for (repeat; default: both).
    #[arg(long = "runtime", value_enum)]
    pub runtimes: Vec<RuntimeArg>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    #[command(flatten)]
    pub gate: Gate,
    /// Also exit 1 when any hardening control is missing.
    #[arg(long)]
    pub fail_on_hardening: bool,
}

/// Runs the subcommand.
pub fn run(opts: Options) -> anyhow::Result<ExitCode> {
    let (files, documents) = yaml::read_manifests(&opts.manifests)?;
    let mut runtimes: Vec<Runtime> = opts.runtimes.iter().map(|&r| r.into()).collect();
    if runtimes.is_empty() {
        runtimes = Runtime::ALL.to_vec();
    }
    runtimes.sort();
    runtimes.dedup();
    let result = audit::audit(Database::get(), &files, &documents, &runtimes)?;

    let mut out = Output::stdout();
    let color = out.color();
    match opts.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &result).context("failed to write JSON")?;
            writeln!(out)?;
        }
        Format::Table => {
            write_hardening(&result, &mut out, false)?;
            report::render(&result.report, Format::Table, &mut out, color)?;
        }
        Format::Markdown => {
            write_hardening(&result, &mut out, true)?;
            report::render(&result.report, Format::Markdown, &mut out, false)?;
        }
    }
    out.finish()?;
    let failed =
        opts.gate.fails(&result.report) || (opts.fail_on_hardening && result.failed_controls() > 0);
    Ok(if failed {
        ExitCode::from(FailOn::FAILED)
    } else {
        ExitCode::SUCCESS
    })
}

/// The hardening section: each object's missing controls (passing ones are counted).
fn write_hardening(audit: &Audit, out: &mut dyn Write, markdown: bool) -> io::Result<()> {
    if markdown {
        writeln!(out, "## Hardening controls\n")?;
        writeln!(out, "| Object | Where | Container | Control | Spec |")?;
        writeln!(out, "|---|---|---|---|---|")?;
    } else {
        writeln!(out, "Hardening controls")?;
    }
    for object in &audit.hardening {
        let missing: Vec<_> = object.results.iter().filter(|r| !r.passed).collect();
        if !markdown {
            writeln!(
                out,
                "  {} ({}, document {}): {} of {} controls in place",
                object.object,
                object.file,
                object.document,
                object.results.len() - missing.len(),
                object.results.len()
            )?;
        }
        for r in missing {
            let container = r.container.as_deref().unwrap_or("(pod)");
            if markdown {
                writeln!(
                    out,
                    "| {} | {} #{} | {container} | {} | {} |",
                    object.object, object.file, object.document, r.control, r.detail
                )?;
            } else {
                writeln!(
                    out,
                    "    MISSING {:<26} {container}: {}",
                    r.control, r.detail
                )?;
            }
        }
    }
    writeln!(out)
}
