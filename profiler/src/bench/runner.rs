//! Runs the bench on this node: what it needs checked first, the workspace, bundles
//! and runtimes set up (and removed on every exit path), then the suite (see
//! [`super::measure`]) or one command timed under both runtimes.
//!
//! Everything is built with the sandbox stage's pieces (workspace, root file system,
//! OCI configuration, runtimes, runs), so a bench container is the container
//! `sandprof try` runs, and nothing is left behind on any exit path.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context as _};

use super::containers::{kind_name, template, Bench, DISK, EXEC_BINARY, HELPER_DIR};
use super::machine;
use super::measure::{assemble, measure, order, Progress};
use super::result::{BenchResult, RuntimeInfo, Stats};
use super::suite;
use crate::release::installed_runsc_release;
use crate::sandbox::cgroup::Hierarchies;
use crate::sandbox::host;
use crate::sandbox::rootfs;
use crate::sandbox::run::Signals;
use crate::sandbox::runtime::{Kind, RuntimeCli};
use crate::sandbox::trial;
use crate::sandbox::workspace::Workspace;

/// What to run.
#[derive(Clone, Debug)]
pub struct BenchOptions {
    /// runsc's platform.
    pub platform: String,
    /// Extra runsc flags.
    pub runsc_flags: Vec<String>,
    /// The short suite.
    pub quick: bool,
    /// Kill any one container run after this long.
    pub timeout: Duration,
}

/// Checks what a bench needs before anything is created: root, both runtimes, the
/// static binary, flags sandprof owns. Returns runc's and runsc's paths.
pub fn preflight(options: &BenchOptions) -> anyhow::Result<(PathBuf, PathBuf)> {
    if !host::is_root() {
        bail!(
            "sandprof bench runs containers under runc and runsc, which needs root; run it as \
             root, e.g. `sudo sandprof bench`"
        );
    }
    trial::check_runsc_flags(&options.runsc_flags)?;
    let runtimes = trial::find_runtimes()?;
    for dir in [HELPER_DIR, DISK] {
        if !Path::new(dir).is_dir() {
            bail!("{dir} is not a directory on this host: bench containers mount onto it");
        }
    }
    if !Path::new(EXEC_BINARY).is_file() {
        bail!(
            "{EXEC_BINARY} is missing: the fork+exec figure runs it (install it with `apt-get \
             install busybox-static`)"
        );
    }
    Ok(runtimes)
}
/// Sets up both bundles and runtimes in a new workspace, and runs `work` with them on
/// an event loop; the workspace is removed whatever `work` returns. Call [`preflight`]
/// first, and this before sandprof starts any thread (it moves into a private mount
/// namespace).
fn with_bench<T>(
    options: &BenchOptions,
    runc_binary: PathBuf,
    runsc_binary: PathBuf,
    work: impl AsyncFnOnce(&mut Bench<'_>) -> anyhow::Result<T>,
) -> anyhow::Result<(T, String, String, String)> {
    host::private_mount_namespace()?;
    let runsc_version = installed_runsc_release(Some(&runsc_binary))?.version;
    let runc_version = runc_version(&runc_binary)?;
    let exe = std::env::current_exe()
        .and_then(|p| p.canonicalize())
        .context("cannot find sandprof's own executable")?;
    let (Some(exe_dir), Some(exe_name)) = (exe.parent(), exe.file_name()) else {
        bail!("sandprof's executable {} has no directory", exe.display());
    };
    let helper = format!("{HELPER_DIR}/{}", exe_name.to_string_lossy());
    let mut workspace = Workspace::for_purpose("bench")?;
    let disk = workspace.subdir("disk")?;
    let log_dir = workspace.subdir("runsc-logs")?;
    let mut bundles = BTreeMap::new();
    for run in ["runc", "runsc"] {
        rootfs::for_run(Path::new("/"), true, run, &mut workspace)?;
        bundles.insert(run, workspace.path().join(run));
    }
    let template = template(exe_dir, &disk)?;
    let runc = RuntimeCli {
        kind: Kind::Runc,
        binary: runc_binary,
        root: workspace.subdir("state/runc")?,
        global: Vec::new(),
        logging: Vec::new(),
    };
    let runsc = trial::runsc_cli(
        runsc_binary,
        &workspace,
        &options.platform,
        &options.runsc_flags,
    )?;
    let hierarchies = Hierarchies::of_this_process();
    let disk_fs = machine::filesystem_type(&disk);
    let mut bench = Bench {
        helper,
        runc,
        runsc,
        bundles,
        template,
        disk,
        log_dir,
        hierarchies: &hierarchies,
        workspace,
        timeout: options.timeout,
        serial: 0,
    };
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the event loop")?;
    let result = tokio.block_on(work(&mut bench));
    tokio.shutdown_background();
    let closed = bench.workspace.close();
    let value = result?;
    closed?;
    Ok((value, runc_version, runsc_version, disk_fs))
}

/// Runs the suite. Call [`preflight`] first, and this before sandprof starts any
/// thread (it moves into a private mount namespace).
pub fn run_bench(
    options: &BenchOptions,
    runc_binary: PathBuf,
    runsc_binary: PathBuf,
    progress: Progress<'_>,
) -> anyhow::Result<BenchResult> {
    let reps = suite::repetitions(options.quick);
    let (samples, runc_version, runsc_version, disk_fs) =
        with_bench(options, runc_binary, runsc_binary, async |bench| {
            measure(bench, options, reps, progress).await
        })?;
    Ok(assemble(
        options,
        reps,
        &samples,
        RuntimeInfo {
            version: runc_version,
            platform: None,
            flags: Vec::new(),
        },
        RuntimeInfo {
            version: runsc_version,
            platform: Some(options.platform.clone()),
            flags: options.runsc_flags.clone(),
        },
        disk_fs,
    ))
}

/// A command's wall time (start to exit) under both runtimes.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct CommandTiming {
    /// The command.
    pub command: Vec<String>,
    /// runc's runs, in milliseconds.
    pub runc_ms: Stats,
    /// runsc's runs, in milliseconds.
    pub runsc_ms: Stats,
    /// runsc's median ÷ runc's.
    pub slowdown: f64,
    /// runsc's release and platform.
    pub runsc: RuntimeInfo,
}

/// Runs `command` in the bench bundle `repetitions` times under each runtime,
/// interleaved, and times each from `create` to its exit, as the start-up figure is
/// timed. Its exit status must be 0 under both.
pub fn time_command(
    options: &BenchOptions,
    runc_binary: PathBuf,
    runsc_binary: PathBuf,
    command: &[String],
    repetitions: usize,
    progress: Progress<'_>,
) -> anyhow::Result<CommandTiming> {
    let ((runc, runsc), _, runsc_version, _) =
        with_bench(options, runc_binary, runsc_binary, async |bench| {
            let mut signals = Signals::watch()?;
            let (mut runc, mut runsc) = (Vec::new(), Vec::new());
            for rep in 0..repetitions {
                for kind in order(rep) {
                    progress(
                        rep * 2 + usize::from(kind != order(rep)[0]) + 1,
                        repetitions * 2,
                        &format!("{}: {}", kind_name(kind), command.join(" ")),
                    );
                    let outcome = bench.run(kind, command, &mut signals).await?;
                    let ms = (outcome.create + outcome.wall).as_secs_f64() * 1000.0;
                    match kind {
                        Kind::Runc => runc.push(ms),
                        Kind::Runsc => runsc.push(ms),
                    }
                }
            }
            Ok((runc, runsc))
        })?;
    let runc_ms = Stats::of(&runc);
    let runsc_ms = Stats::of(&runsc);
    Ok(CommandTiming {
        command: command.to_vec(),
        slowdown: if runc_ms.median > 0.0 {
            runsc_ms.median / runc_ms.median
        } else {
            0.0
        },
        runc_ms,
        runsc_ms,
        runsc: RuntimeInfo {
            version: runsc_version,
            platform: Some(options.platform.clone()),
            flags: options.runsc_flags.clone(),
        },
    })
}

/// `runc --version`'s first line (`runc version 1.1.5`) → `1.1.5`.
fn runc_version(runc: &Path) -> anyhow::Result<String> {
    let out = std::process::Command::new(runc)
        .arg("--version")
        .output()
        .with_context(|| format!("cannot run {} --version", runc.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    parse_runc_version(&text)
        .with_context(|| format!("`runc --version` printed no version: {text:?}"))
}

/// The version in `runc --version`'s output.
pub fn parse_runc_version(text: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.strip_prefix("runc version "))
        .map(|v| v.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runc_versions_and_order() {
        assert_eq!(
            parse_runc_version("runc version 1.1.5+ds1\ncommit: 1.1.5+ds1-1\nspec: 1.0.2-dev\n")
                .as_deref(),
            Some("1.1.5+ds1")
        );
        assert_eq!(parse_runc_version("nope"), None);
        assert_eq!(order(0), [Kind::Runc, Kind::Runsc]);
        assert_eq!(order(1), [Kind::Runsc, Kind::Runc]);
    }
}
