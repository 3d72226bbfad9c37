//! The strace part of log facts as a profile (`sandprof runsc-log --to-profile`), so
//! `report`, `merge` and `diff` work on what a workload did under runsc.
//!
//! A task name stands in for the executable (runsc's strace names tasks, not files);
//! counts and errnos come from exit lines; captured arguments follow the database's
//! capture spec. Calls of syscalls the database has no number for in the profile's
//! arch cannot be rows of a profile: they are counted and returned for the caller to
//! report.

use std::collections::BTreeMap;

use syscall_db::{Arch, Database, ErrnoCounts, FieldValues};

use super::facts::{CallStat, LogFacts};
use super::names::{errno_name, resolve};
use crate::profile::{
    Abi, ArgSignature, BinaryFormat, CaptureStamp, Executable, FirstUse, LostCounts,
    SyscallProfile, SyscallStat, Target,
};

/// Value of [`CaptureStamp::method`] for profiles made from runsc logs.
pub const METHOD: &str = "runsc-strace";

/// A profile and what could not go into it.
#[derive(Debug)]
pub struct LogProfile {
    /// The profile.
    pub profile: SyscallProfile,
    /// Syscalls left out because the database has no number for them in the arch,
    /// with their call counts.
    pub left_out: Vec<(String, u64)>,
}

/// Builds the profile. `files` are the log files as given.
pub fn to_profile(facts: &LogFacts, db: &Database, arch: Arch, files: Vec<String>) -> LogProfile {
    let mut executables: BTreeMap<&str, u32> = BTreeMap::new();
    for stat in &facts.calls {
        let next = executables.len() as u32;
        executables.entry(stat.comm.as_str()).or_insert(next);
    }
    let mut rows: BTreeMap<(String, u32), SyscallStat> = BTreeMap::new();
    let mut signatures: BTreeMap<(String, FieldValues), ArgSignature> = BTreeMap::new();
    let mut left_out: BTreeMap<String, u64> = BTreeMap::new();
    for stat in &facts.calls {
        let Some((name, number)) = resolve(db, arch, &stat.syscall) else {
            *left_out.entry(stat.syscall.display()).or_default() += stat.calls;
            continue;
        };
        let exe = executables[stat.comm.as_str()];
        let errors = errno_counts(db, stat);
        let row = rows
            .entry((name.clone(), exe))
            .or_insert_with(|| SyscallStat {
                name: name.clone(),
                number,
                abi: Abi::Native,
                executable: exe,
                calls: 0,
                errors: ErrnoCounts::new(),
            });
        row.calls += stat.calls;
        add_counts(&mut row.errors, &errors);
        if stat.fields.is_empty() && stat.incomplete.is_empty() {
            continue;
        }
        let sig = signatures
            .entry((name.clone(), stat.fields.clone()))
            .or_insert_with(|| ArgSignature {
                syscall: name.clone(),
                number,
                fields: stat.fields.clone(),
                calls: 0,
                errors: ErrnoCounts::new(),
                incomplete: Vec::new(),
                first: stat.first.pid.map(|pid| FirstUse {
                    pid,
                    tid: stat.first.tid.unwrap_or(pid),
                    executable: exe,
                }),
            });
        sig.calls += stat.calls;
        add_counts(&mut sig.errors, &errors);
        for field in &stat.incomplete {
            if !sig.incomplete.contains(field) {
                sig.incomplete.push(field.clone());
            }
        }
    }
    // JSON logs stamp lines in RFC 3339, as the profile wants; text logs carry no
    // year, so their capture has no start or end rather than a made-up one.
    let time = |t: Option<super::facts::Inline<40>>| {
        t.map(|t| t.to_string_lossy())
            .filter(|t| is_rfc3339(t))
            .unwrap_or_default()
    };
    let capture = CaptureStamp {
        hostname: String::new(),
        kernel: facts
            .runsc_version
            .as_ref()
            .map_or_else(|| "gVisor".to_owned(), |v| format!("gVisor runsc {v}")),
        target: Target::RunscLog { files },
        started_at: time(facts.first_time),
        ended_at: time(facts.last_time),
        duration_ms: 0,
        method: METHOD.to_owned(),
    };
    let mut profile = SyscallProfile {
        executables: executables
            .iter()
            .map(|(&comm, &id)| Executable {
                id,
                path: comm.to_owned(),
                format: BinaryFormat::Unknown {
                    reason: "runsc's strace names tasks, not executable files".to_owned(),
                },
            })
            .collect(),
        processes: Vec::new(),
        syscalls: rows.into_values().collect(),
        signatures: signatures.into_values().collect(),
        lost: LostCounts {
            undecodable_records: facts.files.iter().map(|f| f.unparsed).sum::<u64>()
                + facts.truncated_calls,
            counts_map_full: facts.overflow.calls,
            ..LostCounts::default()
        },
        ..SyscallProfile::of_capture(db, arch, capture)
    };
    profile.executables.sort_by_key(|e| e.id);
    LogProfile {
        profile,
        left_out: left_out.into_iter().collect(),
    }
}

/// `2026-11-22T15:04:05…`: the shape of an RFC 3339 timestamp's date and time.
fn is_rfc3339(t: &str) -> bool {
    let b = t.as_bytes();
    b.len() >= 20
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
}

fn errno_counts(db: &Database, stat: &CallStat) -> ErrnoCounts {
    stat.failures
        .iter()
        .map(|f| (errno_name(db, f.errno), f.count))
        .fold(ErrnoCounts::new(), |mut m, (k, v)| {
            *m.entry(k).or_default() += v;
            m
        })
}

fn add_counts(into: &mut ErrnoCounts, from: &ErrnoCounts) {
    for (name, count) in from {
        *into.entry(name.clone()).or_default() += count;
    }
}
