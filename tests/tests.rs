//! End-to-end tests of the `sandprof` binary.

// sandprof report, merge and diff: rules, verdicts, bad input, golden reports.
mod report;
