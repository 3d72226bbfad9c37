//! Sandboxed workloads: a new hardened Deployment, or the user's own manifests patched
//! to run in the sandbox, each patched object listing what changed.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{Container, PodSpec, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde_json::Value;

use super::pods;
use super::sandbox::Sandbox;
use super::workload_kinds::Workload;
use super::yaml::{Document, Origin};

/// What to generate.
#[derive(Clone, Debug)]
pub struct NewDeployment<'a> {
    /// Name of the Deployment and its `app` label.
    pub name: &'a str,
    /// Namespace, if any.
    pub namespace: Option<&'a str>,
    /// Container image.
    pub image: &'a str,
    /// Replicas.
    pub replicas: i32,
}

/// A hardened Deployment in the sandbox (or hardened runc when `sandbox` is `None`).
pub fn deployment(req: &NewDeployment<'_>, sandbox: Option<Sandbox>) -> Deployment {
    let labels = BTreeMap::from([("app".to_owned(), req.name.to_owned())]);
    let mut spec = PodSpec {
        automount_service_account_token: Some(false),
        containers: vec![Container {
            name: req.name.to_owned(),
            image: Some(req.image.to_owned()),
            ..Container::default()
        }],
        ..PodSpec::default()
    };
    let mut changes = Vec::new();
    if let Some(sandbox) = sandbox {
        pods::place_in_sandbox(&mut spec, sandbox, &mut changes);
    }
    pods::harden(&mut spec, sandbox, &mut changes);
    Deployment {
        metadata: ObjectMeta {
            name: Some(req.name.to_owned()),
            namespace: req.namespace.map(str::to_owned),
            labels: Some(labels.clone()),
            ..ObjectMeta::default()
        },
        spec: DeploymentSpec {
            replicas: Some(req.replicas),
            selector: LabelSelector {
                match_labels: Some(labels.clone()),
                ..LabelSelector::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels),
                    ..ObjectMeta::default()
                }),
                spec: Some(spec),
            },
            ..DeploymentSpec::default()
        },
        status: None,
    }
}

/// One document of a patched manifest.
#[derive(Clone, Debug, PartialEq)]
pub struct Patched {
    /// Where it came from.
    pub origin: Origin,
    /// `Kind/name`.
    pub object: String,
    /// The document, patched or as it was.
    pub value: Value,
    /// What changed; empty for documents without a pod template.
    pub changes: Vec<String>,
}

/// Patches every workload in `documents` into the sandbox and hardens it; other
/// documents pass through unchanged.
pub fn patch(
    documents: &[Document],
    sandbox: Option<Sandbox>,
    harden: bool,
) -> anyhow::Result<Vec<Patched>> {
    let mut out = Vec::with_capacity(documents.len());
    for doc in documents {
        let object = format!("{}/{}", doc.kind()?, doc.name());
        let Some(mut workload) = Workload::from_document(doc)? else {
            out.push(Patched {
                origin: doc.origin.clone(),
                object,
                value: doc.value.clone(),
                changes: Vec::new(),
            });
            continue;
        };
        let mut changes = Vec::new();
        if let Some(spec) = workload.pod_spec_mut() {
            if let Some(sandbox) = sandbox {
                pods::place_in_sandbox(spec, sandbox, &mut changes);
            }
            if harden {
                pods::harden(spec, sandbox, &mut changes);
            }
        }
        out.push(Patched {
            origin: doc.origin.clone(),
            object,
            value: workload.to_value()?,
            changes,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::k8s::yaml::parse_documents;

    #[test]
    fn patch_touches_workloads_only() {
        let docs = parse_documents(
            "app.yaml",
            "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 80}]}\n\
             ---\napiVersion: v1\nkind: Pod\nmetadata: {name: web}\n\
             spec: {containers: [{name: web, image: nginx}]}\n",
        )
        .unwrap();
        let patched = patch(&docs, Some(Sandbox::Gvisor), false).unwrap();
        assert_eq!(patched[0].value, docs[0].value);
        assert_eq!(
            patched[1].changes,
            vec![
                "runtimeClassName: gvisor",
                "toleration sandbox.sandprof.dev/runtime=gvisor:NoSchedule"
            ]
        );
        assert_eq!(patched[1].value["spec"]["runtimeClassName"], "gvisor");
    }
}
