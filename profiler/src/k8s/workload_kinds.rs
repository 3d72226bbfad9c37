//! The workload kinds sandprof reads and patches (Pod, Deployment, ReplicaSet,
//! StatefulSet, DaemonSet, Job, CronJob), each parsed into its Kubernetes API type, with
//! access to the pod template they all carry.

use anyhow::bail;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{Pod, PodSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;

use super::yaml::Document;

/// Kinds that have a pod template, as named in error messages.
pub const WORKLOAD_KINDS: &str =
    "Pod, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob";

/// Built-in kinds without a pod template: passed over, not an error.
const OTHER_KNOWN_KINDS: &[&str] = &[
    "ClusterRole",
    "ClusterRoleBinding",
    "ConfigMap",
    "EndpointSlice",
    "Endpoints",
    "HorizontalPodAutoscaler",
    "Ingress",
    "IngressClass",
    "LimitRange",
    "MutatingAdmissionPolicy",
    "MutatingAdmissionPolicyBinding",
    "Namespace",
    "NetworkPolicy",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "PodDisruptionBudget",
    "PriorityClass",
    "ResourceQuota",
    "Role",
    "RoleBinding",
    "RuntimeClass",
    "Secret",
    "Service",
    "ServiceAccount",
    "StorageClass",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
];

/// A workload object. Boxed variants would only move the size to the heap: these are
/// read one at a time from files.
#[expect(
    clippy::large_enum_variant,
    reason = "one value per manifest document, never stored in bulk"
)]
#[derive(Clone, Debug, PartialEq)]
pub enum Workload {
    /// A bare pod.
    Pod(Pod),
    /// apps/v1 Deployment.
    Deployment(Deployment),
    /// apps/v1 ReplicaSet.
    ReplicaSet(ReplicaSet),
    /// apps/v1 StatefulSet.
    StatefulSet(StatefulSet),
    /// apps/v1 DaemonSet.
    DaemonSet(DaemonSet),
    /// batch/v1 Job.
    Job(Job),
    /// batch/v1 CronJob.
    CronJob(CronJob),
}

impl Workload {
    /// Reads a document. `Ok(None)` for a built-in kind without a pod template; an error
    /// for an unknown kind or an object that is not valid for its type.
    pub fn from_document(doc: &Document) -> anyhow::Result<Option<Workload>> {
        let kind = doc.kind()?;
        let workload = match kind {
            "Pod" => Workload::Pod(doc.typed()?),
            "Deployment" => Workload::Deployment(doc.typed()?),
            "ReplicaSet" => Workload::ReplicaSet(doc.typed()?),
            "StatefulSet" => Workload::StatefulSet(doc.typed()?),
            "DaemonSet" => Workload::DaemonSet(doc.typed()?),
            "Job" => Workload::Job(doc.typed()?),
            "CronJob" => Workload::CronJob(doc.typed()?),
            other if OTHER_KNOWN_KINDS.contains(&other) => return Ok(None),
            other => bail!(
                "{}: unknown kind `{other}` (sandprof reads {WORKLOAD_KINDS}, and passes over \
                 built-in kinds without pods)",
                doc.origin
            ),
        };
        Ok(Some(workload))
    }

    /// The kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Workload::Pod(_) => "Pod",
            Workload::Deployment(_) => "Deployment",
            Workload::ReplicaSet(_) => "ReplicaSet",
            Workload::StatefulSet(_) => "StatefulSet",
            Workload::DaemonSet(_) => "DaemonSet",
            Workload::Job(_) => "Job",
            Workload::CronJob(_) => "CronJob",
        }
    }

    /// The object's own metadata.
    pub fn metadata(&self) -> &ObjectMeta {
        match self {
            Workload::Pod(o) => &o.metadata,
            Workload::Deployment(o) => &o.metadata,
            Workload::ReplicaSet(o) => &o.metadata,
            Workload::StatefulSet(o) => &o.metadata,
            Workload::DaemonSet(o) => &o.metadata,
            Workload::Job(o) => &o.metadata,
            Workload::CronJob(o) => &o.metadata,
        }
    }

    /// The pod spec (of the pod, or of the pod template).
    pub fn pod_spec(&self) -> Option<&PodSpec> {
        match self {
            Workload::Pod(o) => o.spec.as_ref(),
            Workload::Deployment(o) => o.spec.template.spec.as_ref(),
            Workload::ReplicaSet(o) => o.spec.template.as_ref()?.spec.as_ref(),
            Workload::StatefulSet(o) => o.spec.template.spec.as_ref(),
            Workload::DaemonSet(o) => o.spec.template.spec.as_ref(),
            Workload::Job(o) => o.spec.as_ref()?.template.spec.as_ref(),
            Workload::CronJob(o) => o.spec.job_template.spec.as_ref()?.template.spec.as_ref(),
        }
    }

    /// The pod spec, mutably.
    pub fn pod_spec_mut(&mut self) -> Option<&mut PodSpec> {
        match self {
            Workload::Pod(o) => o.spec.as_mut(),
            Workload::Deployment(o) => o.spec.template.spec.as_mut(),
            Workload::ReplicaSet(o) => o.spec.template.as_mut()?.spec.as_mut(),
            Workload::StatefulSet(o) => o.spec.template.spec.as_mut(),
            Workload::DaemonSet(o) => o.spec.template.spec.as_mut(),
            Workload::Job(o) => o.spec.as_mut()?.template.spec.as_mut(),
            Workload::CronJob(o) => o.spec.job_template.spec.as_mut()?.template.spec.as_mut(),
        }
    }

    /// Serializes the object.
    pub fn to_value(&self) -> anyhow::Result<Value> {
        let value = match self {
            Workload::Pod(o) => serde_json::to_value(o),
            Workload::Deployment(o) => serde_json::to_value(o),
            Workload::ReplicaSet(o) => serde_json::to_value(o),
            Workload::StatefulSet(o) => serde_json::to_value(o),
            Workload::DaemonSet(o) => serde_json::to_value(o),
            Workload::Job(o) => serde_json::to_value(o),
            Workload::CronJob(o) => serde_json::to_value(o),
        };
        Ok(value?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::k8s::yaml::parse_documents;

    #[test]
    fn cronjob_reaches_its_pod_spec() {
        let text = "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec:\n  \
                    schedule: '* * * * *'\n  jobTemplate:\n    spec:\n      template:\n        \
                    spec:\n          containers: [{name: a, image: busybox}]\n";
        let doc = &parse_documents("c.yaml", text).unwrap()[0];
        let w = Workload::from_document(doc).unwrap().unwrap();
        assert_eq!(w.pod_spec().unwrap().containers[0].name, "a");
    }

    #[test]
    fn known_and_unknown_kinds() {
        let docs = parse_documents(
            "m.yaml",
            "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n---\n\
             apiVersion: apps/v1\nkind: Deploymnet\nmetadata: {name: d}\n",
        )
        .unwrap();
        assert_eq!(Workload::from_document(&docs[0]).unwrap(), None);
        assert_eq!(
            Workload::from_document(&docs[1]).unwrap_err().to_string(),
            "m.yaml, document 2: unknown kind `Deploymnet` (sandprof reads Pod, Deployment, \
             ReplicaSet, StatefulSet, DaemonSet, Job, CronJob, and passes over built-in kinds \
             without pods)"
        );
    }
}
