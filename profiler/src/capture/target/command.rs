//! A command sandprof starts: looked up along `PATH`, forked into a process group of
//! its own with default signal dispositions and no signal blocked, switched to the
//! requested user, and held stopped just before its `execve` until the probe follows
//! it. Then released, waited for on a thread of its own, and, when the capture is
//! stopped early, signalled as a group.

use std::ffi::{CString, OsStr, OsString};
use std::fs;
use std::io;
use std::os::fd::{AsRawFd as _, FromRawFd as _, OwnedFd};
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context as _};
use tokio::sync::oneshot;

use super::terminal::Terminal;
use super::user::RunAs;
use crate::profile::ExitStatus;

/// A command forked and stopped just before `execve` until [`GatedChild::release`].
///
/// The child switches user first, then stops itself with `SIGSTOP`; the tracer starts
/// following it while it is stopped and resumes it with `SIGCONT`. The first syscall the
/// probe then sees from it is the `execve` of the command: none of sandprof's own
/// set-up calls end up in the profile.
///
/// The child leads a new process group (its id is its pid). Signal dispositions and the
/// signal mask are reset before `execve`: sandprof's runtime ignores `SIGPIPE`, and an
/// ignored signal would survive the exec and change how the command behaves
/// (`yes | head -1` would print "Broken pipe").
#[derive(Debug)]
pub struct GatedChild {
    /// Its pid, also its process group id.
    pub pid: u32,
    /// The program it will execute, as found along `PATH`.
    pub path: PathBuf,
    errors: Option<OwnedFd>,
    program: String,
    released: bool,
    terminal: Option<Arc<Terminal>>,
}

/// How the command ended, once it has: sent by its waiter thread (`None` if `waitpid`
/// failed).
pub type CommandExitReceiver = oneshot::Receiver<Option<ExitStatus>>;

/// Looks `program` up like a shell would: as is if it has a `/`, else along `PATH`.
pub fn find_program(program: &OsStr) -> anyhow::Result<PathBuf> {
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
    /// Forks `argv`, to execute `program` (found with [`find_program`]), and returns once
    /// the child is stopped before its `execve`. Everything the child needs is prepared
    /// here; after the fork it only makes async-signal-safe calls.
    pub fn spawn(
        program: &Path,
        argv: &[OsString],
        user: Option<&RunAs>,
    ) -> anyhow::Result<GatedChild> {
        let name = argv.first().context("no command given")?;
        let path = cstring(program.as_os_str())?;
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
        let last_signal = libc::SIGRTMAX();

        // SAFETY: the child only calls async-signal-safe functions (setpgid, sigaction,
        // sigprocmask, write, setgroups, setgid, setuid, getpid, kill, execve, _exit) on
        // memory prepared before fork.
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
                libc::setpgid(0, 0);
                reset_signals(last_signal);
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
        // Also from this side, so the group exists whichever process runs first.
        // SAFETY: a plain call on our own child.
        unsafe { libc::setpgid(pid, pid) };
        let mut child = GatedChild {
            pid: pid as u32,
            path: program.to_path_buf(),
            errors: Some(err_read),
            program: name.to_string_lossy().into_owned(),
            released: false,
            terminal: None,
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

    /// Resumes the child into its `execve`, reports whether the exec worked, and waits
    /// for the command on a thread of its own (`waitpid` blocks; the event loop must
    /// not). When sandprof is the foreground job of a terminal, the command's group
    /// gets the terminal first.
    pub fn release(&mut self) -> anyhow::Result<CommandExitReceiver> {
        self.released = true;
        self.terminal = Terminal::foreground().map(Arc::new);
        if let Some(terminal) = &self.terminal {
            terminal.give_to(self.group());
        }
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
        let (tx, rx) = oneshot::channel();
        let pid = self.group();
        let terminal = self.terminal.clone();
        std::thread::Builder::new()
            .name("command-waiter".to_owned())
            .spawn(move || {
                let _ = tx.send(wait_for(pid, terminal.as_deref()));
            })
            .context("failed to start the thread that waits for the command")?;
        Ok(rx)
    }

    /// The command's process group id.
    fn group(&self) -> libc::pid_t {
        self.pid as libc::pid_t
    }

    /// Sends `signal` to the command's process group: the command and every
    /// descendant that did not leave the group.
    pub fn signal_group(&self, signal: libc::c_int) -> io::Result<()> {
        // SAFETY: a plain syscall; the group is the one the child created.
        if unsafe { libc::killpg(self.group(), signal) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Whether any process is left in the command's group.
    pub fn group_alive(&self) -> bool {
        self.signal_group(0).is_ok()
    }
}

/// Puts every signal back to its default disposition and unblocks all of them. Runs in
/// the forked child: async-signal-safe calls only.
///
/// The raw `rt_sigaction` syscall, not the C library's `sigaction`: glibc refuses to
/// touch its two internal real-time signals (32 and 33), and its `posix_spawn` leaves
/// them *ignored* in processes it starts from a threaded parent (a Rust test harness,
/// for one), which `execve` keeps.
///
/// # Safety
/// Only to be called in a freshly forked child, before `execve`.
unsafe fn reset_signals(last_signal: libc::c_int) {
    // The kernel's `struct sigaction`, all zero: SIG_DFL, no flags, empty mask. 32 bytes
    // cover its layout on x86-64 and AArch64.
    let default = [0u64; 4];
    // SAFETY: every pointer is valid for the call. Signals that cannot be changed
    // (SIGKILL, SIGSTOP) fail harmlessly.
    unsafe {
        for signal in 1..=last_signal {
            libc::syscall(
                libc::SYS_rt_sigaction,
                signal,
                default.as_ptr(),
                std::ptr::null_mut::<u64>(),
                std::mem::size_of::<u64>(),
            );
        }
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
    }
}

/// Waits for the command to end. With a terminal, a stop from it (Ctrl-Z) stops
/// sandprof too, terminal taken back, and a continue hands it over again.
fn wait_for(pid: libc::pid_t, terminal: Option<&Terminal>) -> Option<ExitStatus> {
    let flags = if terminal.is_some() {
        libc::WUNTRACED
    } else {
        0
    };
    loop {
        let mut status = 0;
        // SAFETY: waiting for our own child; `status` is a valid out pointer.
        let rc = unsafe { libc::waitpid(pid, &mut status, flags) };
        if rc != pid {
            if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return None;
        }
        if libc::WIFSTOPPED(status) {
            if let Some(terminal) = terminal {
                terminal.take_back();
                // SAFETY: plain signals to this process and to the command's group.
                unsafe {
                    libc::kill(libc::getpid(), libc::SIGTSTP);
                    // Continued: in the foreground (`fg`) the command gets the terminal
                    // again; in the background (`bg`) it just continues.
                    if terminal.is_ours() {
                        terminal.give_to(pid);
                    }
                    libc::killpg(pid, libc::SIGCONT);
                }
            }
            continue;
        }
        return Some(if libc::WIFSIGNALED(status) {
            ExitStatus::Signal(libc::WTERMSIG(status))
        } else {
            ExitStatus::Code(libc::WEXITSTATUS(status))
        });
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
        if let Some(terminal) = &self.terminal {
            terminal.take_back();
        }
    }
}
