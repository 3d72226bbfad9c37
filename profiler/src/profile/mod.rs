//! The profile: the portable record of what a workload asked of the kernel.
pub mod model;

pub use model::*;
