//! The tasks behind `cargo xtask`, as a library so their parsers can be tested.

use std::path::{Path, PathBuf};

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

/// The workspace's root directory: xtask's parent.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits in the workspace")
        .to_path_buf()
}
