//! One capture from start to finish: seed the probe with the target, run the event loop
//! (ring-buffer readiness, signals, the traced command, a timer: one tokio loop, no busy
//! polling), then detach, drain what is left and read the kernel's maps.

use std::collections::BTreeMap;
use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context as _;
use aya::maps::{HashMap, MapData, PerCpuArray, PerCpuHashMap, RingBuf};
use profiler_common::event::LOST_CAUSES;
use profiler_common::key::{exe_id, CountKey, IntSigKey, StrSigKey, TaskState};
use profiler_common::maps as names;
use tokio::io::unix::AsyncFd;
use tokio::signal::unix::{signal, SignalKind};

use super::binary;
use super::loader::Probe;
use super::records::{decode, Record, SignatureKey};
use super::target::{cgroup_populated, ExistingTask, GatedChild};
use super::{ExeSeen, ProcessSeen, RawCapture};
use crate::profile::ExitStatus;

/// How the capture ends on its own.
#[derive(Debug)]
pub enum Ending {
    /// When the command and every descendant have exited.
    CommandTree(GatedChild),
    /// When every traced task has exited.
    TaskTree,
    /// When the cgroup has no process left.
    CgroupEmpty(PathBuf),
}

/// What the loop was asked to do.
pub struct Session {
    /// The loaded, attached probe.
    pub probe: Probe,
    /// Tasks to follow from the start.
    pub seed: Vec<ExistingTask>,
    /// When to stop on its own.
    pub ending: Ending,
    /// Stop after this long, whatever happens.
    pub duration: Option<Duration>,
    /// Print a status line on stderr (when it is a terminal).
    pub status_line: bool,
}

/// Everything gathered while the loop runs.
#[derive(Default)]
struct Gathered {
    exes: BTreeMap<u64, ExeSeen>,
    processes: BTreeMap<u32, ProcessSeen>,
    first_uses: std::collections::HashMap<SignatureKey, super::FirstSeen>,
    undecodable: u64,
    records: u64,
    /// A process exited since the last look: time to check whether the tree is done.
    exit_seen: bool,
}

impl Gathered {
    fn handle(&mut self, bytes: &[u8]) {
        self.records += 1;
        let record = match decode(bytes) {
            Ok(record) => record,
            Err(_) => {
                self.undecodable += 1;
                return;
            }
        };
        match record {
            Record::Exec(exec) => {
                self.exes.entry(exec.exe).or_insert_with(|| ExeSeen {
                    path: exec.filename.clone(),
                    format: binary::inspect_any(&binary::candidates(
                        Path::new("/proc"),
                        exec.tid,
                        &exec.filename,
                    )),
                });
                let process = self.processes.entry(exec.tid).or_default();
                if process.exes.is_empty() && exec.prev_exe != 0 && !exec.adopted {
                    process.exes.push(exec.prev_exe);
                }
                process.exes.push(exec.exe);
            }
            Record::Fork { tgid, parent, exe } => {
                let process = self.processes.entry(tgid).or_default();
                process.parent = Some(parent);
                if process.exes.is_empty() {
                    process.exes.push(exe);
                }
            }
            Record::Adopt { tgid } => {
                self.processes.entry(tgid).or_default();
            }
            Record::Exit { .. } => self.exit_seen = true,
            Record::Signature(sig) => {
                self.first_uses.entry(sig.key).or_insert(super::FirstSeen {
                    seq: self.records,
                    tid: sig.tid,
                    tgid: sig.tgid,
                    exe: sig.exe,
                });
            }
        }
    }
}

fn tasks_map(probe: &mut Probe) -> anyhow::Result<HashMap<&mut MapData, u32, TaskState>> {
    let map = probe
        .ebpf
        .map_mut(names::TASKS)
        .with_context(|| format!("the eBPF object has no map `{}`", names::TASKS))?;
    Ok(HashMap::try_from(map)?)
}

/// Registers the tasks that exist before the capture, with their executables. A
/// command held before its exec is registered as the program it is about to run (its
/// `/proc/PID/exe` is still sandprof), so that its `execve` counts under that program.
fn seed(
    probe: &mut Probe,
    seed: &[ExistingTask],
    command: Option<&Path>,
    gathered: &mut Gathered,
) -> anyhow::Result<()> {
    let mut tasks = tasks_map(probe)?;
    for task in seed {
        let exe_link = match command {
            Some(program) => program.to_path_buf(),
            None => PathBuf::from(format!("/proc/{}/exe", task.tgid)),
        };
        let path = match command {
            Some(program) => program.to_string_lossy().into_owned(),
            None => seeded_exe_path(task.tgid, &exe_link),
        };
        let exe = exe_id(path.as_bytes());
        gathered.exes.entry(exe).or_insert_with(|| ExeSeen {
            format: binary::inspect_any(&[exe_link]),
            path,
        });
        let process = gathered.processes.entry(task.tgid).or_default();
        if process.exes.is_empty() {
            process.exes.push(exe);
        }
        let state = TaskState {
            exe,
            prev_exe: exe,
            tgid: task.tgid,
            flags: 0,
        };
        tasks
            .insert(task.tid, state, 0)
            .with_context(|| format!("failed to start tracing task {}", task.tid))?;
    }
    Ok(())
}

/// The executable of a process that was running before the capture. A link that names
/// no file from here (runc's init shows `/`: its binary is a sealed copy in another
/// mount namespace) gives way to the process name, in brackets.
fn seeded_exe_path(tgid: u32, exe_link: &Path) -> String {
    let link = std::fs::read_link(exe_link).map(|p| p.to_string_lossy().into_owned());
    match link {
        Ok(path) if path != "/" && !path.is_empty() => path,
        _ => {
            let comm = std::fs::read_to_string(format!("/proc/{tgid}/comm"))
                .map(|c| c.trim().to_owned())
                .unwrap_or_else(|_| format!("pid {tgid}"));
            format!("[{comm}]")
        }
    }
}

/// Whether the probe still follows any task. Tasks that vanished without the probe
/// seeing their exit (they died between being listed and being registered) are dropped.
fn tree_empty(probe: &mut Probe) -> anyhow::Result<bool> {
    let mut tasks = tasks_map(probe)?;
    let tids: Vec<u32> = tasks.keys().collect::<Result<_, _>>()?;
    let mut live = 0;
    for tid in tids {
        if Path::new(&format!("/proc/{tid}")).exists() {
            live += 1;
        } else {
            let _ = tasks.remove(&tid);
        }
    }
    Ok(live == 0)
}

impl Session {
    /// Whether the target has ended on its own.
    fn finished(&mut self, command_done: bool) -> anyhow::Result<bool> {
        Ok(match &self.ending {
            Ending::CommandTree(_) => command_done && tree_empty(&mut self.probe)?,
            Ending::TaskTree => tree_empty(&mut self.probe)?,
            Ending::CgroupEmpty(path) => !cgroup_populated(path),
        })
    }

    /// Runs the capture to its end and returns what was gathered.
    pub async fn run(mut self) -> anyhow::Result<RawCapture> {
        let started = SystemTime::now();
        let mut gathered = Gathered::default();
        let command = match &self.ending {
            Ending::CommandTree(child) => Some(child.path.clone()),
            _ => None,
        };
        seed(
            &mut self.probe,
            &self.seed,
            command.as_deref(),
            &mut gathered,
        )?;
        let mut ring = self.watch_ring()?;
        if self.status_line {
            let _ = writeln!(
                std::io::stderr(),
                "sandprof: tracing {} task(s); Ctrl-C to stop",
                self.seed.len()
            );
        }
        let mut command_exit = self.release_command()?;
        let stopped_by = self
            .event_loop(&mut ring, &mut gathered, &mut command_exit)
            .await?;

        // Detach first so the counts stop moving, then take what is left.
        self.probe.detach()?;
        let ring = ring.get_mut();
        while let Some(item) = ring.next() {
            gathered.handle(&item);
        }
        let exit = command_exit.status();
        let ended = SystemTime::now();
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
            undecodable: gathered.undecodable,
            exit,
            stopped_by: stopped_by.to_owned(),
        })
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

    /// Lets a command held at its gate run, and waits for it on a thread of its own
    /// (`waitpid` blocks; the event loop must not).
    fn release_command(&mut self) -> anyhow::Result<CommandExit> {
        let Ending::CommandTree(child) = &mut self.ending else {
            return Ok(CommandExit::NotACommand);
        };
        let pid = child.pid;
        child.release()?;
        let (exit_tx, exit_rx) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            let mut status = 0;
            // SAFETY: waiting for our own child; `status` is a valid out pointer.
            let rc = unsafe { libc::waitpid(pid as i32, &mut status, 0) };
            let exit = (rc == pid as i32).then(|| {
                if libc::WIFSIGNALED(status) {
                    ExitStatus::Signal(libc::WTERMSIG(status))
                } else {
                    ExitStatus::Code(libc::WEXITSTATUS(status))
                }
            });
            let _ = exit_tx.send(exit);
        });
        Ok(CommandExit::Running(exit_rx))
    }

    /// Handles events until the target ends, a signal arrives or the duration
    /// elapses; returns why it stopped.
    async fn event_loop(
        &mut self,
        ring: &mut AsyncFd<RingBuf<MapData>>,
        gathered: &mut Gathered,
        command_exit: &mut CommandExit,
    ) -> anyhow::Result<&'static str> {
        let clock = Instant::now();
        let mut interrupt = signal(SignalKind::interrupt()).context("failed to handle SIGINT")?;
        let mut terminate = signal(SignalKind::terminate()).context("failed to handle SIGTERM")?;
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        let deadline = self.duration.map(|d| tokio::time::Instant::now() + d);
        let status = self.status_line && std::io::stderr().is_terminal();
        let stopped_by = loop {
            tokio::select! {
                guard = ring.readable_mut() => {
                    let mut guard = guard.context("failed to wait for events")?;
                    let ring = guard.get_inner_mut();
                    while let Some(item) = ring.next() {
                        gathered.handle(&item);
                    }
                    guard.clear_ready();
                    if std::mem::take(&mut gathered.exit_seen)
                        && self.finished(command_exit.done())?
                    {
                        break "the target exited";
                    }
                }
                () = command_exit.wait() => {
                    if self.finished(true)? {
                        break "the target exited";
                    }
                }
                _ = interrupt.recv() => break "interrupted (SIGINT)",
                _ = terminate.recv() => break "terminated (SIGTERM)",
                () = sleep_until(deadline) => break "the duration elapsed",
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
                    if self.finished(command_exit.done())? {
                        break "the target exited";
                    }
                }
            }
        };
        if status {
            let _ = writeln!(
                std::io::stderr(),
                "\rsandprof: stopped: {stopped_by}{:40}",
                ""
            );
        }
        Ok(stopped_by)
    }
}

/// The exit of the command sandprof started, as it becomes known.
enum CommandExit {
    /// The target is not a command: there is nothing to wait for.
    NotACommand,
    /// The command runs; its waiter thread sends the status (`None` if `waitpid`
    /// failed).
    Running(tokio::sync::oneshot::Receiver<Option<ExitStatus>>),
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

struct Drained {
    counts: Vec<(CountKey, u64)>,
    int_sigs: Vec<(IntSigKey, u64)>,
    str_sigs: Vec<(Box<StrSigKey>, u64)>,
    lost: [u64; LOST_CAUSES as usize],
}

fn map<'a>(probe: &'a Probe, name: &str) -> anyhow::Result<&'a aya::maps::Map> {
    probe
        .ebpf
        .map(name)
        .with_context(|| format!("the eBPF object has no map `{name}`"))
}

/// Reads the aggregation maps once the programs are detached.
fn drain(probe: &Probe) -> anyhow::Result<Drained> {
    let counts: PerCpuHashMap<&MapData, CountKey, u64> =
        PerCpuHashMap::try_from(map(probe, names::COUNTS)?)?;
    let counts = counts
        .iter()
        .map(|entry| entry.map(|(key, per_cpu)| (key, per_cpu.iter().sum())))
        .collect::<Result<Vec<_>, _>>()
        .context("failed to read syscall counts")?;
    let int_sigs: HashMap<&MapData, IntSigKey, u64> =
        HashMap::try_from(map(probe, names::INT_SIGS)?)?;
    let int_sigs = int_sigs
        .iter()
        .collect::<Result<Vec<_>, _>>()
        .context("failed to read argument signatures")?;
    let str_sigs: HashMap<&MapData, StrSigKey, u64> =
        HashMap::try_from(map(probe, names::STR_SIGS)?)?;
    let str_sigs = str_sigs
        .iter()
        .map(|entry| entry.map(|(key, count)| (Box::new(key), count)))
        .collect::<Result<Vec<_>, _>>()
        .context("failed to read path and string signatures")?;
    let lost_map: PerCpuArray<&MapData, u64> = PerCpuArray::try_from(map(probe, names::LOST)?)?;
    let mut lost = [0u64; LOST_CAUSES as usize];
    for (cause, slot) in lost.iter_mut().enumerate() {
        *slot = lost_map
            .get(&(cause as u32), 0)
            .context("failed to read lost-event counters")?
            .iter()
            .sum();
    }
    Ok(Drained {
        counts,
        int_sigs,
        str_sigs,
        lost,
    })
}
