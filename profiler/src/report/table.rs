//! The terminal renderer: verdicts first, then one table per severity (worst first),
//! then how the facts were captured. ANSI color marks verdicts and severity headings when
//! the caller says the output is a terminal; tables themselves stay plain so their
//! widths are right on any terminal.

use std::io::{self, Write};

use tabled::builder::Builder;
use tabled::grid::util::string::get_line_width;
use tabled::settings::object::Columns;
use tabled::settings::{Modify, Style, Width};

use crate::analysis::finding::{Finding, Report, Severity, VerdictStatus};

use super::text;

/// Width the finding column wraps at: the table then fits a 120-column terminal.
const FINDING_WIDTH: usize = 56;

/// Writes `report` as terminal tables.
pub fn render(report: &Report, out: &mut dyn Write, color: bool) -> io::Result<()> {
    let paint = Paint { on: color };
    writeln!(
        out,
        "{} {}",
        paint.bold("sandprof report:"),
        report.inputs.join(", ")
    )?;
    writeln!(
        out,
        "database {} (gVisor {})",
        report.database.version, report.database.gvisor_revision
    )?;
    if !report.assumed_runsc_flags.is_empty() {
        writeln!(
            out,
            "assuming runsc flags: {}",
            report.assumed_runsc_flags.join(" ")
        )?;
    }
    writeln!(out)?;
    for caveat in &report.caveats {
        writeln!(out, "{} {caveat}", paint.paint(YELLOW_BOLD, "CAVEAT:"))?;
    }
    if !report.caveats.is_empty() {
        writeln!(out)?;
    }

    for verdict in &report.verdicts {
        let status = text::status_name(verdict.status).to_uppercase();
        let style = match verdict.status {
            VerdictStatus::Compatible | VerdictStatus::Works => GREEN_BOLD,
            VerdictStatus::CompatibleWithConfiguration
            | VerdictStatus::WorksDegraded
            | VerdictStatus::Incomplete
            | VerdictStatus::NoEvidence
            | VerdictStatus::NoFailureFound => YELLOW_BOLD,
            VerdictStatus::LikelyToBreak | VerdictStatus::Breaks => RED_BOLD,
        };
        writeln!(
            out,
            "{}: {}",
            paint.bold(text::runtime_name(verdict.runtime)),
            paint.paint(style, &status)
        )?;
        writeln!(out, "  {}", verdict.summary)?;
        for blocker in &verdict.blockers {
            writeln!(out, "  blocker: {blocker}")?;
        }
        for fix in &verdict.configuration {
            writeln!(out, "  configure: {}", text::remediation(fix))?;
        }
        writeln!(out)?;
    }
    if let Some(trial) = &report.trial {
        super::trial::table(trial, out)?;
    }

    for severity in text::SEVERITIES {
        let group: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|finding| finding.severity == severity)
            .collect();
        if group.is_empty() {
            continue;
        }
        let heading = format!(
            "{} ({})",
            text::severity_name(severity).to_uppercase(),
            group.len()
        );
        writeln!(out, "{}", paint.paint(severity_style(severity), &heading))?;
        writeln!(out, "{}", findings_table(&group, report.trial.is_some()))?;
        writeln!(out)?;
    }
    if report.findings.is_empty() {
        writeln!(out, "No findings.")?;
        writeln!(out)?;
    }

    writeln!(out, "{}", paint.bold("Captured"))?;
    for capture in &report.captures {
        writeln!(out, "  {}", text::capture(capture))?;
    }
    Ok(())
}

/// `observed` adds what a trial showed about each finding (`sandprof try`).
fn findings_table(findings: &[&Finding], observed: bool) -> String {
    let mut header = vec!["Runtime", "Category", "Finding", "Calls", "First", "Fix"];
    if observed {
        header.push("Observed");
    }
    // The builder pads every row to the column count it is given: exactly the header's.
    let mut builder = Builder::with_capacity(findings.len() + 1, header.len());
    builder.push_record(header);
    for finding in findings {
        let first = finding
            .evidence
            .first
            .as_ref()
            .map(text::occurrence)
            .unwrap_or_default();
        let mut record = vec![
            text::runtime_name(finding.runtime).to_owned(),
            text::category_name(finding.category).to_owned(),
            wrap_lines(
                &format!("{}\n{}", finding.title, finding.effect),
                FINDING_WIDTH,
            ),
            finding.evidence.calls.to_string(),
            first,
            text::first_fix(finding),
        ];
        if observed {
            record.push(
                finding
                    .observation
                    .as_ref()
                    .map(super::trial::observation)
                    .unwrap_or_default(),
            );
        }
        builder.push_record(record);
    }
    let mut table = builder.build();
    table
        .with(Style::sharp())
        .with(Modify::new(Columns::one(4)).with(Width::wrap(28).keep_words(true)))
        .with(Modify::new(Columns::one(5)).with(Width::wrap(24).keep_words(true)));
    if observed {
        table.with(Modify::new(Columns::one(6)).with(Width::wrap(24).keep_words(true)));
    }
    table.to_string()
}

/// Wraps each line of `text` at word boundaries to at most `width` columns; a word wider
/// than that is cut. tabled's own word wrapping treats the whole cell as one paragraph
/// and so misplaces breaks after an embedded newline (the title/effect boundary).
fn wrap_lines(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / width);
    for (n, line) in text.split('\n').enumerate() {
        if n > 0 {
            out.push('\n');
        }
        let mut used = 0;
        for word in line.split(' ').filter(|word| !word.is_empty()) {
            let mut word = word;
            let mut word_width = get_line_width(word);
            if used > 0 && used + 1 + word_width <= width {
                out.push(' ');
                used += 1;
            } else if used > 0 {
                out.push('\n');
                used = 0;
            }
            // Here the line is empty: a word too wide for a line of its own is cut.
            while word_width > width {
                let (head, tail) = split_at_width(word, width);
                out.push_str(head);
                out.push('\n');
                word = tail;
                word_width = get_line_width(word);
            }
            out.push_str(word);
            used += word_width;
        }
    }
    out
}

/// Splits `word` after as many characters as fit in `width` columns (at least one).
fn split_at_width(word: &str, width: usize) -> (&str, &str) {
    let mut end = 0;
    let mut used = 0;
    for (i, c) in word.char_indices() {
        let w = get_line_width(c.encode_utf8(&mut [0; 4]));
        if used + w > width && end > 0 {
            break;
        }
        used += w;
        end = i + c.len_utf8();
    }
    word.split_at(end)
}

const RED_BOLD: &str = "\x1b[1;31m";
const YELLOW_BOLD: &str = "\x1b[1;33m";
const GREEN_BOLD: &str = "\x1b[1;32m";
const CYAN: &str = "\x1b[36m";
const DIM: &str = "\x1b[2m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

fn severity_style(severity: Severity) -> &'static str {
    match severity {
        Severity::Breaks => RED_BOLD,
        Severity::NeedsConfig => YELLOW_BOLD,
        Severity::Degraded => CYAN,
        Severity::Info => DIM,
    }
}

/// ANSI styling that is a no-op when color is off.
struct Paint {
    on: bool,
}

impl Paint {
    fn paint(&self, style: &str, text: &str) -> String {
        if self.on {
            format!("{style}{text}{RESET}")
        } else {
            text.to_owned()
        }
    }

    fn bold(&self, text: &str) -> String {
        self.paint(BOLD, text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_each_line_on_its_own() {
        assert_eq!(
            wrap_lines("a title that wraps\nWith --net-raw set, this works.", 12),
            "a title that\nwraps\nWith\n--net-raw\nset, this\nworks."
        );
    }

    #[test]
    fn cuts_words_wider_than_a_line() {
        assert_eq!(
            wrap_lines("see /proc/self/smaps", 8),
            "see\n/proc/se\nlf/smaps"
        );
        assert_eq!(wrap_lines("", 8), "");
    }
}
