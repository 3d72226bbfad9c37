//! `sandprof audit`: Kubernetes manifests → the hardening controls each pod lacks, and
//! what its spec will break or need configured under gVisor and Kata. The sandbox part
//! is an ordinary [`Report`] (findings and a verdict per runtime), so `sandprof report`'s
//! renderers and `--fail-on` gate serve it unchanged.
//!
//! It reads manifests through [`crate::k8s::yaml`] and [`crate::k8s::workload_kinds`],
//! the same reading `sandprof k8s workload` patches with, so both see the same objects.

pub mod controls;
pub mod sandbox;

use serde::Serialize;
use syscall_db::{Database, Runtime};

use crate::analysis::finding::{Report, REPORT_SCHEMA, REPORT_SCHEMA_VERSION};
use crate::analysis::verdict;
use crate::profile::DatabaseStamp;
use crate::profile::ToolStamp;

use self::controls::ControlResult;
use crate::k8s::workload_kinds::Workload;
use crate::k8s::yaml::Document;

/// The hardening controls of one workload object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ObjectControls {
    /// Where the object is.
    pub file: String,
    /// 1-based document index.
    pub document: usize,
    /// `Kind/name`.
    pub object: String,
    /// Each control.
    pub results: Vec<ControlResult>,
}

/// Everything the audit found.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Audit {
    /// Hardening controls per object.
    pub hardening: Vec<ObjectControls>,
    /// What the sandboxes will do with the specs.
    pub report: Report,
}

impl Audit {
    /// Number of failed hardening controls.
    pub fn failed_controls(&self) -> usize {
        self.hardening
            .iter()
            .flat_map(|o| &o.results)
            .filter(|r| !r.passed)
            .count()
    }
}

/// Audits the documents of the given files (`files` names every input, in order, for
/// the report; `documents` are their parsed documents).
pub fn audit(
    db: &Database,
    files: &[String],
    documents: &[Document],
    runtimes: &[Runtime],
) -> anyhow::Result<Audit> {
    let mut hardening = Vec::new();
    let mut findings = Vec::new();
    let mut caveats = Vec::new();
    for doc in documents {
        let Some(workload) = Workload::from_document(doc)? else {
            caveats.push(format!(
                "{}: {} {} has no pod template; not audited",
                doc.origin,
                doc.kind()?,
                doc.name()
            ));
            continue;
        };
        let object = format!("{}/{}", workload.kind(), doc.name());
        let Some(spec) = workload.pod_spec() else {
            caveats.push(format!(
                "{}: {object} has no pod spec; not audited",
                doc.origin
            ));
            continue;
        };
        hardening.push(ObjectControls {
            file: doc.origin.file.clone(),
            document: doc.origin.document,
            object: object.clone(),
            results: controls::check(spec),
        });
        findings.extend(sandbox::findings(db, spec, &doc.origin, &object, runtimes));
    }
    verdict::sort_findings(&mut findings);
    let verdicts = if hardening.is_empty() {
        // An empty manifest, or one of ConfigMaps and Services: no pod spec was judged,
        // which must not read as "compatible".
        let why = format!(
            "{} manifest document{} read, none a workload with a pod spec",
            documents.len(),
            if documents.len() == 1 { "" } else { "s" }
        );
        runtimes
            .iter()
            .map(|&runtime| verdict::no_evidence(runtime, &why))
            .collect()
    } else {
        verdict::verdicts(runtimes, &findings)
    };
    let report = Report {
        schema: REPORT_SCHEMA.to_owned(),
        schema_version: REPORT_SCHEMA_VERSION,
        tool: ToolStamp::current(),
        database: DatabaseStamp::of(db),
        gvisor_release: None,
        inputs: files.to_vec(),
        captures: Vec::new(),
        assumed_runsc_flags: Vec::new(),
        verdicts,
        findings,
        caveats,
    };
    Ok(Audit { hardening, report })
}
