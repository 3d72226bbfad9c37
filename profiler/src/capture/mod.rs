//! Capture: load the eBPF programs, follow the target, drain the kernel's maps.
//!
//! [`resolve`] checks a [`TargetSpec`] without starting anything; [`capture`] traces the
//! resolved target and returns a [`RawCapture`]: kernel facts with executable ids and
//! raw signature keys still in them. [`to_profile`] turns that into the profile file.
//!
//! - [`arch`]: `pt_regs` layouts handed to the probe;
//! - [`btf`]: kernel struct offsets and tracepoint arguments, from the kernel's BTF;
//! - [`spec`]: the probe's spec table, derived from `syscall-db`;
//! - [`loader`]: privilege and kernel checks, load, attach; [`object`]: the probe object
//!   adapted to the running kernel;
//! - [`target`]: the command, PID tree, cgroup or container to follow;
//! - [`session`]: the event loop and stopping; [`gathered`]: what it learns from records;
//!   [`maps`]: registering tasks and draining counts; [`records`]: ring-buffer records;
//!   [`binary`]: ELF facts;
//! - [`to_profile`]: the raw capture as a profile.

pub mod arch;
pub mod binary;
pub mod btf;
pub mod gathered;
pub mod loader;
pub mod maps;
pub mod object;
pub mod records;
pub mod session;
pub mod spec;
pub mod target;
pub mod to_profile;

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{bail, Context as _};
use profiler_common::event::LOST_CAUSES;
use profiler_common::key::{CountKey, IntSigKey, StrSigKey};
use syscall_db::{Arch, Database};

use crate::profile::{BinaryFormat, ExitStatus, Target};
use loader::{CgroupFilter, Probe};
use records::SignatureKey;
use session::{EarlyStop, Ending, Session, Signals};
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
    /// Calls whose signature was not recorded (its map was full), by native syscall
    /// number.
    pub lost_signatures: BTreeMap<u32, u64>,
    /// Records userspace could not decode.
    pub undecodable: u64,
    /// How the command ended (command targets).
    pub exit: Option<ExitStatus>,
    /// Why the capture stopped.
    pub stopped_by: String,
    /// Set when it stopped before the target ended on its own.
    pub early_stop: Option<EarlyStop>,
}

/// Options of one capture.
#[derive(Clone, Debug)]
pub struct CaptureOptions {
    /// Stop after this long.
    pub duration: Option<Duration>,
    /// How long a command sandprof started gets to exit, once stopped, before it is
    /// killed.
    pub kill_after: Duration,
    /// Entries of each signature map.
    pub max_signatures: u32,
    /// Show a status line on a terminal, and say what stopping does.
    pub status_line: bool,
    /// Told once the probe is attached and the target's existing tasks are followed:
    /// from then on nothing the target does is missed (`sandprof try` starts the
    /// container it traces only then).
    pub attached: Option<std::sync::mpsc::Sender<()>>,
    /// The caller stops the target itself once the capture ends (`sandprof try`
    /// deletes its container), so an early stop leaves nothing running to report.
    pub caller_stops_target: bool,
}

/// A target checked and found, with nothing started yet.
#[derive(Debug)]
pub struct ResolvedTarget {
    /// The profile's description of it (a command's exit is filled in later).
    pub target: Target,
    kind: Resolved,
}

#[derive(Debug)]
enum Resolved {
    Command {
        program: PathBuf,
        argv: Vec<OsString>,
        user: Option<RunAs>,
    },
    Pid(u32),
    Cgroup(target::Cgroup),
}

/// Checks the target and finds what it names (the program along `PATH`, the process,
/// the cgroup, the container's cgroup), without starting or registering anything.
pub fn resolve(spec: &TargetSpec) -> anyhow::Result<ResolvedTarget> {
    Ok(match spec {
        TargetSpec::Command { argv, user } => {
            let program = argv.first().context("no command given")?;
            ResolvedTarget {
                target: Target::Command {
                    argv: argv
                        .iter()
                        .map(|a| a.to_string_lossy().into_owned())
                        .collect(),
                    user: user.as_ref().map(|u| u.name.clone()),
                    exit: None,
                },
                kind: Resolved::Command {
                    program: target::find_program(program)?,
                    argv: argv.clone(),
                    user: user.clone(),
                },
            }
        }
        TargetSpec::Pid(pid) => {
            if *pid == std::process::id() {
                bail!("PID {pid} is this sandprof process; give the PID of the workload");
            }
            if !Path::new("/proc").join(pid.to_string()).is_dir() {
                bail!("no process with PID {pid}");
            }
            ResolvedTarget {
                target: Target::Pid { pid: *pid },
                kind: Resolved::Pid(*pid),
            }
        }
        TargetSpec::Cgroup(path) => {
            let cgroup = target::cgroup(&target::cgroup2_root()?, path)?;
            ResolvedTarget {
                target: Target::Cgroup {
                    path: cgroup.path.display().to_string(),
                },
                kind: Resolved::Cgroup(cgroup),
            }
        }
        TargetSpec::Container(id) => {
            let root = target::cgroup2_root()?;
            let (id, path) = target::find_container(&root, id)?;
            let cgroup = target::cgroup(&root, &path)?;
            ResolvedTarget {
                target: Target::Container {
                    id,
                    cgroup: cgroup.path.display().to_string(),
                },
                kind: Resolved::Cgroup(cgroup),
            }
        }
    })
}

/// Traces the target until it ends, the duration elapses or a signal arrives.
/// Returns the capture and the profile's description of the target.
pub fn capture(
    resolved: ResolvedTarget,
    options: &CaptureOptions,
) -> anyhow::Result<(RawCapture, Target)> {
    loader::preflight(Path::new("/proc"), Path::new("/sys"))?;
    let arch = Arch::host().context("sandprof traces x86_64 and aarch64 hosts only")?;
    let db = Database::get();
    let plan = CapturePlan::build(db, arch).context("failed to derive the capture spec")?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("failed to start the event loop")?;
    // Signals are handled from here on, so that none ends sandprof while it holds a
    // command at its gate.
    let signals = {
        let _context = runtime.enter();
        Signals::install()?
    };

    let ResolvedTarget { target, kind } = resolved;
    // The kernel's BTF is read before the command is started, so that an error there
    // starts nothing.
    let filter = match &kind {
        Resolved::Cgroup(cgroup) => Some(CgroupFilter {
            id: cgroup.id,
            level: cgroup.level,
        }),
        _ => None,
    };
    let config = loader::probe_config(arch, filter)?;
    let (ending, left_running) = match kind {
        Resolved::Command {
            program,
            argv,
            user,
        } => {
            let child = GatedChild::spawn(&program, &argv, user.as_ref())?;
            (Ending::CommandTree(child), String::new())
        }
        Resolved::Pid(pid) => (
            Ending::TaskTree { pid },
            format!("PID {pid} and its descendants"),
        ),
        Resolved::Cgroup(cgroup) => {
            let left = match &target {
                Target::Container { id, .. } => format!("container {id}"),
                _ => format!("the processes of cgroup {}", cgroup.path.display()),
            };
            (Ending::CgroupEmpty(cgroup.path), left)
        }
    };
    let probe = Probe::load(&config, plan, options.max_signatures)?;
    let session = Session {
        probe,
        ending,
        duration: options.duration,
        kill_after: options.kill_after,
        status_line: options.status_line,
        signals,
        left_running,
        attached: options.attached.clone(),
        caller_stops_target: options.caller_stops_target,
    };
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
