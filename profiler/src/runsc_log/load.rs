//! The one entry point for runsc logs: inputs → [`LogEvidence`], the facts the logs
//! hold and the profile their strace lines make, for the arch the logs were written on.
//! `sandprof runsc-log` and `sandprof try` (which reads the `--strace` log of the runsc
//! run it made) both start here and hand the result to `analysis::runsc`.

use anyhow::Context as _;
use syscall_db::{Arch, Database};

use super::capture::CaptureSpec;
use super::facts::LogFacts;
use super::input::Input;
use super::read::read_inputs;
use super::to_profile::{to_profile, LogProfile};

/// What a set of logs holds.
#[derive(Debug)]
pub struct LogEvidence {
    /// The facts.
    pub facts: LogFacts,
    /// The strace lines as a profile (and what could not go into it).
    pub profile: LogProfile,
    /// The syscall ABI the logs were read and judged as.
    pub arch: Arch,
    /// The inputs, as named.
    pub inputs: Vec<String>,
}

/// Reads `inputs` and makes their profile. The arch is `arch` when given, else the one
/// the logs' headers name, else this machine's; symbols in strace arguments are read
/// with that arch's constants, so logs of another arch than assumed are read again
/// (which stdin cannot be: then the error asks for `--arch`).
pub fn load(inputs: &[Input], db: &Database, arch: Option<Arch>) -> anyhow::Result<LogEvidence> {
    let host = Arch::host();
    let assumed = arch.or(host).context(
        "this machine's architecture is not one the database knows; pass the logs' arch",
    )?;
    let facts = read_inputs(inputs, &CaptureSpec::from_database(db, assumed))?;
    let logged = logged_arch(&facts.goarches)?;
    let (arch, facts) = match (arch, logged) {
        (None, Some(logged)) if logged != assumed => {
            anyhow::ensure!(
                !inputs.contains(&Input::Stdin),
                "the logs come from {logged} but were read as {assumed}, and stdin cannot be \
                 read twice: pass --arch {logged}"
            );
            let facts = read_inputs(inputs, &CaptureSpec::from_database(db, logged))?;
            (logged, facts)
        }
        _ => (assumed, facts),
    };
    let names = inputs.iter().map(Input::name).collect();
    Ok(LogEvidence::new(facts, db, arch, names))
}

impl LogEvidence {
    /// The evidence of `facts` read from `inputs` as `arch`, with the profile their
    /// strace lines make.
    pub fn new(facts: LogFacts, db: &Database, arch: Arch, inputs: Vec<String>) -> Self {
        let profile = to_profile(&facts, db, arch, inputs.clone());
        Self {
            facts,
            profile,
            arch,
            inputs,
        }
    }
}

/// The arch the logs' headers name (Go's `amd64`/`arm64`); an error if they name
/// several.
fn logged_arch(goarches: &[String]) -> anyhow::Result<Option<Arch>> {
    let mut found: Option<Arch> = None;
    for goarch in goarches {
        let arch: Arch = goarch
            .parse()
            .with_context(|| format!("the logs name an unknown architecture {goarch:?}"))?;
        if let Some(other) = found.filter(|&a| a != arch) {
            anyhow::bail!(
                "the logs come from two architectures, {other} and {arch}; read each \
                 sandbox's logs separately"
            );
        }
        found = Some(arch);
    }
    Ok(found)
}
