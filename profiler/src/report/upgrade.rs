//! Renderers of an [`UpgradeReport`] (what changing runsc's release changes for a
//! workload): terminal tables, a Markdown section for the upgrade ticket, JSON (schema
//! `sandprof.upgrade`). Like the report renderers they only lay out what the analysis
//! concluded.

use std::io::{self, Write};

use tabled::builder::Builder;
use tabled::settings::object::Columns;
use tabled::settings::{Modify, Style, Width};

use crate::analysis::finding::{Finding, Verdict};
use crate::analysis::upgrade::UpgradeReport;

use super::markdown::{code, inline};
use super::{text, Format};

/// Width the finding column wraps at.
const FINDING_WIDTH: usize = 60;

/// Writes `upgrade` to `out` in `format`.
pub fn render(upgrade: &UpgradeReport, format: Format, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Table => table(upgrade, out),
        Format::Markdown => markdown(upgrade, out),
        Format::Json => {
            let mut text = serde_json::to_string_pretty(upgrade).map_err(io::Error::other)?;
            text.push('\n');
            out.write_all(text.as_bytes())
        }
    }
}

/// "upgrading" or "downgrading", by the direction of the change.
fn direction(upgrade: &UpgradeReport) -> &'static str {
    if upgrade.is_upgrade() {
        "upgrading"
    } else {
        "downgrading"
    }
}

/// The caveats of both reports, each once.
fn caveats(upgrade: &UpgradeReport) -> Vec<&str> {
    let mut all: Vec<&str> = Vec::new();
    for caveat in upgrade.before.caveats.iter().chain(&upgrade.after.caveats) {
        if !all.contains(&caveat.as_str()) {
            all.push(caveat);
        }
    }
    all
}

fn status(verdict: Option<&Verdict>) -> &'static str {
    verdict.map_or("not judged", |v| text::status_name(v.status))
}

fn table(upgrade: &UpgradeReport, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "sandprof upgrade: {}", upgrade.after.inputs.join(", "))?;
    writeln!(
        out,
        "{} runsc from gVisor {} to {} (database {})",
        direction(upgrade),
        upgrade.from,
        upgrade.to,
        upgrade.after.database.version
    )?;
    writeln!(out)?;
    for caveat in caveats(upgrade) {
        writeln!(out, "CAVEAT: {caveat}")?;
    }
    writeln!(
        out,
        "\ngVisor: {} -> {}",
        status(upgrade.verdict_before.as_ref()).to_uppercase(),
        status(upgrade.verdict_after.as_ref()).to_uppercase()
    )?;
    let sides = [
        (&upgrade.from, &upgrade.verdict_before),
        (&upgrade.to, &upgrade.verdict_after),
    ];
    for (release, verdict) in sides {
        if let Some(verdict) = verdict {
            writeln!(out, "  at {release}: {}", verdict.summary)?;
        }
    }
    let sections: [(&str, Vec<&Finding>); 2] = [
        ("FIXED", upgrade.fixed.iter().collect()),
        ("NEW", upgrade.new.iter().collect()),
    ];
    for (heading, findings) in sections {
        writeln!(out, "\n{heading} ({})", findings.len())?;
        if !findings.is_empty() {
            let mut b = Builder::default();
            b.push_record(["Severity", "Finding", "Calls"]);
            for f in findings {
                b.push_record([
                    text::severity_name(f.severity).to_owned(),
                    format!("{}\n{}", f.title, f.effect),
                    f.evidence.calls.to_string(),
                ]);
            }
            writeln!(out, "{}", wrapped(b))?;
        }
    }
    writeln!(out, "\nCHANGED ({})", upgrade.changed.len())?;
    if !upgrade.changed.is_empty() {
        let mut b = Builder::default();
        b.push_record(["Severity", "Finding"]);
        for c in &upgrade.changed {
            b.push_record([
                format!(
                    "{} -> {}",
                    text::severity_name(c.before.severity),
                    text::severity_name(c.after.severity)
                ),
                format!(
                    "{} ({})\n{} ({})",
                    c.before.title, upgrade.from, c.after.title, upgrade.to
                ),
            ]);
        }
        writeln!(out, "{}", wrapped(b))?;
    }
    writeln!(out, "\nUnchanged: {} findings.", upgrade.unchanged)
}

fn wrapped(builder: Builder) -> String {
    builder
        .build()
        .with(Style::sharp())
        .with(Modify::new(Columns::one(1)).with(Width::wrap(FINDING_WIDTH).keep_words(true)))
        .to_string()
}

fn markdown(upgrade: &UpgradeReport, out: &mut dyn Write) -> io::Result<()> {
    let inputs: Vec<String> = upgrade
        .after
        .inputs
        .iter()
        .map(|i| format!("`{}`", code(i)))
        .collect();
    writeln!(
        out,
        "## gVisor {} to {}: {}",
        code(&upgrade.from),
        code(&upgrade.to),
        inputs.join(", ")
    )?;
    writeln!(out)?;
    for caveat in caveats(upgrade) {
        writeln!(out, "> **Caveat:** {}", inline(caveat))?;
        writeln!(out)?;
    }
    writeln!(
        out,
        "| | `{}` | `{}` |",
        code(&upgrade.from),
        code(&upgrade.to)
    )?;
    writeln!(out, "|---|---|---|")?;
    writeln!(
        out,
        "| gVisor verdict | {} | {} |",
        status(upgrade.verdict_before.as_ref()),
        status(upgrade.verdict_after.as_ref())
    )?;
    writeln!(
        out,
        "\n{} runsc: {} fixed, {} new, {} changed, {} unchanged.",
        capitalized(direction(upgrade)),
        count(upgrade.fixed.len()),
        upgrade.new.len(),
        upgrade.changed.len(),
        upgrade.unchanged
    )?;
    for (heading, findings) in [("Fixed", &upgrade.fixed), ("New", &upgrade.new)] {
        if findings.is_empty() {
            continue;
        }
        writeln!(out, "\n### {heading}\n")?;
        for f in findings {
            writeln!(
                out,
                "- **{}** {}: {}",
                text::severity_name(f.severity),
                inline(&f.title),
                inline(&f.effect)
            )?;
        }
    }
    if !upgrade.changed.is_empty() {
        writeln!(out, "\n### Changed\n")?;
        for c in &upgrade.changed {
            writeln!(
                out,
                "- **{} → {}** {} → {}",
                text::severity_name(c.before.severity),
                text::severity_name(c.after.severity),
                inline(&c.before.title),
                inline(&c.after.title)
            )?;
        }
    }
    Ok(())
}

fn count(n: usize) -> String {
    format!("{n} finding{}", if n == 1 { "" } else { "s" })
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
