//! The rules indexed for matching: by runtime and syscall (built at load), and, per
//! arch on first use, compiled: each rule's symbolic names resolved to numbers once,
//! path globs parsed once, and the rules of each (runtime,
//! syscall) kept most specific first. Matching a signature then costs a hash lookup and
//! one pass over the few rules of its syscall, with no allocation.

use std::collections::HashMap;

use crate::matching::Glob;
use crate::model::{Arch, ArgRule, Condition, FieldValue, FieldValues, Runtime, Value};

/// Rule positions in file order, by runtime and syscall name.
#[derive(Debug, Default)]
pub(crate) struct RuleIndex {
    by_syscall: HashMap<Runtime, HashMap<String, Vec<usize>>>,
}

impl RuleIndex {
    pub(crate) fn new(rules: &[ArgRule]) -> RuleIndex {
        let mut by_syscall: HashMap<Runtime, HashMap<String, Vec<usize>>> = HashMap::new();
        for (i, rule) in rules.iter().enumerate() {
            let of_runtime = by_syscall.entry(rule.runtime).or_default();
            for syscall in &rule.syscalls {
                let positions = of_runtime.entry(syscall.clone()).or_default();
                // A rule naming a syscall twice is still one rule.
                if positions.last() != Some(&i) {
                    positions.push(i);
                }
            }
        }
        RuleIndex { by_syscall }
    }

    /// Positions of the rules of `runtime` that name `syscall`, in file order.
    pub(crate) fn positions(&self, runtime: Runtime, syscall: &str) -> &[usize] {
        self.by_syscall
            .get(&runtime)
            .and_then(|of_runtime| of_runtime.get(syscall))
            .map_or(&[], Vec::as_slice)
    }

    /// Every (runtime, syscall) with at least one rule.
    fn keys(&self) -> impl Iterator<Item = (Runtime, &str)> {
        self.by_syscall.iter().flat_map(|(&runtime, of_runtime)| {
            of_runtime
                .keys()
                .map(move |syscall| (runtime, syscall.as_str()))
        })
    }
}

/// The rules of one arch, compiled, by runtime and syscall.
#[derive(Debug, Default)]
pub(crate) struct CompiledRules {
    by_syscall: HashMap<Runtime, HashMap<String, Vec<CompiledRule>>>,
}

/// One rule as it applies to one syscall on one arch.
#[derive(Debug)]
pub(crate) struct CompiledRule {
    /// Position in the database's rule list.
    pub(crate) position: usize,
    conditions: Vec<(String, Compiled)>,
}

/// A condition with its names resolved. A name that does not resolve never matches an
/// integer; it still matches an equal string.
#[derive(Debug)]
enum Compiled {
    /// `eq` and `in`: the numbers and the strings the field may equal.
    OneOf {
        numbers: Vec<u64>,
        strings: Vec<String>,
    },
    /// `any_bits`: the ORed mask.
    AnyBits(u64),
    /// `prefix`.
    Prefix(String),
    /// `glob`, parsed.
    Glob(Glob),
}

impl CompiledRules {
    /// Compiles the rules of `arch`. `resolve(syscall, field, name)` is the value of a
    /// symbolic name in a condition on that field, as matching resolves it.
    pub(crate) fn new(
        rules: &[ArgRule],
        index: &RuleIndex,
        arch: Arch,
        resolve: impl Fn(&str, &str, &str) -> Option<u64>,
    ) -> CompiledRules {
        let mut by_syscall: HashMap<Runtime, HashMap<String, Vec<CompiledRule>>> = HashMap::new();
        for (runtime, syscall) in index.keys() {
            let mut compiled: Vec<CompiledRule> = index
                .positions(runtime, syscall)
                .iter()
                .map(|&position| (position, &rules[position]))
                .filter(|(_, rule)| rule.arches.is_empty() || rule.arches.contains(&arch))
                .map(|(position, rule)| CompiledRule {
                    position,
                    conditions: rule
                        .when
                        .iter()
                        .map(|(field, condition)| {
                            let resolve = |name: &str| resolve(syscall, field, name);
                            (field.clone(), compile(condition, resolve))
                        })
                        .collect(),
                })
                .collect();
            // Most specific first: more conditions first, file order breaking ties
            // (the sort is stable and positions are in file order).
            compiled.sort_by_key(|rule| std::cmp::Reverse(rule.conditions.len()));
            by_syscall
                .entry(runtime)
                .or_default()
                .insert(syscall.to_owned(), compiled);
        }
        CompiledRules { by_syscall }
    }

    /// The compiled rules of `runtime` for `syscall`, most specific first.
    pub(crate) fn of(&self, runtime: Runtime, syscall: &str) -> &[CompiledRule] {
        self.by_syscall
            .get(&runtime)
            .and_then(|of_runtime| of_runtime.get(syscall))
            .map_or(&[], Vec::as_slice)
    }
}

impl CompiledRule {
    /// Whether every condition holds for `fields`; a field the signature lacks fails
    /// its condition.
    pub(crate) fn matches(&self, fields: &FieldValues) -> bool {
        self.conditions.iter().all(|(field, condition)| {
            fields
                .get(field)
                .is_some_and(|value| holds(condition, value))
        })
    }
}

fn compile(condition: &Condition, resolve: impl Fn(&str) -> Option<u64>) -> Compiled {
    let one_of = |values: &[Value]| {
        let mut numbers = Vec::new();
        let mut strings = Vec::new();
        for value in values {
            match value {
                Value::Number(n) => numbers.push(*n),
                Value::Name(name) => {
                    numbers.extend(resolve(name));
                    strings.push(name.clone());
                }
            }
        }
        Compiled::OneOf { numbers, strings }
    };
    match condition {
        Condition::Eq(value) => one_of(std::slice::from_ref(value)),
        Condition::In(values) => one_of(values),
        Condition::AnyBits(bits) => Compiled::AnyBits(
            bits.iter()
                .filter_map(|bit| match bit {
                    Value::Number(n) => Some(*n),
                    Value::Name(name) => resolve(name),
                })
                .fold(0, |mask, bit| mask | bit),
        ),
        Condition::Prefix(prefix) => Compiled::Prefix(prefix.clone()),
        Condition::Glob(pattern) => Compiled::Glob(Glob::new(pattern)),
    }
}

fn holds(condition: &Compiled, value: &FieldValue) -> bool {
    match (condition, value) {
        (Compiled::OneOf { numbers, .. }, FieldValue::Int(v)) => numbers.contains(v),
        (Compiled::OneOf { strings, .. }, FieldValue::Str(s)) => strings.iter().any(|n| n == s),
        (Compiled::AnyBits(mask), FieldValue::Int(v)) => v & mask != 0,
        (Compiled::Prefix(prefix), FieldValue::Str(s)) => s.starts_with(prefix.as_str()),
        (Compiled::Glob(glob), FieldValue::Str(s)) => glob.matches(s),
        (Compiled::AnyBits(_) | Compiled::Prefix(_) | Compiled::Glob(_), _) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(name: &str) -> Option<u64> {
        match name {
            "AF_NETLINK" => Some(16),
            "CLONE_NEWNET" => Some(0x4000_0000),
            _ => None,
        }
    }

    fn check(condition: Condition, value: &FieldValue) -> bool {
        holds(&compile(&condition, resolve), value)
    }

    fn name(text: &str) -> Value {
        Value::Name(text.to_owned())
    }

    #[test]
    fn integer_conditions() {
        let v = FieldValue::Int(16);
        assert!(check(Condition::Eq(name("AF_NETLINK")), &v));
        assert!(check(Condition::Eq(Value::Number(16)), &v));
        assert!(!check(Condition::Eq(name("AF_UNKNOWN")), &v));
        assert!(check(
            Condition::In(vec![Value::Number(2), name("AF_NETLINK")]),
            &v
        ));
        let flags = FieldValue::Int(0x4000_0000 | 0x100);
        assert!(check(
            Condition::AnyBits(vec![name("CLONE_NEWNET")]),
            &flags
        ));
        assert!(!check(Condition::AnyBits(vec![Value::Number(0x8)]), &flags));
    }

    #[test]
    fn string_conditions() {
        let path = FieldValue::Str("/dev/net/tun".into());
        assert!(check(Condition::Prefix("/dev/net/".into()), &path));
        assert!(check(Condition::Eq(name("/dev/net/tun")), &path));
        assert!(!check(Condition::Eq(Value::Number(1)), &path));
        assert!(!check(
            Condition::Prefix("/dev".into()),
            &FieldValue::Int(1)
        ));
        let smaps = Condition::Glob("/proc/{self,#}/smaps_rollup".into());
        assert!(check(
            smaps,
            &FieldValue::Str("/proc/#/smaps_rollup".into())
        ));
    }

    #[test]
    fn index_keeps_file_order_and_names_each_rule_once() {
        let rule = |id: &str, syscalls: &[&str]| ArgRule {
            id: id.to_owned(),
            runtime: Runtime::Gvisor,
            category: "syscall".to_owned(),
            syscalls: syscalls.iter().map(|s| (*s).to_owned()).collect(),
            arches: Vec::new(),
            when: Default::default(),
            outcome: crate::model::Outcome::Works,
            remediations: Vec::new(),
            note: String::new(),
            sources: Vec::new(),
            first: None,
            last: None,
        };
        let rules = [
            rule("a", &["open", "openat"]),
            rule("b", &["openat", "openat"]),
        ];
        let index = RuleIndex::new(&rules);
        assert_eq!(index.positions(Runtime::Gvisor, "openat"), [0, 1]);
        assert_eq!(index.positions(Runtime::Gvisor, "open"), [0]);
        assert_eq!(index.positions(Runtime::Kata, "openat"), [] as [usize; 0]);
    }
}
