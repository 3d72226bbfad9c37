//! `sandprof report`: judge profiles against the compatibility database and print a
//! verdict per runtime with evidence and remediation, as a terminal table, Markdown or
//! JSON. `--fail-on` turns the verdicts into an exit code for CI gates.
//!
//! `sandprof profile --report` reuses this: it flattens [`ReportArgs`] into its own
//! options and calls [`report_profiles`] on the profile it just wrote.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use syscall_db::Runtime;

use super::args::runsc_flags;
use super::output::Output;
use crate::analysis::{self, AnalysisOptions, RunscFlags};
use crate::bench::cost::{self, CostPrediction};
use crate::bench::BenchResult;
use crate::profile::{io as profile_io, SyscallProfile};
use crate::report::{self, Format, Gate};

/// Options of `sandprof report`.
#[derive(Debug, clap::Args)]
pub struct Options {
    /// Profiles (`*.sandprof.json`) to judge; several are merged first, as by `sandprof
    /// merge`.
    #[arg(required = true, value_name = "PROFILE")]
    pub profiles: Vec<PathBuf>,

    #[command(flatten)]
    pub args: ReportArgs,

    /// Write the report to this file instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// A `sandprof bench --out` measurement: predict each profile's slowdown under
    /// gVisor from its syscall mix and name the calls that dominate it.
    #[arg(long, value_name = "FILE")]
    pub bench: Option<PathBuf>,
}

/// How to judge and how to render: the options `sandprof report` shares with `sandprof
/// profile --report`.
#[derive(Clone, Debug, clap::Args)]
pub struct ReportArgs {
    /// Runtime(s) to judge the workload for.
    #[arg(long, value_enum, default_value_t = RuntimeChoice::All)]
    pub runtime: RuntimeChoice,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// runsc flags the sandbox will run with, comma-separated (e.g.
    /// "--net-raw,--host-uds=open"); findings they fix are reported as configured. May
    /// be repeated.
    #[arg(long, value_name = "FLAGS", allow_hyphen_values = true)]
    pub runsc_flags: Vec<RunscFlags>,

    #[command(flatten)]
    pub gate: Gate,

    #[command(flatten)]
    pub release: super::release::ReleaseArgs,

    #[command(flatten)]
    pub upgrade: super::release::UpgradeArgs,
}

/// Which runtimes to judge for.
#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum RuntimeChoice {
    /// gVisor (runsc).
    Gvisor,
    /// Kata Containers.
    Kata,
    /// Both.
    All,
}

impl RuntimeChoice {
    /// The runtimes, in report order.
    pub fn runtimes(self) -> Vec<Runtime> {
        match self {
            RuntimeChoice::Gvisor => vec![Runtime::Gvisor],
            RuntimeChoice::Kata => vec![Runtime::Kata],
            RuntimeChoice::All => Runtime::ALL.to_vec(),
        }
    }
}

/// Everything [`report_profiles`] needs besides the profiles.
#[derive(Clone, Debug)]
pub struct ReportOptions {
    /// Runtimes and assumed runsc flags.
    pub analysis: AnalysisOptions,
    /// Output format.
    pub format: Format,
    /// CI gate.
    pub gate: Gate,
    /// ANSI color in the table format.
    pub color: bool,
    /// The gVisor release judged at.
    pub release: std::sync::Arc<crate::release::JudgedRelease>,
    /// The release to compare with (`--upgrade-to`).
    pub upgrade_to: Option<std::sync::Arc<crate::release::JudgedRelease>>,
}

impl ReportArgs {
    /// The options these arguments stand for; `color` says whether the output is a
    /// terminal.
    pub fn options(&self, color: bool) -> anyhow::Result<ReportOptions> {
        Ok(ReportOptions {
            analysis: AnalysisOptions {
                runtimes: self.runtime.runtimes(),
                runsc_flags: runsc_flags(&self.runsc_flags)?,
            },
            format: self.format,
            gate: self.gate,
            color,
            release: self.release.resolve()?.into(),
            upgrade_to: self.upgrade.resolve()?.map(Into::into),
        })
    }
}

/// Judges `profiles` (each named by its path) against the embedded database, writes
/// the report to `out`, and returns the exit code `--fail-on` asks for.
pub fn report_profiles(
    profiles: &[(String, SyscallProfile)],
    opts: &ReportOptions,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    if let Some(target) = &opts.upgrade_to {
        return super::release::report_upgrade(profiles, opts, target, out);
    }
    let mut report = analysis::analyze(opts.release.database(), profiles, &opts.analysis)?;
    opts.release.annotate(&mut report);
    report::render(&report, opts.format, out, opts.color)
        .and_then(|()| out.flush())
        .context("cannot write the report")?;
    Ok(opts.gate.exit_code(&report))
}

/// Runs the subcommand.
pub fn run(opts: Options) -> anyhow::Result<ExitCode> {
    let profiles = profile_io::read_many(&opts.profiles)?;
    let bench = opts.bench.as_deref().map(BenchResult::load).transpose()?;
    let mut inputs = opts.profiles.clone();
    inputs.extend(opts.bench.clone());
    let mut out = Output::to(opts.output.as_deref(), &inputs)?;
    let options = opts.args.options(out.color())?;
    let Some(bench) = bench else {
        let code = report_profiles(&profiles, &options, &mut out)?;
        out.finish()?;
        return Ok(code);
    };
    let predictions: Vec<(String, CostPrediction)> = profiles
        .iter()
        .map(|(name, p)| (name.clone(), cost::predict(p, &bench)))
        .collect();
    let mut report = Vec::new();
    let code = report_profiles(&profiles, &options, &mut report)?;
    match options.format {
        Format::Json => {
            let mut value: serde_json::Value =
                serde_json::from_slice(&report).context("cannot re-read the JSON report")?;
            value["gvisor_cost"] = serde_json::to_value(
                predictions
                    .iter()
                    .map(|(name, p)| serde_json::json!({"profile": name, "prediction": p}))
                    .collect::<Vec<_>>(),
            )?;
            serde_json::to_writer_pretty(&mut out, &value)?;
            writeln!(out)?;
        }
        Format::Table | Format::Markdown => {
            out.write_all(&report)?;
            let markdown = options.format == Format::Markdown;
            writeln!(
                out,
                "\n{}Cost under gVisor (measured on the node, not published figures)\n",
                if markdown { "### " } else { "" }
            )?;
            for (name, p) in &predictions {
                writeln!(out, "{}{name}:", if markdown { "- " } else { "" })?;
                for line in cost::lines(p) {
                    writeln!(out, "  {line}")?;
                }
            }
        }
    }
    out.finish()?;
    Ok(code)
}
