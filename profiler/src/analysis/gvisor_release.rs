//! Findings about the gVisor release itself rather than one call: what kernel it
//! reports to a workload that asks (it changed from 4.4.0 to 4.19.0-gvisor in
//! release-20260427.0), and runsc flags assumed set that the release does not have
//! (runsc then refuses to start).

use syscall_db::{Database, GvisorKernel, Runtime};

use super::finding::{Category, DbReference, Evidence, Finding, Severity};
use super::rules::Judge;

/// Files that show the kernel's identity, as the tracer keeps their paths.
const KERNEL_FILES: [&str; 4] = [
    "/proc/version",
    "/proc/sys/kernel/osrelease",
    "/proc/sys/kernel/version",
    "/proc/sys/kernel/ostype",
];

/// The file of runsc's flag table.
const FLAGS_PATH: &str = "runsc/config/flags.go";

/// Appends the release's findings to `out`.
pub fn findings(judge: &Judge<'_, '_>, out: &mut Vec<Finding>) {
    out.extend(kernel(judge));
    out.extend(missing_flags(judge));
}

/// When the workload asks for the kernel's identity (uname, /proc/version,
/// /proc/sys/kernel/os*), what this release tells it.
fn kernel(judge: &Judge<'_, '_>) -> Option<Finding> {
    let db = judge.db;
    let usage = judge.usage;
    let mut evidence = Evidence::default();
    let mut executables = Vec::new();
    if let Some(uname) = usage.native.get("uname") {
        evidence = usage.syscall_evidence(uname);
        evidence
            .detail
            .push(format!("uname: {} calls.", uname.calls));
        executables.extend(uname.executables.iter().copied());
    }
    // Signatures are kept in a hash map: visit them in syscall order, so the finding is
    // the same on every run.
    let mut by_syscall: Vec<_> = usage.signatures.iter().collect();
    by_syscall.sort_by_key(|(syscall, _)| **syscall);
    for (syscall, signatures) in by_syscall {
        for sig in signatures {
            let Some(syscall_db::FieldValue::Str(path)) = sig.fields.get("path") else {
                continue;
            };
            if !KERNEL_FILES.contains(&path.as_str()) {
                continue;
            }
            evidence.calls += sig.calls;
            evidence
                .detail
                .push(format!("{path} through {syscall}: {} calls.", sig.calls));
            if let Some(first) = &sig.first {
                executables.push(first.executable);
                evidence.first.get_or_insert_with(|| usage.first_use(first));
            }
        }
    }
    if evidence.calls == 0 {
        return None;
    }
    evidence.executables = usage.sorted_paths(executables);
    let reported = db.gvisor_kernel();
    let release = db.release();
    let mut shown_by = vec!["uname(2)", "/proc/version"];
    let has = |path: &str| db.proc_paths().iter().any(|p| p.path == path);
    if has("/proc/sys/kernel/osrelease") {
        shown_by.push("/proc/sys/kernel/osrelease");
    }
    let shown_by = match shown_by.split_last() {
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    };
    let mut effect = format!(
        "Under gVisor, {shown_by} report gVisor's own kernel identity, not the node's: {} {} ({}). \
         Version checks see that kernel: glibc skips shared libraries whose ABI note asks for \
         a newer one, and programs that pick features by kernel version take the paths they \
         keep for it.",
        reported.sysname,
        reported.release,
        reported.version
    );
    effect.push_str(&other_kernels(db, reported));
    Some(Finding {
        runtime: Runtime::Gvisor,
        severity: Severity::Info,
        category: Category::Runtime,
        title: format!(
            "The workload reads the kernel's identity: gVisor {release} reports {} {}",
            reported.sysname, reported.release
        ),
        effect,
        evidence,
        remediations: Vec::new(),
        reference: DbReference {
            entry: "gvisor.kernel".to_owned(),
            revision: format!("google/gvisor@{release}"),
            paths: vec![reported.path.clone()],
        },
        observation: None,
    })
}

/// How the reported kernel differs in other releases: ` From release-X on, gVisor
/// reports Y.` for each later change, ` Before release-X, it reported Y.` for the one
/// before.
fn other_kernels(db: &Database, current: &GvisorKernel) -> String {
    let mut text = String::new();
    let kernels = db.gvisor_kernels();
    let Some(index) = kernels.iter().position(|k| k == current) else {
        return text;
    };
    let differs = |k: &&GvisorKernel| k.release != current.release;
    if let Some(later) = kernels[index + 1..].iter().find(differs) {
        if let Some(first) = later.range.first {
            text.push_str(&format!(
                " From {first} on, gVisor reports {}.",
                later.release
            ));
        }
    }
    if let Some(earlier) = kernels[..index].iter().rev().find(differs) {
        let since = kernels[..=index]
            .iter()
            .rev()
            .take_while(|k| k.release == current.release)
            .last()
            .and_then(|k| k.range.first);
        if let Some(since) = since {
            text.push_str(&format!(
                " Before {since}, it reported {}.",
                earlier.release
            ));
        }
    }
    text
}

/// A finding per assumed runsc flag this release does not register.
fn missing_flags(judge: &Judge<'_, '_>) -> Vec<Finding> {
    let db = judge.db;
    let release = db.release();
    judge
        .flags
        .iter()
        .filter(|flag| db.runsc_flag(&flag.name).is_none())
        .map(|flag| {
            let name = &flag.name;
            let spans: Vec<_> = db.runsc_flag_history(name).collect();
            let when = match (
                spans
                    .iter()
                    .filter_map(|s| s.range.first)
                    .find(|&f| f > release),
                spans
                    .iter()
                    .filter_map(|s| s.range.last)
                    .filter(|&l| l < release)
                    .max(),
            ) {
                (Some(first), _) => format!(" --{name} first appears in {first}."),
                (None, Some(last)) => format!(" {last} was the last release with --{name}."),
                (None, None) => format!(" No release the database knows has --{name}."),
            };
            Finding {
                runtime: Runtime::Gvisor,
                severity: Severity::Breaks,
                category: Category::Runtime,
                title: format!("runsc {release} has no --{name} flag"),
                effect: format!(
                    "runsc refuses to start with a flag it does not define, so a sandbox \
                     started with {flag} never runs the workload.{when}"
                ),
                evidence: Evidence {
                    detail: vec![format!("{flag} is among the runsc flags assumed set.")],
                    ..Evidence::default()
                },
                remediations: Vec::new(),
                reference: DbReference {
                    entry: format!("gvisor.runsc-flag.{name}"),
                    revision: format!("google/gvisor@{release}"),
                    paths: vec![FLAGS_PATH.to_owned()],
                },
                observation: None,
            }
        })
        .collect()
}
