//! The bench's containers: the bundle every run shares (a Kubernetes-like container on
//! the host's `/`, with sandprof's executable and a host scratch directory mounted
//! in), a run of a command to its exit under either runtime, and a container held
//! running while its processes' memory and CPU are read.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _};
use oci_spec::runtime::Spec;

use super::footprint;
use crate::sandbox::cgroup::Hierarchies;
use crate::sandbox::run::{self, Ending, RunOutcome, RunSettings, Signals};
use crate::sandbox::runtime::{Kind, RuntimeCli};
use crate::sandbox::spec::{self, ProcessConfig, ProcessUser};
use crate::sandbox::workspace::Workspace;

/// Where the directory holding sandprof's executable is mounted in a bench container.
/// runsc's gofer makes bind mounts in the root file system itself, before the tmpfs
/// mounts exist, so the mount points must already be directories of the read-only
/// host `/`: Debian's base-files creates /mnt and /srv, empty.
pub(super) const HELPER_DIR: &str = "/mnt";
/// Where the host directory of the disk figures is mounted in a bench container.
pub(super) const DISK: &str = "/srv";
/// The static binary fork+exec runs (Debian's busybox-static).
pub(super) const EXEC_BINARY: &str = "/bin/busybox";
/// How long a hold container gets to say it is ready.
const READY_WAIT: Duration = Duration::from_secs(60);
/// How long a container's memory gets to settle once it is ready.
const SETTLE: Duration = Duration::from_millis(500);

/// The two runtimes and everything the runs share.
pub struct Bench<'a> {
    /// sandprof's executable as the containers see it.
    pub(super) helper: String,
    pub(super) runc: RuntimeCli,
    pub(super) runsc: RuntimeCli,
    pub(super) bundles: BTreeMap<&'static str, PathBuf>,
    pub(super) template: Spec,
    pub(super) disk: PathBuf,
    pub(super) log_dir: PathBuf,
    pub(super) hierarchies: &'a Hierarchies,
    pub(super) workspace: Workspace,
    pub(super) timeout: Duration,
    pub(super) serial: u32,
}

/// The runtime of `kind`'s name.
pub(super) fn kind_name(kind: Kind) -> &'static str {
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
    pub(super) fn bundle(&self, kind: Kind, args: &[String]) -> anyhow::Result<PathBuf> {
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
    pub(super) async fn run(
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
    pub(super) async fn hold(
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

/// The configuration every bench container shares: a Kubernetes-like container on
/// the host's `/`, running as root, with sandprof and the disk directory mounted in.
pub(super) fn template(helper_dir: &Path, disk: &Path) -> anyhow::Result<Spec> {
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
