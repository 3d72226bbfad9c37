//! A raw capture as a profile (mirroring `runsc_log::to_profile`): executable hashes
//! become small ids, syscall and errno numbers get their names from the database,
//! signature keys are decoded into named fields, and lost-event counters are carried
//! over. The capture stage produces profiles; `profile/` only holds the model and its
//! file I/O.

use std::collections::{BTreeMap, HashMap};

use profiler_common::event::LostCause;
use profiler_common::key::{
    IntSigKey, StrSigKey, EXE_UNKNOWN, NR_COMPAT_BIT, SIG_OUTSIDE_BASE, SIG_TRUNCATED_BASE,
    SIG_UNREADABLE_BASE,
};
use syscall_db::{Arch, Database, ErrnoCounts, FieldValue, FieldValues};

use super::records::{c_string, SignatureKey};
use super::spec::PlannedField;
use super::{FirstSeen, RawCapture};
use crate::profile::time::rfc3339;
use crate::profile::*;

/// Where and on what the capture ran.
#[derive(Clone, Debug)]
pub struct Host {
    /// Node name.
    pub hostname: String,
    /// Kernel release.
    pub kernel: String,
}

impl Host {
    /// This machine, from uname(2).
    pub fn current() -> Host {
        // SAFETY: `utsname` is plain data; uname fills it on success.
        let mut uts: libc::utsname = unsafe { std::mem::zeroed() };
        // SAFETY: `uts` is a valid out pointer.
        if unsafe { libc::uname(&mut uts) } != 0 {
            return Host {
                hostname: "(unknown)".to_owned(),
                kernel: "(unknown)".to_owned(),
            };
        }
        let text = |field: &[libc::c_char]| {
            let bytes: Vec<u8> = field.iter().map(|&c| c as u8).collect();
            c_string(&bytes)
        };
        Host {
            hostname: text(&uts.nodename),
            kernel: text(&uts.release),
        }
    }
}

/// The name of syscall `nr` (native, or compat with [`NR_COMPAT_BIT`]).
fn syscall_name(db: &Database, arch: Arch, nr: u32) -> (String, u32, Abi) {
    let (abi, table, nr) = if nr & NR_COMPAT_BIT != 0 {
        (Abi::Compat, arch.compat(), nr & !NR_COMPAT_BIT)
    } else {
        (Abi::Native, Some(arch), nr)
    };
    let name = table
        .and_then(|t| db.syscall_by_number(t, nr))
        .map_or_else(|| format!("syscall_{nr}"), |s| s.name.clone());
    (name, nr, abi)
}

fn errno_name(db: &Database, errno: u32) -> String {
    db.errno_name(errno)
        .map_or_else(|| format!("E{errno}"), str::to_owned)
}

/// Small, stable ids for executable hashes: sorted by path.
struct ExeIds {
    ids: HashMap<u64, u32>,
    executables: Vec<Executable>,
}

impl ExeIds {
    fn new(raw: &RawCapture) -> ExeIds {
        let mut used: Vec<u64> = raw.exes.keys().copied().collect();
        used.extend(raw.counts.iter().map(|(k, _)| k.exe));
        used.extend(raw.processes.values().flat_map(|p| p.exes.iter().copied()));
        used.extend(raw.first_uses.values().map(|f| f.exe));
        used.sort_unstable();
        used.dedup();
        let mut described: Vec<(String, BinaryFormat, u64)> = used
            .into_iter()
            .map(|hash| match raw.exes.get(&hash) {
                Some(seen) => (seen.path.clone(), seen.format.clone(), hash),
                None if hash == EXE_UNKNOWN => (
                    "(unknown: running before the capture, not yet executed anything)".to_owned(),
                    BinaryFormat::Unknown {
                        reason: "the task was adopted before its first exec".to_owned(),
                    },
                    hash,
                ),
                None => (
                    format!("(executable {hash:016x})"),
                    BinaryFormat::Unknown {
                        reason: "its exec record was lost".to_owned(),
                    },
                    hash,
                ),
            })
            .collect();
        described.sort_by(|a, b| (&a.0, a.2).cmp(&(&b.0, b.2)));
        let mut ids = HashMap::new();
        let mut executables = Vec::new();
        for (index, (path, format, hash)) in described.into_iter().enumerate() {
            let id = index as u32 + 1;
            ids.insert(hash, id);
            executables.push(Executable { id, path, format });
        }
        ExeIds { ids, executables }
    }

    fn id(&self, hash: u64) -> u32 {
        // Every hash was collected in `new`.
        self.ids.get(&hash).copied().unwrap_or(0)
    }
}

/// The probe folds each digit of an all-digit path component to `#`, which keeps the
/// number of kernel signatures small but not one; the profile (and the database's
/// globs) use a single `#` per folded component: `/proc/####/status` → `/proc/#/status`.
fn fold_components(path: &str) -> String {
    syscall_db::paths::fold_numbers(path)
}

/// Decodes a signature's fields; the second list names the incomplete ones.
fn decode_fields(
    planned: &[PlannedField],
    base: &IntSigKey,
    strs: Option<&StrSigKey>,
) -> (FieldValues, Vec<String>) {
    let mut fields = FieldValues::new();
    let mut incomplete = Vec::new();
    for field in planned {
        if base.flags & (SIG_UNREADABLE_BASE << field.value_slot) != 0 {
            incomplete.push(format!("{}: unreadable", field.name));
            continue;
        }
        let value = match (field.string_slot, strs) {
            // A path outside /proc, /sys and /dev: left out, as no rule looks at it.
            (Some(slot), Some(_)) if base.flags & (SIG_OUTSIDE_BASE << slot) != 0 => continue,
            (Some(slot), Some(strs)) => {
                if base.flags & (SIG_TRUNCATED_BASE << slot) != 0 {
                    incomplete.push(format!("{}: truncated", field.name));
                }
                let text = c_string(&strs.strs[slot]);
                FieldValue::Str(if field.is_path {
                    fold_components(&text)
                } else {
                    text
                })
            }
            (Some(_), None) => {
                incomplete.push(format!("{}: unreadable", field.name));
                continue;
            }
            (None, _) => FieldValue::Int(base.values[field.value_slot]),
        };
        fields.insert(field.name.clone(), value);
    }
    (fields, incomplete)
}

/// Builds the profile of one capture.
pub fn build(db: &Database, raw: &RawCapture, target: Target, host: &Host) -> SyscallProfile {
    let exe_ids = ExeIds::new(raw);
    SyscallProfile {
        syscalls: syscall_rows(db, raw, &exe_ids),
        signatures: signatures(db, raw, &exe_ids),
        processes: processes(raw, &exe_ids),
        lost: lost_counts(db, raw),
        executables: exe_ids.executables,
        ..SyscallProfile::of_capture(db, raw.arch, capture_stamp(raw, target, host))
    }
}

/// When, where and on what the capture ran.
fn capture_stamp(raw: &RawCapture, target: Target, host: &Host) -> CaptureStamp {
    CaptureStamp {
        hostname: host.hostname.clone(),
        kernel: host.kernel.clone(),
        target,
        started_at: rfc3339(raw.started),
        ended_at: rfc3339(raw.ended),
        duration_ms: raw
            .ended
            .duration_since(raw.started)
            .unwrap_or_default()
            .as_millis() as u64,
        method: "ebpf".to_owned(),
    }
}

/// One row per (executable, ABI, syscall), with its calls and failures by errno.
fn syscall_rows(db: &Database, raw: &RawCapture, exe_ids: &ExeIds) -> Vec<SyscallStat> {
    let mut rows: BTreeMap<(u32, Abi, u32), SyscallStat> = BTreeMap::new();
    for (key, count) in &raw.counts {
        let (name, number, abi) = syscall_name(db, raw.arch, key.nr);
        let executable = exe_ids.id(key.exe);
        let row = rows
            .entry((executable, abi, number))
            .or_insert_with(|| SyscallStat {
                name,
                number,
                abi,
                executable,
                calls: 0,
                errors: ErrnoCounts::new(),
            });
        row.calls += count;
        if key.errno != 0 {
            *row.errors.entry(errno_name(db, key.errno)).or_default() += count;
        }
    }
    rows.into_values().collect()
}

/// The decoded signatures. Kernel keys that decode to the same fields (paths the probe
/// folded digit by digit, which the profile folds to one `#`) become one signature, with
/// the earliest first sighting among them.
fn signatures(db: &Database, raw: &RawCapture, exe_ids: &ExeIds) -> Vec<ArgSignature> {
    let mut signatures: BTreeMap<(String, FieldValues), (ArgSignature, Option<FirstSeen>)> =
        BTreeMap::new();
    let int_keys = raw
        .int_sigs
        .iter()
        .map(|(k, c)| (SignatureKey::Int(*k), *c));
    let str_keys = raw
        .str_sigs
        .iter()
        .map(|(k, c)| (SignatureKey::Str(k.clone()), *c));
    for (key, count) in int_keys.chain(str_keys) {
        let base = *key.base();
        let Some(planned) = raw.plan.fields.get(&base.nr) else {
            continue;
        };
        let strs = match &key {
            SignatureKey::Str(k) => Some(&**k),
            SignatureKey::Int(_) => None,
        };
        let (fields, incomplete) = decode_fields(planned, &base, strs);
        let (syscall, number, _) = syscall_name(db, raw.arch, base.nr);
        let (sig, best) = signatures
            .entry((syscall.clone(), fields.clone()))
            .or_insert_with(|| {
                let sig = ArgSignature {
                    syscall,
                    number,
                    fields,
                    calls: 0,
                    errors: ErrnoCounts::new(),
                    incomplete: Vec::new(),
                    first: None,
                };
                (sig, None)
            });
        sig.calls += count;
        if base.errno != 0 {
            *sig.errors.entry(errno_name(db, base.errno)).or_default() += count;
        }
        for item in incomplete {
            if !sig.incomplete.contains(&item) {
                sig.incomplete.push(item);
            }
        }
        if let Some(first) = raw.first_uses.get(&key) {
            if best.is_none_or(|b| first.seq < b.seq) {
                *best = Some(*first);
            }
        }
    }
    signatures
        .into_values()
        .map(|(mut sig, first)| {
            sig.first = first.map(|f| FirstUse {
                pid: f.tgid,
                tid: f.tid,
                executable: exe_ids.id(f.exe),
            });
            sig
        })
        .collect()
}

/// The processes seen, with the executables each ran in order.
fn processes(raw: &RawCapture, exe_ids: &ExeIds) -> Vec<Process> {
    raw.processes
        .iter()
        .map(|(&pid, seen)| {
            let mut executables: Vec<u32> = seen.exes.iter().map(|&e| exe_ids.id(e)).collect();
            executables.dedup();
            Process {
                pid,
                parent: seen.parent,
                executables,
                capture: 0,
            }
        })
        .collect()
}

/// The kernel's lost-event counters, by cause, and the records userspace could not
/// decode.
fn lost_counts(db: &Database, raw: &RawCapture) -> LostCounts {
    let lost = |cause: LostCause| raw.lost[cause as usize];
    LostCounts {
        ring_buffer_full: lost(LostCause::RingBufFull),
        counts_map_full: lost(LostCause::CountsFull),
        signature_map_full: lost(LostCause::IntSigsFull) + lost(LostCause::StrSigsFull),
        signature_map_full_by_syscall: raw
            .lost_signatures
            .iter()
            .map(|(&nr, &calls)| (syscall_name(db, raw.arch, nr).0, calls))
            .collect(),
        task_map_full: lost(LostCause::TasksFull),
        exec_unattributed: lost(LostCause::ExecNameUnreadable),
        nr_out_of_range: lost(LostCause::NrOutOfRange),
        undecodable_records: raw.undecodable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_components_become_one_hash() {
        assert_eq!(fold_components("/proc/####/status"), "/proc/#/status");
        assert_eq!(
            fold_components("/proc/self/task/##/stat"),
            "/proc/self/task/#/stat"
        );
        assert_eq!(fold_components("/dev/pts/#"), "/dev/pts/#");
        assert_eq!(fold_components("/sys/devices/cpu#1"), "/sys/devices/cpu#1");
        assert_eq!(fold_components("/proc/self/status"), "/proc/self/status");
    }
}
