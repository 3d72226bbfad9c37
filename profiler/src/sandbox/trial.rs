//! One trial: the workload in the same bundle under runc (traced) and under runsc
//! (`--debug --strace` into a private log directory), and the facts each produced: the
//! runc profile, the runsc log facts, both outcomes. The runs do not overlap: the runc
//! container is created and the tracer attaches to it while the runsc run goes on, and
//! the runc run starts once that is over.
//!
//! The order of the set-up matters: sandprof moves into a private mount namespace
//! before it starts any thread (the kernel refuses it afterwards), and everything it
//! creates is recorded in the [`Workspace`] before it exists, so that no exit path
//! leaves it behind.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use oci_spec::runtime::{Capability, Spec};
use syscall_db::{Arch, Database};

use super::cgroup::Hierarchies;
use super::host;
use super::rootfs::{self, RootfsSource};
use super::run::{self, RunOutcome, RunSettings, Signals};
use super::runtime::{Kind, RuntimeCli};
use super::spec::{self, ProcessConfig, HOSTNAME};
use super::user;
use super::workspace::Workspace;
use crate::capture::to_profile::{build, Host};
use crate::profile::SyscallProfile;
use crate::runsc_log::capture::CaptureSpec;
use crate::runsc_log::{input, read_inputs, LogFacts};

/// The PATH a container gets when its image sets none (containerd's default).
const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// How long a KVM sandbox gets to run `true` before the platform is declared hung.
const KVM_PROBE: Duration = Duration::from_secs(5);

/// The network a container gets.
#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Net {
    /// Its own network namespace with loopback only (a pod with no network policy
    /// to reach, talking to itself).
    Loopback,
    /// Its own network namespace with nothing up. runsc cannot run without a loopback
    /// interface: under runsc this is the same as `loopback`.
    None,
}

/// Where the container comes from.
#[derive(Clone, Debug)]
pub enum Source {
    /// A root file system (host, directory, image) and sandprof's Kubernetes-like
    /// configuration.
    Rootfs(RootfsSource),
    /// An existing OCI bundle, its configuration kept.
    Bundle(PathBuf),
}

/// What to try.
#[derive(Clone, Debug)]
pub struct TrialOptions {
    /// The container's source.
    pub source: Source,
    /// The command; empty for the image's or bundle's own.
    pub command: Vec<String>,
    /// `--user`.
    pub user: Option<String>,
    /// `--env KEY=VALUE`, over the image's.
    pub env: Vec<String>,
    /// `--cap-add`.
    pub cap_add: Vec<Capability>,
    /// `--net`.
    pub net: Net,
    /// Kill each run after this long.
    pub timeout: Duration,
    /// runsc flags (`--net-raw`…), passed to runsc.
    pub runsc_flags: Vec<String>,
    /// runsc's platform.
    pub platform: String,
    /// Keep runsc's logs here instead of in the temporary directory.
    pub log_dir: Option<PathBuf>,
}

/// The trial's description, for the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrialSetup {
    /// The command run.
    pub command: Vec<String>,
    /// The root file system.
    pub rootfs: String,
    /// runsc's version (`0.0~20221219.0`).
    pub runsc_version: String,
    /// runsc's platform.
    pub platform: String,
    /// runsc flags given.
    pub runsc_flags: Vec<String>,
    /// The network.
    pub net: Net,
    /// The timeout.
    pub timeout: Duration,
    /// Where runsc's logs were kept, when kept.
    pub log_dir: Option<PathBuf>,
}

/// Everything a trial produced.
pub struct Trial {
    /// How it was run.
    pub setup: TrialSetup,
    /// The runc run.
    pub runc: RunOutcome,
    /// The runc run's profile.
    pub profile: SyscallProfile,
    /// The runsc run.
    pub runsc: RunOutcome,
    /// What runsc's logs say.
    pub facts: LogFacts,
    /// The log files read, as named in findings.
    pub log_files: Vec<String>,
    /// Time sandprof added to the two runs: set-up before the first container,
    /// waiting for the tracer, reading the logs, building the profile, cleaning up.
    /// The runtimes' own create, start and delete count as the runs.
    pub overhead: Duration,
}

/// Finds `program` on PATH.
pub fn find_program(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|p| p.is_file())
    })
}

/// Checks what a trial needs before anything is created.
pub fn preflight(options: &TrialOptions) -> anyhow::Result<(PathBuf, PathBuf)> {
    if !host::is_root() {
        bail!(
            "sandprof try runs containers and traces them with eBPF, which needs root; run it \
             as root, e.g. `sudo sandprof try -- CMD`"
        );
    }
    check_runsc_flags(&options.runsc_flags)?;
    find_runtimes()
}

/// runc and runsc on PATH, or what to install.
pub fn find_runtimes() -> anyhow::Result<(PathBuf, PathBuf)> {
    let runc = find_program("runc")
        .context("runc is not installed: install it with `apt-get install runc`")?;
    let runsc = find_program("runsc").context(
        "runsc (gVisor) is not installed: install it with `apt-get install runsc` (Debian 12 \
         and later package it)",
    )?;
    Ok((runc, runsc))
}

/// Refuses runsc flags that sandprof sets itself.
pub fn check_runsc_flags(flags: &[String]) -> anyhow::Result<()> {
    for flag in flags {
        let name = flag.trim_start_matches('-').split('=').next().unwrap_or("");
        if matches!(
            name,
            "network" | "platform" | "root" | "debug-log" | "strace"
        ) {
            bail!(
                "--runsc-flags {flag}: sandprof sets runsc's --{name} itself; use `--net` and \
                 `--platform` to choose the network and platform"
            );
        }
    }
    Ok(())
}

/// Runs the trial with the runtimes [`preflight`] found; `runsc_version` is what that
/// runsc reports (`runsc --version`), recorded with the trial. Call this before
/// sandprof starts any thread.
pub fn run_trial(
    options: &TrialOptions,
    (runc_binary, runsc_binary): (PathBuf, PathBuf),
    runsc_version: String,
    db: &Database,
) -> anyhow::Result<Trial> {
    let begun = Instant::now();
    host::private_mount_namespace()?;
    let mut workspace = Workspace::new()?;
    let (runc_bundle, runsc_bundle, command, rootfs_text) = bundles(options, &mut workspace)?;
    let log_dir = match &options.log_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the log directory {}", dir.display()))?;
            dir.clone()
        }
        None => workspace.subdir("runsc-logs")?,
    };
    let (runc, runsc) = runtimes(
        options,
        (runc_binary, runsc_binary),
        &runc_bundle,
        &log_dir,
        &workspace,
    )?;
    let hierarchies = Hierarchies::of_this_process();
    let settings = RunSettings {
        timeout: options.timeout,
        loopback: options.net == Net::Loopback,
        hierarchies: &hierarchies,
        logs_kept: options.log_dir.is_some(),
    };
    let runc_cgroup = format!("/{}", workspace.name("runc"));
    let runsc_cgroup = format!("/{}", workspace.name("runsc"));
    write_cgroup(&runc_bundle, &runc_cgroup)?;
    write_cgroup(&runsc_bundle, &runsc_cgroup)?;

    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the event loop")?;
    let mut tracer_wait = Duration::ZERO;
    let setup = begun.elapsed();
    let (traced, runsc_outcome) = tokio.block_on(async {
        let mut signals = Signals::watch()?;
        if options.platform == "kvm" {
            probe_kvm(
                &runsc,
                &runsc_bundle,
                &mut workspace,
                &mut signals,
                &settings,
            )
            .await?;
        }
        let prepared = run::runc_prepare(
            &runc,
            &runc_bundle,
            &runc_cgroup,
            &settings,
            &mut workspace,
            &mut signals,
        )
        .await?;
        let runsc_outcome = run::runsc(
            &runsc,
            &runsc_bundle,
            &runsc_cgroup,
            &log_dir,
            &settings,
            &mut workspace,
            &mut signals,
        )
        .await?;
        let traced = run::runc_traced(
            &runc,
            prepared,
            &runc_cgroup,
            &settings,
            &mut workspace,
            &mut signals,
        )
        .await?;
        tracer_wait = traced.tracer_wait;
        anyhow::Ok((traced, runsc_outcome))
    })?;
    // Nothing waits on it any more; do not wait for stray blocking work either.
    tokio.shutdown_background();

    let after_runs = Instant::now();
    let profile = build(db, &traced.capture, traced.target.clone(), &Host::current());
    let arch = profile.arch;
    let inputs = input::expand(std::slice::from_ref(&log_dir))?;
    let log_files: Vec<String> = inputs.iter().map(input::Input::name).collect();
    let facts = read_inputs(&inputs, &CaptureSpec::from_database(db, arch))
        .context("cannot read runsc's logs")?;
    workspace.close()?;
    let overhead = setup + tracer_wait + after_runs.elapsed();
    Ok(Trial {
        setup: TrialSetup {
            command,
            rootfs: rootfs_text,
            runsc_version,
            platform: options.platform.clone(),
            runsc_flags: options.runsc_flags.clone(),
            net: options.net,
            timeout: options.timeout,
            log_dir: options.log_dir.clone(),
        },
        runc: traced.outcome,
        profile,
        runsc: runsc_outcome,
        facts,
        log_files,
        overhead,
    })
}

/// runc with its JSON log beside its bundle; runsc with the platform, its own
/// loopback-only network, the user's flags, and `--debug --strace` into `log_dir`.
fn runtimes(
    options: &TrialOptions,
    (runc_binary, runsc_binary): (PathBuf, PathBuf),
    runc_bundle: &Path,
    log_dir: &Path,
    workspace: &Workspace,
) -> anyhow::Result<(RuntimeCli, RuntimeCli)> {
    let runc = RuntimeCli {
        kind: Kind::Runc,
        binary: runc_binary,
        root: workspace.subdir("state/runc")?,
        global: Vec::new(),
        logging: vec![
            "--log".into(),
            runc_bundle.join("runc.log").into(),
            "--log-format".into(),
            "json".into(),
        ],
    };
    let mut log_prefix = log_dir.as_os_str().to_owned();
    log_prefix.push("/");
    let mut debug_log = OsString::from("--debug-log=");
    debug_log.push(&log_prefix);
    let mut runsc = runsc_cli(
        runsc_binary,
        workspace,
        &options.platform,
        &options.runsc_flags,
    )?;
    runsc.logging = vec!["--debug".into(), "--strace".into(), debug_log];
    Ok((runc, runsc))
}

/// runsc with its state in `workspace`, on `platform`, with its own loopback-only
/// network and the user's `flags`; no logging.
pub fn runsc_cli(
    binary: PathBuf,
    workspace: &Workspace,
    platform: &str,
    flags: &[String],
) -> anyhow::Result<RuntimeCli> {
    let mut global: Vec<OsString> = vec![
        format!("--platform={platform}").into(),
        // runsc's own loopback-only network. `--network=sandbox` would copy the
        // interfaces of the container's network namespace, and this release mistakes
        // any namespace of a recent kernel for the root one and refuses to start.
        "--network=none".into(),
    ];
    global.extend(flags.iter().map(OsString::from));
    Ok(RuntimeCli {
        kind: Kind::Runsc,
        binary,
        root: workspace.subdir("state/runsc")?,
        global,
        logging: Vec::new(),
    })
}

/// The arch whose syscall table a trial's logs are read with: the host's.
pub fn host_arch() -> anyhow::Result<Arch> {
    Arch::host().context("sandprof runs trials on x86_64 and aarch64 hosts only")
}

/// Writes the two bundles (one per run, each with its own view of the root file
/// system) and returns them with the command and the root file system's description.
fn bundles(
    options: &TrialOptions,
    workspace: &mut Workspace,
) -> anyhow::Result<(PathBuf, PathBuf, Vec<String>, String)> {
    let (spec, base, read_only, description) = match &options.source {
        Source::Bundle(dir) => {
            let given = (!options.command.is_empty()).then_some(options.command.as_slice());
            let (spec, rootfs, read_only) = spec::adopt_bundle(dir, given, "/")?;
            (spec, rootfs, read_only, format!("bundle {}", dir.display()))
        }
        Source::Rootfs(source) => {
            let base = rootfs::prepare(source, workspace)?;
            let process = process_config(options, &base)?;
            let spec = spec::kubernetes_spec(&process, Path::new("/"), base.read_only, "/")?;
            (spec, base.path, base.read_only, base.description)
        }
    };
    let command = spec
        .process()
        .as_ref()
        .and_then(|p| p.args().clone())
        .unwrap_or_default();
    let mut made = Vec::new();
    for run in ["runc", "runsc"] {
        let root = rootfs::for_run(&base, read_only, run, workspace)?;
        let mut spec: Spec = spec.clone();
        let mut root_spec = spec.root().clone().unwrap_or_default();
        root_spec.set_path(root);
        root_spec.set_readonly(Some(read_only));
        spec.set_root(Some(root_spec));
        let bundle = workspace.subdir(run)?;
        spec.save(bundle.join("config.json"))
            .with_context(|| format!("cannot write the {run} bundle"))?;
        made.push(bundle);
    }
    let runsc_bundle = made.pop().expect("two bundles");
    let runc_bundle = made.pop().expect("two bundles");
    Ok((runc_bundle, runsc_bundle, command, description))
}

/// The container's process from the options and the image's defaults.
fn process_config(
    options: &TrialOptions,
    base: &rootfs::BaseRootfs,
) -> anyhow::Result<ProcessConfig> {
    let image = base.image.clone().unwrap_or_default();
    let args = image.command(&options.command);
    if args.is_empty() {
        bail!("no command: give one after `--` (the image names none)");
    }
    let user_spec = options.user.as_deref().or(image.user.as_deref());
    let resolved = user::resolve(&base.path, user_spec)?;
    let mut env = image.env.clone();
    let mut set = |pair: String| {
        let key = pair.split('=').next().unwrap_or("").to_owned();
        env.retain(|e| e.split('=').next() != Some(key.as_str()));
        env.push(pair);
    };
    if !image.env.iter().any(|e| e.starts_with("PATH=")) {
        set(DEFAULT_PATH.to_owned());
    }
    set(format!("HOSTNAME={HOSTNAME}"));
    if let Some(home) = &resolved.home {
        if !image.env.iter().any(|e| e.starts_with("HOME=")) {
            set(format!("HOME={home}"));
        }
    }
    for pair in &options.env {
        anyhow::ensure!(pair.contains('='), "--env {pair}: give KEY=VALUE");
        set(pair.clone());
    }
    Ok(ProcessConfig {
        args,
        env,
        cwd: image.working_dir.unwrap_or_else(|| "/".to_owned()),
        user: resolved.ids,
        cap_add: options.cap_add.clone(),
    })
}

/// Sets a bundle's cgroup.
fn write_cgroup(bundle: &Path, cgroup: &str) -> anyhow::Result<()> {
    let path = bundle.join("config.json");
    let mut spec = Spec::load(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut linux = spec.linux().clone().unwrap_or_default();
    linux.set_cgroups_path(Some(PathBuf::from(cgroup)));
    spec.set_linux(Some(linux));
    spec.save(&path)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// runsc's KVM platform hangs at boot under nested virtualisation: run `true` in it
/// with a short timeout first, and say so rather than hang.
pub async fn probe_kvm(
    runsc: &RuntimeCli,
    bundle: &Path,
    workspace: &mut Workspace,
    signals: &mut Signals,
    settings: &RunSettings<'_>,
) -> anyhow::Result<()> {
    let probe_bundle = workspace.subdir("kvm-probe")?;
    let mut spec = Spec::load(bundle.join("config.json"))?;
    let mut process = spec.process().clone().unwrap_or_default();
    process.set_args(Some(vec!["true".to_owned()]));
    spec.set_process(Some(process));
    let mut linux = spec.linux().clone().unwrap_or_default();
    let cgroup = format!("/{}", workspace.name("kvm-probe"));
    linux.set_cgroups_path(Some(PathBuf::from(&cgroup)));
    spec.set_linux(Some(linux));
    spec.save(probe_bundle.join("config.json"))?;
    let probe_logs = workspace.subdir("kvm-probe-logs")?;
    let quick = RunSettings {
        timeout: KVM_PROBE,
        loopback: false,
        hierarchies: settings.hierarchies,
        logs_kept: false,
    };
    let mut probe = runsc.clone();
    probe.logging.clear();
    let hung = || {
        anyhow::anyhow!(
            "runsc's KVM platform did not run `true` within {} s: it hangs at boot on this \
             machine (nested virtualisation does that); use `--platform ptrace`",
            KVM_PROBE.as_secs()
        )
    };
    let outcome = run::runsc(
        &probe,
        &probe_bundle,
        &cgroup,
        &probe_logs,
        &quick,
        workspace,
        signals,
    )
    .await;
    match outcome {
        Ok(outcome) if outcome.ending == run::Ending::TimedOut => Err(hung()),
        Ok(_) => Ok(()),
        Err(e) if e.downcast_ref::<run::Interrupted>().is_some() => Err(e),
        Err(e) if format!("{e:#}").contains("did not finish creating the sandbox") => Err(hung()),
        Err(e) => Err(e.context("runsc's KVM platform cannot run a container here")),
    }
}
