//! [`Database`]: the data viewed at one gVisor release, and every query the rest of
//! sandprof makes. Queries about gVisor (its syscall table, rules, remediations, kernel,
//! flags, /proc) answer for that release; the rest (syscall numbers, constants, Kata)
//! does not depend on it. [`Database::at`] (in `view`) views the same data at another
//! release; [`Database::get`] and [`Database::from_sources`] (in `load`) build one.

use std::sync::{Arc, OnceLock};

use crate::error::Error;
use crate::history::{GvisorKernel, GvisorNote, GvisorSpan, ProcPath, RunscFlagSpec};
use crate::model::{
    AbiFact, Arch, ArgRule, Capture, Constant, FieldNaming, FieldValues, GvisorSyscall, KataFact,
    Provenance, Remediation, Runtime, Syscall,
};
use crate::release::{Release, Releases};
use crate::rule_index::{CompiledRules, RuleIndex};
use crate::store::{Indexed, Store};

/// The compatibility database at one gVisor release. Build it with [`Database::get`]
/// (the embedded data, at its newest release), [`Database::from_sources`] (any data
/// set, validated the same way) and [`Database::at`] (another release).
#[derive(Debug)]
pub struct Database {
    pub(crate) store: Arc<Store>,
    pub(crate) release: Release,
    /// gVisor's table at `release`, one entry per kernel syscall.
    pub(crate) gvisor: std::collections::BTreeMap<Arch, Indexed<GvisorSyscall>>,
    /// The rules that hold at `release`, in file order, after the rules derived from
    /// the release's /proc.
    pub(crate) rules: Vec<ArgRule>,
    /// For each rule, the index in `provenance` of its file's table.
    pub(crate) rule_tables: Vec<usize>,
    /// How many of `rules`, at the start, are derived from the release's /proc.
    pub(crate) derived_rules: usize,
    pub(crate) rule_index: RuleIndex,
    /// Rules compiled for matching, per native arch, built on first use.
    pub(crate) compiled: [OnceLock<CompiledRules>; 2],
    /// The remediations available at `release`.
    pub(crate) remediations: Vec<Remediation>,
    pub(crate) kernel: GvisorKernel,
    pub(crate) flags: Vec<RunscFlagSpec>,
    pub(crate) proc: Vec<ProcPath>,
    /// Provenance with the generated gVisor tables' revision set to `release`.
    pub(crate) provenance: Vec<Provenance>,
}

impl Database {
    /// Version of the data set, e.g. `2026.11.0`.
    pub fn version(&self) -> &str {
        &self.store.version
    }

    /// The gVisor release this view judges at.
    pub fn release(&self) -> Release {
        self.release
    }

    /// Every gVisor release the data covers.
    pub fn releases(&self) -> &Releases {
        &self.store.releases
    }

    /// The gVisor revision the gVisor tables are viewed at: the release's tag.
    pub fn gvisor_revision(&self) -> String {
        self.release.tag()
    }

    /// Every syscall of `arch`, sorted by number.
    pub fn syscalls(&self, arch: Arch) -> &[Syscall] {
        self.store.syscalls(arch)
    }

    /// The syscall named `name` in `arch`.
    pub fn syscall_by_name(&self, arch: Arch, name: &str) -> Option<&Syscall> {
        self.store.syscall_by_name(arch, name)
    }

    /// The syscall numbered `nr` in `arch`.
    pub fn syscall_by_number(&self, arch: Arch, nr: u32) -> Option<&Syscall> {
        self.store.syscall_by_number(arch, nr)
    }

    /// Resolves a name or a decimal number. Unknown queries get an error naming the
    /// nearest syscalls.
    pub fn resolve_syscall(&self, arch: Arch, query: &str) -> Result<&Syscall, Error> {
        self.store.resolve_syscall(arch, query)
    }

    /// gVisor's handling of the syscall `name` on `arch` at this release. Every syscall
    /// of a native arch has an entry; numbers gVisor's table lacks are unimplemented
    /// with ENOSYS and an event (`in_upstream_table` is false). None for i386 (gVisor
    /// runs no 32-bit code) and for names the arch lacks.
    pub fn gvisor(&self, arch: Arch, name: &str) -> Option<&GvisorSyscall> {
        self.gvisor.get(&arch)?.get(name)
    }

    /// gVisor's table for `arch` at this release, one entry per syscall, by number.
    pub fn gvisor_table(&self, arch: Arch) -> &[GvisorSyscall] {
        self.gvisor.get(&arch).map_or(&[], |t| &t.rows)
    }

    /// gVisor's handling of `name` on `arch` at every release, as spans in release
    /// order covering each release once.
    pub fn gvisor_history(&self, arch: Arch, name: &str) -> Option<&[GvisorSpan]> {
        Some(&self.store.gvisor.get(&arch)?.get(name)?.spans)
    }

    /// Our notes on `syscall`, each with the releases it holds for.
    pub fn gvisor_notes<'a>(&'a self, syscall: &'a str) -> impl Iterator<Item = &'a GvisorNote> {
        self.store
            .notes
            .iter()
            .filter(move |n| n.syscall == syscall)
    }

    /// What gVisor reports as its kernel at this release.
    pub fn gvisor_kernel(&self) -> &GvisorKernel {
        &self.kernel
    }

    /// What gVisor reported as its kernel, over every release.
    pub fn gvisor_kernels(&self) -> &[GvisorKernel] {
        &self.store.kernels
    }

    /// The flags runsc registers at this release, by name.
    pub fn runsc_flags(&self) -> &[RunscFlagSpec] {
        &self.flags
    }

    /// Flag `name` (without dashes) as runsc registers it at this release.
    pub fn runsc_flag(&self, name: &str) -> Option<&RunscFlagSpec> {
        self.flags.iter().find(|f| f.name == name)
    }

    /// Flag `name` over every release it was registered in.
    pub fn runsc_flag_history<'a>(
        &'a self,
        name: &'a str,
    ) -> impl Iterator<Item = &'a RunscFlagSpec> {
        self.store.flags.iter().filter(move |f| f.name == name)
    }

    /// The paths gVisor's /proc registers at this release (per-process ones as
    /// `/proc/#/…`).
    pub fn proc_paths(&self) -> &[ProcPath] {
        &self.proc
    }

    /// Every /proc path over every release it was registered in.
    pub fn proc_path_history(&self) -> &[ProcPath] {
        &self.store.proc
    }

    /// Every argument rule that holds at this release: the rules derived from the
    /// release's /proc (paths it lacks), then the hand-kept ones in file order.
    pub fn rules(&self) -> &[ArgRule] {
        &self.rules
    }

    /// The hand-kept rules that hold at this release (without the rules derived from
    /// the release's /proc), in file order.
    pub fn hand_kept_rules(&self) -> &[ArgRule] {
        &self.rules[self.derived_rules..]
    }

    /// Every argument rule of every release, in file order.
    pub fn all_rules(&self) -> &[ArgRule] {
        &self.store.rules
    }

    /// The provenance of the rule file holding rule `id` (as viewed at this release).
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
        self.store.field_group(syscall, field)
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
        self.store.value_group(arch, syscall, field, fields)
    }

    /// Every field naming, in file order.
    pub fn field_namings(&self) -> &[FieldNaming] {
        &self.store.namings
    }

    /// The value of a symbolic name in a rule: looked up in `group` (the field's group)
    /// first, then in every group, so a field may be compared with names of a related
    /// group (e.g. socket protocols with `NETLINK_*` names).
    pub fn resolve_constant(&self, group: Option<&str>, name: &str, arch: Arch) -> Option<u64> {
        self.store.resolve_constant(group, name, arch)
    }

    /// The remediation with this id, if it is available at this release.
    pub fn remediation(&self, id: &str) -> Option<&Remediation> {
        self.remediations.iter().find(|r| r.id == id)
    }

    /// Every remediation available at this release, in file order.
    pub fn remediations(&self) -> &[Remediation] {
        &self.remediations
    }

    /// Every Kata fact, in file order.
    pub fn kata_facts(&self) -> &[KataFact] {
        &self.store.kata
    }

    /// Every ABI fact, in file order.
    pub fn abi_facts(&self) -> &[AbiFact] {
        &self.store.abi
    }

    /// What `runtime` does with executables of `bits` bits, if the database says it does
    /// not run them.
    pub fn abi_fact(&self, runtime: Runtime, bits: u8) -> Option<&AbiFact> {
        self.store
            .abi
            .iter()
            .find(|f| f.runtime == runtime && f.bits == bits)
    }

    /// The Kata fact with this id.
    pub fn kata_fact(&self, id: &str) -> Option<&KataFact> {
        self.store.kata.iter().find(|f| f.id == id)
    }

    /// The tracer's capture spec, one entry per syscall, in file order.
    pub fn captures(&self) -> &[Capture] {
        &self.store.captures
    }

    /// Which arguments of `syscall` the tracer records.
    pub fn capture(&self, syscall: &str) -> Option<&Capture> {
        self.store.capture(syscall)
    }

    /// The value of constant `name` of `group` on `arch`.
    pub fn constant(&self, group: &str, name: &str, arch: Arch) -> Option<u64> {
        self.store.constant(group, name, arch)
    }

    /// The first name of `group` with this value on `arch`.
    pub fn constant_name(&self, group: &str, value: u64, arch: Arch) -> Option<&str> {
        self.store.constant_name(group, value, arch)
    }

    /// Every constant of `group`, in file order; empty for an unknown group.
    pub fn constants(&self, group: &str) -> &[Constant] {
        self.store.constants(group)
    }

    /// Names of every constant group.
    pub fn constant_groups(&self) -> impl Iterator<Item = &str> {
        self.store.constants.keys().map(String::as_str)
    }

    /// The name of a Linux errno number (asm-generic numbering, shared by x86_64 and
    /// aarch64).
    pub fn errno_name(&self, errno: u32) -> Option<&str> {
        self.constant_name("errno", u64::from(errno), Arch::X86_64)
    }

    /// The number of a Linux errno name.
    pub fn errno_number(&self, name: &str) -> Option<u32> {
        self.store.errno_number(name)
    }

    /// Where every table comes from; the generated gVisor tables name this release.
    pub fn provenance(&self) -> &[Provenance] {
        &self.provenance
    }
}
