//! The analysis of profiles: several profiles are merged into one (counts add up), the
//! merged profile is indexed once, each runtime asked for contributes its findings, and
//! the findings are sorted and turned into verdicts. Caveats say what limits the
//! evidence: lost events, syscalls the database does not know, fields not read, a
//! capture made against another database version.

use std::borrow::Cow;

use anyhow::Context as _;
use syscall_db::{Database, Runtime};

use super::finding::{Finding, Report, Verdict, REPORT_SCHEMA, REPORT_SCHEMA_VERSION};
use super::flags::RunscFlags;
use super::rules::Judge;
use super::usage::{SyscallUse, Usage};
use super::{gvisor, kata, verdict};
use crate::profile::{merge, DatabaseStamp, LostCounts, SyscallProfile, ToolStamp};

/// What to analyse for.
#[derive(Clone, Debug)]
pub struct AnalysisOptions {
    /// Runtimes, in report order.
    pub runtimes: Vec<Runtime>,
    /// runsc flags assumed set.
    pub runsc_flags: RunscFlags,
}

impl Default for AnalysisOptions {
    fn default() -> Self {
        AnalysisOptions {
            runtimes: Runtime::ALL.to_vec(),
            runsc_flags: RunscFlags::none(),
        }
    }
}

/// Analyses named profiles (names are their file paths, shown as the report's inputs)
/// against `db`.
pub fn analyze(
    db: &Database,
    inputs: &[(String, SyscallProfile)],
    opts: &AnalysisOptions,
) -> anyhow::Result<Report> {
    // One profile is judged as it is (no copy); several are merged first, so a rule sees
    // the calls of every node and replica together, as the workload makes them.
    let profile: Cow<'_, SyscallProfile> = match inputs {
        [(_, only)] => Cow::Borrowed(only),
        _ => Cow::Owned(
            merge::merge(inputs, ToolStamp::current()).context("cannot combine the profiles")?,
        ),
    };
    // A finding's first occurrence names its file only when there is one: after a
    // merge, the first use could have come from any input.
    let file = match inputs {
        [(name, _)] => Some(name.as_str()),
        _ => None,
    };
    let usage = Usage::new(&profile, file);
    let judge = Judge {
        db,
        arch: profile.arch,
        flags: &opts.runsc_flags,
        usage: &usage,
    };

    let mut findings = Vec::new();
    let mut unknown: Vec<&SyscallUse<'_>> = Vec::new();
    for &runtime in &opts.runtimes {
        match runtime {
            Runtime::Gvisor => gvisor::findings(&judge, &mut findings, &mut unknown),
            Runtime::Kata => kata::findings(&judge, &mut findings),
        }
    }
    verdict::sort_findings(&mut findings);
    let verdicts = verdicts(&profile, &findings, &opts.runtimes);

    let mut caveats = Vec::new();
    if let Some(caveat) = lost_caveat(&profile.lost) {
        caveats.push(caveat);
    }
    if !unknown.is_empty() {
        let listed: Vec<String> = unknown
            .iter()
            .map(|u| format!("{} ({} calls)", u.name, u.calls))
            .collect();
        caveats.push(format!(
            "Syscalls the database does not know were called, and are not judged: {}.",
            listed.join(", ")
        ));
    }
    let incomplete = profile
        .signatures
        .iter()
        .filter(|sig| !sig.incomplete.is_empty())
        .count();
    if incomplete > 0 {
        caveats.push(format!(
            "{incomplete} argument signatures have fields that could not be read or were cut \
             short; rules on those fields may not have matched."
        ));
    }
    for (name, profile) in inputs {
        if profile.database.version != db.version() {
            caveats.push(format!(
                "{name} was captured with database {}, this report uses {}: arguments the \
                 newer capture spec records may be missing from it.",
                profile.database.version,
                db.version()
            ));
        }
    }

    Ok(Report {
        schema: REPORT_SCHEMA.to_owned(),
        schema_version: REPORT_SCHEMA_VERSION,
        tool: ToolStamp::current(),
        database: DatabaseStamp::of(db),
        gvisor_release: opts
            .runtimes
            .contains(&Runtime::Gvisor)
            .then(|| db.release().tag()),
        inputs: inputs.iter().map(|(name, _)| name.clone()).collect(),
        captures: profile.captures.clone(),
        assumed_runsc_flags: opts.runsc_flags.to_strings(),
        verdicts,
        findings,
        caveats,
    })
}

/// The verdicts: no evidence when the profile records no calls (an empty cgroup, a
/// process that was gone: judging nothing is no pass), incomplete ones when it lost
/// anything, else the findings' own.
fn verdicts(profile: &SyscallProfile, findings: &[Finding], runtimes: &[Runtime]) -> Vec<Verdict> {
    let lost = lost_causes(&profile.lost);
    let calls = profile
        .syscalls
        .iter()
        .fold(0u64, |total, row| total.saturating_add(row.calls));
    if calls == 0 {
        let why = match &lost {
            Some(lost) => format!("the profile records no syscalls, and lost {lost}"),
            None => "the profile records no syscalls".to_owned(),
        };
        return runtimes
            .iter()
            .map(|&runtime| verdict::no_evidence(runtime, &why))
            .collect();
    }
    match &lost {
        Some(lost) => verdict::verdicts_with_loss(runtimes, findings, lost),
        None => verdict::verdicts(runtimes, findings),
    }
}

/// The lost-events caveat, naming each cause with a count.
fn lost_caveat(lost: &LostCounts) -> Option<String> {
    let listed = lost_causes(lost)?;
    Some(format!(
        "The capture lost {} events ({listed}). The profile may miss calls or arguments, so \
         a missing finding is weaker evidence than usual; capture again with larger maps.",
        lost.total()
    ))
}

/// Each cause of loss with its count, e.g. "signature map full: 12"; `None` when
/// nothing was lost. Every cause counts: even a lost ring-buffer record can hide a
/// blocker (it may have been an exec, and with it a 32-bit binary).
fn lost_causes(lost: &LostCounts) -> Option<String> {
    if lost.total() == 0 {
        return None;
    }
    let causes = [
        ("ring buffer full", lost.ring_buffer_full),
        ("count map full", lost.counts_map_full),
        ("signature map full", lost.signature_map_full),
        ("task map full", lost.task_map_full),
        ("exec not attributed", lost.exec_unattributed),
        ("syscall number out of range", lost.nr_out_of_range),
        ("undecodable record", lost.undecodable_records),
    ];
    let listed: Vec<String> = causes
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(cause, n)| format!("{cause}: {n}"))
        .collect();
    Some(listed.join(", "))
}
