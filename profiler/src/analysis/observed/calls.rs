//! The calls of the two runs side by side: each run's calls indexed by syscall and by
//! captured arguments, which errnos are new under runsc, and the calls that newly
//! failed, as findings the database did not predict.

use std::collections::{BTreeMap, BTreeSet};

use syscall_db::{Arch, Database, ErrnoCounts, FieldValue, FieldValues, Runtime};

use super::super::finding::{
    Category, DbReference, Evidence, Finding, Observation, ObservationKind, Severity, ShownArg,
};
use super::super::{args, dbref};
use crate::profile::SyscallProfile;
use crate::runsc_log::facts::is_refusal;

/// Calls of one syscall with one set of captured fields, in one run.
#[derive(Clone, Debug, Default)]
pub(super) struct Calls {
    pub(super) calls: u64,
    pub(super) errors: ErrnoCounts,
}

impl Calls {
    pub(super) fn add(&mut self, calls: u64, errors: &ErrnoCounts) {
        self.calls += calls;
        for (errno, n) in errors {
            *self.errors.entry(errno.clone()).or_default() += n;
        }
    }
}

/// One run's calls: by syscall alone, and by syscall and captured fields.
#[derive(Default)]
pub(super) struct CallIndex {
    pub(super) by_syscall: BTreeMap<String, Calls>,
    pub(super) by_signature: BTreeMap<(String, FieldValues), Calls>,
}

impl CallIndex {
    pub(super) fn of(profile: &SyscallProfile) -> CallIndex {
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
    pub(super) fn matching(&self, syscall: &str, args: &[ShownArg]) -> Calls {
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

pub(super) fn raw(value: &FieldValue) -> String {
    match value {
        FieldValue::Int(n) => n.to_string(),
        FieldValue::Str(s) => s.clone(),
    }
}

/// errnos that failed calls under runsc and never under runc, where runc's calls did
/// not all fail (a call that failed either way, with ENXIO under runc and EIO under
/// runsc, behaves the same for the program). The kernel's restart codes (512 and up:
/// ERESTARTSYS…) are left out: runsc's strace shows them, programs never see them.
pub(super) fn new_errnos(runc: &Calls, runsc: &Calls) -> Vec<String> {
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
pub(super) fn is_restart(errno: &str) -> bool {
    errno
        .strip_prefix("errno_")
        .and_then(|n| n.parse::<u32>().ok())
        .is_some_and(|n| (512..=516).contains(&n))
}

/// A call that failed under runsc with errnos it never got under runc.
pub(super) struct Difference {
    pub(super) syscall: String,
    pub(super) fields: FieldValues,
    pub(super) call: String,
    pub(super) errnos: Vec<String>,
    pub(super) runc: Calls,
    pub(super) runsc: Calls,
    pub(super) path_missing: Option<String>,
}

pub(super) fn differences(
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

pub(super) fn refusal(db: &Database, errno: &str) -> bool {
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
pub(super) fn covered(findings: &[Finding], d: &Difference) -> bool {
    findings.iter().any(|f| {
        f.evidence.syscall.as_deref() == Some(d.syscall.as_str())
            && f.evidence
                .args
                .iter()
                .all(|a| d.fields.get(&a.name).is_some_and(|v| raw(v) == a.raw))
    })
}

pub(super) fn difference_finding(db: &Database, arch: Arch, d: Difference) -> Finding {
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
        _ => super::super::gvisor::syscall_category(syscall),
    }
}
