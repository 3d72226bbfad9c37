//! `sandprof profile`: trace a workload under runc with eBPF, write its profile, print a
//! short summary, and optionally the compatibility report. The destination of the
//! profile is checked before the target starts, so that a typo or a full disk does not
//! cost a capture.

use std::ffi::OsString;
use std::fs;
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context as _};
use syscall_db::Database;

use crate::capture::session::EarlyStop;
use crate::capture::target::resolve_user;
use crate::capture::to_profile::{build, Host};
use crate::capture::{self, CaptureOptions, TargetSpec};
use crate::commands::output::stdout_color;
use crate::commands::report::{report_profiles, ReportArgs};
use crate::profile::summary::Summary;
use crate::profile::{io as profile_io, ExitStatus, SyscallProfile, Target};

/// Options of `sandprof profile`.
#[derive(Debug, clap::Args)]
#[command(
    override_usage = "sudo sandprof profile [OPTIONS] -- CMD [ARGS]...\n       \
                      sudo sandprof profile [OPTIONS] --pid PID | --cgroup PATH | --container ID"
)]
pub struct Options {
    /// Trace a running process and all its descendants, including ones born later;
    /// they are left running when the capture stops.
    #[arg(long, value_name = "PID", group = "target")]
    pub pid: Option<u32>,

    /// Trace every task in a cgroup v2 directory and below (absolute, or relative to the
    /// cgroup v2 mount): a runc container, a pod. A cgroup v1 controller directory of a
    /// hybrid system stands for the same path in the v2 hierarchy. Left running when the
    /// capture stops.
    #[arg(long, value_name = "PATH", group = "target")]
    pub cgroup: Option<PathBuf>,

    /// Trace a container, found by its id (or a unique prefix) among the cgroup layouts
    /// of containerd, CRI-O, Docker, Podman and runc. Left running when the capture
    /// stops.
    #[arg(long, value_name = "ID", group = "target")]
    pub container: Option<String>,

    /// Stop after this long (e.g. 30s, 5m, 1h, 500ms); SIGINT or SIGTERM also stop. A
    /// command sandprof started is then sent SIGTERM (SIGINT when sandprof got SIGINT)
    /// on its process group and traced until it exits; a --pid, --cgroup or
    /// --container target is left running.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub duration: Option<Duration>,

    /// How long a command sandprof stopped gets to exit before its process group is
    /// killed with SIGKILL; a second SIGINT or SIGTERM kills it at once.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "10s")]
    pub kill_after: Duration,

    /// Room for this many distinct argument signatures in each of the probe's two
    /// signature maps (integer arguments; paths and strings). Calls whose signature
    /// does not fit are counted in the profile's `lost`, and a report on such a profile
    /// is incomplete.
    #[arg(
        long,
        value_name = "N",
        default_value_t = DEFAULT_MAX_SIGNATURES,
        value_parser = clap::value_parser!(u32).range(1..=MAX_MAX_SIGNATURES as i64)
    )]
    pub max_signatures: u32,

    /// Record the command's argv[0] only, not its arguments (which may hold secrets),
    /// in the profile and everything made from it. Other targets record no arguments.
    #[arg(long)]
    pub redact_argv: bool,

    /// Run CMD as this user (NAME, UID or UID:GID); the tracer stays root.
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,

    /// Where to write the profile [default: <target>.sandprof.json]. Checked before
    /// the target starts.
    #[arg(short, long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Print the compatibility report after the summary.
    #[arg(long)]
    pub report: bool,

    #[command(flatten)]
    pub report_args: ReportArgs,

    /// No summary and no status line.
    #[arg(short, long)]
    pub quiet: bool,

    /// The command to start and trace, after `--`: in a process group of its own, with
    /// default signal dispositions, the terminal's foreground job when sandprof is.
    /// sandprof exits with its status (0 when --duration stopped it).
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<OsString>,
}

/// Default of `--max-signatures`.
pub const DEFAULT_MAX_SIGNATURES: u32 = profiler_common::maps::SIGNATURES_CAPACITY;
/// Largest `--max-signatures`: 16 Mi entries. A path signature takes about 600 bytes of
/// kernel memory once used.
pub const MAX_MAX_SIGNATURES: u32 = 1 << 24;
/// Free space `--out`'s file system must have before tracing starts.
const MIN_FREE_BYTES: u64 = 1 << 20;

/// Parses `30s`, `5m`, `1h`, `250ms`, or a number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration such as 30s, 5m or 250ms"))?;
    let seconds = match unit {
        "" | "s" => value,
        "ms" => value / 1000.0,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => {
            return Err(format!(
                "`{text}` has unknown unit `{unit}` (use ms, s, m or h)"
            ))
        }
    };
    if !(seconds > 0.0 && seconds.is_finite()) {
        return Err(format!("`{text}` must be a positive duration"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

fn target_spec(opts: &Options) -> anyhow::Result<TargetSpec> {
    let user = opts.user.as_deref().map(resolve_user).transpose()?;
    let chosen = [
        opts.pid.is_some(),
        opts.cgroup.is_some(),
        opts.container.is_some(),
        !opts.command.is_empty(),
    ]
    .iter()
    .filter(|&&b| b)
    .count();
    if chosen != 1 {
        bail!("give exactly one target: `-- CMD [ARGS]`, --pid, --cgroup or --container");
    }
    if user.is_some() && opts.command.is_empty() {
        bail!("--user applies to a command started with `-- CMD`");
    }
    Ok(if let Some(pid) = opts.pid {
        TargetSpec::Pid(pid)
    } else if let Some(path) = &opts.cgroup {
        TargetSpec::Cgroup(path.clone())
    } else if let Some(id) = &opts.container {
        TargetSpec::Container(id.clone())
    } else {
        TargetSpec::Command {
            argv: opts.command.clone(),
            user,
        }
    })
}

/// The default file name for a target's profile.
fn default_out(target: &Target) -> PathBuf {
    let stem = match target {
        Target::Command { argv, .. } => argv
            .first()
            .and_then(|p| Path::new(p).file_name())
            .map_or_else(
                || "command".to_owned(),
                |n| n.to_string_lossy().into_owned(),
            ),
        Target::Pid { pid } => format!("pid-{pid}"),
        Target::Cgroup { path } => format!(
            "cgroup-{}",
            Path::new(path)
                .file_name()
                .map_or_else(|| "root".into(), |n| n.to_string_lossy())
        ),
        Target::Container { id, .. } => {
            format!("container-{}", id.chars().take(12).collect::<String>())
        }
        Target::RunscLog { .. } => "runsc-log".to_owned(),
    };
    PathBuf::from(format!("{stem}.sandprof.json"))
}

/// The exit code that passes the command's own status through. A command that the
/// duration stopped is not a failure: sandprof then exits 0, and the profile says how
/// the command ended.
fn passthrough(profile: &SyscallProfile, early_stop: Option<EarlyStop>) -> ExitCode {
    if early_stop == Some(EarlyStop::Duration) {
        return ExitCode::SUCCESS;
    }
    match profile.captures.first().map(|c| &c.target) {
        Some(Target::Command {
            exit: Some(status), ..
        }) => match *status {
            ExitStatus::Code(code) => ExitCode::from(code.clamp(0, 255) as u8),
            ExitStatus::Signal(signal) => ExitCode::from((128 + signal).clamp(0, 255) as u8),
        },
        _ => ExitCode::SUCCESS,
    }
}

/// Checks, before anything starts, that a profile can be written at `out`: not a
/// directory, in a directory that exists and this process may write, on a file system
/// with room. The write check creates an unnamed file (`O_TMPFILE`) that vanishes when
/// closed, so nothing is left and no name can be predicted.
pub fn check_out(out: &Path) -> anyhow::Result<()> {
    let fail =
        |why: String| anyhow::anyhow!("cannot write the profile to {}: {why}", out.display());
    if out.as_os_str().is_empty() {
        bail!("--out is empty; give a file name");
    }
    if out.is_dir() {
        return Err(fail("it is a directory; give a file name".to_owned()));
    }
    let dir = match out.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    match fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => return Err(fail(format!("{} is not a directory", dir.display()))),
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            return Err(fail(format!("directory {} does not exist", dir.display())));
        }
        Err(err) => {
            return Err(fail(format!(
                "cannot reach directory {}: {err}",
                dir.display()
            )))
        }
    }
    writable(dir).map_err(|err| {
        fail(format!(
            "directory {} is not writable: {err}",
            dir.display()
        ))
    })?;
    let free = free_space(dir).map_err(|err| {
        fail(format!(
            "cannot read the free space of {}: {err}",
            dir.display()
        ))
    })?;
    if free.bytes < MIN_FREE_BYTES {
        return Err(fail(format!(
            "only {} KiB free on the file system of {} (a profile can take a few MiB)",
            free.bytes / 1024,
            dir.display()
        )));
    }
    if free.no_inodes {
        return Err(fail(format!(
            "no free inodes on the file system of {}",
            dir.display()
        )));
    }
    Ok(())
}

/// Whether a file can be created in `dir`: by creating an unnamed one, or where the
/// file system cannot (`O_TMPFILE` unsupported), by asking `access(2)`.
fn writable(dir: &Path) -> io::Result<()> {
    let probe = fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_TMPFILE | libc::O_CLOEXEC)
        .mode(0o600)
        .open(dir);
    match probe {
        Ok(_unnamed) => Ok(()),
        Err(err)
            if matches!(
                err.raw_os_error(),
                Some(libc::EOPNOTSUPP | libc::EISDIR | libc::EINVAL)
            ) =>
        {
            let c_dir = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes())
                .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
            // SAFETY: a valid C string for the duration of the call.
            if unsafe { libc::access(c_dir.as_ptr(), libc::W_OK | libc::X_OK) } != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        }
        Err(err) => Err(err),
    }
}

struct FreeSpace {
    /// Bytes this process may still write (root may use the reserved blocks).
    bytes: u64,
    /// The file system counts inodes and has none left.
    no_inodes: bool,
}

fn free_space(dir: &Path) -> io::Result<FreeSpace> {
    let c_dir = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes())
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: `statvfs` is plain data, all-zero is a valid value.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: a valid C string and a valid out pointer.
    if unsafe { libc::statvfs(c_dir.as_ptr(), &mut st) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: geteuid has no failure mode.
    let root = unsafe { libc::geteuid() } == 0;
    let blocks = if root { st.f_bfree } else { st.f_bavail };
    Ok(FreeSpace {
        bytes: blocks.saturating_mul(st.f_frsize),
        no_inodes: st.f_files > 0 && st.f_favail == 0,
    })
}

/// Advice when signatures were lost for want of room, which `--max-signatures` fixes.
fn lost_signatures_advice(profile: &SyscallProfile, max_signatures: u32) -> Option<String> {
    let lost = profile.lost.signature_map_full;
    (lost > 0).then(|| {
        format!(
            "sandprof: warning: {lost} calls' arguments were not recorded: the signature maps \
             were full ({max_signatures} entries each); capture again with --max-signatures {}",
            max_signatures.saturating_mul(4).min(MAX_MAX_SIGNATURES)
        )
    })
}

/// Runs the subcommand.
pub fn run(opts: Options) -> anyhow::Result<ExitCode> {
    let spec = target_spec(&opts)?;
    let report_options = opts
        .report
        .then(|| opts.report_args.options(stdout_color()))
        .transpose()?;
    capture::loader::preflight(Path::new("/proc"), Path::new("/sys"))?;
    let mut resolved = capture::resolve(&spec)?;
    if opts.redact_argv {
        if let Target::Command { argv, .. } = &mut resolved.target {
            argv.truncate(1);
        }
    }
    let out = opts
        .out
        .clone()
        .unwrap_or_else(|| default_out(&resolved.target));
    check_out(&out)?;
    let options = CaptureOptions {
        duration: opts.duration,
        kill_after: opts.kill_after,
        max_signatures: opts.max_signatures,
        status_line: !opts.quiet,
    };
    let (raw, target) = capture::capture(resolved, &options)?;
    let profile = build(Database::get(), &raw, target, &Host::current());
    profile_io::write(&out, &profile)?;
    let mut err = io::stderr().lock();
    if !opts.quiet {
        let summary = Summary::of(&profile);
        summary
            .write(&mut err, &raw.stopped_by)
            .and_then(|()| writeln!(err, "profile written to {}", out.display()))
            .context("failed to print the summary")?;
    }
    if let Some(advice) = lost_signatures_advice(&profile, opts.max_signatures) {
        writeln!(err, "{advice}").context("failed to print a warning")?;
    }
    drop(err);
    let command_status = passthrough(&profile, raw.early_stop);
    if let Some(report_options) = report_options {
        let stdout = io::stdout();
        let mut w = BufWriter::new(stdout.lock());
        let gate = report_profiles(
            &[(out.display().to_string(), profile)],
            &report_options,
            &mut w,
        )?;
        if gate != ExitCode::SUCCESS {
            return Ok(gate);
        }
    }
    Ok(command_status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert_eq!(
            parse_duration("5d"),
            Err("`5d` has unknown unit `d` (use ms, s, m or h)".to_owned())
        );
        assert_eq!(
            parse_duration("soon"),
            Err("`soon` is not a duration such as 30s, 5m or 250ms".to_owned())
        );
        assert_eq!(
            parse_duration("0s"),
            Err("`0s` must be a positive duration".to_owned())
        );
    }
}
