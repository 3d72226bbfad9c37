//! The recommendation as data: the JSON schema `sandprof.recommendation` (documented in
//! `docs/kubernetes.md`), which the table and Markdown renderers lay out. Field and
//! variant names are part of the schema; bump [`RECOMMENDATION_SCHEMA_VERSION`] on any
//! change an older reader would misread.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::profile::ToolStamp;

/// Value of [`Recommendation::schema`].
pub const RECOMMENDATION_SCHEMA: &str = "sandprof.recommendation";
/// Current schema version.
pub const RECOMMENDATION_SCHEMA_VERSION: u32 = 1;

/// What the sandbox must stand against.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Threat {
    /// Code nobody vetted runs in the pod (user uploads, plugins, AI-generated code).
    UntrustedCode,
    /// Pods of different tenants share nodes.
    MultiTenant,
    /// CI jobs: short-lived, arbitrary build steps, often containers inside containers.
    CiRunner,
    /// A compliance regime that asks for a demonstrable isolation boundary.
    Regulatory,
}

/// What the nodes offer for virtualization.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Nodes {
    /// Physical machines with VT-x/AMD-V and an IOMMU.
    BareMetal,
    /// Cloud VMs that expose nested virtualization (`/dev/kvm` inside the node).
    NestedVirt,
    /// VMs without nested virtualization: no `/dev/kvm`.
    NoVirt,
}

/// A runtime the recommendation chooses between.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Choice {
    /// gVisor (runsc).
    Gvisor,
    /// Kata Containers.
    Kata,
    /// runc with the hardening controls `sandprof audit` checks.
    HardenedRunc,
}

impl Choice {
    /// Every choice, in the order they are shown.
    pub const ALL: [Choice; 3] = [Choice::Gvisor, Choice::Kata, Choice::HardenedRunc];

    /// Name as written in the schema.
    pub const fn as_str(self) -> &'static str {
        match self {
            Choice::Gvisor => "gvisor",
            Choice::Kata => "kata",
            Choice::HardenedRunc => "hardened-runc",
        }
    }

    /// Name for people.
    pub const fn label(self) -> &'static str {
        match self {
            Choice::Gvisor => "gVisor",
            Choice::Kata => "Kata Containers",
            Choice::HardenedRunc => "hardened runc",
        }
    }
}

impl fmt::Display for Choice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The whole answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recommendation {
    /// Always [`RECOMMENDATION_SCHEMA`].
    pub schema: String,
    /// [`RECOMMENDATION_SCHEMA_VERSION`] of the writer.
    pub schema_version: u32,
    /// The tool that wrote it.
    pub tool: ToolStamp,
    /// Threat model asked for.
    pub threat: Threat,
    /// Nodes asked for.
    pub nodes: Nodes,
    /// Why a GPU is assumed (`--gpu`, or the manifest that requests one); absent without.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu: Option<String>,
    /// Files the workload evidence came from, as given.
    pub evidence: Vec<String>,
    /// One assessment per choice, in [`Choice::ALL`] order.
    pub options: Vec<Assessment>,
    /// The decision.
    pub decision: Decision,
    /// Risks the chosen option leaves, with compensating controls.
    pub residual_risks: Vec<ResidualRisk>,
    /// How to roll the choice out and prove it.
    pub rollout: Vec<RolloutStep>,
    /// What limits the evidence.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub caveats: Vec<String>,
}

/// One option, judged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    /// The option.
    pub choice: Choice,
    /// RuntimeClass the pods would name (`gvisor`, `kata-clh`…); absent for runc.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime_class: Option<String>,
    /// What it protects against.
    pub protects_against: Vec<String>,
    /// What an escape has to get through.
    pub escape_surface: String,
    /// Costs, each with its basis and source.
    pub cost: Vec<CostItem>,
    /// How this workload fares under it.
    pub compatibility: Compatibility,
    /// What a node needs to run it.
    pub node_requirements: Vec<String>,
    /// Rules that rule it out; empty when it is viable.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub excluded: Vec<Exclusion>,
    /// Points for and against it.
    pub factors: Vec<Factor>,
    /// Sum of the factors' points.
    pub score: i32,
    /// Risks it would leave.
    pub residual_risks: Vec<ResidualRisk>,
}

impl Assessment {
    /// Whether no rule rules it out.
    pub fn viable(&self) -> bool {
        self.excluded.is_empty()
    }
}

/// Where a cost figure comes from.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CostBasis {
    /// Published upstream (the source names the file and revision).
    Published,
    /// Our estimate, to be replaced by a measurement.
    Estimate,
    /// No figure at the revision read; the value says how to measure it.
    Unmeasured,
    /// The reference everything else is compared with.
    Baseline,
    /// Measured on the node by `sandprof bench` (the source names when, the runsc
    /// release and the platform).
    Measured,
}

/// One cost.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostItem {
    /// What costs (`memory per pod`, `start-up`…).
    pub what: String,
    /// How much.
    pub value: String,
    /// How the figure was obtained.
    pub basis: CostBasis,
    /// Upstream revision and file, or who estimated it.
    pub source: String,
}

/// Compatibility of this workload with an option.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CompatStatus {
    /// Nothing to change.
    Compatible,
    /// Works once the listed configuration is applied.
    NeedsConfiguration,
    /// Something in the evidence breaks under it.
    LikelyToBreak,
    /// No evidence about the workload.
    Unknown,
}

/// How the workload fares under one option, from the evidence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Compatibility {
    /// Overall.
    pub status: CompatStatus,
    /// What the status rests on (file and verdict).
    pub basis: Vec<String>,
    /// Configuration to apply (runsc flags, annotations, pod-spec changes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub configuration: Vec<String>,
    /// What breaks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blockers: Vec<String>,
}

/// A rule that rules an option out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exclusion {
    /// Stable rule id (see `docs/kubernetes.md`).
    pub rule: String,
    /// Why, with the evidence.
    pub reason: String,
}

/// Points a rule gives or takes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Factor {
    /// Stable rule id (see `docs/kubernetes.md`).
    pub rule: String,
    /// Points, positive or negative.
    pub points: i32,
    /// Why.
    pub reason: String,
}

/// The choice and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// The option chosen.
    pub choice: Choice,
    /// RuntimeClass the pods will name; absent for runc.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime_class: Option<String>,
    /// False when no viable option meets the threat model and the choice is a stopgap.
    pub meets_threat_model: bool,
    /// Why, most decisive first.
    pub reasons: Vec<String>,
    /// The next-best viable option, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runner_up: Option<Choice>,
}

/// A risk the option leaves, and what compensates for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResidualRisk {
    /// Stable id, e.g. `host-kernel`.
    pub id: String,
    /// The risk, for this option.
    pub risk: String,
    /// Compensating controls.
    pub controls: Vec<String>,
}

/// One step of the rollout.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutStep {
    /// Short title.
    pub title: String,
    /// Commands to run, in order.
    pub commands: Vec<String>,
    /// What must hold before moving on.
    pub pass_when: String,
}
