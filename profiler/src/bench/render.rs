//! A measurement as a terminal table, a Markdown section for the migration ticket, or
//! JSON (the measurement file itself).

use std::io::{self, Write};

use super::result::{BenchResult, Metric};
use super::suite::{metric, Group};

/// The spread above which a micro-benchmark's median is flagged as unsteady.
pub const STEADY_SPREAD_PCT: f64 = 10.0;
/// The CPU-bound figure's slowdown must fall in this range for the harness to be fair.
pub const FAIR_RANGE: (f64, f64) = (0.8, 1.25);

/// A value with three significant digits.
pub fn value(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let magnitude = v.abs().log10().floor() as i32;
    let decimals = (2 - magnitude).clamp(0, 4) as usize;
    format!("{v:.decimals$}")
}

/// A slowdown factor: `1.02×`, `270×`, or `—` when runc's figure is zero.
pub fn slowdown(s: Option<f64>) -> String {
    match s {
        Some(s) if s >= 10.0 => format!("{s:.0}×"),
        Some(s) => format!("{s:.2}×"),
        None => "—".to_owned(),
    }
}

/// Whether a figure's spread is flagged: micro-benchmarks only (start-up and
/// footprint vary with the machine's state, and say so in their own rows).
fn unsteady(m: &Metric) -> bool {
    let micro = !matches!(metric(m.id).group, Group::Startup | Group::Footprint);
    micro && (m.runc.spread_pct > STEADY_SPREAD_PCT || m.runsc.spread_pct > STEADY_SPREAD_PCT)
}

fn cell(median: f64, spread: f64) -> String {
    format!("{} ±{:.0}%", value(median), spread)
}

/// The lines under the table: the harness's fairness, unsteady figures, the idle
/// sandbox's processes.
fn notes(result: &BenchResult) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(cpu) = result.metric(super::suite::MetricId::CpuHash) {
        let fair = cpu
            .slowdown
            .is_some_and(|s| (FAIR_RANGE.0..=FAIR_RANGE.1).contains(&s));
        notes.push(if fair {
            format!(
                "fairness: CPU-bound hashing runs at {} under runsc (expected {}–{}): the \
                 harness is fair",
                slowdown(cpu.slowdown),
                FAIR_RANGE.0,
                FAIR_RANGE.1
            )
        } else {
            format!(
                "UNFAIR: CPU-bound hashing runs at {} under runsc, outside {}–{}: the machine \
                 was busy or throttled during one runtime's turn; re-run before using these \
                 figures",
                slowdown(cpu.slowdown),
                FAIR_RANGE.0,
                FAIR_RANGE.1
            )
        });
    }
    let unsteady: Vec<&str> = result
        .metrics
        .iter()
        .filter(|m| unsteady(m))
        .map(|m| metric(m.id).name)
        .collect();
    if !unsteady.is_empty() {
        notes.push(format!(
            "spread above {STEADY_SPREAD_PCT}% (marked !): {}; the machine is noisy, re-run or \
             pin with taskset",
            unsteady.join(", ")
        ));
    }
    if !result.runsc_processes.is_empty() {
        let parts: Vec<String> = result
            .runsc_processes
            .iter()
            .map(|p| {
                format!(
                    "{} ({} process{}) {} MiB",
                    p.role,
                    p.count,
                    if p.count == 1 { "" } else { "es" },
                    value(p.pss_mib)
                )
            })
            .collect();
        notes.push(format!(
            "idle runsc sandbox, Pss by process: {}",
            parts.join(", ")
        ));
    }
    notes
}

fn heading(result: &BenchResult) -> [String; 2] {
    let platform = result.runsc.platform.as_deref().unwrap_or("default");
    let flags = if result.runsc.flags.is_empty() {
        String::new()
    } else {
        format!(", flags {}", result.runsc.flags.join(" "))
    };
    [
        format!(
            "runc {} vs runsc {} (platform {platform}{flags}), measured {}",
            result.runc.version, result.runsc.version, result.date
        ),
        format!(
            "{}, {} cores, kernel {}; {} repetitions{}, interleaved; disk figures on {}",
            result.machine.cpu_model,
            result.machine.cores,
            result.machine.kernel,
            result.repetitions,
            if result.quick { " (--quick)" } else { "" },
            result.disk_fs
        ),
    ]
}

fn row(m: &Metric) -> [String; 5] {
    let def = metric(m.id);
    let mark = if unsteady(m) { " !" } else { "" };
    [
        format!("{}{mark}", def.name),
        def.unit.to_owned(),
        cell(m.runc.median, m.runc.spread_pct),
        cell(m.runsc.median, m.runsc.spread_pct),
        slowdown(m.slowdown),
    ]
}

const HEADERS: [&str; 5] = [
    "figure",
    "unit",
    "runc (median ±spread)",
    "runsc",
    "runsc cost",
];

/// The terminal table.
pub fn table(result: &BenchResult, out: &mut dyn Write) -> io::Result<()> {
    for line in heading(result) {
        writeln!(out, "{line}")?;
    }
    writeln!(out)?;
    let rows: Vec<[String; 5]> = result.metrics.iter().map(row).collect();
    let mut widths = HEADERS.map(|h| h.chars().count());
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: [&str; 5], out: &mut dyn Write| -> io::Result<()> {
        let mut text = String::new();
        for (i, (c, w)) in cells.iter().zip(widths).enumerate() {
            let pad = w - c.chars().count();
            if i >= 2 {
                text.push_str(&" ".repeat(pad));
                text.push_str(c);
            } else {
                text.push_str(c);
                text.push_str(&" ".repeat(pad));
            }
            text.push_str("  ");
        }
        writeln!(out, "{}", text.trim_end())
    };
    line(HEADERS, out)?;
    for r in &rows {
        line([&r[0], &r[1], &r[2], &r[3], &r[4]], out)?;
    }
    writeln!(out)?;
    for note in notes(result) {
        writeln!(out, "{note}")?;
    }
    Ok(())
}

/// The Markdown section.
pub fn markdown(result: &BenchResult, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "## Sandbox overhead measured on this node\n")?;
    let [a, b] = heading(result);
    writeln!(out, "{a}  \n{b}\n")?;
    writeln!(out, "| {} |", HEADERS.join(" | "))?;
    writeln!(out, "|---|---|--:|--:|--:|")?;
    for r in result.metrics.iter().map(row) {
        writeln!(out, "| {} |", r.join(" | "))?;
    }
    writeln!(out)?;
    for note in notes(result) {
        writeln!(out, "- {note}")?;
    }
    Ok(())
}

/// The measurement as JSON.
pub fn json(result: &BenchResult, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, result)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_keep_three_significant_digits() {
        assert_eq!(value(0.1734), "0.173");
        assert_eq!(value(46.27), "46.3");
        assert_eq!(value(812.4), "812");
        assert_eq!(value(12345.6), "12346");
        assert_eq!(value(0.0), "0");
        assert_eq!(slowdown(Some(270.4)), "270×");
        assert_eq!(slowdown(Some(1.024)), "1.02×");
        assert_eq!(slowdown(None), "—");
    }
}
