//! The RuntimeClass (`node.k8s.io/v1`) of a sandbox: its handler, the pod overhead the
//! scheduler and kubelet account for (measured by `sandprof bench`, or a documented
//! default flagged as an estimate), and the scheduling constraints that keep its pods
//! on sandbox nodes.

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
use crate::bench::suite::MetricId;
use crate::bench::BenchResult;

/// Annotation saying where `overhead.podFixed` comes from.
pub const OVERHEAD_SOURCE_ANNOTATION: &str = "sandprof.dev/overhead-source";

/// Margin added to the measured overhead, in percent: the scheduler must not place a
/// pod on a node that then runs out because one sandbox needed a little more than the
/// median one did.
pub const MARGIN_PCT: u32 = 25;

/// A measured per-pod overhead: what one sandbox costs beyond its containers. Read
/// from a `sandprof bench --out` file (see [`Measurement::from_bench`]), or from a
/// file of exactly these fields (JSON), documented in `docs/kubernetes.md`.
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
    /// The pod overhead of a bench measurement: memory is what the runsc container
    /// holds beyond the same workload under runc (medians of summed Pss and memory
    /// file; the larger of the idle container and the one holding 256 MiB), CPU the
    /// idle sandbox's beyond runc's; each with [`MARGIN_PCT`] added and rounded up
    /// to a whole MiB or millicore, at least 1.
    pub fn from_bench(bench: &BenchResult) -> Measurement {
        let extra = |id: MetricId| {
            bench
                .metric(id)
                .map_or(0.0, |m| (m.runsc.median - m.runc.median).max(0.0))
        };
        let memory = extra(MetricId::PssIdle).max(extra(MetricId::Pss256Mib));
        let cpu = extra(MetricId::IdleCpu);
        let with_margin = |v: f64| {
            let raised = (v * f64::from(100 + MARGIN_PCT) / 100.0).ceil();
            (raised as u32).max(1)
        };
        let platform = bench.runsc.platform.as_deref().unwrap_or("default");
        Measurement {
            runtime: Runtime::Gvisor,
            cpu_millicores: with_margin(cpu),
            memory_mib: with_margin(memory),
            method: format!(
                "sandprof bench on {date}, runsc {release} (platform {platform}), {reps} \
                 repetitions: memory {memory:.1} MiB beyond runc (Pss and memory file, idle \
                 and holding 256 MiB), CPU {cpu:.2} millicores idle, each +{MARGIN_PCT}% \
                 rounded up",
                date = bench.date,
                release = bench.runsc.version,
                reps = bench.repetitions,
            ),
        }
    }

    /// Reads a measurement file (a `sandprof bench --out` file, or the plain fields)
    /// and checks it is about `runtime`.
    pub fn load(path: &Path, runtime: Runtime) -> anyhow::Result<Measurement> {
        let file = path.display().to_string();
        let text =
            std::fs::read_to_string(path).with_context(|| format!("failed to read {file}"))?;
        let is_bench = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .is_some_and(|v| v.get("format").is_some());
        if is_bench {
            let bench = BenchResult::parse(&text, &file)?;
            if runtime != Runtime::Gvisor {
                bail!(
                    "{file}: sandprof bench measures gVisor (runsc); {runtime}'s overhead stays \
                     the published figure"
                );
            }
            return Ok(Measurement::from_bench(&bench));
        }
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
    fn bench_measurement_gives_the_overhead_with_its_margin() {
        use crate::bench::result::fixture;
        let bench = fixture(&[
            (MetricId::PssIdle, 7.5, 40.3),
            (MetricId::Pss256Mib, 263.0, 293.1),
            (MetricId::IdleCpu, 0.0, 0.4),
        ]);
        let m = Measurement::from_bench(&bench);
        // Memory: max(40.3 − 7.5, 293.1 − 263.0) = 32.8 MiB, +25% = 41.0 → 41.
        // CPU: 0.4 millicores, +25% = 0.5 → 1.
        assert_eq!((m.cpu_millicores, m.memory_mib), (1, 41));
        assert_eq!(
            m.method,
            "sandprof bench on 2026-12-02T02:08:38Z, runsc 0.0~20221219.0 (platform ptrace), 1 \
             repetitions: memory 32.8 MiB beyond runc (Pss and memory file, idle and holding \
             256 MiB), CPU 0.40 millicores idle, each +25% rounded up"
        );
        let rc = runtime_class(Sandbox::Gvisor, Some(&m));
        let fixed = rc.overhead.and_then(|o| o.pod_fixed).unwrap();
        assert_eq!(fixed["cpu"], Quantity("1m".into()));
        assert_eq!(fixed["memory"], Quantity("41Mi".into()));
        let source = &rc.metadata.annotations.unwrap()[OVERHEAD_SOURCE_ANNOTATION];
        assert!(source.starts_with(
            "measured: sandprof bench on 2026-12-02T02:08:38Z, runsc \
                                    0.0~20221219.0 (platform ptrace)"
        ));
    }

    #[test]
    fn a_bench_file_is_read_for_gvisor_only() {
        use crate::bench::result::fixture;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bench.json");
        let bench = fixture(&[(MetricId::PssIdle, 8.0, 40.0)]);
        std::fs::write(&path, serde_json::to_string(&bench).unwrap()).unwrap();
        let m = Measurement::load(&path, Runtime::Gvisor).unwrap();
        assert_eq!((m.cpu_millicores, m.memory_mib), (1, 40));
        let err = Measurement::load(&path, Runtime::Kata)
            .unwrap_err()
            .to_string();
        assert!(
            err.ends_with(
                "sandprof bench measures gVisor (runsc); kata's overhead stays the \
                               published figure"
            ),
            "{err}"
        );
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
