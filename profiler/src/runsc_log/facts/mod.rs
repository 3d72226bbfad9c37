//! Log facts: what a set of runsc logs says about the workload. [`model`] holds the
//! data types the analysis reads; [`builder`] fills them while the lines stream past,
//! keeping per-process state in [`process`].

pub mod builder;
pub mod model;
pub mod process;

pub use builder::FactsBuilder;
pub use model::*;
