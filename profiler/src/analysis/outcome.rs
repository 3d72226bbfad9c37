//! What a database outcome means for a finding: its severity given the runsc flags
//! assumed set, the errno it refuses calls with, the phrase a title uses for it, and
//! whether calls that already failed the same way under runc make it no regression.

use syscall_db::{Database, ErrnoCounts, Outcome, Remediation, RemediationKind};

use super::finding::Severity;
use super::flags::RunscFlags;

/// The verdict on one outcome.
#[derive(Debug, PartialEq, Eq)]
pub enum Judgement<'db> {
    /// Works: nothing to report.
    Fine,
    /// A finding of this severity.
    Finding(Severity),
    /// Needs configuration, and this remediation among the assumed runsc flags provides
    /// it: works as configured.
    Configured(&'db Remediation),
}

/// Judges `outcome` of a rule with remediations `remediation_ids`, assuming `flags`.
pub fn judge<'db>(
    db: &'db Database,
    outcome: &Outcome,
    remediation_ids: &[String],
    flags: &RunscFlags,
) -> Judgement<'db> {
    match outcome {
        Outcome::Works => Judgement::Fine,
        Outcome::Fails { .. } => Judgement::Finding(Severity::Breaks),
        Outcome::Ignored | Outcome::Degraded => Judgement::Finding(Severity::Degraded),
        Outcome::NeedsConfig { .. } => configured_by(db, remediation_ids, flags).map_or(
            Judgement::Finding(Severity::NeedsConfig),
            Judgement::Configured,
        ),
    }
}

/// The first of these remediations that is a runsc flag the assumed flags set.
pub fn configured_by<'db>(
    db: &'db Database,
    remediation_ids: &[String],
    flags: &RunscFlags,
) -> Option<&'db Remediation> {
    remediation_ids
        .iter()
        .filter_map(|id| db.remediation(id))
        .find(|r| {
            r.kind == RemediationKind::RunscFlag
                && r.flag.as_deref().is_some_and(|flag| flags.satisfies(flag))
        })
}

/// The errno the runtime refuses calls with, for outcomes that refuse them.
pub fn refused_errno(outcome: &Outcome) -> Option<&str> {
    match outcome {
        Outcome::Fails { errno } | Outcome::NeedsConfig { errno } => Some(errno),
        Outcome::Works | Outcome::Ignored | Outcome::Degraded => None,
    }
}

/// True when every one of `calls` already failed with `errno` under runc: the runtime
/// refusing them the same way changes nothing.
pub fn already_failed(calls: u64, errors: &ErrnoCounts, errno: &str) -> bool {
    calls > 0 && errors.get(errno).copied() == Some(calls)
}

/// A refusal that would break the workload, softened by evidence that it will not:
/// the database says common callers handle it (`handled`), or some of these calls
/// already failed under runc and the workload carried on, so it has a path for the
/// call failing. Returns the severity and a sentence for the effect.
pub fn soften(
    severity: Severity,
    calls: u64,
    errors: &ErrnoCounts,
    handled: Option<&str>,
) -> (Severity, Option<String>) {
    if severity != Severity::Breaks {
        return (severity, None);
    }
    if let Some(how) = handled {
        return (
            Severity::Degraded,
            Some(format!("Common callers carry on: {how}")),
        );
    }
    let failed: u64 = errors.values().sum();
    if failed > 0 && calls > 0 {
        let seen: Vec<String> = errors.iter().map(|(e, n)| format!("{e} {n}")).collect();
        return (
            Severity::Degraded,
            Some(format!(
                "{failed} of these {calls} calls already failed under runc ({}) and the \
                 workload carried on: it has a path for this call failing.",
                seen.join(", ")
            )),
        );
    }
    (severity, None)
}

/// The outcome as a title's predicate: `fails with ENOENT`.
pub fn phrase(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Works => "works".to_owned(),
        Outcome::Fails { errno } => format!("fails with {errno}"),
        Outcome::Ignored => "is accepted but has no effect".to_owned(),
        Outcome::Degraded => "works in a reduced way".to_owned(),
        Outcome::NeedsConfig { errno } => format!("fails with {errno} unless configured"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn already_failed_needs_every_call_with_that_errno() {
        let errors: ErrnoCounts = [("ENOSYS".to_owned(), 3)].into();
        assert!(already_failed(3, &errors, "ENOSYS"));
        assert!(!already_failed(4, &errors, "ENOSYS"));
        assert!(!already_failed(3, &errors, "EPERM"));
        assert!(!already_failed(0, &ErrnoCounts::new(), "ENOSYS"));
    }

    #[test]
    fn phrases() {
        assert_eq!(
            phrase(&Outcome::Fails {
                errno: "ENOENT".to_owned()
            }),
            "fails with ENOENT"
        );
        assert_eq!(
            phrase(&Outcome::NeedsConfig {
                errno: "EPERM".to_owned()
            }),
            "fails with EPERM unless configured"
        );
    }
}
