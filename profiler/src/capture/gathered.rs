//! What the event loop gathers besides the kernel's counts: the executables and
//! processes seen, from the ring buffer's records and from the tasks registered at
//! start, and the first caller of each signature.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use anyhow::Context as _;
use aya::maps::MapError;
use profiler_common::key::{exe_id, TaskState};

use super::binary;
use super::loader::Probe;
use super::maps::tasks_map;
use super::records::{decode, Record, SignatureKey};
use super::target::ExistingTask;
use super::{ExeSeen, FirstSeen, ProcessSeen};

/// `BPF_NOEXIST` of `include/uapi/linux/bpf.h`: insert only if the key is absent.
const BPF_NOEXIST: u64 = 1;

/// Everything gathered while the loop runs.
#[derive(Default)]
pub struct Gathered {
    /// Executables by id.
    pub exes: BTreeMap<u64, ExeSeen>,
    /// Processes by pid.
    pub processes: BTreeMap<u32, ProcessSeen>,
    /// First callers of signatures.
    pub first_uses: HashMap<SignatureKey, FirstSeen>,
    /// Records that could not be decoded.
    pub undecodable: u64,
    /// Records handled.
    pub records: u64,
    /// A process exited since the last look: time to check whether the tree is done.
    pub exit_seen: bool,
}

impl Gathered {
    /// Takes one ring-buffer record into account.
    pub fn handle(&mut self, bytes: &[u8]) {
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
                self.first_uses.entry(sig.key).or_insert(FirstSeen {
                    seq: self.records,
                    tid: sig.tid,
                    tgid: sig.tgid,
                    exe: sig.exe,
                });
            }
        }
    }
}

impl Gathered {
    /// Registers a command held before its exec, as the program it is about to run:
    /// its `/proc/PID/exe` is still sandprof, and its `execve` counts under that
    /// program.
    pub fn seed_command(
        &mut self,
        probe: &mut Probe,
        pid: u32,
        program: &Path,
    ) -> anyhow::Result<()> {
        let path = program.to_string_lossy().into_owned();
        let exe = exe_id(path.as_bytes());
        self.exes.entry(exe).or_insert_with(|| ExeSeen {
            format: binary::inspect_any(&[program.to_path_buf()]),
            path,
        });
        self.register(
            probe,
            ExistingTask {
                tid: pid,
                tgid: pid,
            },
            exe,
        )?;
        Ok(())
    }

    /// Registers tasks that were running before the capture, with their executables.
    /// Returns how many were new: a task the probe already follows (it was born of a
    /// registered one since) is left as the probe has it.
    pub fn seed_tasks(
        &mut self,
        probe: &mut Probe,
        tasks: &[ExistingTask],
    ) -> anyhow::Result<usize> {
        let mut new = 0;
        for task in tasks {
            let exe_link = Path::new("/proc").join(task.tgid.to_string()).join("exe");
            let path = seeded_exe_path(task.tgid, &exe_link);
            let exe = exe_id(path.as_bytes());
            self.exes.entry(exe).or_insert_with(|| ExeSeen {
                format: binary::inspect_any(&[exe_link]),
                path,
            });
            if self.register(probe, task.clone(), exe)? {
                new += 1;
            }
        }
        Ok(new)
    }

    /// Puts one task in `TASKS` unless it is there; returns whether it was added.
    fn register(
        &mut self,
        probe: &mut Probe,
        task: ExistingTask,
        exe: u64,
    ) -> anyhow::Result<bool> {
        let state = TaskState {
            exe,
            prev_exe: exe,
            tgid: task.tgid,
            flags: 0,
        };
        match tasks_map(probe)?.insert(task.tid, state, BPF_NOEXIST) {
            Ok(()) => {}
            Err(MapError::SyscallError(err))
                if err.io_error.raw_os_error() == Some(libc::EEXIST) =>
            {
                return Ok(false);
            }
            Err(err) => {
                return Err(err)
                    .with_context(|| format!("failed to start tracing task {}", task.tid));
            }
        }
        let process = self.processes.entry(task.tgid).or_default();
        if process.exes.is_empty() {
            process.exes.push(exe);
        }
        Ok(true)
    }
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
