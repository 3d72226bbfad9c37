//! Findings from runsc's own messages: the catalogue's (judged by what the message does
//! to the workload, with its cases) and the unsupported-syscall reports (judged by the
//! database's rules on the arguments runsc keys them by, else by gVisor's table), and
//! the profile analysis's findings placed where the logs show their calls.

use syscall_db::{FieldKind, FieldValue, FieldValues, GvisorStatus, Runtime};

use super::context::Context;
use crate::analysis::finding::{Evidence, Finding, Severity, ShownArg};
use crate::analysis::outcome::{self, Judgement};
use crate::analysis::{args, dbref, gvisor};
use crate::runsc_log::facts::{CallStat, EventKind, EventStat, SyscallId};

impl Context<'_> {
    /// Replaces a profile finding's occurrences with where the logs show its calls. A
    /// rule that predicts an errno no call in the logs got is contradicted by the log:
    /// the finding says so and drops to info.
    pub(super) fn locate(&self, finding: &mut Finding) {
        let Some(syscall) = finding.evidence.syscall.clone() else {
            return;
        };
        let matching: Vec<&CallStat> = self
            .facts
            .calls
            .iter()
            .filter(|stat| self.name(&stat.syscall) == syscall)
            .filter(|stat| {
                finding.evidence.args.iter().all(|arg| {
                    stat.fields
                        .get(&arg.name)
                        .is_some_and(|v| raw(v) == arg.raw)
                })
            })
            .collect();
        if matching.is_empty() {
            return;
        }
        let first = matching.iter().map(|s| s.first).min_by_key(|w| w.order());
        let last = matching
            .iter()
            .flat_map(|s| s.failures.iter().map(|f| f.last).chain([s.first]))
            .max_by_key(|w| w.order());
        finding.evidence.first = first.map(|w| self.occurrence(&w));
        finding.evidence.last = last.map(|w| self.occurrence(&w));
        finding.evidence.calls = matching.iter().map(|s| s.calls).sum();
        finding.evidence.errors = Default::default();
        for failure in matching.iter().flat_map(|s| &s.failures) {
            *finding
                .evidence
                .errors
                .entry(self.errno_name(failure.errno))
                .or_default() += failure.count;
        }
        let mut comms: Vec<String> = matching.iter().map(|s| s.comm.clone()).collect();
        comms.sort();
        comms.dedup();
        finding.evidence.executables = comms;
        let predicts_failure = self
            .db
            .rules()
            .iter()
            .find(|r| r.id == finding.reference.entry)
            .and_then(|r| outcome::refused_errno(&r.outcome))
            .is_some();
        if predicts_failure
            && finding.evidence.errors.is_empty()
            && finding.severity != Severity::Info
        {
            finding.severity = Severity::Info;
            finding.effect = format!(
                "runsc's log shows these {} calls succeeding{}, so the database's prediction \
                 does not hold here. {}",
                finding.evidence.calls,
                self.release_phrase(" under "),
                finding.effect
            );
        }
    }

    /// A finding for a runsc message, or `None` when it only adds to one the profile
    /// analysis already made (its count goes into that finding's detail).
    pub(super) fn event(&self, event: &EventStat, existing: &mut [Finding]) -> Option<Finding> {
        let evidence = Evidence {
            syscall: None,
            args: Vec::new(),
            calls: event.count,
            errors: Default::default(),
            first: Some(self.occurrence(&event.first)),
            last: Some(self.occurrence(&event.last)),
            executables: Vec::new(),
            detail: vec![event.sample.clone()],
        };
        match &event.kind {
            EventKind::UnsupportedSyscall { syscall, key_args } => {
                self.unsupported(syscall, key_args, event, evidence, existing)
            }
            EventKind::Catalogued { message, captures } => {
                let entry = &self.catalogue.messages()[*message];
                let judged = entry.judged(captures);
                let (severity, remediations) =
                    self.message_severity(judged.effect, &entry.remediations);
                Some(Finding {
                    runtime: Runtime::Gvisor,
                    severity,
                    category: dbref::category(&entry.category),
                    title: judged.title,
                    effect: judged.explanation,
                    evidence,
                    remediations,
                    reference: self.message_reference(*message),
                    observation: None,
                })
            }
        }
    }

    /// runsc's unsupported-syscall report: judged by the argument rules on the
    /// arguments runsc keys it by, else by gVisor's table. A call the database says a
    /// later gVisor supports points at an upgrade.
    fn unsupported(
        &self,
        syscall: &SyscallId,
        key_args: &[(u8, u64)],
        event: &EventStat,
        mut evidence: Evidence,
        existing: &mut [Finding],
    ) -> Option<Finding> {
        let name = self.name(syscall);
        let fields = self.fields(&name, key_args);
        let shown = args::shown_args(self.db, self.arch, &name, &fields, None);
        let note = format!("runsc reported it unsupported {} times", event.count);
        if let Some(found) = existing.iter_mut().find(|f| {
            f.evidence.syscall.as_deref() == Some(name.as_str())
                && shown.iter().all(|a| f.evidence.args.contains(a))
        }) {
            found.evidence.detail.push(note);
            return None;
        }
        evidence.syscall = Some(name.clone());
        evidence.args = shown.clone();
        let described = describe(&self.described_name(syscall), &shown);
        if let Some(rule) = self
            .db
            .matching_rules(Runtime::Gvisor, self.arch, &name, &fields)
            .first()
        {
            let judged = outcome::judge(self.db, &rule.outcome, &rule.remediations, self.flags);
            let reported = |phrase: String| format!("{described} {phrase} (runsc reported it)");
            let (severity, title, effect) = match judged {
                // The log is evidence the rule does not cover this call: say so rather
                // than call it working.
                Judgement::Fine => (
                    Severity::Degraded,
                    format!(
                        "{described} was refused by runsc{}",
                        self.release_phrase(" ")
                    ),
                    format!(
                        "runsc reported this call unsupported, while the database rule {} \
                         (gVisor at {}) says it works: either a later gVisor than this log's \
                         supports it, or arguments the rule does not look at decide. {}",
                        rule.id,
                        self.db.gvisor_revision(),
                        rule.note
                    ),
                ),
                Judgement::Finding(severity) => (
                    severity,
                    reported(outcome::phrase(&rule.outcome)),
                    rule.note.clone(),
                ),
                Judgement::Configured(_) => (
                    Severity::Info,
                    reported(outcome::phrase(&rule.outcome)),
                    rule.note.clone(),
                ),
            };
            return Some(Finding {
                runtime: Runtime::Gvisor,
                severity,
                category: dbref::category(&rule.category),
                title,
                effect,
                evidence,
                remediations: dbref::remediation_refs(self.db, &rule.remediations),
                reference: dbref::rule_reference(self.db, rule),
                observation: None,
            });
        }
        let entry = self.db.gvisor(self.arch, &name);
        let newer = self.database_is_newer();
        let (severity, title, effect, remediations) = match entry.map(|e| e.status) {
            Some(GvisorStatus::Unimplemented) | None => (
                Severity::Breaks,
                format!("{described} is unsupported (runsc reported it)"),
                format!("gVisor does not implement {name}; every call fails with ENOSYS."),
                dbref::other_runtime_refs(self.db, Runtime::Gvisor),
            ),
            Some(GvisorStatus::Full) if newer => (
                Severity::Degraded,
                format!(
                    "{described} is unsupported by runsc{}, a later gVisor implements it",
                    self.release_phrase(" ")
                ),
                format!(
                    "This runsc refused {name} (ENOSYS); the database's gVisor ({}) implements \
                     it, so a newer runsc runs it. Programs that probe for it (as glibc does \
                     for clone3 and faccessat2) fall back to an older call and carry on.",
                    self.db.gvisor_revision()
                ),
                dbref::remediation_refs(self.db, &["runsc.upgrade".to_owned()]),
            ),
            Some(_) => (
                Severity::Degraded,
                format!("{described} is unsupported (runsc reported it)"),
                format!(
                    "gVisor implements {name} only in part{}, and refused these arguments; \
                     the call failed.",
                    if newer {
                        " (and a later gVisor than this log's may implement more of it)"
                    } else {
                        ""
                    }
                ),
                dbref::other_runtime_refs(self.db, Runtime::Gvisor),
            ),
        };
        let reference = match entry {
            Some(entry) => dbref::gvisor_reference(self.db, self.arch, entry),
            None => self.source_reference(
                "gvisor.message.syscall.unsupported",
                vec!["runsc/boot/compat.go".to_owned()],
            ),
        };
        Some(Finding {
            runtime: Runtime::Gvisor,
            severity,
            category: gvisor::syscall_category(&name),
            title,
            effect,
            evidence,
            remediations,
            reference,
            observation: None,
        })
    }

    /// runsc's key arguments as the capture spec's fields.
    fn fields(&self, syscall: &str, key_args: &[(u8, u64)]) -> FieldValues {
        let Some(capture) = self.db.capture(syscall) else {
            return FieldValues::new();
        };
        key_args
            .iter()
            .filter_map(|&(index, value)| {
                let field = capture
                    .fields
                    .iter()
                    .find(|f| f.kind == FieldKind::Arg && f.arg == u32::from(index))?;
                Some((field.name.clone(), FieldValue::Int(value)))
            })
            .collect()
    }

    /// ` under runsc release-20221219.0` (with `lead` in front), or nothing when the log
    /// names no release.
    pub(super) fn release_phrase(&self, lead: &str) -> String {
        self.facts
            .gvisor_release
            .as_ref()
            .map_or_else(String::new, |r| format!("{lead}{r}"))
    }

    /// Whether the database is viewed at a later gVisor release than the one the logs
    /// name: what it says gVisor supports may be newer than the runsc that wrote them.
    pub(super) fn database_is_newer(&self) -> bool {
        self.logged_release()
            .is_some_and(|logged| self.db.release() > logged)
    }

    /// The release the logs' `Version` header names.
    pub(super) fn logged_release(&self) -> Option<syscall_db::Release> {
        self.facts
            .gvisor_release
            .as_deref()
            .and_then(|tag| syscall_db::Release::parse(tag).ok())
    }
}

/// Merges info-level findings of one catalogue message (every ignored mount option,
/// say) into one, listing each occurrence's title in its detail.
pub(super) fn merge_info(findings: Vec<Finding>) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    let mut titles: Vec<Vec<String>> = Vec::new();
    for finding in findings {
        let mergeable = finding.severity == Severity::Info
            && finding.reference.entry.starts_with("gvisor.message.");
        let into = out.iter().position(|f| {
            mergeable
                && f.severity == Severity::Info
                && f.reference.entry == finding.reference.entry
        });
        match into {
            Some(i) => {
                titles[i].push(finding.title);
                let merged = &mut out[i];
                merged.evidence.calls += finding.evidence.calls;
                let place = |o: &Option<crate::analysis::finding::Occurrence>| {
                    o.as_ref().map(|o| (o.file.clone(), o.line))
                };
                if place(&finding.evidence.last) > place(&merged.evidence.last) {
                    merged.evidence.last = finding.evidence.last;
                }
            }
            None => {
                titles.push(vec![finding.title.clone()]);
                out.push(finding);
            }
        }
    }
    for (finding, titles) in out.iter_mut().zip(titles) {
        if titles.len() > 1 {
            finding.title = format!("{} (and {} more like it)", titles[0], titles.len() - 1);
            let sample = std::mem::take(&mut finding.evidence.detail);
            finding.evidence.detail = titles;
            finding.evidence.detail.extend(sample);
        }
    }
    out
}

fn raw(value: &FieldValue) -> String {
    match value {
        FieldValue::Int(n) => n.to_string(),
        FieldValue::Str(s) => s.clone(),
    }
}

/// `ioctl(request=TCGETS)`.
fn describe(name: &str, shown: &[ShownArg]) -> String {
    if shown.is_empty() {
        return name.to_owned();
    }
    let args: Vec<String> = shown
        .iter()
        .map(|a| format!("{}={}", a.name, a.symbol.as_deref().unwrap_or(&a.raw)))
        .collect();
    format!("{name}({})", args.join(", "))
}
