//! `sandprof k8s`: being built (see the open issue for this subcommand).

use std::process::ExitCode;

/// Options of `sandprof k8s`.
#[derive(Debug, clap::Args)]
pub struct Options {}

/// Runs the subcommand.
pub fn run(_opts: Options) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`sandprof k8s` is not available in this build yet")
}
