//! One run of the workload under one runtime, from `create` to `delete`: its exit
//! status (or signal, or the timeout), its bounded stdout and stderr, its wall time
//! from `start` to exit, and the peak memory of its cgroup.
//!
//! The runc run is traced: sandprof's capture attaches to the container's cgroup
//! after `create` and before `start` (the container's init waits in between), so every
//! call the workload makes is seen. Attaching takes seconds of kernel verification, so
//! it happens while the runsc run goes on. sandprof is the child subreaper while `runc create`
//! runs: when it exits, the container's init is reparented to sandprof, and waiting for
//! it gives the exit status exactly as Kubernetes' runtime shim gets it.
//!
//! The runsc run goes the same way with `runsc wait` for the status (runsc reports a
//! death by signal N as 128 + N).

use std::io::PipeReader;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{anyhow, Context as _};
use tokio::signal::unix::{signal, Signal, SignalKind};
use tokio::sync::oneshot;

use super::cgroup::Hierarchies;
use super::host::{self, WaitStatus};
use super::output::{spawn_reader, Captured};
use super::runtime::RuntimeCli;
use super::workspace::Workspace;
use crate::capture::{self, CaptureOptions, RawCapture, TargetSpec};
use crate::profile::Target;

/// How long a killed container gets to be reaped before sandprof gives up on it.
const KILL_GRACE: Duration = Duration::from_secs(10);

/// How a run ended.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Ending {
    /// The workload exited with this status.
    Exited(i32),
    /// A signal killed it.
    Signaled(i32),
    /// It was still running at the timeout and was killed.
    TimedOut,
    /// runsc's `wait` could not report it (the sandbox had gone already); the boot
    /// log says (see [`application_exit`]).
    Unreported,
}

impl Ending {
    /// The status as a shell reports it (signal N → 128 + N), which is all runsc
    /// tells; `None` after a timeout.
    pub fn shell_status(self) -> Option<i32> {
        match self {
            Ending::Exited(code) => Some(code),
            Ending::Signaled(signal) => Some(128 + signal),
            Ending::TimedOut | Ending::Unreported => None,
        }
    }
}

/// The application's exit as runsc's boot log records it (`application exiting with
/// exit status N` / `killed by signal N`): exact where `runsc wait` folds a signal
/// into 128 + N, and there when `wait` came too late for a sandbox that had gone.
pub fn application_exit(log_dir: &Path) -> Option<Ending> {
    use crate::runsc_log::envelope::parse_text;
    use crate::runsc_log::message::{classify, ExitScope, ExitStatus, Message};
    let entries = std::fs::read_dir(log_dir).ok()?;
    let mut found = None;
    for entry in entries.flatten() {
        let name = entry.file_name();
        if !name.to_string_lossy().ends_with(".boot.txt") {
            continue;
        }
        let Ok(text) = std::fs::read(entry.path()) else {
            continue;
        };
        for line in text.split(|&b| b == b'\n') {
            let Some(envelope) = parse_text(line) else {
                continue;
            };
            if let Some(Message::Exit {
                scope: ExitScope::Application,
                status,
            }) = classify(
                &envelope.message,
                false,
                syscall_db::messages::MessageCatalogue::get(),
            ) {
                found = Some(match status {
                    ExitStatus::Code(code) => Ending::Exited(code as i32),
                    ExitStatus::Signal { signal, .. } => Ending::Signaled(signal as i32),
                });
            }
        }
    }
    found
}

/// What one run showed.
#[derive(Clone, Debug)]
pub struct RunOutcome {
    /// How it ended.
    pub ending: Ending,
    /// Standard output.
    pub stdout: Captured,
    /// Standard error.
    pub stderr: Captured,
    /// From `start` to the exit being seen.
    pub wall: Duration,
    /// How long `create` took (a traced run's excludes attaching the tracer).
    pub create: Duration,
    /// Peak memory of the container's cgroup, when the kernel reports it.
    pub peak_memory: Option<u64>,
}

/// The runc run's outcome and what the tracer saw.
pub struct TracedRun {
    /// The outcome.
    pub outcome: RunOutcome,
    /// The capture.
    pub capture: RawCapture,
    /// The capture's target, for the profile.
    pub target: Target,
    /// Time spent waiting for the tracer: to attach (beyond the runsc run it
    /// overlapped), and to finish after the container's exit.
    pub tracer_wait: Duration,
}

/// Ctrl-C or SIGTERM during a trial: the trial stops and cleans up.
#[derive(Debug, thiserror::Error)]
#[error("interrupted by {0}: both runs were stopped and their containers deleted")]
pub struct Interrupted(pub &'static str);

/// SIGINT and SIGTERM, watched from the moment a trial starts.
pub struct Signals {
    interrupt: Signal,
    terminate: Signal,
}

impl Signals {
    /// Starts watching. Needs a tokio runtime with signal handling.
    pub fn watch() -> anyhow::Result<Signals> {
        Ok(Signals {
            interrupt: signal(SignalKind::interrupt()).context("cannot handle SIGINT")?,
            terminate: signal(SignalKind::terminate()).context("cannot handle SIGTERM")?,
        })
    }

    async fn next(&mut self) -> Interrupted {
        tokio::select! {
            _ = self.interrupt.recv() => Interrupted("SIGINT"),
            _ = self.terminate.recv() => Interrupted("SIGTERM"),
        }
    }

    /// Runs `work` unless a signal comes first.
    pub async fn guard<T>(
        &mut self,
        work: impl std::future::Future<Output = anyhow::Result<T>>,
    ) -> anyhow::Result<T> {
        tokio::select! {
            result = work => result,
            interrupted = self.next() => Err(interrupted.into()),
        }
    }
}

/// A container's stdout and stderr pipes, their readers started.
struct Stdio2 {
    stdout: Option<(std::io::PipeWriter, std::io::PipeWriter)>,
    readers: (
        JoinHandle<std::io::Result<Captured>>,
        JoinHandle<std::io::Result<Captured>>,
    ),
}

impl Stdio2 {
    fn new() -> anyhow::Result<Stdio2> {
        let (out_r, out_w): (PipeReader, _) = std::io::pipe().context("cannot create a pipe")?;
        let (err_r, err_w): (PipeReader, _) = std::io::pipe().context("cannot create a pipe")?;
        Ok(Stdio2 {
            stdout: Some((out_w, err_w)),
            readers: (spawn_reader(out_r), spawn_reader(err_r)),
        })
    }

    /// The write ends, handed to `create` (and closed here once it has them).
    fn take(&mut self) -> (Stdio, Stdio) {
        let (out, err) = self.stdout.take().expect("taken once");
        (Stdio::from(out), Stdio::from(err))
    }

    /// Waits for both streams to end (every holder of the write ends is gone).
    fn finish(self) -> anyhow::Result<(Captured, Captured)> {
        drop(self.stdout);
        let join = |h: JoinHandle<std::io::Result<Captured>>| -> anyhow::Result<Captured> {
            h.join()
                .map_err(|_| anyhow!("an output reader panicked"))?
                .context("cannot read the container's output")
        };
        Ok((join(self.readers.0)?, join(self.readers.1)?))
    }
}

/// Runs `f` on a thread of its own and hands back its result without holding a
/// runtime thread (a thread blocked in `waitpid` must never keep the runtime from
/// shutting down).
fn on_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> oneshot::Receiver<T> {
    let (tx, rx) = oneshot::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx
}

/// Creates the container, with `create`'s failure explained by what it wrote.
async fn create(
    runtime: &RuntimeCli,
    bundle: &Path,
    id: &str,
    log: Option<&Path>,
    workspace: &mut Workspace,
    signals: &mut Signals,
) -> anyhow::Result<Stdio2> {
    let mut stdio = Stdio2::new()?;
    let (out, err) = stdio.take();
    workspace.container(runtime, id);
    let created = signals
        .guard(async { Ok(runtime.create(bundle, id, out, err, log).await) })
        .await?;
    if let Err(e) = created {
        // The container never started: nothing else holds the pipes.
        let said = stdio
            .finish()
            .map(|(_, err)| err.text())
            .unwrap_or_default();
        let said = said.trim();
        return Err(if said.is_empty() {
            anyhow!(e)
        } else {
            anyhow!(e).context(said.to_owned())
        });
    }
    Ok(stdio)
}

/// Settings shared by both runs.
pub struct RunSettings<'a> {
    /// Kill the workload after this long.
    pub timeout: Duration,
    /// Bring lo up in the runc container's network namespace.
    pub loopback: bool,
    /// The cgroup hierarchies, for peak memory.
    pub hierarchies: &'a Hierarchies,
    /// runsc's logs outlive the trial (`--log-dir`): errors say where they are.
    pub logs_kept: bool,
}

/// Run 1, first half: the runc container created (its init waits for `start`) and
/// the tracer attaching to its cgroup on a thread of its own. Loading the tracer takes
/// seconds of kernel verification; the runsc run goes on meanwhile.
pub struct PreparedRunc {
    runc: CreatedRunc,
    capture: oneshot::Receiver<anyhow::Result<(RawCapture, Target)>>,
    attached: oneshot::Receiver<bool>,
}

/// A runc container created, its init waiting for `start`.
struct CreatedRunc {
    id: String,
    pid: i32,
    create: Duration,
    stdio: Stdio2,
}

/// `runc create` of the bundle in `cgroup` (sandprof the subreaper meanwhile, so it
/// waits for the container's init itself), and loopback up when asked.
async fn create_runc(
    runtime: &RuntimeCli,
    bundle: &Path,
    cgroup: &str,
    log: Option<&Path>,
    settings: &RunSettings<'_>,
    workspace: &mut Workspace,
    signals: &mut Signals,
) -> anyhow::Result<CreatedRunc> {
    let id = workspace.name("runc");
    workspace.cgroup(cgroup);
    // Subreaper only while `runc create` runs: its init is reparented to sandprof when
    // it exits, and nothing else must be. runsc's sandbox and gofer processes outlive
    // their commands too, and runsc waits for them to vanish, which a parent that does
    // not reap them would prevent.
    let creating = Instant::now();
    host::child_subreaper(true)?;
    let created = create(runtime, bundle, &id, log, workspace, signals).await;
    host::child_subreaper(false)?;
    let stdio = created?;
    let create = creating.elapsed();
    let state = runtime.state(&id).await?;
    let pid = i32::try_from(state.pid)
        .ok()
        .filter(|&p| p > 0)
        .with_context(|| format!("runc reports no init process for {id} ({state:?})"))?;
    if settings.loopback {
        host::loopback_up(pid as u32)?;
    }
    Ok(CreatedRunc {
        id,
        pid,
        create,
        stdio,
    })
}

/// `start` of a created runc container, run to exit or the timeout: how it ended, its
/// wall time from start, and the peak memory of its cgroup.
async fn start_runc(
    runtime: &RuntimeCli,
    runc: &CreatedRunc,
    cgroup: &str,
    settings: &RunSettings<'_>,
    signals: &mut Signals,
) -> anyhow::Result<(Ending, Duration, Option<u64>)> {
    let pid = runc.pid;
    let exited = on_thread(move || host::wait_pid(pid));
    let started = Instant::now();
    signals
        .guard(async { Ok(runtime.start(&runc.id).await?) })
        .await?;
    let ending = finish(runtime, &runc.id, exited, settings.timeout, signals).await?;
    let wall = started.elapsed();
    Ok((ending, wall, settings.hierarchies.peak_memory(cgroup)))
}

/// Creates the runc container and starts attaching the tracer to it.
pub async fn runc_prepare(
    runtime: &RuntimeCli,
    bundle: &Path,
    cgroup: &str,
    settings: &RunSettings<'_>,
    workspace: &mut Workspace,
    signals: &mut Signals,
) -> anyhow::Result<PreparedRunc> {
    let log = bundle.join("runc.log");
    let runc = create_runc(
        runtime,
        bundle,
        cgroup,
        Some(&log),
        settings,
        workspace,
        signals,
    )
    .await?;
    let (attached_tx, attached_rx) = std::sync::mpsc::channel();
    let options = CaptureOptions {
        // The capture ends when the cgroup empties; this only bounds it (the runsc run
        // happens while the container waits).
        duration: Some(settings.timeout * 3 + KILL_GRACE),
        kill_after: KILL_GRACE,
        max_signatures: profiler_common::maps::SIGNATURES_CAPACITY,
        status_line: false,
        attached: Some(attached_tx),
        // The container is deleted when the trial ends, however it ends.
        caller_stops_target: true,
    };
    let resolved = capture::resolve(&TargetSpec::Cgroup(PathBuf::from(
        cgroup.trim_start_matches('/'),
    )))?;
    let capture = on_thread(move || capture::capture(resolved, &options));
    let attached = on_thread(move || attached_rx.recv().is_ok());
    Ok(PreparedRunc {
        runc,
        capture,
        attached,
    })
}

/// Run 1, second half: once the tracer is attached, `start`, and run to exit.
pub async fn runc_traced(
    runtime: &RuntimeCli,
    prepared: PreparedRunc,
    cgroup: &str,
    settings: &RunSettings<'_>,
    workspace: &mut Workspace,
    signals: &mut Signals,
) -> anyhow::Result<TracedRun> {
    let PreparedRunc {
        runc,
        capture,
        attached,
    } = prepared;
    let waiting = Instant::now();
    if !signals
        .guard(async { Ok(attached.await.unwrap_or(false)) })
        .await?
    {
        // The capture ended before attaching: its error says why.
        let err = match capture.await {
            Ok(Err(e)) => e,
            _ => anyhow!("the tracer stopped before it attached"),
        };
        return Err(err.context("cannot trace the runc container"));
    }

    let mut tracer_wait = waiting.elapsed();
    let started = SystemTime::now();
    let (ending, wall, peak_memory) = start_runc(runtime, &runc, cgroup, settings, signals).await?;
    let waiting = Instant::now();
    let (mut capture, target) = signals
        .guard(async {
            capture
                .await
                .map_err(|_| anyhow!("the tracer thread ended without a result"))?
        })
        .await
        .context("tracing the runc container failed")?;
    tracer_wait += waiting.elapsed();
    // The tracer attached while the runsc run went on, and the container's processes
    // make no call before `start`: the capture's own window would count that wait as
    // the workload's time (1.5 s for a 9 ms run). The profile's duration is the run's.
    capture.started = started;
    capture.ended = started + wall;
    workspace.delete_container(&runc.id)?;
    let (stdout, stderr) = runc.stdio.finish()?;
    Ok(TracedRun {
        outcome: RunOutcome {
            ending,
            stdout,
            stderr,
            wall,
            create: runc.create,
            peak_memory,
        },
        capture,
        target,
        tracer_wait,
    })
}

/// Waits for runc's container init to exit, or kills the container at the timeout.
async fn finish(
    runtime: &RuntimeCli,
    id: &str,
    mut exited: oneshot::Receiver<Result<WaitStatus, host::HostError>>,
    timeout: Duration,
    signals: &mut Signals,
) -> anyhow::Result<Ending> {
    let status = tokio::select! {
        status = &mut exited => Some(status),
        () = tokio::time::sleep(timeout) => None,
        interrupted = signals.next() => return Err(interrupted.into()),
    };
    let status = match status {
        Some(status) => status.map_err(|_| anyhow!("the wait for the container was lost"))??,
        None => {
            runtime.kill_all(id).await?;
            tokio::time::timeout(KILL_GRACE, exited)
                .await
                .context("the container did not die within 10 s of SIGKILL")?
                .map_err(|_| anyhow!("the wait for the container was lost"))??;
            return Ok(Ending::TimedOut);
        }
    };
    Ok(match status {
        WaitStatus::Exited(code) => Ending::Exited(code),
        WaitStatus::Signaled(signal) => Ending::Signaled(signal),
    })
}

/// Run 2: runsc, with its logs in `log_dir`.
pub async fn runsc(
    runtime: &RuntimeCli,
    bundle: &Path,
    cgroup: &str,
    log_dir: &Path,
    settings: &RunSettings<'_>,
    workspace: &mut Workspace,
    signals: &mut Signals,
) -> anyhow::Result<RunOutcome> {
    let id = workspace.name("runsc");
    let logs_are = || {
        if settings.logs_kept {
            format!("runsc's logs are in {}", log_dir.display())
        } else {
            "pass --log-dir DIR to keep runsc's logs".to_owned()
        }
    };
    workspace.cgroup(cgroup);
    // Booting the sandbox is bounded too: a platform that hangs at boot (KVM under
    // nested virtualisation) hangs in `create`.
    let creating = Instant::now();
    let stdio = tokio::time::timeout(
        settings.timeout,
        create(runtime, bundle, &id, None, workspace, signals),
    )
    .await
    .map_err(|_| {
        anyhow!(
            "runsc did not finish creating the sandbox within {} s",
            settings.timeout.as_secs()
        )
    })
    .and_then(|created| created)
    .with_context(|| format!("runsc could not create the sandbox; {}", logs_are()))?;
    let create_time = creating.elapsed();
    let started = Instant::now();
    signals
        .guard(async { Ok(runtime.start(&id).await?) })
        .await
        .with_context(|| format!("runsc could not start the sandbox; {}", logs_are()))?;
    let ending = tokio::select! {
        status = runtime.wait(&id) => match status {
            Ok(code) => Ending::Exited(code),
            // The sandbox ended before `wait` reached it (a short-lived workload).
            Err(e) if e.to_string().contains("exit status is unavailable") => Ending::Unreported,
            Err(e) => return Err(e.into()),
        },
        () = tokio::time::sleep(settings.timeout) => {
            runtime.kill_all(&id).await?;
            Ending::TimedOut
        }
        interrupted = signals.next() => return Err(interrupted.into()),
    };
    let wall = started.elapsed();
    let peak_memory = settings.hierarchies.peak_memory(cgroup);
    workspace.delete_container(&id)?;
    let (stdout, stderr) = stdio.finish()?;
    let ending = match (ending, application_exit(log_dir)) {
        (Ending::TimedOut, _) => Ending::TimedOut,
        (_, Some(logged)) => logged,
        (Ending::Unreported, None) => {
            anyhow::bail!(
                "runsc's sandbox ended before `runsc wait` could ask it how the workload \
                 exited, and its boot log does not say; {}",
                logs_are()
            )
        }
        (ending, None) => ending,
    };
    Ok(RunOutcome {
        ending,
        stdout,
        stderr,
        wall,
        create: create_time,
        peak_memory,
    })
}

/// A runc run, untraced: `create` (sandprof the subreaper, so it waits for the
/// container's init itself), loopback up when asked, `start`, run to exit or the
/// timeout, `delete`.
pub async fn runc(
    runtime: &RuntimeCli,
    bundle: &Path,
    cgroup: &str,
    settings: &RunSettings<'_>,
    workspace: &mut Workspace,
    signals: &mut Signals,
) -> anyhow::Result<RunOutcome> {
    let runc = create_runc(runtime, bundle, cgroup, None, settings, workspace, signals).await?;
    let (ending, wall, peak_memory) = start_runc(runtime, &runc, cgroup, settings, signals).await?;
    workspace.delete_container(&runc.id)?;
    let (stdout, stderr) = runc.stdio.finish()?;
    Ok(RunOutcome {
        ending,
        stdout,
        stderr,
        wall,
        create: runc.create,
        peak_memory,
    })
}
