//! Viewing the [`Store`] at one gVisor release: gVisor's table as it was then (with our
//! notes that hold then), the rules and remediations that hold then, and rules derived
//! from the release's /proc:
//!
//! - **Absent /proc entries.** A path gVisor's /proc registers in some release but not
//!   in this one fails with ENOENT here, whatever the hand-kept rules (written for the
//!   newest release) say of it. These rules come first, so among rules as specific
//!   they decide (the /proc rules all have one condition, on the path).
//! - **Configuration that does not exist yet.** A rule that needs configuration, none
//!   of whose configuring remediations exists at this release (the runsc flag came
//!   later), fails here: nothing can configure it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::database::Database;
use crate::error::Error;
use crate::history::ProcPath;
use crate::model::{
    ArgRule, Condition, GvisorSyscall, Outcome, Remediation, RemediationKind, Runtime, Source,
};
use crate::release::Release;
use crate::rule_index::RuleIndex;
use crate::store::{Indexed, Store};

/// The table the derived /proc rules cite.
pub(crate) const PROC_TABLE: &str = "gvisor-proc";

/// Remediations the derived /proc rules offer, when the data has them.
const PROC_REMEDIATIONS: [&str; 3] = [
    "runsc.override-procs",
    "code.ignore-missing-file",
    "other.kata",
];

/// Every way a process names its own directory, as the tracer folds them: a
/// per-process path `/proc/#/X` is reached as each of these.
const SELF_DIRS: &str = "{self,thread-self,#,self/task/#,#/task/#}";

/// `/proc/net` is a link to `self/net`: per-process network paths are reached through
/// it too.
const NET_ALIAS: (&str, &str) = ("/proc/#/net", "/proc/net");

impl Database {
    /// The same data viewed at `release`, which must be one of [`Database::releases`]
    /// (resolve what a user names with [`Releases::resolve`](crate::Releases::resolve)
    /// first).
    pub fn at(&self, release: Release) -> Result<Database, Error> {
        if !self.store.releases.contains(release) {
            return Err(Error::UnknownRelease(release));
        }
        Ok(build(Arc::clone(&self.store), release))
    }
}

/// The store viewed at `release`, which the store's releases include.
pub(crate) fn build(store: Arc<Store>, release: Release) -> Database {
    let gvisor = store
        .gvisor
        .iter()
        .map(|(&arch, timelines)| {
            let rows: Vec<GvisorSyscall> = timelines
                .rows
                .iter()
                .map(|timeline| {
                    let mut entry = timeline
                        .at(release)
                        .expect("timelines cover every release")
                        .clone();
                    entry.note = store
                        .notes
                        .iter()
                        .find(|n| n.syscall == entry.name && n.range().contains(release))
                        .map(|n| n.text.clone());
                    entry
                })
                .collect();
            (arch, Indexed::new(rows, |g: &GvisorSyscall| &g.name))
        })
        .collect();
    let remediations: Vec<Remediation> = store
        .remediations
        .iter()
        .filter(|r| available(&store, r, release))
        .cloned()
        .collect();
    let provenance = store
        .provenance
        .iter()
        .map(|p| {
            let mut p = p.clone();
            if p.maintained == "generated" && p.table.starts_with("gvisor-") {
                p.revision = release.tag();
                if let Some(info) = store.releases.info(release) {
                    p.date = info.date.clone();
                }
                p.note = None;
            }
            p
        })
        .collect::<Vec<_>>();

    let mut rules = Vec::new();
    let mut rule_tables = Vec::new();
    if let Some(table) = provenance.iter().position(|p| p.table == PROC_TABLE) {
        for rule in proc_rules(&store, release) {
            rules.push(rule);
            rule_tables.push(table);
        }
    }
    let derived_rules = rules.len();
    for (rule, &table) in store.rules.iter().zip(&store.rule_tables) {
        if rule.releases().contains(release) {
            rules.push(configurable_at(&store, rule, &remediations, release));
            rule_tables.push(table);
        }
    }
    let kernel = store
        .kernels
        .iter()
        .find(|k| k.range.contains(release))
        .cloned()
        .expect("validation checks the kernel history covers every release");
    Database {
        gvisor,
        rule_index: RuleIndex::new(&rules),
        compiled: Default::default(),
        rules,
        rule_tables,
        derived_rules,
        remediations,
        kernel,
        flags: store
            .flags
            .iter()
            .filter(|f| f.range.contains(release))
            .cloned()
            .collect(),
        proc: store
            .proc
            .iter()
            .filter(|p| p.range.contains(release))
            .cloned()
            .collect(),
        provenance,
        release,
        store,
    }
}

/// Whether `remediation` can be applied at `release`: its own range holds, and runsc
/// registers the flag it sets or an annotation overrides.
pub(crate) fn available(store: &Store, remediation: &Remediation, release: Release) -> bool {
    remediation.releases().contains(release)
        && remediation
            .runsc_flag_name()
            .is_none_or(|name| store.flag_at(name, release).is_some())
}

/// Whether a remediation of this kind configures the runtime (rather than changing the
/// workload or moving it).
fn configures(kind: RemediationKind) -> bool {
    matches!(
        kind,
        RemediationKind::RunscFlag
            | RemediationKind::Annotation
            | RemediationKind::PodSpec
            | RemediationKind::NodeConfig
    )
}

/// `rule` as it holds at `release`: a needs-config rule none of whose configuring
/// remediations is available there fails instead, its note saying when they appear.
fn configurable_at(
    store: &Store,
    rule: &ArgRule,
    available: &[Remediation],
    release: Release,
) -> ArgRule {
    let Outcome::NeedsConfig { errno } = &rule.outcome else {
        return rule.clone();
    };
    let configuring = |r: &&Remediation| configures(r.kind);
    let usable = rule
        .remediations
        .iter()
        .filter_map(|id| available.iter().find(|r| &r.id == id))
        .any(|r| configuring(&r));
    if usable {
        return rule.clone();
    }
    let later: Vec<String> = rule
        .remediations
        .iter()
        .filter_map(|id| store.remediation(id))
        .filter(configuring)
        .filter_map(|r| {
            let name = r.runsc_flag_name()?;
            let first = store
                .flags
                .iter()
                .filter(|f| f.name == name)
                .filter_map(|f| f.range.first)
                .find(|&first| first > release)?;
            Some(format!("--{name} first appears in {first}"))
        })
        .fold(Vec::new(), |mut unique, sentence| {
            // A flag and the annotation overriding it name the same flag.
            if !unique.contains(&sentence) {
                unique.push(sentence);
            }
            unique
        });
    let mut rule = rule.clone();
    // The sentence does not name the release, so the same rule at two releases that
    // both lack the setting reads the same (`db diff` shows no change).
    rule.note
        .push_str(" This release of runsc has none of the settings that would fix this");
    if later.is_empty() {
        rule.note.push('.');
    } else {
        rule.note.push_str(&format!(" ({}).", later.join("; ")));
    }
    rule.outcome = Outcome::Fails {
        errno: errno.clone(),
    };
    rule
}

/// Why a /proc path is absent at a release: it appears later, or it was removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Absence {
    /// First registered in this later release.
    AddedIn(Release),
    /// Last registered in this earlier release.
    RemovedAfter(Release),
}

/// Rules for the /proc paths some release registers and `release` does not: one per
/// reason and kind of path (system-wide or per-process), failing with ENOENT.
fn proc_rules(store: &Store, release: Release) -> Vec<ArgRule> {
    let present: BTreeSet<&str> = store
        .proc
        .iter()
        .filter(|p| p.range.contains(release))
        .map(|p| p.path.as_str())
        .collect();
    let mut absent: BTreeMap<&str, Absence> = BTreeMap::new();
    for path in &store.proc {
        if present.contains(path.path.as_str()) {
            continue;
        }
        let reason = reason(path, release);
        absent
            .entry(&path.path)
            .and_modify(|r| *r = (*r).min(reason))
            .or_insert(reason);
    }
    // A path under an absent directory is covered by the directory's rule.
    let topmost: Vec<(&str, Absence)> = absent
        .iter()
        .filter(|(path, _)| {
            !absent.keys().any(|dir| {
                path.len() > dir.len()
                    && path.starts_with(dir)
                    && path.as_bytes()[dir.len()] == b'/'
            })
        })
        .map(|(&path, &reason)| (path, reason))
        .collect();
    let syscalls = proc_syscalls(store);
    // Alternatives of each glob, relative to `/proc/` (system-wide) or to the process's
    // own directory (per-process), by reason.
    let mut groups: BTreeMap<(Absence, bool), Vec<String>> = BTreeMap::new();
    for (path, reason) in topmost {
        let (per_process, relative) = match path.strip_prefix("/proc/#/") {
            Some(relative) => (true, relative),
            None => (false, path.trim_start_matches("/proc/")),
        };
        let mut add = |per_process: bool, relative: &str| {
            let alternatives = groups.entry((reason, per_process)).or_default();
            alternatives.push(relative.to_owned());
            alternatives.push(format!("{relative}/**"));
        };
        add(per_process, relative);
        if let Some(rest) = path.strip_prefix(NET_ALIAS.0) {
            add(
                false,
                &format!("{}{rest}", NET_ALIAS.1.trim_start_matches("/proc/")),
            );
        }
    }
    groups
        .into_iter()
        .map(|((reason, per_process), alternatives)| {
            proc_rule(
                store,
                release,
                reason,
                per_process,
                &alternatives,
                &syscalls,
            )
        })
        .collect()
}

/// Why `path` (with no span at `release`) is absent there.
fn reason(path: &ProcPath, release: Release) -> Absence {
    match (path.range.first, path.range.last) {
        (Some(first), _) if first > release => Absence::AddedIn(first),
        (_, Some(last)) => Absence::RemovedAfter(last),
        // Unreachable for a span not covering `release`; treat as removed at once.
        _ => Absence::RemovedAfter(release),
    }
}

/// The syscalls the hand-kept /proc rules judge paths of.
fn proc_syscalls(store: &Store) -> Vec<String> {
    let mut syscalls = BTreeSet::new();
    for rule in &store.rules {
        let on_proc = matches!(
            rule.when.get("path"),
            Some(Condition::Glob(p) | Condition::Prefix(p)) if p.starts_with("/proc")
        );
        if rule.runtime == Runtime::Gvisor && on_proc {
            syscalls.extend(rule.syscalls.iter().cloned());
        }
    }
    syscalls.into_iter().collect()
}

fn proc_rule(
    store: &Store,
    release: Release,
    reason: Absence,
    per_process: bool,
    alternatives: &[String],
    syscalls: &[String],
) -> ArgRule {
    let glob = if per_process {
        format!("/proc/{SELF_DIRS}/{{{}}}", alternatives.join(","))
    } else {
        format!("/proc/{{{}}}", alternatives.join(","))
    };
    let kind = if per_process { "pid" } else { "global" };
    let (id, note, cited) = match reason {
        Absence::AddedIn(first) => (
            format!("gvisor.proc.{kind}-added-in-{first}"),
            format!(
                "gVisor {release}'s /proc does not have this yet: it appears in {first}. \
                 Callers get ENOENT; runsc {first} or later has it."
            ),
            first,
        ),
        Absence::RemovedAfter(last) => (
            format!("gvisor.proc.{kind}-removed-after-{last}"),
            format!(
                "gVisor {release}'s /proc no longer has this: {last} was the last release \
                 with it. Callers get ENOENT."
            ),
            last,
        ),
    };
    // --override-procs stubs only names directly under /proc.
    let remediations = PROC_REMEDIATIONS
        .iter()
        .filter(|id| !(per_process && **id == "runsc.override-procs"))
        .filter(|id| store.remediation(id).is_some())
        .map(|id| (*id).to_owned())
        .collect();
    let mut sources: Vec<Source> = Vec::new();
    for alternative in alternatives.iter().step_by(2) {
        let path = if per_process {
            format!("/proc/#/{alternative}")
        } else {
            format!("/proc/{alternative}")
        };
        let source = source_of(&path, cited);
        if !sources.contains(&source) {
            sources.push(source);
        }
    }
    ArgRule {
        id,
        runtime: Runtime::Gvisor,
        category: "proc_path".to_owned(),
        syscalls: syscalls.to_vec(),
        arches: Vec::new(),
        when: BTreeMap::from([("path".to_owned(), Condition::Glob(glob))]),
        outcome: Outcome::Fails {
            errno: "ENOENT".to_owned(),
        },
        remediations,
        note,
        sources,
        first: Some(release),
        last: Some(release),
    }
}

/// The procfs file that registers `path`, read at `revision`.
fn source_of(path: &str, revision: Release) -> Source {
    let file = if path.starts_with("/proc/#/net") || path.starts_with("/proc/net/") {
        "pkg/sentry/fsimpl/proc/task_net.go"
    } else if path.starts_with("/proc/#/") {
        "pkg/sentry/fsimpl/proc/task.go"
    } else if path.starts_with("/proc/sys/") || path == "/proc/sys" {
        "pkg/sentry/fsimpl/proc/tasks_sys.go"
    } else {
        "pkg/sentry/fsimpl/proc/tasks.go"
    };
    Source {
        path: file.to_owned(),
        symbol: None,
        revision: Some(revision),
    }
}
