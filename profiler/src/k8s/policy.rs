//! A per-namespace default sandbox: a MutatingAdmissionPolicy that puts every new pod
//! of the namespace in the sandbox, and a ValidatingAdmissionPolicy that rejects any pod
//! there that is not in it (a pod naming another RuntimeClass, or created before the
//! mutation existed and re-submitted). Both are `admissionregistration.k8s.io/v1`,
//! served from Kubernetes 1.36 (mutating) and 1.30 (validating).
//!
//! The mutation writes the pod's `overhead` and node selector along with the
//! `runtimeClassName`: the built-in RuntimeClass admission plugin runs before admission
//! policies, so it never sees the name set here, yet its validation still requires the
//! pod's overhead to equal the RuntimeClass's.

use std::collections::BTreeMap;

use k8s_openapi::api::admissionregistration::v1::{
    JSONPatch, MatchCondition, MatchResources, MutatingAdmissionPolicy,
    MutatingAdmissionPolicyBinding, MutatingAdmissionPolicyBindingSpec,
    MutatingAdmissionPolicySpec, Mutation, NamedRuleWithOperations, ValidatingAdmissionPolicy,
    ValidatingAdmissionPolicyBinding, ValidatingAdmissionPolicyBindingSpec,
    ValidatingAdmissionPolicySpec, Validation,
};
use k8s_openapi::api::node::v1::RuntimeClass;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde::Serialize;

use super::sandbox::NODE_KEY;

/// The four objects of a namespace default.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NamespaceDefault {
    /// Sets the RuntimeClass.
    pub mutating: MutatingAdmissionPolicy,
    /// Binds it to the namespace.
    pub mutating_binding: MutatingAdmissionPolicyBinding,
    /// Rejects pods outside the RuntimeClass.
    pub validating: ValidatingAdmissionPolicy,
    /// Binds it to the namespace.
    pub validating_binding: ValidatingAdmissionPolicyBinding,
}

/// Builds the namespace default for `class` (the RuntimeClass sandprof generates).
pub fn namespace_default(class: &RuntimeClass, namespace: &str) -> NamespaceDefault {
    let name = class.metadata.name.clone().unwrap_or_default();
    let policy = format!("sandprof-{name}-in-{namespace}");
    let pods = vec![NamedRuleWithOperations {
        api_groups: Some(vec![String::new()]),
        api_versions: Some(vec!["v1".to_owned()]),
        operations: Some(vec!["CREATE".to_owned()]),
        resources: Some(vec!["pods".to_owned()]),
        ..NamedRuleWithOperations::default()
    }];
    let in_namespace = MatchResources {
        namespace_selector: Some(LabelSelector {
            match_labels: Some(BTreeMap::from([(
                "kubernetes.io/metadata.name".to_owned(),
                namespace.to_owned(),
            )])),
            ..LabelSelector::default()
        }),
        ..MatchResources::default()
    };
    let meta = |n: &str| ObjectMeta {
        name: Some(n.to_owned()),
        labels: Some(BTreeMap::from([(
            "app.kubernetes.io/managed-by".to_owned(),
            "sandprof".to_owned(),
        )])),
        ..ObjectMeta::default()
    };
    let cel_name = cel_string(&name);
    NamespaceDefault {
        mutating: MutatingAdmissionPolicy {
            metadata: meta(&policy),
            spec: Some(MutatingAdmissionPolicySpec {
                match_constraints: Some(MatchResources {
                    resource_rules: Some(pods.clone()),
                    ..MatchResources::default()
                }),
                match_conditions: Some(vec![MatchCondition {
                    name: "no-runtime-class-yet".to_owned(),
                    expression: "!has(object.spec.runtimeClassName)".to_owned(),
                }]),
                failure_policy: Some("Fail".to_owned()),
                reinvocation_policy: Some("Never".to_owned()),
                mutations: Some(vec![Mutation {
                    patch_type: "JSONPatch".to_owned(),
                    json_patch: Some(JSONPatch {
                        expression: Some(mutation_expression(class)),
                    }),
                    apply_configuration: None,
                }]),
                ..MutatingAdmissionPolicySpec::default()
            }),
        },
        mutating_binding: MutatingAdmissionPolicyBinding {
            metadata: meta(&policy),
            spec: Some(MutatingAdmissionPolicyBindingSpec {
                policy_name: Some(policy.clone()),
                match_resources: Some(in_namespace.clone()),
                param_ref: None,
            }),
        },
        validating: ValidatingAdmissionPolicy {
            metadata: meta(&policy),
            spec: Some(ValidatingAdmissionPolicySpec {
                match_constraints: Some(MatchResources {
                    resource_rules: Some(pods),
                    ..MatchResources::default()
                }),
                failure_policy: Some("Fail".to_owned()),
                validations: Some(vec![Validation {
                    expression: format!(
                        "has(object.spec.runtimeClassName) && \
                         object.spec.runtimeClassName == {cel_name}"
                    ),
                    message: Some(format!(
                        "pods in namespace {namespace} must run in the {name} sandbox \
                         (runtimeClassName: {name})"
                    )),
                    reason: Some("Forbidden".to_owned()),
                    message_expression: None,
                }]),
                ..ValidatingAdmissionPolicySpec::default()
            }),
            status: None,
        },
        validating_binding: ValidatingAdmissionPolicyBinding {
            metadata: meta(&policy),
            spec: ValidatingAdmissionPolicyBindingSpec {
                policy_name: policy,
                validation_actions: vec!["Deny".to_owned()],
                match_resources: Some(in_namespace),
                param_ref: None,
            },
        },
    }
}

/// The CEL list of JSON patches: runtimeClassName, overhead, the node selector entry
/// and the toleration, each added without dropping what the pod already has.
fn mutation_expression(class: &RuntimeClass) -> String {
    let name = cel_string(class.metadata.name.as_deref().unwrap_or_default());
    let mut lines = vec![format!(
        "[JSONPatch{{op: \"add\", path: \"/spec/runtimeClassName\", value: {name}}}]"
    )];
    if let Some(fixed) = class.overhead.as_ref().and_then(|o| o.pod_fixed.as_ref()) {
        let entries: Vec<String> = fixed
            .iter()
            .map(|(k, q)| format!("{}: {}", cel_string(k), cel_string(&q.0)))
            .collect();
        lines.push(format!(
            "[JSONPatch{{op: \"add\", path: \"/spec/overhead\", value: {{{}}}}}]",
            entries.join(", ")
        ));
    }
    let key = cel_string(NODE_KEY);
    let pointer_key = cel_string(&NODE_KEY.replace('~', "~0").replace('/', "~1"));
    lines.push(format!(
        "(has(object.spec.nodeSelector) ? \
         [JSONPatch{{op: \"add\", path: \"/spec/nodeSelector/\" + {pointer_key}, value: {name}}}] : \
         [JSONPatch{{op: \"add\", path: \"/spec/nodeSelector\", value: {{{key}: {name}}}}}])"
    ));
    let toleration = format!(
        "Object.spec.tolerations{{key: {key}, operator: \"Equal\", value: {name}, \
         effect: \"NoSchedule\"}}"
    );
    lines.push(format!(
        "(has(object.spec.tolerations) ? \
         [JSONPatch{{op: \"add\", path: \"/spec/tolerations/-\", value: {toleration}}}] : \
         [JSONPatch{{op: \"add\", path: \"/spec/tolerations\", value: [{toleration}]}}])"
    ));
    lines.join(" +\n")
}

/// A CEL string literal.
fn cel_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::k8s::runtimeclass::runtime_class;
    use crate::k8s::sandbox::Sandbox;

    #[test]
    fn policies_are_bound_to_the_namespace() {
        let rc = runtime_class(Sandbox::Gvisor, None);
        let d = namespace_default(&rc, "tenants");
        let binding = d.validating_binding.spec;
        assert_eq!(binding.policy_name, "sandprof-gvisor-in-tenants");
        assert_eq!(binding.validation_actions, vec!["Deny"]);
        let sel = binding.match_resources.unwrap().namespace_selector.unwrap();
        assert_eq!(
            sel.match_labels.unwrap()["kubernetes.io/metadata.name"],
            "tenants"
        );
        let validation = &d.validating.spec.unwrap().validations.unwrap()[0];
        assert_eq!(
            validation.expression,
            "has(object.spec.runtimeClassName) && object.spec.runtimeClassName == \"gvisor\""
        );
    }

    #[test]
    fn mutation_sets_name_overhead_selector_and_toleration() {
        let rc = runtime_class(Sandbox::Gvisor, None);
        let expr = mutation_expression(&rc);
        let lines: Vec<&str> = expr.lines().collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(
            lines[0],
            "[JSONPatch{op: \"add\", path: \"/spec/runtimeClassName\", value: \"gvisor\"}] +"
        );
        assert_eq!(
            lines[1],
            "[JSONPatch{op: \"add\", path: \"/spec/overhead\", value: {\"cpu\": \"100m\", \
             \"memory\": \"64Mi\"}}] +"
        );
        assert!(lines[2].contains("\"/spec/nodeSelector/\" + \"sandbox.sandprof.dev~1runtime\""));
    }
}
