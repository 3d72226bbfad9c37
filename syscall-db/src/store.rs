//! [`Store`]: everything the data files hold, over every release, with the queries
//! that do not depend on a release (syscall numbers, constants, captures, Kata facts).
//! A [`Database`](crate::Database) is a store viewed at one gVisor release.

use std::collections::{BTreeMap, HashMap};

use crate::error::Error;
use crate::history::{GvisorKernel, GvisorNote, GvisorTimeline, ProcPath, RunscFlagSpec};
use crate::model::{
    AbiFact, Arch, ArgRule, Capture, Constant, FieldNaming, FieldValue, FieldValues, KataFact,
    Provenance, Remediation, Syscall,
};
use crate::release::{Release, Releases};
use crate::suggest;

/// The loaded, validated data of every release.
#[derive(Debug)]
pub(crate) struct Store {
    pub(crate) version: String,
    pub(crate) releases: Releases,
    pub(crate) syscalls: BTreeMap<Arch, Indexed<Syscall>>,
    /// Every syscall of each native arch with its handling over the releases.
    pub(crate) gvisor: BTreeMap<Arch, Indexed<GvisorTimeline>>,
    pub(crate) kernels: Vec<GvisorKernel>,
    pub(crate) flags: Vec<RunscFlagSpec>,
    pub(crate) proc: Vec<ProcPath>,
    pub(crate) notes: Vec<GvisorNote>,
    /// Every rule of every release, in file order.
    pub(crate) rules: Vec<ArgRule>,
    /// For each rule, the index in `provenance` of its file's table.
    pub(crate) rule_tables: Vec<usize>,
    /// Every remediation of every release, in file order.
    pub(crate) remediations: Vec<Remediation>,
    pub(crate) kata: Vec<KataFact>,
    pub(crate) abi: Vec<AbiFact>,
    pub(crate) captures: Vec<Capture>,
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
    pub(crate) fn new(rows: Vec<T>, name: impl Fn(&T) -> &String) -> Indexed<T> {
        let by_name = rows
            .iter()
            .enumerate()
            .map(|(i, row)| (name(row).clone(), i))
            .collect();
        Indexed { rows, by_name }
    }

    pub(crate) fn get(&self, name: &str) -> Option<&T> {
        self.by_name.get(name).map(|&i| &self.rows[i])
    }
}

impl Store {
    pub(crate) fn syscalls(&self, arch: Arch) -> &[Syscall] {
        self.syscalls.get(&arch).map_or(&[], |t| &t.rows)
    }

    pub(crate) fn syscall_by_name(&self, arch: Arch, name: &str) -> Option<&Syscall> {
        self.syscalls.get(&arch)?.get(name)
    }

    pub(crate) fn syscall_by_number(&self, arch: Arch, nr: u32) -> Option<&Syscall> {
        let rows = self.syscalls(arch);
        rows.binary_search_by_key(&nr, |s| s.number)
            .ok()
            .map(|i| &rows[i])
    }

    pub(crate) fn resolve_syscall(&self, arch: Arch, query: &str) -> Result<&Syscall, Error> {
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

    pub(crate) fn remediation(&self, id: &str) -> Option<&Remediation> {
        self.remediations.iter().find(|r| r.id == id)
    }

    /// Whether runsc registers flag `name` at `release`.
    pub(crate) fn flag_at(&self, name: &str, release: Release) -> Option<&RunscFlagSpec> {
        self.flags
            .iter()
            .find(|f| f.name == name && f.range.contains(release))
    }

    pub(crate) fn capture(&self, syscall: &str) -> Option<&Capture> {
        self.captures.iter().find(|c| c.syscall == syscall)
    }

    pub(crate) fn field_group(&self, syscall: &str, field: &str) -> Option<&str> {
        self.capture(syscall)?
            .fields
            .iter()
            .find(|f| f.name == field)?
            .names
            .as_deref()
    }

    pub(crate) fn value_group(
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

    pub(crate) fn resolve_constant(
        &self,
        group: Option<&str>,
        name: &str,
        arch: Arch,
    ) -> Option<u64> {
        group
            .and_then(|g| self.constant(g, name, arch))
            .or_else(|| {
                self.constants
                    .keys()
                    .find_map(|g| self.constant(g, name, arch))
            })
    }

    pub(crate) fn constant(&self, group: &str, name: &str, arch: Arch) -> Option<u64> {
        self.constants(group)
            .iter()
            .find(|c| c.name == name && applies(c, arch))
            .map(|c| c.value)
    }

    pub(crate) fn constant_name(&self, group: &str, value: u64, arch: Arch) -> Option<&str> {
        self.constants(group)
            .iter()
            .find(|c| c.value == value && applies(c, arch))
            .map(|c| c.name.as_str())
    }

    pub(crate) fn constants(&self, group: &str) -> &[Constant] {
        self.constants.get(group).map_or(&[], Vec::as_slice)
    }

    pub(crate) fn errno_number(&self, name: &str) -> Option<u32> {
        self.constant("errno", name, Arch::X86_64)
            .and_then(|v| u32::try_from(v).ok())
    }
}

fn applies(constant: &Constant, arch: Arch) -> bool {
    constant.arches.is_empty() || constant.arches.contains(&arch)
}
