//! `sandprof runsc-log`: the post-mortem. Reads runsc debug and `--strace` logs (files,
//! log directories, gzip, stdin; text, json or json-k8s), says which unsupported or
//! failing calls explain the failure, the likely root cause first, and what to do,
//! through the same analysis and renderers as `sandprof report`. `--to-profile` writes
//! the strace lines as a profile for `report`, `merge` and `diff`.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use syscall_db::{Arch, Database};

use super::args::runsc_flags;
use super::output::Output;
use crate::analysis::runsc::analyze_logs;
use crate::analysis::RunscFlags;
use crate::profile::io as profile_io;
use crate::report::{self, Format, Gate};
use crate::runsc_log::capture::CaptureSpec;
use crate::runsc_log::{input, read_inputs};

/// Options of `sandprof runsc-log`.
#[derive(Debug, clap::Args)]
pub struct Options {
    /// Log files, directories of them (one file per runsc command), gzip files, or `-`
    /// for standard input.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    #[command(flatten)]
    pub gate: Gate,

    /// runsc flags the sandbox ran with, comma-separated (e.g. "--net-raw"); findings
    /// they configure are reported as such. May be repeated.
    #[arg(long, value_name = "FLAGS", allow_hyphen_values = true)]
    pub runsc_flags: Vec<RunscFlags>,

    /// Syscall ABI of the sandbox (x86_64, aarch64); default: the one the logs'
    /// `Version` header names, else this machine's.
    #[arg(long, value_name = "ARCH")]
    pub arch: Option<Arch>,

    /// Also write the strace lines as a profile to this file.
    #[arg(long, value_name = "OUT.json")]
    pub to_profile: Option<PathBuf>,

    /// Write the report to this file instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Runs the subcommand.
pub fn run(opts: Options) -> anyhow::Result<ExitCode> {
    let db = Database::get();
    let flags = runsc_flags(&opts.runsc_flags)?;
    let inputs = input::expand(&opts.paths)?;
    let names: Vec<String> = inputs.iter().map(input::Input::name).collect();
    let host = Arch::host()
        .context("this machine's architecture is not one the database knows; pass --arch")?;
    let assumed = opts.arch.unwrap_or(host);
    let spec = CaptureSpec::from_database(db, assumed);
    let facts = read_inputs(&inputs, &spec)?;
    let logged = logged_arch(&facts.goarches)?;
    let arch = match (opts.arch, logged) {
        (Some(given), _) => given,
        (None, Some(logged)) if logged != assumed => {
            // Symbols were resolved with the wrong arch's constants: read again, right.
            anyhow::ensure!(
                !inputs.contains(&input::Input::Stdin),
                "the logs come from {logged} but were read as {assumed}, and stdin cannot be \
                 read twice: pass --arch {logged}"
            );
            return run(Options {
                arch: Some(logged),
                ..opts
            });
        }
        (None, logged) => logged.unwrap_or(host),
    };
    let analysis = analyze_logs(db, &facts, arch, names, &flags)?;
    if let Some(path) = &opts.to_profile {
        crate::atomic_file::refuse_inputs(path, &opts.paths)?;
        profile_io::write(path, &analysis.profile.profile)?;
    }
    let report = &analysis.report;
    let mut out = Output::to(opts.output.as_deref(), &opts.paths)?;
    let color = out.color();
    report::render(report, opts.format, &mut out, color)
        .and_then(|()| out.flush())
        .context("cannot write the report")?;
    out.finish()?;
    Ok(opts.gate.exit_code(report))
}

/// The arch the logs' `Version` headers name (Go's `amd64`/`arm64`); an error if they
/// name several.
fn logged_arch(goarches: &[String]) -> anyhow::Result<Option<Arch>> {
    let mut found: Option<Arch> = None;
    for goarch in goarches {
        let arch: Arch = goarch
            .parse()
            .with_context(|| format!("the logs name an unknown architecture {goarch:?}"))?;
        if let Some(other) = found.filter(|&a| a != arch) {
            anyhow::bail!(
                "the logs come from two architectures, {other} and {arch}; read each \
                 sandbox's logs separately"
            );
        }
        found = Some(arch);
    }
    Ok(found)
}
