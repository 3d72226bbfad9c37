//! Proof that the committed data says what upstream says at every release: the data is
//! loaded through `syscall-db` exactly as sandprof loads it, viewed at each release,
//! and compared with the facts read from upstream at that release's tag. This checks
//! the loader's reading of the history as well as the files.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{bail, Context as _};
use syscall_db::{Arch, Database, GvisorSyscall, Sources};

use super::snapshot::Snapshot;
use super::tables::Histories;

/// How many differences are listed before the rest are counted.
const SHOWN: usize = 20;

/// Compares the data in `data_dir` with `upstream` at every release; returns a summary
/// of what was compared, or an error listing the differences.
pub fn against_upstream(data_dir: &Path, upstream: &Histories) -> anyhow::Result<String> {
    let sources = Sources::read_dir(data_dir)
        .with_context(|| format!("failed to read {}", data_dir.display()))?;
    let db = Database::from_sources(&sources).context("the committed data does not load")?;
    let mut differences = Vec::new();
    let mut compared = Counts::default();
    for (info, snapshot) in upstream.snapshots() {
        let view = match db.at(info.tag) {
            Ok(view) => view,
            Err(err) => {
                differences.push(format!("{}: {err}", info.tag));
                continue;
            }
        };
        let mut at = |what: String| differences.push(format!("{}: {what}", info.tag));
        compare(&view, &snapshot, &mut compared, &mut at);
    }
    let known: Vec<_> = db.releases().all().iter().map(|r| r.tag).collect();
    let read: Vec<_> = upstream.releases.iter().map(|r| r.tag).collect();
    if known != read {
        differences.push(format!(
            "the data knows {} releases, upstream has {} from the oldest imported",
            known.len(),
            read.len()
        ));
    }
    if !differences.is_empty() {
        let mut message = format!("{} differences from upstream:", differences.len());
        for d in differences.iter().take(SHOWN) {
            let _ = write!(message, "\n  {d}");
        }
        if differences.len() > SHOWN {
            let _ = write!(message, "\n  … and {} more", differences.len() - SHOWN);
        }
        bail!(message);
    }
    Ok(format!(
        "the committed data agrees with upstream at all {} releases ({} to {}): {} syscall \
         entries, {} kernel identities, {} runsc flags and {} /proc paths compared",
        read.len(),
        read[0],
        read[read.len() - 1],
        compared.syscalls,
        compared.kernels,
        compared.flags,
        compared.paths
    ))
}

#[derive(Default)]
struct Counts {
    syscalls: usize,
    kernels: usize,
    flags: usize,
    paths: usize,
}

fn compare(view: &Database, upstream: &Snapshot, counts: &mut Counts, at: &mut dyn FnMut(String)) {
    for arch in Arch::NATIVE {
        let table = &upstream.syscalls[&arch];
        for row in view.gvisor_table(arch) {
            counts.syscalls += 1;
            match table.get(&row.number) {
                Some(entry) => {
                    let expected = (
                        entry.name.as_str(),
                        entry.status,
                        entry.errno.as_deref(),
                        entry.event,
                        entry.capability.as_deref(),
                        &entry.issues,
                        true,
                    );
                    if summary(row) != expected {
                        at(format!(
                            "{arch} {} is {:?}, upstream {expected:?}",
                            row.number,
                            summary(row)
                        ));
                    }
                }
                None if row.in_upstream_table => {
                    at(format!(
                        "{arch} {} (`{}`) is not in upstream's table",
                        row.number, row.name
                    ));
                }
                None => {}
            }
        }
        let viewed: Vec<u32> = view.gvisor_table(arch).iter().map(|r| r.number).collect();
        for number in table.keys().filter(|n| !viewed.contains(n)) {
            at(format!(
                "{arch} {number} is in upstream's table but not in the data"
            ));
        }
    }
    let kernel = view.gvisor_kernel();
    counts.kernels += 1;
    let expected = &upstream.uname;
    if (
        kernel.sysname.as_str(),
        kernel.release.as_str(),
        kernel.version.as_str(),
        kernel.path.as_str(),
    ) != (
        expected.sysname.as_str(),
        expected.release.as_str(),
        expected.version.as_str(),
        expected.path.as_str(),
    ) {
        at(format!("kernel {kernel:?}, upstream {expected:?}"));
    }
    let flags: BTreeMap<&str, (&str, Option<&str>)> = view
        .runsc_flags()
        .iter()
        .map(|f| (f.name.as_str(), (f.kind.as_str(), f.default.as_deref())))
        .collect();
    let expected: BTreeMap<&str, (&str, Option<&str>)> = upstream
        .flags
        .values()
        .map(|f| (f.name.as_str(), (f.kind.as_str(), f.default.as_deref())))
        .collect();
    counts.flags += expected.len();
    if flags != expected {
        at(format!(
            "runsc flags differ: {}",
            difference(&flags, &expected)
        ));
    }
    let paths: BTreeMap<&str, bool> = view
        .proc_paths()
        .iter()
        .map(|p| (p.path.as_str(), p.conditional))
        .collect();
    let expected: BTreeMap<&str, bool> = upstream
        .proc
        .values()
        .map(|p| (p.path.as_str(), p.conditional))
        .collect();
    counts.paths += expected.len();
    if paths != expected {
        at(format!(
            "/proc paths differ: {}",
            difference(&paths, &expected)
        ));
    }
}

type Summary<'a> = (
    &'a str,
    syscall_db::GvisorStatus,
    Option<&'a str>,
    bool,
    Option<&'a str>,
    &'a Vec<String>,
    bool,
);

fn summary(row: &GvisorSyscall) -> Summary<'_> {
    (
        row.upstream_name.as_deref().unwrap_or(&row.name),
        row.status,
        row.errno.as_deref(),
        row.event,
        row.capability.as_deref(),
        &row.issues,
        row.in_upstream_table,
    )
}

/// The keys whose values differ, as `key: data → upstream`.
fn difference<V: PartialEq + std::fmt::Debug>(
    data: &BTreeMap<&str, V>,
    upstream: &BTreeMap<&str, V>,
) -> String {
    let keys: std::collections::BTreeSet<&&str> = data.keys().chain(upstream.keys()).collect();
    keys.into_iter()
        .filter(|k| data.get(**k) != upstream.get(**k))
        .map(|k| format!("{k}: {:?} → {:?}", data.get(*k), upstream.get(*k)))
        .collect::<Vec<_>>()
        .join("; ")
}
