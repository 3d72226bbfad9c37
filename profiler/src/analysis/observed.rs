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

use std::collections::{BTreeMap, BTreeSet};

use syscall_db::{Arch, Database, ErrnoCounts, FieldValue, FieldValues, Runtime};

use super::finding::{
    Category, DbReference, Evidence, Finding, Observation, ObservationKind, Report, Severity,
    ShownArg, Verdict, VerdictBasis, VerdictStatus,
};
use super::flags::RunscFlags;
use super::trial::{self, Match, RunEnding, TrialReport};
use super::{analyze, args, dbref, verdict, AnalysisOptions};
#[cfg(test)]
use crate::profile::ArgSignature;
use crate::profile::SyscallProfile;
use crate::runsc_log::facts::{is_refusal, LogFacts, TerminationKind};
use crate::runsc_log::to_profile::{self, errno_name};
use crate::sandbox::Trial;

/// Calls of one syscall with one set of captured fields, in one run.
#[derive(Clone, Debug, Default)]
struct Calls {
    calls: u64,
    errors: ErrnoCounts,
}

impl Calls {
    fn add(&mut self, calls: u64, errors: &ErrnoCounts) {
        self.calls += calls;
        for (errno, n) in errors {
            *self.errors.entry(errno.clone()).or_default() += n;
        }
    }
}

/// One run's calls: by syscall alone, and by syscall and captured fields.
#[derive(Default)]
struct CallIndex {
    by_syscall: BTreeMap<String, Calls>,
    by_signature: BTreeMap<(String, FieldValues), Calls>,
}

impl CallIndex {
    fn of(profile: &SyscallProfile) -> CallIndex {
        let mut index = CallIndex::default();
        for row in &profile.syscalls {
            index
                .by_syscall
                .entry(row.name.clone())
                .or_default()
                .add(row.calls, &row.errors);
        }
        for sig in &profile.signatures {
            index
                .by_signature
                .entry((sig.syscall.clone(), sig.fields.clone()))
                .or_default()
                .add(sig.calls, &sig.errors);
        }
        index
    }

    /// Calls of `syscall` whose fields include every one of `args` (all of them when
    /// `args` is empty).
    fn matching(&self, syscall: &str, args: &[ShownArg]) -> Calls {
        if args.is_empty() {
            return self.by_syscall.get(syscall).cloned().unwrap_or_default();
        }
        let mut out = Calls::default();
        for ((name, fields), calls) in &self.by_signature {
            if name == syscall
                && args
                    .iter()
                    .all(|a| fields.get(&a.name).is_some_and(|v| raw(v) == a.raw))
            {
                out.add(calls.calls, &calls.errors);
            }
        }
        out
    }
}

fn raw(value: &FieldValue) -> String {
    match value {
        FieldValue::Int(n) => n.to_string(),
        FieldValue::Str(s) => s.clone(),
    }
}

/// errnos that failed calls under runsc and never under runc, where runc's calls did
/// not all fail (a call that failed either way, with ENXIO under runc and EIO under
/// runsc, behaves the same for the program). The kernel's restart codes (512 and up:
/// ERESTARTSYS…) are left out: runsc's strace shows them, programs never see them.
fn new_errnos(runc: &Calls, runsc: &Calls) -> Vec<String> {
    let runc_failed: u64 = runc.errors.values().sum();
    if runc.calls > 0 && runc_failed >= runc.calls {
        return Vec::new();
    }
    runsc
        .errors
        .iter()
        .filter(|(errno, n)| **n > 0 && runc.errors.get(*errno).copied().unwrap_or(0) == 0)
        .filter(|(errno, _)| !is_restart(errno))
        .map(|(errno, _)| errno.clone())
        .collect()
}

/// ERESTARTSYS, ERESTARTNOINTR, ERESTARTNOHAND, ERESTART_RESTARTBLOCK: numbers the
/// database has no name for, written `errno_512`…
fn is_restart(errno: &str) -> bool {
    errno
        .strip_prefix("errno_")
        .and_then(|n| n.parse::<u32>().ok())
        .is_some_and(|n| (512..=516).contains(&n))
}

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
        .unwrap_or_else(|| verdict::verdict(Runtime::Gvisor, &[]));
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
    let mut failures: Vec<NewFailure> = differences
        .iter()
        .map(|d| NewFailure {
            syscall: d.syscall.clone(),
            args: d.fields.iter().map(|(n, v)| (n.clone(), raw(v))).collect(),
            errnos: d.errnos.clone(),
            text: format!("{}: {}", d.call, d.errnos.join(", ")),
        })
        .collect();
    failures.extend(predicted_failures);
    failures.sort_by(|a, b| a.text.cmp(&b.text));
    failures.dedup_by(|a, b| a.text == b.text);
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

/// A call that failed under runsc with errnos it never got under runc.
struct Difference {
    syscall: String,
    fields: FieldValues,
    call: String,
    errnos: Vec<String>,
    runc: Calls,
    runsc: Calls,
    path_missing: Option<String>,
}

fn differences(
    db: &Database,
    arch: Arch,
    runc: &CallIndex,
    runsc: &CallIndex,
    log_profile: &SyscallProfile,
) -> Vec<Difference> {
    let mut out = Vec::new();
    let with_fields: BTreeSet<&str> = log_profile
        .signatures
        .iter()
        .map(|s| s.syscall.as_str())
        .collect();
    for ((syscall, fields), under_runsc) in &runsc.by_signature {
        let under_runc = runc
            .by_signature
            .get(&(syscall.clone(), fields.clone()))
            .cloned()
            .unwrap_or_default();
        let path = fields.iter().find_map(|(name, value)| match value {
            FieldValue::Str(s) if name == "path" => Some(s.clone()),
            _ => None,
        });
        let errnos: Vec<String> = new_errnos(&under_runc, under_runsc)
            .into_iter()
            .filter(|errno| path.is_some() || refusal(db, errno))
            .collect();
        if errnos.is_empty() {
            continue;
        }
        let shown = args::shown_args(db, arch, syscall, fields, None);
        let path_missing = path.filter(|_| {
            errnos == ["ENOENT"]
                && under_runc.calls > 0
                && under_runsc.errors.values().sum::<u64>() == under_runsc.calls
        });
        out.push(Difference {
            syscall: syscall.clone(),
            fields: fields.clone(),
            call: describe(syscall, &shown),
            errnos,
            runc: under_runc,
            runsc: under_runsc.clone(),
            path_missing,
        });
    }
    for (syscall, under_runsc) in &runsc.by_syscall {
        if with_fields.contains(syscall.as_str()) {
            continue;
        }
        let under_runc = runc.by_syscall.get(syscall).cloned().unwrap_or_default();
        let errnos: Vec<String> = new_errnos(&under_runc, under_runsc)
            .into_iter()
            .filter(|errno| refusal(db, errno))
            .collect();
        if errnos.is_empty() {
            continue;
        }
        out.push(Difference {
            syscall: syscall.clone(),
            fields: FieldValues::new(),
            call: syscall.clone(),
            errnos,
            runc: under_runc,
            runsc: under_runsc.clone(),
            path_missing: None,
        });
    }
    out
}

fn refusal(db: &Database, errno: &str) -> bool {
    db.errno_number(errno)
        .and_then(|n| u16::try_from(n).ok())
        .is_some_and(is_refusal)
}

fn describe(syscall: &str, shown: &[ShownArg]) -> String {
    if shown.is_empty() {
        return syscall.to_owned();
    }
    let args: Vec<String> = shown
        .iter()
        .map(|a| format!("{}={}", a.name, a.symbol.as_deref().unwrap_or(&a.raw)))
        .collect();
    format!("{syscall}({})", args.join(", "))
}

/// Whether a predicted finding already speaks for this difference.
fn covered(findings: &[Finding], d: &Difference) -> bool {
    findings.iter().any(|f| {
        f.evidence.syscall.as_deref() == Some(d.syscall.as_str())
            && f.evidence
                .args
                .iter()
                .all(|a| d.fields.get(&a.name).is_some_and(|v| raw(v) == a.raw))
    })
}

fn difference_finding(db: &Database, arch: Arch, d: Difference) -> Finding {
    let runc_failed: u64 = d.runc.errors.values().sum();
    let runsc_failed: u64 = d.runsc.errors.values().sum();
    let errnos = d.errnos.join(", ");
    let (title, effect) = match &d.path_missing {
        Some(path) => (
            format!("{path} exists under runc, not under runsc"),
            format!(
                "Every one of the {} calls that named it failed with ENOENT under runsc; \
                 under runc {} of {} succeeded.",
                d.runsc.calls,
                d.runc.calls - runc_failed,
                d.runc.calls
            ),
        ),
        None => {
            let under_runc = if d.runc.calls == 0 {
                "runc's run never made this call".to_owned()
            } else if runc_failed == 0 {
                format!("all {} calls succeeded under runc", d.runc.calls)
            } else {
                let seen: Vec<String> = d
                    .runc
                    .errors
                    .iter()
                    .map(|(e, n)| format!("{e} ×{n}"))
                    .collect();
                format!(
                    "under runc {runc_failed} of {} failed, with {}",
                    d.runc.calls,
                    seen.join(", ")
                )
            };
            (
                format!("{} failed with {errnos} under runsc", d.call),
                format!(
                    "{runsc_failed} of {} calls failed under runsc with {errnos}; {under_runc}. \
                     The database predicted no failure here.",
                    d.runsc.calls
                ),
            )
        }
    };
    let reference = match db.gvisor(arch, &d.syscall) {
        Some(entry) => dbref::gvisor_reference(db, arch, entry),
        None => DbReference {
            entry: "runsc.strace.observed".to_owned(),
            revision: dbref::upstream_revision(db, Runtime::Gvisor, &[]),
            paths: vec!["pkg/sentry/strace/strace.go".to_owned()],
        },
    };
    Finding {
        runtime: Runtime::Gvisor,
        severity: Severity::Degraded,
        category: category(&d.syscall, d.path_missing.as_deref()),
        title,
        effect,
        evidence: Evidence {
            syscall: Some(d.syscall.clone()),
            args: args::shown_args(db, arch, &d.syscall, &d.fields, None),
            calls: d.runc.calls,
            errors: d.runc.errors.clone(),
            ..Evidence::default()
        },
        remediations: Vec::new(),
        reference,
        observation: Some(Observation {
            kind: ObservationKind::Unpredicted,
            calls: d.runsc.calls,
            errors: d.runsc.errors,
            detail: Vec::new(),
        }),
    }
}

fn category(syscall: &str, path: Option<&str>) -> Category {
    match path {
        Some(p) if p.starts_with("/proc") => Category::ProcPath,
        Some(p) if p.starts_with("/sys") => Category::SysPath,
        Some(p) if p.starts_with("/dev") => Category::DevPath,
        _ => super::gvisor::syscall_category(syscall),
    }
}

/// A call that failed under runsc and not under runc, to look for in the log.
struct NewFailure {
    syscall: String,
    /// Its captured arguments (name, raw value); empty for any.
    args: Vec<(String, String)>,
    errnos: Vec<String>,
    text: String,
}

/// The likely cause of a different result: of the calls that newly failed, the one
/// runsc's log shows failing last before a process of the workload died (exited
/// non-zero or was killed), in that process; else the first that newly failed.
fn cause(db: &Database, arch: Arch, facts: &LogFacts, failures: &[NewFailure]) -> Option<String> {
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
            let name = to_profile::resolve(db, arch, &stat.syscall)
                .map_or_else(|| stat.syscall.display(), |(n, _)| n);
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
fn outcome_finding(db: &Database, section: &TrialReport, predicted: VerdictStatus) -> Finding {
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
fn observed_verdict(section: &TrialReport, findings: &[Finding], same_result: bool) -> Verdict {
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

/// The signatures of a profile, for tests.
#[cfg(test)]
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
