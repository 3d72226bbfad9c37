//! Turning database entries into the parts of a finding that cite them: remediations as
//! [`RemediationRef`]s, rules, gVisor table rows, ABI and Kata facts as [`DbReference`]s with
//! their upstream revision, and rule categories as [`Category`]s. Shared by every
//! producer of findings (profiles and runsc logs).

use serde::de::value::{Error as DeError, StrDeserializer};
use serde::de::IntoDeserializer as _;
use serde::Deserialize as _;
use syscall_db::{
    AbiFact, Arch, ArgRule, Database, GvisorSyscall, KataFact, Remediation, Runtime, Source,
};

use super::finding::{Category, DbReference, RemediationRef};

/// A remediation as a finding shows it.
pub fn remediation_ref(remediation: &Remediation) -> RemediationRef {
    RemediationRef {
        id: remediation.id.clone(),
        kind: remediation.kind,
        flag: remediation.flag.clone(),
        annotation: remediation.annotation.clone(),
        summary: remediation.summary.clone(),
    }
}

/// The remediations with these ids, in the given order. The database validates that
/// every id a rule or fact names exists, so none is dropped in practice.
pub fn remediation_refs(db: &Database, ids: &[String]) -> Vec<RemediationRef> {
    ids.iter()
        .filter_map(|id| db.remediation(id))
        .map(remediation_ref)
        .collect()
}

/// Remediations of `kind` "use the other runtime" that apply to `runtime`, for findings
/// the database has no specific fix for.
pub fn other_runtime_refs(db: &Database, runtime: Runtime) -> Vec<RemediationRef> {
    db.remediations()
        .iter()
        .filter(|r| r.runtime == runtime && r.kind == syscall_db::RemediationKind::OtherRuntime)
        .map(remediation_ref)
        .collect()
}

/// The upstream project and revision the facts about `runtime` were read at, as
/// `owner/repo@revision`, from the database's provenance table: the table that lists one
/// of `sources` when there is one, else the first table of that runtime's project.
pub fn upstream_revision(db: &Database, runtime: Runtime, sources: &[Source]) -> String {
    let wanted = match runtime {
        Runtime::Gvisor => "gvisor",
        Runtime::Kata => "kata",
    };
    let of_runtime = || {
        db.provenance()
            .iter()
            .filter(|p| p.project.to_ascii_lowercase().contains(wanted))
    };
    of_runtime()
        .find(|p| sources.iter().any(|s| p.paths.contains(&s.path)))
        .or_else(|| of_runtime().next())
        .map(|p| format!("{}@{}", p.project, p.revision))
        .unwrap_or_else(|| match runtime {
            Runtime::Gvisor => format!("google/gvisor@{}", db.gvisor_revision()),
            Runtime::Kata => format!("kata-containers (database {})", db.version()),
        })
}

fn paths(sources: &[Source]) -> Vec<String> {
    sources.iter().map(|s| s.path.clone()).collect()
}

/// The reference for an argument rule: the revision its sources were read at (a rule
/// about older gVisor releases cites the tag it was read at), else its table's.
pub fn rule_reference(db: &Database, rule: &ArgRule) -> DbReference {
    let read_at = rule.sources.iter().find_map(|s| s.revision);
    DbReference {
        entry: rule.id.clone(),
        revision: match read_at {
            Some(release) => format!("google/gvisor@{release}"),
            None => upstream_revision(db, rule.runtime, &rule.sources),
        },
        paths: paths(&rule.sources),
    }
}

/// The reference for a row of gVisor's syscall table: its id is
/// `gvisor.syscall.<arch>.<name>`, its files those the table was generated from.
pub fn gvisor_reference(db: &Database, arch: Arch, entry: &GvisorSyscall) -> DbReference {
    let table = format!("gvisor-syscalls-{arch}");
    let provenance = db.provenance().iter().find(|p| p.table == table);
    DbReference {
        entry: format!("gvisor.syscall.{arch}.{}", entry.name),
        revision: provenance.map_or_else(
            || upstream_revision(db, Runtime::Gvisor, &[]),
            |p| format!("{}@{}", p.project, p.revision),
        ),
        paths: provenance.map(|p| p.paths.clone()).unwrap_or_default(),
    }
}

/// The reference for a Kata fact.
pub fn kata_reference(db: &Database, fact: &KataFact) -> DbReference {
    DbReference {
        entry: fact.id.clone(),
        revision: upstream_revision(db, Runtime::Kata, &fact.sources),
        paths: paths(&fact.sources),
    }
}

/// The reference for an ABI fact.
pub fn abi_reference(db: &Database, fact: &AbiFact) -> DbReference {
    DbReference {
        entry: fact.id.clone(),
        revision: upstream_revision(db, fact.runtime, &fact.sources),
        paths: paths(&fact.sources),
    }
}

/// A rule's category string (`socket`, `proc_path`…) as a [`Category`]; names the
/// findings model does not have become [`Category::Other`].
pub fn category(name: &str) -> Category {
    let de: StrDeserializer<'_, DeError> = name.into_deserializer();
    Category::deserialize(de).unwrap_or(Category::Other)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_from_rule_names() {
        assert_eq!(category("socket"), Category::Socket);
        assert_eq!(category("proc_path"), Category::ProcPath);
        assert_eq!(category("arch_prctl"), Category::ArchPrctl);
        assert_eq!(category("io_uring"), Category::IoUring);
        assert_eq!(category("something-new"), Category::Other);
    }
}
