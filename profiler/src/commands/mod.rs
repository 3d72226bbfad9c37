//! The `sandprof` subcommands. Each module holds one subcommand's clap `Options` and its
//! `run`, which wires the stages together; the work itself lives in the stage modules.
pub mod db;
pub mod diff;
pub mod merge;
pub mod profile;
pub mod report;
pub mod runsc_log;
