//! What changing runsc from one gVisor release to another changes for a workload: the
//! same facts judged at both releases, compared. A gVisor finding of the first report
//! with no counterpart in the second is fixed by the change, one only in the second is
//! new, and one in both whose severity or title differs is changed. Findings are
//! matched by the database entry they rest on and the syscall they are about; derived
//! per-release rules (a /proc file a release lacks) have no counterpart by design, so
//! they count as fixed or new.

use serde::{Deserialize, Serialize};
use syscall_db::Runtime;

use super::finding::{Finding, Report, Verdict};

/// Value of [`UpgradeReport::schema`].
pub const UPGRADE_SCHEMA: &str = "sandprof.upgrade";
/// Current upgrade report schema version.
pub const UPGRADE_SCHEMA_VERSION: u32 = 1;

/// A gVisor finding at both releases.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChangedFinding {
    /// As judged at the release changed from.
    pub before: Finding,
    /// As judged at the release changed to.
    pub after: Finding,
}

/// What changing runsc's release changes for the workload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UpgradeReport {
    /// Always [`UPGRADE_SCHEMA`].
    pub schema: String,
    /// [`UPGRADE_SCHEMA_VERSION`] of the writer.
    pub schema_version: u32,
    /// The release changed from.
    pub from: String,
    /// The release changed to.
    pub to: String,
    /// The gVisor verdict at `from`.
    pub verdict_before: Option<Verdict>,
    /// The gVisor verdict at `to`.
    pub verdict_after: Option<Verdict>,
    /// Findings at `from` that `to` no longer has.
    pub fixed: Vec<Finding>,
    /// Findings only `to` has.
    pub new: Vec<Finding>,
    /// Findings at both whose severity or title differs.
    pub changed: Vec<ChangedFinding>,
    /// How many findings are the same at both.
    pub unchanged: usize,
    /// The full report at `from`.
    pub before: Report,
    /// The full report at `to`.
    pub after: Report,
}

impl UpgradeReport {
    /// Whether the change is to a later release.
    pub fn is_upgrade(&self) -> bool {
        self.to > self.from
    }
}

/// Compares `before` and `after`, the same facts judged at two releases (their
/// `gvisor_release` says which).
pub fn compare(before: Report, after: Report) -> UpgradeReport {
    let gvisor = |report: &Report| -> Vec<Finding> {
        report
            .findings
            .iter()
            .filter(|f| f.runtime == Runtime::Gvisor)
            .cloned()
            .collect()
    };
    let (old, mut remaining) = (gvisor(&before), gvisor(&after));
    let mut fixed = Vec::new();
    let mut changed = Vec::new();
    let mut unchanged = 0;
    for finding in old {
        match remaining.iter().position(|f| same_subject(f, &finding)) {
            Some(i) => {
                let counterpart = remaining.remove(i);
                if counterpart.severity == finding.severity && counterpart.title == finding.title {
                    unchanged += 1;
                } else {
                    changed.push(ChangedFinding {
                        before: finding,
                        after: counterpart,
                    });
                }
            }
            None => fixed.push(finding),
        }
    }
    let verdict = |report: &Report| {
        report
            .verdicts
            .iter()
            .find(|v| v.runtime == Runtime::Gvisor)
            .cloned()
    };
    UpgradeReport {
        schema: UPGRADE_SCHEMA.to_owned(),
        schema_version: UPGRADE_SCHEMA_VERSION,
        from: before.gvisor_release.clone().unwrap_or_default(),
        to: after.gvisor_release.clone().unwrap_or_default(),
        verdict_before: verdict(&before),
        verdict_after: verdict(&after),
        fixed,
        new: remaining,
        changed,
        unchanged,
        before,
        after,
    }
}

/// Whether two findings are about the same thing: the same database entry and syscall
/// (a rule's findings are one per syscall; a table row's, one per syscall).
fn same_subject(a: &Finding, b: &Finding) -> bool {
    a.reference.entry == b.reference.entry && a.evidence.syscall == b.evidence.syscall
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::finding::{Category, DbReference, Evidence, Severity};

    fn finding(entry: &str, severity: Severity, title: &str) -> Finding {
        Finding {
            runtime: Runtime::Gvisor,
            severity,
            category: Category::Syscall,
            title: title.to_owned(),
            effect: String::new(),
            evidence: Evidence {
                syscall: Some("x".to_owned()),
                ..Evidence::default()
            },
            remediations: Vec::new(),
            reference: DbReference {
                entry: entry.to_owned(),
                revision: String::new(),
                paths: Vec::new(),
            },
            observation: None,
        }
    }

    fn report(release: &str, findings: Vec<Finding>) -> Report {
        let mut report: Report = serde_json::from_str(include_str!(
            "../../../tests/fixtures/k8s/node/report-needs-net-raw.json"
        ))
        .unwrap();
        report.gvisor_release = Some(release.to_owned());
        report.findings = findings;
        report
    }

    #[test]
    fn fixed_new_changed_and_unchanged() {
        let before = report(
            "release-20221219.0",
            vec![
                finding(
                    "gvisor.syscall.x86_64.ioprio_set",
                    Severity::Breaks,
                    "refused",
                ),
                finding(
                    "gvisor.proc.global-added-in-release-20260126.0",
                    Severity::Breaks,
                    "ENOENT",
                ),
                finding("gvisor.socket.packet", Severity::NeedsConfig, "packet"),
                finding("gvisor.keyctl.unsupported", Severity::Breaks, "keys"),
            ],
        );
        let after = report(
            "release-20260817.0",
            vec![
                finding(
                    "gvisor.syscall.x86_64.ioprio_set",
                    Severity::Degraded,
                    "partial",
                ),
                finding("gvisor.socket.packet", Severity::NeedsConfig, "packet"),
                finding("gvisor.bpf.other", Severity::Breaks, "bpf"),
            ],
        );
        let upgrade = compare(before, after);
        assert!(upgrade.is_upgrade());
        let entries = |findings: &[Finding]| -> Vec<String> {
            findings.iter().map(|f| f.reference.entry.clone()).collect()
        };
        assert_eq!(
            entries(&upgrade.fixed),
            [
                "gvisor.proc.global-added-in-release-20260126.0",
                "gvisor.keyctl.unsupported"
            ]
        );
        assert_eq!(entries(&upgrade.new), ["gvisor.bpf.other"]);
        assert_eq!(upgrade.changed.len(), 1);
        assert_eq!(upgrade.changed[0].after.title, "partial");
        assert_eq!(upgrade.unchanged, 1);
    }
}
