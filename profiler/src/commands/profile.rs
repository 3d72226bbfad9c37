//! `sandprof profile`: trace a workload under runc with eBPF, write its profile, print a
//! short summary, and optionally the compatibility report.

use std::ffi::OsString;
use std::io::{self, BufWriter, IsTerminal as _, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context as _};
use syscall_db::Database;

use crate::capture::target::resolve_user;
use crate::capture::{self, CaptureOptions, TargetSpec};
use crate::commands::report::{report_profiles, ReportArgs};
use crate::profile::builder::{build, Host};
use crate::profile::summary::Summary;
use crate::profile::{io as profile_io, ExitStatus, SyscallProfile, Target};

/// Options of `sandprof profile`.
#[derive(Debug, clap::Args)]
#[command(
    override_usage = "sudo sandprof profile [OPTIONS] -- CMD [ARGS]...\n       \
                      sudo sandprof profile [OPTIONS] --pid PID | --cgroup PATH | --container ID"
)]
pub struct Options {
    /// Trace a running process and all its descendants, including ones born later.
    #[arg(long, value_name = "PID", group = "target")]
    pub pid: Option<u32>,

    /// Trace every task in a cgroup v2 directory and below (absolute, or relative to the
    /// cgroup v2 mount): a runc container, a pod. A cgroup v1 controller directory of a
    /// hybrid system stands for the same path in the v2 hierarchy.
    #[arg(long, value_name = "PATH", group = "target")]
    pub cgroup: Option<PathBuf>,

    /// Trace a container, found by its id (or a unique prefix) among the cgroup layouts
    /// of containerd, CRI-O, Docker, Podman and runc.
    #[arg(long, value_name = "ID", group = "target")]
    pub container: Option<String>,

    /// Stop after this long (e.g. 30s, 5m, 1h, 500ms); Ctrl-C or SIGTERM also stop.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub duration: Option<Duration>,

    /// Run CMD as this user (NAME, UID or UID:GID); the tracer stays root.
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,

    /// Where to write the profile [default: <target>.sandprof.json].
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

    /// The command to start and trace, after `--`.
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<OsString>,
}

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

/// The exit code that passes the command's own status through.
fn passthrough(profile: &SyscallProfile) -> ExitCode {
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

/// Runs the subcommand.
pub fn run(opts: Options) -> anyhow::Result<ExitCode> {
    let spec = target_spec(&opts)?;
    let report_options = opts
        .report
        .then(|| {
            let color = io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            opts.report_args.options(color)
        })
        .transpose()?;
    let (raw, target) = capture::capture(CaptureOptions {
        target: spec,
        duration: opts.duration,
        status_line: !opts.quiet,
        attached: None,
    })?;
    let profile = build(Database::get(), &raw, target, &Host::current());
    let out = opts
        .out
        .clone()
        .unwrap_or_else(|| default_out(&profile.captures[0].target));
    profile_io::write(&out, &profile)?;
    if !opts.quiet {
        let summary = Summary::of(&profile);
        let mut err = io::stderr().lock();
        summary
            .write(&mut err, &raw.stopped_by)
            .and_then(|()| writeln!(err, "profile written to {}", out.display()))
            .context("failed to print the summary")?;
    }
    let command_status = passthrough(&profile);
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
