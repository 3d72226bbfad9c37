//! The tasks behind `cargo xtask`, as a library so their parsers can be tested.
pub mod import_gvisor;
pub mod import_syscalls;
pub mod output;
