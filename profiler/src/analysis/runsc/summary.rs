//! The log's verdict and caveats. A log is evidence of one run, so its verdict is never
//! "compatible": no evidence (nothing in it was runsc's), the workload failed (a root
//! cause leads), something that breaks workloads without a failure in the log, evidence
//! lost to the memory caps, or "no failure found", which says how much the log covered.

use syscall_db::Runtime;

use super::context::Context;
use crate::analysis::finding::{Finding, Severity, Verdict, VerdictBasis, VerdictStatus};
use crate::analysis::verdict;
use crate::runsc_log::message::ExitStatus;
use crate::runsc_log::to_profile::LogProfile;

/// Blocker titles a summary names before "and N more".
const NAMED: usize = 3;

impl Context<'_> {
    /// The verdict for gVisor; `root_causes` is how many findings lead with a failure.
    pub(super) fn verdict(&self, root_causes: usize, findings: &[Finding]) -> Verdict {
        let mut verdict = verdict::verdict(Runtime::Gvisor, findings);
        verdict.basis = VerdictBasis::Log;
        let release = self.release_phrase(" ");
        let (status, summary) = if self.facts.recognised() == 0 {
            (
                VerdictStatus::NoEvidence,
                format!(
                    "No evidence: {} lines, none a runsc log line.",
                    self.facts.lines()
                ),
            )
        } else if root_causes > 0 {
            let titles: Vec<&str> = findings[..root_causes]
                .iter()
                .map(|f| f.title.as_str())
                .collect();
            (
                VerdictStatus::Breaks,
                format!(
                    "The workload failed under gVisor{release}: {}.",
                    named(&titles)
                ),
            )
        } else if !verdict.blockers.is_empty() {
            let titles: Vec<&str> = verdict.blockers.iter().map(String::as_str).collect();
            (
                VerdictStatus::LikelyToBreak,
                format!(
                    "No failure is in the log, but runsc reported what breaks workloads: {}.",
                    named(&titles)
                ),
            )
        } else if self.evidence_lost() {
            (
                VerdictStatus::Incomplete,
                format!(
                    "No failure found in what was kept of the log, but the memory caps were \
                     reached (see the caveats): {}",
                    self.coverage()
                ),
            )
        } else {
            (
                VerdictStatus::NoFailureFound,
                format!("No failure found in the log: {}", self.coverage()),
            )
        };
        let mut summary = summary;
        let settings: Vec<String> = verdict
            .configuration
            .iter()
            .map(|fix| {
                fix.flag
                    .clone()
                    .or_else(|| fix.annotation.clone())
                    .unwrap_or_else(|| fix.summary.clone())
            })
            .collect();
        if !settings.is_empty() && status != VerdictStatus::NoEvidence {
            summary.push_str(&format!(" It needs {}.", settings.join(", ")));
        }
        let degraded = findings
            .iter()
            .filter(|f| f.severity == Severity::Degraded)
            .count();
        if degraded > 0 && status != VerdictStatus::NoEvidence {
            summary.push_str(&format!(
                " {degraded} degraded finding{} may explain other differences; see below.",
                if degraded == 1 { "" } else { "s" }
            ));
        }
        verdict.status = status;
        verdict.summary = summary;
        verdict
    }

    fn evidence_lost(&self) -> bool {
        let o = &self.facts.overflow;
        o.calls + o.events + o.terminations + o.tasks > 0
    }

    /// How much the log covered: lines, strace calls, programs, the release, and the
    /// application's own exit when runsc logged it.
    fn coverage(&self) -> String {
        let facts = self.facts;
        let calls: u64 = facts.calls.iter().map(|c| c.calls).sum();
        let mut programs: Vec<&str> = facts.calls.iter().map(|c| c.comm.as_str()).collect();
        programs.sort_unstable();
        programs.dedup();
        let mut text = format!("{} lines", facts.lines());
        if calls > 0 {
            text.push_str(&format!(
                " ({} strace lines: {calls} calls by {})",
                facts.strace_lines(),
                match programs.as_slice() {
                    [one] => (*one).to_owned(),
                    many => format!("{} programs", many.len()),
                }
            ));
        } else {
            text.push_str(" (no strace lines)");
        }
        if let Some(release) = &facts.gvisor_release {
            text.push_str(&format!(" from runsc {release}"));
        }
        match facts.application_exits.last() {
            Some((ExitStatus::Code(code), _)) => {
                text.push_str(&format!("; the application exited with status {code}."))
            }
            Some((ExitStatus::Signal { signal, .. }, _)) => {
                text.push_str(&format!("; the application was killed by signal {signal}."))
            }
            None => text.push_str("; the application's exit is not in the log."),
        }
        text
    }

    /// With no failure in the log, a call the database predicts would break the workload
    /// evidently did not: the program carried on past it.
    pub(super) fn demote_tolerated(&self, findings: &mut [Finding]) {
        for finding in findings {
            let from_a_call = finding.evidence.syscall.is_some()
                && !finding.reference.entry.starts_with("gvisor.message.");
            if finding.severity == Severity::Breaks && from_a_call {
                finding.severity = Severity::Degraded;
                finding.effect = format!(
                    "{} No process failed in this log, so the workload carried on past it.",
                    finding.effect
                );
            }
        }
    }

    /// What limits the evidence: unparsed lines, cut-off calls, caps reached, syscalls the
    /// profile could not hold, no strace at all, a database newer than the log's runsc.
    pub(super) fn caveats(&self, profile: &LogProfile) -> Vec<String> {
        let facts = self.facts;
        let mut out = Vec::new();
        for file in &facts.files {
            if file.unparsed > 0 {
                let samples: Vec<String> = file
                    .unparsed_samples
                    .iter()
                    .map(|(line, why)| format!("line {line}: {why}"))
                    .collect();
                out.push(format!(
                    "{}: {} of {} lines could not be parsed ({}).",
                    file.name,
                    file.unparsed,
                    file.lines,
                    samples.join("; ")
                ));
            }
        }
        if facts.truncated_calls > 0 {
            out.push(format!(
                "{} strace exit lines were cut off before their result and are not counted.",
                facts.truncated_calls
            ));
        }
        if facts.unfinished_calls > 0 {
            out.push(format!(
                "{} syscalls were entered but had not returned when their log ended.",
                facts.unfinished_calls
            ));
        }
        let o = &facts.overflow;
        if o.calls + o.events + o.terminations + o.tasks > 0 {
            out.push(format!(
                "Memory caps reached: {} calls, {} messages, {} terminations and {} tasks were \
                 counted but not itemised.",
                o.calls, o.events, o.terminations, o.tasks
            ));
        }
        if !profile.left_out.is_empty() {
            let listed: Vec<String> = profile
                .left_out
                .iter()
                .map(|(name, calls)| format!("{name} ({calls} calls)"))
                .collect();
            out.push(format!(
                "Syscalls the database has no number for in this arch were called: {}.",
                listed.join(", ")
            ));
        }
        if facts.recognised() > 0 && facts.strace_lines() == 0 {
            out.push(
                "The logs hold no --strace lines: only runsc's own messages were judged. Run \
                 runsc with --debug --strace for per-call evidence."
                    .to_owned(),
            );
        }
        if self.database_is_newer() {
            out.push(format!(
                "The logs come from runsc {}, older than gVisor {} they are judged at: where \
                 they disagree, the log is what this runsc did, and the later release may do \
                 what the database says.",
                facts.gvisor_release.as_deref().unwrap_or("?"),
                self.db.release()
            ));
        }
        out
    }
}

fn named(titles: &[&str]) -> String {
    let mut text = titles
        .iter()
        .take(NAMED)
        .copied()
        .collect::<Vec<_>>()
        .join("; ");
    if titles.len() > NAMED {
        text.push_str(&format!("; and {} more", titles.len() - NAMED));
    }
    text
}
