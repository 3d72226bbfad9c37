//! `sandprof merge`: profiles from several nodes, replicas or runs become one. Counts
//! add up, argument signatures are united, and every capture stamp is kept.

use std::io::{self, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::atomic_file;
use crate::profile::ToolStamp;
use crate::profile::{io as profile_io, merge};

/// Options of `sandprof merge`.
#[derive(Debug, clap::Args)]
pub struct Options {
    /// Profiles to merge (`*.sandprof.json`), all of one arch.
    #[arg(required = true, value_name = "PROFILE")]
    pub profiles: Vec<PathBuf>,

    /// The merged profile to write.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
}

/// Runs the subcommand.
pub fn run(opts: Options) -> anyhow::Result<ExitCode> {
    atomic_file::refuse_inputs(&opts.output, &opts.profiles)?;
    let inputs = profile_io::read_many(&opts.profiles)?;
    let merged = merge::merge(&inputs, ToolStamp::current())?;
    let mut stderr = io::stderr().lock();
    for (name, stamp) in merge::database_mismatches(&inputs) {
        writeln!(
            stderr,
            "sandprof: warning: {name} was captured with database {}, the first profile with \
             {}; the merged profile records the first",
            stamp.version, merged.database.version
        )
        .context("cannot write to standard error")?;
    }
    profile_io::write(&opts.output, &merged)?;
    writeln!(
        stderr,
        "merged {} profiles ({} captures, {} executables, {} syscall rows, {} signatures) \
         into {}",
        inputs.len(),
        merged.captures.len(),
        merged.executables.len(),
        merged.syscalls.len(),
        merged.signatures.len(),
        opts.output.display()
    )
    .context("cannot write to standard error")?;
    Ok(ExitCode::SUCCESS)
}
