//! `sandprof bench`: measure what runsc costs on this node beside runc, and write the
//! measurement the Kubernetes wiring and the cost figures read. Also the hidden
//! `sandprof bench-workload`, the suite's programs as they run inside the container.

use std::io::{self, IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context as _};

use super::args::{runsc_flags, RuntimeArg};
use super::output::Output;
use crate::analysis::RunscFlags;
use crate::bench::{self, render, suite, workload, BenchOptions};
use crate::commands::profile::parse_duration;
use crate::k8s::sandbox::{KataHypervisor, Sandbox};
use crate::report::Format;
use crate::sandbox::Interrupted;

/// Options of `sandprof bench`.
#[derive(Debug, clap::Args)]
#[command(override_usage = "sudo sandprof bench [OPTIONS]\n       \
                            sudo sandprof bench [OPTIONS] -- CMD [ARGS]...\n       \
                            sandprof bench --plan [--bench FILE]")]
pub struct Options {
    /// The sandboxed runtime to measure beside runc. Only gVisor runs on a node
    /// without Kata; for Kata, its published figures are named instead.
    #[arg(long, value_enum, default_value_t = RuntimeArg::Gvisor)]
    pub runtime: RuntimeArg,

    /// runsc's platform (ptrace works everywhere; kvm is checked with a short boot
    /// first, since it hangs under nested virtualisation).
    #[arg(long, value_name = "PLATFORM", default_value = "ptrace")]
    pub platform: String,

    /// Extra runsc flags, comma-separated (e.g. "--net-raw"). May be repeated.
    #[arg(long, value_name = "FLAGS", allow_hyphen_values = true)]
    pub runsc_flags: Vec<RunscFlags>,

    /// The short suite: fewer repetitions and less work per repetition.
    #[arg(long)]
    pub quick: bool,

    /// Write the measurement (JSON, format `sandprof.bench`; see docs/bench.md) to
    /// this file, for `k8s runtimeclass --measurement` and `report --bench`.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Output format of the summary on standard output.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Print the benchmark plan (what is measured, how, the checks and thresholds) as
    /// Markdown for the migration ticket, and run nothing.
    #[arg(long)]
    pub plan: bool,

    /// With --plan: the measurement (a `--out` file) the thresholds derive from.
    #[arg(long, value_name = "FILE", requires = "plan")]
    pub bench: Option<PathBuf>,

    /// Kill any one container run still going after this long.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "5m")]
    pub timeout: Duration,

    /// With a command: how many times to run it under each runtime.
    #[arg(long, value_name = "N", default_value_t = 3, requires = "command")]
    pub repetitions: usize,

    /// Instead of the suite, time this command (create to exit, in the bench's bundle)
    /// under runc and runsc: the measured slowdown a `report --bench` prediction is
    /// checked against.
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<String>,
}

/// Runs `sandprof bench`.
pub fn run(opts: Options) -> anyhow::Result<ExitCode> {
    if opts.runtime == RuntimeArg::Kata {
        bail!("{}", kata_message());
    }
    if opts.plan {
        let measurement = opts
            .bench
            .as_deref()
            .map(bench::BenchResult::load)
            .transpose()?;
        let mut out = Output::stdout();
        bench::plan::plan(measurement.as_ref(), &mut out)?;
        out.finish()?;
        return Ok(ExitCode::SUCCESS);
    }
    let options = BenchOptions {
        platform: opts.platform.clone(),
        runsc_flags: runsc_flags(&opts.runsc_flags)?.to_strings(),
        quick: opts.quick,
        timeout: opts.timeout,
    };
    let (runc, runsc) = bench::preflight(&options)?;
    if !opts.command.is_empty() {
        return time_command(&opts, &options, runc, runsc);
    }
    // Created before the runs, so an unwritable path fails now, not minutes later.
    let mut file = opts
        .out
        .as_deref()
        .map(|path| Output::to::<&Path>(Some(path), &[]))
        .transpose()?;
    let terminal = io::stderr().is_terminal();
    let mut progress = |step: usize, total: usize, what: &str| {
        let mut err = io::stderr().lock();
        let _ = if terminal {
            write!(err, "\r\x1b[Ksandprof bench: [{step}/{total}] {what}")
        } else {
            writeln!(err, "sandprof bench: [{step}/{total}] {what}")
        };
        let _ = err.flush();
    };
    let result = match bench::run_bench(&options, runc, runsc, &mut progress) {
        Ok(result) => result,
        Err(e) if e.downcast_ref::<Interrupted>().is_some() => {
            let _ = writeln!(io::stderr(), "\nsandprof: {e:#}");
            return Ok(ExitCode::from(130));
        }
        Err(e) => {
            if terminal {
                let _ = writeln!(io::stderr());
            }
            return Err(e);
        }
    };
    if terminal {
        let _ = writeln!(io::stderr(), "\r\x1b[K");
    }
    if let Some(mut file) = file.take() {
        render::json(&result, &mut file).context("cannot write the measurement")?;
        file.finish()?;
    }
    let mut out = Output::stdout();
    match opts.format {
        Format::Table => render::table(&result, &mut out)?,
        Format::Markdown => render::markdown(&result, &mut out)?,
        Format::Json => render::json(&result, &mut out)?,
    }
    out.finish()?;
    Ok(ExitCode::SUCCESS)
}

/// `sandprof bench -- CMD`: the command's wall times under both runtimes.
fn time_command(
    opts: &Options,
    options: &BenchOptions,
    runc: PathBuf,
    runsc: PathBuf,
) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(opts.repetitions > 0, "--repetitions must be at least 1");
    let mut progress = |step: usize, total: usize, what: &str| {
        let _ = writeln!(io::stderr(), "sandprof bench: [{step}/{total}] {what}");
    };
    let timing = match bench::runner::time_command(
        options,
        runc,
        runsc,
        &opts.command,
        opts.repetitions,
        &mut progress,
    ) {
        Ok(t) => t,
        Err(e) if e.downcast_ref::<Interrupted>().is_some() => {
            let _ = writeln!(io::stderr(), "sandprof: {e:#}");
            return Ok(ExitCode::from(130));
        }
        Err(e) => return Err(e),
    };
    let mut out = Output::stdout();
    match opts.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &timing)?;
            writeln!(out)?;
        }
        Format::Table | Format::Markdown => writeln!(
            out,
            "{}: runc {} ms ±{:.0}%, runsc {} ms ±{:.0}% ({} runs each, create to exit): {}",
            timing.command.join(" "),
            render::value(timing.runc_ms.median),
            timing.runc_ms.spread_pct,
            render::value(timing.runsc_ms.median),
            timing.runsc_ms.spread_pct,
            opts.repetitions,
            render::slowdown(Some(timing.slowdown))
        )?,
    }
    out.finish()?;
    Ok(ExitCode::SUCCESS)
}

/// What `--runtime kata` says: Kata cannot run here, and where its figures come from.
fn kata_message() -> String {
    let figures: Vec<String> = [
        KataHypervisor::Qemu,
        KataHypervisor::Clh,
        KataHypervisor::Fc,
    ]
    .into_iter()
    .map(|hv| {
        let d = Sandbox::Kata(hv).default_overhead();
        format!(
            "{}: cpu {}, memory {} ({})",
            hv.as_str(),
            d.cpu,
            d.memory,
            d.source
        )
    })
    .collect();
    format!(
        "sandprof bench measures runtimes that run on this node; Kata Containers needs a \
         hypervisor and its runtime installed, so its figures stay published ones, not \
         measured: {}",
        figures.join("; ")
    )
}

/// Options of the hidden `sandprof bench-workload`.
#[derive(Debug, clap::Args)]
pub struct WorkloadOptions {
    #[command(subcommand)]
    command: WorkloadCommand,
}

#[derive(Debug, clap::Subcommand)]
enum WorkloadCommand {
    /// Every micro-benchmark once, one JSON sample per line.
    Micro {
        /// The short suite's amounts of work.
        #[arg(long)]
        quick: bool,
        /// A writable directory on the host's disk.
        #[arg(long)]
        disk: PathBuf,
        /// A static binary that runs `true` when called so.
        #[arg(long)]
        exec: PathBuf,
    },
    /// Hold memory and sleep until killed.
    Hold {
        /// MiB of anonymous memory to touch.
        #[arg(long)]
        mib: usize,
        /// A file to create once ready.
        #[arg(long)]
        ready: PathBuf,
    },
}

/// Runs `sandprof bench-workload` (inside a bench container).
pub fn run_workload(opts: WorkloadOptions) -> anyhow::Result<ExitCode> {
    match opts.command {
        WorkloadCommand::Micro { quick, disk, exec } => {
            let work = if quick { suite::QUICK } else { suite::FULL };
            let stdout = io::stdout();
            workload::micro(&work, &disk, &exec, &mut stdout.lock())?;
        }
        WorkloadCommand::Hold { mib, ready } => workload::hold(mib, &ready)?,
    }
    Ok(ExitCode::SUCCESS)
}
