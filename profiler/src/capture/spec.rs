//! The capture plan: the probe's `SYSCALL_SPECS` table derived from `syscall-db` for one
//! architecture, and what userspace needs to decode the signatures it produces.
//!
//! Two kinds of data go in: which arguments to capture (the database's capture spec),
//! and how a few syscalls return (below, by name), which the probe needs to count
//! exactly. Numbers always come from the database's tables, never from here.

use std::collections::BTreeMap;

use anyhow::{bail, Context as _};
use profiler_common::spec::{
    self as abi, spec_index, FieldSpec, SyscallSpec, MAX_FIELDS, MAX_STRS, MAX_SYSCALL_NR,
    SPEC_CHECK_COMPAT_AT_ENTER, SPEC_COUNT_AT_ENTER, SPEC_ENTRIES, SPEC_EXEC_LIKE, SPEC_FORK_LIKE,
};
use syscall_db::{Arch, Capture, CaptureField, Database, FieldKind};

/// Syscalls counted at entry: they never return, or their return has no number.
const COUNT_AT_ENTRY: [&str; 4] = ["exit", "exit_group", "rt_sigreturn", "sigreturn"];
/// Syscalls the new task also returns from (with 0).
const FORK_LIKE: [&str; 4] = ["clone", "clone3", "fork", "vfork"];
/// Syscalls whose success replaces the executable.
const EXEC_LIKE: [&str; 2] = ["execve", "execveat"];

/// How userspace decodes one captured field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedField {
    /// Field name (the database's).
    pub name: String,
    /// Index in the signature's value slots (integer fields).
    pub value_slot: usize,
    /// String slot, for string fields.
    pub string_slot: Option<usize>,
    /// A path the probe filtered by prefix and folded (numeric components to `#`s).
    pub is_path: bool,
}

/// The spec table and its decoding key.
#[derive(Clone, Debug)]
pub struct CapturePlan {
    /// Architecture of the table.
    pub arch: Arch,
    /// `SPEC_ENTRIES` entries, indexed by `spec_index`.
    pub specs: Vec<SyscallSpec>,
    /// Captured fields per native syscall number.
    pub fields: BTreeMap<u32, Vec<PlannedField>>,
}

impl CapturePlan {
    /// Builds the plan for `arch` from the database.
    pub fn build(db: &Database, arch: Arch) -> anyhow::Result<CapturePlan> {
        let mut specs = vec![SyscallSpec::default(); SPEC_ENTRIES as usize];
        let mut fields = BTreeMap::new();
        for capture in db.captures() {
            let Some(syscall) = db.syscall_by_name(arch, &capture.syscall) else {
                // Captures name syscalls of every arch (arch_prctl is x86-64 only).
                continue;
            };
            let (spec, planned) = plan_capture(db, arch, capture)
                .with_context(|| format!("capture spec of `{}`", capture.syscall))?;
            let slot = slot(syscall.number, false)?;
            specs[slot].n_fields = spec.n_fields;
            specs[slot].path_gate = spec.path_gate;
            specs[slot].fields = spec.fields;
            fields.insert(syscall.number, planned);
        }
        let compat = arch.compat();
        for abi_arch in std::iter::once(arch).chain(compat) {
            let is_compat = abi_arch != arch;
            for (names, flag) in [
                (&COUNT_AT_ENTRY[..], SPEC_COUNT_AT_ENTER),
                (&FORK_LIKE[..], SPEC_FORK_LIKE),
                (&EXEC_LIKE[..], SPEC_EXEC_LIKE),
            ] {
                for name in names {
                    if let Some(syscall) = db.syscall_by_name(abi_arch, name) {
                        specs[slot(syscall.number, is_compat)?].flags |= flag;
                        if is_compat && flag == SPEC_COUNT_AT_ENTER {
                            // Entry only looks up the native entry first: tell it to
                            // check the ABI for this number.
                            specs[slot(syscall.number, false)?].flags |= SPEC_CHECK_COMPAT_AT_ENTER;
                        }
                    }
                }
            }
        }
        Ok(CapturePlan {
            arch,
            specs,
            fields,
        })
    }
}

fn slot(nr: u32, compat: bool) -> anyhow::Result<usize> {
    if nr >= MAX_SYSCALL_NR {
        bail!("syscall number {nr} is beyond the probe's table ({MAX_SYSCALL_NR} entries)");
    }
    Ok(spec_index(nr, compat) as usize)
}

fn plan_capture(
    db: &Database,
    arch: Arch,
    capture: &Capture,
) -> anyhow::Result<(SyscallSpec, Vec<PlannedField>)> {
    if capture.fields.len() > MAX_FIELDS {
        bail!(
            "{} fields, the probe captures at most {MAX_FIELDS}",
            capture.fields.len()
        );
    }
    let mut spec = SyscallSpec {
        n_fields: capture.fields.len() as u32,
        ..SyscallSpec::default()
    };
    let mut planned = Vec::with_capacity(capture.fields.len());
    let mut next_string = 0;
    for (i, field) in capture.fields.iter().enumerate() {
        if field.arg > 5 {
            bail!(
                "field `{}` reads argument {}, there are 6",
                field.name,
                field.arg
            );
        }
        let kind = probe_kind(field.kind);
        let string_slot = if kind.is_string() {
            if next_string >= MAX_STRS {
                bail!("more than {MAX_STRS} string fields");
            }
            next_string += 1;
            Some(next_string - 1)
        } else {
            None
        };
        spec.fields[i] = FieldSpec {
            kind: kind as u32,
            arg: field.arg,
            offset: string_slot.map_or(field.offset, |s| s as u32),
            _pad: 0,
            mask: mask(db, arch, field)?,
        };
        if kind == abi::FieldKind::UserPath && spec.path_gate == 0 {
            spec.path_gate = field.arg + 1;
        }
        planned.push(PlannedField {
            name: field.name.clone(),
            value_slot: i,
            string_slot,
            is_path: kind == abi::FieldKind::UserPath,
        });
    }
    Ok((spec, planned))
}

fn probe_kind(kind: FieldKind) -> abi::FieldKind {
    match kind {
        FieldKind::Arg => abi::FieldKind::Arg,
        FieldKind::UserU16 => abi::FieldKind::UserU16,
        FieldKind::UserU32 => abi::FieldKind::UserU32,
        FieldKind::UserU64 => abi::FieldKind::UserU64,
        FieldKind::UserStr => abi::FieldKind::UserStr,
        FieldKind::UserPath => abi::FieldKind::UserPath,
    }
}

/// The field's mask (see [`Database::capture_mask`]).
fn mask(db: &Database, arch: Arch, field: &CaptureField) -> anyhow::Result<u64> {
    db.capture_mask(field, arch).map_err(|name| {
        anyhow::anyhow!(
            "mask of field `{}` names unknown constant `{name}`",
            field.name
        )
    })
}

/// The probe's path prefix table.
pub fn path_prefixes() -> [abi::PathPrefix; abi::MAX_PATH_PREFIXES] {
    let mut out = [abi::PathPrefix::default(); abi::MAX_PATH_PREFIXES];
    for (slot, prefix) in out.iter_mut().zip(syscall_db::USER_PATH_PREFIXES) {
        slot.len = prefix.len() as u32;
        slot.bytes[..prefix.len()].copy_from_slice(prefix.as_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> CapturePlan {
        CapturePlan::build(Database::get(), Arch::X86_64).unwrap()
    }

    #[test]
    fn return_semantics_land_on_the_right_numbers() {
        let plan = plan();
        let flags = |nr: u32, compat: bool| plan.specs[spec_index(nr, compat) as usize].flags;
        assert_eq!(flags(60, false), SPEC_COUNT_AT_ENTER); // exit
        assert_eq!(flags(231, false), SPEC_COUNT_AT_ENTER); // exit_group
        assert_eq!(flags(56, false), SPEC_FORK_LIKE); // clone
        assert_eq!(flags(435, false), SPEC_FORK_LIKE); // clone3
        assert_eq!(flags(59, false), SPEC_EXEC_LIKE); // execve
        assert_eq!(flags(15, false), SPEC_COUNT_AT_ENTER); // rt_sigreturn
        assert_eq!(flags(110, false), 0); // getppid
                                          // i386: exit is 1 and exit_group 252, so native write (1) and ioprio_get (252)
                                          // must check the ABI at entry.
        assert_eq!(flags(1, true), SPEC_COUNT_AT_ENTER);
        assert_eq!(flags(252, true), SPEC_COUNT_AT_ENTER);
        assert_eq!(flags(1, false), SPEC_CHECK_COMPAT_AT_ENTER);
        assert_eq!(flags(252, false), SPEC_CHECK_COMPAT_AT_ENTER);
        assert_eq!(flags(2, true), SPEC_FORK_LIKE); // i386 fork
        assert_eq!(flags(11, true), SPEC_EXEC_LIKE); // i386 execve
                                                     // i386 sigreturn (119) and rt_sigreturn (173) are counted at entry too.
        assert_eq!(flags(119, true), SPEC_COUNT_AT_ENTER);
        assert_eq!(flags(173, true), SPEC_COUNT_AT_ENTER);
        assert_eq!(flags(119, false), SPEC_CHECK_COMPAT_AT_ENTER);
        assert_eq!(flags(173, false), SPEC_CHECK_COMPAT_AT_ENTER);
    }

    #[test]
    fn socket_fields_are_planned_in_order() {
        let plan = plan();
        let socket = &plan.specs[41]; // x86-64 socket
        assert_eq!(socket.n_fields, 3);
        let names: Vec<_> = plan.fields[&41].iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["domain", "type", "protocol"]);
        assert_eq!(socket.fields[0].kind, abi::FieldKind::Arg as u32);
        assert_eq!(socket.fields[0].arg, 0);
        assert_eq!(socket.fields[1].arg, 1);
        assert_eq!(socket.fields[2].arg, 2);
    }

    #[test]
    fn the_first_path_field_gates_capture() {
        let plan = plan();
        // x86-64 openat(dirfd, path, flags, mode), newfstatat(dirfd, path, buf, flags),
        // socket (no path).
        assert_eq!(plan.specs[257].path_gate, 2);
        assert_eq!(plan.specs[262].path_gate, 2);
        assert_eq!(plan.specs[41].path_gate, 0);
        // Compat entries are never captured.
        assert!(plan.specs[MAX_SYSCALL_NR as usize..]
            .iter()
            .all(|spec| spec.path_gate == 0));
    }

    #[test]
    fn path_prefixes_fill_the_table() {
        let prefixes = path_prefixes();
        assert_eq!(prefixes[0].len, 5);
        assert_eq!(&prefixes[0].bytes[..5], b"/proc");
        assert_eq!(prefixes[2].len, 4);
        assert_eq!(prefixes[3].len, 0);
    }
}
