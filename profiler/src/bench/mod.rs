//! `sandprof bench`: the cost of a sandbox measured on the node itself. One fixed suite
//! runs in the same OCI bundle under runc and under runsc, interleaved and repeated;
//! the result is a versioned measurement file that the stages downstream read
//! (`k8s runtimeclass --measurement`, `report --bench`, `recommend --bench`). Data
//! flows one way: this stage uses the sandbox stage's runs and imports nothing from
//! its readers.
//!
//! - [`suite`]: what is measured, in which unit, how, and how much work;
//! - [`workload`]: the programs that run inside the container and time themselves;
//! - [`runner`]: the checks, set-up and clean-up of a bench on the host;
//! - [`containers`]: the bundle, a run to exit, a container held for its footprint;
//! - [`measure`]: the suite's runs, interleaved and repeated, into a result;
//! - [`footprint`]: a container's processes, their memory (Pss) and CPU;
//! - [`machine`]: the machine measured on;
//! - [`result`]: the measurement file, its statistics and its checks;
//! - [`render`]: table, Markdown and JSON;
//! - [`plan`]: the benchmark plan with its thresholds (`--plan`);
//! - [`cost`]: one workload's slowdown predicted from its profile and a measurement.
pub mod containers;
pub mod cost;
pub mod footprint;
pub mod machine;
pub mod measure;
pub mod plan;
pub mod render;
pub mod result;
pub mod runner;
pub mod suite;
pub mod workload;

pub use result::{BenchResult, LoadError, Metric, Stats};
pub use runner::{preflight, run_bench, BenchOptions};
