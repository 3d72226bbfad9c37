//! The `sandprof` binary: parses the command line and runs one subcommand.

use std::io::{self, Write as _};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use sandprof::commands;

/// Predict, from evidence, how a workload will run under gVisor and Kata Containers.
#[derive(Debug, Parser)]
#[command(name = "sandprof", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Trace a workload under runc with eBPF and write its syscall profile.
    Profile(commands::profile::Options),
    /// Judge profiles against the compatibility database, per runtime.
    Report(commands::report::Options),
    /// Merge profiles from several nodes, replicas or runs into one.
    Merge(commands::merge::Options),
    /// Show what a new profile uses that a base profile did not.
    Diff(commands::diff::Options),
    /// Explain a failure under gVisor from runsc debug and --strace logs.
    RunscLog(commands::runsc_log::Options),
    /// Run the workload under runc and the real runsc side by side; observation decides.
    Try(commands::r#try::Options),
    /// Measure runsc's overhead beside runc on this node: syscalls, I/O, start-up, memory.
    Bench(commands::bench::Options),
    /// The programs `sandprof bench` runs inside its containers.
    #[command(hide = true, name = "bench-workload")]
    BenchWorkload(commands::bench::WorkloadOptions),
    /// Query the compatibility database.
    Db(commands::db::Options),
    /// Choose gVisor, Kata or hardened runc for a threat model, nodes and workload.
    Recommend(commands::recommend::Options),
    /// Generate Kubernetes and node wiring: containerd/CRI-O handler, RuntimeClass, workloads.
    K8s(commands::k8s::Options),
    /// Audit Kubernetes manifests for hardening and for what a sandbox will break.
    Audit(commands::audit::Options),
    /// Inside a pod: detect the runtime in use and check the isolation boundary.
    Verify(commands::verify::Options),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Profile(opts) => commands::profile::run(opts),
        Command::Report(opts) => commands::report::run(opts),
        Command::Merge(opts) => commands::merge::run(opts),
        Command::Diff(opts) => commands::diff::run(opts),
        Command::RunscLog(opts) => commands::runsc_log::run(opts),
        Command::Try(opts) => commands::r#try::run(opts),
        Command::Bench(opts) => commands::bench::run(opts),
        Command::BenchWorkload(opts) => commands::bench::run_workload(opts),
        Command::Db(opts) => commands::db::run(opts),
        Command::Recommend(opts) => commands::recommend::run(opts),
        Command::K8s(opts) => commands::k8s::run(opts),
        Command::Audit(opts) => commands::audit::run(opts),
        Command::Verify(opts) => commands::verify::run(opts),
    };
    match result {
        Ok(code) => code,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            // Nothing useful can be done if stderr itself is gone.
            let _ = writeln!(io::stderr(), "sandprof: error: {err:#}");
            // 2, like diff(1) and grep(1): 1 belongs to `--fail-on` and `diff`'s "found
            // something", so a script can tell a gate from a failure.
            ExitCode::from(2)
        }
    }
}

/// A closed stdout (`sandprof … | head`) is not an error.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}
