//! The measurement file `sandprof bench --out` writes and `k8s runtimeclass
//! --measurement`, `report --bench` and `recommend --bench` read: format
//! `sandprof.bench`, version 1 (documented in docs/bench.md). Every figure of the suite
//! is in it, with every sample, its median and spread, under both runtimes; a file
//! missing one is refused, never read as partial.

use std::path::Path;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::suite::{Better, MetricDef, MetricId, SUITE};

/// The `format` field.
pub const FORMAT: &str = "sandprof.bench";
/// The version this sandprof writes and reads.
pub const VERSION: u32 = 2;

/// Median, range and samples of one figure under one runtime.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stats {
    /// The median of the samples.
    pub median: f64,
    /// The smallest sample.
    pub min: f64,
    /// The largest sample.
    pub max: f64,
    /// (max − min) / median, in percent: how far the repetitions disagree.
    pub spread_pct: f64,
    /// Every sample, in the order measured.
    pub samples: Vec<f64>,
}

impl Stats {
    /// The statistics of `samples` (at least one).
    pub fn of(samples: &[f64]) -> Stats {
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = match n {
            0 => 0.0,
            _ if n % 2 == 1 => sorted[n / 2],
            _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
        };
        let min = sorted.first().copied().unwrap_or(0.0);
        let max = sorted.last().copied().unwrap_or(0.0);
        let spread_pct = if median > 0.0 {
            (max - min) / median * 100.0
        } else {
            0.0
        };
        Stats {
            median,
            min,
            max,
            spread_pct,
            samples: samples.to_vec(),
        }
    }
}

/// One figure under both runtimes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metric {
    /// Which figure.
    pub id: MetricId,
    /// Its unit.
    pub unit: String,
    /// Under runc.
    pub runc: Stats,
    /// Under runsc.
    pub runsc: Stats,
    /// How many times costlier runsc is (time or size: runsc ÷ runc; throughput:
    /// runc ÷ runsc), from the medians; absent when runc's median is zero.
    pub slowdown: Option<f64>,
}

impl Metric {
    /// The figure from both runtimes' samples.
    pub fn new(def: &MetricDef, runc: &[f64], runsc: &[f64]) -> Metric {
        let runc = Stats::of(runc);
        let runsc = Stats::of(runsc);
        let (num, den) = match def.better {
            Better::Lower => (runsc.median, runc.median),
            Better::Higher => (runc.median, runsc.median),
        };
        Metric {
            id: def.id,
            unit: def.unit.to_owned(),
            slowdown: (den > 0.0).then(|| num / den),
            runc,
            runsc,
        }
    }
}

/// The machine measured on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Machine {
    /// `uname -r`.
    pub kernel: String,
    /// The CPU's model name.
    pub cpu_model: String,
    /// Online CPUs.
    pub cores: usize,
}

/// A runtime measured.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeInfo {
    /// Its version (runsc: the gVisor release, e.g. `0.0~20221219.0`).
    pub version: String,
    /// runsc's platform (`ptrace`, `systrap`, `kvm`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// Extra runsc flags given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<String>,
}

/// One kind of process of the idle runsc sandbox and its memory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcessShare {
    /// `sandbox` (runsc boot: the Sentry), `gofer`, or the process's name.
    pub role: String,
    /// How many processes.
    pub count: usize,
    /// Their summed Pss, in MiB (median over the repetitions).
    pub pss_mib: f64,
}

/// A whole measurement.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BenchResult {
    /// Always [`FORMAT`].
    pub format: String,
    /// Always [`VERSION`].
    pub version: u32,
    /// When it was measured (RFC 3339, UTC).
    pub date: String,
    /// The sandprof that measured it.
    pub sandprof_version: String,
    /// Whether it was a `--quick` run.
    pub quick: bool,
    /// Samples per figure and runtime.
    pub repetitions: usize,
    /// The machine.
    pub machine: Machine,
    /// runc.
    pub runc: RuntimeInfo,
    /// runsc.
    pub runsc: RuntimeInfo,
    /// The file system of the host directory the disk figures wrote to.
    pub disk_fs: String,
    /// The static binary the fork+exec figure runs.
    pub exec_binary: String,
    /// Every figure of the suite, in its order.
    pub metrics: Vec<Metric>,
    /// The idle runsc sandbox's processes.
    pub runsc_processes: Vec<ProcessShare>,
}

/// A measurement file that cannot be used.
#[derive(Debug, Error)]
pub enum LoadError {
    /// It cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// It is not a measurement of this version.
    #[error("{path}: {problem}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        problem: String,
    },
}

impl BenchResult {
    /// The figure `id`.
    pub fn metric(&self, id: MetricId) -> Option<&Metric> {
        self.metrics.iter().find(|m| m.id == id)
    }

    /// Parses a measurement from `text` (named `path` in errors), checking its format,
    /// version, and that every figure of the suite is present with samples.
    pub fn parse(text: &str, path: &str) -> Result<BenchResult, LoadError> {
        let invalid = |problem: String| LoadError::Invalid {
            path: path.to_owned(),
            problem,
        };
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            invalid(format!(
                "not JSON (line {}, column {}): {e}",
                e.line(),
                e.column()
            ))
        })?;
        match value.get("format").and_then(|f| f.as_str()) {
            Some(FORMAT) => {}
            _ => {
                return Err(invalid(format!(
                    "not a sandprof bench measurement (its `format` is not \"{FORMAT}\"; write \
                     one with `sandprof bench --out FILE`)"
                )))
            }
        }
        match value.get("version").and_then(serde_json::Value::as_u64) {
            Some(v) if v == u64::from(VERSION) => {}
            Some(v) if v < u64::from(VERSION) => {
                return Err(invalid(format!(
                    "version {v} is older than this sandprof reads (it reads {VERSION}, which \
                     adds the vfork+exec and thread figures the cost model needs): measure \
                     again with `sandprof bench --out FILE`"
                )))
            }
            other => {
                return Err(invalid(format!(
                    "version {} is not one this sandprof reads (it reads {VERSION})",
                    other.map_or("(none)".to_owned(), |v| v.to_string())
                )))
            }
        }
        let result: BenchResult = serde_json::from_value(value)
            .map_err(|e| invalid(format!("not a valid measurement: {e}")))?;
        for def in &SUITE {
            let Some(m) = result.metric(def.id) else {
                return Err(invalid(format!(
                    "the figure `{}` is missing: the measurement is incomplete",
                    serde_json::to_string(&def.id)
                        .unwrap_or_default()
                        .trim_matches('"')
                )));
            };
            if m.runc.samples.is_empty() || m.runsc.samples.is_empty() {
                return Err(invalid(format!(
                    "the figure `{}` has no samples for one runtime",
                    def.name
                )));
            }
        }
        Ok(result)
    }

    /// Reads a measurement file.
    pub fn load(path: &Path) -> Result<BenchResult, LoadError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
            path: name.clone(),
            source,
        })?;
        BenchResult::parse(&text, &name)
    }
}

/// A measurement with the given medians (one sample each) for every figure of the
/// suite; figures not given are 1.0 under both runtimes.
#[cfg(test)]
pub fn fixture(values: &[(MetricId, f64, f64)]) -> BenchResult {
    let metrics = SUITE
        .iter()
        .map(|def| {
            let (runc, runsc) = values
                .iter()
                .find(|(id, _, _)| *id == def.id)
                .map_or((1.0, 1.0), |(_, a, b)| (*a, *b));
            Metric::new(def, &[runc], &[runsc])
        })
        .collect();
    BenchResult {
        format: FORMAT.to_owned(),
        version: VERSION,
        date: "2026-12-02T02:08:38Z".to_owned(),
        sandprof_version: "0.1.0".to_owned(),
        quick: false,
        repetitions: 1,
        machine: Machine {
            kernel: "6.18.44".to_owned(),
            cpu_model: "AMD EPYC".to_owned(),
            cores: 2,
        },
        runc: RuntimeInfo {
            version: "1.1.5+ds1".to_owned(),
            platform: None,
            flags: Vec::new(),
        },
        runsc: RuntimeInfo {
            version: "0.0~20221219.0".to_owned(),
            platform: Some("ptrace".to_owned()),
            flags: Vec::new(),
        },
        disk_fs: "ext4".to_owned(),
        exec_binary: "/bin/busybox".to_owned(),
        metrics,
        runsc_processes: vec![ProcessShare {
            role: "sandbox".to_owned(),
            count: 1,
            pss_mib: 22.0,
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::suite::metric;

    #[test]
    fn the_file_round_trips() {
        let result = fixture(&[(MetricId::Syscall, 0.25, 57.5)]);
        let text = serde_json::to_string_pretty(&result).unwrap();
        assert_eq!(BenchResult::parse(&text, "m.json").unwrap(), result);
        assert!(text.contains("\"format\": \"sandprof.bench\""));
        assert!(text.contains("\"id\": \"syscall\""));
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        let err = |text: &str| BenchResult::parse(text, "m.json").unwrap_err().to_string();
        assert_eq!(
            err("{\"runtime\": \"gvisor\"}"),
            "m.json: not a sandprof bench measurement (its `format` is not \"sandprof.bench\"; \
             write one with `sandprof bench --out FILE`)"
        );
        assert_eq!(
            err("{\"format\": \"sandprof.bench\", \"version\": 7}"),
            "m.json: version 7 is not one this sandprof reads (it reads 2)"
        );
        assert_eq!(
            err("{\"format\": \"sandprof.bench\", \"version\": 1}"),
            "m.json: version 1 is older than this sandprof reads (it reads 2, which adds the \
             vfork+exec and thread figures the cost model needs): measure again with \
             `sandprof bench --out FILE`"
        );
        assert!(err("{\n  \"format\": ").starts_with("m.json: not JSON (line 2, column"));
        let mut partial = fixture(&[]);
        partial.metrics.retain(|m| m.id != MetricId::IdleCpu);
        let text = serde_json::to_string(&partial).unwrap();
        assert_eq!(
            err(&text),
            "m.json: the figure `idle_cpu` is missing: the measurement is incomplete"
        );
    }

    #[test]
    fn stats_median_and_spread() {
        let s = Stats::of(&[3.0, 1.0, 2.0]);
        assert_eq!(
            (s.median, s.min, s.max, s.spread_pct),
            (2.0, 1.0, 3.0, 100.0)
        );
        assert_eq!(s.samples, [3.0, 1.0, 2.0]);
        let s = Stats::of(&[4.0, 1.0, 2.0, 3.0]);
        assert_eq!(s.median, 2.5);
    }

    #[test]
    fn slowdown_follows_the_direction_of_better() {
        let m = Metric::new(
            metric(MetricId::Syscall),
            &[0.2, 0.2, 0.2],
            &[50.0, 40.0, 45.0],
        );
        assert_eq!(m.slowdown, Some(225.0));
        let m = Metric::new(metric(MetricId::CpuHash), &[1000.0], &[800.0]);
        assert_eq!(m.slowdown, Some(1.25));
        let m = Metric::new(metric(MetricId::IdleCpu), &[0.0], &[3.0]);
        assert_eq!(m.slowdown, None);
    }
}
