//! gVisor facts over its releases, as loaded from the generated files: each syscall's
//! timeline (one span of releases per entry its table had, the table's fallback filling
//! the releases where it had none), what gVisor reported as its kernel, the flags runsc
//! registered, the paths /proc registered, and our notes on syscalls with the releases
//! they hold for.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::Problem;
pub use crate::files::GvisorNote;
use crate::files::{GvisorEntry, GvisorFallback, ProcPathRow, RunscFlagRow, UnameRow};
use crate::model::{Arch, GvisorStatus, GvisorSyscall, Syscall};
use crate::release::{Release, ReleaseRange, Releases};

/// gVisor's handling of one syscall over a run of releases.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GvisorSpan {
    /// The releases it held for.
    #[serde(flatten)]
    pub range: ReleaseRange,
    /// The handling (without our note, which has releases of its own).
    pub entry: GvisorSyscall,
}

/// One syscall of one arch over every known release, spans in release order covering
/// every release exactly once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GvisorTimeline {
    /// Kernel name.
    pub name: String,
    /// Number in the arch.
    pub number: u32,
    /// The spans.
    pub spans: Vec<GvisorSpan>,
}

impl GvisorTimeline {
    /// The entry at `release`.
    pub fn at(&self, release: Release) -> Option<&GvisorSyscall> {
        self.spans
            .iter()
            .find(|s| s.range.contains(release))
            .map(|s| &s.entry)
    }
}

/// What gVisor reports as its kernel over a run of releases.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GvisorKernel {
    /// `uname -s`.
    pub sysname: String,
    /// `uname -r`: what `/proc/sys/kernel/osrelease` holds and version checks compare.
    pub release: String,
    /// `uname -v`.
    pub version: String,
    /// The upstream file the values were read from.
    pub path: String,
    /// The releases they held for.
    #[serde(flatten)]
    pub range: ReleaseRange,
}

/// A runsc flag over a run of releases.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunscFlagSpec {
    /// Name without dashes.
    pub name: String,
    /// `bool`, `string`, `int`, `duration`, `var`, …
    pub kind: String,
    /// The default, when upstream writes it as a literal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// The releases it was registered in with this declaration.
    #[serde(flatten)]
    pub range: ReleaseRange,
}

/// A path of gVisor's /proc over a run of releases; per-process paths are
/// `/proc/#/…`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcPath {
    /// The path.
    pub path: String,
    /// Registered only under some configuration of the sandbox.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub conditional: bool,
    /// The releases it was registered in.
    #[serde(flatten)]
    pub range: ReleaseRange,
}

/// Every syscall of `arch`'s kernel table with its timeline from the history rows of
/// `gvisor/<arch>.toml`: a number's rows in release order, the fallback wherever none
/// covers a release. Rows that overlap, are out of order, or name a number the kernel
/// lacks are reported in `problems`.
pub(crate) fn timelines(
    arch: Arch,
    kernel: &[Syscall],
    rows: &[GvisorEntry],
    fallback: &GvisorFallback,
    releases: &Releases,
    problems: &mut Vec<Problem>,
) -> Vec<GvisorTimeline> {
    let file = format!("gvisor/{arch}.toml");
    let mut by_number: BTreeMap<u32, Vec<&GvisorEntry>> = BTreeMap::new();
    for row in rows {
        by_number.entry(row.number).or_default().push(row);
    }
    for (number, rows) in &by_number {
        let item = format!("entry {number} (`{}`)", rows[0].name);
        if !kernel.iter().any(|s| s.number == *number) {
            problems.push(Problem::new(
                &file,
                item.clone(),
                format!("no {arch} syscall has this number"),
            ));
        }
        for pair in rows.windows(2) {
            let (a, b) = (
                ReleaseRange::new(pair[0].first, pair[0].last),
                ReleaseRange::new(pair[1].first, pair[1].last),
            );
            let ordered = matches!((a.last, b.first), (Some(last), Some(first)) if last < first);
            if !ordered {
                problems.push(Problem::new(
                    &file,
                    item.clone(),
                    format!("rows for {a} and {b} overlap or are out of release order"),
                ));
            }
        }
    }
    kernel
        .iter()
        .map(|syscall| {
            let rows = by_number
                .get(&syscall.number)
                .map_or(&[][..], Vec::as_slice);
            GvisorTimeline {
                name: syscall.name.clone(),
                number: syscall.number,
                spans: spans(syscall, rows, fallback, releases),
            }
        })
        .collect()
}

/// The spans of one syscall: its rows, with fallback spans over the releases between.
fn spans(
    syscall: &Syscall,
    rows: &[&GvisorEntry],
    fallback: &GvisorFallback,
    releases: &Releases,
) -> Vec<GvisorSpan> {
    let missing = GvisorSyscall {
        name: syscall.name.clone(),
        number: syscall.number,
        status: GvisorStatus::Unimplemented,
        errno: Some(fallback.errno.clone()),
        event: fallback.event,
        capability: None,
        upstream_name: None,
        issues: Vec::new(),
        in_upstream_table: false,
        note: None,
    };
    let mut out = Vec::new();
    // The first release not yet covered; None once every release is.
    let mut uncovered = releases.oldest();
    for row in rows {
        let range = ReleaseRange::new(row.first, row.last);
        if let (Some(from), Some(first)) = (uncovered, range.first) {
            if from < first {
                let gap_last = releases.previous_before(first);
                out.push(GvisorSpan {
                    range: ReleaseRange::new(Some(from), gap_last),
                    entry: missing.clone(),
                });
            }
        }
        out.push(GvisorSpan {
            range,
            entry: GvisorSyscall {
                name: syscall.name.clone(),
                number: syscall.number,
                status: row.status,
                errno: row.errno.clone(),
                event: row.event,
                capability: row.capability.clone(),
                upstream_name: (row.name != syscall.name).then(|| row.name.clone()),
                issues: row.issues.clone(),
                in_upstream_table: true,
                note: None,
            },
        });
        uncovered = range.last.and_then(|last| releases.next_after(last));
    }
    if let Some(from) = uncovered {
        out.push(GvisorSpan {
            range: ReleaseRange::new(Some(from), None),
            entry: missing,
        });
    }
    // Open ends: a span starting at the oldest release or ending at the newest says so
    // by leaving that end open, as the rows do.
    for span in &mut out {
        if span.range.first == releases.oldest() {
            span.range.first = None;
        }
        if span.range.last == releases.newest() {
            span.range.last = None;
        }
    }
    out
}

/// What gVisor reported as its kernel, from `gvisor/uname.toml`'s rows.
pub(crate) fn kernels(rows: Vec<UnameRow>) -> Vec<GvisorKernel> {
    rows.into_iter()
        .map(|row| GvisorKernel {
            range: ReleaseRange::new(row.first, row.last),
            sysname: row.sysname,
            release: row.release,
            version: row.version,
            path: row.path,
        })
        .collect()
}

/// runsc's flags, from `gvisor/runsc_flags.toml`'s rows.
pub(crate) fn flags(rows: Vec<RunscFlagRow>) -> Vec<RunscFlagSpec> {
    rows.into_iter()
        .map(|row| RunscFlagSpec {
            range: ReleaseRange::new(row.first, row.last),
            name: row.name,
            kind: row.kind,
            default: row.default,
        })
        .collect()
}

/// /proc's paths, from `gvisor/proc.toml`'s rows.
pub(crate) fn proc_paths(rows: Vec<ProcPathRow>) -> Vec<ProcPath> {
    rows.into_iter()
        .map(|row| ProcPath {
            range: ReleaseRange::new(row.first, row.last),
            path: row.path,
            conditional: row.conditional,
        })
        .collect()
}
