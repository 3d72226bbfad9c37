//! What a running container costs the host: the processes that make it up (those in
//! its cgroup, and for runsc every process whose command line names the sandbox's
//! private state directory: the Sentry, the gofer, the ptrace stubs), their summed
//! proportional set size (`Pss` of /proc/PID/smaps_rollup, so pages the processes
//! share are counted once), and the CPU time they use.
//!
//! Pss counts mapped pages only. runsc keeps the application's memory in a memfd (its
//! "memory file") and maps only the parts in use into the stubs, so an idle sandbox
//! holding 256 MiB shows a few MiB of Pss. The part of every memfd a container's
//! processes hold open that no mapping counts is added: its allocated size minus the
//! Pss of its mappings. (Measured here, runsc 20221219.0, ptrace: 256 MiB touched by
//! the workload showed as 43 MiB of Pss in all, and 284 MiB in the memory cgroup.)

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::sandbox::cgroup::Hierarchies;

/// The processes of a container: in `cgroup` in any hierarchy, or naming `state_dir`
/// on their command line. sandprof itself is never one.
pub fn container_pids(hierarchies: &Hierarchies, cgroup: &str, state_dir: &Path) -> BTreeSet<i32> {
    let relative = cgroup.trim_start_matches('/');
    let mut pids = BTreeSet::new();
    let mounts = hierarchies
        .v2
        .iter()
        .chain(hierarchies.v1.iter().map(|(m, _)| m));
    for mount in mounts {
        if let Ok(text) = std::fs::read_to_string(mount.join(relative).join("cgroup.procs")) {
            pids.extend(text.lines().filter_map(|l| l.trim().parse::<i32>().ok()));
        }
    }
    let needle = state_dir.as_os_str().as_encoded_bytes();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<i32>().ok())
            else {
                continue;
            };
            let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
                continue;
            };
            if !needle.is_empty() && cmdline.windows(needle.len()).any(|w| w == needle) {
                pids.insert(pid);
            }
        }
    }
    pids.remove(&(std::process::id() as i32));
    pids
}

/// The `Pss:` of an smaps_rollup text, in KiB.
pub fn parse_pss_kib(smaps_rollup: &str) -> Option<u64> {
    smaps_rollup.lines().find_map(|line| {
        let rest = line.strip_prefix("Pss:")?;
        rest.trim().trim_end_matches("kB").trim().parse().ok()
    })
}

/// A process's Pss in KiB (None once it has gone).
pub fn pss_kib(pid: i32) -> Option<u64> {
    parse_pss_kib(&std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?)
}

/// What a process is to a sandbox: `sandbox` (runsc's `boot`: the Sentry), `gofer`,
/// `stub` (a process with no command line: the ptrace platform's address-space
/// stubs), or its name.
pub fn role(pid: i32) -> String {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    if cmdline.is_empty() && std::fs::metadata(format!("/proc/{pid}")).is_ok() {
        return "stub".to_owned();
    }
    let args: Vec<String> = cmdline
        .split(|&b| b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    if args.iter().any(|a| a == "boot") {
        return "sandbox".to_owned();
    }
    if args.iter().any(|a| a == "gofer") {
        return "gofer".to_owned();
    }
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|c| c.trim().to_owned())
        .unwrap_or_else(|_| "gone".to_owned())
}

/// The memfds `pid` holds open: inode and allocated KiB of each.
fn memfds(pid: i32) -> Vec<(u64, u64)> {
    use std::os::unix::fs::MetadataExt as _;
    let Ok(entries) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| {
            std::fs::read_link(e.path()).is_ok_and(|target| {
                target
                    .as_os_str()
                    .as_encoded_bytes()
                    .starts_with(b"/memfd:")
            })
        })
        .filter_map(|e| std::fs::metadata(e.path()).ok())
        .map(|m| (m.ino(), m.blocks() * 512 / 1024))
        .collect()
}

/// The Pss (KiB) of the mappings in an smaps text of memfds with one of `inodes`.
pub fn memfd_mapped_pss_kib(smaps: &str, inodes: &BTreeSet<u64>) -> u64 {
    let mut counting = false;
    let mut total = 0;
    for line in smaps.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        // A mapping's header: range, perms, offset, device, inode, [path].
        if fields.len() >= 5 && fields[0].contains('-') && !fields[0].ends_with(':') {
            counting = fields.get(5).is_some_and(|p| p.starts_with("/memfd:"))
                && fields[4]
                    .parse::<u64>()
                    .is_ok_and(|ino| inodes.contains(&ino));
        } else if counting {
            if let Some(kib) = line
                .strip_prefix("Pss:")
                .and_then(|r| r.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            {
                total += kib;
            }
        }
    }
    total
}

/// Memory of each role among `pids`, in KiB, with the number of processes: Pss, plus
/// the unmapped part of the memfds they hold (to the role holding each open).
pub fn memory_by_role(pids: &BTreeSet<i32>) -> BTreeMap<String, (usize, u64)> {
    let mut roles: BTreeMap<String, (usize, u64)> = BTreeMap::new();
    let mut files: BTreeMap<u64, (u64, String)> = BTreeMap::new();
    for &pid in pids {
        let Some(pss) = pss_kib(pid) else { continue };
        let role = role(pid);
        for (ino, kib) in memfds(pid) {
            files.entry(ino).or_insert((kib, role.clone()));
        }
        let entry = roles.entry(role).or_default();
        entry.0 += 1;
        entry.1 += pss;
    }
    let inodes: BTreeSet<u64> = files.keys().copied().collect();
    let mapped: u64 = pids
        .iter()
        .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/smaps")).ok())
        .map(|smaps| memfd_mapped_pss_kib(&smaps, &inodes))
        .sum();
    let allocated: u64 = files.values().map(|(kib, _)| kib).sum();
    // Attribute the unmapped remainder to the role holding the largest memfd.
    if let Some((_, role)) = files.values().max_by_key(|(kib, _)| *kib) {
        roles.entry(role.clone()).or_default().1 += allocated.saturating_sub(mapped);
    }
    roles
}

/// The first field of a `schedstat` line: nanoseconds on a CPU.
pub fn parse_schedstat_ns(text: &str) -> Option<u64> {
    text.split_whitespace().next()?.parse().ok()
}

/// CPU time used so far by every thread of `pid`, in nanoseconds.
pub fn cpu_ns(pid: i32) -> Option<u64> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut total = 0;
    for task in tasks.flatten() {
        if let Ok(text) = std::fs::read_to_string(task.path().join("schedstat")) {
            total += parse_schedstat_ns(&text).unwrap_or(0);
        }
    }
    Some(total)
}

/// CPU time of every process in `pids`, by PID.
pub fn cpu_snapshot(pids: &BTreeSet<i32>) -> BTreeMap<i32, u64> {
    pids.iter()
        .filter_map(|&pid| cpu_ns(pid).map(|ns| (pid, ns)))
        .collect()
}

/// Millicores used between two snapshots `seconds` apart, over the processes in both.
pub fn millicores(before: &BTreeMap<i32, u64>, after: &BTreeMap<i32, u64>, seconds: f64) -> f64 {
    let used: u64 = after
        .iter()
        .filter_map(|(pid, ns)| before.get(pid).map(|b| ns.saturating_sub(*b)))
        .sum();
    used as f64 / 1e9 / seconds * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pss_and_schedstat_parse() {
        let rollup = "55d0-7ffc ---p 00000000 00:00 0  [rollup]\nRss:    2048 kB\nPss:    1234 kB\nPss_Anon:  10 kB\n";
        assert_eq!(parse_pss_kib(rollup), Some(1234));
        assert_eq!(parse_pss_kib("Rss: 1 kB\n"), None);
        assert_eq!(parse_schedstat_ns("123456 789 10\n"), Some(123_456));
    }

    #[test]
    fn memfd_mappings_are_found_by_inode() {
        let smaps = "\
7f00-7f10 rw-s 00000000 00:01 4242                       /memfd:runsc-memory (deleted)
Size:               64 kB
Pss:                12 kB
7f10-7f20 rw-p 00000000 00:00 0 
Pss:               100 kB
7f20-7f30 rw-s 00000000 00:01 77                         /memfd:other (deleted)
Pss:                 5 kB
7f30-7f40 r--s 00001000 00:01 4242                       /memfd:runsc-memory (deleted)
Pss:                 3 kB
";
        assert_eq!(memfd_mapped_pss_kib(smaps, &BTreeSet::from([4242])), 15);
        assert_eq!(memfd_mapped_pss_kib(smaps, &BTreeSet::from([77, 4242])), 20);
        assert_eq!(memfd_mapped_pss_kib(smaps, &BTreeSet::new()), 0);
    }

    #[test]
    fn millicores_from_snapshots() {
        let before = BTreeMap::from([(1, 1_000_000_000), (2, 0)]);
        let after = BTreeMap::from([(1, 1_050_000_000), (3, 9_000_000_000)]);
        // 50 ms of CPU over 2 s: 25 millicores; pid 3 was not there before.
        assert_eq!(millicores(&before, &after, 2.0), 25.0);
    }

    #[test]
    fn this_process_has_memory_and_cpu() {
        let me = std::process::id() as i32;
        assert!(pss_kib(me).unwrap() > 0);
        assert!(cpu_ns(me).unwrap() > 0);
    }
}
