//! The database's data model: the types the data files deserialize into and the rest of
//! sandprof reads. Field names are the data files' keys and the JSON schema of
//! `sandprof db --format json`, so renaming one is a schema change.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::release::{Release, ReleaseRange};

/// A syscall ABI.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arch {
    /// x86-64, the native 64-bit ABI.
    X86_64,
    /// AArch64, the native 64-bit ABI.
    Aarch64,
    /// i386: the compat (32-bit) ABI of x86-64 kernels. gVisor runs no 32-bit code, so
    /// this table only names what 32-bit binaries call.
    I386,
}

impl Arch {
    /// The native ABIs gVisor and the tracer support.
    pub const NATIVE: [Arch; 2] = [Arch::X86_64, Arch::Aarch64];

    /// The name used in data files, profiles and on the command line.
    pub const fn as_str(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Aarch64 => "aarch64",
            Arch::I386 => "i386",
        }
    }

    /// The architecture sandprof was built for, if it is one the database knows.
    pub const fn host() -> Option<Arch> {
        if cfg!(target_arch = "x86_64") {
            Some(Arch::X86_64)
        } else if cfg!(target_arch = "aarch64") {
            Some(Arch::Aarch64)
        } else {
            None
        }
    }

    /// The compat ABI of a native one, if the database has its table.
    pub const fn compat(self) -> Option<Arch> {
        match self {
            Arch::X86_64 => Some(Arch::I386),
            _ => None,
        }
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Arch {
    type Err = crate::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "x86_64" | "amd64" | "x86-64" => Ok(Arch::X86_64),
            "aarch64" | "arm64" => Ok(Arch::Aarch64),
            "i386" | "x86" | "ia32" => Ok(Arch::I386),
            _ => Err(crate::Error::UnknownArch(s.to_owned())),
        }
    }
}

/// A sandboxed runtime the database describes.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Runtime {
    /// gVisor's runsc: a user-space kernel (the Sentry) implements the syscall ABI.
    Gvisor,
    /// Kata Containers: a real guest Linux kernel in a lightweight VM.
    Kata,
}

impl Runtime {
    /// Every runtime, in report order.
    pub const ALL: [Runtime; 2] = [Runtime::Gvisor, Runtime::Kata];

    /// The name used in data files and on the command line.
    pub const fn as_str(self) -> &'static str {
        match self {
            Runtime::Gvisor => "gvisor",
            Runtime::Kata => "kata",
        }
    }
}

impl fmt::Display for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One syscall of one ABI.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Syscall {
    /// Kernel name without the `sys_` prefix, e.g. `openat`.
    pub name: String,
    /// Number in this ABI.
    pub number: u32,
}

/// How much of a syscall gVisor implements, as its own syscall table says.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GvisorStatus {
    /// Implemented.
    Full,
    /// Implemented for some arguments or with known gaps; argument rules say which.
    Partial,
    /// Not implemented: returns `errno` (usually ENOSYS).
    Unimplemented,
    /// Returns `errno` unless the caller holds `capability`, and is not implemented
    /// beyond that check.
    NeedsCapability,
}

/// gVisor's support for one syscall number of one arch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GvisorSyscall {
    /// Syscall name (the kernel's name for that number).
    pub name: String,
    /// Number in this arch.
    pub number: u32,
    /// Support level.
    pub status: GvisorStatus,
    /// errno name returned when the call is refused (`ENOSYS`, `EPERM`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errno: Option<String>,
    /// runsc reports an "Unsupported syscall" event (unimplemented-syscall event) when
    /// the call is made. For [`GvisorStatus::NeedsCapability`] the event is emitted only
    /// when the caller holds the capability (the call then fails with ENOSYS).
    #[serde(default)]
    pub event: bool,
    /// Capability required, for [`GvisorStatus::NeedsCapability`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capability: Option<String>,
    /// gVisor's own name for the number when it differs from the kernel's (gVisor calls
    /// x86_64's `_sysctl` `sysctl`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream_name: Option<String>,
    /// Upstream tracking issues, as linked from gVisor's table.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub issues: Vec<String>,
    /// False when gVisor's table has no entry for this number: such calls get ENOSYS and
    /// an event from the table's fallback.
    #[serde(default = "yes")]
    pub in_upstream_table: bool,
    /// Our note, in our words (curated separately from the generated table).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

fn yes() -> bool {
    true
}

/// A symbolic or literal value in a rule condition, e.g. `"AF_NETLINK"` or `16`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    /// A literal number.
    Number(u64),
    /// A constant's name from the constants table, or a string to compare.
    Name(String),
}

/// A condition on one captured field of an argument signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// The field equals this value.
    Eq(Value),
    /// The field equals one of these values.
    In(Vec<Value>),
    /// The field has at least one of these bits set (the values are ORed).
    AnyBits(Vec<Value>),
    /// A string field starts with this prefix.
    Prefix(String),
    /// A string field matches this glob: `*` matches within one path component, `**`
    /// across components, `#` stands for a folded numeric component (a pid, a tid, an
    /// fd number) and matches only itself, `{a,b}` matches either alternative (e.g.
    /// `/proc/{self,#}/smaps_rollup`). Everything else matches itself.
    Glob(String),
}

/// What happens to a call a rule matches, under the rule's runtime.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Outcome {
    /// Works as under runc.
    Works,
    /// Fails with this errno.
    Fails {
        /// errno name.
        errno: String,
    },
    /// Accepted and returns success, but has no effect.
    Ignored,
    /// Works in a reduced or different way (a value is emulated, a file is partial).
    Degraded,
    /// Fails with `errno` unless the runtime is configured by one of the rule's
    /// remediations; works once it is.
    NeedsConfig {
        /// errno name returned without the configuration.
        errno: String,
    },
}

/// Where a fact comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// File path in the upstream repository, e.g. `pkg/sentry/socket/netlink/provider.go`.
    pub path: String,
    /// Symbol or section in that file, when it helps find the fact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symbol: Option<String>,
    /// The release the file was read at, when it is not the table's revision (facts
    /// about older releases cite the tag they were read at).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<Release>,
}

/// The categories a rule may have: the kinds of finding reports group by.
pub const RULE_CATEGORIES: [&str; 21] = [
    "syscall",
    "socket",
    "ioctl",
    "sockopt",
    "mount",
    "ptrace",
    "prctl",
    "arch_prctl",
    "namespaces",
    "device",
    "bpf",
    "perf",
    "io_uring",
    "keyctl",
    "seccomp",
    "madvise",
    "fcntl",
    "personality",
    "proc_path",
    "sys_path",
    "dev_path",
];

/// An argument-level rule: what a runtime does with a syscall given some of its arguments.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArgRule {
    /// Stable id, e.g. `gvisor.socket.netlink-sock-diag`.
    pub id: String,
    /// Runtime the rule describes.
    pub runtime: Runtime,
    /// Finding category, one of [`RULE_CATEGORIES`]: `socket`, `ioctl`, `sockopt`,
    /// `prctl`, `ptrace`, `namespaces`, `mount`, `madvise`, `proc_path`, `sys_path`,
    /// `dev_path`, `bpf`, `device`, … (`syscall` for the call as a whole).
    pub category: String,
    /// Syscalls the rule applies to (names; every one must exist in some arch).
    pub syscalls: Vec<String>,
    /// Arches the rule applies to; empty means every native arch.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub arches: Vec<Arch>,
    /// Conditions on captured fields (field names of the syscall's [`Capture`]), all of
    /// which must hold.
    #[serde(default)]
    pub when: BTreeMap<String, Condition>,
    /// What happens.
    pub outcome: Outcome,
    /// Remediation ids, in order of preference.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remediations: Vec<String>,
    /// What happens and why, in our words.
    pub note: String,
    /// Upstream files the fact was read from (repository and commit: the table's
    /// [`Provenance`]).
    pub sources: Vec<Source>,
    /// First gVisor release the rule holds for; none for every release before `last`.
    /// Only gVisor rules have releases.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first: Option<Release>,
    /// Last gVisor release the rule holds for; none for every release from `first` on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<Release>,
}

impl ArgRule {
    /// The gVisor releases the rule holds for.
    pub fn releases(&self) -> ReleaseRange {
        ReleaseRange::new(self.first, self.last)
    }
}

/// Kinds of remediation.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RemediationKind {
    /// A runsc command-line flag (or its `runsc.toml` key).
    RunscFlag,
    /// A pod annotation the runtime reads.
    Annotation,
    /// A change to the pod spec.
    PodSpec,
    /// A node or runtime configuration change (containerd, Kata configuration.toml).
    NodeConfig,
    /// A change to the workload's code or image.
    CodeChange,
    /// Run this workload under the other runtime.
    OtherRuntime,
}

/// A way to make something work.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remediation {
    /// Stable id, e.g. `runsc.net-raw`.
    pub id: String,
    /// Kind.
    pub kind: RemediationKind,
    /// Runtime it configures or applies to.
    pub runtime: Runtime,
    /// For `runsc-flag`: the flag exactly as passed, e.g. `--net-raw` or
    /// `--network=host`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flag: Option<String>,
    /// For `annotation`: `key=value`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotation: Option<String>,
    /// What to do, in our words.
    pub summary: String,
    /// What it costs in isolation or performance, in our words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tradeoff: Option<String>,
    /// Upstream files the option was read from.
    pub sources: Vec<Source>,
    /// First gVisor release the remediation applies to, when it is not every release
    /// (a runsc flag's own releases come from runsc's flag table and need no range).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first: Option<Release>,
    /// Last gVisor release it applies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<Release>,
}

impl Remediation {
    /// The gVisor releases it applies to, as written (a runsc flag also needs runsc to
    /// register the flag).
    pub fn releases(&self) -> ReleaseRange {
        ReleaseRange::new(self.first, self.last)
    }

    /// The runsc flag a runsc-flag remediation sets, or a `dev.gvisor.flag.<name>`
    /// annotation overrides: its name without dashes or value.
    pub fn runsc_flag_name(&self) -> Option<&str> {
        match self.kind {
            RemediationKind::RunscFlag => {
                let flag = self.flag.as_deref()?.trim_start_matches('-');
                Some(flag.split_once('=').map_or(flag, |(name, _)| name))
            }
            RemediationKind::Annotation => {
                let key = self.annotation.as_deref()?.split_once('=')?.0;
                key.strip_prefix("dev.gvisor.flag.")
            }
            _ => None,
        }
    }
}

/// A kind of executable a runtime does not run at all: gVisor runs no 32-bit code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AbiFact {
    /// Stable id, e.g. `gvisor.abi.32-bit`.
    pub id: String,
    /// Runtime the fact describes.
    pub runtime: Runtime,
    /// ELF class of the executables it refuses, in bits (32); compat-ABI calls of the
    /// same width are covered too.
    pub bits: u8,
    /// errno name exec of such an executable fails with.
    pub errno: String,
    /// Remediation ids, in order of preference.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remediations: Vec<String>,
    /// What happens and why, in our words.
    pub note: String,
    /// Upstream files the fact was read from.
    pub sources: Vec<Source>,
}

/// How badly a Kata fact affects a workload it applies to, as a report grades it.
#[derive(
    Copy, Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum FactSeverity {
    /// The workload fails: what it relies on does not exist under Kata, and no setting
    /// of Kata brings it back.
    Breaks,
    /// It works once Kata, the node or the pod is configured as one of the fact's
    /// remediations says.
    NeedsConfig,
    /// It works, differently or more slowly.
    #[default]
    Degraded,
    /// Worth knowing; nothing changes for the workload.
    Info,
}

/// Something that breaks or changes under Kata Containers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KataFact {
    /// Stable id, e.g. `kata.host-network`.
    pub id: String,
    /// Topic: `host-network`, `host-pid`, `host-ipc`, `host-path`, `sub-path`,
    /// `inotify`, `devices`, `privileged`, `kernel-modules`, `kvm`, `perf`,
    /// `nested-virt`, …
    pub topic: String,
    /// What breaks (or changes), in our words.
    pub effect: String,
    /// Why, in our words.
    pub reason: String,
    /// How badly it affects a workload it applies to; `degraded` when not given.
    #[serde(default)]
    pub severity: FactSeverity,
    /// Remediation ids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remediations: Vec<String>,
    /// Syscalls whose use in a profile is evidence for this fact (may be empty: some
    /// facts are about the pod spec only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub syscalls: Vec<String>,
    /// Upstream files the fact was read from.
    pub sources: Vec<Source>,
}

/// How the tracer reads one field of a syscall's arguments.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// The argument register, masked.
    Arg,
    /// A `u16` in the memory the argument points to, at `offset`.
    UserU16,
    /// A `u32` likewise.
    UserU32,
    /// A `u64` likewise.
    UserU64,
    /// A user string, always kept.
    UserStr,
    /// A user path, kept only under the capture prefixes (/proc, /sys, /dev).
    UserPath,
}

/// One captured field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaptureField {
    /// Field name used in profiles and rule conditions, e.g. `domain`, `request`, `path`.
    pub name: String,
    /// Argument index, 0 to 5.
    pub arg: u32,
    /// How it is read.
    pub kind: FieldKind,
    /// Byte offset for `user_u16/32/64`.
    #[serde(default)]
    pub offset: u32,
    /// Bits kept of integer values (default: all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mask: Option<Value>,
    /// Constant group used to name the field's values in reports, e.g. `socket_domain`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub names: Option<String>,
}

/// A captured field whose values are named by another field of the same call: option
/// numbers repeat across `setsockopt` levels, protocol numbers across socket domains.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldNaming {
    /// Syscalls whose captures have both fields.
    pub syscalls: Vec<String>,
    /// The field named, e.g. `optname`.
    pub field: String,
    /// The field that selects the group, e.g. `level`; its own group names its values.
    pub by: String,
    /// Group to name `field` with, by the name of `by`'s value (`SOL_TCP = "sol_tcp"`).
    /// Values of `by` not listed leave `field` to its own group, if it has one.
    pub groups: BTreeMap<String, String>,
}

/// Which arguments of a syscall the tracer records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capture {
    /// Syscall name.
    pub syscall: String,
    /// Fields, at most 4, at most 2 of them strings.
    pub fields: Vec<CaptureField>,
}

/// A named constant of the kernel ABI (`AF_NETLINK`, `TCGETS`, `CLONE_NEWNET`…).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Constant {
    /// Name.
    pub name: String,
    /// Value.
    pub value: u64,
    /// Arches where the value applies; empty means all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub arches: Vec<Arch>,
}

/// Where a table comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// Table name, e.g. `gvisor-syscalls-x86_64`.
    pub table: String,
    /// Upstream project, e.g. `google/gvisor`.
    pub project: String,
    /// Commit hash or release tag the facts were read at.
    pub revision: String,
    /// Files the facts were read from.
    pub paths: Vec<String>,
    /// Date the revision was taken (YYYY-MM-DD).
    pub date: String,
    /// How the table is maintained: `generated` (by an xtask) or `curated`.
    pub maintained: String,
    /// How the revision was read, when that needs saying (e.g. which tree stood in for
    /// the tagged release).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// For curated gVisor facts: the oldest release they were checked against, when not
    /// every release. Findings resting on them at an older release say so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked_from: Option<Release>,
}

/// A string with stable sort order used in maps of counts keyed by errno name.
pub type ErrnoCounts = BTreeMap<String, u64>;

/// A captured field value, as stored in profiles and matched by [`Condition`]s.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FieldValue {
    /// An integer argument or a value read from user memory.
    Int(u64),
    /// A string or path (paths with numeric components folded to `#`).
    Str(String),
}

/// Captured fields of one argument signature, by [`CaptureField::name`].
pub type FieldValues = BTreeMap<String, FieldValue>;
