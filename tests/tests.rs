//! End-to-end tests of the `sandprof` binary.

// Finding the binaries, gating on root, reading profiles.
mod support;

// sandprof profile as root: the workload, PID trees, interrupts, runc containers, full
// signature maps, errors.
mod profile;

// sandprof profile around the workload: how the command starts and is stopped, what is
// left running, the tracer's own process, --out checks, --redact-argv, the terminal.
mod profile_lifecycle;

// sandprof report, merge and diff: rules, verdicts, bad input, golden reports.
mod report;

// Kubernetes wiring: node config goldens, manifests read back into the API types, audit,
// verify.
mod k8s;

// Judging at a gVisor release: release differences, --gvisor-release auto, upgrades,
// and predictions set against the installed runsc.
mod release;

// sandprof runsc-log: every runsc log format generation and message family, directories,
// gzip, stdin, bad input, the profile from strace lines, golden reports.
mod runsc_log;

// sandprof try: image archives, bundles, root file systems, timeouts, interrupts,
// errors, and that nothing is left behind.
mod r#try;

// The calibration corpus: real Debian programs and services under runc and runsc,
// observed and predicted verdicts asserted exactly.
mod corpus;

// sandprof bench is its own test target (bench.rs): it measures the machine, so it runs
// when no other test does.
