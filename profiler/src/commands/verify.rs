//! `sandprof verify`: inside a pod, detect the runtime in use and check the isolation
//! boundary, printing every check with its evidence. Exits 1 when a check fails or the
//! runtime is not the one `--expect` names.

use std::io::{self, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

use super::output::Output;
use crate::verify::{self, CheckStatus, DetectedRuntime, SystemView};

/// Options of `sandprof verify`.
#[derive(Debug, clap::Args)]
pub struct Options {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Fail unless this runtime is detected.
    #[arg(long, value_enum)]
    pub expect: Option<Expect>,
    /// Read /proc and /sys below this directory instead of / (a recorded tree). An
    /// empty value names no tree: nothing is read, and the runtime is unknown.
    #[arg(long, value_name = "DIR", value_parser = parse_root)]
    pub root: Option<PathBuf>,
}

/// Output formats.
#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Plain text for a terminal or `kubectl logs`.
    Table,
    /// JSON.
    Json,
}

/// Runtimes `--expect` accepts.
#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Expect {
    /// gVisor.
    Gvisor,
    /// Kata Containers.
    Kata,
    /// runc or no container (the host kernel).
    Runc,
}

/// `--root`'s value as given, the empty one included (clap's path parser refuses it).
fn parse_root(text: &str) -> Result<PathBuf, String> {
    Ok(PathBuf::from(text))
}

/// Runs the subcommand.
pub fn run(opts: Options) -> anyhow::Result<ExitCode> {
    let view = match &opts.root {
        Some(root) => {
            anyhow::ensure!(
                root.as_os_str().is_empty() || root.is_dir(),
                "--root {}: not a directory",
                root.display()
            );
            SystemView::recorded(root)
        }
        None => SystemView::live(),
    };
    let result = verify::verify(&view)?;
    let expected = opts.expect.map(|e| match e {
        Expect::Gvisor => DetectedRuntime::Gvisor,
        Expect::Kata => DetectedRuntime::Kata,
        Expect::Runc => DetectedRuntime::RuncOrHost,
    });
    // Exit 1 below: an unknown runtime fails every check that needs one, and any
    // --expect.
    let mut out = Output::stdout();
    match opts.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &result).context("failed to write JSON")?;
            writeln!(out)?;
        }
        Format::Table => {
            writeln!(out, "runtime: {}", result.detection.runtime.label())?;
            for e in &result.detection.evidence {
                writeln!(out, "  - {e}")?;
            }
            for check in &result.checks {
                let mark = match check.status {
                    CheckStatus::Pass => "pass",
                    CheckStatus::Fail => "FAIL",
                    CheckStatus::Unknown => "????",
                };
                writeln!(out, "[{mark}] {:<24} {}", check.id, check.evidence)?;
            }
        }
    }
    out.finish()?;
    if let Some(expected) = expected {
        if expected != result.detection.runtime {
            writeln!(
                io::stderr(),
                "sandprof: expected {}, found {}",
                expected.label(),
                result.detection.runtime.label()
            )?;
            return Ok(ExitCode::from(1));
        }
    }
    Ok(if result.all_passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
