//! What the benchmark needs from the machine: root, two CPUs, the external tracers, the
//! release binaries; and the facts that go next to its results (date, kernel, CPU).

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context as _};

use crate::cmd;

/// External programs the benchmark runs, and the Debian package of each.
const TOOLS: [(&str, &str); 5] = [
    ("taskset", "util-linux"),
    ("strace", "strace"),
    ("bpftrace", "bpftrace"),
    ("tar", "tar"),
    ("sh", "dash"),
];

/// Absolute paths of everything the benchmark runs.
#[derive(Debug)]
pub struct Programs {
    /// `sandprof`, release build.
    pub sandprof: PathBuf,
    /// The `noop_floor` example, release build.
    pub noop_floor: PathBuf,
    /// `sandprof-workload`, release build.
    pub workload: PathBuf,
    /// `taskset`.
    pub taskset: PathBuf,
    /// `strace`.
    pub strace: PathBuf,
    /// `bpftrace`.
    pub bpftrace: PathBuf,
    /// `tar`.
    pub tar: PathBuf,
    /// `sh`.
    pub sh: PathBuf,
}

/// Fails unless the benchmark runs as root on at least two CPUs.
pub fn check_privileges_and_cpus() -> anyhow::Result<()> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        bail!(
            "`cargo xtask bench` must run as root: it loads eBPF programs and runs bpftrace \
             and strace on the workloads (try `sudo -E cargo xtask bench`)"
        );
    }
    let cpus = std::thread::available_parallelism()
        .context("failed to count the CPUs this process may use")?
        .get();
    if cpus < 2 {
        bail!(
            "`cargo xtask bench` needs two CPUs (workload on CPU 0, tracer on CPU 1); this \
             process may use {cpus}"
        );
    }
    Ok(())
}

/// Gives every signal the benchmark inherited as ignored its default disposition back,
/// so that every configuration's workload starts the way sandprof starts its command
/// (with default dispositions). A shell running the benchmark in the background
/// ignores SIGINT and SIGQUIT; under strace the workload inherited that, and the C
/// library's `posix_spawn` in `sandprof-workload time` then made one `rt_sigaction`
/// call fewer than under sandprof, which failed the exact-count check on a difference
/// no tracer made. SIGPIPE is left alone: Rust ignores it in its own processes and
/// resets it in every child it starts.
pub fn restore_default_signal_dispositions() -> anyhow::Result<()> {
    for signal in 1..libc::SIGRTMIN() {
        if [libc::SIGKILL, libc::SIGSTOP, libc::SIGPIPE].contains(&signal) {
            continue;
        }
        // SAFETY: sigaction is plain data; all-zero is a valid value.
        let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
        // SAFETY: a query (no new action); the kernel writes only `old`.
        if unsafe { libc::sigaction(signal, std::ptr::null(), &mut old) } != 0 {
            continue; // a number the kernel does not know
        }
        if old.sa_sigaction == libc::SIG_IGN {
            // SAFETY: SIG_DFL is a valid disposition for every catchable signal.
            if unsafe { libc::signal(signal, libc::SIG_DFL) } == libc::SIG_ERR {
                return Err(std::io::Error::last_os_error()).with_context(|| {
                    format!("failed to restore the default action of signal {signal}")
                });
            }
        }
    }
    Ok(())
}

/// A scratch directory on a tmpfs of its own, unmounted and removed when dropped.
///
/// On tmpfs, writing the tar archive and reading the tree cost memory bandwidth only,
/// not disk writeback that other processes share (on the root disk, untraced `tar` runs
/// varied from 0.3 s to 1.2 s). Not `/dev/shm`: every path under `/dev` is one sandprof
/// captures, so a tree there made `tar` a stress test of path capture (40,000 distinct
/// `/dev` paths) instead of the ordinary command it stands for.
pub struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    /// The directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Ok(target) = std::ffi::CString::new(self.dir.path().as_os_str().as_encoded_bytes()) {
            // SAFETY: a valid C string; unmounting our own mount. The TempDir removes the
            // (then empty) directory after this.
            unsafe { libc::umount2(target.as_ptr(), libc::MNT_DETACH) };
        }
    }
}

/// A fresh scratch directory with a private tmpfs mounted on it, in a mount namespace
/// of the benchmark's own (inherited by everything it runs), so the tmpfs cannot outlive
/// the benchmark even when it is interrupted.
pub fn scratch_dir() -> anyhow::Result<Scratch> {
    // SAFETY: plain syscalls on no memory of ours; the process is still single-threaded
    // (unshare(CLONE_NEWNS) refuses otherwise).
    if unsafe { libc::unshare(libc::CLONE_NEWNS) } != 0 {
        return Err(std::io::Error::last_os_error())
            .context("failed to enter a mount namespace of the benchmark's own");
    }
    // Without this, mounts made here would propagate back to the host's namespace.
    // SAFETY: valid C strings; the other pointers may be null for a propagation change.
    let rc = unsafe {
        libc::mount(
            std::ptr::null(),
            c"/".as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error())
            .context("failed to make the benchmark's mounts private");
    }
    let dir = tempfile::Builder::new()
        .prefix("sandprof-bench-")
        .tempdir()
        .context("failed to create a scratch directory")?;
    let target = std::ffi::CString::new(dir.path().as_os_str().as_encoded_bytes())
        .context("scratch path with a NUL byte")?;
    // SAFETY: valid C strings for the duration of the call.
    let rc = unsafe {
        libc::mount(
            c"sandprof-bench".as_ptr(),
            target.as_ptr(),
            c"tmpfs".as_ptr(),
            libc::MS_NOSUID | libc::MS_NODEV,
            c"mode=0700".as_ptr().cast(),
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error())
            .with_context(|| format!("failed to mount a tmpfs on {}", dir.path().display()));
    }
    Ok(Scratch { dir })
}

/// Builds the release binaries the benchmark runs (unless `skip`) and finds every
/// program it needs.
pub fn programs(skip_build: bool) -> anyhow::Result<Programs> {
    let root = crate::workspace_root();
    if !skip_build {
        let mut build = cmd::cargo();
        build.current_dir(&root).args([
            "build",
            "--release",
            "-p",
            "profiler",
            "--bin",
            "sandprof",
            "--example",
            "noop_floor",
            "-p",
            "sandprof-tests",
            "--bin",
            "sandprof-workload",
        ]);
        // The probe must be the real one: an empty object would benchmark nothing.
        build.env_remove("AYA_BUILD_SKIP");
        cmd::run(&mut build)?;
    }
    let release = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| root.join("target"), PathBuf::from)
        .join("release");
    let built = |relative: &str| -> anyhow::Result<PathBuf> {
        let path = release.join(relative);
        if !path.is_file() {
            bail!(
                "{} is missing: build it with `cargo build --release` or drop --no-build",
                path.display()
            );
        }
        Ok(path)
    };
    let tool = |name: &str| -> anyhow::Result<PathBuf> {
        let package = TOOLS
            .iter()
            .find(|(tool, _)| *tool == name)
            .map_or(name, |(_, package)| package);
        find_in_path(name)
            .with_context(|| format!("`{name}` is not in PATH: install Debian's `{package}`"))
    };
    Ok(Programs {
        sandprof: built("sandprof")?,
        noop_floor: built("examples/noop_floor")?,
        workload: built("sandprof-workload")?,
        taskset: tool("taskset")?,
        strace: tool("strace")?,
        bpftrace: tool("bpftrace")?,
        tar: tool("tar")?,
        sh: tool("sh")?,
    })
}

fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// Where and when the numbers were measured.
#[derive(Debug)]
pub struct Machine {
    /// `YYYY-MM-DD`, UTC.
    pub date: String,
    /// Kernel release.
    pub kernel: String,
    /// The first CPU's model name.
    pub cpu: String,
    /// CPUs this process may use.
    pub cpus: usize,
}

impl Machine {
    /// Reads the machine's description from `/proc`.
    pub fn describe() -> anyhow::Result<Self> {
        let read = |path: &str| {
            std::fs::read_to_string(path).with_context(|| format!("failed to read {path}"))
        };
        let kernel = read("/proc/sys/kernel/osrelease")?.trim().to_owned();
        let cpuinfo = read("/proc/cpuinfo")?;
        let cpu = cpuinfo
            .lines()
            .find_map(|line| {
                let (key, value) = line.split_once(':')?;
                (key.trim() == "model name").then(|| value.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown CPU (no model name in /proc/cpuinfo)".to_owned());
        let seconds = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .context("the system clock is before 1970")?
            .as_secs();
        Ok(Self {
            date: civil_date(seconds / 86_400),
            kernel,
            cpu,
            cpus: std::thread::available_parallelism().map_or(0, |n| n.get()),
        })
    }
}

/// The proleptic Gregorian date of a count of days since 1970-01-01, as `YYYY-MM-DD`.
fn civil_date(days_since_epoch: u64) -> String {
    // Shift the epoch to 0000-03-01 so that leap days fall at the end of a year, then
    // split into 400-year eras of 146,097 days.
    let days = days_since_epoch + 719_468;
    let era = days / 146_097;
    let day_of_era = days % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = era * 400 + year_of_era + u64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::civil_date;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(59), "1970-03-01");
        assert_eq!(civil_date(11_016), "2000-02-29");
        assert_eq!(civil_date(11_017), "2000-03-01");
        assert_eq!(civil_date(20_454), "2026-01-01");
        assert_eq!(civil_date(20_453), "2025-12-31");
    }
}
