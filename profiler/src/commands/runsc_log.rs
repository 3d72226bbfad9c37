//! `sandprof runsc-log`: the post-mortem. Reads runsc debug and `--strace` logs (files,
//! log directories, gzip, stdin; text, json or json-k8s, as pasted or exported), says
//! what failed and its most likely cause first, which unsupported or failing calls and
//! runsc messages explain it, and what to do, through the same renderers as `sandprof
//! report`. `--to-profile` writes the strace lines as a profile for `report`, `merge`
//! and `diff`. An input with nothing of runsc's in it is no evidence, never a pass.

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
use crate::runsc_log::{self, input};

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
    let evidence = runsc_log::load(&inputs, db, opts.arch)?;
    let report = analyze_logs(db, &evidence, &flags)?;
    if let Some(path) = &opts.to_profile {
        crate::atomic_file::refuse_inputs(path, &opts.paths)?;
        profile_io::write(path, &evidence.profile.profile)?;
    }
    let mut out = Output::to(opts.output.as_deref(), &opts.paths)?;
    let color = out.color();
    report::render(&report, opts.format, &mut out, color)
        .and_then(|()| out.flush())
        .context("cannot write the report")?;
    out.finish()?;
    Ok(opts.gate.exit_code(&report))
}
