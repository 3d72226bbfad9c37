//! sandprof: profile a workload under runc with eBPF, and predict from evidence how it
//! will run under gVisor (runsc) and Kata Containers.
//!
//! The stages, one module each, with plain data between them:
//! - [`capture`]: load and attach the eBPF programs, follow the target, drain the maps;
//! - [`profile`]: the profile file format, its reading, writing and merging;
//! - [`analysis`]: profile × `syscall-db` → findings and verdicts;
//! - [`report`]: findings → terminal table, Markdown, JSON;
//! - [`runsc_log`]: runsc debug and `--strace` logs → the same findings;
//! - [`sandbox`]: the workload run under runc and runsc side by side (`sandprof try`);
//! - [`k8s`]: Kubernetes and node wiring, pod-spec audit, in-pod verification;
//! - [`commands`]: the `sandprof` subcommands that wire the stages together.
pub mod analysis;
pub mod capture;
pub mod commands;
pub mod k8s;
pub mod profile;
pub mod report;
pub mod runsc_log;
pub mod sandbox;
