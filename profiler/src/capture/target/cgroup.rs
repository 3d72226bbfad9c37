//! A cgroup v2 directory: where the v2 hierarchy is mounted, a path checked and turned
//! into the id and level the probe filters on, the tasks already in it, and whether it
//! still has any.

use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};

use super::ExistingTask;

/// Mounts of one kind, from `/proc/self/mountinfo` text: (mount point, fs type) for
/// every line whose type is `cgroup2` or `cgroup`.
fn cgroup_mounts(mountinfo: &str) -> Vec<(PathBuf, String)> {
    mountinfo
        .lines()
        .filter_map(|line| {
            let (before, after) = line.split_once(" - ")?;
            let fstype = after.split_whitespace().next()?;
            let mount_point = before.split_whitespace().nth(4)?;
            matches!(fstype, "cgroup2" | "cgroup").then(|| {
                (
                    PathBuf::from(unescape_mount_path(mount_point)),
                    fstype.to_owned(),
                )
            })
        })
        .collect()
}

/// mountinfo escapes spaces, tabs, newlines and backslashes as octal `\NNN`.
fn unescape_mount_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut rest = path;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let code = rest
            .get(i + 1..i + 4)
            .and_then(|o| u8::from_str_radix(o, 8).ok());
        match code {
            Some(byte) => {
                out.push(char::from(byte));
                rest = &rest[i + 4..];
            }
            None => {
                out.push('\\');
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Where the cgroup v2 hierarchy is mounted: `/sys/fs/cgroup` on unified systems,
/// `/sys/fs/cgroup/unified` on hybrid ones. The probe filters on this hierarchy.
pub fn cgroup2_root() -> anyhow::Result<PathBuf> {
    let mountinfo = fs::read_to_string("/proc/self/mountinfo")
        .context("failed to read /proc/self/mountinfo")?;
    cgroup_mounts(&mountinfo)
        .into_iter()
        .find(|(_, fstype)| fstype == "cgroup2")
        .map(|(path, _)| path)
        .context(
            "no cgroup v2 hierarchy is mounted; --cgroup and --container need one \
             (mount it with `mount -t cgroup2 none /sys/fs/cgroup/unified`)",
        )
}

/// The cgroup v2 directory standing for `path`, which may be a cgroup v1 controller
/// directory on a hybrid system (runc and systemd create the same relative path in
/// both hierarchies).
fn in_v2_hierarchy(root: &Path, path: &Path) -> Option<PathBuf> {
    if path.starts_with(root) {
        return Some(path.to_path_buf());
    }
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").ok()?;
    cgroup_mounts(&mountinfo)
        .into_iter()
        .filter(|(_, fstype)| fstype == "cgroup")
        .find_map(|(mount, _)| path.strip_prefix(&mount).ok().map(|rel| root.join(rel)))
        .filter(|candidate| candidate.is_dir())
}

/// A cgroup v2 directory to trace, with its id and depth.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cgroup {
    /// Absolute path of the directory.
    pub path: PathBuf,
    /// cgroup id: the directory's inode number.
    pub id: u64,
    /// Depth below the cgroup root.
    pub level: u32,
}

/// Checks that `path` is a cgroup v2 directory under `root` and reads its id.
pub fn cgroup(root: &Path, path: &Path) -> anyhow::Result<Cgroup> {
    let full = if path.is_absolute() {
        path.to_path_buf()
    } else {
        root.join(path)
    };
    let full = full
        .canonicalize()
        .with_context(|| format!("cgroup {} does not exist", full.display()))?;
    let root = root
        .canonicalize()
        .with_context(|| format!("cgroup v2 is not mounted at {}", root.display()))?;
    let full = in_v2_hierarchy(&root, &full).ok_or_else(|| {
        anyhow::anyhow!(
            "{} is not under the cgroup v2 mount {}",
            full.display(),
            root.display()
        )
    })?;
    let relative = full.strip_prefix(&root).map_err(|_| {
        anyhow::anyhow!(
            "{} is not under the cgroup v2 mount {}",
            full.display(),
            root.display()
        )
    })?;
    if !full.join("cgroup.procs").is_file() {
        bail!(
            "{} is not a cgroup v2 directory (it has no cgroup.procs)",
            full.display()
        );
    }
    let id = fs::metadata(&full)
        .with_context(|| format!("failed to stat {}", full.display()))?
        .ino();
    Ok(Cgroup {
        level: relative.components().count() as u32,
        path: full,
        id,
    })
}

/// Every thread in `cgroup` and below it.
pub fn cgroup_tasks(cgroup: &Path) -> anyhow::Result<Vec<ExistingTask>> {
    let mut tasks = Vec::new();
    let mut dirs = vec![cgroup.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let threads = match fs::read_to_string(dir.join("cgroup.threads")) {
            Ok(text) => text,
            // A child cgroup removed while we walk has no tasks left.
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("failed to read {}/cgroup.threads", dir.display()))
            }
        };
        for tid in threads.lines().filter_map(|l| l.trim().parse::<u32>().ok()) {
            let tgid = fs::read_to_string(format!("/proc/{tid}/status"))
                .ok()
                .and_then(|s| {
                    s.lines()
                        .find_map(|l| l.strip_prefix("Tgid:"))
                        .and_then(|v| v.trim().parse().ok())
                })
                .unwrap_or(tid);
            tasks.push(ExistingTask { tid, tgid });
        }
        if let Ok(entries) = fs::read_dir(&dir) {
            dirs.extend(
                entries
                    .flatten()
                    .filter(|e| e.path().is_dir())
                    .map(|e| e.path()),
            );
        }
    }
    tasks.sort();
    Ok(tasks)
}

/// Whether a cgroup still has processes (`populated 1` in `cgroup.events`). A removed
/// cgroup is not populated.
pub fn cgroup_populated(cgroup: &Path) -> bool {
    fs::read_to_string(cgroup.join("cgroup.events"))
        .map(|events| events.lines().any(|l| l.trim() == "populated 1"))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::target::fake_cgroup_tree;

    #[test]
    fn cgroup_mounts_of_a_hybrid_system() {
        let mountinfo = "35 24 0:30 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755
36 35 0:31 / /sys/fs/cgroup/unified rw,nosuid shared:10 - cgroup2 cgroup2 rw
37 35 0:32 / /sys/fs/cgroup/cpu rw,nosuid shared:11 - cgroup cgroup rw,cpu
38 35 0:33 / /mnt/with\\040space rw - cgroup cgroup rw,pids";
        assert_eq!(
            cgroup_mounts(mountinfo),
            [
                (
                    PathBuf::from("/sys/fs/cgroup/unified"),
                    "cgroup2".to_owned()
                ),
                (PathBuf::from("/sys/fs/cgroup/cpu"), "cgroup".to_owned()),
                (PathBuf::from("/mnt/with space"), "cgroup".to_owned()),
            ]
        );
    }

    #[test]
    fn cgroup_must_exist_and_be_a_cgroup() {
        let root = fake_cgroup_tree(&["a/b"]);
        let cg = cgroup(root.path(), Path::new("a/b")).unwrap();
        assert_eq!(cg.level, 2);
        fs::create_dir(root.path().join("plain")).unwrap();
        let err = cgroup(root.path(), Path::new("plain"))
            .unwrap_err()
            .to_string();
        assert!(
            err.ends_with("plain is not a cgroup v2 directory (it has no cgroup.procs)"),
            "{err}"
        );
        let err = cgroup(root.path(), Path::new("nope"))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("cgroup ") && err.ends_with("nope does not exist"),
            "{err}"
        );
    }
}
