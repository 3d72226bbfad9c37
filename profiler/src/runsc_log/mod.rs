//! runsc logs → facts about the workload, for the shared analysis and renderers.
//!
//! runsc (gVisor) writes one debug log per command (`*.boot.txt`, `*.gofer.txt`,
//! `*.create.txt`…), as glog-style text, JSON or json-k8s, with `--strace` syscall
//! lines, runtime messages and Go's own panic output mixed in; engineers get them
//! through `cat -n`, grep, kubectl or a log console. The stages, one module each:
//! - [`input`]: which files to read (directories, gzip, stdin) and opening them;
//! - [`scan`], [`json_array`]: bytes → lines (or JSON array entries) without a copy or
//!   an allocation per line;
//! - [`locate`]: where runsc's text is in a line behind pasted prefixes;
//! - [`envelope`]: a line → level, time and message, for each encoding and shipper;
//! - [`task`], [`strace`], [`args`]: the task prefix, strace entry/exit lines and their
//!   arguments;
//! - [`message`]: the messages parsed into facts, and the catalogue's (`syscall-db`);
//! - [`capture`]: which strace arguments become profile fields (the database's spec);
//! - [`line`]: one line through all of the above; [`read`]: files, line by line;
//! - [`facts`]: everything above, aggregated in bounded memory into [`LogFacts`];
//! - [`names`]: errno and syscall names;
//! - [`to_profile`]: the strace part of the facts as a profile;
//! - [`load`]: the entry point: inputs → [`LogEvidence`] (facts, profile, arch), which
//!   `sandprof runsc-log` and `sandprof try` hand the analysis.
pub mod args;
pub mod capture;
pub mod envelope;
pub mod facts;
pub mod input;
pub mod json_array;
pub mod line;
pub mod load;
pub mod locate;
pub mod message;
pub mod names;
pub mod read;
pub mod scan;
pub mod strace;
pub mod task;
pub mod to_profile;

pub use facts::LogFacts;
pub use load::{load, LogEvidence};
pub use read::read_inputs;
