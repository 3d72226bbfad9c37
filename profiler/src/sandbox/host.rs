//! What a sandbox run needs from the host kernel, each a thin, checked wrapper of one
//! system call: a private mount namespace for sandprof itself (so every mount it makes
//! vanishes with it, whatever way it ends), bind and overlay mounts, becoming the
//! child subreaper (so a runc container's init, orphaned when `runc create` exits, is
//! sandprof's to wait for), waiting for one process, and bringing the loopback interface
//! up in a container's network namespace (as the CNI loopback plugin does).

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd as _;
use std::os::unix::ffi::OsStrExt as _;
use std::path::Path;

use thiserror::Error;

/// A host operation that failed, with what it was doing.
#[derive(Debug, Error)]
#[error("{what}")]
pub struct HostError {
    what: String,
    #[source]
    source: io::Error,
}

fn check(rc: libc::c_int, what: impl FnOnce() -> String) -> Result<(), HostError> {
    if rc == 0 {
        Ok(())
    } else {
        Err(HostError {
            what: what(),
            source: io::Error::last_os_error(),
        })
    }
}

fn cstring(path: &Path) -> Result<CString, HostError> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| HostError {
        what: format!("{} contains a NUL byte", path.display()),
        source: io::Error::from(io::ErrorKind::InvalidInput),
    })
}

/// Moves sandprof into a mount namespace of its own, with no propagation back to the
/// host: the mounts a run makes are seen by sandprof and the runtimes it starts, and
/// the kernel removes them when the last of those processes ends, even on SIGKILL.
///
/// Must be called while sandprof has one thread: the kernel refuses `unshare(CLONE_NEWNS)`
/// to a process whose threads share its filesystem information.
pub fn private_mount_namespace() -> Result<(), HostError> {
    // SAFETY: unshare takes flags only.
    check(unsafe { libc::unshare(libc::CLONE_NEWNS) }, || {
        "cannot create a private mount namespace (is sandprof running as root, with one \
         thread?)"
            .to_owned()
    })?;
    let root = cstring(Path::new("/"))?;
    // SAFETY: a valid C string target; null source, type and data are allowed for a
    // propagation change.
    check(
        unsafe {
            libc::mount(
                std::ptr::null(),
                root.as_ptr(),
                std::ptr::null(),
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            )
        },
        || "cannot make sandprof's mounts private".to_owned(),
    )
}

/// Bind-mounts `source` on `target` read-only. Not recursive: what is mounted below
/// `source` is left out (a container gets its own /proc, /sys, /dev, /tmp and /run).
pub fn bind_read_only(source: &Path, target: &Path) -> Result<(), HostError> {
    let (src, dst) = (cstring(source)?, cstring(target)?);
    let what = || {
        format!(
            "cannot bind-mount {} on {}",
            source.display(),
            target.display()
        )
    };
    // SAFETY: valid C strings; a bind mount takes no type or data.
    check(
        unsafe {
            libc::mount(
                src.as_ptr(),
                dst.as_ptr(),
                std::ptr::null(),
                libc::MS_BIND,
                std::ptr::null(),
            )
        },
        what,
    )?;
    // A bind mount is made writable whatever the flags; read-only takes a remount.
    // SAFETY: as above, on the mount just made.
    check(
        unsafe {
            libc::mount(
                std::ptr::null(),
                dst.as_ptr(),
                std::ptr::null(),
                libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY,
                std::ptr::null(),
            )
        },
        || {
            format!(
                "cannot make the bind mount on {} read-only",
                target.display()
            )
        },
    )
}

/// Mounts an overlay of `upper` (writable, initially empty) on `lower` at `target`, so
/// a run may write to its root file system while `lower` stays untouched.
pub fn overlay(lower: &Path, upper: &Path, work: &Path, target: &Path) -> Result<(), HostError> {
    // Commas and colons separate overlay options; a path holding one cannot be named.
    for path in [lower, upper, work] {
        let bytes = path.as_os_str().as_bytes();
        if bytes.contains(&b',') || bytes.contains(&b':') {
            return Err(HostError {
                what: format!(
                    "{} contains a comma or colon, which an overlay mount cannot name",
                    path.display()
                ),
                source: io::Error::from(io::ErrorKind::InvalidInput),
            });
        }
    }
    let data = CString::new(format!(
        "lowerdir={},upperdir={},workdir={}",
        lower.display(),
        upper.display(),
        work.display()
    ))
    .map_err(|_| HostError {
        what: "an overlay path contains a NUL byte".to_owned(),
        source: io::Error::from(io::ErrorKind::InvalidInput),
    })?;
    let dst = cstring(target)?;
    let fstype = CString::from(c"overlay");
    // SAFETY: valid C strings for source, target, type and data.
    check(
        unsafe {
            libc::mount(
                fstype.as_ptr(),
                dst.as_ptr(),
                fstype.as_ptr(),
                0,
                data.as_ptr().cast(),
            )
        },
        || {
            format!(
                "cannot mount an overlay of {} at {}",
                lower.display(),
                target.display()
            )
        },
    )
}

/// Detaches the mount at `target` (lazily: a process still inside keeps it alive
/// until it leaves).
pub fn unmount(target: &Path) -> Result<(), HostError> {
    let dst = cstring(target)?;
    // SAFETY: a valid C string.
    check(
        unsafe { libc::umount2(dst.as_ptr(), libc::MNT_DETACH) },
        || format!("cannot unmount {}", target.display()),
    )
}

/// Makes sandprof the child subreaper: orphaned descendants are reparented to it
/// rather than to init, so it can wait for them (`on = false` undoes it).
pub fn child_subreaper(on: bool) -> Result<(), HostError> {
    // SAFETY: PR_SET_CHILD_SUBREAPER takes one integer argument.
    check(
        unsafe {
            libc::prctl(
                libc::PR_SET_CHILD_SUBREAPER,
                libc::c_ulong::from(on),
                0,
                0,
                0,
            )
        },
        || "cannot become the child subreaper".to_owned(),
    )
}

/// How a waited-for process ended.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum WaitStatus {
    /// It exited with this status.
    Exited(i32),
    /// A signal killed it.
    Signaled(i32),
}

/// Waits for process `pid`, a child (or an orphan reparented to this subreaper).
/// Blocks: call it from a thread of its own.
pub fn wait_pid(pid: i32) -> Result<WaitStatus, HostError> {
    loop {
        let mut status = 0;
        // SAFETY: waiting for one pid; `status` is a valid out pointer.
        let rc = unsafe { libc::waitpid(pid, &mut status, 0) };
        if rc == pid {
            return Ok(if libc::WIFSIGNALED(status) {
                WaitStatus::Signaled(libc::WTERMSIG(status))
            } else {
                WaitStatus::Exited(libc::WEXITSTATUS(status))
            });
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(HostError {
                what: format!("cannot wait for process {pid}"),
                source: err,
            });
        }
    }
}

/// Brings `lo` up in the network namespace of process `pid`. Runs on a thread of its
/// own, since joining a network namespace changes the calling thread only.
pub fn loopback_up(pid: u32) -> Result<(), HostError> {
    let path = format!("/proc/{pid}/ns/net");
    let ns = File::open(&path).map_err(|source| HostError {
        what: format!("cannot open {path}"),
        source,
    })?;
    std::thread::spawn(move || -> Result<(), HostError> {
        // SAFETY: `ns` is an open namespace file; this thread alone joins it and ends
        // right after.
        check(
            unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) },
            || "cannot join the container's network namespace".to_owned(),
        )?;
        // SAFETY: socket takes plain integers; the result is checked.
        let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
        if fd < 0 {
            return Err(HostError {
                what: "cannot open a socket to configure lo".to_owned(),
                source: io::Error::last_os_error(),
            });
        }
        // SAFETY: `fd` was just opened and is owned here alone.
        let socket = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
        // SAFETY: ifreq is plain data; all-zero is a valid value.
        let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
        for (slot, byte) in req.ifr_name.iter_mut().zip(b"lo\0") {
            *slot = *byte as libc::c_char;
        }
        // SAFETY: SIOCGIFFLAGS reads into the ifreq passed, which outlives the call.
        check(
            unsafe { libc::ioctl(socket.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) },
            || "cannot read the flags of lo".to_owned(),
        )?;
        // SAFETY: SIOCGIFFLAGS filled the flags member of the union.
        unsafe { req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short };
        // SAFETY: SIOCSIFFLAGS reads the ifreq passed.
        check(
            unsafe { libc::ioctl(socket.as_raw_fd(), libc::SIOCSIFFLAGS, &req) },
            || "cannot bring lo up".to_owned(),
        )
    })
    .join()
    .unwrap_or_else(|_| {
        Err(HostError {
            what: "the thread configuring lo panicked".to_owned(),
            source: io::Error::other("panic"),
        })
    })
}

/// Whether this process runs as root.
pub fn is_root() -> bool {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() == 0 }
}
