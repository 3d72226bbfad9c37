//! Analysis: facts about a workload (a profile, or runsc logs) × `syscall-db` → findings
//! and a verdict per runtime. Pure: no I/O, no privileges.
pub mod finding;
