//! `sandprof try`: run the workload under runc (traced) and under the real runsc in the
//! same bundle, and report what was observed beside what the database predicted; the
//! observation decides the verdict.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal as _, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use oci_spec::runtime::Capability;
use syscall_db::Database;

use crate::analysis::observed::judge_trial;
use crate::analysis::RunscFlags;
use crate::commands::args;
use crate::commands::profile::parse_duration;
use crate::release::{installed_runsc_release, judge_installed};
use crate::report::{self, FailOn, Format};
use crate::sandbox::rootfs::RootfsSource;
use crate::sandbox::spec::parse_capability;
use crate::sandbox::trial::{host_arch, preflight};
use crate::sandbox::{run_trial, Interrupted, Net, Source, TrialOptions};

/// Options of `sandprof try`.
#[derive(Debug, clap::Args)]
#[command(
    override_usage = "sudo sandprof try [OPTIONS] -- CMD [ARGS]...\n       \
                            sudo sandprof try [OPTIONS] --image-archive FILE [-- CMD [ARGS]...]\n       \
                            sudo sandprof try [OPTIONS] --bundle DIR [-- CMD [ARGS]...]"
)]
pub struct Options {
    /// Run in this existing OCI bundle (its config.json kept, except the cgroup, the
    /// terminal and the command when one is given).
    #[arg(long, value_name = "DIR", group = "source")]
    pub bundle: Option<PathBuf>,

    /// Run in this root file system (each run gets a writable layer over it; the
    /// directory is never written to). Default: the host's / read-only.
    #[arg(long, value_name = "DIR", group = "source")]
    pub rootfs: Option<PathBuf>,

    /// Run in the image of this archive (an OCI image layout or `docker save`
    /// tarball, plain or gzipped), with its Env, WorkingDir, User, and its
    /// Entrypoint/Cmd when no CMD is given.
    #[arg(long, value_name = "FILE", group = "source")]
    pub image_archive: Option<PathBuf>,

    /// The container's network: its own namespace with loopback only, or with
    /// nothing up (runsc always has a loopback interface).
    #[arg(long, value_enum, default_value_t = Net::Loopback)]
    pub net: Net,

    /// Add a capability to the Kubernetes default set (NET_ADMIN, SYS_PTRACE…). May
    /// be repeated.
    #[arg(long, value_name = "CAP", value_parser = parse_capability)]
    pub cap_add: Vec<Capability>,

    /// Run as this user (NAME or UID, with :GROUP or :GID), resolved in the
    /// container's /etc/passwd and /etc/group. Default: the image's, else root.
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,

    /// Set an environment variable (KEY=VALUE). May be repeated.
    #[arg(long, value_name = "KEY=VALUE")]
    pub env: Vec<String>,

    /// Kill a run still going after this long (e.g. 30s, 5m); the report says so.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "2m")]
    pub timeout: Duration,

    /// runsc flags to run with, comma-separated (e.g. "--net-raw"); findings they
    /// configure are judged as configured. May be repeated.
    #[arg(long, value_name = "FLAGS", allow_hyphen_values = true)]
    pub runsc_flags: Vec<RunscFlags>,

    /// runsc's platform. ptrace works everywhere; kvm is checked with a short boot
    /// first, since it hangs under nested virtualisation.
    #[arg(long, value_name = "PLATFORM", default_value = "ptrace")]
    pub platform: String,

    /// Keep runsc's debug and --strace logs in this directory (default: a private
    /// temporary directory, removed afterwards).
    #[arg(long, value_name = "DIR")]
    pub log_dir: Option<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Exit with status 1 when the workload breaks under runsc (`breaks`), or also
    /// when it works degraded (`needs-config`).
    #[arg(long, value_enum, default_value_t = FailOn::Never)]
    pub fail_on: FailOn,

    /// Write the report to this file instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// The command to run, after `--`.
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<String>,
}

/// Runs the subcommand.
pub fn run(opts: Options) -> anyhow::Result<ExitCode> {
    let flags = args::runsc_flags(&opts.runsc_flags)?;
    let source = if let Some(bundle) = &opts.bundle {
        Source::Bundle(bundle.clone())
    } else if let Some(dir) = &opts.rootfs {
        Source::Rootfs(RootfsSource::Dir(dir.clone()))
    } else if let Some(archive) = &opts.image_archive {
        Source::Rootfs(RootfsSource::Image(archive.clone()))
    } else {
        Source::Rootfs(RootfsSource::Host)
    };
    if matches!(source, Source::Bundle(_))
        && (opts.user.is_some() || !opts.env.is_empty() || !opts.cap_add.is_empty())
    {
        anyhow::bail!(
            "--user, --env and --cap-add shape sandprof's own container configuration; a \
             --bundle keeps its config.json: change the user, environment or capabilities there"
        );
    }
    if matches!(
        source,
        Source::Rootfs(RootfsSource::Host | RootfsSource::Dir(_))
    ) && opts.command.is_empty()
    {
        anyhow::bail!("no command: give one after `--`, e.g. `sandprof try -- /bin/true`");
    }
    let options = TrialOptions {
        source,
        command: opts.command.clone(),
        user: opts.user.clone(),
        env: opts.env.clone(),
        cap_add: opts.cap_add.clone(),
        net: opts.net,
        timeout: opts.timeout,
        runsc_flags: flags.to_strings(),
        platform: opts.platform.clone(),
        log_dir: opts.log_dir.clone(),
    };
    let (runc, runsc) = preflight(&options)?;
    // What runsc does is judged by the database as it was at that runsc's release: an
    // observation and a prediction about different releases would not compare.
    let installed = installed_runsc_release(Some(&runsc))?;
    let version = installed.version.clone();
    let judged = judge_installed(Database::get(), installed)?;
    let db = judged.database();
    let arch = host_arch()?;
    let trial = match run_trial(&options, (runc, runsc), version, db) {
        Ok(trial) => trial,
        Err(e) if e.downcast_ref::<Interrupted>().is_some() => {
            let _ = writeln!(io::stderr(), "sandprof: {e:#}");
            return Ok(ExitCode::from(130));
        }
        Err(e) => return Err(e),
    };
    let mut report = judge_trial(db, &trial, arch, &flags)?;
    judged.annotate(&mut report);
    let render = |out: &mut dyn Write, color: bool| -> anyhow::Result<()> {
        report::render(&report, opts.format, out, color)
            .and_then(|()| out.flush())
            .context("cannot write the report")
    };
    match &opts.output {
        Some(path) => {
            let file =
                File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
            render(&mut BufWriter::new(file), false)?;
        }
        None => {
            let stdout = io::stdout();
            let color = stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none();
            render(&mut BufWriter::new(stdout.lock()), color)?;
        }
    }
    Ok(opts.fail_on.exit_code(&report))
}
