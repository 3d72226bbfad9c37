//! The controlling terminal, handed to the command's process group while it runs.
//!
//! The command runs in a process group of its own, so that sandprof can signal it and
//! all its descendants at once without signalling itself or whatever shares its own
//! group (`sandprof … | tee log`). When sandprof is the foreground job of a terminal,
//! that group becomes the terminal's foreground group, as a shell would make it: the
//! command reads the terminal, and Ctrl-C and Ctrl-Z reach it as they would without
//! sandprof. When the command is stopped from the terminal, sandprof takes the terminal
//! back and stops itself, so the shell regains control; `fg` resumes both.

use std::fs::OpenOptions;
use std::os::fd::{AsRawFd as _, OwnedFd};
use std::os::unix::fs::OpenOptionsExt as _;

/// The terminal sandprof held in the foreground when it started the command.
#[derive(Debug)]
pub struct Terminal {
    fd: OwnedFd,
    /// sandprof's own process group, the terminal's foreground group at start.
    own_group: libc::pid_t,
}

impl Terminal {
    /// The controlling terminal, if sandprof has one and is its foreground job.
    pub fn foreground() -> Option<Terminal> {
        let tty = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NOCTTY | libc::O_CLOEXEC)
            .open("/dev/tty")
            .ok()?;
        let fd = OwnedFd::from(tty);
        // SAFETY: plain calls on an open descriptor and on this process.
        let (foreground, own_group) = unsafe { (libc::tcgetpgrp(fd.as_raw_fd()), libc::getpgrp()) };
        (foreground == own_group).then_some(Terminal { fd, own_group })
    }

    /// Makes `group` the terminal's foreground process group.
    pub fn give_to(&self, group: libc::pid_t) {
        self.set_foreground(group);
    }

    /// Makes sandprof's own group the foreground group again.
    pub fn take_back(&self) {
        self.set_foreground(self.own_group);
    }

    /// Whether sandprof's group is the terminal's foreground group (after `fg`, not
    /// after `bg`).
    pub fn is_ours(&self) -> bool {
        // SAFETY: a plain call on an open descriptor.
        unsafe { libc::tcgetpgrp(self.fd.as_raw_fd()) == self.own_group }
    }

    fn set_foreground(&self, group: libc::pid_t) {
        // A background group that calls tcsetpgrp is sent SIGTTOU, which would stop
        // sandprof; with the signal blocked in this thread the call just succeeds.
        // SAFETY: `sigset_t` is plain data; the calls get valid pointers to it, to the
        // old mask and an open descriptor.
        unsafe {
            let mut block: libc::sigset_t = std::mem::zeroed();
            let mut old: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut block);
            libc::sigaddset(&mut block, libc::SIGTTOU);
            libc::pthread_sigmask(libc::SIG_BLOCK, &block, &mut old);
            libc::tcsetpgrp(self.fd.as_raw_fd(), group);
            libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        }
    }
}
