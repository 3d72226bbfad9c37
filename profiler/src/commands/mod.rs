//! The `sandprof` subcommands. Each module holds one subcommand's clap `Options` and its
//! `run`, which wires the stages together; the work itself lives in the stage modules.
pub mod args;
pub mod audit;
pub mod bench;
pub mod db;
pub mod diff;
pub mod k8s;
pub mod merge;
pub mod output;
pub mod profile;
pub mod recommend;
pub mod release;
pub mod report;
pub mod runsc_log;
// `try` is a keyword: the module is `r#try`.
pub mod r#try;
pub mod verify;
