//! A command sandprof starts: looked up along `PATH`, forked, switched to the requested
//! user, and held stopped just before its `execve` until the probe follows it.

use std::ffi::{CString, OsStr, OsString};
use std::fs;
use std::io;
use std::os::fd::{AsRawFd as _, FromRawFd as _, OwnedFd};
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::fs::MetadataExt as _;
use std::path::PathBuf;

use anyhow::{bail, Context as _};

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
    // SAFETY: `passwd` is plain C data (integers and pointers), for which all-zero bytes
    // are a valid value; getpwnam_r overwrites it before anything reads it.
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

#[cfg(test)]
mod tests {
    use super::*;

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
