//! `sandprof merge`: being built (see the open issue for this subcommand).

use std::process::ExitCode;

/// Options of `sandprof merge`.
#[derive(Debug, clap::Args)]
pub struct Options {}

/// Runs the subcommand.
pub fn run(_opts: Options) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`sandprof merge` is not available in this build yet")
}
