//! Findings for Kata Containers. Kata runs a real Linux guest kernel, so syscalls work as
//! under runc; what differs is what reaches past the guest: the database's Kata argument
//! rules (e.g. opening /dev/kvm) judge the captured arguments, and its Kata facts apply
//! when the profile uses one of the syscalls they name (e.g. loading kernel modules).

use std::collections::BTreeSet;

use syscall_db::{ErrnoCounts, FactSeverity, KataFact, Runtime};

use super::dbref;
use super::finding::{Category, Evidence, Finding, Severity};
use super::rules::Judge;

/// Appends Kata's findings to `out`.
pub fn findings(judge: &Judge<'_, '_>, out: &mut Vec<Finding>) {
    // Syscalls a Kata rule already judged need no second finding from a fact.
    let mut judged: BTreeSet<&str> = BTreeSet::new();
    for used in judge.usage.native.values() {
        let found = judge.judge(Runtime::Kata, used).findings;
        if !found.is_empty() {
            judged.insert(used.name);
        }
        out.extend(found);
    }
    for fact in judge.db.kata_facts() {
        if let Some(finding) = fact_finding(judge, fact, &judged) {
            out.push(finding);
        }
    }
}

/// A finding for `fact` when the profile uses one of its syscalls that no rule judged,
/// as severe as the database grades the fact.
fn fact_finding(
    judge: &Judge<'_, '_>,
    fact: &KataFact,
    judged: &BTreeSet<&str>,
) -> Option<Finding> {
    let usage = judge.usage;
    let used: Vec<_> = fact
        .syscalls
        .iter()
        .filter(|name| !judged.contains(name.as_str()))
        .filter_map(|name| usage.native.get(name.as_str()))
        .collect();
    let first = used.first()?;
    let mut calls = 0;
    let mut errors = ErrnoCounts::new();
    let mut executables = Vec::new();
    for syscall in &used {
        calls += syscall.calls;
        for (errno, count) in &syscall.errors {
            *errors.entry(errno.clone()).or_default() += count;
        }
        executables.extend(syscall.executables.iter().copied());
    }
    let names: Vec<&str> = used.iter().map(|u| u.name).collect();
    let mut detail = Vec::new();
    if names.len() > 1 {
        detail.push(format!("Syscalls: {}.", names.join(", ")));
    }
    Some(Finding {
        runtime: Runtime::Kata,
        severity: severity(fact.severity),
        category: fact_category(&fact.topic),
        title: format!("{} ({})", fact.topic, names.join(", ")),
        effect: format!("{} {}", fact.effect, fact.reason),
        evidence: Evidence {
            syscall: Some(first.name.to_owned()),
            calls,
            errors,
            first: first
                .executables
                .first()
                .map(|&exe| usage.executable_occurrence(exe)),
            executables: usage.sorted_paths(executables),
            detail,
            ..Evidence::default()
        },
        remediations: dbref::remediation_refs(judge.db, &fact.remediations),
        reference: dbref::kata_reference(judge.db, fact),
        observation: None,
    })
}

/// A fact's grade as a finding's severity.
fn severity(grade: FactSeverity) -> Severity {
    match grade {
        FactSeverity::Breaks => Severity::Breaks,
        FactSeverity::NeedsConfig => Severity::NeedsConfig,
        FactSeverity::Degraded => Severity::Degraded,
        FactSeverity::Info => Severity::Info,
    }
}

fn fact_category(topic: &str) -> Category {
    match topic {
        "kernel-modules" | "devices" | "kvm" | "nested-virt" => Category::Device,
        "perf" => Category::Perf,
        "host-network" | "host-pid" | "host-ipc" | "host-path" | "sub-path" | "privileged" => {
            Category::PodSpec
        }
        _ => Category::Other,
    }
}
