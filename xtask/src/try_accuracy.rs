//! `cargo xtask try-accuracy`: runs every program of `sandprof try`'s calibration
//! corpus (`tests/corpus/corpus.toml`) through the built `sandprof try` (root, runc and
//! runsc), and rewrites the accuracy section of `docs/try.md`: predicted against
//! observed per program, and the precision and recall of the "likely to break"
//! prediction against observed breakage, with and without the programs whose
//! disagreement the corpus explains (`differs`).

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context as _};

use crate::cmd::{cargo, run};
use crate::corpus::{self, Program};

/// Options of `cargo xtask try-accuracy`.
#[derive(Debug, clap::Args)]
pub struct Options {
    /// Print the section instead of rewriting docs/try.md.
    #[arg(long)]
    pub print: bool,
}

/// What one trial said.
struct Outcome {
    name: String,
    service: bool,
    predicted: String,
    observed: String,
    cause: String,
    /// The corpus explains why prediction and observation differ.
    explained: bool,
}

const BEGIN: &str = "<!-- accuracy:begin (cargo xtask try-accuracy) -->";
const END: &str = "<!-- accuracy:end -->";

fn trial(sandprof: &Path, program: &Program, out: &Path) -> anyhow::Result<Outcome> {
    let done = corpus::try_command(sandprof, &program.command, program.user.as_deref(), out)
        .output()
        .with_context(|| format!("cannot run sandprof for {}", program.name))?;
    if !done.status.success() {
        bail!(
            "sandprof try failed for {}: {}",
            program.name,
            String::from_utf8_lossy(&done.stderr)
        );
    }
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(out)?)?;
    let trial = &report["trial"];
    let text = |v: &serde_json::Value| v.as_str().unwrap_or("").to_owned();
    let cause = match trial["cause"].as_str() {
        Some(cause) => cause.split(" (pid ").next().unwrap_or(cause).to_owned(),
        None => trial["failed_calls"]
            .as_array()
            .map(|calls| {
                calls
                    .iter()
                    .filter_map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default(),
    };
    Ok(Outcome {
        name: program.name.clone(),
        service: program.service,
        predicted: text(&trial["predicted"]),
        observed: text(&report["verdicts"][0]["status"]),
        cause,
        explained: program.differs.is_some(),
    })
}

fn ratio(n: usize, d: usize) -> String {
    if d == 0 {
        "n/a (none)".to_owned()
    } else {
        format!("{n}/{d} = {:.0}%", 100.0 * n as f64 / d as f64)
    }
}

/// Precision and recall of predicted "likely to break" against observed "breaks".
fn scores(outcomes: &[&Outcome]) -> (String, String) {
    let predicted = |o: &&&Outcome| o.predicted == "likely-to-break";
    let observed = |o: &&&Outcome| o.observed == "breaks";
    let both = outcomes
        .iter()
        .filter(|o| predicted(o) && observed(o))
        .count();
    let p = outcomes.iter().filter(predicted).count();
    let o = outcomes.iter().filter(observed).count();
    (ratio(both, p), ratio(both, o))
}

fn section(outcomes: &[Outcome], version: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{BEGIN}");
    let _ = writeln!(
        s,
        "\nMeasured with runsc {version} on the ptrace platform, {} programs ({} services).\n",
        outcomes.len(),
        outcomes.iter().filter(|o| o.service).count()
    );
    let all: Vec<&Outcome> = outcomes.iter().collect();
    let unexplained: Vec<&Outcome> = outcomes.iter().filter(|o| !o.explained).collect();
    let _ = writeln!(s, "| Programs | \"Breaks\" precision | \"Breaks\" recall |");
    let _ = writeln!(s, "|---|---|---|");
    let (p, r) = scores(&all);
    let _ = writeln!(s, "| all, at runsc {version} | {p} | {r} |");
    if unexplained.len() < outcomes.len() {
        let (p, r) = scores(&unexplained);
        let _ = writeln!(
            s,
            "| without the {} explained differences | {p} | {r} |",
            outcomes.len() - unexplained.len()
        );
    }
    let _ = writeln!(
        s,
        "\n| Program | Predicted | Observed | Cause or calls failing only under runsc |"
    );
    let _ = writeln!(s, "|---|---|---|---|");
    for o in outcomes {
        let mark = if o.explained {
            " (explained difference)"
        } else {
            ""
        };
        let service = if o.service { " (service)" } else { "" };
        let _ = writeln!(
            s,
            "| {}{service} | {} | {}{mark} | {} |",
            o.name,
            o.predicted,
            o.observed,
            o.cause.replace('|', "\\|")
        );
    }
    let _ = writeln!(s, "\n{END}");
    s
}

/// Runs the task.
pub fn run_accuracy(opts: Options) -> anyhow::Result<()> {
    let root = crate::workspace_root();
    run(cargo().args(["build", "--locked", "--release", "--bins"]))?;
    let sandprof = root.join("target/release/sandprof");
    let corpus = corpus::load(&root)?;
    let scratch = tempfile::tempdir().context("cannot create a scratch directory")?;
    let mut outcomes = Vec::new();
    for program in &corpus.program {
        eprintln!("try-accuracy: {}", program.name);
        let out = scratch.path().join(format!("{}.json", program.name));
        outcomes.push(trial(&sandprof, program, &out)?);
    }
    let version = Command::new("runsc")
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .map(|l| l.trim_start_matches("runsc version ").to_owned())
        })
        .unwrap_or_else(|| "(unknown)".to_owned());
    let text = section(&outcomes, &version);
    if opts.print {
        print!("{text}");
        return Ok(());
    }
    let doc = root.join("docs/try.md");
    corpus::rewrite_section(&doc, BEGIN, END, &text)?;
    eprintln!(
        "try-accuracy: rewrote the accuracy section of {}",
        doc.display()
    );
    Ok(())
}
