//! Arguments several subcommands take, defined once so they read and fail alike: the
//! sandboxed runtime to wire or judge (`--runtime gvisor|kata`) and the runsc flags a
//! sandbox runs with (`--runsc-flags`, repeatable).

use anyhow::Context as _;
use syscall_db::Runtime;

use crate::analysis::RunscFlags;

/// A sandboxed runtime on the command line.
#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum RuntimeArg {
    /// gVisor.
    Gvisor,
    /// Kata Containers.
    Kata,
}

impl From<RuntimeArg> for Runtime {
    fn from(arg: RuntimeArg) -> Runtime {
        match arg {
            RuntimeArg::Gvisor => Runtime::Gvisor,
            RuntimeArg::Kata => Runtime::Kata,
        }
    }
}

/// Every `--runsc-flags` given, as one set. Each occurrence was parsed by clap on its
/// own; a flag set twice to different values across occurrences is an error here, not
/// a silent last-one-wins.
pub fn runsc_flags(given: &[RunscFlags]) -> anyhow::Result<RunscFlags> {
    let mut flags = RunscFlags::none();
    for more in given {
        flags
            .extend(more.clone())
            .context("invalid --runsc-flags")?;
    }
    Ok(flags)
}
