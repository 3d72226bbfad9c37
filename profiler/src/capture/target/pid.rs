//! A running process tree: the process, its threads and its descendants, read from
//! `/proc`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use anyhow::{bail, Context as _};

use super::ExistingTask;

/// `(pid, ppid)` of every process, from `/proc/*/stat`.
fn process_parents(proc_root: &Path) -> anyhow::Result<BTreeMap<u32, u32>> {
    let mut parents = BTreeMap::new();
    let entries = fs::read_dir(proc_root)
        .with_context(|| format!("failed to list {}", proc_root.display()))?;
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        // A process may exit while we look: skip it, it has nothing left to trace.
        let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        if let Some(ppid) = parse_stat_ppid(&stat) {
            parents.insert(pid, ppid);
        }
    }
    Ok(parents)
}

/// The parent pid from `/proc/PID/stat`; the command name may contain spaces and `)`.
pub fn parse_stat_ppid(stat: &str) -> Option<u32> {
    let after_comm = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_comm.split_whitespace();
    let _state = fields.next()?;
    fields.next()?.parse().ok()
}

fn threads(proc_root: &Path, tgid: u32) -> Vec<ExistingTask> {
    let Ok(entries) = fs::read_dir(proc_root.join(tgid.to_string()).join("task")) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .map(|tid| ExistingTask { tid, tgid })
        .collect()
}

/// Every thread of `pid` and of its descendants.
pub fn pid_tree(proc_root: &Path, pid: u32) -> anyhow::Result<Vec<ExistingTask>> {
    if !proc_root.join(pid.to_string()).is_dir() {
        bail!("no process with PID {pid}");
    }
    let parents = process_parents(proc_root)?;
    let mut children: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for (&child, &parent) in &parents {
        children.entry(parent).or_default().push(child);
    }
    let mut tree = BTreeSet::from([pid]);
    let mut stack = vec![pid];
    while let Some(p) = stack.pop() {
        for &c in children.get(&p).into_iter().flatten() {
            if tree.insert(c) {
                stack.push(c);
            }
        }
    }
    let mut tasks: Vec<ExistingTask> = tree
        .into_iter()
        .flat_map(|tgid| threads(proc_root, tgid))
        .collect();
    if tasks.is_empty() {
        bail!("process {pid} exited before it could be traced");
    }
    tasks.sort();
    Ok(tasks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_parent_survives_odd_command_names() {
        assert_eq!(parse_stat_ppid("42 (a) b) S 7 42 42 0 -1"), Some(7));
        assert_eq!(parse_stat_ppid("1 (init) S 0 1 1"), Some(0));
        assert_eq!(parse_stat_ppid("garbage"), None);
    }

    #[test]
    fn missing_pid_is_named() {
        let err = pid_tree(Path::new("/proc"), u32::MAX - 1).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("no process with PID {}", u32::MAX - 1)
        );
    }

    #[test]
    fn own_pid_tree_contains_this_thread() {
        let me = std::process::id();
        let tasks = pid_tree(Path::new("/proc"), me).unwrap();
        assert!(tasks.contains(&ExistingTask { tid: me, tgid: me }));
    }
}
