//! One capture from start to finish: register the target with the probe, run the event
//! loop (ring-buffer readiness, signals, the traced command, timers: one tokio loop, no
//! busy polling), stop the command when the capture is cut short, then detach, drain
//! what is left and read the kernel's maps.
//!
//! Stopping early (SIGINT, SIGTERM, `--duration`): a command sandprof started gets the
//! signal (SIGTERM for the duration) on its whole process group, and sandprof keeps
//! tracing until that group is empty, at most `kill_after`; then it kills the group
//! with SIGKILL and says so. A second SIGINT or SIGTERM kills at once. A target that
//! sandprof did not start (`--pid`, `--cgroup`, `--container`) is left running, and
//! sandprof says so.

use std::collections::BTreeSet;
use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{bail, Context as _};
use aya::maps::{MapData, RingBuf};
use profiler_common::maps as names;
use tokio::io::unix::AsyncFd;
use tokio::signal::unix::{signal, Signal, SignalKind};

use super::gathered::Gathered;
use super::loader::Probe;
use super::maps::{drain, enable_caches, live_processes};
use super::target::{cgroup_populated, cgroup_tasks, pid_tree, CommandExitReceiver, GatedChild};
use super::RawCapture;
use crate::profile::ExitStatus;

/// How long a killed command group gets to disappear before sandprof stops waiting.
const KILL_WAIT: Duration = Duration::from_secs(2);

/// What the capture follows, and so how it ends on its own.
#[derive(Debug)]
pub enum Ending {
    /// A command sandprof started: ends when it and every descendant have exited.
    CommandTree(GatedChild),
    /// A running process tree: ends when every traced task has exited.
    TaskTree {
        /// The root process.
        pid: u32,
    },
    /// A cgroup: ends when it has no process left.
    CgroupEmpty(PathBuf),
}

/// Why a capture stopped before its target ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EarlyStop {
    /// SIGINT.
    Interrupted,
    /// SIGTERM.
    Terminated,
    /// `--duration` elapsed.
    Duration,
}

impl EarlyStop {
    /// Why, for messages and the summary.
    pub fn describe(self) -> &'static str {
        match self {
            EarlyStop::Interrupted => "interrupted (SIGINT)",
            EarlyStop::Terminated => "terminated (SIGTERM)",
            EarlyStop::Duration => "the duration elapsed",
        }
    }

    /// The signal passed on to a command sandprof started.
    fn signal(self) -> (libc::c_int, &'static str) {
        match self {
            EarlyStop::Interrupted => (libc::SIGINT, "SIGINT"),
            EarlyStop::Terminated | EarlyStop::Duration => (libc::SIGTERM, "SIGTERM"),
        }
    }
}

/// SIGINT and SIGTERM, handled by the event loop. Installed before anything is
/// started, so that a signal during start-up is seen, not fatal.
pub struct Signals {
    interrupt: Signal,
    terminate: Signal,
}

impl Signals {
    /// Installs the handlers; must run inside the tokio runtime.
    pub fn install() -> anyhow::Result<Signals> {
        Ok(Signals {
            interrupt: signal(SignalKind::interrupt()).context("failed to handle SIGINT")?,
            terminate: signal(SignalKind::terminate()).context("failed to handle SIGTERM")?,
        })
    }

    /// The next SIGINT or SIGTERM.
    async fn recv(&mut self) -> EarlyStop {
        tokio::select! {
            _ = self.interrupt.recv() => EarlyStop::Interrupted,
            _ = self.terminate.recv() => EarlyStop::Terminated,
        }
    }

    /// A SIGINT or SIGTERM that already arrived, if any.
    async fn pending(&mut self) -> Option<EarlyStop> {
        tokio::select! {
            biased;
            stop = self.recv() => Some(stop),
            () = std::future::ready(()) => None,
        }
    }
}

/// What the loop was asked to do.
pub struct Session {
    /// The loaded, attached probe.
    pub probe: Probe,
    /// What it follows.
    pub ending: Ending,
    /// Stop after this long, whatever happens.
    pub duration: Option<Duration>,
    /// How long a stopped command gets to exit before it is killed.
    pub kill_after: Duration,
    /// Print a status line on stderr (when it is a terminal), and say what stopping
    /// does.
    pub status_line: bool,
    /// SIGINT and SIGTERM.
    pub signals: Signals,
    /// What a target sandprof did not start is, in the message that says it is left
    /// running.
    pub left_running: String,
    /// Told once tracing has begun.
    pub attached: Option<std::sync::mpsc::Sender<()>>,
    /// The caller stops the target once the capture ends: nothing is left running.
    pub caller_stops_target: bool,
}

/// A command being stopped.
struct Stopping {
    /// Why.
    stop: EarlyStop,
    /// When it is killed if still there.
    kill_at: tokio::time::Instant,
    /// When sandprof stops waiting for a killed group.
    give_up_at: Option<tokio::time::Instant>,
}

impl Session {
    /// Runs the capture to its end and returns what was gathered.
    pub async fn run(mut self) -> anyhow::Result<RawCapture> {
        let mut gathered = Gathered::default();
        let seeded = self.seed(&mut gathered)?;
        enable_caches(&mut self.probe)?;
        let mut ring = self.watch_ring()?;
        if let Some(stop) = self.signals.pending().await {
            bail!(
                "{} before tracing started; {}",
                stop.describe(),
                match self.ending {
                    Ending::CommandTree(_) => "the command was not run",
                    _ => "nothing was traced",
                }
            );
        }
        if let Some(attached) = self.attached.take() {
            // The receiver may have given up waiting; tracing goes on regardless.
            let _ = attached.send(());
        }
        if self.status_line {
            let _ = writeln!(
                std::io::stderr(),
                "sandprof: tracing {seeded} task(s); Ctrl-C to stop"
            );
        }
        // The capture's window: from the moment the target is followed (a command is
        // released just after) to the moment its end is seen, not counting the probe's
        // set-up and detach, so that a profile's duration is the workload's.
        let started = SystemTime::now();
        let mut command_exit = match &mut self.ending {
            Ending::CommandTree(child) => CommandExit::Running(child.release()?),
            _ => CommandExit::NotACommand,
        };
        let (stopped_by, early) = self
            .event_loop(&mut ring, &mut gathered, &mut command_exit)
            .await?;
        let ended = SystemTime::now();
        if early.is_some() && !self.caller_stops_target {
            self.report_left_running()?;
        }

        // Detach first so the counts stop moving, then take what is left.
        self.probe.detach()?;
        let ring = ring.get_mut();
        while let Some(item) = ring.next() {
            gathered.handle(&item);
        }
        let exit = command_exit.status();
        let drained = drain(&self.probe)?;
        Ok(RawCapture {
            arch: self.probe.plan.arch,
            plan: self.probe.plan.clone(),
            started,
            ended,
            exes: gathered.exes,
            processes: gathered.processes,
            first_uses: gathered.first_uses,
            counts: drained.counts,
            int_sigs: drained.int_sigs,
            str_sigs: drained.str_sigs,
            lost: drained.lost,
            lost_signatures: drained.lost_signatures,
            undecodable: gathered.undecodable,
            exit,
            stopped_by,
            early_stop: early,
        })
    }

    /// Registers what exists before the capture with the probe, whose programs are
    /// already attached; returns how many tasks. A PID tree is listed again until a
    /// listing finds nothing new: a fork between a listing and the registration of its
    /// parent would otherwise be missed. sandprof's own process is never registered.
    fn seed(&mut self, gathered: &mut Gathered) -> anyhow::Result<usize> {
        let own = std::process::id();
        match &self.ending {
            Ending::CommandTree(child) => {
                gathered.seed_command(&mut self.probe, child.pid, &child.path)?;
                Ok(1)
            }
            Ending::TaskTree { pid } => {
                let pid = *pid;
                let mut total = 0;
                let mut first = true;
                loop {
                    let tasks = match pid_tree(Path::new("/proc"), pid) {
                        Ok(tasks) => tasks,
                        // The root exited after the first listing: nothing more to find.
                        Err(_) if !first => break,
                        Err(err) => return Err(err),
                    };
                    first = false;
                    let tasks: Vec<_> = tasks.into_iter().filter(|t| t.tgid != own).collect();
                    let new = gathered.seed_tasks(&mut self.probe, &tasks)?;
                    if new == 0 {
                        break;
                    }
                    total += new;
                }
                Ok(total)
            }
            Ending::CgroupEmpty(path) => {
                let tasks: Vec<_> = cgroup_tasks(path)?
                    .into_iter()
                    .filter(|t| t.tgid != own)
                    .collect();
                gathered.seed_tasks(&mut self.probe, &tasks)
            }
        }
    }

    /// Takes the ring buffer out of the probe and registers it with the event loop.
    fn watch_ring(&mut self) -> anyhow::Result<AsyncFd<RingBuf<MapData>>> {
        let ring = self
            .probe
            .ebpf
            .take_map(names::EVENTS)
            .with_context(|| format!("the eBPF object has no map `{}`", names::EVENTS))?;
        let ring = RingBuf::try_from(ring)?;
        // SAFETY: the ring buffer owns its descriptor and is moved into the `AsyncFd`,
        // which deregisters it before dropping it, so the fd stays open while watched.
        unsafe { AsyncFd::register(ring) }
            .map_err(std::io::Error::from)
            .context("failed to watch the event ring buffer")
    }

    /// Whether the target has ended on its own (or, while a command is being stopped,
    /// whether its process group is gone).
    fn finished(&mut self, exit: &CommandExit, stopping: bool) -> anyhow::Result<bool> {
        Ok(match &self.ending {
            Ending::CommandTree(child) if stopping => exit.done() && !child.group_alive(),
            Ending::CommandTree(_) => exit.done() && live_processes(&mut self.probe)?.is_empty(),
            Ending::TaskTree { .. } => live_processes(&mut self.probe)?.is_empty(),
            Ending::CgroupEmpty(path) => !cgroup_populated(path),
        })
    }

    /// Handles events until the target ends, or is stopped; returns why it stopped, and
    /// the early stop if there was one.
    async fn event_loop(
        &mut self,
        ring: &mut AsyncFd<RingBuf<MapData>>,
        gathered: &mut Gathered,
        exit: &mut CommandExit,
    ) -> anyhow::Result<(String, Option<EarlyStop>)> {
        let clock = Instant::now();
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        let deadline = self.duration.map(|d| tokio::time::Instant::now() + d);
        let status = self.status_line && std::io::stderr().is_terminal();
        let mut stopping: Option<Stopping> = None;
        let kill_at = |s: &Option<Stopping>| {
            s.as_ref()
                .filter(|s| s.give_up_at.is_none())
                .map(|s| s.kill_at)
        };
        let give_up_at = |s: &Option<Stopping>| s.as_ref().and_then(|s| s.give_up_at);
        let early = loop {
            tokio::select! {
                guard = ring.readable_mut() => {
                    let mut guard = guard.context("failed to wait for events")?;
                    let ring = guard.get_inner_mut();
                    while let Some(item) = ring.next() {
                        gathered.handle(&item);
                    }
                    guard.clear_ready();
                    if std::mem::take(&mut gathered.exit_seen)
                        && self.finished(exit, stopping.is_some())?
                    {
                        break stopping.map(|s| s.stop);
                    }
                }
                () = exit.wait() => {
                    if self.finished(exit, stopping.is_some())? {
                        break stopping.map(|s| s.stop);
                    }
                }
                stop = self.signals.recv() => {
                    if let Some(stop) = self.stop(stop, &mut stopping, exit) {
                        break Some(stop);
                    }
                }
                () = sleep_until(deadline), if stopping.is_none() => {
                    if let Some(stop) = self.stop(EarlyStop::Duration, &mut stopping, exit) {
                        break Some(stop);
                    }
                }
                () = sleep_until(kill_at(&stopping)) => {
                    if let Some(s) = stopping.as_mut() {
                        let (_, name) = s.stop.signal();
                        let did_what = format!(
                            "did not exit within {} of {name}",
                            duration_text(self.kill_after)
                        );
                        self.kill(s, &did_what);
                    }
                }
                () = sleep_until(give_up_at(&stopping)) => {
                    if let Ending::CommandTree(child) = &self.ending {
                        self.say(&format!(
                            "the command's process group {} still has processes {} after \
                             SIGKILL; not waiting any longer",
                            child.pid,
                            duration_text(KILL_WAIT),
                        ));
                    }
                    break stopping.map(|s| s.stop);
                }
                _ = tick.tick() => {
                    if status {
                        let _ = write!(
                            std::io::stderr(),
                            "\rsandprof: tracing {:>6.1}s · {} processes · {} executables · {} records ",
                            clock.elapsed().as_secs_f64(),
                            gathered.processes.len(),
                            gathered.exes.len(),
                            gathered.records,
                        );
                    }
                    if self.finished(exit, stopping.is_some())? {
                        break stopping.map(|s| s.stop);
                    }
                }
            }
        };
        let stopped_by = early.map_or("the target exited", EarlyStop::describe);
        if status {
            let _ = writeln!(
                std::io::stderr(),
                "\rsandprof: stopped: {stopped_by}{:40}",
                ""
            );
        }
        Ok((stopped_by.to_owned(), early))
    }

    /// Acts on an early stop. A target sandprof did not start stops being traced at
    /// once (the return value says so). A command gets the signal on its process group
    /// and is waited for; a second stop kills it.
    fn stop(
        &mut self,
        stop: EarlyStop,
        stopping: &mut Option<Stopping>,
        exit: &CommandExit,
    ) -> Option<EarlyStop> {
        let Ending::CommandTree(child) = &self.ending else {
            return Some(stop);
        };
        if let Some(already) = stopping.as_mut() {
            if already.give_up_at.is_none() {
                let did_what =
                    format!("had not exited when sandprof was {} again", stop.describe());
                self.kill(already, &did_what);
            }
            return None;
        }
        if exit.done() && !child.group_alive() {
            // Only descendants that left the group are running: nothing to signal.
            return Some(stop);
        }
        let (signal, name) = stop.signal();
        let _ = child.signal_group(signal);
        if self.status_line {
            self.say(&format!(
                "{}: sent {name} to the command's process group {}; waiting up to {} for it \
                 to exit",
                stop.describe(),
                child.pid,
                duration_text(self.kill_after),
            ));
        }
        *stopping = Some(Stopping {
            stop,
            kill_at: tokio::time::Instant::now() + self.kill_after,
            give_up_at: None,
        });
        None
    }

    /// Kills the command's process group, saying why: it `did_what` (did not exit in
    /// time, was stopped again).
    fn kill(&self, stopping: &mut Stopping, did_what: &str) {
        let Ending::CommandTree(child) = &self.ending else {
            return;
        };
        let _ = child.signal_group(libc::SIGKILL);
        self.say(&format!(
            "the command's process group {} {did_what}; killed it (SIGKILL)",
            child.pid,
        ));
        stopping.give_up_at = Some(tokio::time::Instant::now() + KILL_WAIT);
    }

    /// After an early stop, says on stderr what sandprof leaves running: a target it
    /// did not start, or traced processes that left the command's process group.
    fn report_left_running(&mut self) -> anyhow::Result<()> {
        let message = match &self.ending {
            Ending::CommandTree(_) => {
                let left: BTreeSet<u32> = live_processes(&mut self.probe)?;
                if left.is_empty() {
                    return Ok(());
                }
                format!(
                    "{} traced process(es) (PID {})",
                    left.len(),
                    left.iter()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
            _ => self.left_running.clone(),
        };
        self.say(&format!("stopped tracing; left running: {message}"));
        Ok(())
    }

    /// Writes a notice on stderr, on a line of its own even with the status line.
    fn say(&self, message: &str) {
        let stderr = std::io::stderr();
        let _ = if self.status_line && stderr.is_terminal() {
            // Over the status line, wide enough to clear it.
            writeln!(stderr.lock(), "\rsandprof: {message:<100}")
        } else {
            writeln!(stderr.lock(), "sandprof: {message}")
        };
    }
}

/// `10s`, `500ms`.
fn duration_text(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

/// The exit of the command sandprof started, as it becomes known.
enum CommandExit {
    /// The target is not a command: there is nothing to wait for.
    NotACommand,
    /// The command runs; its waiter thread sends the status.
    Running(CommandExitReceiver),
    /// The command has exited (`None` if its status could not be read).
    Exited(Option<ExitStatus>),
}

impl CommandExit {
    /// Whether the command is not running (or there is none).
    fn done(&self) -> bool {
        !matches!(self, CommandExit::Running(_))
    }

    /// Completes when the command exits; never, if it already has or there is none.
    async fn wait(&mut self) {
        let CommandExit::Running(rx) = self else {
            return std::future::pending().await;
        };
        let exit = rx.await.ok().flatten();
        *self = CommandExit::Exited(exit);
    }

    /// How the command ended, if it has: a capture stopped early may still see it end
    /// on its own while the maps are drained.
    fn status(&mut self) -> Option<ExitStatus> {
        match self {
            CommandExit::NotACommand => None,
            CommandExit::Exited(exit) => *exit,
            CommandExit::Running(rx) => rx.try_recv().ok().flatten(),
        }
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
