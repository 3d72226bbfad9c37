//! `cargo xtask bench`: what tracing costs a workload. Four workloads (a getppid loop,
//! an open/read/close loop, a fork/exec-heavy shell loop, `tar` of a file tree) run
//! untraced, under a no-op eBPF floor on the same raw tracepoints, under bpftrace's
//! no-op tracepoints, under `sandprof profile` and under `strace -f -c`, interleaved in
//! one run; `sandprof profile -- true` measures sandprof's own start-up and shutdown.
//! It checks that sandprof's counts are exact, measures tracer RSS, and prints the
//! results as a Markdown section of ratios for BENCHMARKS.md.

mod counts;
mod host;
mod report;
mod runner;
mod workloads;

use anyhow::Context as _;

use self::counts::SyscallCounts;
use self::host::Machine;
use self::report::Results;
use self::runner::{Config, Runner};
use self::workloads::{Kind, Sizes, Workload};

/// Options of `cargo xtask bench`.
#[derive(Debug, clap::Args)]
pub struct Options {
    /// Repetitions of every configuration; medians are reported.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub reps: u32,
    /// getppid calls per run.
    #[arg(long, default_value_t = 2_000_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub getppid: u64,
    /// getppid calls per run under strace, which is about 1000 times slower.
    #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub strace_getppid: u64,
    /// open/read/close iterations per run.
    #[arg(long, default_value_t = 200_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub open_read_close: u64,
    /// open/read/close iterations per run under strace.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub strace_open_read_close: u64,
    /// Runs of `/bin/true` in the shell loop.
    #[arg(long, default_value_t = 2_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub fork_exec: u64,
    /// Files in the tree `tar` archives (at most 20,000).
    #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u32).range(1..=20_000))]
    pub tar_files: u32,
    /// Runs of `sandprof profile -- true` for the start-up measurement, spread over the
    /// repetitions; the median is reported.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub startup_runs: u32,
    /// Measure only these workloads (repeatable); all four by default. Start-up is
    /// always measured.
    #[arg(long = "workload", value_enum, value_name = "WORKLOAD")]
    pub workloads: Vec<Kind>,
    /// Use the release binaries already built instead of building them first.
    #[arg(long)]
    pub no_build: bool,
}

/// Runs the benchmark and prints its Markdown section on stdout (progress on stderr).
pub fn run(opts: Options) -> anyhow::Result<()> {
    host::check_privileges_and_cpus()?;
    host::restore_default_signal_dispositions()?;
    let programs = host::programs(opts.no_build)?;
    let machine = Machine::describe()?;
    let scratch = host::scratch_dir()?;
    let sizes = Sizes {
        getppid: opts.getppid,
        strace_getppid: opts.strace_getppid,
        open_read_close: opts.open_read_close,
        strace_open_read_close: opts.strace_open_read_close,
        fork_exec: opts.fork_exec,
        tar_files: opts.tar_files,
    };
    eprintln!("bench: creating the workloads' files");
    let mut workloads = workloads::prepare(scratch.path(), &programs, sizes)?;
    if !opts.workloads.is_empty() {
        workloads.retain(|w| opts.workloads.contains(&w.kind));
    }
    let runner = Runner::new(&programs, scratch.path());

    // One untraced run of each workload warms the page cache and the binaries, and one
    // strace run gives the reference counts every later run is checked against.
    let mut references = Vec::with_capacity(workloads.len());
    for workload in &workloads {
        eprintln!("bench: warm-up and reference counts: {}", workload.label);
        runner.run(Config::Untraced, workload)?;
        let reference = runner
            .run(Config::Strace, workload)?
            .counts
            .context("strace gave no counts")?;
        references.push(reference);
    }

    let mut results = Results::new(&workloads);
    for rep in 0..opts.reps {
        for (index, workload) in workloads.iter().enumerate() {
            // Rotate the order each repetition, so no configuration always runs first.
            for k in 0..Config::ALL.len() {
                let config = Config::ALL[(k + rep as usize) % Config::ALL.len()];
                let sample = runner.run(config, workload)?;
                eprintln!(
                    "bench: {}/{} {} | {}: {:.1} ns/iteration, {:.3} s wall",
                    rep + 1,
                    opts.reps,
                    workload.label,
                    config.label(),
                    sample.per_iteration_ns,
                    sample.wall.as_secs_f64()
                );
                if let Some(counts) = &sample.counts {
                    check_counts(config, workload, &references[index], counts)?;
                    if config == Config::Sandprof {
                        results.checked_runs += 1;
                    }
                }
                results.push(index, config, sample);
            }
        }
        // Start-up runs spread evenly over the repetitions.
        let due =
            (u64::from(opts.startup_runs) * u64::from(rep + 1)).div_ceil(u64::from(opts.reps));
        while (results.startup.len() as u64) < due {
            results.startup.push(runner.sandprof_startup()?);
        }
        eprintln!(
            "bench: {}/{} start-up so far: {:?}",
            rep + 1,
            opts.reps,
            results.startup
        );
    }

    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = format!("cargo xtask {}", args.join(" "));
    print!(
        "{}",
        report::render(&machine, command.trim_end(), opts.reps, &results)
    );
    Ok(())
}

/// Fails unless a strace run counted what the reference run did, or a sandprof run
/// counted what the reference predicts for its iteration count.
fn check_counts(
    config: Config,
    workload: &Workload,
    reference: &SyscallCounts,
    counts: &SyscallCounts,
) -> anyhow::Result<()> {
    let (expected, who) = if config == Config::Strace {
        (reference.clone(), "strace's counts changed between runs")
    } else {
        (
            counts::expected(
                reference,
                workload.strace_iterations,
                workload.iterations,
                workload.per_iteration,
            )?,
            "sandprof's counts differ from strace's",
        )
    };
    let differences = counts::differences(counts, &expected);
    anyhow::ensure!(
        differences.is_empty(),
        "{}: {who}:\n  {}",
        workload.label,
        differences.join("\n  ")
    );
    Ok(())
}
