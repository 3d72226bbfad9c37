//! Renderers: a [`Report`] (verdicts and findings) → terminal table, Markdown, JSON.
//!
//! Renderers only lay out what the analysis concluded; every sentence of substance
//! (titles, effects, summaries) comes from the findings. Output is deterministic: the
//! same report always renders to the same bytes, and color is used only when asked for
//! (callers pass `color = true` only when stdout is a terminal).
//!
//! Both `sandprof report` and `sandprof runsc-log` render through [`render`], and gate CI
//! with [`FailOn`].

mod json;
pub(crate) mod markdown;
mod table;
pub mod text;
pub mod trial;

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
        report.verdicts.iter().any(|verdict| match self {
            FailOn::Breaks => matches!(
                verdict.status,
                VerdictStatus::LikelyToBreak
                    | VerdictStatus::Breaks
                    | VerdictStatus::Incomplete
                    | VerdictStatus::NoEvidence
            ),
            FailOn::NeedsConfig => !matches!(
                verdict.status,
                VerdictStatus::Compatible | VerdictStatus::Works | VerdictStatus::NoFailureFound
            ),
            FailOn::Never => false,
        })
    }

    /// The exit code for `report`: [`FailOn::FAILED`] if it fails the gate, else success.
    pub fn exit_code(self, report: &Report) -> ExitCode {
        if self.fails(report) {
            ExitCode::from(Self::FAILED)
        } else {
            ExitCode::SUCCESS
        }
    }
}
