//! Runs the suite on this node: the same OCI bundle (the host's `/` read-only, with the
//! mounts containerd gives a Kubernetes container, plus sandprof's executable and a
//! host directory bind-mounted in) under runc and under runsc, interleaved — each
//! repetition alternates which runtime goes first, so drift on a shared machine falls
//! on both — and every figure collected into a [`BenchResult`].
//!
//! Everything is built with the sandbox stage's pieces (workspace, root file system,
//! OCI configuration, runtimes, runs), so a bench container is the container
//! `sandprof try` runs, and nothing is left behind on any exit path.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _};
use oci_spec::runtime::Spec;

use super::footprint;
use super::machine;
use super::result::{BenchResult, Metric, ProcessShare, RuntimeInfo, FORMAT, VERSION};
use super::suite::{self, MetricId, SUITE};
use super::workload::parse_samples;
use crate::release::installed_runsc_release;
use crate::sandbox::cgroup::Hierarchies;
use crate::sandbox::host;
use crate::sandbox::rootfs;
use crate::sandbox::run::{self, Ending, RunOutcome, RunSettings, Signals};
use crate::sandbox::runtime::{Kind, RuntimeCli};
use crate::sandbox::spec::{self, ProcessConfig, ProcessUser};
use crate::sandbox::trial;
use crate::sandbox::workspace::Workspace;

/// Where the directory holding sandprof's executable is mounted in a bench container.
/// runsc's gofer makes bind mounts in the root file system itself, before the tmpfs
/// mounts exist, so the mount points must already be directories of the read-only
/// host `/`: Debian's base-files creates /mnt and /srv, empty.
const HELPER_DIR: &str = "/mnt";
/// Where the host directory of the disk figures is mounted in a bench container.
const DISK: &str = "/srv";
/// The static binary fork+exec runs (Debian's busybox-static).
const EXEC_BINARY: &str = "/bin/busybox";
/// How long a hold container gets to say it is ready.
const READY_WAIT: Duration = Duration::from_secs(60);
/// How long a container's memory gets to settle once it is ready.
const SETTLE: Duration = Duration::from_millis(500);

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

/// The two runtimes and everything the runs share.
pub struct Bench<'a> {
    /// sandprof's executable as the containers see it.
    helper: String,
    runc: RuntimeCli,
    runsc: RuntimeCli,
    bundles: BTreeMap<&'static str, PathBuf>,
    template: Spec,
    disk: PathBuf,
    log_dir: PathBuf,
    hierarchies: &'a Hierarchies,
    workspace: Workspace,
    timeout: Duration,
    serial: u32,
}

/// The runtime of `kind`'s name.
fn kind_name(kind: Kind) -> &'static str {
    kind.name()
}

impl Bench<'_> {
    fn runtime(&self, kind: Kind) -> &RuntimeCli {
        match kind {
            Kind::Runc => &self.runc,
            Kind::Runsc => &self.runsc,
        }
    }

    fn cgroup(&self, kind: Kind) -> String {
        format!("/{}", self.workspace.name(kind_name(kind)))
    }

    /// Writes `kind`'s bundle to run `args`, and returns it.
    fn bundle(&self, kind: Kind, args: &[String]) -> anyhow::Result<PathBuf> {
        let bundle = self.bundles[kind_name(kind)].clone();
        let mut spec = self.template.clone();
        let mut process = spec.process().clone().unwrap_or_default();
        process.set_args(Some(args.to_vec()));
        spec.set_process(Some(process));
        let mut root = spec.root().clone().unwrap_or_default();
        root.set_path(bundle.join("rootfs"));
        spec.set_root(Some(root));
        let mut linux = spec.linux().clone().unwrap_or_default();
        linux.set_cgroups_path(Some(PathBuf::from(self.cgroup(kind))));
        spec.set_linux(Some(linux));
        spec.save(bundle.join("config.json"))
            .with_context(|| format!("cannot write the {} bundle", kind_name(kind)))?;
        Ok(bundle)
    }

    /// Runs `args` to exit under `kind`; a failure is an error with its output.
    async fn run(
        &mut self,
        kind: Kind,
        args: &[String],
        signals: &mut Signals,
    ) -> anyhow::Result<RunOutcome> {
        let bundle = self.bundle(kind, args)?;
        let cgroup = self.cgroup(kind);
        let settings = RunSettings {
            timeout: self.timeout,
            loopback: true,
            hierarchies: self.hierarchies,
            logs_kept: false,
        };
        let runtime = self.runtime(kind).clone();
        let outcome = match kind {
            Kind::Runc => {
                run::runc(
                    &runtime,
                    &bundle,
                    &cgroup,
                    &settings,
                    &mut self.workspace,
                    signals,
                )
                .await?
            }
            Kind::Runsc => {
                // runsc's boot log (info level, a few lines) says how the workload
                // exited when the sandbox is gone before `runsc wait` asks; each run
                // gets its own directory so no run reads another's.
                self.serial += 1;
                let log_dir = self.log_dir.join(self.serial.to_string());
                std::fs::create_dir(&log_dir)
                    .with_context(|| format!("cannot create {}", log_dir.display()))?;
                let mut prefix = std::ffi::OsString::from("--debug-log=");
                prefix.push(log_dir.as_os_str());
                prefix.push("/");
                let mut runtime = runtime;
                runtime.logging = vec![prefix];
                run::runsc(
                    &runtime,
                    &bundle,
                    &cgroup,
                    &log_dir,
                    &settings,
                    &mut self.workspace,
                    signals,
                )
                .await?
            }
        };
        if outcome.ending != Ending::Exited(0) {
            bail!(
                "`{}` under {} ended with {:?}: {}",
                args.join(" "),
                kind_name(kind),
                outcome.ending,
                outcome.stderr.text().trim()
            );
        }
        Ok(outcome)
    }

    /// Runs a hold container under `kind` holding `mib` MiB; once it is ready,
    /// measures its processes' memory by role and, over `idle`, their CPU.
    async fn hold(
        &mut self,
        kind: Kind,
        mib: usize,
        idle: Option<Duration>,
        signals: &mut Signals,
    ) -> anyhow::Result<(BTreeMap<String, (usize, u64)>, Option<f64>)> {
        self.serial += 1;
        let ready_name = format!("ready-{}", self.serial);
        let args = vec![
            self.helper.clone(),
            "bench-workload".to_owned(),
            "hold".to_owned(),
            "--mib".to_owned(),
            mib.to_string(),
            "--ready".to_owned(),
            format!("{DISK}/{ready_name}"),
        ];
        let bundle = self.bundle(kind, &args)?;
        let cgroup = self.cgroup(kind);
        let runtime = self.runtime(kind).clone();
        let id = self.workspace.name(&format!("{}-hold", kind_name(kind)));
        self.workspace.container(&runtime, &id);
        self.workspace.cgroup(&cgroup);
        let timeout = self.timeout;
        signals
            .guard(async {
                tokio::time::timeout(
                    timeout,
                    runtime.create(&bundle, &id, Stdio::null(), Stdio::null(), None),
                )
                .await
                .map_err(|_| {
                    anyhow!("{} did not create the container in time", kind_name(kind))
                })??;
                runtime.start(&id).await?;
                Ok(())
            })
            .await?;
        let ready = self.disk.join(&ready_name);
        let waiting = Instant::now();
        while !ready.exists() {
            if waiting.elapsed() > READY_WAIT {
                bail!(
                    "the {} container holding {mib} MiB did not become ready within {} s",
                    kind_name(kind),
                    READY_WAIT.as_secs()
                );
            }
            signals
                .guard(async {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    Ok(())
                })
                .await?;
        }
        signals
            .guard(async {
                tokio::time::sleep(SETTLE).await;
                Ok(())
            })
            .await?;
        let pids = footprint::container_pids(self.hierarchies, &cgroup, &runtime.root);
        let roles = footprint::memory_by_role(&pids);
        let cpu = match idle {
            Some(window) => {
                let before = footprint::cpu_snapshot(&pids);
                let start = Instant::now();
                signals
                    .guard(async {
                        tokio::time::sleep(window).await;
                        Ok(())
                    })
                    .await?;
                let after = footprint::cpu_snapshot(&pids);
                Some(footprint::millicores(
                    &before,
                    &after,
                    start.elapsed().as_secs_f64(),
                ))
            }
            None => None,
        };
        // The container's processes sleep until killed.
        let _ = runtime.kill_all(&id).await;
        self.workspace.delete_container(&id)?;
        let _ = std::fs::remove_file(&ready);
        Ok((roles, cpu))
    }
}

/// Samples per figure and runtime.
#[derive(Default)]
struct Samples {
    by: BTreeMap<(MetricId, bool), Vec<f64>>,
    runsc_roles: BTreeMap<String, (Vec<usize>, Vec<f64>)>,
}

impl Samples {
    fn add(&mut self, metric: MetricId, kind: Kind, value: f64) {
        self.by
            .entry((metric, kind == Kind::Runsc))
            .or_default()
            .push(value);
    }

    fn get(&self, metric: MetricId, kind: Kind) -> Vec<f64> {
        self.by
            .get(&(metric, kind == Kind::Runsc))
            .cloned()
            .unwrap_or_default()
    }
}

/// Reports progress, one line at a time.
pub type Progress<'p> = &'p mut dyn FnMut(usize, usize, &str);

/// The two runtimes in the order repetition `rep` runs them.
fn order(rep: usize) -> [Kind; 2] {
    if rep.is_multiple_of(2) {
        [Kind::Runc, Kind::Runsc]
    } else {
        [Kind::Runsc, Kind::Runc]
    }
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
    pub runc_ms: super::result::Stats,
    /// runsc's runs, in milliseconds.
    pub runsc_ms: super::result::Stats,
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
    let runc_ms = super::result::Stats::of(&runc);
    let runsc_ms = super::result::Stats::of(&runsc);
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

/// The configuration every bench container shares: a Kubernetes-like container on
/// the host's `/`, running as root, with sandprof and the disk directory mounted in.
fn template(helper_dir: &Path, disk: &Path) -> anyhow::Result<Spec> {
    let process = ProcessConfig {
        args: vec!["true".to_owned()],
        env: vec!["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_owned()],
        cwd: "/".to_owned(),
        user: ProcessUser {
            uid: 0,
            gid: 0,
            additional_gids: Vec::new(),
        },
        cap_add: Vec::new(),
    };
    let mut spec = spec::kubernetes_spec(&process, Path::new("/"), true, "/")?;
    let mut mounts = spec.mounts().clone().unwrap_or_default();
    mounts.push(spec::bind_mount(helper_dir, HELPER_DIR, true)?);
    mounts.push(spec::bind_mount(disk, DISK, false)?);
    spec.set_mounts(Some(mounts));
    Ok(spec)
}

/// Every measurement, interleaved.
async fn measure(
    bench: &mut Bench<'_>,
    options: &BenchOptions,
    reps: usize,
    progress: Progress<'_>,
) -> anyhow::Result<Samples> {
    let mut signals = Signals::watch()?;
    if options.platform == "kvm" {
        let bundle = bench.bundle(Kind::Runsc, &["true".to_owned()])?;
        let runsc = bench.runsc.clone();
        let settings = RunSettings {
            timeout: bench.timeout,
            loopback: false,
            hierarchies: bench.hierarchies,
            logs_kept: false,
        };
        trial::probe_kvm(
            &runsc,
            &bundle,
            &mut bench.workspace,
            &mut signals,
            &settings,
        )
        .await?;
    }
    let footprint_reps = if options.quick { 1 } else { 3 };
    let total = reps * 2 * 2 + footprint_reps * 2 * 2;
    let mut step = 0;
    let mut samples = Samples::default();
    let mut micro_args = vec![
        bench.helper.clone(),
        "bench-workload".to_owned(),
        "micro".to_owned(),
    ];
    if options.quick {
        micro_args.push("--quick".to_owned());
    }
    micro_args.extend([
        "--disk".to_owned(),
        DISK.to_owned(),
        "--exec".to_owned(),
        EXEC_BINARY.to_owned(),
    ]);
    for rep in 0..reps {
        for kind in order(rep) {
            step += 1;
            progress(
                step,
                total,
                &format!(
                    "{}: micro-benchmarks, repetition {}/{reps}",
                    kind_name(kind),
                    rep + 1
                ),
            );
            let outcome = bench.run(kind, &micro_args, &mut signals).await?;
            let text = outcome.stdout.text();
            let parsed = parse_samples(&text).map_err(|e| {
                anyhow!(
                    "the {} micro-benchmarks printed something unexpected: {e}",
                    kind_name(kind)
                )
            })?;
            for s in parsed {
                samples.add(s.metric, kind, s.value);
            }
        }
    }
    let startup_args = vec![EXEC_BINARY.to_owned(), "true".to_owned()];
    for rep in 0..reps {
        for kind in order(rep) {
            step += 1;
            progress(
                step,
                total,
                &format!(
                    "{}: start-up, repetition {}/{reps}",
                    kind_name(kind),
                    rep + 1
                ),
            );
            let outcome = bench.run(kind, &startup_args, &mut signals).await?;
            let ms = (outcome.create + outcome.wall).as_secs_f64() * 1000.0;
            samples.add(MetricId::Startup, kind, ms);
        }
    }
    let window = Duration::from_millis(suite::idle_window_ms(options.quick));
    for rep in 0..footprint_reps {
        for kind in order(rep) {
            step += 1;
            progress(
                step,
                total,
                &format!(
                    "{}: idle footprint, repetition {}/{footprint_reps}",
                    kind_name(kind),
                    rep + 1
                ),
            );
            let (roles, cpu) = bench.hold(kind, 0, Some(window), &mut signals).await?;
            samples.add(MetricId::PssIdle, kind, total_mib(&roles));
            samples.add(MetricId::IdleCpu, kind, cpu.unwrap_or(0.0));
            if kind == Kind::Runsc {
                for (role, (count, kib)) in roles {
                    let entry = samples.runsc_roles.entry(role).or_default();
                    entry.0.push(count);
                    entry.1.push(kib as f64 / 1024.0);
                }
            }
            step += 1;
            progress(
                step,
                total,
                &format!(
                    "{}: footprint holding 256 MiB, repetition {}/{footprint_reps}",
                    kind_name(kind),
                    rep + 1
                ),
            );
            let (roles, _) = bench.hold(kind, 256, None, &mut signals).await?;
            samples.add(MetricId::Pss256Mib, kind, total_mib(&roles));
        }
    }
    Ok(samples)
}

fn total_mib(roles: &BTreeMap<String, (usize, u64)>) -> f64 {
    roles.values().map(|(_, kib)| *kib).sum::<u64>() as f64 / 1024.0
}

/// The result from the samples.
fn assemble(
    options: &BenchOptions,
    reps: usize,
    samples: &Samples,
    runc: RuntimeInfo,
    runsc: RuntimeInfo,
    disk_fs: String,
) -> BenchResult {
    let metrics = SUITE
        .iter()
        .map(|def| {
            Metric::new(
                def,
                &samples.get(def.id, Kind::Runc),
                &samples.get(def.id, Kind::Runsc),
            )
        })
        .collect();
    let runsc_processes = samples
        .runsc_roles
        .iter()
        .map(|(role, (counts, mibs))| ProcessShare {
            role: role.clone(),
            count: counts.iter().copied().max().unwrap_or(0),
            pss_mib: super::result::Stats::of(mibs).median,
        })
        .collect();
    BenchResult {
        format: FORMAT.to_owned(),
        version: VERSION,
        date: crate::profile::time::rfc3339(std::time::SystemTime::now()),
        sandprof_version: env!("CARGO_PKG_VERSION").to_owned(),
        quick: options.quick,
        repetitions: reps,
        machine: machine::this_machine(),
        runc,
        runsc,
        disk_fs,
        exec_binary: EXEC_BINARY.to_owned(),
        metrics,
        runsc_processes,
    }
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
