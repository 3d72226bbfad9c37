//! The cgroups a run's container lives in: unique names for them, their peak memory
//! (cgroup v2 `memory.peak`, or v1 `memory.max_usage_in_bytes` on hybrid hosts, where
//! runc and runsc account memory in the v1 controller), and removing any directory a
//! runtime left behind.

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long a cgroup emptied by SIGKILL may stay busy before its removal is reported
/// as failed.
const BUSY_WAIT: Duration = Duration::from_secs(3);

/// Mount points of the cgroup hierarchies: the v2 one, and v1 controllers by name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Hierarchies {
    /// The cgroup v2 mount, when there is one.
    pub v2: Option<PathBuf>,
    /// v1 mounts with the controllers each holds.
    pub v1: Vec<(PathBuf, Vec<String>)>,
}

impl Hierarchies {
    /// Reads them from `/proc/self/mountinfo`.
    pub fn of_this_process() -> Hierarchies {
        fs::read_to_string("/proc/self/mountinfo")
            .map(|text| Hierarchies::parse(&text))
            .unwrap_or_default()
    }

    /// Parses mountinfo text.
    pub fn parse(mountinfo: &str) -> Hierarchies {
        let mut out = Hierarchies::default();
        for line in mountinfo.lines() {
            let Some((left, right)) = line.split_once(" - ") else {
                continue;
            };
            let Some(mount_point) = left.split(' ').nth(4) else {
                continue;
            };
            let mut fields = right.split(' ');
            let fstype = fields.next().unwrap_or_default();
            let options = fields.nth(1).unwrap_or_default();
            match fstype {
                "cgroup2" if out.v2.is_none() => out.v2 = Some(PathBuf::from(mount_point)),
                "cgroup" => out.v1.push((
                    PathBuf::from(mount_point),
                    options.split(',').map(str::to_owned).collect(),
                )),
                _ => {}
            }
        }
        out
    }

    /// Peak memory of cgroup `path` (as a container's `cgroupsPath` names it), in bytes.
    pub fn peak_memory(&self, path: &str) -> Option<u64> {
        let relative = path.trim_start_matches('/');
        let v1 = self
            .v1
            .iter()
            .find(|(_, controllers)| controllers.iter().any(|c| c == "memory"))
            .map(|(mount, _)| mount.join(relative).join("memory.max_usage_in_bytes"));
        let v2 = self
            .v2
            .as_ref()
            .map(|mount| mount.join(relative).join("memory.peak"));
        [v1, v2]
            .into_iter()
            .flatten()
            .find_map(|file| read_number(&file))
    }

    /// Removes cgroup `path` from every hierarchy where it is left, and says which
    /// could not be removed. A cgroup whose last processes were just killed stays busy
    /// until the kernel has reaped them, so a busy one is retried for a short while.
    pub fn remove(&self, path: &str) -> Vec<String> {
        let relative = path.trim_start_matches('/');
        let deadline = Instant::now() + BUSY_WAIT;
        let mounts = self.v2.iter().chain(self.v1.iter().map(|(m, _)| m));
        let mut problems = Vec::new();
        for mount in mounts {
            let dir = mount.join(relative);
            loop {
                match fs::remove_dir(&dir) {
                    Ok(()) => break,
                    Err(e) if e.kind() == ErrorKind::NotFound => break,
                    Err(e)
                        if e.raw_os_error() == Some(libc::EBUSY) && Instant::now() < deadline =>
                    {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    Err(e) => {
                        problems.push(format!("cannot remove cgroup {}: {e}", dir.display()));
                        break;
                    }
                }
            }
        }
        problems
    }
}

fn read_number(file: &Path) -> Option<u64> {
    fs::read_to_string(file).ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hybrid_hosts() {
        let text = "\
35 24 0:30 / /sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw,nsdelegate
36 24 0:31 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory
37 24 0:32 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
";
        let h = Hierarchies::parse(text);
        assert_eq!(h.v2, Some(PathBuf::from("/sys/fs/cgroup/unified")));
        assert_eq!(h.v1.len(), 2);
        assert_eq!(h.v1[0].1, ["rw", "memory"]);
        assert_eq!(h.peak_memory("/no-such-cgroup-anywhere"), None);
    }
}
