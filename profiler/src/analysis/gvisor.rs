//! Findings for gVisor. Per native syscall the profile uses, gVisor's own table decides
//! first: unimplemented calls and calls refused without a capability break the workload
//! (unless they already failed the same way under runc), fully implemented ones are
//! fine, and partly implemented ones are judged on their captured arguments by the
//! argument rules. Path rules (/proc, /sys, /dev) apply whatever the syscall's status.
//! Any 32-bit code breaks, as the database's ABI fact says: gVisor runs no 32-bit code.
//! All of it is judged at the release the database is viewed at; a call the release
//! refuses says from which later release gVisor implements it.

use syscall_db::{GvisorStatus, GvisorSyscall, Runtime};

use super::dbref;
use super::finding::{Category, Evidence, Finding, Severity};
use super::outcome;
use super::rules::Judge;
use super::usage::SyscallUse;
use crate::profile::{Abi, BinaryFormat};

/// Appends gVisor's findings to `out`, and the names of syscalls the database does not
/// know to `unknown`.
pub fn findings<'a, 'p>(
    judge: &Judge<'a, 'p>,
    out: &mut Vec<Finding>,
    unknown: &mut Vec<&'a SyscallUse<'p>>,
) {
    for used in judge.usage.native.values() {
        let Some(entry) = judge.db.gvisor(judge.arch, used.name) else {
            unknown.push(used);
            continue;
        };
        match entry.status {
            GvisorStatus::Unimplemented | GvisorStatus::NeedsCapability => {
                out.push(refused(judge, entry, used));
            }
            GvisorStatus::Partial => {
                let judged = judge.judge(Runtime::Gvisor, used);
                out.extend(judged.findings);
                if judged.uncaptured || !judged.unmatched.is_empty() {
                    out.push(partly_known(judge, entry, used, &judged.unmatched));
                }
            }
            GvisorStatus::Full => out.extend(judge.judge(Runtime::Gvisor, used).findings),
        }
    }
    binaries32(judge, out);
    super::gvisor_release::findings(judge, out);
}

/// An unimplemented syscall, or one refused without a capability.
fn refused(judge: &Judge<'_, '_>, entry: &GvisorSyscall, used: &SyscallUse<'_>) -> Finding {
    let errno = entry.errno.as_deref().unwrap_or("ENOSYS");
    let name = used.name;
    let (mut title, mut effect) = match (entry.status, entry.capability.as_deref()) {
        (GvisorStatus::NeedsCapability, Some(cap)) => (
            format!("{name} is refused with {errno} without {cap}"),
            format!(
                "gVisor returns {errno} to callers without {cap}, and implements {name} no \
                 further for callers that hold it."
            ),
        ),
        _ => (
            format!("{name} is not implemented ({errno})"),
            format!("gVisor does not implement {name}: every call returns {errno}."),
        ),
    };
    if entry.event {
        effect.push_str(" runsc records an unsupported-syscall event for it.");
    }
    if let Some(note) = &entry.note {
        effect.push(' ');
        effect.push_str(note);
    }
    if !entry.issues.is_empty() {
        effect.push_str(&format!(" Tracked upstream: {}.", entry.issues.join(", ")));
    }
    if let Some(later) = implemented_later(judge, name) {
        effect.push_str(&later);
    }
    let severity = if outcome::already_failed(used.calls, &used.errors, errno) {
        title.push_str(", as it already was under runc");
        effect.push_str(&format!(
            " Every call already failed with {errno} under runc, so this is not a regression."
        ));
        Severity::Info
    } else {
        Severity::Breaks
    };
    let mut remediations = dbref::remediation_refs(judge.db, &["code.avoid-syscall".to_owned()]);
    remediations.extend(dbref::other_runtime_refs(judge.db, Runtime::Gvisor));
    Finding {
        runtime: Runtime::Gvisor,
        severity,
        category: syscall_category(name),
        title,
        effect,
        evidence: judge.usage.syscall_evidence(used),
        remediations,
        reference: dbref::gvisor_reference(judge.db, judge.arch, entry),
        observation: None,
    }
}

/// ` gVisor implements it from release-X on.` when a release after the one judged
/// implements `name` (fully or in part) and keeps it implemented.
fn implemented_later(judge: &Judge<'_, '_>, name: &str) -> Option<String> {
    let release = judge.db.release();
    let spans = judge.db.gvisor_history(judge.arch, name)?;
    let implemented = |status| matches!(status, GvisorStatus::Full | GvisorStatus::Partial);
    let newest = spans.last()?;
    if !implemented(newest.entry.status) {
        return None;
    }
    // The start of the run of implemented spans that reaches the newest release.
    let start = spans
        .iter()
        .rev()
        .take_while(|span| implemented(span.entry.status))
        .last()?;
    let first = start.range.first.filter(|&first| first > release)?;
    let part = match newest.entry.status {
        GvisorStatus::Full => "",
        _ => " in part",
    };
    Some(format!(" From {first} on, gVisor implements {name}{part}."))
}

/// A partly implemented syscall whose captured arguments no rule judges, or whose
/// arguments were not captured: it may work, and only a run under runsc can tell.
fn partly_known(
    judge: &Judge<'_, '_>,
    entry: &GvisorSyscall,
    used: &SyscallUse<'_>,
    unmatched: &[&crate::profile::ArgSignature],
) -> Finding {
    let name = used.name;
    let mut effect = format!("gVisor implements {name} only in part.");
    if let Some(note) = &entry.note {
        effect.push(' ');
        effect.push_str(note);
    }
    let mut evidence = judge.usage.syscall_evidence(used);
    let title = if let Some(first) = unmatched.first() {
        effect.push_str(
            " The database has no rule for the arguments these calls used, so whether they \
             work is unknown: test them under runsc.",
        );
        let mut errors = syscall_db::ErrnoCounts::new();
        for sig in unmatched {
            for (errno, count) in &sig.errors {
                *errors.entry(errno.clone()).or_default() += count;
            }
        }
        evidence.calls = unmatched.iter().map(|sig| sig.calls).sum();
        evidence.errors = errors;
        evidence.args = super::args::shown_args(judge.db, judge.arch, name, &first.fields, None);
        if let Some(first_use) = &first.first {
            evidence.first = Some(judge.usage.first_use(first_use));
        }
        evidence.executables = judge.usage.sorted_paths(
            unmatched
                .iter()
                .filter_map(|sig| sig.first.as_ref().map(|first| first.executable)),
        );
        if unmatched.len() > 1 {
            evidence.detail.push(format!(
                "{} distinct argument signatures are not covered; the first seen is shown.",
                unmatched.len()
            ));
        }
        format!("{name} is partly implemented; these arguments are not in the database")
    } else {
        effect.push_str(
            " The profile holds no arguments for it, so whether these calls work is unknown: \
             test them under runsc.",
        );
        format!("{name} is partly implemented; arguments not captured")
    };
    Finding {
        runtime: Runtime::Gvisor,
        severity: Severity::Degraded,
        category: syscall_category(name),
        title,
        effect,
        evidence,
        remediations: Vec::new(),
        reference: dbref::gvisor_reference(judge.db, judge.arch, entry),
        observation: None,
    }
}

/// One finding per 32-bit executable (a 32-bit ELF file, or compat-ABI calls), from the
/// database's fact about the 32-bit executables gVisor refuses; none when it has none.
fn binaries32(judge: &Judge<'_, '_>, out: &mut Vec<Finding>) {
    let usage = judge.usage;
    let executables = usage.binaries32();
    if executables.is_empty() {
        return;
    }
    let Some(fact) = judge.db.abi_fact(Runtime::Gvisor, 32) else {
        return;
    };
    let profile = usage.profile();
    for exe in executables {
        let path = usage.path(exe);
        let compat_calls: u64 = profile
            .syscalls
            .iter()
            .filter(|row| row.executable == exe && row.abi == Abi::Compat)
            .map(|row| row.calls)
            .sum();
        let format = profile
            .executables
            .iter()
            .find(|e| e.id == exe)
            .map(|e| match &e.format {
                BinaryFormat::Elf { bits, machine, .. } => format!("ELF {bits}-bit {machine}"),
                BinaryFormat::Script { interpreter } => format!("script for {interpreter}"),
                BinaryFormat::Unknown { reason } => format!("unknown ({reason})"),
            });
        let mut detail = Vec::new();
        if let Some(format) = format {
            detail.push(format!("Format: {format}."));
        }
        if compat_calls > 0 {
            detail.push(format!(
                "{compat_calls} calls through the 32-bit syscall ABI under runc."
            ));
        }
        out.push(Finding {
            runtime: Runtime::Gvisor,
            severity: Severity::Breaks,
            category: Category::Binary32,
            title: format!("32-bit executable {path} cannot run"),
            effect: fact.note.clone(),
            evidence: Evidence {
                calls: compat_calls,
                first: Some(usage.executable_occurrence(exe)),
                executables: vec![path],
                detail,
                ..Evidence::default()
            },
            remediations: dbref::remediation_refs(judge.db, &fact.remediations),
            reference: dbref::abi_reference(judge.db, fact),
            observation: None,
        });
    }
}

/// The category of a finding about a syscall as a whole: its family when it has one.
pub fn syscall_category(name: &str) -> Category {
    match name {
        "bpf" => Category::Bpf,
        "perf_event_open" => Category::Perf,
        "io_uring_setup" | "io_uring_enter" | "io_uring_register" => Category::IoUring,
        "add_key" | "request_key" | "keyctl" => Category::Keyctl,
        "seccomp" => Category::Seccomp,
        "ptrace" | "process_vm_readv" | "process_vm_writev" => Category::Ptrace,
        "mount" | "umount2" | "pivot_root" | "fsopen" | "fsmount" | "fsconfig" | "fspick"
        | "move_mount" | "open_tree" | "mount_setattr" => Category::Mount,
        "unshare" | "setns" => Category::Namespaces,
        "personality" => Category::Personality,
        "init_module" | "finit_module" | "delete_module" => Category::Device,
        _ => Category::Syscall,
    }
}
