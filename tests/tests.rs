//! End-to-end tests of the `sandprof` binary.

// sandprof report, merge and diff: rules, verdicts, bad input, golden reports.
mod report;

// Kubernetes wiring: node config goldens, manifests read back into the API types, audit,
// verify.
mod k8s;

// sandprof runsc-log: every runsc log format generation and message family, directories,
// gzip, stdin, bad input, the profile from strace lines, golden reports.
mod runsc_log;
