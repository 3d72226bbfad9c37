//! The database's invariants: every reference resolves (syscalls, errnos, constants,
//! capture fields, remediations of the same runtime), ids are unique, capture entries
//! fit the tracer's limits, path conditions can match what the tracer keeps, and
//! provenance is complete (every cited file is listed by its table). Each broken
//! invariant becomes a [`Problem`] naming its file and item.

use std::collections::{BTreeMap, HashSet};

use crate::database::Database;
use crate::error::Problem;
use crate::load::problem;
use crate::matching::glob_is_valid;
use crate::model::{
    Arch, ArgRule, CaptureField, Condition, FactSeverity, FieldKind, FieldNaming, Outcome,
    Provenance, RemediationKind, Runtime, Source, Value, RULE_CATEGORIES,
};
use crate::paths::USER_PATH_PREFIXES;

/// At most this many fields per captured syscall (the probe's record has 4 slots).
pub const MAX_CAPTURE_FIELDS: usize = 4;
/// At most this many of them strings (the probe reads at most 2 strings per call).
pub const MAX_CAPTURE_STRINGS: usize = 2;

pub(crate) fn check(
    db: &Database,
    rule_files: &[String],
    notes: &BTreeMap<String, String>,
    problems: &mut Vec<Problem>,
) {
    let mut v = Validator { db, problems };
    v.constants();
    v.provenance();
    v.gvisor();
    for name in notes.keys() {
        if !Arch::NATIVE
            .iter()
            .any(|&a| db.syscall_by_name(a, name).is_some())
        {
            v.report(
                "gvisor/notes.toml",
                format!("note `{name}`"),
                "no native arch has this syscall".into(),
            );
        }
    }
    v.remediations();
    v.kata();
    v.abi();
    v.captures();
    let mut ids = HashSet::new();
    for ((rule, file), &table) in db.rules.iter().zip(rule_files).zip(&db.rule_tables) {
        let item = format!("rule `{}`", rule.id);
        if !ids.insert(rule.id.as_str()) {
            v.report(file, item.clone(), "id used twice".into());
        }
        v.rule(file, rule);
        if let Some(provenance) = db.provenance.get(table) {
            v.sources_listed(file, &item, &rule.sources, std::slice::from_ref(provenance));
        }
    }
}

struct Validator<'a> {
    db: &'a Database,
    problems: &'a mut Vec<Problem>,
}

impl Validator<'_> {
    fn report(&mut self, file: &str, item: String, message: String) {
        self.problems.push(problem(file, item, message));
    }

    fn errno(&mut self, file: &str, item: &str, errno: &str) {
        if self.db.errno_number(errno).is_none() {
            self.report(file, item.to_owned(), format!("unknown errno `{errno}`"));
        }
    }

    fn syscall_exists(&mut self, file: &str, item: &str, name: &str) {
        if ![Arch::X86_64, Arch::Aarch64, Arch::I386]
            .iter()
            .any(|&a| self.db.syscall_by_name(a, name).is_some())
        {
            let suggestions = crate::suggest::nearest_names(
                self.db
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
            if self.db.remediation(id).is_none() {
                self.report(file, item.to_owned(), format!("unknown remediation `{id}`"));
            }
        }
    }

    /// Every remediation a rule or fact of `runtime` points to configures that runtime.
    fn remediation_runtimes(&mut self, file: &str, item: &str, runtime: Runtime, ids: &[String]) {
        for id in ids {
            if let Some(r) = self.db.remediation(id) {
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
        self.db
            .provenance
            .iter()
            .filter(|p| p.project.to_ascii_lowercase().contains(runtime.as_str()))
            .cloned()
            .collect()
    }

    fn constants(&mut self) {
        let file = "constants.toml";
        if self.db.constants("errno").is_empty() {
            self.report(
                file,
                "group `errno`".into(),
                "missing: errno names cannot be checked".into(),
            );
        }
        for (group, constants) in &self.db.constants {
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
        let tables: Vec<Provenance> = self.db.provenance.clone();
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
        let db = self.db;
        for arch in Arch::NATIVE {
            let file = format!("gvisor/{arch}.toml");
            for entry in db.gvisor_table(arch) {
                let item = format!("entry {} (`{}`)", entry.number, entry.name);
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
        let mut ids = HashSet::new();
        for r in &self.db.remediations {
            let item = format!("remediation `{}`", r.id);
            if !ids.insert(r.id.as_str()) {
                self.report(file, item.clone(), "id used twice".into());
            }
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
        let db = self.db;
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
        let db = self.db;
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
        let db = self.db;
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
        let db = self.db;
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
            if self.db.constants(group).is_empty() {
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
                        .any(|&a| self.db.resolve_constant(group, name, a).is_some())
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

    fn rule(&mut self, file: &str, rule: &ArgRule) {
        let item = format!("rule `{}`", rule.id);
        let db = self.db;
        if rule.syscalls.is_empty() {
            self.report(file, item.clone(), "no syscalls".into());
        }
        if rule.sources.is_empty() {
            self.report(file, item.clone(), "no sources".into());
        }
        if rule.note.trim().is_empty() {
            self.report(file, item.clone(), "empty note".into());
        }
        if !RULE_CATEGORIES.contains(&rule.category.as_str()) {
            self.report(
                file,
                item.clone(),
                format!(
                    "unknown category `{}` (known: {})",
                    rule.category,
                    RULE_CATEGORIES.join(", ")
                ),
            );
        }
        match &rule.outcome {
            Outcome::Fails { errno } => self.errno(file, &item, errno),
            Outcome::NeedsConfig { errno } => {
                self.errno(file, &item, errno);
                if rule.remediations.is_empty() {
                    self.report(
                        file,
                        item.clone(),
                        "needs-config without a remediation".into(),
                    );
                }
            }
            Outcome::Works | Outcome::Ignored | Outcome::Degraded => {
                if rule.handled.is_some() {
                    self.report(
                        file,
                        item.clone(),
                        "`handled` says how callers cope with a refusal, but the outcome \
                         refuses nothing"
                            .into(),
                    );
                }
            }
        }
        self.remediation_ids(file, &item, &rule.remediations);
        self.remediation_runtimes(file, &item, rule.runtime, &rule.remediations);
        for syscall in &rule.syscalls {
            self.syscall_exists(file, &item, syscall);
            let arches: Vec<Arch> = if rule.arches.is_empty() {
                Arch::NATIVE.to_vec()
            } else {
                rule.arches.clone()
            };
            let present: Vec<Arch> = arches
                .into_iter()
                .filter(|&a| db.syscall_by_name(a, syscall).is_some())
                .collect();
            if present.is_empty() && !rule.when.is_empty() {
                continue;
            }
            for (field_name, condition) in &rule.when {
                let field = db
                    .capture(syscall)
                    .and_then(|c| c.fields.iter().find(|f| f.name == *field_name));
                let Some(field) = field else {
                    self.report(
                        file,
                        item.clone(),
                        format!(
                            "`{syscall}` has no captured field `{field_name}` (see captures.toml)"
                        ),
                    );
                    continue;
                };
                self.condition(file, &item, syscall, field, condition, &present);
            }
        }
    }

    fn condition(
        &mut self,
        file: &str,
        item: &str,
        syscall: &str,
        field: &CaptureField,
        condition: &Condition,
        arches: &[Arch],
    ) {
        let string = is_string(field.kind);
        let values: &[Value] = match condition {
            Condition::Eq(v) => std::slice::from_ref(v),
            Condition::In(vs) | Condition::AnyBits(vs) => vs,
            Condition::Prefix(_) | Condition::Glob(_) => &[],
        };
        let mismatch = match condition {
            Condition::AnyBits(_) => string,
            Condition::Prefix(_) => !string,
            Condition::Glob(pattern) => {
                if !glob_is_valid(pattern) {
                    self.report(file, item.to_owned(), format!("malformed glob `{pattern}`"));
                }
                !string
            }
            Condition::Eq(_) | Condition::In(_) => false,
        };
        if mismatch {
            self.report(
                file,
                item.to_owned(),
                format!(
                    "condition on `{syscall}.{}` does not fit a {:?} field",
                    field.name, field.kind
                ),
            );
            return;
        }
        if field.kind == FieldKind::UserPath {
            self.path_condition(file, item, condition);
        }
        for value in values {
            match (value, string) {
                (Value::Number(n), true) => self.report(
                    file,
                    item.to_owned(),
                    format!(
                        "number {n} compared with string field `{syscall}.{}`",
                        field.name
                    ),
                ),
                (Value::Name(name), false) => {
                    let group = field.names.as_deref();
                    for &arch in arches {
                        if self.db.resolve_constant(group, name, arch).is_none() {
                            self.report(
                                file,
                                item.to_owned(),
                                format!(
                                    "`{name}` is not a {arch} constant (field `{syscall}.{}`)",
                                    field.name
                                ),
                            );
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

impl Validator<'_> {
    /// A condition on a `user_path` field must be able to match what the tracer keeps:
    /// a path under one of [`USER_PATH_PREFIXES`], with numbers folded to `#`.
    fn path_condition(&mut self, file: &str, item: &str, condition: &Condition) {
        let pattern = match condition {
            Condition::Eq(Value::Name(p)) | Condition::Prefix(p) | Condition::Glob(p) => p,
            Condition::In(values) => {
                for value in values {
                    self.path_condition(file, item, &Condition::Eq(value.clone()));
                }
                return;
            }
            Condition::Eq(Value::Number(_)) | Condition::AnyBits(_) => return,
        };
        if !crate::paths::is_kept_path(pattern) {
            self.report(
                file,
                item.to_owned(),
                format!(
                    "path `{pattern}` is outside {}: the tracer keeps no such path",
                    USER_PATH_PREFIXES.join(", ")
                ),
            );
        }
        let numeric = pattern
            .split(['/', '{', '}', ','])
            .any(|piece| !piece.is_empty() && piece.bytes().all(|b| b.is_ascii_digit()));
        if numeric {
            self.report(
                file,
                item.to_owned(),
                format!(
                    "path `{pattern}` has a numeric component: the tracer folds numbers to `#`"
                ),
            );
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
