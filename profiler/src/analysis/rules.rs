//! Judging the argument signatures of one syscall under one runtime by the database's
//! argument rules. Each signature is decided by its most specific matching rule; the
//! signatures decided by the same rule become one finding, with their calls and errnos
//! summed and the first one shown. Signatures no rule matches are handed back for the
//! caller to judge by the syscall's overall support.
//!
//! Syscalls without rules for the runtime are not matched at all, so the long tail of
//! a large profile (paths of syscalls no rule names) costs one lookup per syscall.

use std::collections::{BTreeSet, HashMap};

use syscall_db::{
    Arch, ArgRule, Condition, Database, ErrnoCounts, FieldValue, FieldValues, Runtime, Value,
};

use super::args;
use super::dbref;
use super::finding::{Evidence, Finding, Severity, ShownArg};
use super::flags::RunscFlags;
use super::outcome::{self, Judgement};
use super::usage::{SyscallUse, Usage};
use crate::profile::ArgSignature;

/// Shared inputs of every judgement.
pub struct Judge<'a, 'p> {
    /// The database.
    pub db: &'a Database,
    /// The profile's arch.
    pub arch: Arch,
    /// runsc flags assumed set.
    pub flags: &'a RunscFlags,
    /// The profile, indexed.
    pub usage: &'a Usage<'p>,
}

/// What judging one syscall's signatures produced.
pub struct Judged<'p> {
    /// Findings from matched rules.
    pub findings: Vec<Finding>,
    /// Signatures no rule matched.
    pub unmatched: Vec<&'p ArgSignature>,
    /// True when the profile has no signature of the syscall and no rule applies to it
    /// regardless of arguments.
    pub uncaptured: bool,
}

/// Signatures (or the syscall as a whole) decided by one rule.
struct Group<'a, 'p> {
    rule: &'a ArgRule,
    calls: u64,
    errors: ErrnoCounts,
    executables: BTreeSet<u32>,
    first: Option<&'p ArgSignature>,
    signatures: u64,
}

/// Groups by rule id, in first-match order.
#[derive(Default)]
struct Groups<'a, 'p> {
    list: Vec<Group<'a, 'p>>,
    index: HashMap<&'a str, usize>,
}

impl<'a, 'p> Groups<'a, 'p> {
    fn of(&mut self, rule: &'a ArgRule) -> &mut Group<'a, 'p> {
        let list = &mut self.list;
        let i = *self.index.entry(rule.id.as_str()).or_insert_with(|| {
            list.push(Group {
                rule,
                calls: 0,
                errors: ErrnoCounts::new(),
                executables: BTreeSet::new(),
                first: None,
                signatures: 0,
            });
            list.len() - 1
        });
        &mut self.list[i]
    }
}

impl<'a, 'p> Judge<'a, 'p> {
    /// Judges the calls of `used` under `runtime`.
    pub fn judge(&self, runtime: Runtime, used: &SyscallUse<'p>) -> Judged<'p> {
        let signatures = self.usage.signatures_of(used.name);
        let rules: Vec<&ArgRule> = self
            .db
            .rules_for(runtime, used.name)
            .filter(|rule| rule.arches.is_empty() || rule.arches.contains(&self.arch))
            .collect();
        let mut judged = Judged {
            findings: Vec::new(),
            unmatched: Vec::new(),
            uncaptured: false,
        };
        if rules.is_empty() {
            judged.unmatched = signatures.to_vec();
            judged.uncaptured = signatures.is_empty();
            return judged;
        }

        let mut groups = Groups::default();

        if signatures.is_empty() {
            match self.decide(runtime, used.name, &FieldValues::new()) {
                Some(rule) => {
                    let group = groups.of(rule);
                    group.calls = used.calls;
                    group.errors = used.errors.clone();
                    group.executables.extend(used.executables.iter().copied());
                }
                None => judged.uncaptured = true,
            }
        } else {
            for &sig in signatures {
                let rule = self.decide(runtime, used.name, &sig.fields);
                let Some(rule) = rule else {
                    judged.unmatched.push(sig);
                    continue;
                };
                let group = groups.of(rule);
                group.calls += sig.calls;
                for (errno, count) in &sig.errors {
                    *group.errors.entry(errno.clone()).or_default() += count;
                }
                if let Some(first) = &sig.first {
                    group.executables.insert(first.executable);
                }
                group.first.get_or_insert(sig);
                group.signatures += 1;
            }
        }

        judged.findings = groups
            .list
            .into_iter()
            .filter_map(|group| self.finding(runtime, used, group))
            .collect();
        judged
    }

    /// The most specific rule matching `fields`, if any.
    fn decide(&self, runtime: Runtime, syscall: &str, fields: &FieldValues) -> Option<&'a ArgRule> {
        self.db
            .best_matching_rule(runtime, self.arch, syscall, fields)
    }

    fn finding(
        &self,
        runtime: Runtime,
        used: &SyscallUse<'p>,
        group: Group<'a, 'p>,
    ) -> Option<Finding> {
        let rule = group.rule;
        let call = self.call(used.name, rule, group.first);
        let (severity, title, effect) =
            match outcome::judge(self.db, &rule.outcome, &rule.remediations, self.flags) {
                Judgement::Fine => return None,
                Judgement::Configured(remediation) => {
                    let setting = remediation.flag.as_deref().unwrap_or(&remediation.id);
                    (
                        Severity::Info,
                        format!("{call} works with {setting} as configured"),
                        format!("With {setting} set, this works. Without it: {}", rule.note),
                    )
                }
                Judgement::Finding(severity) => {
                    let title = format!("{call} {}", outcome::phrase(&rule.outcome));
                    match outcome::refused_errno(&rule.outcome) {
                        Some(errno)
                            if outcome::already_failed(group.calls, &group.errors, errno) =>
                        {
                            (
                                Severity::Info,
                                format!("{title}, as it already did under runc"),
                                format!(
                                "{} Every one of these calls already failed with {errno} under \
                                 runc, so this is not a regression.",
                                rule.note
                            ),
                            )
                        }
                        _ => (severity, title, rule.note.clone()),
                    }
                }
            };
        let mut detail = Vec::new();
        if let Some(from) = self.unchecked_since(rule) {
            detail.push(format!(
                "This rule was checked against gVisor releases from {from} on; {} may differ.",
                self.db.release()
            ));
        }
        if group.signatures > 1 {
            detail.push(format!(
                "{} distinct argument signatures match this rule; the first seen is shown.",
                group.signatures
            ));
        }
        let first = match group.first.and_then(|sig| sig.first.as_ref()) {
            Some(first) => Some(self.usage.first_use(first)),
            None => used
                .executables
                .first()
                .map(|&exe| self.usage.executable_occurrence(exe)),
        };
        Some(Finding {
            runtime,
            severity,
            category: dbref::category(&rule.category),
            title,
            effect,
            evidence: Evidence {
                syscall: Some(used.name.to_owned()),
                args: group
                    .first
                    .map_or_else(Vec::new, |sig| self.rule_args(used.name, rule, sig)),
                calls: group.calls,
                errors: group.errors,
                first,
                last: None,
                executables: self.usage.sorted_paths(group.executables),
                detail,
            },
            remediations: dbref::remediation_refs(self.db, &rule.remediations),
            reference: dbref::rule_reference(self.db, rule),
            observation: None,
        })
    }

    /// The oldest release `rule`'s facts were checked against, when the release judged
    /// is older.
    fn unchecked_since(&self, rule: &ArgRule) -> Option<syscall_db::Release> {
        let from = self.db.rule_provenance(&rule.id)?.checked_from?;
        (self.db.release() < from).then_some(from)
    }

    /// The name the rule's condition on `field` uses for `value`, when the condition
    /// names it: `NETLINK_ROUTE` or `TCP_NODELAY` rather than what the field's own
    /// constant group calls the same number (`IPPROTO_IP`, or nothing for an option
    /// number). Names resolve as matching resolves them: in the group the call's fields
    /// select first, then in any group.
    fn condition_name<'r>(
        &self,
        syscall: &str,
        rule: &'r ArgRule,
        fields: &FieldValues,
        field: &str,
        value: &FieldValue,
    ) -> Option<&'r str> {
        let FieldValue::Int(number) = value else {
            return None;
        };
        let group = self.db.value_group(self.arch, syscall, field, fields);
        let names: &[Value] = match rule.when.get(field)? {
            Condition::Eq(one) => std::slice::from_ref(one),
            Condition::In(many) => many,
            _ => return None,
        };
        names.iter().find_map(|candidate| match candidate {
            Value::Name(name)
                if self.db.resolve_constant(group, name, self.arch) == Some(*number) =>
            {
                Some(name.as_str())
            }
            _ => None,
        })
    }

    /// The fields of `sig` that `rule` decided on, shown with the rule's names for them.
    fn rule_args(&self, syscall: &str, rule: &ArgRule, sig: &ArgSignature) -> Vec<ShownArg> {
        sig.fields
            .iter()
            .filter(|(name, _)| rule.when.contains_key(name.as_str()))
            .map(|(name, value)| {
                let mut arg =
                    args::shown_arg(self.db, self.arch, syscall, &sig.fields, name, value);
                if let Some(symbol) = self.condition_name(syscall, rule, &sig.fields, name, value) {
                    arg.symbol = Some(symbol.to_owned());
                }
                arg
            })
            .collect()
    }

    /// `socket(domain=AF_NETLINK, protocol=NETLINK_SOCK_DIAG)`: the call with the fields
    /// the rule decided on, from the first signature; `name()` without one.
    fn call(&self, syscall: &str, rule: &ArgRule, first: Option<&ArgSignature>) -> String {
        let Some(sig) = first else {
            return format!("{syscall}()");
        };
        let shown: Vec<String> = self
            .rule_args(syscall, rule, sig)
            .iter()
            .map(|arg| {
                let is_string = matches!(sig.fields.get(&arg.name), Some(FieldValue::Str(_)));
                format!("{}={}", arg.name, args::title_value(arg, is_string))
            })
            .collect();
        format!("{syscall}({})", shown.join(", "))
    }
}
