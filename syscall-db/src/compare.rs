//! What differs between two gVisor releases, as the database knows them: syscall table
//! entries, hand-kept rules, runsc flags, /proc paths and the kernel gVisor reports.
//! `sandprof db diff` shows it; facts that did not change are left out.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::database::Database;
use crate::history::{GvisorKernel, RunscFlagSpec};
use crate::model::{Arch, ArgRule, GvisorSyscall};
use crate::release::Release;

/// One syscall whose table entry differs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SyscallChange {
    /// Kernel name.
    pub name: String,
    /// Number in the arch.
    pub number: u32,
    /// The entry at the first release.
    pub before: GvisorSyscall,
    /// The entry at the second.
    pub after: GvisorSyscall,
}

/// One rule id whose rule differs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleChange {
    /// The rule at the first release.
    pub before: ArgRule,
    /// The rule at the second.
    pub after: ArgRule,
}

/// One flag whose declaration differs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FlagChange {
    /// Name.
    pub name: String,
    /// Kind and default at the first release.
    pub before: FlagDeclaration,
    /// At the second.
    pub after: FlagDeclaration,
}

/// How a flag is declared at one release.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FlagDeclaration {
    /// `bool`, `string`, …
    pub kind: String,
    /// Literal default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

impl From<&RunscFlagSpec> for FlagDeclaration {
    fn from(flag: &RunscFlagSpec) -> FlagDeclaration {
        FlagDeclaration {
            kind: flag.kind.clone(),
            default: flag.default.clone(),
        }
    }
}

/// Everything that differs between two releases on one arch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReleaseDiff {
    /// The first release.
    pub from: Release,
    /// The second.
    pub to: Release,
    /// The arch the syscall tables are compared on.
    pub arch: Arch,
    /// Syscalls whose entry differs, by number.
    pub syscalls: Vec<SyscallChange>,
    /// Rules only the second release has.
    pub rules_added: Vec<ArgRule>,
    /// Rules only the first has.
    pub rules_removed: Vec<ArgRule>,
    /// Rules both have, differently.
    pub rules_changed: Vec<RuleChange>,
    /// Flags only the second registers.
    pub flags_added: Vec<RunscFlagSpec>,
    /// Flags only the first registers.
    pub flags_removed: Vec<RunscFlagSpec>,
    /// Flags both register, differently.
    pub flags_changed: Vec<FlagChange>,
    /// /proc paths only the second registers.
    pub proc_added: Vec<String>,
    /// /proc paths only the first registers.
    pub proc_removed: Vec<String>,
    /// What gVisor reports as its kernel, when it differs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel: Option<KernelChange>,
}

/// The kernel gVisor reports at each release, when it differs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KernelChange {
    /// At the first release.
    pub before: GvisorKernel,
    /// At the second.
    pub after: GvisorKernel,
}

impl ReleaseDiff {
    /// Whether nothing differs.
    pub fn is_empty(&self) -> bool {
        self.syscalls.is_empty()
            && self.rules_added.is_empty()
            && self.rules_removed.is_empty()
            && self.rules_changed.is_empty()
            && self.flags_added.is_empty()
            && self.flags_removed.is_empty()
            && self.flags_changed.is_empty()
            && self.proc_added.is_empty()
            && self.proc_removed.is_empty()
            && self.kernel.is_none()
    }
}

/// What differs between `a` and `b` (the same data viewed at two releases) on `arch`.
pub fn diff(a: &Database, b: &Database, arch: Arch) -> ReleaseDiff {
    let syscalls = a
        .gvisor_table(arch)
        .iter()
        .zip(b.gvisor_table(arch))
        .filter(|(x, y)| without_note(x) != without_note(y))
        .map(|(x, y)| SyscallChange {
            name: x.name.clone(),
            number: x.number,
            before: x.clone(),
            after: y.clone(),
        })
        .collect();
    let rules = |db: &Database| -> BTreeMap<String, ArgRule> {
        db.hand_kept_rules()
            .iter()
            .map(|r| (r.id.clone(), without_range(r)))
            .collect()
    };
    let (ra, rb) = (rules(a), rules(b));
    let flags = |db: &Database| -> BTreeMap<String, RunscFlagSpec> {
        db.runsc_flags()
            .iter()
            .map(|f| (f.name.clone(), f.clone()))
            .collect()
    };
    let (fa, fb) = (flags(a), flags(b));
    let paths = |db: &Database| -> BTreeSet<String> {
        db.proc_paths().iter().map(|p| p.path.clone()).collect()
    };
    let (pa, pb) = (paths(a), paths(b));
    let (ka, kb) = (a.gvisor_kernel(), b.gvisor_kernel());
    let same_kernel =
        (&ka.sysname, &ka.release, &ka.version) == (&kb.sysname, &kb.release, &kb.version);
    ReleaseDiff {
        from: a.release(),
        to: b.release(),
        arch,
        syscalls,
        rules_added: only_in(&rb, &ra),
        rules_removed: only_in(&ra, &rb),
        rules_changed: ra
            .iter()
            .filter_map(|(id, x)| {
                let y = rb.get(id)?;
                (x != y).then(|| RuleChange {
                    before: x.clone(),
                    after: y.clone(),
                })
            })
            .collect(),
        flags_added: only_in(&fb, &fa),
        flags_removed: only_in(&fa, &fb),
        flags_changed: fa
            .iter()
            .filter_map(|(name, x)| {
                let y = fb.get(name)?;
                let (before, after) = (FlagDeclaration::from(x), FlagDeclaration::from(y));
                (before != after).then(|| FlagChange {
                    name: name.clone(),
                    before,
                    after,
                })
            })
            .collect(),
        proc_added: pb.difference(&pa).cloned().collect(),
        proc_removed: pa.difference(&pb).cloned().collect(),
        kernel: (!same_kernel).then(|| KernelChange {
            before: ka.clone(),
            after: kb.clone(),
        }),
    }
}

fn only_in<K: Ord, V: Clone>(this: &BTreeMap<K, V>, other: &BTreeMap<K, V>) -> Vec<V> {
    this.iter()
        .filter(|(k, _)| !other.contains_key(*k))
        .map(|(_, v)| v.clone())
        .collect()
}

/// An entry compared on what gVisor does, not on our note.
fn without_note(entry: &GvisorSyscall) -> GvisorSyscall {
    GvisorSyscall {
        note: None,
        ..entry.clone()
    }
}

/// A rule compared on what it says, not on the releases it is written for.
fn without_range(rule: &ArgRule) -> ArgRule {
    ArgRule {
        first: None,
        last: None,
        ..rule.clone()
    }
}
