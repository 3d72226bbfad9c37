//! Sandbox runs (`sandprof try`): the workload in one OCI bundle under runc, traced,
//! and under the real runsc with `--debug --strace`; the two outcomes, the runc
//! profile and the runsc log facts enter the analysis as facts, like a profile or a
//! set of logs.
//!
//! - [`host`]: the system calls a run needs (mount namespace, mounts, subreaper,
//!   loopback);
//! - [`workspace`]: the temporary directory, mounts, containers and cgroups of a
//!   trial, and their removal on every exit path;
//! - [`image`]: image archives (OCI layout, `docker save`) → a root file system;
//! - [`rootfs`]: the host's `/`, a directory or an image, and each run's view of it;
//! - [`user`], [`spec`]: the container's user and its OCI configuration;
//! - [`runtime`]: runc and runsc as command-line runtimes;
//! - [`output`], [`cgroup`]: a run's output and peak memory;
//! - [`run`]: one run under one runtime; [`trial`]: both, and their facts.
pub mod cgroup;
pub mod host;
pub mod image;
pub mod output;
pub mod rootfs;
pub mod run;
pub mod runtime;
pub mod spec;
pub mod trial;
pub mod user;
pub mod workspace;

pub use run::{Ending, Interrupted, RunOutcome};
pub use trial::{run_trial, Net, Source, Trial, TrialOptions, TrialSetup};
