//! Renderers: a [`Report`] (verdicts and findings) → terminal table, Markdown, JSON.
//!
//! Renderers only lay out what the analysis concluded; every sentence of substance
//! (titles, effects, summaries) comes from the findings. Output is deterministic: the
//! same report always renders to the same bytes, and color is used only when asked for
//! (callers pass `color = true` only when stdout is a terminal).
//!
//! Both `sandprof report` and `sandprof runsc-log` render through [`render`], and gate CI
//! with [`Gate`] (`--fail-on`, `--allow-incomplete`).

pub mod db;
mod json;
pub(crate) mod markdown;
mod table;
pub mod text;
pub mod upgrade;

use std::io::{self, Write};
use std::process::ExitCode;

use crate::analysis::finding::{Report, VerdictStatus};

/// Output format of a report.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Terminal tables grouped by severity.
    #[default]
    Table,
    /// A self-contained Markdown section for a migration ticket.
    Markdown,
    /// The report as JSON (schema `sandprof.report`, documented in docs/report-format.md).
    Json,
}

/// Writes `report` to `out` in `format`. `color` adds ANSI colors to the table format
/// (ignored by the others); pass it only when `out` is a terminal.
pub fn render(report: &Report, format: Format, out: &mut dyn Write, color: bool) -> io::Result<()> {
    match format {
        Format::Table => table::render(report, out, color),
        Format::Markdown => markdown::render(report, out),
        Format::Json => json::render(report, out),
    }
}

/// When a report makes the command fail, for CI gates (`--fail-on`).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// Fail when any runtime is likely to break.
    Breaks,
    /// Fail when any runtime breaks or needs configuration.
    NeedsConfig,
    /// Never fail on findings (errors still fail).
    #[default]
    Never,
}

impl FailOn {
    /// Exit code when the gate fails. 2 is taken by errors.
    pub const FAILED: u8 = 1;

    /// Whether `report` fails this gate. A verdict without evidence to rest on
    /// (incomplete, no evidence) fails every gate: it is never a pass.
    pub fn fails(self, report: &Report) -> bool {
        Gate {
            fail_on: self,
            allow_incomplete: false,
        }
        .fails(report)
    }

    /// The exit code for `report`: [`FailOn::FAILED`] if it fails the gate, else success.
    pub fn exit_code(self, report: &Report) -> ExitCode {
        exit_code(self.fails(report))
    }
}

/// The CI gate every command with `--fail-on` shares.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, clap::Args)]
pub struct Gate {
    /// Exit with status 1 when a runtime's verdict is likely to break (`breaks`), or
    /// also when one needs configuration (`needs-config`). A verdict with no evidence
    /// to judge, or judged on incomplete evidence, fails either.
    #[arg(long, value_enum, default_value_t = FailOn::Never)]
    pub fail_on: FailOn,
    /// Let `--fail-on` pass a verdict that is incomplete only because evidence was lost
    /// (the report names what): nothing found breaks it, and for `needs-config` it
    /// needs no configuration either. No evidence at all still fails.
    #[arg(long)]
    pub allow_incomplete: bool,
}

impl Gate {
    /// Whether `report` fails the gate.
    pub fn fails(&self, report: &Report) -> bool {
        report.verdicts.iter().any(|verdict| match self.fail_on {
            FailOn::Never => false,
            FailOn::Breaks => match verdict.status {
                VerdictStatus::LikelyToBreak
                | VerdictStatus::Breaks
                | VerdictStatus::NoEvidence => true,
                VerdictStatus::Incomplete => !self.allow_incomplete,
                _ => false,
            },
            FailOn::NeedsConfig => match verdict.status {
                VerdictStatus::Compatible
                | VerdictStatus::Works
                | VerdictStatus::NoFailureFound => false,
                // An incomplete verdict keeps the configuration its findings need.
                VerdictStatus::Incomplete => {
                    !self.allow_incomplete || !verdict.configuration.is_empty()
                }
                _ => true,
            },
        })
    }

    /// The exit code for `report`: [`FailOn::FAILED`] if it fails the gate, else success.
    pub fn exit_code(&self, report: &Report) -> ExitCode {
        exit_code(self.fails(report))
    }
}

fn exit_code(failed: bool) -> ExitCode {
    if failed {
        ExitCode::from(FailOn::FAILED)
    } else {
        ExitCode::SUCCESS
    }
}
