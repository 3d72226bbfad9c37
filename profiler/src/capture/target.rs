//! Finding what to trace: a command sandprof starts (held at a gate until the probe
//! follows it), a running PID tree, a cgroup v2 directory, or a container found by id.
//! Every input gets a clear error naming what is wrong.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::{CString, OsStr, OsString};
use std::fs;
use std::io;
use std::os::fd::{AsRawFd as _, FromRawFd as _, OwnedFd};
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};

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

/// A task already running when the capture starts.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ExistingTask {
    /// Thread id.
    pub tid: u32,
    /// Process id.
    pub tgid: u32,
}

/// A user to run the command as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunAs {
    /// Name as given (or the numeric id).
    pub name: String,
    /// User id.
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
    /// Supplementary groups.
    pub groups: Vec<u32>,
}

/// Resolves `NAME`, `UID` or `UID:GID` to ids, reading the user database for names.
pub fn resolve_user(spec: &str) -> anyhow::Result<RunAs> {
    let (user, group) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let group = group
        .map(|g| {
            g.parse::<u32>()
                .with_context(|| format!("`--user {spec}`: group `{g}` is not a number"))
        })
        .transpose()?;
    if let Ok(uid) = user.parse::<u32>() {
        let gid = group.unwrap_or(uid);
        return Ok(RunAs {
            name: spec.to_owned(),
            uid,
            gid,
            groups: vec![gid],
        });
    }
    let name = CString::new(user).with_context(|| format!("`--user {spec}` contains a NUL"))?;
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    let mut result = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call; `buf` outlives the use of `pwd`'s
    // string fields, which are not read.
    let rc = unsafe {
        libc::getpwnam_r(
            name.as_ptr(),
            &mut pwd,
            buf.as_mut_ptr(),
            buf.len(),
            &mut result,
        )
    };
    if rc != 0 || result.is_null() {
        bail!("`--user {spec}`: no such user in the user database");
    }
    let gid = group.unwrap_or(pwd.pw_gid);
    let mut groups = vec![0 as libc::gid_t; 256];
    let mut n = groups.len() as libc::c_int;
    // SAFETY: `groups` has room for `n` entries; `name` is a valid C string.
    let rc = unsafe { libc::getgrouplist(name.as_ptr(), gid, groups.as_mut_ptr(), &mut n) };
    if rc < 0 {
        bail!("`--user {spec}` belongs to more than 256 groups");
    }
    groups.truncate(n.max(0) as usize);
    Ok(RunAs {
        name: user.to_owned(),
        uid: pwd.pw_uid,
        gid,
        groups,
    })
}

/// A command forked and stopped just before `execve` until [`GatedChild::release`].
///
/// The child switches user first, then stops itself with `SIGSTOP`; the tracer starts
/// following it while it is stopped and resumes it with `SIGCONT`. The first syscall the
/// probe then sees from it is the `execve` of the command: none of sandprof's own
/// set-up calls end up in the profile.
#[derive(Debug)]
pub struct GatedChild {
    /// Its pid.
    pub pid: u32,
    /// The program it will execute, as found along `PATH`.
    pub path: PathBuf,
    errors: Option<OwnedFd>,
    program: String,
    released: bool,
}

/// Looks `program` up like a shell would: as is if it has a `/`, else along `PATH`.
fn find_program(program: &OsStr) -> anyhow::Result<PathBuf> {
    let text = program.to_string_lossy();
    if program.as_bytes().contains(&b'/') {
        return Ok(PathBuf::from(program));
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| OsString::from("/usr/bin:/bin"));
    for dir in std::env::split_paths(&path) {
        let candidate = dir.join(program);
        if let Ok(meta) = fs::metadata(&candidate) {
            if meta.is_file() && meta.mode() & 0o111 != 0 {
                return Ok(candidate);
            }
        }
    }
    bail!("command `{text}` not found in PATH")
}

fn cstring(s: &OsStr) -> anyhow::Result<CString> {
    CString::new(s.as_bytes()).with_context(|| format!("{s:?} contains a NUL byte"))
}

fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe2 returned two fresh descriptors that nothing else owns.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Reads the errno the child reports before `_exit` (4 bytes), or `None` at EOF: the
/// pipe closed because `execve` succeeded.
fn read_child_errno(fd: &OwnedFd) -> Option<i32> {
    let mut code = [0u8; 4];
    // SAFETY: `fd` is an open pipe read end and `code` has room for 4 bytes.
    let n = unsafe { libc::read(fd.as_raw_fd(), code.as_mut_ptr().cast(), 4) };
    (n == 4).then(|| i32::from_ne_bytes(code))
}

impl GatedChild {
    /// Forks `argv` and returns once the child is stopped before its `execve`.
    /// Everything the child needs is prepared here; after the fork it only makes
    /// async-signal-safe calls.
    pub fn spawn(argv: &[OsString], user: Option<&RunAs>) -> anyhow::Result<GatedChild> {
        let program = argv.first().context("no command given")?;
        let found = find_program(program)?;
        let path = cstring(found.as_os_str())?;
        let args: Vec<CString> = argv.iter().map(|a| cstring(a)).collect::<Result<_, _>>()?;
        let mut arg_ptrs: Vec<*const libc::c_char> = args.iter().map(|a| a.as_ptr()).collect();
        arg_ptrs.push(std::ptr::null());
        let env: Vec<CString> = std::env::vars_os()
            .map(|(k, v)| {
                let mut kv = k;
                kv.push("=");
                kv.push(v);
                cstring(&kv)
            })
            .collect::<Result<_, _>>()?;
        let mut env_ptrs: Vec<*const libc::c_char> = env.iter().map(|e| e.as_ptr()).collect();
        env_ptrs.push(std::ptr::null());
        let (err_read, err_write) = pipe().context("failed to create the exec error pipe")?;
        let ids = user.map(|u| (u.uid, u.gid, u.groups.clone()));

        // SAFETY: the child only calls async-signal-safe functions (write, setgroups,
        // setgid, setuid, getpid, kill, execve, _exit) on memory prepared before fork.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return Err(io::Error::last_os_error()).context("fork failed");
        }
        if pid == 0 {
            // SAFETY: see above; every pointer refers to memory prepared before fork.
            unsafe {
                let fail = |code: i32| -> ! {
                    let bytes = code.to_ne_bytes();
                    libc::write(err_write.as_raw_fd(), bytes.as_ptr().cast(), bytes.len());
                    libc::_exit(127)
                };
                if let Some((uid, gid, groups)) = &ids {
                    if libc::setgroups(groups.len(), groups.as_ptr()) != 0
                        || libc::setgid(*gid) != 0
                        || libc::setuid(*uid) != 0
                    {
                        fail(*libc::__errno_location());
                    }
                }
                libc::kill(libc::getpid(), libc::SIGSTOP);
                libc::execve(path.as_ptr(), arg_ptrs.as_ptr(), env_ptrs.as_ptr());
                fail(*libc::__errno_location());
            }
        }
        drop(err_write);
        let mut child = GatedChild {
            pid: pid as u32,
            path: found,
            errors: Some(err_read),
            program: program.to_string_lossy().into_owned(),
            released: false,
        };
        let mut status = 0;
        // SAFETY: waiting for our own child; `status` is a valid out pointer.
        let rc = unsafe { libc::waitpid(pid, &mut status, libc::WUNTRACED) };
        if rc != pid {
            return Err(io::Error::last_os_error())
                .context("failed to wait for the command to start");
        }
        if !libc::WIFSTOPPED(status) {
            // It exited before the gate: the user switch failed.
            child.released = true;
            let err = child
                .errors
                .take()
                .and_then(|fd| read_child_errno(&fd))
                .map_or_else(
                    || io::Error::other("exited before it could be traced"),
                    io::Error::from_raw_os_error,
                );
            return Err(err).with_context(|| {
                format!("failed to start `{}` as the requested user", child.program)
            });
        }
        Ok(child)
    }

    /// Resumes the child into its `execve`, and reports whether the exec worked.
    pub fn release(&mut self) -> anyhow::Result<()> {
        self.released = true;
        // SAFETY: a signal to our own stopped child.
        if unsafe { libc::kill(self.pid as i32, libc::SIGCONT) } != 0 {
            return Err(io::Error::last_os_error()).context("failed to resume the command");
        }
        let errors = self
            .errors
            .take()
            .context("the command was already released")?;
        if let Some(code) = read_child_errno(&errors) {
            let err = io::Error::from_raw_os_error(code);
            return Err(err).with_context(|| format!("failed to execute `{}`", self.program));
        }
        Ok(())
    }
}

impl Drop for GatedChild {
    fn drop(&mut self) {
        if !self.released {
            // Never resumed: it would stay stopped forever.
            // SAFETY: plain syscalls on our own child's pid.
            unsafe {
                libc::kill(self.pid as i32, libc::SIGKILL);
                libc::waitpid(self.pid as i32, std::ptr::null_mut(), 0);
            }
        }
    }
}

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

/// Prefixes and suffixes that container managers put around an id in cgroup names:
/// `docker-<id>.scope`, `cri-containerd-<id>.scope`, `crio-<id>.scope`,
/// `libpod-<id>.scope`, `runc-<id>.scope` (systemd driver), or the bare id (cgroupfs
/// driver: `/docker/<id>`, `/kubepods/besteffort/pod<uid>/<id>`, runc's own paths).
const ID_PREFIXES: [&str; 6] = [
    "docker-",
    "cri-containerd-",
    "crio-",
    "libpod-",
    "runc-",
    "containerd-",
];

/// The container id a cgroup directory name stands for, if any.
pub fn container_id_of(name: &str) -> Option<&str> {
    let name = name.strip_suffix(".scope").unwrap_or(name);
    // conmon's own scope is not the container.
    if name.starts_with("crio-conmon-") || name.starts_with("libpod-conmon-") {
        return None;
    }
    let id = ID_PREFIXES
        .iter()
        .find_map(|p| name.strip_prefix(p))
        .unwrap_or(name);
    (id.len() >= 2
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    .then_some(id)
}

/// Finds the cgroup of the container whose id is `query` or starts with it. The id may be
/// any name runc was given; a prefix must be unique.
pub fn find_container(root: &Path, query: &str) -> anyhow::Result<(String, PathBuf)> {
    if query.is_empty() {
        bail!("the container id is empty");
    }
    let mut found: BTreeMap<String, BTreeSet<PathBuf>> = BTreeMap::new();
    let mut dirs = vec![(root.to_path_buf(), 0)];
    while let Some((dir, depth)) = dirs.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if !path.is_dir() {
                continue;
            }
            if let Some(id) = entry.file_name().to_str().and_then(container_id_of) {
                if id.starts_with(query) {
                    found.entry(id.to_owned()).or_default().insert(path.clone());
                    // A container's own sub-cgroups are not other containers.
                    continue;
                }
            }
            if depth < 8 {
                dirs.push((path, depth + 1));
            }
        }
    }
    let (id, paths) = if let Some(paths) = found.remove(query) {
        (query.to_owned(), paths)
    } else if found.len() > 1 {
        bail!(
            "container id `{query}` is ambiguous: it starts {}; give more of it",
            found
                .keys()
                .map(|id| format!("`{id}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    } else if let Some(only) = found.pop_first() {
        only
    } else {
        bail!(
            "no container with id `{query}` under {} (looked for cgroup directories named \
             <id>, docker-<id>.scope, cri-containerd-<id>.scope, crio-<id>.scope, \
             libpod-<id>.scope, runc-<id>.scope)",
            root.display()
        );
    };
    let mut paths = paths.into_iter();
    let path = paths
        .next()
        .with_context(|| format!("no cgroup for container `{id}`"))?;
    if let Some(other) = paths.next() {
        bail!(
            "container `{id}` has several cgroups ({} and {}); pass one with --cgroup",
            path.display(),
            other.display()
        );
    }
    Ok((id, path))
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn stat_parent_survives_odd_command_names() {
        assert_eq!(parse_stat_ppid("42 (a) b) S 7 42 42 0 -1"), Some(7));
        assert_eq!(parse_stat_ppid("1 (init) S 0 1 1"), Some(0));
        assert_eq!(parse_stat_ppid("garbage"), None);
    }

    #[test]
    fn container_ids_from_cgroup_names() {
        assert_eq!(
            container_id_of("cri-containerd-0123abcd.scope"),
            Some("0123abcd")
        );
        assert_eq!(container_id_of("docker-feed.scope"), Some("feed"));
        assert_eq!(container_id_of("crio-conmon-feed.scope"), None);
        assert_eq!(container_id_of("feedbeef"), Some("feedbeef"));
        assert_eq!(container_id_of("kubepods.slice"), None);
    }

    fn cgroup_tree(dirs: &[&str]) -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        for dir in dirs {
            fs::create_dir_all(root.path().join(dir)).unwrap();
            fs::write(root.path().join(dir).join("cgroup.procs"), "").unwrap();
        }
        root
    }

    #[test]
    fn finds_containers_across_layouts() {
        let root = cgroup_tree(&[
            "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/cri-containerd-abc123.scope",
            "system.slice/docker-def456.scope",
            "kubepods/burstable/pod2/0fedcba9",
            "sandprof/ab9999",
        ]);
        let find = |q| {
            find_container(root.path(), q)
                .map(|(id, p)| (id, p.strip_prefix(root.path()).unwrap().to_path_buf()))
        };
        assert_eq!(
            find("abc").unwrap(),
            (
                "abc123".to_owned(),
                PathBuf::from("kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/cri-containerd-abc123.scope")
            )
        );
        assert_eq!(
            find("def456").unwrap().1,
            PathBuf::from("system.slice/docker-def456.scope")
        );
        assert_eq!(
            find("0fed").unwrap().1,
            PathBuf::from("kubepods/burstable/pod2/0fedcba9")
        );
        assert_eq!(
            find("ab").unwrap_err().to_string(),
            "container id `ab` is ambiguous: it starts `ab9999`, `abc123`; give more of it"
        );
        assert!(find("zz")
            .unwrap_err()
            .to_string()
            .starts_with("no container with id `zz` under "));
    }

    #[test]
    fn cgroup_must_exist_and_be_a_cgroup() {
        let root = cgroup_tree(&["a/b"]);
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

    #[test]
    fn user_specs() {
        assert_eq!(
            resolve_user("1234:99").unwrap(),
            RunAs {
                name: "1234:99".into(),
                uid: 1234,
                gid: 99,
                groups: vec![99]
            }
        );
        let root = resolve_user("root").unwrap();
        assert_eq!((root.uid, root.gid), (0, 0));
        assert_eq!(
            resolve_user("no-such-user-sandprof")
                .unwrap_err()
                .to_string(),
            "`--user no-such-user-sandprof`: no such user in the user database"
        );
        assert_eq!(
            resolve_user("1:x").unwrap_err().to_string(),
            "`--user 1:x`: group `x` is not a number"
        );
    }
}
