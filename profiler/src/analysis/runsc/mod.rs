//! runsc logs (the facts and profile `crate::runsc_log::load` makes) × `syscall-db` →
//! findings for gVisor and the log's verdict, the likely root causes first.
//!
//! The strace part of the logs, as a profile, goes through the profile analysis (so a
//! call is judged the same whether a tracer or runsc saw it), and each finding is placed
//! where the logs show its calls ([`events`]). What only logs say becomes findings here:
//! runsc's own messages, judged by the message catalogue or, for unsupported-syscall
//! reports, by the database ([`events`]); calls runsc refused with an errno no rule
//! predicts ([`refusals`]); and every way the workload or runsc ended badly, with its
//! most likely cause ranked first ([`causes`], scoring failed calls in [`suspects`]). [`summary`] gives the verdict (never
//! "compatible": a log is the evidence of one run) and the caveats.

mod causes;
mod context;
mod events;
mod refusals;
mod summary;
mod suspects;

use syscall_db::{Database, Runtime};

use self::context::Context;
use super::finding::Report;
use super::flags::RunscFlags;
use super::{analyze, verdict, AnalysisOptions};
use crate::profile::SyscallProfile;
use crate::runsc_log::LogEvidence;

/// Analyses what a set of runsc logs holds.
pub fn analyze_logs(
    db: &Database,
    evidence: &LogEvidence,
    runsc_flags: &RunscFlags,
) -> anyhow::Result<Report> {
    let facts = &evidence.facts;
    // The profile analysis reads a profile's errnos as failures under runc, which would
    // excuse every call runsc refused as "no regression"; here they happened under
    // runsc, so it judges usage alone and the errnos come back through `locate`. It
    // would also report unparsed lines as lost events; the caveats say it precisely.
    let mut judged: SyscallProfile = evidence.profile.profile.clone();
    judged.lost = Default::default();
    for row in &mut judged.syscalls {
        row.errors.clear();
    }
    for sig in &mut judged.signatures {
        sig.errors.clear();
    }
    let mut report = analyze(
        db,
        &[(evidence.inputs.join(", "), judged)],
        &AnalysisOptions {
            runtimes: vec![Runtime::Gvisor],
            runsc_flags: runsc_flags.clone(),
        },
    )?;
    report.inputs = evidence.inputs.clone();
    report.gvisor_release = facts.gvisor_release.clone();
    let ctx = Context::new(db, evidence.arch, facts, runsc_flags);
    for finding in &mut report.findings {
        ctx.locate(finding);
    }
    let causes = ctx.root_causes();
    let mut from_events = Vec::new();
    for (index, event) in facts.events.iter().enumerate() {
        if causes.absorbed_events.contains(&index) {
            continue;
        }
        if let Some(finding) = ctx.event(event, &mut report.findings) {
            from_events.push(finding);
        }
    }
    report.findings.extend(events::merge_info(from_events));
    let refusals = ctx.refusals(&report.findings);
    report.findings.extend(refusals);
    if causes.findings.is_empty() {
        ctx.demote_tolerated(&mut report.findings);
    }
    verdict::sort_findings(&mut report.findings);
    let root_causes = causes.findings.len();
    let mut findings = causes.findings;
    findings.append(&mut report.findings);
    report.findings = findings;
    report.verdicts = vec![ctx.verdict(root_causes, &report.findings)];
    report.caveats.extend(ctx.caveats(&evidence.profile));
    Ok(report)
}
