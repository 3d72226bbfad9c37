//! `cargo xtask cost-accuracy`: checks the cost model of `sandprof report --bench`
//! (the slowdown under gVisor predicted from a profile's syscall mix) against wall
//! times measured under runc and runsc, on every program of `sandprof try`'s
//! calibration corpus that exits on its own and on longer workloads, and rewrites the
//! "How far off it is" section of `docs/bench.md`.
//!
//! Per workload: a host profile (`sandprof profile`, with a fresh /tmp as the
//! container has), the prediction from it (`sandprof report --bench`), the untraced
//! wall times (`sandprof bench -- CMD`) and `sandprof try`'s. A step that fails is
//! listed with its error; the other workloads go on.

mod section;
mod workloads;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context as _};
use serde_json::Value;

use crate::cmd::{cargo, run};
use crate::setup;
use section::{describe_measurement, section, BEGIN, END};
use workloads::{corpus_workloads, longer_workloads, Workload};

/// Options of `cargo xtask cost-accuracy`.
#[derive(Debug, clap::Args)]
pub struct Options {
    /// An existing measurement (`sandprof bench --out FILE`) to predict from; without
    /// it, the full suite runs first.
    #[arg(long, value_name = "FILE")]
    pub bench: Option<PathBuf>,
    /// Runs of each workload under each runtime (`sandprof bench --repetitions`).
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub repetitions: usize,
    /// Check only this workload (a corpus program's name, or tar, sqlite3-inserts,
    /// python3-unittest, find, fork-exec); may be repeated. Implies --print.
    #[arg(long, value_name = "NAME")]
    pub only: Vec<String>,
    /// Print the section instead of rewriting docs/bench.md.
    #[arg(long)]
    pub print: bool,
}

/// `report --bench`'s prediction for one profile.
struct Prediction {
    /// The profile's duration, the base of the report's own slowdowns.
    profiled_ms: f64,
    /// The same command's wall time on the host, untraced, just before.
    host_ms: f64,
    extra_ms: f64,
    startup_ms: f64,
    slowdown: f64,
    dominant: Vec<String>,
}

/// Medians of `sandprof bench -- CMD`, create to exit, and their spreads
/// ((max − min) / median, in percent).
struct Timing {
    runc_ms: f64,
    runsc_ms: f64,
    runc_spread: f64,
    runsc_spread: f64,
}

/// `sandprof try`'s wall times, start to exit (runsc with `--debug --strace`).
struct TryTimes {
    runc_ms: f64,
    runsc_ms: f64,
}

/// What was found for one workload; each step's error is kept.
struct Row {
    workload: Workload,
    prediction: anyhow::Result<Prediction>,
    timing: anyhow::Result<Timing>,
    tried: anyhow::Result<TryTimes>,
}

/// The figures compared, when both the prediction and the timing are there.
struct Compared {
    measured: f64,
    predicted: f64,
    error_pct: f64,
    measured_calls_ms: f64,
    predicted_calls_ms: f64,
    /// The error of the report's own create-to-exit slowdown, on the profile's duration.
    report_error_pct: f64,
}

impl Row {
    fn compared(&self) -> Option<Compared> {
        let (Ok(p), Ok(t)) = (&self.prediction, &self.timing) else {
            return None;
        };
        let measured = t.runsc_ms / t.runc_ms;
        // The base is the runc time measured beside runsc, not the profile's duration:
        // the traced host run is not the untraced container run the slowdown is of.
        let predicted = (t.runc_ms + p.extra_ms) / t.runc_ms;
        Some(Compared {
            measured,
            predicted,
            error_pct: (predicted / measured - 1.0) * 100.0,
            measured_calls_ms: t.runsc_ms - t.runc_ms - p.startup_ms,
            predicted_calls_ms: p.extra_ms - p.startup_ms,
            report_error_pct: (p.slowdown / measured - 1.0) * 100.0,
        })
    }
}

/// Runs `cmd`; its standard output on success, else an error with its standard error.
fn output_of(cmd: &mut Command, what: &str) -> anyhow::Result<Vec<u8>> {
    let done = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run {what}"))?;
    if !done.status.success() {
        bail!(
            "{what} failed ({}): {}",
            done.status,
            last_lines(&String::from_utf8_lossy(&done.stderr))
        );
    }
    Ok(done.stdout)
}

/// The end of a command's error output, on one line, without bench's progress lines.
fn last_lines(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with("sandprof bench: ["))
        .collect();
    lines[lines.len().saturating_sub(3)..].join(" / ")
}

/// Profiles the workload on the host, in a mount namespace of its own with a fresh
/// tmpfs on /tmp (as the container has), so that its files neither meet the host's
/// nor stay behind; then predicts its cost from the profile.
///
/// The command first runs once untraced the same way: it warms the page cache for the
/// profiled run, and its wall time shows what tracing added to the profile's duration.
fn predict(sandprof: &Path, bench: &Path, w: &Workload, out: &Path) -> anyhow::Result<Prediction> {
    let private_tmp = || {
        let mut cmd = Command::new("unshare");
        cmd.args(["--mount", "--propagation", "private", "--", "/bin/sh", "-c"])
            .arg("mount -t tmpfs -o mode=1777 tmpfs /tmp && exec \"$0\" \"$@\"");
        cmd
    };
    let mut plain = private_tmp();
    if let Some(user) = &w.user {
        // runuser: the user's own group and supplementary groups, as `--user` sets.
        plain.args(["runuser", "-u", user, "--"]);
    }
    let begun = Instant::now();
    output_of(plain.args(&w.command), "the untraced run on the host")?;
    let host_ms = begun.elapsed().as_secs_f64() * 1000.0;
    let mut profile = private_tmp();
    profile.arg(sandprof).args(["profile", "-o"]).arg(out);
    if let Some(user) = &w.user {
        profile.args(["--user", user]);
    }
    output_of(profile.arg("--").args(&w.command), "sandprof profile")?;
    let report = output_of(
        Command::new(sandprof)
            .arg("report")
            .arg(out)
            .arg("--bench")
            .arg(bench)
            .args(["--format", "json"]),
        "sandprof report --bench",
    )?;
    let report: Value = serde_json::from_slice(&report).context("report printed no JSON")?;
    let p = &report["gvisor_cost"][0]["prediction"];
    let number = |key: &str| {
        p[key]
            .as_f64()
            .with_context(|| format!("gvisor_cost has no `{key}`"))
    };
    Ok(Prediction {
        profiled_ms: number("runc_ms")?,
        host_ms,
        extra_ms: number("extra_ms")?,
        startup_ms: number("startup_ms")?,
        slowdown: number("slowdown")?,
        dominant: p["calls"]
            .as_array()
            .map(|calls| {
                calls
                    .iter()
                    .take(3)
                    .filter_map(|c| c["syscall"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
    })
}

/// The untraced wall times, create to exit, under both runtimes.
fn time(sandprof: &Path, w: &Workload, repetitions: usize) -> anyhow::Result<Timing> {
    if let Some(user) = &w.user {
        bail!("`sandprof bench -- CMD` runs as root only; this workload runs as {user}");
    }
    let out = output_of(
        Command::new(sandprof)
            .args(["bench", "--format", "json", "--repetitions"])
            .arg(repetitions.to_string())
            .arg("--")
            .args(&w.command),
        "sandprof bench -- CMD",
    )?;
    let timing: Value = serde_json::from_slice(&out).context("bench printed no JSON")?;
    let figure = |runtime: &str, key: &str| {
        timing[runtime][key]
            .as_f64()
            .filter(|v| *v >= 0.0)
            .with_context(|| format!("bench printed no `{runtime}.{key}`"))
    };
    let median = |runtime: &str| {
        figure(runtime, "median")
            .and_then(|ms| (ms > 0.0).then_some(ms).context("a median of 0 ms"))
    };
    Ok(Timing {
        runc_ms: median("runc_ms")?,
        runsc_ms: median("runsc_ms")?,
        runc_spread: figure("runc_ms", "spread_pct")?,
        runsc_spread: figure("runsc_ms", "spread_pct")?,
    })
}

/// `sandprof try`'s wall times; its report is read whatever its verdict.
fn try_times(sandprof: &Path, w: &Workload, out: &Path) -> anyhow::Result<TryTimes> {
    let done = crate::corpus::try_command(sandprof, &w.command, w.user.as_deref(), out)
        .stdin(Stdio::null())
        .output()
        .context("cannot run sandprof try")?;
    let report: Value = match std::fs::read(out) {
        Ok(bytes) => serde_json::from_slice(&bytes).context("try wrote no JSON")?,
        Err(_) => bail!(
            "sandprof try failed ({}): {}",
            done.status,
            last_lines(&String::from_utf8_lossy(&done.stderr))
        ),
    };
    let runs = report["trial"]["runs"]
        .as_array()
        .map_or(&[][..], Vec::as_slice);
    let wall = |runtime: &str| {
        runs.iter()
            .find(|run| run["runtime"] == runtime)
            .and_then(|run| run["wall_ms"].as_f64())
            .with_context(|| format!("try's report has no {runtime} run with a `wall_ms`"))
    };
    Ok(TryTimes {
        runc_ms: wall("runc")?,
        runsc_ms: wall("runsc")?,
    })
}

/// Every step for one workload.
fn check(sandprof: &Path, bench: &Path, w: Workload, scratch: &Path, reps: usize) -> Row {
    let step = |what: &str| eprintln!("cost-accuracy: {}: {what}", w.name);
    step("profile and predict");
    let prediction = predict(
        sandprof,
        bench,
        &w,
        &scratch.join(format!("{}.json", w.name)),
    );
    step("time under runc and runsc");
    let timing = time(sandprof, &w, reps);
    step("sandprof try");
    let tried = try_times(sandprof, &w, &scratch.join(format!("{}.try.json", w.name)));
    for (what, err) in [
        ("prediction", prediction.as_ref().err()),
        ("timing", timing.as_ref().err()),
        ("try", tried.as_ref().err()),
    ] {
        if let Some(err) = err {
            eprintln!("cost-accuracy: {}: {what} failed: {err:#}", w.name);
        }
    }
    Row {
        workload: w,
        prediction,
        timing,
        tried,
    }
}

/// The measurement to predict from: the one given, or a full suite run now.
fn measurement(sandprof: &Path, given: Option<PathBuf>, scratch: &Path) -> anyhow::Result<PathBuf> {
    if let Some(path) = given {
        return Ok(path);
    }
    let out = scratch.join("bench.json");
    eprintln!("cost-accuracy: sandprof bench (the full suite)");
    run(Command::new(sandprof)
        .args(["bench", "--out"])
        .arg(&out)
        .stdout(Stdio::null()))?;
    Ok(out)
}

/// Runs the task.
pub fn run_cost_accuracy(opts: Options) -> anyhow::Result<()> {
    anyhow::ensure!(opts.repetitions > 0, "--repetitions must be at least 1");
    let started = Instant::now();
    let root = crate::workspace_root();
    setup::run_setup(setup::Options::default())?;
    run(cargo().args(["build", "--locked", "--release", "--bins"]))?;
    let sandprof = root.join("target/release/sandprof");
    let (mut workloads, services) = corpus_workloads(&root)?;
    workloads.extend(longer_workloads());
    if !opts.only.is_empty() {
        if let Some(unknown) = opts
            .only
            .iter()
            .find(|n| !workloads.iter().any(|w| &w.name == *n))
        {
            bail!("no workload named `{unknown}`");
        }
        workloads.retain(|w| opts.only.contains(&w.name));
    }
    // Under target/, not /tmp: the profiles run with a fresh tmpfs over /tmp.
    let scratch = tempfile::Builder::new()
        .prefix("cost-accuracy-")
        .tempdir_in(root.join("target"))
        .context("cannot create a scratch directory")?;
    let bench = measurement(&sandprof, opts.bench, scratch.path())?;
    let measured = describe_measurement(&bench)?;
    let total = workloads.len();
    let rows: Vec<Row> = workloads
        .into_iter()
        .enumerate()
        .map(|(i, w)| {
            eprintln!("cost-accuracy: [{}/{total}] {}", i + 1, w.name);
            check(&sandprof, &bench, w, scratch.path(), opts.repetitions)
        })
        .collect();
    let took_min = started.elapsed().as_secs_f64() / 60.0;
    let text = section(&rows, &services, &measured, opts.repetitions, took_min);
    if opts.print || !opts.only.is_empty() {
        print!("{text}");
        return Ok(());
    }
    let doc = root.join("docs/bench.md");
    crate::corpus::rewrite_section(&doc, BEGIN, END, &text)?;
    eprintln!(
        "cost-accuracy: rewrote the cost-accuracy section of {}",
        doc.display()
    );
    Ok(())
}
