//! The benchmark's results: samples by workload and configuration, their medians, and
//! the Markdown that goes into BENCHMARKS.md (ratios first, the targets last).

use std::fmt::Write as _;
use std::time::Duration;

use super::host::Machine;
use super::runner::{Config, Sample};
use super::workloads::{thousands, Kind, Workload};

/// The targets the tracer is held to.
const FLOOR_RATIO_TARGET: f64 = 1.15;
const REALISTIC_FLOOR_RATIO_TARGET: f64 = 1.2;
const STRACE_SPEEDUP_TARGET: f64 = 300.0;
const REALISTIC_OVERHEAD_TARGET: f64 = 0.05;
const STARTUP_TARGET_S: f64 = 0.2;
const RSS_TARGET_MIB: f64 = 50.0;

/// The samples of one workload.
#[derive(Debug)]
pub struct Row {
    /// What it stands for.
    pub kind: Kind,
    /// Its label.
    pub label: String,
    /// Iterations under strace, when fewer than elsewhere.
    pub strace_iterations: Option<u64>,
    /// Samples, indexed like [`Config::ALL`].
    pub samples: [Vec<Sample>; 5],
}

/// Everything one benchmark run measured.
#[derive(Debug)]
pub struct Results {
    /// One row per workload.
    pub rows: Vec<Row>,
    /// Wall times of `sandprof profile -- true`.
    pub startup: Vec<Duration>,
    /// sandprof runs whose counts were checked against strace's.
    pub checked_runs: usize,
}

impl Results {
    /// Empty results for these workloads.
    pub fn new(workloads: &[Workload]) -> Self {
        Self {
            rows: workloads
                .iter()
                .map(|w| Row {
                    kind: w.kind,
                    label: w.label.clone(),
                    strace_iterations: (w.strace_iterations != w.iterations)
                        .then_some(w.strace_iterations),
                    samples: Default::default(),
                })
                .collect(),
            startup: Vec::new(),
            checked_runs: 0,
        }
    }

    /// Records a sample of workload `row` under `config`.
    pub fn push(&mut self, row: usize, config: Config, sample: Sample) {
        if let Some(column) = Config::ALL.iter().position(|&c| c == config) {
            self.rows[row].samples[column].push(sample);
        }
    }
}

impl Row {
    fn samples(&self, config: Config) -> &[Sample] {
        let column = Config::ALL.iter().position(|&c| c == config).unwrap_or(0);
        &self.samples[column]
    }

    /// Median time per iteration under `config`, in ns.
    fn per_iteration(&self, config: Config) -> f64 {
        median(self.samples(config).iter().map(|s| s.per_iteration_ns))
    }

    /// The smallest and largest ratio `numerator ÷ denominator` of per-iteration times
    /// measured in the same repetition (samples are recorded in repetition order).
    fn paired_range(&self, numerator: Config, denominator: Config) -> (f64, f64) {
        self.samples(numerator)
            .iter()
            .zip(self.samples(denominator))
            .map(|(n, d)| n.per_iteration_ns / d.per_iteration_ns)
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), r| {
                (lo.min(r), hi.max(r))
            })
    }

    /// Median wall time under `config`, in seconds.
    fn wall(&self, config: Config) -> f64 {
        median(self.samples(config).iter().map(|s| s.wall.as_secs_f64()))
    }

    /// Largest peak RSS under `config`, in MiB.
    fn max_rss_mib(&self, config: Config) -> f64 {
        let kib = self
            .samples(config)
            .iter()
            .map(|s| s.max_rss_kib)
            .max()
            .unwrap_or(0);
        kib as f64 / 1024.0
    }
}

/// The median; the mean of the middle two for an even count; NaN when empty.
pub fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut values: Vec<f64> = values.collect();
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

/// `3.35×`, with fewer decimals as the ratio grows.
fn ratio(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}×")
    } else if value >= 10.0 {
        format!("{value:.1}×")
    } else {
        format!("{value:.2}×")
    }
}

/// A duration in ns, in the unit that reads best.
fn duration_ns(ns: f64) -> String {
    if ns < 1e3 {
        format!("{ns:.0} ns")
    } else if ns < 1e6 {
        format!("{:.1} µs", ns / 1e3)
    } else if ns < 1e9 {
        format!("{:.1} ms", ns / 1e6)
    } else {
        format!("{:.2} s", ns / 1e9)
    }
}

fn yes_no(met: bool) -> &'static str {
    if met {
        "yes"
    } else {
        "**no**"
    }
}

/// The results as a Markdown section.
pub fn render(machine: &Machine, command: &str, reps: u32, results: &Results) -> String {
    let mut out = String::new();
    render_inside(&mut out, machine, command, reps, results);
    let startup = median(results.startup.iter().map(Duration::as_secs_f64));
    render_whole(&mut out, results, startup);
    let sandprof_rss = render_rss_and_counts(&mut out, results);
    render_targets(&mut out, results, sandprof_rss, startup);
    out
}

/// The time per iteration inside the workload, every configuration as a multiple of
/// untraced.
fn render_inside(out: &mut String, machine: &Machine, command: &str, reps: u32, results: &Results) {
    let _ = writeln!(
        out,
        "Measured {} on {} ({} CPUs), Linux {}, with `{command}`: every configuration in \
         one run, interleaved; medians of {reps} repetitions. The workload runs on CPU 0, \
         the tracer on CPU 1.\n",
        machine.date, machine.cpu, machine.cpus, machine.kernel
    );
    out.push_str(
        "Time per iteration measured inside the workload, so tracer start-up is excluded; \
         untraced in absolute terms, the rest as multiples of it:\n\n",
    );
    let mut header = String::from("| workload |");
    let mut rule = String::from("|---|");
    for config in Config::ALL {
        let _ = write!(header, " {} |", config.label());
        rule.push_str("--:|");
    }
    header.push_str(" sandprof ÷ floor | strace ÷ sandprof |");
    rule.push_str("--:|--:|");
    let _ = writeln!(out, "{header}\n{rule}");
    for row in &results.rows {
        let untraced = row.per_iteration(Config::Untraced);
        let sandprof = row.per_iteration(Config::Sandprof);
        let _ = write!(out, "| {} | {} |", row.label, duration_ns(untraced));
        for config in &Config::ALL[1..] {
            let _ = write!(out, " {} |", ratio(row.per_iteration(*config) / untraced));
        }
        let _ = writeln!(
            out,
            " {} | {} |",
            ratio(sandprof / row.per_iteration(Config::NoopFloor)),
            ratio(row.per_iteration(Config::Strace) / sandprof)
        );
    }
    let reduced: Vec<String> = results
        .rows
        .iter()
        .filter_map(|row| {
            row.strace_iterations
                .map(|n| format!("{} ({} iterations)", row.label, thousands(n)))
        })
        .collect();
    if !reduced.is_empty() {
        let _ = writeln!(
            out,
            "\nUnder strace the loops run fewer iterations, the time per iteration is \
             compared: {}.",
            reduced.join(", ")
        );
    }
}

/// Wall times of whole commands, sandprof's start-up and shutdown included.
fn render_whole(out: &mut String, results: &Results, startup: f64) {
    out.push_str(
        "\nWhole commands, wall time of the invocation; sandprof's start-up and shutdown \
         included:\n\n| workload | untraced | sandprof | overhead |\n|---|--:|--:|--:|\n",
    );
    for row in results
        .rows
        .iter()
        .filter(|r| matches!(r.kind, Kind::ForkExec | Kind::Realistic))
    {
        let (untraced, sandprof) = (row.wall(Config::Untraced), row.wall(Config::Sandprof));
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:+.1}% |",
            row.label,
            duration_ns(untraced * 1e9),
            duration_ns(sandprof * 1e9),
            (sandprof / untraced - 1.0) * 100.0
        );
    }
    let _ = writeln!(
        out,
        "\nsandprof's own start-up and shutdown (`sandprof profile -- true`): {} (median of \
         {} runs, from {} to {}); that alone stays under {:.0}% of the wall time only for \
         commands that run longer than {}.",
        duration_ns(startup * 1e9),
        results.startup.len(),
        duration_ns(
            results
                .startup
                .iter()
                .min()
                .map_or(0.0, Duration::as_secs_f64)
                * 1e9
        ),
        duration_ns(
            results
                .startup
                .iter()
                .max()
                .map_or(0.0, Duration::as_secs_f64)
                * 1e9
        ),
        REALISTIC_OVERHEAD_TARGET * 100.0,
        duration_ns(startup / REALISTIC_OVERHEAD_TARGET * 1e9)
    );
}

/// Peak RSS and the exact-count check; returns sandprof's peak RSS in MiB.
fn render_rss_and_counts(out: &mut String, results: &Results) -> f64 {
    let workload_rss = results
        .rows
        .iter()
        .map(|r| r.max_rss_mib(Config::Untraced))
        .fold(0.0, f64::max);
    let rss = |config| {
        results
            .rows
            .iter()
            .map(|r| r.max_rss_mib(config))
            .fold(0.0, f64::max)
    };
    let sandprof_rss = rss(Config::Sandprof);
    let _ = writeln!(
        out,
        "\nPeak RSS over all runs: sandprof {sandprof_rss:.1} MiB, no-op floor {:.1} MiB, \
         bpftrace {:.1} MiB. For sandprof and bpftrace the kernel reports the larger of \
         the tracer and the workload it waited for (the workloads alone peak at {:.1} MiB), \
         so these are upper bounds.",
        rss(Config::NoopFloor),
        rss(Config::Bpftrace),
        workload_rss
    );
    let _ = writeln!(
        out,
        "\nExact counts: in all {} sandprof runs, every syscall's calls and failed calls \
         equal what `strace -f -c` counted for the same command (loop syscalls scaled to \
         the iteration count; `exit` and `exit_group`, which never return, left out as \
         strace leaves them out); no profile recorded a lost event.",
        results.checked_runs
    );
    sandprof_rss
}

/// Each target with what was measured and whether it is met.
fn render_targets(out: &mut String, results: &Results, sandprof_rss: f64, startup: f64) {
    let find = |kind| results.rows.iter().find(|r| r.kind == kind);
    out.push_str("\n| target | measured | met |\n|---|--:|:-:|\n");
    if let Some(row) = find(Kind::SyscallLoop) {
        let sandprof = row.per_iteration(Config::Sandprof);
        let floor = sandprof / row.per_iteration(Config::NoopFloor);
        let strace = row.per_iteration(Config::Strace) / sandprof;
        let (floor_lo, floor_hi) = row.paired_range(Config::Sandprof, Config::NoopFloor);
        let (strace_lo, strace_hi) = row.paired_range(Config::Strace, Config::Sandprof);
        let _ = writeln!(
            out,
            "| syscall loop within {FLOOR_RATIO_TARGET}× of the no-op floor | {} \
             (per repetition {}–{}) | {} |",
            ratio(floor),
            ratio(floor_lo),
            ratio(floor_hi),
            yes_no(floor <= FLOOR_RATIO_TARGET)
        );
        let _ = writeln!(
            out,
            "| syscall loop ≥ {STRACE_SPEEDUP_TARGET:.0}× faster than `strace -f` | {} \
             (per repetition {}–{}) | {} |",
            ratio(strace),
            ratio(strace_lo),
            ratio(strace_hi),
            yes_no(strace >= STRACE_SPEEDUP_TARGET)
        );
    }
    let _ = writeln!(
        out,
        "| `sandprof profile -- true` start-up and shutdown < {:.0} ms (median of {}) | {} | {} |",
        STARTUP_TARGET_S * 1e3,
        results.startup.len(),
        duration_ns(startup * 1e9),
        yes_no(startup < STARTUP_TARGET_S)
    );
    if let Some(row) = find(Kind::Realistic) {
        let floor = row.per_iteration(Config::Sandprof) / row.per_iteration(Config::NoopFloor);
        let (floor_lo, floor_hi) = row.paired_range(Config::Sandprof, Config::NoopFloor);
        let _ = writeln!(
            out,
            "| inside `tar`, within {REALISTIC_FLOOR_RATIO_TARGET}× of the no-op floor | {} \
             (per repetition {}–{}) | {} |",
            ratio(floor),
            ratio(floor_lo),
            ratio(floor_hi),
            yes_no(floor <= REALISTIC_FLOOR_RATIO_TARGET)
        );
        let whole = row.wall(Config::Sandprof) / row.wall(Config::Untraced) - 1.0;
        let inside =
            row.per_iteration(Config::Sandprof) / row.per_iteration(Config::Untraced) - 1.0;
        let _ = writeln!(
            out,
            "| realistic workload (`tar`) < {:.0}% wall-time overhead, start-up included | \
             {:+.1}% | {} |",
            REALISTIC_OVERHEAD_TARGET * 100.0,
            whole * 100.0,
            yes_no(whole < REALISTIC_OVERHEAD_TARGET)
        );
        let _ = writeln!(
            out,
            "| the same, start-up excluded (for reference) | {:+.1}% | {} |",
            inside * 100.0,
            yes_no(inside < REALISTIC_OVERHEAD_TARGET)
        );
    }
    let _ = writeln!(
        out,
        "| exact counts | {} of {} runs | yes |",
        results.checked_runs, results.checked_runs
    );
    let _ = writeln!(
        out,
        "| tracer RSS < {RSS_TARGET_MIB:.0} MiB | ≤ {sandprof_rss:.1} MiB | {} |",
        yes_no(sandprof_rss < RSS_TARGET_MIB)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median([3.0, 1.0, 2.0].into_iter()), 2.0);
        assert_eq!(median([4.0, 1.0, 3.0, 2.0].into_iter()), 2.5);
        assert!(median(std::iter::empty()).is_nan());
    }

    fn sample(per_iteration_ns: f64) -> Sample {
        Sample {
            per_iteration_ns,
            wall: Duration::ZERO,
            max_rss_kib: 0,
            counts: None,
        }
    }

    #[test]
    fn paired_ranges_compare_samples_of_the_same_repetition() {
        let mut row = Row {
            kind: Kind::SyscallLoop,
            label: "getppid".to_owned(),
            strace_iterations: None,
            samples: Default::default(),
        };
        row.samples[1] = vec![sample(300.0), sample(280.0), sample(320.0)];
        row.samples[3] = vec![sample(450.0), sample(560.0), sample(400.0)];
        assert_eq!(
            row.paired_range(Config::Sandprof, Config::NoopFloor),
            (1.25, 2.0)
        );
    }

    #[test]
    fn ratios_and_durations() {
        assert_eq!(ratio(2.094), "2.09×");
        assert_eq!(ratio(37.25), "37.2×");
        assert_eq!(ratio(412.6), "413×");
        assert_eq!(duration_ns(175.2), "175 ns");
        assert_eq!(duration_ns(1_940.0), "1.9 µs");
        assert_eq!(duration_ns(350_000.0), "350.0 µs");
        assert_eq!(duration_ns(12_340_000.0), "12.3 ms");
        assert_eq!(duration_ns(1_520_000_000.0), "1.52 s");
    }
}
