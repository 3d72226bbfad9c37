//! `cargo xtask test`: everything CI checks, in one command. Set-up, formatting, lints
//! (the userspace workspace on stable, the probe on nightly for its own target), the
//! binaries the end-to-end tests run, then the whole test suite. The end-to-end tests
//! need root; with `CI=true` they fail rather than skip without it.

use std::process::Command;

use crate::cmd::{cargo, run};
use crate::setup;

/// Options of `cargo xtask test`.
#[derive(Debug, clap::Args)]
pub struct Options {
    /// Skip formatting and lint checks.
    #[arg(long)]
    pub no_lint: bool,
    /// Extra arguments for `cargo test` (e.g. a test name filter), after `--`.
    #[arg(last = true)]
    pub cargo_test_args: Vec<String>,
}

/// Runs the checks and tests.
pub fn run_tests(opts: Options) -> anyhow::Result<()> {
    setup::run_setup(setup::Options::default())?;
    if !opts.no_lint {
        eprintln!("test: cargo fmt --check");
        run(cargo().args(["fmt", "--all", "--check"]))?;
        eprintln!("test: clippy (userspace)");
        run(cargo().args([
            "clippy",
            "--locked",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]))?;
        eprintln!("test: clippy (probe, nightly, bpfel-unknown-none)");
        run(Command::new("rustup")
            .args([
                "run",
                "nightly",
                "cargo",
                "clippy",
                "--locked",
                "-p",
                "profiler-ebpf",
            ])
            .args(["--target", "bpfel-unknown-none", "-Z", "build-std=core"])
            .args(["--", "-D", "warnings"]))?;
    }
    eprintln!("test: building the binaries the end-to-end tests run");
    run(cargo().args(["build", "--locked", "--bins"]))?;
    eprintln!("test: cargo test");
    run(cargo()
        .args(["test", "--locked"])
        .args(&opts.cargo_test_args))
}
