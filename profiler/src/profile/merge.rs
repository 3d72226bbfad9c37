//! Merging profiles from several nodes, replicas or runs into one.
//!
//! Counts add up, errno counts add up per errno, argument signatures are united, and
//! every capture stamp is kept so the merged profile still says where each fact came
//! from. Executables are identified by path and format across inputs and renumbered;
//! processes keep their pid and point at their own capture, so equal pids from different
//! nodes stay distinct. The result is in a canonical order, so merging the same inputs
//! always yields the same file.

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use anyhow::{bail, Context as _};
use syscall_db::{ErrnoCounts, FieldValues};

use super::io::validate;
use super::model::{
    Abi, ArgSignature, BinaryFormat, DatabaseStamp, Executable, FirstUse, LostCounts, Process,
    SyscallProfile, SyscallStat, ToolStamp, SCHEMA, SCHEMA_VERSION,
};

/// Merges named profiles (the name is used in errors) into one, stamped by `tool`.
///
/// All inputs must describe the same arch. The merged profile's database stamp is the
/// first input's; [`database_mismatches`] lists inputs that were captured against
/// another database version, so the caller can say so.
pub fn merge(
    inputs: &[(String, SyscallProfile)],
    tool: ToolStamp,
) -> anyhow::Result<SyscallProfile> {
    let Some((first_name, first)) = inputs.first() else {
        bail!("nothing to merge: no profiles given");
    };
    if let Some((name, other)) = inputs.iter().find(|(_, p)| p.arch != first.arch) {
        bail!(
            "{name} was captured on {} but {first_name} on {}; profiles of different arches \
             cannot be merged",
            other.arch,
            first.arch
        );
    }

    let mut merger = Merger::default();
    for (name, profile) in inputs {
        merger
            .add(profile)
            .with_context(|| format!("cannot add {name} to the merged profile"))?;
    }
    let merged = merger.finish(tool, first.database.clone(), first.arch);
    validate(&merged).context("the merged profile is inconsistent")?;
    Ok(merged)
}

/// Inputs whose database stamp differs from the first input's, by name.
pub fn database_mismatches(inputs: &[(String, SyscallProfile)]) -> Vec<(&str, &DatabaseStamp)> {
    let Some((_, first)) = inputs.first() else {
        return Vec::new();
    };
    inputs
        .iter()
        .filter(|(_, p)| p.database != first.database)
        .map(|(name, p)| (name.as_str(), &p.database))
        .collect()
}

/// A syscall row's identity in the merged profile.
type SyscallKey = (String, u32, Abi, u32);
/// A signature's identity: syscall name, number and captured fields.
type SignatureKey = (String, u32, FieldValues);

#[derive(Default)]
struct Merger {
    captures: Vec<super::model::CaptureStamp>,
    executables: Vec<Executable>,
    executable_ids: HashMap<(String, BinaryFormat), u32>,
    processes: Vec<Process>,
    syscalls: HashMap<SyscallKey, (u64, ErrnoCounts)>,
    signatures: HashMap<SignatureKey, ArgSignature>,
    lost: LostCounts,
}

impl Merger {
    /// Adds one profile. Counts are added with overflow checks: profiles are read from
    /// files, and a sum past `u64::MAX` must be an error, not a wrapped count.
    fn add(&mut self, profile: &SyscallProfile) -> anyhow::Result<()> {
        let capture_offset = self.captures.len() as u32;
        self.captures.extend(profile.captures.iter().cloned());

        // Map this input's executable ids to merged ids.
        let mut ids = HashMap::with_capacity(profile.executables.len());
        for exe in &profile.executables {
            let next = self.executables.len() as u32;
            let id = *self
                .executable_ids
                .entry((exe.path.clone(), exe.format.clone()))
                .or_insert_with(|| {
                    self.executables.push(Executable {
                        id: next,
                        path: exe.path.clone(),
                        format: exe.format.clone(),
                    });
                    next
                });
            ids.insert(exe.id, id);
        }
        // `read` validated every reference, so a miss cannot happen; should it anyway,
        // the final `validate` reports the dangling id instead of losing it here.
        let map = |id: u32| ids.get(&id).copied().unwrap_or(u32::MAX);

        for process in &profile.processes {
            self.processes.push(Process {
                pid: process.pid,
                parent: process.parent,
                executables: process.executables.iter().map(|&id| map(id)).collect(),
                capture: process.capture + capture_offset,
            });
        }
        for row in &profile.syscalls {
            let key = (row.name.clone(), row.number, row.abi, map(row.executable));
            let (calls, errors) = self.syscalls.entry(key).or_default();
            *calls =
                add(*calls, row.calls).with_context(|| format!("the calls of `{}`", row.name))?;
            add_errors(errors, &row.errors)
                .with_context(|| format!("the failed calls of `{}`", row.name))?;
        }
        for sig in &profile.signatures {
            let key = (sig.syscall.clone(), sig.number, sig.fields.clone());
            match self.signatures.entry(key) {
                Entry::Occupied(mut slot) => {
                    let merged = slot.get_mut();
                    merged.calls = add(merged.calls, sig.calls)
                        .with_context(|| format!("the calls of a `{}` signature", sig.syscall))?;
                    add_errors(&mut merged.errors, &sig.errors).with_context(|| {
                        format!("the failed calls of a `{}` signature", sig.syscall)
                    })?;
                    if merged.first.is_none() {
                        merged.first = sig.first.as_ref().map(|first| FirstUse {
                            pid: first.pid,
                            tid: first.tid,
                            executable: map(first.executable),
                        });
                    }
                    for field in &sig.incomplete {
                        if !merged.incomplete.contains(field) {
                            merged.incomplete.push(field.clone());
                        }
                    }
                }
                Entry::Vacant(slot) => {
                    let mut sig = sig.clone();
                    sig.first = sig.first.map(|first| FirstUse {
                        executable: map(first.executable),
                        ..first
                    });
                    slot.insert(sig);
                }
            }
        }
        add_lost(&mut self.lost, &profile.lost).context("the lost-event counts")
    }

    fn finish(
        self,
        tool: ToolStamp,
        database: DatabaseStamp,
        arch: syscall_db::Arch,
    ) -> SyscallProfile {
        let mut processes = self.processes;
        processes.sort_by_key(|p| (p.capture, p.pid));

        let mut syscalls: Vec<SyscallStat> = self
            .syscalls
            .into_iter()
            .map(
                |((name, number, abi, executable), (calls, errors))| SyscallStat {
                    name,
                    number,
                    abi,
                    executable,
                    calls,
                    errors,
                },
            )
            .collect();
        syscalls
            .sort_by(|a, b| (a.abi, &a.name, a.executable).cmp(&(b.abi, &b.name, b.executable)));

        let mut signatures: Vec<ArgSignature> = self.signatures.into_values().collect();
        for sig in &mut signatures {
            sig.incomplete.sort();
        }
        signatures.sort_by(|a, b| (&a.syscall, &a.fields).cmp(&(&b.syscall, &b.fields)));

        SyscallProfile {
            schema: SCHEMA.to_owned(),
            schema_version: SCHEMA_VERSION,
            tool,
            database,
            arch,
            captures: self.captures,
            executables: self.executables,
            processes,
            syscalls,
            signatures,
            lost: self.lost,
        }
    }
}

/// `a + b`, or an error saying the sum does not fit.
fn add(a: u64, b: u64) -> anyhow::Result<u64> {
    a.checked_add(b)
        .with_context(|| format!("{a} + {b} is more than {}", u64::MAX))
}

fn add_errors(into: &mut ErrnoCounts, from: &ErrnoCounts) -> anyhow::Result<()> {
    for (errno, count) in from {
        let total = into.entry(errno.clone()).or_default();
        *total = add(*total, *count).with_context(|| errno.clone())?;
    }
    Ok(())
}

fn add_lost(into: &mut LostCounts, from: &LostCounts) -> anyhow::Result<()> {
    // Destructured so that a new cause cannot be forgotten here.
    let LostCounts {
        ring_buffer_full,
        counts_map_full,
        signature_map_full,
        signature_map_full_by_syscall,
        task_map_full,
        exec_unattributed,
        nr_out_of_range,
        undecodable_records,
    } = from;
    into.ring_buffer_full = add(into.ring_buffer_full, *ring_buffer_full)?;
    into.counts_map_full = add(into.counts_map_full, *counts_map_full)?;
    into.signature_map_full = add(into.signature_map_full, *signature_map_full)?;
    for (syscall, calls) in signature_map_full_by_syscall {
        let slot = into
            .signature_map_full_by_syscall
            .entry(syscall.clone())
            .or_default();
        *slot = add(*slot, *calls)?;
    }
    into.task_map_full = add(into.task_map_full, *task_map_full)?;
    into.exec_unattributed = add(into.exec_unattributed, *exec_unattributed)?;
    into.nr_out_of_range = add(into.nr_out_of_range, *nr_out_of_range)?;
    into.undecodable_records = add(into.undecodable_records, *undecodable_records)?;
    Ok(())
}
