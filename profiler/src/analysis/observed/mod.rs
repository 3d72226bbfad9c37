//! A trial judged: the runc profile predicts (the same analysis as `sandprof report`),
//! then what the two runs showed decides.
//!
//! - Each predicted gVisor finding gets an observation from its calls under runsc (the
//!   `--strace` log, through the runsc-log reader): *not reached* (runsc never made
//!   the call), *refuted* (the calls succeeded), *tolerated* (they failed, and the
//!   workload reached runc's result anyway, or they failed as they did under runc),
//!   *confirmed* (they failed where runc's did not, and the result differed).
//! - Every call that failed under runsc with an errno it never got under runc, and
//!   that no prediction covers, becomes a finding of its own, marked *unpredicted*:
//!   for calls with a captured path any errno counts (a /proc or /sys file that
//!   exists under runc and not under runsc); for the rest, only errnos that mean a
//!   refusal (EPERM, ENOSYS, EINVAL…), since EAGAIN or ENOENT on uncaptured paths
//!   differ between any two runs.
//! - A different result (exit status, standard output, a timeout) is a finding too,
//!   with its likely cause: the call runsc's log shows failing nearest before the
//!   process died, else the first call that newly failed.
//! - The verdict, basis *observed*: breaks (different result), works-degraded (same
//!   result, with calls failing or standard error differing on the way), works; or
//!   incomplete when runc itself did not finish, since there is nothing to compare.

mod calls;
mod verdict;

use syscall_db::{Arch, Database, Runtime};

use super::finding::{Finding, Observation, ObservationKind, Report};
use super::flags::RunscFlags;
use super::trial::{self, RunEnding};
use super::{analyze, verdict as verdicts, AnalysisOptions};
use crate::runsc_log::to_profile;
use crate::sandbox::Trial;
use calls::{
    covered, difference_finding, differences, is_restart, new_errnos, raw, refusal, CallIndex,
};
use verdict::{cause, merge_failures, observed_verdict, outcome_finding, NewFailure};

/// Judges a trial.
pub fn judge_trial(
    db: &Database,
    trial: &Trial,
    arch: Arch,
    runsc_flags: &RunscFlags,
) -> anyhow::Result<Report> {
    let name = "runc trace".to_owned();
    let mut report = analyze(
        db,
        &[(name, trial.profile.clone())],
        &AnalysisOptions {
            runtimes: vec![Runtime::Gvisor],
            runsc_flags: runsc_flags.clone(),
        },
    )?;
    let predicted = report
        .verdicts
        .first()
        .cloned()
        .unwrap_or_else(|| verdicts::verdict(Runtime::Gvisor, &[]));
    let log_profile = to_profile::to_profile(&trial.facts, db, arch, trial.log_files.clone());
    let runc_calls = CallIndex::of(&trial.profile);
    let runsc_calls = CallIndex::of(&log_profile.profile);
    let mut section = trial::trial_report(
        &trial.setup,
        &trial.runc,
        &trial.runsc,
        u64::try_from(trial.overhead.as_millis()).unwrap_or(u64::MAX),
    );
    section.predicted = predicted.status;
    section.predicted_summary = predicted.summary.clone();
    let same_result =
        section.comparison.same_result() && !matches!(section.runs[1].ending, RunEnding::TimedOut);

    // The calls of predicted findings that newly failed: for a finding about a
    // syscall as a whole, refusals only (as for unpredicted differences).
    let mut predicted_failures = Vec::new();
    for finding in &mut report.findings {
        finding.observation = observe(finding, &runc_calls, &runsc_calls, same_result);
        let Some(syscall) = finding.evidence.syscall.clone() else {
            continue;
        };
        let args = &finding.evidence.args;
        let fresh: Vec<String> = new_errnos(
            &runc_calls.matching(&syscall, args),
            &runsc_calls.matching(&syscall, args),
        )
        .into_iter()
        .filter(|errno| !args.is_empty() || refusal(db, errno))
        .collect();
        if !fresh.is_empty() {
            predicted_failures.push(NewFailure {
                text: format!("{}: {}", call_text(finding), fresh.join(", ")),
                syscall,
                args: args
                    .iter()
                    .map(|a| (a.name.clone(), a.raw.clone()))
                    .collect(),
                errnos: fresh,
            });
        }
    }
    let differences = differences(db, arch, &runc_calls, &runsc_calls, &log_profile.profile);
    let failures = merge_failures(
        differences
            .iter()
            .map(|d| NewFailure {
                syscall: d.syscall.clone(),
                args: d.fields.iter().map(|(n, v)| (n.clone(), raw(v))).collect(),
                errnos: d.errnos.clone(),
                text: format!("{}: {}", d.call, d.errnos.join(", ")),
            })
            .collect(),
        predicted_failures,
    );
    section.failed_calls = failures.iter().map(|f| f.text.clone()).collect();
    if !same_result && !matches!(section.runs[0].ending, RunEnding::TimedOut) {
        section.cause = cause(db, arch, &trial.facts, &failures);
    }
    let unpredicted: Vec<Finding> = differences
        .into_iter()
        .filter(|d| !covered(&report.findings, d))
        .map(|d| difference_finding(db, arch, d))
        .collect();
    report.findings.extend(unpredicted);
    if !same_result && !matches!(section.runs[0].ending, RunEnding::TimedOut) {
        let outcome = outcome_finding(db, &section, predicted.status);
        report.findings.insert(0, outcome);
    }
    let observed = observed_verdict(&section, &report.findings, same_result);
    report.verdicts = vec![observed];
    report.trial = Some(section);
    report.inputs = vec![
        "runc (traced)".to_owned(),
        "runsc (--strace logs)".to_owned(),
    ];
    Ok(report)
}

/// `openat(path=/proc/…)` or `pkey_alloc`.
fn call_text(finding: &Finding) -> String {
    let syscall = finding.evidence.syscall.as_deref().unwrap_or("?");
    if finding.evidence.args.is_empty() {
        return syscall.to_owned();
    }
    let shown: Vec<String> = finding
        .evidence
        .args
        .iter()
        .map(|a| format!("{}={}", a.name, a.symbol.as_deref().unwrap_or(&a.raw)))
        .collect();
    format!("{syscall}({})", shown.join(", "))
}

/// The observation on one predicted finding.
fn observe(
    finding: &Finding,
    runc: &CallIndex,
    runsc: &CallIndex,
    same_result: bool,
) -> Option<Observation> {
    let syscall = finding.evidence.syscall.as_deref()?;
    let under_runsc = runsc.matching(syscall, &finding.evidence.args);
    let under_runc = runc.matching(syscall, &finding.evidence.args);
    let fresh = new_errnos(&under_runc, &under_runsc);
    let failed: u64 = under_runsc
        .errors
        .iter()
        .filter(|(e, _)| !is_restart(e))
        .map(|(_, n)| n)
        .sum();
    let (kind, detail) = if under_runsc.calls == 0 {
        (
            ObservationKind::NotReached,
            "runsc's log shows no such call: the run under runsc never made it.".to_owned(),
        )
    } else if !fresh.is_empty() && !same_result {
        (
            ObservationKind::Confirmed,
            format!(
                "{failed} of {} calls failed under runsc ({}), and the result differed from runc's.",
                under_runsc.calls,
                fresh.join(", ")
            ),
        )
    } else if failed > 0 {
        let why = if fresh.is_empty() {
            "as they did under runc"
        } else {
            "and the workload still reached runc's result"
        };
        (
            ObservationKind::Tolerated,
            format!(
                "{failed} of {} calls failed under runsc, {why}.",
                under_runsc.calls
            ),
        )
    } else {
        (
            ObservationKind::Refuted,
            format!(
                "All {} calls succeeded under runsc: this runsc does not refuse them.",
                under_runsc.calls
            ),
        )
    };
    Some(Observation {
        kind,
        calls: under_runsc.calls,
        errors: under_runsc.errors,
        detail: vec![detail],
    })
}

#[cfg(test)]
mod tests {
    use syscall_db::FieldValue;

    use super::*;
    use crate::analysis::finding::{Category, DbReference, Evidence, Severity, ShownArg};
    use crate::profile::ArgSignature;
    use calls::Calls;

    /// One signature of a profile.
    fn sig(
        syscall: &str,
        fields: &[(&str, FieldValue)],
        calls: u64,
        errors: &[(&str, u64)],
    ) -> ArgSignature {
        ArgSignature {
            syscall: syscall.to_owned(),
            number: 0,
            fields: fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
            calls,
            errors: errors.iter().map(|(e, n)| ((*e).to_owned(), *n)).collect(),
            incomplete: Vec::new(),
            first: None,
        }
    }

    fn index(sigs: Vec<ArgSignature>) -> CallIndex {
        let mut index = CallIndex::default();
        for s in sigs {
            index
                .by_signature
                .entry((s.syscall.clone(), s.fields.clone()))
                .or_default()
                .add(s.calls, &s.errors);
            index
                .by_syscall
                .entry(s.syscall.clone())
                .or_default()
                .add(s.calls, &s.errors);
        }
        index
    }

    fn finding(path: &str) -> Finding {
        Finding {
            runtime: Runtime::Gvisor,
            severity: Severity::Breaks,
            category: Category::ProcPath,
            title: "t".to_owned(),
            effect: String::new(),
            evidence: Evidence {
                syscall: Some("openat".to_owned()),
                args: vec![ShownArg {
                    name: "path".to_owned(),
                    raw: path.to_owned(),
                    symbol: None,
                }],
                ..Evidence::default()
            },
            remediations: Vec::new(),
            reference: DbReference {
                entry: "e".to_owned(),
                revision: String::new(),
                paths: Vec::new(),
            },
            observation: None,
        }
    }

    #[test]
    fn observations_follow_the_calls_under_runsc() {
        let path = "/proc/sys/kernel/ngroups_max";
        let field = [("path", FieldValue::Str(path.to_owned()))];
        let runc = index(vec![sig("openat", &field, 1, &[])]);
        let failed = index(vec![sig("openat", &field, 1, &[("ENOENT", 1)])]);
        let worked = index(vec![sig("openat", &field, 1, &[])]);
        let f = finding(path);
        let kind = |runsc: &CallIndex, same| observe(&f, &runc, runsc, same).unwrap().kind;
        assert_eq!(kind(&failed, true), ObservationKind::Tolerated);
        assert_eq!(kind(&failed, false), ObservationKind::Confirmed);
        assert_eq!(kind(&worked, true), ObservationKind::Refuted);
        assert_eq!(
            kind(&CallIndex::default(), true),
            ObservationKind::NotReached
        );
    }

    #[test]
    fn failures_runc_also_had_are_not_new() {
        let runc = Calls {
            calls: 3,
            errors: [("ENOSYS".to_owned(), 2)].into(),
        };
        let runsc = Calls {
            calls: 3,
            errors: [("ENOSYS".to_owned(), 2), ("EPERM".to_owned(), 1)].into(),
        };
        assert_eq!(new_errnos(&runc, &runsc), ["EPERM"]);
        // A call that failed every time under runc fails the same for the program,
        // whatever the errno; restart codes never reach it.
        let always = Calls {
            calls: 1,
            errors: [("ENXIO".to_owned(), 1)].into(),
        };
        let eio = Calls {
            calls: 1,
            errors: [("EIO".to_owned(), 1)].into(),
        };
        assert_eq!(new_errnos(&always, &eio), [] as [String; 0]);
        let restart = Calls {
            calls: 2,
            errors: [("errno_512".to_owned(), 1)].into(),
        };
        assert_eq!(new_errnos(&Calls::default(), &restart), [] as [String; 0]);
    }

    #[test]
    fn a_failure_is_listed_once_however_closely_it_was_seen() {
        let failure = |args: &[(&str, &str)], errnos: &[&str], text: &str| NewFailure {
            syscall: "statx".to_owned(),
            args: args
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            errnos: errnos.iter().map(|e| (*e).to_owned()).collect(),
            text: text.to_owned(),
        };
        let seen = failure(
            &[("flags", "2048"), ("path", "/proc/self/")],
            &["EINVAL"],
            "statx(flags=AT_NO_AUTOMOUNT, path=/proc/self/): EINVAL",
        );
        let predicted = failure(
            &[("flags", "2048")],
            &["EINVAL"],
            "statx(flags=AT_NO_AUTOMOUNT): EINVAL",
        );
        let other_errno = failure(
            &[("flags", "2048")],
            &["ENOENT"],
            "statx(flags=AT_NO_AUTOMOUNT): ENOENT",
        );
        let texts: Vec<String> = merge_failures(vec![seen], vec![predicted, other_errno])
            .into_iter()
            .map(|f| f.text)
            .collect();
        assert_eq!(
            texts,
            [
                "statx(flags=AT_NO_AUTOMOUNT): ENOENT",
                "statx(flags=AT_NO_AUTOMOUNT, path=/proc/self/): EINVAL"
            ]
        );
    }
}
