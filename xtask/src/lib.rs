//! The tasks behind `cargo xtask`, as a library so their parsers can be tested.
pub mod bench;
pub mod cmd;
pub mod corpus;
pub mod cost_accuracy;
pub mod import_gvisor;
pub mod import_syscalls;
pub mod output;
pub mod run;
pub mod setup;
pub mod test;
pub mod try_accuracy;
