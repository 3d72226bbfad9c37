//! From findings to the answer per runtime: the canonical order of findings, and each
//! runtime's verdict with its blockers, the configuration it needs and a one-paragraph
//! summary. Works on findings alone, so profiles and runsc logs share it.

use std::cmp::Ordering;

use syscall_db::{RemediationKind, Runtime};

use super::finding::{Finding, RemediationRef, Severity, Verdict, VerdictBasis, VerdictStatus};

/// How many blocker titles a summary names before saying "and N more".
const NAMED_IN_SUMMARY: usize = 3;

/// Sorts findings worst first: by severity, category, title, then runtime and database
/// entry so the order is total and reports are byte-stable.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(compare);
}

fn compare(a: &Finding, b: &Finding) -> Ordering {
    (
        a.severity,
        a.category,
        &a.title,
        a.runtime,
        &a.reference.entry,
    )
        .cmp(&(
            b.severity,
            b.category,
            &b.title,
            b.runtime,
            &b.reference.entry,
        ))
}

/// One verdict per runtime, in the order given.
pub fn verdicts(runtimes: &[Runtime], findings: &[Finding]) -> Vec<Verdict> {
    runtimes
        .iter()
        .map(|&runtime| verdict(runtime, findings))
        .collect()
}

/// One verdict per runtime from facts known to miss something: `lost` names what (e.g.
/// "signature map full: 12"). Nothing found breaking the workload is then no pass — a
/// lost call could be the one that breaks it — so a verdict that would have been
/// compatible (with or without configuration) is [`VerdictStatus::Incomplete`]. A
/// likely-to-break verdict stands. Either summary names the loss.
pub fn verdicts_with_loss(runtimes: &[Runtime], findings: &[Finding], lost: &str) -> Vec<Verdict> {
    let mut verdicts = verdicts(runtimes, findings);
    for verdict in &mut verdicts {
        match verdict.status {
            VerdictStatus::Compatible | VerdictStatus::CompatibleWithConfiguration => {
                let name = runtime_name(verdict.runtime);
                let mut text = format!(
                    "Nothing found breaks the workload under {name}, but evidence was lost \
                     ({lost}), and what was lost could: this is not a pass. Capture again \
                     with larger maps."
                );
                if !verdict.configuration.is_empty() {
                    text.push_str(&format!(
                        " It also needs {}.",
                        settings(&verdict.configuration)
                    ));
                }
                verdict.status = VerdictStatus::Incomplete;
                verdict.summary = text;
            }
            _ => verdict.summary.push_str(&format!(
                " Evidence was also lost ({lost}): there may be more."
            )),
        }
    }
    verdicts
}

/// A verdict for a runtime when there was nothing to judge: `why` says what was read
/// and why it holds no evidence (e.g. "the profile records no syscalls").
pub fn no_evidence(runtime: Runtime, why: &str) -> Verdict {
    Verdict {
        runtime,
        status: VerdictStatus::NoEvidence,
        basis: VerdictBasis::Predicted,
        configuration: Vec::new(),
        blockers: Vec::new(),
        summary: format!(
            "No evidence: {why}, so there is nothing to judge {} by; this is not a pass.",
            runtime_name(runtime)
        ),
    }
}

fn runtime_name(runtime: Runtime) -> &'static str {
    match runtime {
        Runtime::Gvisor => "gVisor",
        Runtime::Kata => "Kata Containers",
    }
}

/// The settings a verdict's configuration names, as a reader would type them.
fn settings(configuration: &[RemediationRef]) -> String {
    configuration
        .iter()
        .map(|fix| {
            fix.flag
                .clone()
                .or_else(|| fix.annotation.clone())
                .unwrap_or_else(|| fix.summary.clone())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The verdict for `runtime` from the findings about it.
pub fn verdict(runtime: Runtime, findings: &[Finding]) -> Verdict {
    let mine: Vec<&Finding> = findings.iter().filter(|f| f.runtime == runtime).collect();
    let count = |severity| mine.iter().filter(|f| f.severity == severity).count();
    let blockers: Vec<String> = mine
        .iter()
        .filter(|f| f.severity == Severity::Breaks)
        .map(|f| f.title.clone())
        .collect();
    let configuration = configuration(&mine);
    let status = if !blockers.is_empty() {
        VerdictStatus::LikelyToBreak
    } else if mine.iter().any(|f| f.severity == Severity::NeedsConfig) {
        VerdictStatus::CompatibleWithConfiguration
    } else {
        VerdictStatus::Compatible
    };
    let summary = summary(
        runtime,
        status,
        &blockers,
        &configuration,
        count(Severity::NeedsConfig),
        count(Severity::Degraded),
    );
    Verdict {
        runtime,
        status,
        basis: VerdictBasis::Predicted,
        configuration,
        blockers,
        summary,
    }
}

/// What to configure: for each finding that needs configuration, its first remediation
/// that is a setting (runsc flag, annotation, pod spec, node configuration), else its
/// first remediation; each once, in finding order.
fn configuration(findings: &[&Finding]) -> Vec<RemediationRef> {
    let mut out: Vec<RemediationRef> = Vec::new();
    for finding in findings
        .iter()
        .filter(|f| f.severity == Severity::NeedsConfig)
    {
        let chosen = finding
            .remediations
            .iter()
            .find(|r| is_setting(r.kind))
            .or_else(|| finding.remediations.first());
        if let Some(fix) = chosen {
            if !out.iter().any(|known| known.id == fix.id) {
                out.push(fix.clone());
            }
        }
    }
    out
}

fn is_setting(kind: RemediationKind) -> bool {
    matches!(
        kind,
        RemediationKind::RunscFlag
            | RemediationKind::Annotation
            | RemediationKind::PodSpec
            | RemediationKind::NodeConfig
    )
}

fn summary(
    runtime: Runtime,
    status: VerdictStatus,
    blockers: &[String],
    configuration: &[RemediationRef],
    needs_config: usize,
    degraded: usize,
) -> String {
    let name = runtime_name(runtime);
    let settings = settings(configuration);
    let mut text = match status {
        VerdictStatus::Compatible => {
            format!("Nothing the workload was seen doing is known to fail under {name}.")
        }
        VerdictStatus::CompatibleWithConfiguration => format!(
            "The workload should run under {name} once configured with {settings}; without \
             it, {} fail.",
            findings_phrase(needs_config, "finding", "findings")
        ),
        VerdictStatus::LikelyToBreak => {
            let named: Vec<&str> = blockers
                .iter()
                .take(NAMED_IN_SUMMARY)
                .map(String::as_str)
                .collect();
            let mut text = format!(
                "The workload is likely to break under {name}: {} {} ({}",
                findings_phrase(blockers.len(), "finding", "findings"),
                if blockers.len() == 1 {
                    "breaks it"
                } else {
                    "break it"
                },
                named.join("; ")
            );
            if blockers.len() > NAMED_IN_SUMMARY {
                text.push_str(&format!("; and {} more", blockers.len() - NAMED_IN_SUMMARY));
            }
            text.push_str(").");
            if needs_config > 0 {
                text.push_str(&format!(" It also needs {settings}."));
            }
            text
        }
        // Producers of these statuses write their own summaries; these are fallbacks.
        VerdictStatus::Incomplete => format!(
            "Nothing found breaks the workload under {name}, but evidence was lost, so \
             this is not a pass."
        ),
        VerdictStatus::NoEvidence => format!("There was no evidence to judge {name} by."),
        VerdictStatus::NoFailureFound => {
            "The runsc logs show no failure; this is not a claim of compatibility.".to_owned()
        }
        VerdictStatus::Works => format!("Under {name}, the workload ran to runc's result."),
        VerdictStatus::WorksDegraded => {
            format!("Under {name}, the workload ran to runc's result, with failures on the way.")
        }
        VerdictStatus::Breaks => {
            format!("Under {name}, the workload failed or its result differed.")
        }
    };
    if degraded > 0 {
        text.push_str(&format!(
            " {} may behave differently; see below.",
            findings_phrase(degraded, "degraded finding", "degraded findings")
        ));
    }
    text
}

fn findings_phrase(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::finding::{Category, DbReference, Evidence};

    fn finding(severity: Severity, title: &str, fix: Option<(&str, &str)>) -> Finding {
        Finding {
            runtime: Runtime::Gvisor,
            severity,
            category: Category::Socket,
            title: title.to_owned(),
            effect: String::new(),
            evidence: Evidence::default(),
            remediations: fix
                .map(|(id, flag)| RemediationRef {
                    id: id.to_owned(),
                    kind: RemediationKind::RunscFlag,
                    flag: Some(flag.to_owned()),
                    annotation: None,
                    summary: "s".to_owned(),
                })
                .into_iter()
                .collect(),
            reference: DbReference {
                entry: "e".to_owned(),
                revision: String::new(),
                paths: Vec::new(),
            },
            observation: None,
        }
    }

    #[test]
    fn compatible_with_configuration_lists_each_setting_once() {
        let findings = [
            finding(
                Severity::NeedsConfig,
                "a",
                Some(("runsc.net-raw", "--net-raw")),
            ),
            finding(
                Severity::NeedsConfig,
                "b",
                Some(("runsc.net-raw", "--net-raw")),
            ),
            finding(Severity::Degraded, "c", None),
        ];
        let v = verdict(Runtime::Gvisor, &findings);
        assert_eq!(v.status, VerdictStatus::CompatibleWithConfiguration);
        assert_eq!(v.configuration.len(), 1);
        assert_eq!(
            v.summary,
            "The workload should run under gVisor once configured with --net-raw; without \
             it, 2 findings fail. 1 degraded finding may behave differently; see below."
        );
        assert_eq!(
            verdict(Runtime::Kata, &findings).status,
            VerdictStatus::Compatible
        );
    }

    #[test]
    fn likely_to_break_names_blockers() {
        let findings = [
            finding(Severity::Breaks, "x fails", None),
            finding(Severity::Breaks, "y fails", None),
            finding(Severity::Breaks, "z fails", None),
            finding(Severity::Breaks, "w fails", None),
        ];
        let v = verdict(Runtime::Gvisor, &findings);
        assert_eq!(v.status, VerdictStatus::LikelyToBreak);
        assert_eq!(v.blockers.len(), 4);
        assert_eq!(
            v.summary,
            "The workload is likely to break under gVisor: 4 findings break it (x fails; y \
             fails; z fails; and 1 more)."
        );
    }
}
