//! The database's invariants: every reference resolves (syscalls, errnos, constants,
//! capture fields, remediations of the same runtime), ids are unique (per release, for
//! gVisor facts that change over releases), capture entries fit the tracer's limits,
//! path conditions can match what the tracer keeps, release ranges name known
//! releases, and provenance is complete (every cited file is listed by its table).
//! Each broken invariant becomes a [`Problem`] naming its file and item.

mod releases;
mod rules;

use std::collections::HashSet;

use crate::error::Problem;
use crate::model::{
    Arch, CaptureField, FactSeverity, FieldKind, FieldNaming, Provenance, RemediationKind, Runtime,
    Source, Value,
};
use crate::store::Store;

/// At most this many fields per captured syscall (the probe's record has 4 slots).
pub const MAX_CAPTURE_FIELDS: usize = 4;
/// At most this many of them strings (the probe reads at most 2 strings per call).
pub const MAX_CAPTURE_STRINGS: usize = 2;

pub(crate) fn check(store: &Store, rule_files: &[String], problems: &mut Vec<Problem>) {
    let mut v = Validator { store, problems };
    v.constants();
    v.provenance();
    v.gvisor();
    v.releases();
    v.notes();
    v.remediations();
    v.kata();
    v.abi();
    v.captures();
    for ((rule, file), &table) in store.rules.iter().zip(rule_files).zip(&store.rule_tables) {
        let item = format!("rule `{}`", rule.id);
        v.rule(file, rule);
        if let Some(provenance) = store.provenance.get(table) {
            v.sources_listed(file, &item, &rule.sources, std::slice::from_ref(provenance));
        }
    }
    v.rule_ids(rule_files);
}

struct Validator<'a> {
    store: &'a Store,
    problems: &'a mut Vec<Problem>,
}

impl Validator<'_> {
    fn report(&mut self, file: &str, item: String, message: String) {
        self.problems.push(Problem::new(file, item, message));
    }

    fn errno(&mut self, file: &str, item: &str, errno: &str) {
        if self.store.errno_number(errno).is_none() {
            self.report(file, item.to_owned(), format!("unknown errno `{errno}`"));
        }
    }

    fn syscall_exists(&mut self, file: &str, item: &str, name: &str) {
        if ![Arch::X86_64, Arch::Aarch64, Arch::I386]
            .iter()
            .any(|&a| self.store.syscall_by_name(a, name).is_some())
        {
            let suggestions = crate::suggest::nearest_names(
                self.store
                    .syscalls(Arch::X86_64)
                    .iter()
                    .map(|s| s.name.as_str()),
                name,
            );
            self.report(
                file,
                item.to_owned(),
                format!(
                    "unknown syscall `{name}` (nearest: {})",
                    suggestions.join(", ")
                ),
            );
        }
    }

    fn remediation_ids(&mut self, file: &str, item: &str, ids: &[String]) {
        for id in ids {
            if self.store.remediation(id).is_none() {
                self.report(file, item.to_owned(), format!("unknown remediation `{id}`"));
            }
        }
    }

    /// Every remediation a rule or fact of `runtime` points to configures that runtime.
    fn remediation_runtimes(&mut self, file: &str, item: &str, runtime: Runtime, ids: &[String]) {
        for id in ids {
            if let Some(r) = self.store.remediation(id) {
                if r.runtime != runtime {
                    self.report(
                        file,
                        item.to_owned(),
                        format!("remediation `{id}` is for {}, not {runtime}", r.runtime),
                    );
                }
            }
        }
    }

    /// Every cited upstream file is one of the paths its table's provenance lists, so a
    /// reference can name the revision it was read at.
    fn sources_listed(
        &mut self,
        file: &str,
        item: &str,
        sources: &[Source],
        tables: &[Provenance],
    ) {
        for source in sources {
            if !tables.iter().any(|p| p.paths.contains(&source.path)) {
                self.report(
                    file,
                    item.to_owned(),
                    format!(
                        "source `{}` is not among the paths of its table's provenance",
                        source.path
                    ),
                );
            }
        }
    }

    /// The provenance tables of `runtime`'s upstream project.
    fn tables_of(&self, runtime: Runtime) -> Vec<Provenance> {
        self.store
            .provenance
            .iter()
            .filter(|p| p.project.to_ascii_lowercase().contains(runtime.as_str()))
            .cloned()
            .collect()
    }

    fn constants(&mut self) {
        let file = "constants.toml";
        if self.store.constants("errno").is_empty() {
            self.report(
                file,
                "group `errno`".into(),
                "missing: errno names cannot be checked".into(),
            );
        }
        for (group, constants) in &self.store.constants {
            let mut seen: Vec<(&str, &[Arch])> = Vec::new();
            for c in constants {
                let overlaps = seen.iter().any(|(name, arches)| {
                    *name == c.name
                        && (arches.is_empty()
                            || c.arches.is_empty()
                            || arches.iter().any(|a| c.arches.contains(a)))
                });
                if overlaps {
                    self.report(
                        file,
                        format!("constant `{group}.{}`", c.name),
                        "defined twice for the same arch".into(),
                    );
                }
                seen.push((&c.name, &c.arches));
            }
        }
    }

    fn provenance(&mut self) {
        let tables: Vec<Provenance> = self.store.provenance.clone();
        let mut names = HashSet::new();
        for p in &tables {
            let item = format!("provenance of table `{}`", p.table);
            if !names.insert(p.table.clone()) {
                self.report("provenance", item.clone(), "table name used twice".into());
            }
            if !is_date(&p.date) {
                self.report(
                    "provenance",
                    item.clone(),
                    format!("date `{}` is not YYYY-MM-DD", p.date),
                );
            }
            if p.maintained != "generated" && p.maintained != "curated" {
                self.report(
                    "provenance",
                    item.clone(),
                    format!(
                        "maintained is `{}`, expected `generated` or `curated`",
                        p.maintained
                    ),
                );
            }
            if p.project.is_empty() || p.revision.is_empty() || p.paths.is_empty() {
                self.report(
                    "provenance",
                    item,
                    "project, revision and paths are required".into(),
                );
            }
        }
    }

    fn gvisor(&mut self) {
        let store = self.store;
        for (arch, timelines) in &store.gvisor {
            let file = format!("gvisor/{arch}.toml");
            for span in timelines.rows.iter().flat_map(|t| &t.spans) {
                let entry = &span.entry;
                let item = format!(
                    "entry {} (`{}`) for {}",
                    entry.number, entry.name, span.range
                );
                match (entry.status, &entry.errno, &entry.capability) {
                    (crate::model::GvisorStatus::Unimplemented, None, _) => {
                        self.report(&file, item.clone(), "unimplemented without an errno".into());
                    }
                    (crate::model::GvisorStatus::NeedsCapability, _, None) => {
                        self.report(
                            &file,
                            item.clone(),
                            "needs-capability without a capability".into(),
                        );
                    }
                    _ => {}
                }
                if let Some(errno) = &entry.errno {
                    self.errno(&file, &item, errno);
                }
            }
        }
    }

    fn remediations(&mut self) {
        let file = "remediations.toml";
        let store = self.store;
        for r in &store.remediations {
            let item = format!("remediation `{}`", r.id);
            match r.kind {
                RemediationKind::RunscFlag
                    if r.flag.as_deref().is_none_or(|f| !f.starts_with("--")) =>
                {
                    self.report(
                        file,
                        item.clone(),
                        "a runsc-flag needs `flag` starting with `--`".into(),
                    );
                }
                RemediationKind::Annotation
                    if r.annotation.as_deref().is_none_or(|a| !a.contains('=')) =>
                {
                    self.report(
                        file,
                        item.clone(),
                        "an annotation needs `annotation = \"key=value\"`".into(),
                    );
                }
                _ => {}
            }
            if r.sources.is_empty() {
                self.report(file, item.clone(), "no sources".into());
            }
            let tables = self.tables_of(r.runtime);
            self.sources_listed(file, &item, &r.sources, &tables);
        }
    }

    fn kata(&mut self) {
        let file = "kata.toml";
        let mut ids = HashSet::new();
        let db = self.store;
        for fact in &db.kata {
            let item = format!("fact `{}`", fact.id);
            if !ids.insert(fact.id.as_str()) {
                self.report(file, item.clone(), "id used twice".into());
            }
            self.remediation_ids(file, &item, &fact.remediations);
            self.remediation_runtimes(file, &item, Runtime::Kata, &fact.remediations);
            // A fact fixed by configuration names the configuration that fixes it.
            let configured = fact.remediations.iter().any(|id| {
                db.remediation(id).is_some_and(|r| {
                    matches!(
                        r.kind,
                        RemediationKind::Annotation
                            | RemediationKind::NodeConfig
                            | RemediationKind::PodSpec
                    )
                })
            });
            if fact.severity == FactSeverity::NeedsConfig && !configured {
                self.report(
                    file,
                    item.clone(),
                    "needs-config without an annotation, node-config or pod-spec remediation"
                        .into(),
                );
            }
            for syscall in &fact.syscalls {
                self.syscall_exists(file, &item, syscall);
            }
            if fact.sources.is_empty() {
                self.report(file, item.clone(), "no sources".into());
            }
            let tables = self.tables_of(Runtime::Kata);
            self.sources_listed(file, &item, &fact.sources, &tables);
        }
    }

    fn abi(&mut self) {
        let file = "gvisor/abi.toml";
        let db = self.store;
        let mut ids = HashSet::new();
        for fact in &db.abi {
            let item = format!("abi `{}`", fact.id);
            if !ids.insert(fact.id.as_str()) {
                self.report(file, item.clone(), "id used twice".into());
            }
            if ![32, 64].contains(&fact.bits) {
                self.report(
                    file,
                    item.clone(),
                    format!("{} bits: ELF classes are 32 or 64 bits", fact.bits),
                );
            }
            self.errno(file, &item, &fact.errno);
            self.remediation_ids(file, &item, &fact.remediations);
            self.remediation_runtimes(file, &item, fact.runtime, &fact.remediations);
            if fact.sources.is_empty() {
                self.report(file, item.clone(), "no sources".into());
            }
            let tables: Vec<Provenance> = db
                .provenance
                .iter()
                .filter(|p| p.table == "gvisor-abi")
                .cloned()
                .collect();
            self.sources_listed(file, &item, &fact.sources, &tables);
        }
    }

    fn captures(&mut self) {
        let file = "captures.toml";
        let db = self.store;
        let mut seen = HashSet::new();
        for capture in &db.captures {
            let item = format!("capture `{}`", capture.syscall);
            if !seen.insert(capture.syscall.as_str()) {
                self.report(file, item.clone(), "syscall listed twice".into());
            }
            self.syscall_exists(file, &item, &capture.syscall);
            if capture.fields.is_empty() || capture.fields.len() > MAX_CAPTURE_FIELDS {
                self.report(
                    file,
                    item.clone(),
                    format!(
                        "{} fields: between 1 and {MAX_CAPTURE_FIELDS} allowed",
                        capture.fields.len()
                    ),
                );
            }
            let strings = capture.fields.iter().filter(|f| is_string(f.kind)).count();
            if strings > MAX_CAPTURE_STRINGS {
                self.report(
                    file,
                    item.clone(),
                    format!("{strings} string fields: at most {MAX_CAPTURE_STRINGS} allowed"),
                );
            }
            let mut names = HashSet::new();
            for field in &capture.fields {
                let item = format!("{item}, field `{}`", field.name);
                if !names.insert(field.name.as_str()) {
                    self.report(file, item.clone(), "field name used twice".into());
                }
                self.capture_field(file, &item, field);
            }
        }
        for naming in &db.namings {
            self.naming(file, naming);
        }
    }

    /// A field naming refers to captured fields of each of its syscalls, its `by` field
    /// has a group holding every key, and every group it selects exists.
    fn naming(&mut self, file: &str, naming: &FieldNaming) {
        let db = self.store;
        let item = format!("naming of `{}` by `{}`", naming.field, naming.by);
        if naming.syscalls.is_empty() || naming.groups.is_empty() {
            self.report(file, item.clone(), "names no syscall or no group".into());
        }
        for syscall in &naming.syscalls {
            let Some(capture) = db.capture(syscall) else {
                self.report(file, item.clone(), format!("`{syscall}` is not captured"));
                continue;
            };
            for wanted in [&naming.field, &naming.by] {
                if !capture.fields.iter().any(|f| &f.name == wanted) {
                    self.report(
                        file,
                        item.clone(),
                        format!("`{syscall}` has no captured field `{wanted}`"),
                    );
                }
            }
            let Some(by_group) = db.field_group(syscall, &naming.by) else {
                self.report(
                    file,
                    item.clone(),
                    format!(
                        "field `{}` of `{syscall}` names no constant group",
                        naming.by
                    ),
                );
                continue;
            };
            for key in naming.groups.keys() {
                if !db.constants(by_group).iter().any(|c| &c.name == key) {
                    self.report(
                        file,
                        item.clone(),
                        format!("`{key}` is not a constant of group `{by_group}`"),
                    );
                }
            }
        }
        for group in naming.groups.values() {
            if db.constants(group).is_empty() {
                self.report(
                    file,
                    item.clone(),
                    format!("unknown constant group `{group}`"),
                );
            }
        }
    }

    fn capture_field(&mut self, file: &str, item: &str, field: &CaptureField) {
        if field.arg > 5 {
            self.report(
                file,
                item.to_owned(),
                format!("arg {} is not 0 to 5", field.arg),
            );
        }
        let reads_memory = matches!(
            field.kind,
            FieldKind::UserU16 | FieldKind::UserU32 | FieldKind::UserU64
        );
        if field.offset != 0 && !reads_memory {
            self.report(
                file,
                item.to_owned(),
                "offset applies only to user_u16/u32/u64".into(),
            );
        }
        if let Some(group) = &field.names {
            if self.store.constants(group).is_empty() {
                self.report(
                    file,
                    item.to_owned(),
                    format!("unknown constant group `{group}`"),
                );
            }
        }
        match (&field.mask, is_string(field.kind)) {
            (Some(_), true) => {
                self.report(file, item.to_owned(), "a string field takes no mask".into());
            }
            (Some(Value::Name(names)), false) => {
                // The tracer ORs `A|B|C`, each name looked up in the field's group first.
                let group = field.names.as_deref();
                for name in names.split('|').map(str::trim) {
                    if !Arch::NATIVE
                        .iter()
                        .any(|&a| self.store.resolve_constant(group, name, a).is_some())
                    {
                        self.report(
                            file,
                            item.to_owned(),
                            format!("mask names `{name}`, which is not a constant"),
                        );
                    }
                }
            }
            _ => {}
        }
    }
}

fn is_string(kind: FieldKind) -> bool {
    matches!(kind, FieldKind::UserStr | FieldKind::UserPath)
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}
