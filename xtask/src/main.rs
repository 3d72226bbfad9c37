//! `cargo xtask <task>`: set-up, tests, benchmarks and upstream data import.

use clap::Parser;

#[derive(Debug, Parser)]
enum Task {
    /// Placeholder until the first task lands.
    Noop,
}

fn main() -> anyhow::Result<()> {
    match Task::parse() {
        Task::Noop => Ok(()),
    }
}
