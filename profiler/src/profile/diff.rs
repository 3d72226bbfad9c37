//! What a new profile uses that a base profile did not: syscalls (per ABI), argument
//! signatures and executables. This is the release-regression check: a new release that
//! starts calling `io_uring_setup` or opening `/dev/kvm` shows up here before it reaches a
//! sandbox. Only additions are reported; what the new profile stopped using cannot break
//! anything.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde::{Deserialize, Serialize};
use syscall_db::{ErrnoCounts, FieldValues};

use super::model::{Abi, BinaryFormat, SyscallProfile};

/// The additions, each list in a stable order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileDiff {
    /// Syscalls (name and ABI) the base never made.
    pub syscalls: Vec<NewSyscall>,
    /// Argument signatures the base never had, for syscalls old and new.
    pub signatures: Vec<NewSignature>,
    /// Executables (path and format) the base never ran.
    pub executables: Vec<NewExecutable>,
}

impl ProfileDiff {
    /// True when the new profile uses nothing the base did not.
    pub fn is_empty(&self) -> bool {
        self.syscalls.is_empty() && self.signatures.is_empty() && self.executables.is_empty()
    }
}

/// A syscall new in the new profile, totalled over its executables.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewSyscall {
    /// Name.
    pub name: String,
    /// ABI it was called through.
    pub abi: Abi,
    /// Calls.
    pub calls: u64,
    /// Failed calls by errno.
    #[serde(default, skip_serializing_if = "ErrnoCounts::is_empty")]
    pub errors: ErrnoCounts,
    /// Paths of the executables that made it, sorted.
    pub executables: Vec<String>,
}

/// An argument signature new in the new profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewSignature {
    /// Syscall name.
    pub syscall: String,
    /// Captured fields.
    pub fields: FieldValues,
    /// Calls.
    pub calls: u64,
    /// Failed calls by errno.
    #[serde(default, skip_serializing_if = "ErrnoCounts::is_empty")]
    pub errors: ErrnoCounts,
    /// Path of the executable that made the first call, when the first use is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_executable: Option<String>,
}

/// An executable new in the new profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewExecutable {
    /// Path.
    pub path: String,
    /// Format.
    pub format: BinaryFormat,
}

/// Computes what `new` uses that `base` did not.
pub fn diff(base: &SyscallProfile, new: &SyscallProfile) -> ProfileDiff {
    let paths = executable_paths(new);
    let path_of = |id: u32| {
        paths
            .get(&id)
            .map_or_else(|| format!("executable #{id}"), |path| (*path).to_owned())
    };

    let base_syscalls: HashSet<(&str, Abi)> = base
        .syscalls
        .iter()
        .map(|row| (row.name.as_str(), row.abi))
        .collect();
    let mut syscalls: BTreeMap<(Abi, &str), (u64, ErrnoCounts, BTreeSet<String>)> = BTreeMap::new();
    for row in &new.syscalls {
        if base_syscalls.contains(&(row.name.as_str(), row.abi)) {
            continue;
        }
        let (calls, errors, exes) = syscalls.entry((row.abi, &row.name)).or_default();
        *calls += row.calls;
        for (errno, count) in &row.errors {
            *errors.entry(errno.clone()).or_default() += count;
        }
        exes.insert(path_of(row.executable));
    }

    let base_signatures: HashSet<(&str, &FieldValues)> = base
        .signatures
        .iter()
        .map(|sig| (sig.syscall.as_str(), &sig.fields))
        .collect();
    let mut signatures: Vec<NewSignature> = new
        .signatures
        .iter()
        .filter(|sig| !base_signatures.contains(&(sig.syscall.as_str(), &sig.fields)))
        .map(|sig| NewSignature {
            syscall: sig.syscall.clone(),
            fields: sig.fields.clone(),
            calls: sig.calls,
            errors: sig.errors.clone(),
            first_executable: sig.first.as_ref().map(|first| path_of(first.executable)),
        })
        .collect();
    signatures.sort_by(|a, b| (&a.syscall, &a.fields).cmp(&(&b.syscall, &b.fields)));

    let base_executables: HashSet<(&str, &BinaryFormat)> = base
        .executables
        .iter()
        .map(|exe| (exe.path.as_str(), &exe.format))
        .collect();
    let mut executables: Vec<NewExecutable> = new
        .executables
        .iter()
        .filter(|exe| !base_executables.contains(&(exe.path.as_str(), &exe.format)))
        .map(|exe| NewExecutable {
            path: exe.path.clone(),
            format: exe.format.clone(),
        })
        .collect();
    executables.sort_by(|a, b| a.path.cmp(&b.path));
    // A merged profile can list one path and format under several ids (one per input
    // that ran it before renumbering); it is one new executable.
    executables.dedup();

    ProfileDiff {
        syscalls: syscalls
            .into_iter()
            .map(|((abi, name), (calls, errors, exes))| NewSyscall {
                name: name.to_owned(),
                abi,
                calls,
                errors,
                executables: exes.into_iter().collect(),
            })
            .collect(),
        signatures,
        executables,
    }
}

fn executable_paths(profile: &SyscallProfile) -> std::collections::HashMap<u32, &str> {
    profile
        .executables
        .iter()
        .map(|exe| (exe.id, exe.path.as_str()))
        .collect()
}
