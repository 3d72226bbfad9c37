//! The generated section of docs/bench.md: what the measurement was, one table for the
//! longer workloads and one for the corpus programs, the summary lines, and the steps
//! that failed.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;
use serde_json::Value;

use super::{Compared, Row};

pub const BEGIN: &str = "<!-- cost-accuracy:begin (cargo xtask cost-accuracy) -->";
pub const END: &str = "<!-- cost-accuracy:end -->";
/// The error the issue sets as the target: within ±30% of the measured slowdown.
const TARGET_PCT: f64 = 30.0;

/// What the measurement names: date, runsc release, platform, machine, suite.
pub fn describe_measurement(path: &Path) -> anyhow::Result<String> {
    let bench: Value = serde_json::from_slice(
        &std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?,
    )
    .with_context(|| format!("{} is not JSON", path.display()))?;
    let text = |v: &Value| v.as_str().unwrap_or("?").to_owned();
    let startup = bench["metrics"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["id"] == "startup"))
        .map(|m| {
            let (runc, runsc) = (&m["runc"]["median"], &m["runsc"]["median"]);
            format!(
                "; its start-up figure: runc {:.0} ms, runsc {:.0} ms",
                runc.as_f64().unwrap_or(0.0),
                runsc.as_f64().unwrap_or(0.0)
            )
        })
        .unwrap_or_default();
    Ok(format!(
        "{} `sandprof bench` of {} (runsc {}, platform {}; {}, {} cores; sandprof {}){startup}",
        if bench["quick"] == true {
            "a `--quick`"
        } else {
            "a full"
        },
        text(&bench["date"]),
        text(&bench["runsc"]["version"]),
        text(&bench["runsc"]["platform"]),
        text(&bench["machine"]["cpu_model"]),
        bench["machine"]["cores"],
        text(&bench["sandprof_version"]),
    ))
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some((values[n / 2 - 1] + values[n / 2]) / 2.0),
    }
}

fn signed_pct(pct: f64) -> String {
    if pct.round() > 0.0 {
        format!("+{pct:.0}%")
    } else {
        format!("{:.0}%", pct).replace('-', "−")
    }
}

/// One summary line: how many within the target, the median absolute errors.
fn summary(rows: &[&Row], what: &str) -> String {
    let compared: Vec<Compared> = rows.iter().filter_map(|r| r.compared()).collect();
    let within = compared
        .iter()
        .filter(|c| c.error_pct.abs() <= TARGET_PCT)
        .count();
    let abs = |f: fn(&Compared) -> Option<f64>| {
        median(compared.iter().filter_map(f).map(f64::abs).collect())
            .map_or("n/a".to_owned(), |m| format!("{m:.0}%"))
    };
    format!(
        "- {what}: {within} of {} within ±{TARGET_PCT:.0}% of the measured slowdown \
         ({} could not be compared); median absolute error {}; on the syscall part alone \
         (extra minus start-up, where the measured part is over 10 ms) {}; the report's \
         own create-to-exit slowdown, on the profile's duration, {}.",
        compared.len(),
        rows.len() - compared.len(),
        abs(|c| Some(c.error_pct)),
        abs(syscall_error),
        abs(|c| Some(c.report_error_pct)),
    )
}

/// The error of the predicted extra beyond start-up, when the measured one is large
/// enough to compare (over 10 ms: below that it is within the start-up's own spread).
fn syscall_error(c: &Compared) -> Option<f64> {
    (c.measured_calls_ms > 10.0).then(|| (c.predicted_calls_ms / c.measured_calls_ms - 1.0) * 100.0)
}

fn table_row(r: &Row) -> String {
    let w = &r.workload;
    let dash = || "—".to_owned();
    let (runc, runsc) = r.timing.as_ref().map_or((dash(), dash()), |t| {
        (
            format!("{:.0} ms ±{:.0}%", t.runc_ms, t.runc_spread),
            format!("{:.0} ms ±{:.0}%", t.runsc_ms, t.runsc_spread),
        )
    });
    let c = r.compared();
    let cell = |f: &dyn Fn(&Compared) -> String| c.as_ref().map_or_else(dash, f);
    let profiled = r.prediction.as_ref().map_or_else(
        |_| dash(),
        |p| {
            format!(
                "{:.0} ms ({:.0} ms): {:.2}×",
                p.profiled_ms, p.host_ms, p.slowdown
            )
        },
    );
    let tried = r.tried.as_ref().map_or_else(
        |_| dash(),
        |t| {
            format!(
                "{:.0} → {:.0} ms: {:.1}×",
                t.runc_ms,
                t.runsc_ms,
                t.runsc_ms / t.runc_ms.max(1.0)
            )
        },
    );
    let dominant = r
        .prediction
        .as_ref()
        .map_or_else(|_| dash(), |p| p.dominant.join(", "));
    format!(
        "| {} | {runc} | {runsc} | {} | {} | {} | {} | {} | {profiled} | {tried} | {dominant} |",
        w.label,
        cell(&|c| format!("{:.2}×", c.measured)),
        cell(&|c| format!("{:.2}×", c.predicted)),
        cell(&|c| signed_pct(c.error_pct)),
        cell(&|c| format!(
            "{:.0} → {:.0} ms",
            c.measured_calls_ms, c.predicted_calls_ms
        )),
        cell(&|c| syscall_error(c).map_or("n/a".to_owned(), signed_pct)),
    )
}

fn table(s: &mut String, rows: &[&Row]) {
    let _ = writeln!(
        s,
        "| workload | runc | runsc | measured slowdown | predicted | error | syscall extra: \
         measured → predicted | syscall error | as profiled: duration (untraced), slowdown | try: runc → \
         runsc | dominant calls |"
    );
    let _ = writeln!(s, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|");
    for r in rows {
        let _ = writeln!(s, "{}", table_row(r));
    }
}

/// The generated section.
pub fn section(
    rows: &[Row],
    services: &[String],
    measured: &str,
    reps: usize,
    took_min: f64,
) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{BEGIN}\n");
    let _ = writeln!(
        s,
        "Predicted from {measured}. Each workload timed {reps} times per runtime; the whole \
         check took {took_min:.0} min.\n",
    );
    let (corpus, longer): (Vec<&Row>, Vec<&Row>) = rows.iter().partition(|r| r.workload.corpus);
    let _ = writeln!(s, "Longer workloads:\n");
    table(&mut s, &longer);
    let _ = writeln!(
        s,
        "\nThe programs of `sandprof try`'s corpus ([try.md](try.md)) other than its \
         services, {} of them. The services ({}) are left out: each polls its server in \
         0.5 s sleeps until it answers, so its wall time is mostly waiting, not calls, and \
         profiled on the host it would bind fixed loopback ports of the host.\n",
        corpus.len(),
        services.join(", ")
    );
    table(&mut s, &corpus);
    let _ = writeln!(s);
    let _ = writeln!(s, "{}", summary(&longer, "Longer workloads"));
    let _ = writeln!(s, "{}", summary(&corpus, "Corpus programs"));
    let failed: Vec<String> = rows.iter().flat_map(failures).collect();
    if !failed.is_empty() {
        let _ = writeln!(s, "\nSteps that failed:\n");
        for f in failed {
            let _ = writeln!(s, "- {f}");
        }
    }
    let _ = writeln!(s, "\n{END}");
    s
}

fn failures(r: &Row) -> Vec<String> {
    let mut out = Vec::new();
    let name = &r.workload.label;
    let mut note = |what: &str, err: Option<&anyhow::Error>| {
        if let Some(err) = err {
            out.push(format!(
                "{name}, {what}: {}",
                format!("{err:#}").replace('|', "\\|")
            ));
        }
    };
    note("prediction", r.prediction.as_ref().err());
    note("timing", r.timing.as_ref().err());
    note("try", r.tried.as_ref().err());
    out
}

#[cfg(test)]
mod tests {
    use super::super::workloads::Workload;
    use super::super::{Prediction, Timing, TryTimes};
    use super::*;

    fn row(name: &str, runc_ms: f64, runsc_ms: f64, extra_ms: f64) -> Row {
        Row {
            workload: Workload {
                name: name.to_owned(),
                label: name.to_owned(),
                command: vec!["/bin/true".to_owned()],
                user: None,
                corpus: false,
            },
            prediction: Ok(Prediction {
                profiled_ms: 50.0,
                host_ms: 40.0,
                extra_ms,
                startup_ms: 1800.0,
                slowdown: (50.0 + extra_ms) / 50.0,
                dominant: vec!["read".to_owned(), "openat".to_owned()],
            }),
            timing: Ok(Timing {
                runc_ms,
                runsc_ms,
                runc_spread: 4.0,
                runsc_spread: 12.0,
            }),
            tried: Ok(TryTimes {
                runc_ms: 40.0,
                runsc_ms: 2000.0,
            }),
        }
    }

    #[test]
    fn compares_on_the_measured_runc_base() {
        // Measured 2000/100 = 20×; predicted (100 + 2400)/100 = 25×: +25%.
        let c = row("w", 100.0, 2000.0, 2400.0).compared().unwrap();
        assert_eq!((c.measured, c.predicted), (20.0, 25.0));
        assert!((c.error_pct - 25.0).abs() < 1e-9);
        assert_eq!((c.measured_calls_ms, c.predicted_calls_ms), (100.0, 600.0));
        assert_eq!(syscall_error(&c), Some(500.0));
    }

    #[test]
    fn renders_a_row_and_a_failed_step() {
        let mut r = row("w", 100.0, 2000.0, 2400.0);
        assert_eq!(
            table_row(&r),
            "| w | 100 ms ±4% | 2000 ms ±12% | 20.00× | 25.00× | +25% | 100 → 600 ms | +500% | \
             50 ms (40 ms): 49.00× | 40 → 2000 ms: 50.0× | read, openat |"
        );
        r.timing = Err(anyhow::anyhow!("sandprof bench -- CMD failed: exit 1 | x"));
        assert_eq!(
            table_row(&r),
            "| w | — | — | — | — | — | — | — | 50 ms (40 ms): 49.00× | 40 → 2000 ms: 50.0× \
             | read, openat |"
        );
        assert_eq!(
            failures(&r),
            vec!["w, timing: sandprof bench -- CMD failed: exit 1 \\| x".to_owned()]
        );
    }

    #[test]
    fn summarises_within_target_and_median_errors() {
        let rows = [
            row("a", 100.0, 2000.0, 2400.0),
            row("b", 100.0, 2000.0, 1900.0),
            row("c", 100.0, 1000.0, 2900.0),
        ];
        let refs: Vec<&Row> = rows.iter().collect();
        // Errors +25%, 0%, +200%; syscall parts 100 → 600, 100 → 100, none measured.
        assert_eq!(
            summary(&refs, "Longer workloads"),
            "- Longer workloads: 2 of 3 within ±30% of the measured slowdown (0 could not \
             be compared); median absolute error 25%; on the syscall part alone (extra \
             minus start-up, where the measured part is over 10 ms) 250%; the report's own \
             create-to-exit slowdown, on the profile's duration, 145%."
        );
        assert_eq!(median(vec![3.0, 1.0, 2.0, 10.0]), Some(2.5));
        assert_eq!(median(Vec::new()), None);
        assert_eq!(
            (signed_pct(-12.4), signed_pct(0.2)),
            ("−12%".to_owned(), "0%".to_owned())
        );
    }
}
