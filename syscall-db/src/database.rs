//! [`Database`]: the loaded, validated tables and every query the rest of sandprof makes.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use crate::error::Error;
use crate::model::{
    AbiFact, Arch, ArgRule, Capture, Constant, FieldNaming, FieldValue, FieldValues, GvisorSyscall,
    KataFact, Provenance, Remediation, Runtime, Syscall,
};
use crate::rule_index::{CompiledRules, RuleIndex};
use crate::sources::Sources;
use crate::suggest;

/// The compatibility database. Build it with [`Database::get`] (the embedded data) or
/// [`Database::from_sources`] (any data set, validated the same way).
#[derive(Debug)]
pub struct Database {
    pub(crate) version: String,
    pub(crate) gvisor_revision: String,
    pub(crate) syscalls: BTreeMap<Arch, Indexed<Syscall>>,
    pub(crate) gvisor: BTreeMap<Arch, Indexed<GvisorSyscall>>,
    pub(crate) rules: Vec<ArgRule>,
    /// Rules by runtime and syscall.
    pub(crate) rule_index: RuleIndex,
    /// Rules compiled for matching, per native arch, built on first use.
    pub(crate) compiled: [OnceLock<CompiledRules>; 2],
    /// For each rule, the index in `provenance` of its file's table.
    pub(crate) rule_tables: Vec<usize>,
    pub(crate) remediations: Vec<Remediation>,
    pub(crate) kata: Vec<KataFact>,
    pub(crate) abi: Vec<AbiFact>,
    pub(crate) captures: Vec<Capture>,
    /// Fields named by another field's value (captures.toml `[[naming]]`).
    pub(crate) namings: Vec<FieldNaming>,
    pub(crate) constants: BTreeMap<String, Vec<Constant>>,
    pub(crate) provenance: Vec<Provenance>,
}

/// A table sorted by syscall number with a name index.
#[derive(Debug, Default)]
pub(crate) struct Indexed<T> {
    pub(crate) rows: Vec<T>,
    pub(crate) by_name: HashMap<String, usize>,
}

impl<T> Indexed<T> {
    fn get(&self, name: &str) -> Option<&T> {
        self.by_name.get(name).map(|&i| &self.rows[i])
    }
}

static EMBEDDED: OnceLock<Database> = OnceLock::new();

impl Database {
    /// The database compiled into this build, loaded on first use.
    pub fn get() -> &'static Database {
        EMBEDDED.get_or_init(|| {
            Database::from_sources(&Sources::embedded())
                .expect("embedded data is valid: the `embedded_database_loads` test guards it")
        })
    }

    /// Parses and validates a data set.
    pub fn from_sources(sources: &Sources) -> Result<Database, Error> {
        crate::load::load(sources)
    }

    /// Version of the data set, e.g. `2026.11.0`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The gVisor commit the gVisor tables were generated from.
    pub fn gvisor_revision(&self) -> &str {
        &self.gvisor_revision
    }

    /// Every syscall of `arch`, sorted by number.
    pub fn syscalls(&self, arch: Arch) -> &[Syscall] {
        self.syscalls.get(&arch).map_or(&[], |t| &t.rows)
    }

    /// The syscall named `name` in `arch`.
    pub fn syscall_by_name(&self, arch: Arch, name: &str) -> Option<&Syscall> {
        self.syscalls.get(&arch)?.get(name)
    }

    /// The syscall numbered `nr` in `arch`.
    pub fn syscall_by_number(&self, arch: Arch, nr: u32) -> Option<&Syscall> {
        let rows = self.syscalls(arch);
        rows.binary_search_by_key(&nr, |s| s.number)
            .ok()
            .map(|i| &rows[i])
    }

    /// Resolves a name or a decimal number. Unknown queries get an error naming the
    /// nearest syscalls.
    pub fn resolve_syscall(&self, arch: Arch, query: &str) -> Result<&Syscall, Error> {
        let query = query.trim();
        if let Ok(number) = query.parse::<u32>() {
            return self.syscall_by_number(arch, number).ok_or_else(|| {
                Error::UnknownSyscallNumber {
                    arch,
                    number,
                    suggestions: suggest::nearest_numbers(self.syscalls(arch), number),
                }
            });
        }
        let name = query.strip_prefix("sys_").unwrap_or(query);
        self.syscall_by_name(arch, name)
            .ok_or_else(|| Error::UnknownSyscallName {
                arch,
                name: query.to_owned(),
                suggestions: suggest::nearest_names(
                    self.syscalls(arch).iter().map(|s| s.name.as_str()),
                    name,
                ),
            })
    }

    /// gVisor's handling of the syscall `name` on `arch`. Every syscall of a native arch
    /// has an entry; numbers gVisor's table lacks are unimplemented with ENOSYS and an
    /// event (`in_upstream_table` is false). None for i386 (gVisor runs no 32-bit code)
    /// and for names the arch lacks.
    pub fn gvisor(&self, arch: Arch, name: &str) -> Option<&GvisorSyscall> {
        self.gvisor.get(&arch)?.get(name)
    }

    /// gVisor's table for `arch`, one entry per syscall, sorted by number.
    pub fn gvisor_table(&self, arch: Arch) -> &[GvisorSyscall] {
        self.gvisor.get(&arch).map_or(&[], |t| &t.rows)
    }

    /// Every argument rule, in file order.
    pub fn rules(&self) -> &[ArgRule] {
        &self.rules
    }

    /// The provenance of the rule file holding rule `id`.
    pub fn rule_provenance(&self, id: &str) -> Option<&Provenance> {
        let index = self.rules.iter().position(|r| r.id == id)?;
        self.provenance.get(*self.rule_tables.get(index)?)
    }

    /// Rules of `runtime` that name `syscall`, in file order.
    pub fn rules_for(&self, runtime: Runtime, syscall: &str) -> impl Iterator<Item = &ArgRule> {
        self.rule_index
            .positions(runtime, syscall)
            .iter()
            .map(|&i| &self.rules[i])
    }

    /// Rules of `runtime` for `syscall` whose every condition holds for `fields`, most
    /// specific first (more conditions first; file order breaks ties). Symbolic values
    /// resolve through the constants table for `arch`: in the field's group first, then
    /// in any group. Glob semantics as documented on
    /// [`Condition::Glob`](crate::model::Condition::Glob).
    pub fn matching_rules(
        &self,
        runtime: Runtime,
        arch: Arch,
        syscall: &str,
        fields: &FieldValues,
    ) -> Vec<&ArgRule> {
        self.matching(runtime, arch, syscall, fields).collect()
    }

    /// The most specific rule of `runtime` for `syscall` matching `fields`: the first of
    /// [`Database::matching_rules`], without collecting the others.
    pub fn best_matching_rule(
        &self,
        runtime: Runtime,
        arch: Arch,
        syscall: &str,
        fields: &FieldValues,
    ) -> Option<&ArgRule> {
        self.matching(runtime, arch, syscall, fields).next()
    }

    fn matching<'a, 'f>(
        &'a self,
        runtime: Runtime,
        arch: Arch,
        syscall: &str,
        fields: &'f FieldValues,
    ) -> impl Iterator<Item = &'a ArgRule> + use<'a, 'f> {
        let compiled: &[_] = match self.compiled_rules(arch) {
            Some(compiled) => compiled.of(runtime, syscall),
            None => &[],
        };
        compiled
            .iter()
            .filter(move |rule| rule.matches(fields))
            .map(|rule| &self.rules[rule.position])
    }

    /// The rules compiled for `arch`, compiled on first use; None for a compat ABI, which
    /// no rule applies to.
    fn compiled_rules(&self, arch: Arch) -> Option<&CompiledRules> {
        let slot = Arch::NATIVE.iter().position(|&native| native == arch)?;
        Some(self.compiled[slot].get_or_init(|| {
            CompiledRules::new(
                &self.rules,
                &self.rule_index,
                arch,
                |syscall, field, name| {
                    self.resolve_constant(self.field_group(syscall, field), name, arch)
                },
            )
        }))
    }

    /// The constant group naming the values of `field` of `syscall`'s capture.
    pub fn field_group(&self, syscall: &str, field: &str) -> Option<&str> {
        self.capture(syscall)?
            .fields
            .iter()
            .find(|f| f.name == field)?
            .names
            .as_deref()
    }

    /// The constant group naming the value of `field` in a call of `syscall` whose
    /// captured fields are `fields`: the group the value of another field selects, when a
    /// [`FieldNaming`] says so (`optname` by `level`, a socket `protocol` by `domain`),
    /// else the field's own group.
    pub fn value_group(
        &self,
        arch: Arch,
        syscall: &str,
        field: &str,
        fields: &FieldValues,
    ) -> Option<&str> {
        let selected = self
            .namings
            .iter()
            .filter(|n| n.field == field && n.syscalls.iter().any(|s| s == syscall))
            .find_map(|naming| {
                let FieldValue::Int(value) = fields.get(&naming.by)? else {
                    return None;
                };
                let by_group = self.field_group(syscall, &naming.by)?;
                let name = self.constant_name(by_group, *value, arch)?;
                naming.groups.get(name).map(String::as_str)
            });
        selected.or_else(|| self.field_group(syscall, field))
    }

    /// Every field naming, in file order.
    pub fn field_namings(&self) -> &[FieldNaming] {
        &self.namings
    }

    /// The value of a symbolic name in a rule: looked up in `group` (the field's group)
    /// first, then in every group, so a field may be compared with names of a related
    /// group (e.g. socket protocols with `NETLINK_*` names).
    pub fn resolve_constant(&self, group: Option<&str>, name: &str, arch: Arch) -> Option<u64> {
        group
            .and_then(|g| self.constant(g, name, arch))
            .or_else(|| {
                self.constants
                    .keys()
                    .find_map(|g| self.constant(g, name, arch))
            })
    }

    /// The remediation with this id.
    pub fn remediation(&self, id: &str) -> Option<&Remediation> {
        self.remediations.iter().find(|r| r.id == id)
    }

    /// Every remediation, in file order.
    pub fn remediations(&self) -> &[Remediation] {
        &self.remediations
    }

    /// Every Kata fact, in file order.
    pub fn kata_facts(&self) -> &[KataFact] {
        &self.kata
    }

    /// Every ABI fact, in file order.
    pub fn abi_facts(&self) -> &[AbiFact] {
        &self.abi
    }

    /// What `runtime` does with executables of `bits` bits, if the database says it does
    /// not run them.
    pub fn abi_fact(&self, runtime: Runtime, bits: u8) -> Option<&AbiFact> {
        self.abi
            .iter()
            .find(|f| f.runtime == runtime && f.bits == bits)
    }

    /// The Kata fact with this id.
    pub fn kata_fact(&self, id: &str) -> Option<&KataFact> {
        self.kata.iter().find(|f| f.id == id)
    }

    /// The tracer's capture spec, one entry per syscall, in file order.
    pub fn captures(&self) -> &[Capture] {
        &self.captures
    }

    /// Which arguments of `syscall` the tracer records.
    pub fn capture(&self, syscall: &str) -> Option<&Capture> {
        self.captures.iter().find(|c| c.syscall == syscall)
    }

    /// The value of constant `name` of `group` on `arch`.
    pub fn constant(&self, group: &str, name: &str, arch: Arch) -> Option<u64> {
        self.constants(group)
            .iter()
            .find(|c| c.name == name && applies(c, arch))
            .map(|c| c.value)
    }

    /// The first name of `group` with this value on `arch`.
    pub fn constant_name(&self, group: &str, value: u64, arch: Arch) -> Option<&str> {
        self.constants(group)
            .iter()
            .find(|c| c.value == value && applies(c, arch))
            .map(|c| c.name.as_str())
    }

    /// Every constant of `group`, in file order; empty for an unknown group.
    pub fn constants(&self, group: &str) -> &[Constant] {
        self.constants.get(group).map_or(&[], Vec::as_slice)
    }

    /// Names of every constant group.
    pub fn constant_groups(&self) -> impl Iterator<Item = &str> {
        self.constants.keys().map(String::as_str)
    }

    /// The name of a Linux errno number (asm-generic numbering, shared by x86_64 and
    /// aarch64).
    pub fn errno_name(&self, errno: u32) -> Option<&str> {
        self.constant_name("errno", u64::from(errno), Arch::X86_64)
    }

    /// The number of a Linux errno name.
    pub fn errno_number(&self, name: &str) -> Option<u32> {
        self.constant("errno", name, Arch::X86_64)
            .and_then(|v| u32::try_from(v).ok())
    }

    /// Where every table comes from.
    pub fn provenance(&self) -> &[Provenance] {
        &self.provenance
    }
}

fn applies(constant: &Constant, arch: Arch) -> bool {
    constant.arches.is_empty() || constant.arches.contains(&arch)
}
