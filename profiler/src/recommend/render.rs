//! Layouts of a [`Recommendation`] for people: a terminal table and a Markdown section
//! for a design review or migration ticket. Both show the same things in the same
//! order: the decision and its reasons, the decision table (options as columns), where
//! each cost figure comes from, the residual risks of the choice with their controls,
//! the rollout plan and the caveats. JSON is the model itself, serialized.

use std::io::{self, Write};

use tabled::builder::Builder;
use tabled::settings::Style;

use crate::report::markdown::{code, inline, inline_with_code};

use super::decide::threat_name;
use super::model::{Assessment, CompatStatus, CostBasis, Recommendation};

/// Width an option's column wraps at: the table then fits a 140-column terminal.
const OPTION_WIDTH: usize = 38;

/// The decision-table rows: a label and what each option shows in it.
fn rows(r: &Recommendation) -> Vec<(&'static str, Vec<Vec<String>>)> {
    let each = |f: &dyn Fn(&Assessment) -> Vec<String>| -> Vec<Vec<String>> {
        r.options.iter().map(f).collect()
    };
    vec![
        (
            "Verdict",
            each(&|a| {
                if a.choice == r.decision.choice {
                    vec!["RECOMMENDED".to_owned()]
                } else if a.viable() {
                    vec!["viable".to_owned()]
                } else {
                    a.excluded
                        .iter()
                        .map(|e| format!("excluded: {}", e.rule))
                        .collect()
                }
            }),
        ),
        ("Score", each(&|a| vec![a.score.to_string()])),
        (
            "Compatibility",
            each(&|a| {
                let mut lines = vec![compat_name(a.compatibility.status).to_owned()];
                lines.extend(
                    a.compatibility
                        .blockers
                        .iter()
                        .map(|b| format!("breaks: {b}")),
                );
                lines.extend(
                    a.compatibility
                        .configuration
                        .iter()
                        .map(|c| format!("configure: {c}")),
                );
                lines
            }),
        ),
        ("Protects against", each(&|a| a.protects_against.clone())),
        ("Escape surface", each(&|a| vec![a.escape_surface.clone()])),
        (
            "Cost",
            each(&|a| {
                a.cost
                    .iter()
                    .map(|c| format!("{}: {} [{}]", c.what, c.value, basis_name(c.basis)))
                    .collect()
            }),
        ),
        ("Nodes", each(&|a| a.node_requirements.clone())),
    ]
}

/// The decision in words.
fn decision_line(r: &Recommendation) -> String {
    let class = r
        .decision
        .runtime_class
        .as_deref()
        .map(|c| format!(" (RuntimeClass {c})"))
        .unwrap_or_default();
    if r.decision.meets_threat_model {
        format!("{}{class}", r.decision.choice)
    } else {
        format!(
            "{}{class}, as a stopgap: it does not meet the threat model",
            r.decision.choice
        )
    }
}

fn header(r: &Recommendation) -> String {
    format!(
        "threat: {}; nodes: {}; GPU: {}",
        threat_name(r.threat),
        nodes_name(r),
        r.gpu.as_deref().unwrap_or("no")
    )
}

fn nodes_name(r: &Recommendation) -> &'static str {
    match r.nodes {
        super::model::Nodes::BareMetal => "bare metal",
        super::model::Nodes::NestedVirt => "VMs with nested virtualization",
        super::model::Nodes::NoVirt => "VMs without virtualization",
    }
}

fn compat_name(s: CompatStatus) -> &'static str {
    match s {
        CompatStatus::Compatible => "compatible",
        CompatStatus::NeedsConfiguration => "needs configuration",
        CompatStatus::LikelyToBreak => "likely to break",
        CompatStatus::Unknown => "unknown",
    }
}

fn basis_name(b: CostBasis) -> &'static str {
    match b {
        CostBasis::Published => "published",
        CostBasis::Estimate => "estimate",
        CostBasis::Unmeasured => "unmeasured",
        CostBasis::Baseline => "baseline",
        CostBasis::Measured => "measured",
    }
}

/// Writes the terminal layout.
pub fn table(r: &Recommendation, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "sandprof recommend: {}", header(r))?;
    if !r.evidence.is_empty() {
        writeln!(out, "evidence: {}", r.evidence.join(", "))?;
    }
    writeln!(out)?;
    for caveat in &r.caveats {
        writeln!(out, "CAVEAT: {caveat}")?;
    }
    if !r.caveats.is_empty() {
        writeln!(out)?;
    }
    writeln!(out, "RECOMMENDATION: {}", decision_line(r))?;
    for reason in &r.decision.reasons {
        writeln!(out, "  - {reason}")?;
    }
    writeln!(out)?;

    let mut builder = Builder::default();
    let mut head = vec![String::new()];
    head.extend(r.options.iter().map(|a| a.choice.to_string()));
    builder.push_record(head);
    for (label, cells) in rows(r) {
        let mut record = vec![label.to_owned()];
        record.extend(cells.iter().map(|lines| {
            lines
                .iter()
                .flat_map(|l| wrap(l, OPTION_WIDTH))
                .collect::<Vec<_>>()
                .join("\n")
        }));
        builder.push_record(record);
    }
    writeln!(out, "{}", builder.build().with(Style::sharp()))?;
    writeln!(out)?;

    writeln!(out, "Cost sources")?;
    for a in &r.options {
        for c in &a.cost {
            writeln!(
                out,
                "  {} {}: {}, {}",
                a.choice,
                c.what,
                basis_name(c.basis),
                c.source
            )?;
        }
    }
    writeln!(out)?;

    writeln!(out, "Residual risks of {}", r.decision.choice)?;
    for risk in &r.residual_risks {
        writeln!(out, "  {}: {}", risk.id, risk.risk)?;
        for control in &risk.controls {
            writeln!(out, "    - {control}")?;
        }
    }
    writeln!(out)?;

    writeln!(out, "Rollout and validation")?;
    for (i, step) in r.rollout.iter().enumerate() {
        writeln!(out, "  {}. {}", i + 1, step.title)?;
        for command in &step.commands {
            writeln!(out, "     $ {command}")?;
        }
        writeln!(out, "     pass when: {}", step.pass_when)?;
    }
    Ok(())
}

/// Writes the Markdown section.
pub fn markdown(r: &Recommendation, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "## Sandbox recommendation: {}",
        inline(&decision_line(r))
    )?;
    writeln!(out)?;
    write!(out, "{}", inline(&header(r)))?;
    if !r.evidence.is_empty() {
        let files: Vec<String> = r
            .evidence
            .iter()
            .map(|f| format!("`{}`", code(f)))
            .collect();
        write!(out, "; evidence: {}", files.join(", "))?;
    }
    writeln!(out)?;
    writeln!(out)?;
    for caveat in &r.caveats {
        writeln!(out, "> **Caveat:** {}", inline_with_code(caveat))?;
        writeln!(out)?;
    }
    writeln!(out, "### Why")?;
    writeln!(out)?;
    for reason in &r.decision.reasons {
        writeln!(out, "- {}", inline(reason))?;
    }
    writeln!(out)?;

    writeln!(out, "### Decision table")?;
    writeln!(out)?;
    let names: Vec<String> = r.options.iter().map(|a| a.choice.to_string()).collect();
    writeln!(out, "| | {} |", names.join(" | "))?;
    writeln!(out, "|---|{}", "---|".repeat(names.len()))?;
    for (label, cells) in rows(r) {
        let cells: Vec<String> = cells
            .iter()
            .map(|lines| {
                lines
                    .iter()
                    .map(|l| inline_with_code(l))
                    .collect::<Vec<_>>()
                    .join("<br>")
            })
            .collect();
        writeln!(out, "| **{label}** | {} |", cells.join(" | "))?;
    }
    writeln!(out)?;
    writeln!(out, "Cost sources:")?;
    writeln!(out)?;
    for a in &r.options {
        for c in &a.cost {
            writeln!(
                out,
                "- {} {}: {}, {}",
                a.choice,
                inline(&c.what),
                basis_name(c.basis),
                inline_with_code(&c.source)
            )?;
        }
    }
    writeln!(out)?;

    writeln!(out, "### Residual risks of {}", r.decision.choice)?;
    writeln!(out)?;
    for risk in &r.residual_risks {
        writeln!(out, "- **{}**: {}", risk.id, inline(&risk.risk))?;
        for control in &risk.controls {
            writeln!(out, "  - {}", inline_with_code(control))?;
        }
    }
    writeln!(out)?;

    writeln!(out, "### Rollout and validation")?;
    writeln!(out)?;
    for (i, step) in r.rollout.iter().enumerate() {
        writeln!(out, "{}. **{}**", i + 1, inline(&step.title))?;
        writeln!(out)?;
        writeln!(out, "   ```sh")?;
        for command in &step.commands {
            writeln!(out, "   {command}")?;
        }
        writeln!(out, "   ```")?;
        writeln!(out)?;
        writeln!(out, "   Pass when: {}", inline(&step.pass_when))?;
        writeln!(out)?;
    }
    Ok(())
}

/// Breaks `line` into lines of at most `width` characters at spaces; a word longer than
/// that (a revision, a path) is cut. Continuation lines are indented by two spaces so
/// each item of a cell stays recognisable.
fn wrap(line: &str, width: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in line.split(' ').filter(|w| !w.is_empty()) {
        let mut word: Vec<char> = word.chars().collect();
        loop {
            let indent = if out.is_empty() { 0 } else { 2 };
            let used = current.chars().count();
            let room = width.saturating_sub(indent + used + usize::from(used > 0));
            if word.len() <= room {
                if used > 0 {
                    current.push(' ');
                }
                current.extend(word.iter());
                break;
            }
            if used == 0 {
                // Longer than a whole line: cut it.
                let cut = width - indent;
                current.extend(word[..cut].iter());
                word.drain(..cut);
            }
            out.push(format!("{}{current}", " ".repeat(indent)));
            current.clear();
        }
    }
    if !current.is_empty() || out.is_empty() {
        let indent = if out.is_empty() { 0 } else { 2 };
        out.push(format!("{}{current}", " ".repeat(indent)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_breaks_at_spaces_and_cuts_long_words() {
        assert_eq!(
            wrap("one two three four", 9),
            ["one two", "  three", "  four"]
        );
        assert_eq!(
            wrap("abcdefghijkl xy", 6),
            ["abcdef", "  ghij", "  kl", "  xy"]
        );
        assert_eq!(wrap("", 6), [""]);
    }
}
