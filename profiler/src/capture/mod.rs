//! Capture: load the eBPF programs, follow the target, drain the kernel's maps.
//!
//! [`capture`] takes a [`TargetSpec`] and returns a [`RawCapture`]: kernel facts with
//! executable ids and raw signature keys still in them. `crate::profile::builder` turns
//! that into the profile file.
//!
//! - [`arch`]: `pt_regs` layouts handed to the probe;
//! - [`tracefs`]: tracepoint record layouts read at start;
//! - [`spec`]: the probe's spec table, derived from `syscall-db`;
//! - [`loader`]: privilege and kernel checks, load, attach;
//! - [`target`]: the command, PID tree, cgroup or container to follow;
//! - [`session`]: the event loop; [`records`]: ring-buffer records; [`binary`]: ELF facts.

pub mod arch;
pub mod binary;
pub mod loader;
pub mod records;
pub mod session;
pub mod spec;
pub mod target;
pub mod tracefs;

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use profiler_common::event::LOST_CAUSES;
use profiler_common::key::{CountKey, IntSigKey, StrSigKey};
use syscall_db::{Arch, Database};

use crate::profile::{BinaryFormat, ExitStatus, Target};
use loader::{CgroupFilter, Probe};
use records::SignatureKey;
use session::{Ending, Session};
use spec::CapturePlan;
use target::{GatedChild, RunAs};

/// What to trace.
#[derive(Clone, Debug)]
pub enum TargetSpec {
    /// Start this command, optionally as another user.
    Command {
        /// Program and arguments.
        argv: Vec<OsString>,
        /// `--user`.
        user: Option<RunAs>,
    },
    /// A running process and its descendants.
    Pid(u32),
    /// A cgroup v2 directory (absolute, or relative to the cgroup v2 mount).
    Cgroup(PathBuf),
    /// A container id or unique prefix.
    Container(String),
}

/// An executable seen during the capture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExeSeen {
    /// Path as executed.
    pub path: String,
    /// Its format.
    pub format: BinaryFormat,
}

/// A process seen during the capture.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProcessSeen {
    /// Parent, when its fork was seen.
    pub parent: Option<u32>,
    /// Executable ids in order.
    pub exes: Vec<u64>,
}

/// Who made a signature's first call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FirstSeen {
    /// Arrival order among all records: lower came first.
    pub seq: u64,
    /// Thread.
    pub tid: u32,
    /// Process.
    pub tgid: u32,
    /// Executable id.
    pub exe: u64,
}

/// Kernel facts of one capture, before they become a profile.
#[derive(Debug)]
pub struct RawCapture {
    /// ABI of the native syscall numbers.
    pub arch: Arch,
    /// The spec the probe ran with (to decode signatures).
    pub plan: CapturePlan,
    /// Start.
    pub started: SystemTime,
    /// End.
    pub ended: SystemTime,
    /// Executables by id.
    pub exes: BTreeMap<u64, ExeSeen>,
    /// Processes by pid.
    pub processes: BTreeMap<u32, ProcessSeen>,
    /// First callers of signatures.
    pub first_uses: HashMap<SignatureKey, FirstSeen>,
    /// Syscall counts.
    pub counts: Vec<(CountKey, u64)>,
    /// Integer signatures with their counts.
    pub int_sigs: Vec<(IntSigKey, u64)>,
    /// String signatures with their counts.
    pub str_sigs: Vec<(Box<StrSigKey>, u64)>,
    /// Lost-event counters, by `LostCause`.
    pub lost: [u64; LOST_CAUSES as usize],
    /// Records userspace could not decode.
    pub undecodable: u64,
    /// How the command ended (command targets).
    pub exit: Option<ExitStatus>,
    /// Why the capture stopped.
    pub stopped_by: String,
}

/// Options of one capture.
#[derive(Clone, Debug)]
pub struct CaptureOptions {
    /// What to trace.
    pub target: TargetSpec,
    /// Stop after this long.
    pub duration: Option<Duration>,
    /// Show a status line on a terminal.
    pub status_line: bool,
    /// Told once the probe is attached and the target's existing tasks are followed:
    /// from then on nothing the target does is missed (`sandprof try` starts the
    /// container it traces only then).
    pub attached: Option<std::sync::mpsc::Sender<()>>,
}

/// How a cgroup (or container) capture starts and ends: the tasks already in it, the
/// probe's filter, and stopping once it is empty.
fn cgroup_capture(
    cgroup: target::Cgroup,
    target: Target,
) -> anyhow::Result<(
    Ending,
    Vec<target::ExistingTask>,
    Option<CgroupFilter>,
    Target,
)> {
    let seed = target::cgroup_tasks(&cgroup.path)?;
    let filter = CgroupFilter {
        id: cgroup.id,
        level: cgroup.level,
    };
    Ok((Ending::CgroupEmpty(cgroup.path), seed, Some(filter), target))
}

/// Traces the target until it ends, the duration elapses or a signal arrives.
/// Returns the capture and the profile's description of the target.
pub fn capture(options: CaptureOptions) -> anyhow::Result<(RawCapture, Target)> {
    loader::preflight(Path::new("/proc"), Path::new("/sys"))?;
    let arch = Arch::host().context("sandprof traces x86_64 and aarch64 hosts only")?;
    let db = Database::get();
    let plan = CapturePlan::build(db, arch).context("failed to derive the capture spec")?;

    let (ending, seed, filter, target) = match &options.target {
        TargetSpec::Command { argv, user } => {
            let child = GatedChild::spawn(argv, user.as_ref())?;
            let seed = vec![target::ExistingTask {
                tid: child.pid,
                tgid: child.pid,
            }];
            let target = Target::Command {
                argv: argv
                    .iter()
                    .map(|a| a.to_string_lossy().into_owned())
                    .collect(),
                user: user.as_ref().map(|u| u.name.clone()),
                exit: None,
            };
            (Ending::CommandTree(child), seed, None, target)
        }
        TargetSpec::Pid(pid) => {
            let seed = target::pid_tree(Path::new("/proc"), *pid)?;
            (Ending::TaskTree, seed, None, Target::Pid { pid: *pid })
        }
        TargetSpec::Cgroup(path) => {
            let cgroup = target::cgroup(&target::cgroup2_root()?, path)?;
            let target = Target::Cgroup {
                path: cgroup.path.display().to_string(),
            };
            cgroup_capture(cgroup, target)?
        }
        TargetSpec::Container(id) => {
            let root = target::cgroup2_root()?;
            let (id, path) = target::find_container(&root, id)?;
            let cgroup = target::cgroup(&root, &path)?;
            let target = Target::Container {
                id,
                cgroup: cgroup.path.display().to_string(),
            };
            cgroup_capture(cgroup, target)?
        }
    };

    let config = loader::probe_config(arch, filter)?;
    let probe = Probe::load(&config, plan)?;
    let session = Session {
        probe,
        seed,
        ending,
        duration: options.duration,
        status_line: options.status_line,
        attached: options.attached,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("failed to start the event loop")?;
    let raw = runtime.block_on(session.run())?;
    let target = match target {
        Target::Command { argv, user, .. } => Target::Command {
            argv,
            user,
            exit: raw.exit,
        },
        other => other,
    };
    Ok((raw, target))
}
