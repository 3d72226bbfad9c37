//! `cargo xtask <task>`: set-up, tests, benchmarks and upstream data import.
//!
//! Each task is one module of the `xtask` library with its own clap `Options` and `run`;
//! add a task by adding a variant here.

use std::process::ExitCode;

use clap::Parser;
use xtask::{import_gvisor, import_syscalls};

/// sandprof's maintenance tasks.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask")]
enum Task {
    /// Regenerate `syscall-db/data/gvisor/<arch>.toml` from a gVisor checkout.
    ImportGvisor(import_gvisor::Options),
    /// Regenerate `syscall-db/data/syscalls/<arch>.toml` from a Linux source tree.
    ImportSyscalls(import_syscalls::Options),
}

fn main() -> ExitCode {
    let result = match Task::parse() {
        Task::ImportGvisor(opts) => import_gvisor::run(opts),
        Task::ImportSyscalls(opts) => import_syscalls::run(opts),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
