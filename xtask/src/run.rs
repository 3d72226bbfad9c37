//! `cargo xtask run -- <sandprof arguments>`: set up, build sandprof, and run it. The
//! README's main job, `cargo xtask run -- profile --report -- CMD`, profiles a command
//! and prints its report on a fresh machine.

use std::path::PathBuf;

use anyhow::Context as _;

use crate::cmd::{cargo, run};
use crate::setup;

/// Options of `cargo xtask run`.
#[derive(Debug, clap::Args)]
pub struct Options {
    /// Build with optimisations (slower to build; the probe is the same either way).
    #[arg(long)]
    pub release: bool,
    /// Arguments for `sandprof`, after `--`.
    #[arg(last = true, required = true)]
    pub args: Vec<String>,
}

/// Builds and runs sandprof, returning its exit code.
pub fn run_sandprof(opts: Options) -> anyhow::Result<i32> {
    setup::run_setup(setup::Options::default())?;
    let mut build = cargo();
    build.args(["build", "--locked", "-p", "profiler", "--bin", "sandprof"]);
    if opts.release {
        build.arg("--release");
    }
    run(&mut build)?;
    let root = crate::workspace_root();
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let bin = target
        .join(if opts.release { "release" } else { "debug" })
        .join("sandprof");
    let status = std::process::Command::new(&bin)
        .args(&opts.args)
        .status()
        .with_context(|| format!("failed to run {}", bin.display()))?;
    Ok(status.code().unwrap_or(1))
}
