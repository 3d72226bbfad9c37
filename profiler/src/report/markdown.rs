//! The Markdown renderer: a self-contained section to paste into a migration ticket —
//! caveats first, then the verdict per runtime with its blockers and the configuration
//! it needs, every finding in full, and how the facts were captured.

use std::io::{self, Write};

use crate::analysis::finding::{Finding, Report, Verdict, VerdictStatus};

use super::text;

/// Writes `report` as Markdown.
pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "## Sandbox compatibility: {}",
        code_list(&report.inputs)
    )?;
    writeln!(out)?;
    for caveat in &report.caveats {
        writeln!(out, "> **Caveat:** {}", inline(caveat))?;
        writeln!(out)?;
    }
    verdict_table(report, out)?;
    for verdict in &report.verdicts {
        verdict_section(verdict, out)?;
    }
    if let Some(trial) = &report.trial {
        super::trial::markdown(trial, out)?;
    }
    findings(report, out)?;
    captured(report, out)
}

fn verdict_table(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "| Runtime | Verdict | Blockers | Configuration needed |"
    )?;
    writeln!(out, "|---|---|---|---|")?;
    for verdict in &report.verdicts {
        let status = text::status_name(verdict.status);
        let status = if verdict.status == VerdictStatus::Compatible {
            status.to_owned()
        } else {
            format!("**{status}**")
        };
        let config: Vec<String> = verdict
            .configuration
            .iter()
            .map(|fix| match text::remediation_setting(fix) {
                Some(setting) => format!("`{}`", cell(setting)),
                None => cell(&fix.summary),
            })
            .collect();
        writeln!(
            out,
            "| {} | {} | {} | {} |",
            text::runtime_name(verdict.runtime),
            status,
            verdict.blockers.len(),
            if config.is_empty() {
                "none".to_owned()
            } else {
                config.join(", ")
            }
        )?;
    }
    writeln!(out)
}

fn verdict_section(verdict: &Verdict, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "### {}: {}",
        text::runtime_name(verdict.runtime),
        text::status_name(verdict.status)
    )?;
    writeln!(out)?;
    writeln!(out, "{}", inline(&verdict.summary))?;
    writeln!(out)?;
    if !verdict.blockers.is_empty() {
        writeln!(out, "Blockers:")?;
        writeln!(out)?;
        for blocker in &verdict.blockers {
            writeln!(out, "- {}", inline(blocker))?;
        }
        writeln!(out)?;
    }
    if !verdict.configuration.is_empty() {
        writeln!(out, "Configuration needed:")?;
        writeln!(out)?;
        for fix in &verdict.configuration {
            writeln!(out, "- {}", remediation(fix))?;
        }
        writeln!(out)?;
    }
    Ok(())
}

fn findings(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "### Findings")?;
    writeln!(out)?;
    if report.findings.is_empty() {
        writeln!(out, "None.")?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(
        out,
        "| # | Runtime | Severity | Category | Finding | Calls |"
    )?;
    writeln!(out, "|---|---|---|---|---|---|")?;
    for (i, finding) in report.findings.iter().enumerate() {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            i + 1,
            text::runtime_name(finding.runtime),
            text::severity_name(finding.severity),
            text::category_name(finding.category),
            cell(&finding.title),
            finding.evidence.calls
        )?;
    }
    writeln!(out)?;
    for (i, finding) in report.findings.iter().enumerate() {
        finding_detail(i + 1, finding, out)?;
    }
    Ok(())
}

fn finding_detail(number: usize, finding: &Finding, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "#### {number}. {} · {} · {}",
        text::runtime_name(finding.runtime),
        text::severity_name(finding.severity),
        inline(&finding.title)
    )?;
    writeln!(out)?;
    writeln!(out, "- What happens: {}", inline(&finding.effect))?;
    let evidence = &finding.evidence;
    let counts = inline(&text::counts(evidence));
    match &evidence.syscall {
        Some(syscall) => writeln!(out, "- Observed: `{}`, {counts}", code(syscall))?,
        None => writeln!(out, "- Observed: {counts}")?,
    }
    if !evidence.args.is_empty() {
        writeln!(out, "- Arguments: `{}`", code(&text::args(&evidence.args)))?;
    }
    if let Some(first) = &evidence.first {
        writeln!(out, "- First: {}", inline(&text::occurrence(first)))?;
    }
    if let Some(last) = &evidence.last {
        writeln!(out, "- Last: {}", inline(&text::occurrence(last)))?;
    }
    if !evidence.executables.is_empty() {
        writeln!(out, "- Executables: {}", code_list(&evidence.executables))?;
    }
    for line in &evidence.detail {
        writeln!(out, "- {}", inline(line))?;
    }
    if let Some(obs) = &finding.observation {
        writeln!(
            out,
            "- Under runsc: {}",
            inline(&super::trial::observation(obs))
        )?;
        for line in &obs.detail {
            writeln!(out, "  - {}", inline(line))?;
        }
    }
    match finding.remediations.as_slice() {
        [] => {}
        [only] => writeln!(out, "- Remediation: {}", remediation(only))?,
        all => {
            writeln!(out, "- Remediation, best first:")?;
            for fix in all {
                writeln!(out, "  - {}", remediation(fix))?;
            }
        }
    }
    let reference = &finding.reference;
    let mut source = format!("`{}`", code(&reference.entry));
    if !reference.revision.is_empty() {
        source.push_str(&format!(" ({})", inline(&reference.revision)));
    }
    if !reference.paths.is_empty() {
        source.push_str(&format!(": {}", code_list(&reference.paths)));
    }
    writeln!(out, "- Database entry: {source}")?;
    writeln!(out)
}

fn captured(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "### How this was captured")?;
    writeln!(out)?;
    writeln!(
        out,
        "- Tool: {} {}",
        inline(&report.tool.name),
        inline(&report.tool.version)
    )?;
    writeln!(
        out,
        "- Database: {} (gVisor {})",
        inline(&report.database.version),
        inline(&report.database.gvisor_revision)
    )?;
    writeln!(out, "- Inputs: {}", code_list(&report.inputs))?;
    if !report.assumed_runsc_flags.is_empty() {
        writeln!(
            out,
            "- Assumed runsc flags: {}",
            code_list(&report.assumed_runsc_flags)
        )?;
    }
    for capture in &report.captures {
        writeln!(
            out,
            "- Capture: {}",
            inline_with_code(&text::capture(capture))
        )?;
    }
    Ok(())
}

fn remediation(fix: &crate::analysis::finding::RemediationRef) -> String {
    let kind = text::remediation_kind(fix.kind);
    match text::remediation_setting(fix) {
        Some(setting) => format!("`{}` ({kind}): {}", code(setting), inline(&fix.summary)),
        None => format!("{kind}: {}", inline(&fix.summary)),
    }
}

fn code_list(items: &[String]) -> String {
    items
        .iter()
        .map(|item| format!("`{}`", code(item)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Text on one Markdown line: line breaks become spaces, and characters Markdown would
/// read as markup (`*`, `_`, `<`, backticks…) are escaped, so a path like
/// `/proc/*/smaps` or a runsc log excerpt shows as written.
pub(crate) fn inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\r' => out.push(' '),
            '\\' | '`' | '*' | '_' | '<' | '>' | '[' | ']' | '|' | '#' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// As [`inline`], but backticks are kept: for our own phrases that quote a command line
/// as code (a backtick inside the quoted text becomes `'`).
pub(crate) fn inline_with_code(text: &str) -> String {
    text.split('`')
        .enumerate()
        .map(|(i, part)| if i % 2 == 1 { code(part) } else { inline(part) })
        .collect::<Vec<_>>()
        .join("`")
}

/// Text inside a table cell: as [`inline`] (which also escapes `|`).
fn cell(text: &str) -> String {
    inline(text)
}

/// Text inside a backtick code span: on one line, backticks replaced (a code span cannot
/// escape them) and `|` escaped so tables keep their columns.
pub(crate) fn code(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
        .replace('`', "'")
        .replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(inline("/proc/*/smaps_rollup"), "/proc/\\*/smaps\\_rollup");
        assert_eq!(inline("a\nb | c"), "a b \\| c");
        assert_eq!(code("a`b|c"), "a'b\\|c");
    }
}
