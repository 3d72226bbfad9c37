//! `sandprof diff`: what a new profile uses that a base profile did not — syscalls,
//! argument signatures, executables — as a release-regression check. Like diff(1), it
//! exits 0 when there is nothing new and 1 when there is (errors exit 2).

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use syscall_db::{Database, GvisorStatus};
use tabled::builder::Builder;
use tabled::settings::Style;

use super::output::Output;
use crate::analysis::args::shown_args;
use crate::profile::diff::{diff, ProfileDiff};
use crate::profile::{io as profile_io, Abi, BinaryFormat, SyscallProfile};

/// Options of `sandprof diff`.
#[derive(Debug, clap::Args)]
pub struct Options {
    /// The profile to compare against (e.g. the current release's).
    #[arg(value_name = "BASE")]
    pub base: PathBuf,

    /// The profile to check (e.g. the candidate release's).
    #[arg(value_name = "NEW")]
    pub new: PathBuf,

    /// Output format.
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    pub format: DiffFormat,
}

/// Output format of `sandprof diff`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    /// Tables for people.
    Text,
    /// The additions as JSON (`syscalls`, `signatures`, `executables`).
    Json,
}

/// Exit code when the new profile uses something the base did not.
const SOMETHING_NEW: u8 = 1;

/// Runs the subcommand.
pub fn run(opts: Options) -> anyhow::Result<ExitCode> {
    let base = profile_io::read(&opts.base)?;
    let new = profile_io::read(&opts.new)?;
    let found = diff(&base, &new);
    let mut out = Output::stdout();
    match opts.format {
        DiffFormat::Json => serde_json::to_writer_pretty(&mut out, &found)
            .map_err(io::Error::from)
            .and_then(|()| out.write_all(b"\n")),
        DiffFormat::Text => write_text(&found, &new, &mut out),
    }
    .context("cannot write the diff")?;
    out.finish()?;
    Ok(if found.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(SOMETHING_NEW)
    })
}

/// Writes the additions as tables; each new syscall with gVisor's support for it, so a
/// reader sees at once whether it matters for a sandbox.
pub fn write_text(
    found: &ProfileDiff,
    new: &SyscallProfile,
    out: &mut dyn Write,
) -> io::Result<()> {
    if found.is_empty() {
        return writeln!(
            out,
            "Nothing new: every syscall, argument signature and executable was in the base."
        );
    }
    let db = Database::get();
    if !found.syscalls.is_empty() {
        writeln!(out, "New syscalls ({}):", found.syscalls.len())?;
        let mut table = Builder::default();
        table.push_record(["syscall", "abi", "calls", "gVisor", "executables"]);
        for syscall in &found.syscalls {
            let gvisor = match syscall.abi {
                Abi::Compat => "no 32-bit code".to_owned(),
                Abi::Native => db
                    .gvisor(new.arch, &syscall.name)
                    .map_or("unknown", |entry| status_name(entry.status))
                    .to_owned(),
            };
            table.push_record([
                syscall.name.clone(),
                abi_name(syscall.abi).to_owned(),
                syscall.calls.to_string(),
                gvisor,
                syscall.executables.join(", "),
            ]);
        }
        writeln!(out, "{}", table.build().with(Style::blank()))?;
    }
    if !found.signatures.is_empty() {
        writeln!(out, "New argument signatures ({}):", found.signatures.len())?;
        let mut table = Builder::default();
        table.push_record(["syscall", "arguments", "calls", "first executable"]);
        for sig in &found.signatures {
            let args = shown_args(db, new.arch, &sig.syscall, &sig.fields, None);
            table.push_record([
                sig.syscall.clone(),
                crate::report::text::args(&args),
                sig.calls.to_string(),
                sig.first_executable.clone().unwrap_or_default(),
            ]);
        }
        writeln!(out, "{}", table.build().with(Style::blank()))?;
    }
    if !found.executables.is_empty() {
        writeln!(out, "New executables ({}):", found.executables.len())?;
        let mut table = Builder::default();
        table.push_record(["path", "format"]);
        for exe in &found.executables {
            table.push_record([exe.path.clone(), format_name(&exe.format)]);
        }
        writeln!(out, "{}", table.build().with(Style::blank()))?;
    }
    Ok(())
}

fn abi_name(abi: Abi) -> &'static str {
    match abi {
        Abi::Native => "native",
        Abi::Compat => "compat",
    }
}

fn status_name(status: GvisorStatus) -> &'static str {
    match status {
        GvisorStatus::Full => "full",
        GvisorStatus::Partial => "partial",
        GvisorStatus::Unimplemented => "unimplemented",
        GvisorStatus::NeedsCapability => "needs capability",
    }
}

fn format_name(format: &BinaryFormat) -> String {
    match format {
        BinaryFormat::Elf {
            bits,
            machine,
            is_static,
        } => format!(
            "ELF {bits}-bit {machine}, {}",
            if *is_static { "static" } else { "dynamic" }
        ),
        BinaryFormat::Script { interpreter } => format!("script ({interpreter})"),
        BinaryFormat::Unknown { reason } => format!("unknown: {reason}"),
    }
}
