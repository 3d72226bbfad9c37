//! The profile: the portable record of what a workload asked of the kernel.
pub mod diff;
pub mod io;
pub mod merge;
pub mod model;
pub mod summary;
pub mod time;

pub use model::*;
