//! The outcome of a trial: the likely cause of a different result, the finding that
//! says the result differed, and the verdict observed.

use syscall_db::{Arch, Database, ErrnoCounts, Runtime};

use super::super::dbref;
use super::super::finding::{
    Category, DbReference, Evidence, Finding, Observation, ObservationKind, Severity, Verdict,
    VerdictBasis, VerdictStatus,
};
use super::super::trial::{Match, RunEnding, TrialReport};
use super::calls::raw;
use crate::runsc_log::facts::{LogFacts, TerminationKind};
use crate::runsc_log::names::{errno_name, resolve};

/// A call that failed under runsc and not under runc, to look for in the log.
pub(super) struct NewFailure {
    pub(super) syscall: String,
    /// Its captured arguments (name, raw value); empty for any.
    pub(super) args: Vec<(String, String)>,
    pub(super) errnos: Vec<String>,
    pub(super) text: String,
}

impl NewFailure {
    /// Whether `other` is this failure seen more closely: the same call with at least
    /// these arguments, failing with at least these errnos.
    fn covered_by(&self, other: &NewFailure) -> bool {
        self.syscall == other.syscall
            && self.args.iter().all(|a| other.args.contains(a))
            && self.errnos.iter().all(|e| other.errnos.contains(e))
    }
}

/// Every call that failed only under runsc, once: the differences between the two
/// runs' calls, and the predicted failures no difference already shows (a finding's
/// arguments are a subset of a call's, so the same call would otherwise be listed twice,
/// with and without its path), in the order of their text.
pub(super) fn merge_failures(
    differences: Vec<NewFailure>,
    predicted: Vec<NewFailure>,
) -> Vec<NewFailure> {
    let mut failures = differences;
    let extra: Vec<NewFailure> = predicted
        .into_iter()
        .filter(|p| !failures.iter().any(|d| p.covered_by(d)))
        .collect();
    failures.extend(extra);
    failures.sort_by(|a, b| a.text.cmp(&b.text));
    failures.dedup_by(|a, b| a.text == b.text);
    failures
}

/// The likely cause of a different result: of the calls that newly failed, the one
/// runsc's log shows failing last before a process of the workload died (exited
/// non-zero or was killed), in that process; else the first that newly failed.
pub(super) fn cause(
    db: &Database,
    arch: Arch,
    facts: &LogFacts,
    failures: &[NewFailure],
) -> Option<String> {
    let position = |w: &crate::runsc_log::facts::Where| (w.file, w.line);
    let mut best: Option<((u32, u64), String)> = None;
    for t in &facts.terminations {
        let pid = match t.kind {
            TerminationKind::ProcessExit { pid, code } if code != 0 => Some(pid),
            TerminationKind::Signal { pid, .. } => pid,
            _ => continue,
        };
        let end = position(&t.at);
        for stat in &facts.calls {
            let name =
                resolve(db, arch, &stat.syscall).map_or_else(|| stat.syscall.display(), |(n, _)| n);
            for failure in failures.iter().filter(|f| {
                f.syscall == name
                    && f.args
                        .iter()
                        .all(|(n, r)| stat.fields.get(n).is_some_and(|v| raw(v) == *r))
            }) {
                for f in &stat.failures {
                    if !failure.errnos.contains(&errno_name(db, f.errno)) {
                        continue;
                    }
                    // The last failure before the death, in the dying process.
                    let at = [f.last, f.first]
                        .into_iter()
                        .find(|w| position(w) < end && (pid.is_none() || w.pid == pid));
                    let Some(at) = at else { continue };
                    if best.as_ref().is_none_or(|(p, _)| position(&at) > *p) {
                        let comm = at.comm.to_string_lossy();
                        let whose = match at.pid {
                            Some(pid) if !comm.is_empty() => format!(" (pid {pid}, {comm})"),
                            Some(pid) => format!(" (pid {pid})"),
                            None => String::new(),
                        };
                        best = Some((position(&at), format!("{}{whose}", failure.text)));
                    }
                }
            }
        }
        if best.is_some() {
            break;
        }
    }
    best.map(|(_, text)| text)
        .or_else(|| failures.first().map(|f| f.text.clone()))
}

/// The finding for a different result.
pub(super) fn outcome_finding(
    db: &Database,
    section: &TrialReport,
    predicted: VerdictStatus,
) -> Finding {
    let (runc, runsc) = (&section.runs[0], &section.runs[1]);
    let c = &section.comparison;
    let mut detail = Vec::new();
    let title = if matches!(runsc.ending, RunEnding::TimedOut) {
        format!(
            "the workload did not finish under runsc within {} s (runc: {} in {} ms)",
            section.timeout_s,
            runc.ending.describe(),
            runc.wall_ms
        )
    } else if !c.same_exit {
        format!(
            "the workload ended with {} under runsc, {} under runc",
            runsc.ending.describe(),
            runc.ending.describe()
        )
    } else {
        "the workload's output under runsc differs from runc's".to_owned()
    };
    if c.stdout.matched == Match::Different {
        for d in &c.stdout.differences {
            detail.push(format!(
                "stdout line {}: runc {:?}, runsc {:?}",
                d.line,
                d.runc.as_deref().unwrap_or("(end)"),
                d.runsc.as_deref().unwrap_or("(end)")
            ));
        }
    }
    let effect = match &section.cause {
        Some(cause) => format!("Likely cause: {cause}."),
        None => "runsc's log shows no call failing where runc's succeeded; compare the outputs \
                 below."
            .to_owned(),
    };
    let kind = if predicted == VerdictStatus::LikelyToBreak {
        ObservationKind::Confirmed
    } else {
        ObservationKind::Unpredicted
    };
    Finding {
        runtime: Runtime::Gvisor,
        severity: Severity::Breaks,
        category: Category::Runtime,
        title,
        effect,
        evidence: Evidence {
            calls: 1,
            detail,
            ..Evidence::default()
        },
        remediations: Vec::new(),
        reference: DbReference {
            entry: "sandprof.try.outcome".to_owned(),
            revision: dbref::upstream_revision(db, Runtime::Gvisor, &[]),
            paths: Vec::new(),
        },
        observation: Some(Observation {
            kind,
            calls: 0,
            errors: ErrnoCounts::new(),
            detail: vec![format!(
                "predicted: {}",
                serde_json::to_value(predicted)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            )],
        }),
    }
}

/// The verdict from what was observed.
pub(super) fn observed_verdict(
    section: &TrialReport,
    findings: &[Finding],
    same_result: bool,
) -> Verdict {
    let (runc, runsc) = (&section.runs[0], &section.runs[1]);
    let at = format!("runsc {} ({})", section.runsc_version, section.platform);
    let blockers: Vec<String> = findings
        .iter()
        .filter(|f| {
            f.severity == Severity::Breaks
                && f.observation.as_ref().is_some_and(|o| {
                    matches!(
                        o.kind,
                        ObservationKind::Confirmed | ObservationKind::Unpredicted
                    )
                })
        })
        .map(|f| f.title.clone())
        .collect();
    let (status, summary) = if matches!(runc.ending, RunEnding::TimedOut) {
        (
            VerdictStatus::Incomplete,
            format!(
                "The workload did not finish under runc within {} s, so there is no result to \
                 compare: both runs were killed at the timeout. Give it a longer --timeout, or a \
                 command that ends.",
                section.timeout_s
            ),
        )
    } else if !same_result {
        let mut text = format!(
            "Observed under {at}: the workload breaks — {}.",
            blockers
                .first()
                .map_or("its result differed", String::as_str)
        );
        if let Some(cause) = &section.cause {
            text.push_str(&format!(" Likely cause: {cause}."));
        }
        (VerdictStatus::Breaks, text)
    } else if !section.failed_calls.is_empty()
        || section.comparison.stderr.matched == Match::Different
    {
        let mut what = Vec::new();
        if !section.failed_calls.is_empty() {
            what.push(format!(
                "{} on the way ({})",
                plural(section.failed_calls.len(), "call failed", "calls failed"),
                section.failed_calls.join("; ")
            ));
        }
        if section.comparison.stderr.matched == Match::Different {
            what.push("its standard error differed".to_owned());
        }
        (
            VerdictStatus::WorksDegraded,
            format!(
                "Observed under {at}: the workload reached runc's result ({}, same output), \
                 but {}.",
                runsc.ending.describe(),
                what.join(", and ")
            ),
        )
    } else {
        (
            VerdictStatus::Works,
            format!(
                "Observed under {at}: the workload reached runc's result ({}, same output), \
                 with no call failing that succeeded under runc.",
                runsc.ending.describe()
            ),
        )
    };
    Verdict {
        runtime: Runtime::Gvisor,
        status,
        basis: VerdictBasis::Observed,
        configuration: Vec::new(),
        blockers,
        summary,
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
