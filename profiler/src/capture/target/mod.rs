//! Finding what to trace, one file per kind of target: a command sandprof starts (held
//! at a gate until the probe follows it), a running PID tree, a cgroup v2 directory, or
//! a container found by id. Every input gets a clear error naming what is wrong.

mod cgroup;
mod command;
mod container;
mod pid;
mod terminal;
mod user;

pub use cgroup::{cgroup, cgroup2_root, cgroup_populated, cgroup_tasks, Cgroup};
pub use command::{find_program, CommandExitReceiver, GatedChild};
pub use container::{container_id_of, find_container};
pub use pid::{parse_stat_ppid, pid_tree};
pub use user::{resolve_user, RunAs};

/// A task already running when the capture starts.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ExistingTask {
    /// Thread id.
    pub tid: u32,
    /// Process id.
    pub tgid: u32,
}

/// A directory tree shaped like a cgroup hierarchy: each of `dirs` with a `cgroup.procs`.
#[cfg(test)]
pub(crate) fn fake_cgroup_tree(dirs: &[&str]) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    for dir in dirs {
        std::fs::create_dir_all(root.path().join(dir)).unwrap();
        std::fs::write(root.path().join(dir).join("cgroup.procs"), "").unwrap();
    }
    root
}
