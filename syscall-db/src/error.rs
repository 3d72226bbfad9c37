//! Errors of the database: bad queries and invalid data.

use std::fmt;

use crate::model::Arch;

/// An error from the database.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An architecture name the database does not know.
    #[error("unknown architecture `{0}` (known: x86_64, aarch64, i386)")]
    UnknownArch(String),

    /// A runtime name the database does not know.
    #[error("unknown runtime `{0}` (known: gvisor, kata)")]
    UnknownRuntime(String),

    /// A syscall name that is not in the arch's table.
    #[error("unknown syscall `{name}` on {arch}{}", DidYouMean(suggestions))]
    UnknownSyscallName {
        /// Arch searched.
        arch: Arch,
        /// Name asked for.
        name: String,
        /// Nearest known names, best first.
        suggestions: Vec<String>,
    },

    /// A syscall number that is not in the arch's table.
    #[error("no syscall has number {number} on {arch}{}", DidYouMean(suggestions))]
    UnknownSyscallNumber {
        /// Arch searched.
        arch: Arch,
        /// Number asked for.
        number: u32,
        /// Names of the nearest numbers.
        suggestions: Vec<String>,
    },

    /// A gVisor release the data was not imported at.
    #[error("the database has no gVisor {0}: resolve the release first")]
    UnknownRelease(crate::release::Release),

    /// A data file could not be parsed.
    #[error("failed to parse `{file}`")]
    Parse {
        /// Data file path, relative to `data/`.
        file: String,
        /// What the TOML parser said, with line and column.
        #[source]
        source: toml::de::Error,
    },

    /// A data file the database needs is absent from the sources.
    #[error("data file `{0}` is missing")]
    MissingFile(String),

    /// A data file whose path says nothing about what it holds.
    #[error("unexpected data file `{0}` (expected database.toml, constants.toml, remediations.toml, kata.toml, captures.toml, syscalls/<arch>.toml, gvisor/<arch>.toml, gvisor/{{releases,uname,runsc_flags,proc,notes,abi}}.toml or rules/<category>.toml)")]
    UnexpectedFile(String),

    /// The data parsed but breaks the database's invariants.
    #[error("invalid data: {} problem(s){}", problems.len(), ProblemList(problems))]
    Invalid {
        /// Every problem found, in file order.
        problems: Vec<Problem>,
    },
}

/// One broken invariant of the data: where it is and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Data file path, relative to `data/`.
    pub file: String,
    /// The item in that file, e.g. "rule `gvisor.socket.packet`".
    pub item: String,
    /// What is wrong.
    pub message: String,
}

impl Problem {
    /// A problem with `item` of data file `file`.
    pub fn new(file: &str, item: String, message: String) -> Problem {
        Problem {
            file: file.to_owned(),
            item,
            message,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: {}: {}", self.file, self.item, self.message)
    }
}

struct DidYouMean<'a>(&'a [String]);

impl fmt::Display for DidYouMean<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some((first, rest)) = self.0.split_first() else {
            return Ok(());
        };
        write!(f, " (nearest: `{first}`")?;
        for name in rest {
            write!(f, ", `{name}`")?;
        }
        f.write_str(")")
    }
}

struct ProblemList<'a>(&'a [Problem]);

impl fmt::Display for ProblemList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for problem in self.0 {
            write!(f, "\n  {problem}")?;
        }
        Ok(())
    }
}
