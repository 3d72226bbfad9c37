//! Analysis: facts about a workload (a profile, or runsc logs) × `syscall-db` → findings
//! and a verdict per runtime. Pure: no I/O, no privileges.
//!
//! For profiles, [`analyze`] does it all. The pieces other producers of findings (runsc
//! logs) share: [`finding`] (the model), [`verdict`] (ordering and verdicts),
//! [`outcome`] (severity from a database outcome and the runsc flags), [`flags`]
//! (`--runsc-flags`), [`dbref`] (remediations and references from database entries) and
//! [`args`] (showing captured arguments).
mod analyze;
pub mod args;
pub mod dbref;
pub mod finding;
pub mod flags;
mod gvisor;
mod gvisor_release;
mod kata;
pub mod outcome;
mod rules;
pub mod runsc;
pub mod upgrade;
mod usage;
pub mod verdict;

pub use analyze::{analyze, AnalysisOptions};
pub use flags::RunscFlags;
