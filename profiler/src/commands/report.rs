//! `sandprof report`: judge profiles against the compatibility database and print a
//! verdict per runtime with evidence and remediation, as a terminal table, Markdown or
//! JSON. `--fail-on` turns the verdicts into an exit code for CI gates.
//!
//! `sandprof profile --report` reuses this: it flattens [`ReportArgs`] into its own
//! options and calls [`report_profiles`] on the profile it just wrote.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal as _, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use syscall_db::Runtime;

use crate::analysis::{self, AnalysisOptions, RunscFlags};
use crate::profile::{io as profile_io, SyscallProfile};
use crate::report::{self, FailOn, Format};

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

    /// Exit with status 1 when any runtime is likely to break (`breaks`), or also when
    /// one needs configuration (`needs-config`).
    #[arg(long, value_enum, default_value_t = FailOn::Never)]
    pub fail_on: FailOn,

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
    pub fail_on: FailOn,
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
        let mut runsc_flags = RunscFlags::none();
        for flags in &self.runsc_flags {
            runsc_flags
                .extend(flags.clone())
                .context("invalid --runsc-flags")?;
        }
        Ok(ReportOptions {
            analysis: AnalysisOptions {
                runtimes: self.runtime.runtimes(),
                runsc_flags,
            },
            format: self.format,
            fail_on: self.fail_on,
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
    Ok(opts.fail_on.exit_code(&report))
}

/// Runs the subcommand.
pub fn run(opts: Options) -> anyhow::Result<ExitCode> {
    let profiles = profile_io::read_many(&opts.profiles)?;
    match &opts.output {
        Some(path) => {
            let file =
                File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
            let mut out = BufWriter::new(file);
            report_profiles(&profiles, &opts.args.options(false)?, &mut out)
        }
        None => {
            let stdout = io::stdout();
            let color = stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none();
            let mut out = BufWriter::new(stdout.lock());
            report_profiles(&profiles, &opts.args.options(color)?, &mut out)
        }
    }
}
