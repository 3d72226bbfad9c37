//! runsc logs → facts about the workload, for the shared analysis and renderers.
//!
//! runsc (gVisor) writes one debug log per command (`*.boot.txt`, `*.gofer.txt`,
//! `*.create.txt`…), as glog-style text, JSON or json-k8s, with `--strace` syscall
//! lines, runtime messages and Go's own panic output mixed in. The stages, one module
//! each:
//! - [`scan`]: bytes → lines, without a copy or an allocation per line;
//! - [`envelope`]: a line → level, time and message, for each encoding;
//! - [`task`], [`strace`], [`args`]: the task prefix, strace entry/exit lines and their
//!   arguments;
//! - [`message`]: the other messages that explain a failure;
//! - [`capture`]: which strace arguments become profile fields (the database's spec);
//! - [`facts`]: everything above, aggregated in bounded memory into [`facts::LogFacts`];
//! - [`input`]: which files to read (directories, gzip, stdin) and opening them;
//! - [`read`]: one file, line by line, through the parsers into the facts;
//! - [`to_profile`]: the strace part of the facts as a profile.
pub mod args;
pub mod capture;
pub mod envelope;
pub mod facts;
pub mod input;
pub mod message;
pub mod read;
pub mod scan;
pub mod strace;
pub mod task;
pub mod to_profile;

pub use facts::LogFacts;
pub use read::read_inputs;
