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
    /// Told once tracing has begun.
    pub attached: Option<std::sync::mpsc::Sender<()>>,
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
        let clock = Instant::now();
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
        let ring = self
            .probe
            .ebpf
            .take_map(names::EVENTS)
            .with_context(|| format!("the eBPF object has no map `{}`", names::EVENTS))?;
        let ring = RingBuf::try_from(ring)?;
        // SAFETY: the ring buffer owns its descriptor and is moved into the `AsyncFd`,
        // which deregisters it before dropping it, so the fd stays open while watched.
        let mut ring = unsafe { AsyncFd::register(ring) }
            .map_err(std::io::Error::from)
            .context("failed to watch the event ring buffer")?;

        if let Some(attached) = self.attached.take() {
            // The receiver may have given up waiting; tracing goes on regardless.
            let _ = attached.send(());
        }
        if self.status_line {
            let _ = writeln!(
                std::io::stderr(),
                "sandprof: tracing {} task(s); Ctrl-C to stop",
                self.seed.len()
            );
        }
        let mut child_exit = None;
        let (exit_tx, mut exit_rx) = tokio::sync::oneshot::channel();
        if let Ending::CommandTree(child) = &mut self.ending {
            let pid = child.pid;
            child.release()?;
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
        }

        let mut interrupt = signal(SignalKind::interrupt()).context("failed to handle SIGINT")?;
        let mut terminate = signal(SignalKind::terminate()).context("failed to handle SIGTERM")?;
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        let deadline = self.duration.map(|d| tokio::time::Instant::now() + d);
        let status = self.status_line && std::io::stderr().is_terminal();
        let mut command_done = !matches!(self.ending, Ending::CommandTree(_));
        let mut stopped_by = "the target exited";

        loop {
            tokio::select! {
                guard = ring.readable_mut() => {
                    let mut guard = guard.context("failed to wait for events")?;
                    let ring = guard.get_inner_mut();
                    while let Some(item) = ring.next() {
                        gathered.handle(&item);
                    }
                    guard.clear_ready();
                    if std::mem::take(&mut gathered.exit_seen) && self.finished(command_done)? {
                        break;
                    }
                }
                exit = &mut exit_rx, if !command_done => {
                    child_exit = exit.ok().flatten();
                    command_done = true;
                    if self.finished(command_done)? {
                        break;
                    }
                }
                _ = interrupt.recv() => { stopped_by = "interrupted (SIGINT)"; break; }
                _ = terminate.recv() => { stopped_by = "terminated (SIGTERM)"; break; }
                () = sleep_until(deadline) => { stopped_by = "the duration elapsed"; break; }
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
                    if self.finished(command_done)? {
                        break;
                    }
                }
            }
        }
        if status {
            let _ = writeln!(
                std::io::stderr(),
                "\rsandprof: stopped: {stopped_by}{:40}",
                ""
            );
        }

        // Detach first so the counts stop moving, then take what is left.
        self.probe.detach()?;
        let ring = ring.get_mut();
        while let Some(item) = ring.next() {
            gathered.handle(&item);
        }
        if let Ending::CommandTree(_) = &self.ending {
            if !command_done {
                // Stopped early: the command may still finish on its own later.
                child_exit = exit_rx.try_recv().ok().flatten();
            }
        }
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
            exit: child_exit,
            stopped_by: stopped_by.to_owned(),
        })
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
