//! The RuntimeClass (`node.k8s.io/v1`) of a sandbox: its handler, the pod overhead the
//! scheduler and kubelet account for (measured, or a documented default flagged as an
//! estimate), and the scheduling constraints that keep its pods on sandbox nodes.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context as _};
use k8s_openapi::api::node::v1::{Overhead, RuntimeClass, Scheduling};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};
use syscall_db::Runtime;

use super::pods::sandbox_toleration;
use super::sandbox::{Sandbox, NODE_KEY};

/// Annotation saying where `overhead.podFixed` comes from.
pub const OVERHEAD_SOURCE_ANNOTATION: &str = "sandprof.dev/overhead-source";

/// A measured per-pod overhead: what one sandbox costs beyond its containers. The file
/// format of `--measurement` (JSON), documented in `docs/kubernetes.md`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Measurement {
    /// Runtime measured.
    pub runtime: Runtime,
    /// CPU of the sandbox itself (runsc Sentry and gofer, or the VMM and guest), in
    /// millicores, at the percentile the method names.
    pub cpu_millicores: u32,
    /// Memory of the sandbox itself, in MiB.
    pub memory_mib: u32,
    /// How it was measured (tool, workload, percentile, samples).
    pub method: String,
}

impl Measurement {
    /// Reads a measurement file and checks it is about `runtime`.
    pub fn load(path: &Path, runtime: Runtime) -> anyhow::Result<Measurement> {
        let file = path.display().to_string();
        let text =
            std::fs::read_to_string(path).with_context(|| format!("failed to read {file}"))?;
        let m: Measurement = serde_json::from_str(&text)
            .with_context(|| format!("{file}: not a sandprof overhead measurement"))?;
        if m.runtime != runtime {
            bail!(
                "{file}: measures {}, but the RuntimeClass is for {runtime}",
                m.runtime
            );
        }
        if m.cpu_millicores == 0 || m.memory_mib == 0 {
            bail!("{file}: cpu_millicores and memory_mib must both be above zero");
        }
        Ok(m)
    }
}

/// Builds the RuntimeClass. `measurement` replaces the default overhead.
pub fn runtime_class(sandbox: Sandbox, measurement: Option<&Measurement>) -> RuntimeClass {
    let (cpu, memory, source) = match measurement {
        Some(m) => (
            format!("{}m", m.cpu_millicores),
            format!("{}Mi", m.memory_mib),
            format!("measured: {}", m.method),
        ),
        None => {
            let d = sandbox.default_overhead();
            (
                d.cpu.to_owned(),
                d.memory.to_owned(),
                format!("estimate, not measured: {}", d.source),
            )
        }
    };
    let class = sandbox.runtime_class();
    RuntimeClass {
        metadata: ObjectMeta {
            name: Some(class.to_owned()),
            labels: Some(BTreeMap::from([(
                "app.kubernetes.io/managed-by".to_owned(),
                "sandprof".to_owned(),
            )])),
            annotations: Some(BTreeMap::from([(
                OVERHEAD_SOURCE_ANNOTATION.to_owned(),
                source,
            )])),
            ..ObjectMeta::default()
        },
        handler: sandbox.handler().to_owned(),
        overhead: Some(Overhead {
            pod_fixed: Some(BTreeMap::from([
                ("cpu".to_owned(), Quantity(cpu)),
                ("memory".to_owned(), Quantity(memory)),
            ])),
        }),
        scheduling: Some(Scheduling {
            node_selector: Some(BTreeMap::from([(NODE_KEY.to_owned(), class.to_owned())])),
            tolerations: Some(vec![sandbox_toleration(sandbox)]),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::k8s::sandbox::KataHypervisor;

    #[test]
    fn default_overhead_is_flagged_as_an_estimate() {
        let rc = runtime_class(Sandbox::Kata(KataHypervisor::Clh), None);
        assert_eq!(rc.handler, "kata-clh");
        let fixed = rc.overhead.and_then(|o| o.pod_fixed).unwrap();
        assert_eq!(fixed["cpu"], Quantity("250m".into()));
        assert_eq!(fixed["memory"], Quantity("130Mi".into()));
        let source = &rc.metadata.annotations.unwrap()[OVERHEAD_SOURCE_ANNOTATION];
        assert!(source.starts_with("estimate, not measured: kata-deploy default for `clh`"));
    }

    #[test]
    fn measurement_replaces_the_default() {
        let m = Measurement {
            runtime: Runtime::Gvisor,
            cpu_millicores: 85,
            memory_mib: 41,
            method: "p95 of 20 idle pods".into(),
        };
        let rc = runtime_class(Sandbox::Gvisor, Some(&m));
        let fixed = rc.overhead.and_then(|o| o.pod_fixed).unwrap();
        assert_eq!(fixed["cpu"], Quantity("85m".into()));
        assert_eq!(fixed["memory"], Quantity("41Mi".into()));
    }
}
