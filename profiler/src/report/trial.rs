//! The trial section of a report (`sandprof try`): what ran where (runsc version and
//! platform, root file system, network), each run's ending, wall time and peak memory,
//! how the results compare with the first differing lines, the calls that failed only
//! under runsc, and what had been predicted. Plain text for the terminal, Markdown for
//! tickets; JSON carries the same data as `trial`.

use std::io::{self, Write};

use crate::analysis::finding::{Observation, ObservationKind};
use crate::analysis::trial::{Match, RunReport, StreamComparison, TrialReport};

use super::markdown::{code, inline};
use super::text;

/// `tolerated`, `not reached`…
pub fn observation_name(kind: ObservationKind) -> &'static str {
    match kind {
        ObservationKind::Confirmed => "confirmed",
        ObservationKind::Tolerated => "tolerated",
        ObservationKind::NotReached => "not reached",
        ObservationKind::Refuted => "refuted",
        ObservationKind::Unpredicted => "unpredicted",
    }
}

/// `tolerated: 3 calls, 3 failed (ENOENT 3)`.
pub fn observation(obs: &Observation) -> String {
    let mut out = observation_name(obs.kind).to_owned();
    if obs.calls > 0 {
        let failed: u64 = obs.errors.values().sum();
        out.push_str(&format!(": {} under runsc", plural(obs.calls, "call")));
        if failed > 0 {
            let errnos: Vec<String> = obs.errors.iter().map(|(e, n)| format!("{e} {n}")).collect();
            out.push_str(&format!(", {failed} failed ({})", errnos.join(", ")));
        }
    }
    out
}

fn plural(n: u64, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

fn memory(bytes: Option<u64>) -> String {
    bytes.map_or_else(
        || "not reported".to_owned(),
        |b| format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0)),
    )
}

fn run_line(run: &RunReport) -> String {
    format!(
        "{}: {}, {}, peak memory {}, stdout {} B, stderr {} B",
        run.runtime,
        run.ending.describe(),
        text::duration(run.wall_ms),
        memory(run.peak_memory_bytes),
        run.stdout.bytes,
        run.stderr.bytes
    )
}

fn match_name(m: Match) -> &'static str {
    match m {
        Match::Identical => "identical",
        Match::SameAfterNormalising => "the same after normalising",
        Match::Different => "different",
    }
}

fn differences(stream: &str, c: &StreamComparison) -> Vec<String> {
    c.differences
        .iter()
        .map(|d| {
            format!(
                "{stream} line {}: runc {:?} / runsc {:?}",
                d.line,
                d.runc.as_deref().unwrap_or("(ended)"),
                d.runsc.as_deref().unwrap_or("(ended)")
            )
        })
        .collect()
}

/// The section's lines, shared by both renderers.
fn lines(trial: &TrialReport) -> Vec<String> {
    let mut out = vec![
        format!("command: {}", trial.command.join(" ")),
        format!(
            "runsc {} on the {} platform; root file system: {}; network: {}",
            trial.runsc_version, trial.platform, trial.rootfs, trial.network
        ),
    ];
    out.extend(trial.runs.iter().map(run_line));
    let c = &trial.comparison;
    out.push(format!(
        "exit status {}; stdout {}; stderr {}",
        if c.same_exit { "the same" } else { "different" },
        match_name(c.stdout.matched),
        match_name(c.stderr.matched)
    ));
    out.extend(differences("stdout", &c.stdout));
    out.extend(differences("stderr", &c.stderr));
    if !trial.failed_calls.is_empty() {
        out.push(format!(
            "failed only under runsc: {}",
            trial.failed_calls.join("; ")
        ));
    }
    if let Some(cause) = &trial.cause {
        out.push(format!("likely cause: {cause}"));
    }
    out.push(format!(
        "predicted before the run: {} — {}",
        text::status_name(trial.predicted),
        trial.predicted_summary
    ));
    if let Some(dir) = &trial.log_dir {
        out.push(format!("runsc's logs: {dir}"));
    }
    out.push(format!(
        "sandprof's own time beyond the runs: {} ms",
        trial.overhead_ms
    ));
    out
}

/// Writes the section for the terminal.
pub fn table(trial: &TrialReport, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "Trial")?;
    for line in lines(trial) {
        writeln!(out, "  {line}")?;
    }
    writeln!(out)
}

/// Writes the section as Markdown.
pub fn markdown(trial: &TrialReport, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "### Trial")?;
    writeln!(out)?;
    writeln!(out, "- Command: `{}`", code(&trial.command.join(" ")))?;
    for line in lines(trial).into_iter().skip(1) {
        writeln!(out, "- {}", inline(&line))?;
    }
    writeln!(out)?;
    for run in &trial.runs {
        for (name, stream) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            if stream.text.is_empty() {
                continue;
            }
            writeln!(
                out,
                "<details><summary>{} {name}{}</summary>\n\n```text",
                run.runtime,
                if stream.truncated { " (beginning)" } else { "" }
            )?;
            writeln!(out, "{}", stream.text.replace("```", "'''").trim_end())?;
            writeln!(out, "```\n\n</details>\n")?;
        }
    }
    Ok(())
}
