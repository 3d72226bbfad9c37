//! `sandprof runsc-log`: real runsc logs (and the forms they are pasted in) with their
//! exact root causes and verdicts, hand-written logs of the formats this machine's runsc
//! does not write, input that holds no evidence, the installed runsc's current output,
//! the profile the strace lines make, and golden reports (regenerate them with
//! `SANDPROF_BLESS=1 cargo test -p sandprof-tests runsc_log::`).

use std::path::{Path, PathBuf};

use sandprof::analysis::finding::{Report, Severity, VerdictStatus};
use sandprof::analysis::runsc::analyze_logs;
use sandprof::analysis::RunscFlags;
use sandprof::commands::runsc_log::judged_release;
use sandprof::runsc_log::capture::CaptureSpec;
use sandprof::runsc_log::facts::{EventKind, LogFacts, Termination};
use sandprof::runsc_log::input;
use sandprof::runsc_log::{self, LogEvidence};
use syscall_db::messages::MessageCatalogue;
use syscall_db::{Arch, Database};

// Logs of real runs of the installed runsc, and their pasted forms.
mod real;

// Hand-written logs: format generations, arches and messages no run here produces.
mod handwritten;

// Inputs with nothing to judge, and bad input.
mod no_evidence;

// The installed runsc, run now: the reader against its current output.
mod live;

// The profile the strace lines make, and golden reports.
mod outputs;

const DIR: &str = "fixtures/runsc";

fn fixture(name: &str) -> PathBuf {
    Path::new(DIR).join(name)
}

fn spec() -> CaptureSpec {
    CaptureSpec::from_database(Database::get(), Arch::X86_64)
}

/// What the logs at `paths` hold, read as `sandprof runsc-log` reads them.
fn evidence_of(paths: &[PathBuf]) -> LogEvidence {
    let inputs = input::expand(paths).unwrap();
    runsc_log::load(&inputs, Database::get(), None).unwrap()
}

fn facts_of(names: &[&str]) -> LogFacts {
    let paths: Vec<PathBuf> = names.iter().map(|n| fixture(n)).collect();
    evidence_of(&paths).facts
}

/// The report for the fixtures `names`, with `flags` assumed, judged as `sandprof
/// runsc-log` judges: at the release the logs name.
fn report_with(names: &[&str], flags: &RunscFlags) -> Report {
    let paths: Vec<PathBuf> = names.iter().map(|n| fixture(n)).collect();
    report_of_evidence(&evidence_of(&paths), flags)
}

fn report_of_evidence(evidence: &LogEvidence, flags: &RunscFlags) -> Report {
    let db = Database::get();
    let (judged, why) = judged_release(db, None, evidence.facts.gvisor_release.as_deref()).unwrap();
    let mut report = analyze_logs(judged.database(), evidence, flags).unwrap();
    judged.annotate(&mut report);
    report.caveats.extend(why);
    report
}

fn report_of(names: &[&str]) -> Report {
    report_with(names, &RunscFlags::none())
}

/// The verdict's status and summary.
fn verdict(report: &Report) -> (VerdictStatus, &str) {
    let v = &report.verdicts[0];
    (v.status, v.summary.as_str())
}

/// (severity, title) of every finding, in report order.
fn titles(report: &Report) -> Vec<(Severity, &str)> {
    report
        .findings
        .iter()
        .map(|f| (f.severity, f.title.as_str()))
        .collect()
}

/// (message id or `unsupported:syscall`, count, first line) per message kind.
fn events(facts: &LogFacts) -> Vec<(String, u64, u64)> {
    let catalogue = MessageCatalogue::get();
    facts
        .events
        .iter()
        .map(|e| {
            let kind = match &e.kind {
                EventKind::Catalogued { message, captures } => {
                    let values: Vec<String> = captures.iter().map(|(_, v)| v.to_owned()).collect();
                    format!("{}{values:?}", catalogue.messages()[*message].id)
                }
                EventKind::UnsupportedSyscall { syscall, key_args } => {
                    format!("unsupported:{}{key_args:?}", syscall.display())
                }
            };
            (kind, e.count, e.first.line)
        })
        .collect()
}

/// (kind, line, suspects as `syscall kind @line`) per termination.
fn terminations(facts: &LogFacts) -> Vec<(String, u64, Vec<String>)> {
    facts
        .terminations
        .iter()
        .map(|t: &Termination| {
            (
                format!("{:?}{}", t.kind, if t.application { " app" } else { "" }),
                t.at.line,
                t.suspects
                    .iter()
                    .map(|s| format!("{} {:?} @{}", s.syscall.display(), s.kind, s.at.line))
                    .collect(),
            )
        })
        .collect()
}
