//! `cargo xtask <task>`: set-up, tests, benchmarks and upstream data import.
//!
//! Each task is one module of the `xtask` library with its own clap `Options` and a
//! function that runs it; add a task by adding a variant here.

use std::process::ExitCode;

use clap::Parser;
use xtask::{bench, cost_accuracy, import_gvisor, import_syscalls, run, setup, test, try_accuracy};

/// sandprof's maintenance tasks.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask")]
enum Task {
    /// Measure the tracer's overhead against untraced, no-op eBPF, bpftrace and strace
    /// runs (root); prints the Markdown section for BENCHMARKS.md.
    Bench(bench::Options),
    /// Install what building and testing needs (Debian packages, rust-src, bpf-linker).
    Setup(setup::Options),
    /// Set up, build sandprof and run it with the given arguments.
    Run(run::Options),
    /// Set up, check formatting and lints, build, and run every test.
    Test(test::Options),
    /// Run `sandprof try`'s calibration corpus (root, runc, runsc) and rewrite the
    /// accuracy table in docs/try.md.
    TryAccuracy(try_accuracy::Options),
    /// Check `report --bench`'s predicted gVisor slowdown against measured wall times
    /// (root, runc, runsc) and rewrite the accuracy table in docs/bench.md.
    CostAccuracy(cost_accuracy::Options),
    /// Regenerate the gVisor history in `syscall-db/data/gvisor/` from a gVisor
    /// repository: every release (`--all-releases`) or one checked-out release.
    ImportGvisor(import_gvisor::Options),
    /// Regenerate `syscall-db/data/syscalls/<arch>.toml` from a Linux source tree.
    ImportSyscalls(import_syscalls::Options),
}

fn main() -> ExitCode {
    let result = match Task::parse() {
        Task::Bench(opts) => bench::run(opts).map(|()| 0),
        Task::Setup(opts) => setup::run_setup(opts).map(|()| 0),
        Task::Run(opts) => run::run_sandprof(opts),
        Task::Test(opts) => test::run_tests(opts).map(|()| 0),
        Task::TryAccuracy(opts) => try_accuracy::run_accuracy(opts).map(|()| 0),
        Task::CostAccuracy(opts) => cost_accuracy::run_cost_accuracy(opts).map(|()| 0),
        Task::ImportGvisor(opts) => import_gvisor::run(opts).map(|()| 0),
        Task::ImportSyscalls(opts) => import_syscalls::run(opts).map(|()| 0),
    };
    match result {
        Ok(code) => ExitCode::from(code.clamp(0, 255) as u8),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
