//! Runs one workload under one configuration, pinned (workload on CPU 0, tracer on
//! CPU 1), and measures it: the time the workload reports from inside, the wall time of
//! the whole invocation, the peak RSS of the process waited for, and, under sandprof
//! and strace, the syscall counts.

use std::ffi::OsString;
use std::fs::File;
use std::io::{BufRead as _, BufReader, Read as _};
use std::os::unix::process::ExitStatusExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};

use super::counts::{self, SyscallCounts};
use super::host::Programs;
use super::workloads::{Timing, Workload};

/// The CPU the measured workload runs on.
const WORKLOAD_CPU: &str = "0";
/// The CPU every tracer runs on.
const TRACER_CPU: &str = "1";

/// The bpftrace floor: empty programs on the raw_syscalls tracepoints. bpftrace 0.17
/// has no `rawtracepoint:` probes, so these attach through perf events.
const BPFTRACE_PROGRAM: &str =
    "tracepoint:raw_syscalls:sys_enter {} tracepoint:raw_syscalls:sys_exit {}";

/// How a workload is run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Config {
    /// Alone.
    Untraced,
    /// Under `noop_floor`: empty programs on the raw tracepoints sandprof attaches to.
    NoopFloor,
    /// Under bpftrace's empty perf-attached tracepoint programs.
    Bpftrace,
    /// Under `sandprof profile`.
    Sandprof,
    /// Under `strace -f -c`.
    Strace,
}

impl Config {
    /// Every configuration, in the order of the results table.
    pub const ALL: [Self; 5] = [
        Self::Untraced,
        Self::NoopFloor,
        Self::Bpftrace,
        Self::Sandprof,
        Self::Strace,
    ];

    /// Column label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Untraced => "untraced",
            Self::NoopFloor => "no-op floor (raw tp)",
            Self::Bpftrace => "bpftrace (perf tp)",
            Self::Sandprof => "sandprof",
            Self::Strace => "strace -f",
        }
    }
}

/// One measured run.
#[derive(Debug)]
pub struct Sample {
    /// Nanoseconds per iteration, as the workload measured them from inside.
    pub per_iteration_ns: f64,
    /// Wall time of the whole invocation: with a tracer that starts the command
    /// (sandprof, bpftrace, strace), its start-up and shutdown included.
    pub wall: Duration,
    /// Peak RSS in KiB of the tracer process, or of the workload when untraced. The
    /// kernel reports the largest of a process and its waited-for descendants, so for
    /// tracers that start the command this is the larger of tracer and workload.
    pub max_rss_kib: u64,
    /// Syscall counts, under sandprof and strace.
    pub counts: Option<SyscallCounts>,
}

/// A finished process.
struct Finished {
    stdout: String,
    wall: Duration,
    max_rss_kib: u64,
}

/// Runs configurations, with scratch files under one directory.
pub struct Runner<'a> {
    programs: &'a Programs,
    scratch: &'a Path,
}

impl<'a> Runner<'a> {
    /// A runner whose scratch files (profiles, strace summaries, stderr) go to `scratch`.
    pub fn new(programs: &'a Programs, scratch: &'a Path) -> Self {
        Self { programs, scratch }
    }

    /// Runs `workload` once under `config`.
    pub fn run(&self, config: Config, workload: &Workload) -> anyhow::Result<Sample> {
        let iterations = if config == Config::Strace {
            workload.strace_iterations
        } else {
            workload.iterations
        };
        let argv = workload.argv(iterations);
        let (finished, rss, counts) = match config {
            Config::Untraced => {
                let finished = self.finish(self.pinned(WORKLOAD_CPU, &argv), "untraced")?;
                let rss = finished.max_rss_kib;
                (finished, rss, None)
            }
            Config::NoopFloor => self.under_noop_floor(&argv)?,
            Config::Bpftrace => {
                let finished = self.finish(self.bpftrace(&argv)?, "bpftrace")?;
                let rss = finished.max_rss_kib;
                (finished, rss, None)
            }
            Config::Sandprof => {
                let profile = self.scratch.join("bench.sandprof.json");
                let finished = self.finish(self.sandprof(&argv, &profile), "sandprof")?;
                let counts = counts::from_profile(&profile)?;
                let rss = finished.max_rss_kib;
                (finished, rss, Some(counts))
            }
            Config::Strace => {
                let summary = self.scratch.join("strace-summary.txt");
                let finished = self.finish(self.strace(&argv, &summary), "strace")?;
                let text = std::fs::read_to_string(&summary)
                    .with_context(|| format!("failed to read {}", summary.display()))?;
                let counts = counts::from_strace_summary(&text, &summary)?;
                let rss = finished.max_rss_kib;
                (finished, rss, Some(counts))
            }
        };
        let per_iteration_ns = reported_ns(&finished.stdout, workload.timing, iterations)
            .with_context(|| format!("{} under {}", workload.label, config.label()))?;
        Ok(Sample {
            per_iteration_ns,
            wall: finished.wall,
            max_rss_kib: rss,
            counts,
        })
    }

    /// Wall time of `sandprof profile -- true`: start-up (load, attach) and shutdown
    /// (detach, drain, write the profile) around a command that does nothing.
    pub fn sandprof_startup(&self) -> anyhow::Result<Duration> {
        let profile = self.scratch.join("startup.sandprof.json");
        let finished = self.finish(
            self.sandprof(&[OsString::from("true")], &profile),
            "sandprof start-up",
        )?;
        Ok(finished.wall)
    }

    fn pinned(&self, cpu: &str, argv: &[OsString]) -> Command {
        let mut command = Command::new(&self.programs.taskset);
        command.args(["-c", cpu]).args(argv);
        command
    }

    fn bpftrace(&self, argv: &[OsString]) -> anyhow::Result<Command> {
        // bpftrace starts `-c` itself once its programs are attached, and splits the
        // command line at spaces: arguments must not contain any.
        let mut line = vec![
            self.programs.taskset.as_os_str(),
            "-c".as_ref(),
            WORKLOAD_CPU.as_ref(),
        ];
        line.extend(argv.iter().map(OsString::as_os_str));
        let mut joined = OsString::new();
        for (i, arg) in line.iter().enumerate() {
            let text = arg
                .to_str()
                .with_context(|| format!("bpftrace -c needs UTF-8 arguments, not {arg:?}"))?;
            if text.contains(char::is_whitespace) {
                bail!("bpftrace -c splits at spaces, and {text:?} contains one");
            }
            if i > 0 {
                joined.push(" ");
            }
            joined.push(text);
        }
        let mut command = Command::new(&self.programs.taskset);
        command
            .args(["-c", TRACER_CPU])
            .arg(&self.programs.bpftrace)
            .args(["-e", BPFTRACE_PROGRAM, "-c"])
            .arg(joined);
        Ok(command)
    }

    fn sandprof(&self, argv: &[OsString], profile: &Path) -> Command {
        let mut command = Command::new(&self.programs.taskset);
        command
            .args(["-c", TRACER_CPU])
            .arg(&self.programs.sandprof)
            .args(["profile", "-q", "--out"])
            .arg(profile)
            .arg("--")
            .arg(&self.programs.taskset)
            .args(["-c", WORKLOAD_CPU])
            .args(argv);
        command
    }

    fn strace(&self, argv: &[OsString], summary: &Path) -> Command {
        let mut command = Command::new(&self.programs.taskset);
        command
            .args(["-c", TRACER_CPU])
            .arg(&self.programs.strace)
            .args(["-f", "-c", "-o"])
            .arg(summary)
            .arg("--")
            .arg(&self.programs.taskset)
            .args(["-c", WORKLOAD_CPU])
            .args(argv);
        command
    }

    /// Runs the workload while `noop_floor` holds its programs attached; the tracer's
    /// RSS is `noop_floor`'s own.
    fn under_noop_floor(
        &self,
        argv: &[OsString],
    ) -> anyhow::Result<(Finished, u64, Option<SyscallCounts>)> {
        let stderr_path = self.stderr_path("noop_floor");
        let mut floor = Command::new(&self.programs.taskset);
        floor
            .args(["-c", TRACER_CPU])
            .arg(&self.programs.noop_floor)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr_file(&stderr_path)?);
        let mut child = floor
            .spawn()
            .with_context(|| format!("failed to start {floor:?}"))?;
        let stdin = child.stdin.take();
        let stdout = child
            .stdout
            .take()
            .context("noop_floor's stdout is not a pipe")?;
        let mut lines = BufReader::new(stdout).lines();
        let attached = loop {
            match lines.next() {
                Some(Ok(line)) if line == "attached" => break true,
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => break false,
            }
        };
        if !attached {
            drop(stdin);
            let _ = wait_with_rusage(&child);
            bail!(
                "noop_floor exited before attaching its programs: {}",
                tail(&stderr_path)
            );
        }
        let finished = self.finish(self.pinned(WORKLOAD_CPU, argv), "under the no-op floor");
        // Closing stdin lets noop_floor detach and exit, also when the workload failed.
        drop(stdin);
        let (status, rss) = wait_with_rusage(&child)?;
        let finished = finished?;
        if !status.success() {
            bail!("noop_floor failed ({status}): {}", tail(&stderr_path));
        }
        Ok((finished, rss, None))
    }

    /// Runs `command` to the end, reading its stdout; fails with the end of its stderr
    /// when it does not succeed.
    fn finish(&self, mut command: Command, what: &str) -> anyhow::Result<Finished> {
        let stderr_path = self.stderr_path(what);
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr_file(&stderr_path)?);
        let start = Instant::now();
        let mut child = command
            .spawn()
            .with_context(|| format!("failed to start {command:?}"))?;
        let mut stdout = String::new();
        let read = child
            .stdout
            .take()
            .context("stdout is not a pipe")?
            .read_to_string(&mut stdout);
        let (status, max_rss_kib) = wait_with_rusage(&child)?;
        let wall = start.elapsed();
        read.with_context(|| format!("failed to read the output of {command:?}"))?;
        if !status.success() {
            bail!("{command:?} failed ({status}): {}", tail(&stderr_path));
        }
        Ok(Finished {
            stdout,
            wall,
            max_rss_kib,
        })
    }

    fn stderr_path(&self, what: &str) -> PathBuf {
        let name: String = what
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        self.scratch.join(format!("{name}.stderr"))
    }
}

fn stderr_file(path: &Path) -> anyhow::Result<File> {
    File::create(path).with_context(|| format!("failed to create {}", path.display()))
}

/// The last lines of a captured stderr, for error messages.
fn tail(path: &Path) -> String {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let lines: Vec<&str> = text.lines().collect();
            let start = lines.len().saturating_sub(10);
            if lines.is_empty() {
                "no output on stderr".to_owned()
            } else {
                lines[start..].join("\n")
            }
        }
        Err(err) => format!("its stderr ({}) is unreadable: {err}", path.display()),
    }
}

/// Waits for `child` and returns its status and peak RSS in KiB (the larger of its own
/// and of its waited-for descendants'), which `std::process::Child::wait` does not give.
fn wait_with_rusage(child: &Child) -> anyhow::Result<(ExitStatus, u64)> {
    let pid = libc::pid_t::try_from(child.id()).context("child pid out of range")?;
    let mut status = 0;
    // SAFETY: rusage is plain data; all-zero is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `status` and `usage` are valid for writes; `pid` is our own child,
        // which std has not reaped (it reaps only in `wait`/`try_wait`, never on drop).
        let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if rc == pid {
            break;
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(err).with_context(|| format!("failed to wait for process {pid}"));
        }
    }
    let max_rss_kib = u64::try_from(usage.ru_maxrss).unwrap_or(0);
    Ok((ExitStatus::from_raw(status), max_rss_kib))
}

/// The time per iteration a workload printed: the last `X ns/call` line, or the last
/// `X ns` line divided by `iterations`.
fn reported_ns(stdout: &str, timing: Timing, iterations: u64) -> anyhow::Result<f64> {
    let suffix = match timing {
        Timing::NsPerCall => " ns/call",
        Timing::TotalNs => " ns",
    };
    let line = stdout
        .lines()
        .rev()
        .find(|line| line.ends_with(suffix))
        .with_context(|| format!("no `…{suffix}` line in its output {stdout:?}"))?;
    let number = &line[..line.len() - suffix.len()];
    let value: f64 = number
        .trim()
        .parse()
        .with_context(|| format!("`{number}` in `{line}` is not a number"))?;
    Ok(match timing {
        Timing::NsPerCall => value,
        Timing::TotalNs => value / iterations.max(1) as f64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reported_ns_per_call_skips_tracer_lines() {
        let out = "Attaching 2 probes...\n587.5 ns/call\n\n";
        assert_eq!(reported_ns(out, Timing::NsPerCall, 10).unwrap(), 587.5);
    }

    #[test]
    fn reported_total_is_divided_by_iterations() {
        assert_eq!(
            reported_ns("1500000 ns\n", Timing::TotalNs, 1000).unwrap(),
            1500.0
        );
    }

    #[test]
    fn reported_ns_missing_or_malformed() {
        let err = reported_ns("hello\n", Timing::TotalNs, 1).unwrap_err();
        assert_eq!(err.to_string(), "no `… ns` line in its output \"hello\\n\"");
        let err = reported_ns("x.5 ns/call\n", Timing::NsPerCall, 1).unwrap_err();
        assert_eq!(err.to_string(), "`x.5` in `x.5 ns/call` is not a number");
    }
}
