//! Kubernetes wiring: from the evidence about a workload (a report, its manifests, the
//! node's facts) to the configuration that moves it into a sandbox. The stages that
//! judge rather than write — [`crate::audit`], [`crate::recommend`] and
//! [`crate::verify`] — are siblings of this one and build on its manifest reading and
//! sandbox names; nothing here depends on them.
//!
//! - [`sandbox`]: the runtimes and the names each goes by on a node and in a cluster;
//! - [`evidence`]: what a report says each runtime needs;
//! - [`containerd`], [`crio`], [`runsc_toml`], [`node`]: enabling the handler on a node;
//! - [`runtimeclass`], [`pods`]: the cluster objects;
//! - [`workload_kinds`]: the workload objects sandprof reads (Pod, Deployment, …, CronJob);
//! - [`sandboxed_workload`]: a new sandboxed Deployment, or the user's manifests patched;
//! - [`policy`], [`policy_kyverno`]: a namespace's default sandbox, as built-in admission
//!   policies or as a Kyverno ClusterPolicy;
//! - [`yaml`]: reading and writing manifests, checked against the real API types;
//! - [`sources`]: the upstream revisions every Kubernetes and node fact was read at.
// The API types every manifest is built from and checked against, for callers that
// read sandprof's output back.
pub use k8s_openapi;

pub mod containerd;
pub mod crio;
pub mod evidence;
pub mod node;
pub mod pods;
pub mod policy;
pub mod policy_kyverno;
pub mod runsc_toml;
pub mod runtimeclass;
pub mod sandbox;
pub mod sandboxed_workload;
pub mod sources;
pub mod workload_kinds;
pub mod yaml;
