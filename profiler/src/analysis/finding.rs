//! The findings model: what the analysis concludes about a workload under each runtime,
//! shared by `sandprof report` (facts from a profile) and `sandprof runsc-log` (facts
//! from runsc logs). Renderers in `crate::report` read only these types.

use serde::{Deserialize, Serialize};
use syscall_db::{ErrnoCounts, RemediationKind, Runtime};

/// Value of [`Report::schema`].
pub const REPORT_SCHEMA: &str = "sandprof.report";
/// Current report schema version.
pub const REPORT_SCHEMA_VERSION: u32 = 1;

/// How bad a finding is. Ordered from worst to mildest.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// The workload will fail or misbehave.
    Breaks,
    /// It will work once the runtime or pod is configured as the remediation says.
    NeedsConfig,
    /// It will work, with reduced function or performance.
    Degraded,
    /// Worth knowing; nothing to do.
    Info,
}

/// What a finding is about.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// A syscall as a whole.
    Syscall,
    /// A file under /proc.
    ProcPath,
    /// A file under /sys.
    SysPath,
    /// A device file under /dev.
    DevPath,
    /// socket/socketpair domain, type, protocol.
    Socket,
    /// An ioctl request.
    Ioctl,
    /// A setsockopt/getsockopt option.
    Sockopt,
    /// A mount, umount or pivot_root.
    Mount,
    /// A ptrace request.
    Ptrace,
    /// A prctl option.
    Prctl,
    /// An arch_prctl option.
    ArchPrctl,
    /// Namespace flags of clone, clone3, unshare, setns.
    Namespaces,
    /// A 32-bit binary or compat syscall.
    Binary32,
    /// A device or hardware feature (GPU, KVM, perf counters).
    Device,
    /// bpf().
    Bpf,
    /// perf_event_open.
    Perf,
    /// io_uring.
    IoUring,
    /// keyctl and friends.
    Keyctl,
    /// seccomp.
    Seccomp,
    /// madvise advice.
    Madvise,
    /// fcntl commands.
    Fcntl,
    /// personality.
    Personality,
    /// The runtime itself (a runsc panic, a fatal error, a sandbox exit).
    Runtime,
    /// The pod spec (host namespaces, hostPath, privileged…).
    PodSpec,
    /// Anything else the database names.
    Other,
}

/// Where and when a call was seen.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Occurrence {
    /// Process id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// Thread id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tid: Option<u32>,
    /// Executable path (profiles) or command name (runsc logs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executable: Option<String>,
    /// Source file: the profile or the log file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Line in a log file, 1-based.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// The line number the log as given printed in front of that line (a `cat -n`,
    /// `grep -n` or editor paste): the line in the original log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_line: Option<u64>,
    /// Document in a multi-document YAML manifest, 1-based (pod-spec audit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<u64>,
    /// Timestamp as the log wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
}

/// One captured argument, named and shown for people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShownArg {
    /// Field name (`domain`, `request`, `path`…).
    pub name: String,
    /// Value as captured (number or string).
    pub raw: String,
    /// Symbolic rendering, e.g. `AF_NETLINK` or `TCGETS`, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symbol: Option<String>,
}

/// What was observed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// Syscall concerned, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub syscall: Option<String>,
    /// Arguments that decided the finding.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<ShownArg>,
    /// Calls observed.
    pub calls: u64,
    /// Failed calls observed, by errno: under runc for a profile, under runsc for a log.
    #[serde(default, skip_serializing_if = "ErrnoCounts::is_empty")]
    pub errors: ErrnoCounts,
    /// First occurrence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first: Option<Occurrence>,
    /// Last occurrence (runsc logs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<Occurrence>,
    /// Executables that made the call.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub executables: Vec<String>,
    /// Free-form detail lines (a log message, a stack excerpt).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub detail: Vec<String>,
}

/// A remediation as shown in a finding, resolved from the database.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemediationRef {
    /// Database id.
    pub id: String,
    /// Kind.
    pub kind: RemediationKind,
    /// runsc flag, if that is what it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flag: Option<String>,
    /// Pod annotation, if that is what it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotation: Option<String>,
    /// What to do.
    pub summary: String,
}

/// The database entry a finding rests on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbReference {
    /// Entry id: a rule id, `gvisor.syscall.<arch>.<name>`, or a Kata fact id.
    pub entry: String,
    /// Upstream project and revision, e.g. `google/gvisor@<commit>`.
    pub revision: String,
    /// Upstream files.
    pub paths: Vec<String>,
}

/// One conclusion about the workload under one runtime.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Runtime it is about.
    pub runtime: Runtime,
    /// How bad.
    pub severity: Severity,
    /// About what.
    pub category: Category,
    /// One line, e.g. `socket(AF_NETLINK, NETLINK_SOCK_DIAG) fails with EPROTONOSUPPORT`.
    pub title: String,
    /// What happens under the runtime and why, in plain words.
    pub effect: String,
    /// What was observed.
    pub evidence: Evidence,
    /// What to do, best first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remediations: Vec<RemediationRef>,
    /// The database entry.
    pub reference: DbReference,
    /// What running the workload under the real runtime showed about this finding
    /// (`sandprof try`); `None` when it was only predicted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observation: Option<Observation>,
}

/// How a run under the real runtime bears on a finding (`sandprof try`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ObservationKind {
    /// Predicted, and the call failed under the runtime and the outcome differed.
    Confirmed,
    /// Predicted, and the call failed under the runtime, but the program carried on to
    /// the same result.
    Tolerated,
    /// Predicted, but the run under the runtime never made the call.
    NotReached,
    /// Not predicted: a difference the run showed that the database did not foresee.
    Unpredicted,
}

/// What was observed about one finding under the real runtime.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    /// How the observation bears on the finding.
    pub kind: ObservationKind,
    /// Calls and failures seen under the runtime (from its `--strace` log).
    #[serde(default)]
    pub calls: u64,
    /// Failed calls under the runtime, by errno.
    #[serde(default, skip_serializing_if = "ErrnoCounts::is_empty")]
    pub errors: ErrnoCounts,
    /// Lines of evidence: what differed, where in the log.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub detail: Vec<String>,
}

/// The overall answer for one runtime.
///
/// The first three are predictions from facts; the next three say why there is no
/// prediction to make and are never a pass; the last three are what a run under the
/// real runtime showed (`sandprof try`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VerdictStatus {
    /// Nothing breaks and nothing needs configuring.
    Compatible,
    /// Works once the listed configuration is applied.
    CompatibleWithConfiguration,
    /// At least one finding breaks the workload.
    LikelyToBreak,
    /// Nothing found breaks it, but evidence was lost (events, signatures, unreadable
    /// input), and what was lost could: the summary names it.
    Incomplete,
    /// There was nothing to judge: no calls, no log lines, no pod specs.
    NoEvidence,
    /// runsc logs that show no failure. Says how much they covered; it is not a claim
    /// that the workload is compatible.
    NoFailureFound,
    /// Observed: under the runtime the workload ran to the same result as under runc.
    Works,
    /// Observed: same result, but with calls failing or features missing on the way.
    WorksDegraded,
    /// Observed: the workload failed, or its result differed from runc's.
    Breaks,
}

/// What a verdict rests on.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VerdictBasis {
    /// Facts about the workload judged against the database.
    #[default]
    Predicted,
    /// runsc logs of a run that already happened (post-mortem).
    Log,
    /// The workload run under the real runtime beside runc (`sandprof try`).
    Observed,
}

/// Verdict for one runtime.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// Runtime.
    pub runtime: Runtime,
    /// Status.
    pub status: VerdictStatus,
    /// What the status rests on.
    #[serde(default)]
    pub basis: VerdictBasis,
    /// Configuration that makes it work (runsc flags, annotations, pod-spec changes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub configuration: Vec<RemediationRef>,
    /// Titles of the findings that break it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blockers: Vec<String>,
    /// One paragraph.
    pub summary: String,
}

/// Everything a renderer needs: verdicts, findings and how the facts were gathered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Always [`REPORT_SCHEMA`].
    pub schema: String,
    /// [`REPORT_SCHEMA_VERSION`] of the writer.
    pub schema_version: u32,
    /// The tool that wrote it.
    pub tool: crate::profile::ToolStamp,
    /// The database the findings come from.
    pub database: crate::profile::DatabaseStamp,
    /// The gVisor release the findings judge against (`release-YYYYMMDD.N`), when the
    /// database is release-aware.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gvisor_release: Option<String>,
    /// Input files (profiles or logs), as given.
    pub inputs: Vec<String>,
    /// How the facts were gathered (from the profiles; one per runsc log set).
    pub captures: Vec<crate::profile::CaptureStamp>,
    /// runsc flags the analysis assumed were set (`--runsc-flags`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assumed_runsc_flags: Vec<String>,
    /// One verdict per runtime analysed.
    pub verdicts: Vec<Verdict>,
    /// Findings, worst first.
    pub findings: Vec<Finding>,
    /// Caveats about the input: lost events, unparsed log lines, unknown syscalls.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub caveats: Vec<String>,
}
