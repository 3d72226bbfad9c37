//! sandprof: profile a workload under runc with eBPF, and predict from evidence how it
//! will run under gVisor (runsc) and Kata Containers.
//!
//! The stages, one module each, with plain data between them:
//! - [`capture`]: load and attach the eBPF programs, follow the target, drain the maps;
//! - [`profile`]: the profile file format, its reading, writing and merging;
//! - [`analysis`]: profile × `syscall-db` → findings and verdicts;
//! - [`report`]: findings → terminal table, Markdown, JSON;
//! - [`runsc_log`]: runsc debug and `--strace` logs → the same findings;
//! - [`release`]: the gVisor release a judgement is made at (named, newest, installed);
//! - [`k8s`]: Kubernetes and node wiring: the CRI handler, RuntimeClass, sandboxed
//!   workloads, admission policies, and the manifest reading the stages below share;
//! - [`audit`]: manifests → the hardening each pod lacks, and what its spec will break
//!   under a sandbox, as a report the renderers and `--fail-on` serve;
//! - [`recommend`]: a threat model, the nodes and the evidence about a workload → the
//!   runtime to choose, its residual risks and the rollout plan;
//! - [`verify`]: inside a pod, which runtime is really in use and where the isolation
//!   boundary is;
//! - [`sandbox`]: the workload run under runc and runsc side by side (`sandprof try`);
//! - [`bench`]: the sandbox's cost measured on the node (`sandprof bench`), a file the
//!   Kubernetes wiring and the cost figures read;
//! - [`commands`]: the `sandprof` subcommands that wire the stages together.
//!
//! Data flows one way: capture → profile → analysis → report, with runsc logs entering
//! the analysis as facts, as a profile does. `bench` builds on `sandbox`'s runs and
//! produces a measurement file; `k8s` reads it and the analysis's reports;
//! `audit` builds on `k8s`'s manifest reading and the analysis's findings model;
//! `recommend` on all three; `verify` only on `k8s`'s upstream sources. No stage
//! imports from one that consumes it.
//!
//! [`atomic_file`] is no stage: every file any stage writes goes through it.
pub mod analysis;
pub mod atomic_file;
pub mod audit;
pub mod bench;
pub mod capture;
pub mod commands;
pub mod k8s;
pub mod profile;
pub mod recommend;
pub mod release;
pub mod report;
pub mod runsc_log;
pub mod sandbox;
pub mod verify;
