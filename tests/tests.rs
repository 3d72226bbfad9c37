//! End-to-end tests of the `sandprof` binary.
