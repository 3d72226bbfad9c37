//! What the recommendation knows about the workload: the verdicts of a report (given, or
//! computed from profiles), what its manifests break and lack in hardening (through
//! `sandprof audit`), whether it asks for a GPU, and whether it runs containers of its
//! own or traces processes. Every fact keeps the file it came from.

use std::collections::BTreeSet;

use syscall_db::Runtime;

use crate::analysis::finding::{Category, Report, Verdict};
use crate::audit::Audit;
use crate::k8s::evidence::WorkloadEvidence;
use crate::k8s::workload_kinds::Workload;
use crate::k8s::yaml::Document;
use crate::profile::SyscallProfile;

/// Syscalls a container engine or build sandbox makes: new namespaces and mounts.
const NESTED_CONTAINER_SYSCALLS: &[&str] = &[
    "unshare",
    "setns",
    "mount",
    "umount2",
    "pivot_root",
    "fsopen",
    "fsmount",
    "move_mount",
    "open_tree",
];

/// Everything known about the workload.
#[derive(Clone, Debug, Default)]
pub struct WorkloadFacts {
    /// Reports judging the workload, each with the file(s) it stands for: the workload's
    /// own (from `--report` or `--profile`) and the manifests' (from `--manifest`).
    pub reports: Vec<NamedReport>,
    /// Hardening controls the manifests lack, as `Kind/name: control (detail)`.
    pub missing_hardening: Vec<String>,
    /// Whether any manifest was audited (so an empty `missing_hardening` means
    /// "nothing missing", not "not checked").
    pub hardening_checked: bool,
    /// GPU requests found in the manifests, one line each.
    pub gpu_requests: Vec<String>,
    /// Evidence that the workload starts containers of its own.
    pub nested_containers: Vec<String>,
    /// Evidence that the workload uses ptrace.
    pub ptrace: Vec<String>,
    /// Report file given (`--report`).
    pub report_file: Option<String>,
    /// Profile files given (`--profile`).
    pub profile_files: Vec<String>,
    /// Manifest files given (`--manifest`).
    pub manifest_files: Vec<String>,
}

/// A report and what it was computed from.
#[derive(Clone, Debug)]
pub struct NamedReport {
    /// File(s), as given.
    pub source: String,
    /// The report.
    pub report: Report,
}

impl NamedReport {
    /// The report's verdict for `runtime`, if it judged it.
    pub fn verdict(&self, runtime: Runtime) -> Option<&Verdict> {
        self.report.verdicts.iter().find(|v| v.runtime == runtime)
    }
}

impl WorkloadFacts {
    /// Adds a report read from a file (`--report`).
    pub fn add_report(&mut self, evidence: WorkloadEvidence) {
        self.report_file = Some(evidence.file.clone());
        self.push_report(evidence);
    }

    fn push_report(&mut self, evidence: WorkloadEvidence) {
        self.add_findings_traits(&evidence.file, &evidence.report);
        self.reports.push(NamedReport {
            source: evidence.file,
            report: evidence.report,
        });
    }

    /// Adds profiles and the report judged from them (`--profile`).
    pub fn add_profiles(
        &mut self,
        profiles: &[(String, SyscallProfile)],
        judged: WorkloadEvidence,
    ) {
        for (file, profile) in profiles {
            let used: BTreeSet<&str> = profile.syscalls.iter().map(|s| s.name.as_str()).collect();
            let nested: Vec<&str> = NESTED_CONTAINER_SYSCALLS
                .iter()
                .copied()
                .filter(|s| used.contains(s))
                .collect();
            if !nested.is_empty() {
                self.nested_containers
                    .push(format!("{file}: calls {}", nested.join(", ")));
            }
            if used.contains("ptrace") {
                self.ptrace.push(format!("{file}: calls ptrace"));
            }
        }
        self.profile_files
            .extend(profiles.iter().map(|(file, _)| file.clone()));
        self.push_report(judged);
    }

    /// Adds the audit of manifests (`--manifest`) and the documents it was made from.
    pub fn add_audit(
        &mut self,
        files: &[String],
        documents: &[Document],
        audit: Audit,
    ) -> anyhow::Result<()> {
        self.hardening_checked = true;
        for object in &audit.hardening {
            for r in object.results.iter().filter(|r| !r.passed) {
                let container = r
                    .container
                    .as_deref()
                    .map(|c| format!(" container {c}"))
                    .unwrap_or_default();
                self.missing_hardening.push(format!(
                    "{}{container}: {} ({})",
                    object.object, r.control, r.detail
                ));
            }
        }
        for doc in documents {
            self.gpu_requests.extend(gpu_requests(doc)?);
        }
        let source = files.join(", ");
        self.add_findings_traits(&source, &audit.report);
        self.manifest_files.extend(files.iter().cloned());
        self.reports.push(NamedReport {
            source,
            report: audit.report,
        });
        Ok(())
    }

    /// Traits the findings show: a finding about ptrace, mounts or namespaces means the
    /// workload made those calls.
    fn add_findings_traits(&mut self, source: &str, report: &Report) {
        let titles = |wanted: &[Category]| -> Vec<&str> {
            let mut titles: Vec<&str> = report
                .findings
                .iter()
                .filter(|f| wanted.contains(&f.category))
                .map(|f| f.title.as_str())
                .collect();
            titles.sort_unstable();
            titles.dedup();
            titles
        };
        let nested = titles(&[Category::Mount, Category::Namespaces]);
        if !nested.is_empty() {
            self.nested_containers
                .push(format!("{source}: {}", nested.join("; ")));
        }
        let ptrace = titles(&[Category::Ptrace]);
        if !ptrace.is_empty() {
            self.ptrace.push(format!("{source}: {}", ptrace.join("; ")));
        }
    }

    /// Every file the facts come from, as given: report, profiles, manifests.
    pub fn files(&self) -> Vec<String> {
        self.report_file
            .iter()
            .chain(&self.profile_files)
            .chain(&self.manifest_files)
            .cloned()
            .collect()
    }
}

/// GPU resources the workload in `doc` requests or limits: the device-plugin names of
/// NVIDIA, AMD and Intel GPUs, and MIG slices (`nvidia.com/mig-…`).
fn gpu_requests(doc: &Document) -> anyhow::Result<Vec<String>> {
    let Some(workload) = Workload::from_document(doc)? else {
        return Ok(Vec::new());
    };
    let Some(spec) = workload.pod_spec() else {
        return Ok(Vec::new());
    };
    let object = format!("{}/{}", workload.kind(), doc.name());
    let mut found = BTreeSet::new();
    for c in spec
        .init_containers
        .iter()
        .flatten()
        .chain(&spec.containers)
    {
        let Some(resources) = &c.resources else {
            continue;
        };
        for key in resources
            .limits
            .iter()
            .chain(&resources.requests)
            .flat_map(|m| m.keys())
        {
            if is_gpu_resource(key) {
                found.insert(format!(
                    "{}: {object} container {} requests {key}",
                    doc.origin, c.name
                ));
            }
        }
    }
    Ok(found.into_iter().collect())
}

fn is_gpu_resource(name: &str) -> bool {
    name.ends_with("/gpu") || name.starts_with("nvidia.com/mig-") || name == "gpu.intel.com/i915"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpu_resources_are_recognised_by_name() {
        for name in [
            "nvidia.com/gpu",
            "amd.com/gpu",
            "nvidia.com/mig-1g.5gb",
            "gpu.intel.com/i915",
        ] {
            assert!(is_gpu_resource(name), "{name}");
        }
        for name in [
            "cpu",
            "hugepages-2Mi",
            "example.com/fpga",
            "smarter-devices/fuse",
        ] {
            assert!(!is_gpu_resource(name), "{name}");
        }
    }
}
