//! `sandprof verify`: being built (see the open issue for this subcommand).

use std::process::ExitCode;

/// Options of `sandprof verify`.
#[derive(Debug, clap::Args)]
pub struct Options {}

/// Runs the subcommand.
pub fn run(_opts: Options) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`sandprof verify` is not available in this build yet")
}
