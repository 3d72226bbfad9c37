//! `sandprof recommend`: gVisor, Kata Containers or hardened runc for a threat model, the
//! nodes at hand and the evidence about the workload, with the reasons, the risks the
//! choice leaves and how to roll it out. It consumes the other stages' results (reports
//! from [`crate::analysis`], audits from [`crate::audit`], sandbox names from
//! [`crate::k8s`]) and produces nothing they read.
//!
//! - [`model`]: the result (JSON schema `sandprof.recommendation`);
//! - [`workload`]: the evidence (reports, profiles, manifests) as facts;
//! - [`facts`]: what each option is, costs and needs, with upstream sources;
//! - [`decide`]: exclusion and scoring rules, and the decision;
//! - [`risks`]: residual risks and compensating controls;
//! - [`rollout`]: the rollout and validation plan;
//! - [`render`]: the table and Markdown layouts.

pub mod decide;
pub mod facts;
pub mod model;
pub mod render;
pub mod risks;
pub mod rollout;
pub mod workload;

use self::decide::Question;
use self::model::{
    Assessment, Choice, Nodes, Recommendation, Threat, RECOMMENDATION_SCHEMA,
    RECOMMENDATION_SCHEMA_VERSION,
};
use self::workload::WorkloadFacts;
use crate::profile::ToolStamp;

/// What the user asks for.
#[derive(Clone, Debug)]
pub struct Request {
    /// Threat model.
    pub threat: Threat,
    /// Nodes.
    pub nodes: Nodes,
    /// `--gpu` was given.
    pub gpu: bool,
}

/// Replaces the published gVisor cost figures of `recommendation` with those `bench`
/// measured on the node (each says so in its basis and source).
pub fn use_measurement(recommendation: &mut Recommendation, bench: &crate::bench::BenchResult) {
    for option in &mut recommendation.options {
        if option.choice == Choice::Gvisor {
            option.cost = facts::measured_gvisor_cost(bench);
        }
    }
}

/// Judges the options and decides.
pub fn recommend(request: &Request, facts: &WorkloadFacts) -> Recommendation {
    let gpu = if request.gpu {
        Some("--gpu".to_owned())
    } else if facts.gpu_requests.is_empty() {
        None
    } else {
        Some(facts.gpu_requests.join("; "))
    };
    let question = Question {
        threat: request.threat,
        nodes: request.nodes,
        gpu: gpu.is_some(),
        facts,
    };
    let judged = decide::judge(&question);
    let decision = decide::decide(&question, &judged);
    let options: Vec<Assessment> = judged
        .into_iter()
        .map(|j| {
            let score = j.score();
            Assessment {
                choice: j.choice,
                runtime_class: facts::sandbox(j.choice, question.gpu)
                    .map(|s| s.runtime_class().to_owned()),
                protects_against: facts::protects_against(j.choice),
                escape_surface: facts::escape_surface(j.choice),
                cost: facts::cost(j.choice, question.gpu),
                compatibility: j.compatibility,
                node_requirements: facts::node_requirements(j.choice, request.nodes, question.gpu),
                excluded: j.excluded,
                factors: j.factors,
                score,
                residual_risks: risks::residual_risks(j.choice, question.gpu, facts),
            }
        })
        .collect();
    let residual_risks = risks::residual_risks(decision.choice, question.gpu, facts);
    let rollout = rollout::plan(
        facts::sandbox(decision.choice, question.gpu),
        question.gpu,
        facts,
    );

    let mut caveats = Vec::new();
    if facts.reports.is_empty() {
        caveats.push(
            "no evidence about the workload: compatibility is unknown and the decision rests \
             on the threat model and the nodes alone; profile it (`sandprof profile`) and \
             pass --profile"
                .to_owned(),
        );
    }
    for named in &facts.reports {
        for caveat in &named.report.caveats {
            // Caveats about one input already name it; the others get its name.
            if caveat.starts_with(named.source.as_str()) {
                caveats.push(caveat.clone());
            } else {
                caveats.push(format!("{}: {caveat}", named.source));
            }
        }
    }

    Recommendation {
        schema: RECOMMENDATION_SCHEMA.to_owned(),
        schema_version: RECOMMENDATION_SCHEMA_VERSION,
        tool: ToolStamp::current(),
        threat: request.threat,
        nodes: request.nodes,
        gpu,
        evidence: facts.files(),
        options,
        decision,
        residual_risks,
        rollout,
        caveats,
    }
}
