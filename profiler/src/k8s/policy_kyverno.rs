//! The per-namespace default sandbox for clusters that run Kyverno instead of (or before)
//! the built-in MutatingAdmissionPolicy: one `kyverno.io/v1` ClusterPolicy whose rules
//! put every new pod of the namespace in the sandbox and refuse any pod there that is not.
//!
//! Kyverno's types are not in `k8s-openapi`, so the subset sandprof writes is declared
//! here, every struct refusing fields it does not know, so a policy read back into them
//! proves it has exactly the structure written. Field names follow Kyverno's API at
//! kyverno/kyverno@0316272a80dfdbfc32716719619ada8f37fc5885 (`api/kyverno/v1`).
//!
//! As for the native policy, the mutation writes the overhead, node selector and
//! toleration along with `runtimeClassName`: Kyverno's webhook runs after the built-in
//! RuntimeClass admission plugin, which therefore never sees the name set here.
//! Tolerations are a list without a merge key, which a strategic merge would replace, so
//! they are appended with a JSON patch when the pod has some and set when it has none.

use std::collections::BTreeMap;

use k8s_openapi::api::node::v1::RuntimeClass;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::sandbox::NODE_KEY;

/// `apiVersion` of the policy.
pub const API_VERSION: &str = "kyverno.io/v1";
/// `kind` of the policy.
pub const KIND: &str = "ClusterPolicy";
/// Kyverno release that introduced the rule-level `validate.failureAction` used here.
pub const MIN_KYVERNO: &str = "1.13";
/// Annotation that stops Kyverno from copying Pod rules onto Deployments, Jobs and the
/// other pod controllers: the pods themselves are mutated when they are created, and the
/// controllers' templates stay as their owners (or GitOps tools) wrote them.
pub const AUTOGEN_ANNOTATION: &str = "pod-policies.kyverno.io/autogen-controllers";

/// A Kyverno ClusterPolicy (the subset sandprof writes).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClusterPolicy {
    /// Always [`API_VERSION`].
    pub api_version: String,
    /// Always [`KIND`].
    pub kind: String,
    /// Name, labels, annotations.
    pub metadata: ObjectMeta,
    /// The rules.
    pub spec: PolicySpec,
}

/// `spec` of a ClusterPolicy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicySpec {
    /// Apply the rules at admission.
    pub admission: bool,
    /// Scan existing resources too. Off: the rules read the admission request.
    pub background: bool,
    /// Rules, applied in order; each mutation sees the previous ones' result.
    pub rules: Vec<Rule>,
}

/// One rule: which resources, under which conditions, and what to do.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Rule {
    /// Rule name, unique in the policy.
    pub name: String,
    /// Resources the rule applies to.
    #[serde(rename = "match")]
    pub match_resources: MatchResources,
    /// Conditions on the request, all of which must hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preconditions: Option<Conditions>,
    /// A mutation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mutate: Option<Mutation>,
    /// A validation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validate: Option<Validation>,
}

/// `match`: any of the filters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MatchResources {
    /// Filters, one of which must match.
    pub any: Vec<ResourceFilter>,
}

/// One filter of `match.any`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceFilter {
    /// The resources.
    pub resources: ResourceDescription,
}

/// Kinds, namespaces and operations a filter matches.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceDescription {
    /// Kinds, e.g. `Pod`.
    pub kinds: Vec<String>,
    /// Namespaces.
    pub namespaces: Vec<String>,
    /// Admission operations, e.g. `CREATE`.
    pub operations: Vec<String>,
}

/// `preconditions`: all must hold.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Conditions {
    /// The conditions.
    pub all: Vec<Condition>,
}

/// One condition: a JMESPath `key`, an operator and a value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Condition {
    /// JMESPath expression over the request, in `{{ }}`.
    pub key: String,
    /// Kyverno operator (`Equals`, `AnyNotIn`, `GreaterThan`…).
    pub operator: String,
    /// Value compared with.
    pub value: Value,
}

/// A mutation: a strategic merge patch or RFC 6902 JSON patches.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Mutation {
    /// Strategic merge patch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch_strategic_merge: Option<Value>,
    /// JSON patches, as a YAML list in a string (Kyverno's format).
    #[serde(
        default,
        rename = "patchesJson6902",
        skip_serializing_if = "Option::is_none"
    )]
    pub patches_json6902: Option<String>,
}

/// A validation by pattern.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Validation {
    /// `Enforce` (refuse) or `Audit` (report).
    pub failure_action: String,
    /// Message shown when a resource is refused.
    pub message: String,
    /// The pattern a resource must match.
    pub pattern: Value,
}

/// Builds the ClusterPolicy that defaults `namespace` to `class` (the RuntimeClass
/// sandprof generates) and refuses pods there outside it.
///
/// Over 100 lines on purpose: it is one literal of the policy, rule after rule in the
/// order Kyverno applies them, and reads as the YAML it becomes; split, the rules'
/// shared match and the mutation they validate would no longer sit side by side.
pub fn namespace_default(class: &RuntimeClass, namespace: &str) -> ClusterPolicy {
    let name = class.metadata.name.clone().unwrap_or_default();
    let pods = || MatchResources {
        any: vec![ResourceFilter {
            resources: ResourceDescription {
                kinds: vec!["Pod".to_owned()],
                namespaces: vec![namespace.to_owned()],
                operations: vec!["CREATE".to_owned()],
            },
        }],
    };
    let toleration = json!({
        "key": NODE_KEY,
        "operator": "Equal",
        "value": name,
        "effect": "NoSchedule",
    });
    // No toleration with the sandbox key yet (the RuntimeClass plugin adds one for pods
    // that named the class themselves).
    let lacks_toleration = Condition {
        key: NODE_KEY.to_owned(),
        operator: "AnyNotIn".to_owned(),
        value: json!("{{ request.object.spec.tolerations[].key || `[]` }}"),
    };
    let tolerations_count = "{{ length(request.object.spec.tolerations || `[]`) }}";

    let mut spec = serde_json::Map::new();
    spec.insert("runtimeClassName".to_owned(), json!(name));
    if let Some(fixed) = class.overhead.as_ref().and_then(|o| o.pod_fixed.as_ref()) {
        let overhead: BTreeMap<&str, &str> = fixed
            .iter()
            .map(|(k, q)| (k.as_str(), q.0.as_str()))
            .collect();
        spec.insert("overhead".to_owned(), json!(overhead));
    }
    // nodeSelector is a map: the merge adds the key and keeps the pod's own.
    spec.insert("nodeSelector".to_owned(), json!({ NODE_KEY: name }));

    let policy = format!("sandprof-{name}-in-{namespace}");
    ClusterPolicy {
        api_version: API_VERSION.to_owned(),
        kind: KIND.to_owned(),
        metadata: ObjectMeta {
            name: Some(policy),
            labels: Some(BTreeMap::from([(
                "app.kubernetes.io/managed-by".to_owned(),
                "sandprof".to_owned(),
            )])),
            annotations: Some(BTreeMap::from([(
                AUTOGEN_ANNOTATION.to_owned(),
                "none".to_owned(),
            )])),
            ..ObjectMeta::default()
        },
        spec: PolicySpec {
            admission: true,
            background: false,
            rules: vec![
                Rule {
                    name: "set-runtime-class".to_owned(),
                    match_resources: pods(),
                    preconditions: Some(Conditions {
                        all: vec![Condition {
                            key: "{{ request.object.spec.runtimeClassName || '' }}".to_owned(),
                            operator: "Equals".to_owned(),
                            value: json!(""),
                        }],
                    }),
                    mutate: Some(Mutation {
                        patch_strategic_merge: Some(json!({ "spec": spec })),
                        patches_json6902: None,
                    }),
                    validate: None,
                },
                Rule {
                    name: "append-toleration".to_owned(),
                    match_resources: pods(),
                    preconditions: Some(Conditions {
                        all: vec![
                            Condition {
                                key: tolerations_count.to_owned(),
                                operator: "GreaterThan".to_owned(),
                                value: json!(0),
                            },
                            lacks_toleration,
                        ],
                    }),
                    mutate: Some(Mutation {
                        patch_strategic_merge: None,
                        patches_json6902: Some(format!(
                            "- op: add\n  path: /spec/tolerations/-\n  value: {toleration}\n"
                        )),
                    }),
                    validate: None,
                },
                Rule {
                    name: "set-toleration".to_owned(),
                    match_resources: pods(),
                    preconditions: Some(Conditions {
                        all: vec![Condition {
                            key: tolerations_count.to_owned(),
                            operator: "Equals".to_owned(),
                            value: json!(0),
                        }],
                    }),
                    mutate: Some(Mutation {
                        patch_strategic_merge: Some(json!({
                            "spec": { "tolerations": [toleration] }
                        })),
                        patches_json6902: None,
                    }),
                    validate: None,
                },
                Rule {
                    name: "require-runtime-class".to_owned(),
                    match_resources: pods(),
                    preconditions: None,
                    mutate: None,
                    validate: Some(Validation {
                        failure_action: "Enforce".to_owned(),
                        message: format!(
                            "pods in namespace {namespace} must run in the {name} sandbox \
                             (runtimeClassName: {name})"
                        ),
                        pattern: json!({ "spec": { "runtimeClassName": name } }),
                    }),
                },
            ],
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::k8s::runtimeclass::runtime_class;
    use crate::k8s::sandbox::{KataHypervisor, Sandbox};

    #[test]
    fn rules_mutate_then_enforce_in_the_namespace() {
        let rc = runtime_class(Sandbox::Kata(KataHypervisor::Clh), None);
        let p = namespace_default(&rc, "ci");
        assert_eq!(p.metadata.name.as_deref(), Some("sandprof-kata-clh-in-ci"));
        let names: Vec<&str> = p.spec.rules.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "set-runtime-class",
                "append-toleration",
                "set-toleration",
                "require-runtime-class"
            ]
        );
        for rule in &p.spec.rules {
            assert_eq!(rule.match_resources.any[0].resources.namespaces, ["ci"]);
        }
        let merge = p.spec.rules[0]
            .mutate
            .as_ref()
            .and_then(|m| m.patch_strategic_merge.as_ref())
            .unwrap();
        assert_eq!(
            merge,
            &json!({"spec": {
                "runtimeClassName": "kata-clh",
                "overhead": {"cpu": "250m", "memory": "130Mi"},
                "nodeSelector": {"sandbox.sandprof.dev/runtime": "kata-clh"},
            }})
        );
        let validate = p.spec.rules[3].validate.as_ref().unwrap();
        assert_eq!(validate.failure_action, "Enforce");
        assert_eq!(
            validate.pattern,
            json!({"spec": {"runtimeClassName": "kata-clh"}})
        );
    }
}
