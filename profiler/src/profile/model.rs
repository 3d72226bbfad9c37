//! The profile: facts about what a workload asked of the kernel, without judgement.
//! This is the `*.sandprof.json` file format (documented in `docs/profile-format.md`);
//! field names are part of the schema. Bump [`SCHEMA_VERSION`] on any change that an
//! older reader would misread.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use syscall_db::{Arch, ErrnoCounts, FieldValues};

/// Value of [`SyscallProfile::schema`].
pub const SCHEMA: &str = "sandprof.profile";
/// Current schema version. Readers refuse versions above it.
pub const SCHEMA_VERSION: u32 = 1;

/// A profile of one workload, or of several merged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SyscallProfile {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// [`SCHEMA_VERSION`] of the writer.
    pub schema_version: u32,
    /// The tool that wrote it.
    pub tool: ToolStamp,
    /// The database the capture spec was derived from.
    pub database: DatabaseStamp,
    /// Syscall ABI the numbers below belong to.
    pub arch: Arch,
    /// Each capture that contributed (one, or several after a merge).
    pub captures: Vec<CaptureStamp>,
    /// Executables seen, by profile-local id.
    pub executables: Vec<Executable>,
    /// Processes seen.
    pub processes: Vec<Process>,
    /// Calls per syscall per executable.
    pub syscalls: Vec<SyscallStat>,
    /// Distinct argument signatures of the syscalls whose arguments decide
    /// compatibility.
    pub signatures: Vec<ArgSignature>,
    /// What could not be recorded, by cause. All zero in a complete profile.
    pub lost: LostCounts,
}

impl SyscallProfile {
    /// The profile of one capture before any fact is added: the header (schema, writer,
    /// database, arch) and the capture's stamp, with no executable, process, row,
    /// signature or loss. Every producer of profiles starts here, so the header is
    /// written in one place.
    pub fn of_capture(
        db: &syscall_db::Database,
        arch: Arch,
        capture: CaptureStamp,
    ) -> SyscallProfile {
        SyscallProfile {
            schema: SCHEMA.to_owned(),
            schema_version: SCHEMA_VERSION,
            tool: ToolStamp::current(),
            database: DatabaseStamp::of(db),
            arch,
            captures: vec![capture],
            executables: Vec::new(),
            processes: Vec::new(),
            syscalls: Vec::new(),
            signatures: Vec::new(),
            lost: LostCounts::default(),
        }
    }
}

/// Tool name and version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolStamp {
    /// `sandprof`.
    pub name: String,
    /// Crate version.
    pub version: String,
}

impl ToolStamp {
    /// This build of sandprof.
    pub fn current() -> ToolStamp {
        ToolStamp {
            name: "sandprof".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

/// Database version and the gVisor revision it describes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseStamp {
    /// `syscall-db` data version.
    pub version: String,
    /// gVisor revision of the syscall tables.
    pub gvisor_revision: String,
}

impl DatabaseStamp {
    /// The stamp of `db`.
    pub fn of(db: &syscall_db::Database) -> DatabaseStamp {
        DatabaseStamp {
            version: db.version().to_owned(),
            gvisor_revision: db.gvisor_revision().to_owned(),
        }
    }
}

/// How, where and when one capture was made.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaptureStamp {
    /// Host name of the node.
    pub hostname: String,
    /// Kernel release (`uname -r`).
    pub kernel: String,
    /// What was traced.
    pub target: Target,
    /// Start, RFC 3339 UTC.
    pub started_at: String,
    /// End, RFC 3339 UTC.
    pub ended_at: String,
    /// Duration in milliseconds.
    pub duration_ms: u64,
    /// Where the facts came from: `ebpf` (the tracer) or `runsc-strace` (a runsc log).
    pub method: String,
}

/// What was traced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Target {
    /// A command sandprof started, with its descendants.
    Command {
        /// The command line.
        argv: Vec<String>,
        /// User it ran as, when not the tracer's.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        user: Option<String>,
        /// How it ended; absent if the capture stopped before it did.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exit: Option<ExitStatus>,
    },
    /// A running process, with its descendants.
    Pid {
        /// The process id.
        pid: u32,
    },
    /// Every task in a cgroup v2 directory and below.
    Cgroup {
        /// Path of the directory.
        path: String,
    },
    /// A container, found by id.
    Container {
        /// The id as resolved (full).
        id: String,
        /// Its cgroup directory.
        cgroup: String,
    },
    /// A runsc `--strace` log.
    RunscLog {
        /// Log files read.
        files: Vec<String>,
    },
}

/// How a command ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitStatus {
    /// Exited with this code.
    Code(i32),
    /// Killed by this signal.
    Signal(i32),
}

/// An executed file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Executable {
    /// Profile-local id, referenced by processes, syscall rows and signatures.
    pub id: u32,
    /// Path as the workload executed it (inside its mount namespace).
    pub path: String,
    /// What kind of binary it is.
    pub format: BinaryFormat,
}

/// The format of an executed file, read from its header.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BinaryFormat {
    /// An ELF binary.
    Elf {
        /// 32 or 64.
        bits: u8,
        /// ELF machine: `x86_64`, `i386`, `aarch64`, `arm`, or `e_machine=N`.
        machine: String,
        /// Statically linked (no program interpreter).
        #[serde(rename = "static")]
        is_static: bool,
    },
    /// A `#!` script.
    Script {
        /// The interpreter line.
        interpreter: String,
    },
    /// Could not be read; the reason says why (the process was gone, no permission…).
    Unknown {
        /// Why.
        reason: String,
    },
}

/// A process seen during the capture.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Process {
    /// Process id (in the tracer's pid namespace).
    pub pid: u32,
    /// Parent process id, when the tracer saw the fork.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<u32>,
    /// Executable ids in the order the process ran them (the one inherited first).
    pub executables: Vec<u32>,
    /// Index into [`SyscallProfile::captures`].
    #[serde(default)]
    pub capture: u32,
}

/// Whether a call came through the native or the compat (32-bit) entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Abi {
    /// The profile's [`SyscallProfile::arch`].
    Native,
    /// Its compat ABI (i386 on x86_64, AArch32 on aarch64).
    Compat,
}

/// Calls of one syscall by one executable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyscallStat {
    /// Syscall name, or `syscall_<nr>` when the number is not in the database.
    pub name: String,
    /// Number in the ABI.
    pub number: u32,
    /// ABI.
    pub abi: Abi,
    /// Executable id.
    pub executable: u32,
    /// Calls (successful and failed).
    pub calls: u64,
    /// Failed calls by errno name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub errors: ErrnoCounts,
}

/// One distinct set of compatibility-deciding arguments of one syscall.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArgSignature {
    /// Syscall name.
    pub syscall: String,
    /// Number (native ABI).
    pub number: u32,
    /// Captured fields by name (see `syscall-db`'s capture spec).
    pub fields: FieldValues,
    /// Calls with these arguments.
    pub calls: u64,
    /// Failed calls by errno name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub errors: ErrnoCounts,
    /// Fields that could not be read from user memory, or strings cut at 255 bytes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub incomplete: Vec<String>,
    /// The first call seen. Absent when the record of the first sighting was lost
    /// (counted in [`LostCounts::ring_buffer_full`]); the counts are still exact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first: Option<FirstUse>,
}

/// Who made a call first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirstUse {
    /// Process id.
    pub pid: u32,
    /// Thread id.
    pub tid: u32,
    /// Executable id.
    pub executable: u32,
}

/// Events that could not be recorded, by cause. See `profiler_common::event::LostCause`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LostCounts {
    /// Ring-buffer records dropped because it was full.
    #[serde(default)]
    pub ring_buffer_full: u64,
    /// Syscall returns not counted: the count map was full.
    #[serde(default)]
    pub counts_map_full: u64,
    /// Calls whose argument signature was not recorded: a signature map was full.
    #[serde(default)]
    pub signature_map_full: u64,
    /// The same calls by syscall name, so a reader knows whose arguments are missing.
    /// Sums to `signature_map_full` (not counted again in [`LostCounts::total`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub signature_map_full_by_syscall: BTreeMap<String, u64>,
    /// Tasks not traced: the task map was full.
    #[serde(default)]
    pub task_map_full: u64,
    /// Execs not attributed: the executable map was full or the name unreadable.
    #[serde(default)]
    pub exec_unattributed: u64,
    /// Syscall numbers beyond the capture table (counted, arguments not captured).
    #[serde(default)]
    pub nr_out_of_range: u64,
    /// Records userspace could not decode.
    #[serde(default)]
    pub undecodable_records: u64,
}

impl LostCounts {
    /// Sum of every cause, saturating: it says how much was lost, and a profile (read
    /// from a file) may carry counts whose sum does not fit.
    pub fn total(&self) -> u64 {
        [
            self.ring_buffer_full,
            self.counts_map_full,
            self.signature_map_full,
            self.task_map_full,
            self.exec_unattributed,
            self.nr_out_of_range,
            self.undecodable_records,
        ]
        .into_iter()
        .fold(0, u64::saturating_add)
    }
}
