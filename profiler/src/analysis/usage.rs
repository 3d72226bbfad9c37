//! An index of one profile for the analysis: per syscall, the calls, errnos and
//! executables summed over the profile's rows; the argument signatures of each syscall;
//! executable paths; the first process that ran each executable; the 32-bit
//! executables. Built once, in one pass over each table, so judging never rescans the
//! profile.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use syscall_db::ErrnoCounts;

use super::finding::{Evidence, Occurrence};
use crate::profile::{Abi, ArgSignature, BinaryFormat, FirstUse, SyscallProfile};

/// Calls of one syscall through one ABI, over every executable.
pub struct SyscallUse<'p> {
    /// Syscall name.
    pub name: &'p str,
    /// Calls.
    pub calls: u64,
    /// Failed calls by errno, under runc.
    pub errors: ErrnoCounts,
    /// Executable ids that made the call, in first-seen order.
    pub executables: Vec<u32>,
}

/// The index.
pub struct Usage<'p> {
    profile: &'p SyscallProfile,
    /// The input file, when the profile came from exactly one.
    file: Option<&'p str>,
    paths: HashMap<u32, &'p str>,
    first_pid: HashMap<u32, u32>,
    /// Native-ABI syscalls, by name.
    pub native: BTreeMap<&'p str, SyscallUse<'p>>,
    /// Compat-ABI syscalls, by name.
    pub compat: BTreeMap<&'p str, SyscallUse<'p>>,
    /// Signatures by syscall name, in profile order.
    pub signatures: HashMap<&'p str, Vec<&'p ArgSignature>>,
}

impl<'p> Usage<'p> {
    /// Indexes `profile`. `file` names it in occurrences.
    pub fn new(profile: &'p SyscallProfile, file: Option<&'p str>) -> Usage<'p> {
        let paths = profile
            .executables
            .iter()
            .map(|exe| (exe.id, exe.path.as_str()))
            .collect();
        // Processes are in pid order within a capture, so the first one listed for an
        // executable is the one that ran it first (as far as pids tell).
        let mut first_pid = HashMap::new();
        for process in &profile.processes {
            for &exe in &process.executables {
                first_pid.entry(exe).or_insert(process.pid);
            }
        }
        let mut native = BTreeMap::new();
        let mut compat = BTreeMap::new();
        for row in &profile.syscalls {
            let table = match row.abi {
                Abi::Native => &mut native,
                Abi::Compat => &mut compat,
            };
            let entry = table
                .entry(row.name.as_str())
                .or_insert_with(|| SyscallUse {
                    name: row.name.as_str(),
                    calls: 0,
                    errors: ErrnoCounts::new(),
                    executables: Vec::new(),
                });
            // Plain additions: a profile read from a file (or merged) has been validated
            // so that the calls of all its rows fit in a u64, and errors are bounded by
            // calls.
            entry.calls += row.calls;
            for (errno, count) in &row.errors {
                *entry.errors.entry(errno.clone()).or_default() += count;
            }
            if !entry.executables.contains(&row.executable) {
                entry.executables.push(row.executable);
            }
        }
        let mut signatures: HashMap<&str, Vec<&ArgSignature>> = HashMap::new();
        for sig in &profile.signatures {
            signatures
                .entry(sig.syscall.as_str())
                .or_default()
                .push(sig);
        }
        // A signature whose syscall has no row (its count was lost) still shows use.
        for (&name, sigs) in &signatures {
            native.entry(name).or_insert_with(|| {
                let mut errors = ErrnoCounts::new();
                let mut executables = Vec::new();
                for sig in sigs {
                    for (errno, count) in &sig.errors {
                        *errors.entry(errno.clone()).or_default() += count;
                    }
                    if let Some(first) = &sig.first {
                        if !executables.contains(&first.executable) {
                            executables.push(first.executable);
                        }
                    }
                }
                SyscallUse {
                    name,
                    calls: sigs.iter().map(|s| s.calls).sum(),
                    errors,
                    executables,
                }
            });
        }
        Usage {
            profile,
            file,
            paths,
            first_pid,
            native,
            compat,
            signatures,
        }
    }

    /// The profile indexed.
    pub fn profile(&self) -> &'p SyscallProfile {
        self.profile
    }

    /// Signatures of `syscall`, in profile order.
    pub fn signatures_of(&self, syscall: &str) -> &[&'p ArgSignature] {
        self.signatures.get(syscall).map_or(&[], Vec::as_slice)
    }

    /// The path of an executable id.
    pub fn path(&self, exe: u32) -> String {
        self.paths
            .get(&exe)
            .map_or_else(|| format!("executable #{exe}"), |path| (*path).to_owned())
    }

    /// Executables that are 32-bit ELF files or made compat-ABI calls, by id, sorted
    /// by path.
    pub fn binaries32(&self) -> Vec<u32> {
        let mut ids: BTreeSet<u32> = self
            .profile
            .executables
            .iter()
            .filter(|exe| matches!(exe.format, BinaryFormat::Elf { bits: 32, .. }))
            .map(|exe| exe.id)
            .collect();
        // An execve that starts a 32-bit program returns through the compat ABI, and that
        // return is counted against the program that called it: a compat exec row of a
        // 64-bit ELF file says the new image is 32-bit, not the caller.
        let elf64: BTreeSet<u32> = self
            .profile
            .executables
            .iter()
            .filter(|exe| matches!(exe.format, BinaryFormat::Elf { bits: 64, .. }))
            .map(|exe| exe.id)
            .collect();
        for used in self.compat.values() {
            let exec = matches!(used.name, "execve" | "execveat");
            ids.extend(
                used.executables
                    .iter()
                    .copied()
                    .filter(|exe| !(exec && elf64.contains(exe))),
            );
        }
        let mut ids: Vec<u32> = ids.into_iter().collect();
        ids.sort_by_key(|&id| self.path(id));
        ids
    }

    /// Where an executable was first seen running: the first process that ran it.
    pub fn executable_occurrence(&self, exe: u32) -> Occurrence {
        Occurrence {
            pid: self.first_pid.get(&exe).copied(),
            executable: Some(self.path(exe)),
            file: self.file.map(str::to_owned),
            ..Occurrence::default()
        }
    }

    /// Where a signature was first seen.
    pub fn first_use(&self, first: &FirstUse) -> Occurrence {
        Occurrence {
            pid: Some(first.pid),
            tid: Some(first.tid),
            executable: Some(self.path(first.executable)),
            file: self.file.map(str::to_owned),
            ..Occurrence::default()
        }
    }

    /// Evidence for a syscall as a whole: its totals, first executable and process.
    pub fn syscall_evidence(&self, used: &SyscallUse<'_>) -> Evidence {
        Evidence {
            syscall: Some(used.name.to_owned()),
            calls: used.calls,
            errors: used.errors.clone(),
            first: used
                .executables
                .first()
                .map(|&exe| self.executable_occurrence(exe)),
            executables: self.sorted_paths(used.executables.iter().copied()),
            ..Evidence::default()
        }
    }

    /// Paths of these executables, sorted and without repeats.
    pub fn sorted_paths(&self, ids: impl IntoIterator<Item = u32>) -> Vec<String> {
        let paths: BTreeSet<String> = ids.into_iter().map(|id| self.path(id)).collect();
        paths.into_iter().collect()
    }
}
