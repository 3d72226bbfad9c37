//! Invariants of the argument rules: references resolve, conditions fit the captured
//! fields they test, path conditions can match what the tracer keeps, and gVisor rules
//! sharing an id hold for releases that do not overlap.

use crate::matching::glob_is_valid;
use crate::model::{
    Arch, ArgRule, CaptureField, Condition, FieldKind, Outcome, Value, RULE_CATEGORIES,
};
use crate::paths::USER_PATH_PREFIXES;

use super::{is_string, Validator};

impl Validator<'_> {
    pub(super) fn rule(&mut self, file: &str, rule: &ArgRule) {
        let item = format!("rule `{}`", rule.id);
        let db = self.store;
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
            Outcome::Works | Outcome::Ignored | Outcome::Degraded => {}
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
                        if self.store.resolve_constant(group, name, arch).is_none() {
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
