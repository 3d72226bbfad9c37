//! The calibration corpus (`tests/corpus/corpus.toml`): real Debian programs, five of
//! them services started, exercised over loopback and stopped inside the container,
//! each run through `sandprof try` under runc and the installed runsc. For each, the
//! observed verdict and its cause, and the verdict the database predicted from the
//! runc trace, are asserted exactly. Every mismatch is listed, not only the first.

use std::path::Path;

use serde::Deserialize;

use crate::support::{privileged, sandprof_bin, scratch, tool};

#[derive(Deserialize)]
struct Corpus {
    program: Vec<Program>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Program {
    name: String,
    package: String,
    #[serde(default)]
    service: bool,
    command: Vec<String>,
    #[serde(default)]
    user: Option<String>,
    observed: String,
    #[serde(default)]
    cause: Option<String>,
    predicted: String,
    #[serde(default)]
    differs: Option<String>,
}

fn corpus() -> Corpus {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/corpus.toml");
    let text = std::fs::read_to_string(&path).expect("the corpus file is readable");
    toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn corpus_is_large_enough_and_well_formed() {
    let corpus = corpus();
    assert!(
        corpus.program.len() >= 30,
        "{} programs",
        corpus.program.len()
    );
    assert!(corpus.program.iter().filter(|p| p.service).count() >= 5);
    for p in &corpus.program {
        assert!(
            ["works", "works-degraded", "breaks"].contains(&p.observed.as_str()),
            "{}: observed {}",
            p.name,
            p.observed
        );
        assert!(
            [
                "compatible",
                "compatible-with-configuration",
                "likely-to-break"
            ]
            .contains(&p.predicted.as_str()),
            "{}: predicted {}",
            p.name,
            p.predicted
        );
        assert_eq!(
            p.cause.is_some(),
            p.observed != "works",
            "{}: a cause is named exactly when the program does not simply work",
            p.name
        );
        assert!(!p.package.is_empty() && !p.command.is_empty(), "{}", p.name);
        // A prediction that differs from the observation is only allowed with the
        // evidence that explains it.
        let agree = (p.predicted == "likely-to-break") == (p.observed == "breaks");
        assert_eq!(
            agree,
            p.differs.is_none(),
            "{}: `differs` explains disagreements",
            p.name
        );
    }
}

/// What one run of `sandprof try` reported, or why it did not.
fn try_program(p: &Program, dir: &Path) -> Result<serde_json::Value, String> {
    let out = dir.join(format!("{}.json", p.name));
    let mut cmd = std::process::Command::new(sandprof_bin());
    cmd.args(["try", "--format", "json", "--timeout", "90s", "-o"])
        .arg(&out);
    if let Some(user) = &p.user {
        cmd.args(["--user", user]);
    }
    let run = cmd
        .arg("--")
        .args(&p.command)
        .output()
        .map_err(|e| format!("cannot run sandprof: {e}"))?;
    if !run.status.success() {
        return Err(format!(
            "sandprof try failed ({}): {}",
            run.status,
            String::from_utf8_lossy(&run.stderr)
        ));
    }
    let text = std::fs::read(&out).map_err(|e| format!("no report: {e}"))?;
    serde_json::from_slice(&text).map_err(|e| format!("the report is not JSON: {e}"))
}

/// The mismatches between `p`'s expectations and its report.
fn check(p: &Program, report: &serde_json::Value) -> Vec<String> {
    let mut wrong = Vec::new();
    let observed = report["verdicts"][0]["status"].as_str().unwrap_or("?");
    let basis = report["verdicts"][0]["basis"].as_str().unwrap_or("?");
    let trial = &report["trial"];
    let predicted = trial["predicted"].as_str().unwrap_or("?");
    let failed: Vec<&str> = trial["failed_calls"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    let cause = trial["cause"].as_str();
    if basis != "observed" {
        wrong.push(format!("basis {basis}, not observed"));
    }
    if observed != p.observed {
        wrong.push(format!(
            "observed {observed}, expected {} (cause {cause:?}, failed {failed:?}, runs {})",
            p.observed, trial["runs"]
        ));
    }
    if predicted != p.predicted {
        wrong.push(format!("predicted {predicted}, expected {}", p.predicted));
    }
    match (p.observed.as_str(), &p.cause) {
        ("breaks", Some(expected)) => {
            // The cause names the process it died in: `… (pid 1, ls)`.
            let named = cause.map(|c| c.split(" (pid ").next().unwrap_or(c));
            if named != Some(expected.as_str()) {
                wrong.push(format!("cause {cause:?}, expected {expected:?}"));
            }
        }
        (_, Some(expected)) => {
            if !failed.contains(&expected.as_str()) {
                wrong.push(format!(
                    "{expected:?} is not among the failed calls {failed:?}"
                ));
            }
        }
        (_, None) => {
            if !failed.is_empty() {
                wrong.push(format!("calls failed under runsc: {failed:?}"));
            }
        }
    }
    wrong
}

#[test]
fn corpus_observed_and_predicted() {
    if !privileged("corpus_observed_and_predicted")
        || !tool("corpus_observed_and_predicted", "runc")
        || !tool("corpus_observed_and_predicted", "runsc")
    {
        return;
    }
    let dir = scratch();
    let _one = crate::r#try::one_trial_at_a_time();
    let mut mismatches = Vec::new();
    for p in &corpus().program {
        let problems = match try_program(p, dir.path()) {
            Ok(report) => check(p, &report),
            Err(e) => vec![e],
        };
        for problem in problems {
            mismatches.push(format!("{}: {problem}", p.name));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
