//! `sandprof bench --plan`: the benchmark plan for a migration ticket, as Markdown —
//! what is measured and how, the checks every run must pass, and, from a measurement,
//! the threshold each figure must stay within when the plan is run again (on the
//! target nodes, after a runsc upgrade, with new flags).

use std::io::{self, Write};

use super::render::{slowdown, value, FAIR_RANGE, STEADY_SPREAD_PCT};
use super::result::BenchResult;
use super::suite::{self, SUITE};

/// The least tolerance a re-run gets over the measured slowdown, in percent.
pub const MIN_TOLERANCE_PCT: f64 = 20.0;

/// The largest slowdown a re-run of a figure may show: the measured one raised by its
/// runsc spread, at least [`MIN_TOLERANCE_PCT`].
pub fn threshold(measured: f64, spread_pct: f64) -> f64 {
    measured * (1.0 + spread_pct.max(MIN_TOLERANCE_PCT) / 100.0)
}

/// Writes the plan; thresholds come from `measurement` when one is given.
pub fn plan(measurement: Option<&BenchResult>, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "## Sandbox benchmark plan\n")?;
    writeln!(
        out,
        "Run on a node of the target pool, as root: `sandprof bench --out bench.json` \
         ({} repetitions; `--quick`: {}). The same OCI bundle (the node's `/` read-only, \
         with the mounts containerd gives a Kubernetes container) runs under runc and under \
         runsc; each repetition alternates which goes first. The micro-benchmarks time \
         their own loops inside the container, so start-up is not in them.\n",
        suite::repetitions(false),
        suite::repetitions(true)
    )?;
    writeln!(out, "| figure | unit | how |")?;
    writeln!(out, "|---|---|---|")?;
    for def in &SUITE {
        writeln!(out, "| {} | {} | {} |", def.name, def.unit, def.how)?;
    }
    writeln!(out, "\n### Every run must pass\n")?;
    writeln!(
        out,
        "- fairness: CPU hashing's slowdown within {}–{} (the harness gives both runtimes \
         the same CPU);",
        FAIR_RANGE.0, FAIR_RANGE.1
    )?;
    writeln!(
        out,
        "- steadiness: every micro-benchmark's spread (max − min over median) under \
         {STEADY_SPREAD_PCT}%, else re-run pinned with `taskset` on a quiet node;"
    )?;
    writeln!(
        out,
        "- sanity: runsc's getppid costs more than runc's, and both containers holding \
         256 MiB show at least 256 MiB."
    )?;
    let Some(m) = measurement else {
        writeln!(
            out,
            "\nNo measurement given: pass `--bench FILE` (from `sandprof bench --out FILE`) \
             for each figure's threshold."
        )?;
        return Ok(());
    };
    writeln!(
        out,
        "\n### Thresholds from the measurement of {} (runsc {}, platform {}, {})\n",
        m.date,
        m.runsc.version,
        m.runsc.platform.as_deref().unwrap_or("default"),
        m.machine.cpu_model
    )?;
    writeln!(
        out,
        "A re-run passes when each figure's slowdown is at most the threshold: the \
         measured slowdown raised by its runsc spread, at least {MIN_TOLERANCE_PCT}%.\n"
    )?;
    writeln!(
        out,
        "| figure | runc | runsc | measured | pass if at most |"
    )?;
    writeln!(out, "|---|--:|--:|--:|--:|")?;
    for metric in &m.metrics {
        let def = suite::metric(metric.id);
        let limit = metric
            .slowdown
            .map(|s| slowdown(Some(threshold(s, metric.runsc.spread_pct))));
        writeln!(
            out,
            "| {} | {} {unit} | {} {unit} | {} | {} |",
            def.name,
            value(metric.runc.median),
            value(metric.runsc.median),
            slowdown(metric.slowdown),
            limit.unwrap_or_else(|| format!(
                "{} {} (runsc)",
                value(metric.runsc.median * 1.2),
                def.unit
            )),
            unit = def.unit,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::result::fixture;
    use crate::bench::suite::MetricId;

    #[test]
    fn thresholds_take_the_spread_or_twenty_percent() {
        assert_eq!(threshold(10.0, 5.0), 12.0);
        assert_eq!(threshold(10.0, 50.0), 15.0);
    }

    #[test]
    fn the_plan_names_each_threshold() {
        let m = fixture(&[
            (MetricId::Syscall, 0.25, 57.5),
            (MetricId::IdleCpu, 0.0, 0.5),
        ]);
        let mut out = Vec::new();
        plan(Some(&m), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("| getppid loop | µs/call | raw getppid(2) in a loop"));
        assert!(text.contains("| getppid loop | 0.250 µs/call | 57.5 µs/call | 230× | 276× |"));
        assert!(text.contains("| CPU, idle container | 0 millicores | 0.500 millicores | — | 0.600 millicores (runsc) |"));
        let mut out = Vec::new();
        plan(None, &mut out).unwrap();
        assert!(String::from_utf8(out).unwrap().ends_with(
            "No measurement given: pass `--bench FILE` (from `sandprof bench --out FILE`) for \
             each figure's threshold.\n"
        ));
    }
}
