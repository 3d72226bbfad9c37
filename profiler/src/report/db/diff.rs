//! `sandprof db diff`: what differs between two gVisor releases — syscall table entries,
//! the kernel gVisor reports, runsc flags, /proc paths and argument rules.

use std::io::{self, Write};

use serde::Serialize;
use syscall_db::compare::{FlagDeclaration, ReleaseDiff};
use tabled::builder::Builder;
use tabled::settings::Style;

use super::syscall::outcome;
use super::{gvisor_summary, wrap, write_json, DbFormat};

/// `sandprof db diff` as JSON (schema `sandprof.db.diff/1`).
#[derive(Serialize)]
pub struct DiffView<'a> {
    /// Schema.
    pub schema: &'static str,
    /// Data set version.
    pub database_version: &'a str,
    /// How the releases asked for were resolved, when one was not a known release.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The differences.
    #[serde(flatten)]
    pub diff: &'a ReleaseDiff,
}

/// Writes `view` in `format`.
pub fn render(view: &DiffView<'_>, format: DbFormat, out: &mut dyn Write) -> io::Result<()> {
    if format == DbFormat::Json {
        return write_json(out, view);
    }
    let d = view.diff;
    writeln!(
        out,
        "gVisor {} -> {} on {} (database {})",
        d.from, d.to, d.arch, view.database_version
    )?;
    for note in &view.notes {
        writeln!(out, "note: {note}")?;
    }
    if d.is_empty() {
        return writeln!(out, "\nNothing the database tracks differs.");
    }
    if !d.syscalls.is_empty() {
        writeln!(out, "\nSyscalls ({})", d.syscalls.len())?;
        let mut b = Builder::default();
        b.push_record(["number", "syscall", &d.from.tag(), &d.to.tag()]);
        for c in &d.syscalls {
            b.push_record([
                c.number.to_string(),
                c.name.clone(),
                gvisor_summary(&c.before),
                gvisor_summary(&c.after),
            ]);
        }
        writeln!(out, "{}", wrap(b.build().with(Style::sharp()), 2))?;
    }
    if let Some(kernel) = &d.kernel {
        let (before, after) = (&kernel.before, &kernel.after);
        writeln!(
            out,
            "\nKernel reported: {} {} -> {} {}",
            before.sysname, before.release, after.sysname, after.release
        )?;
    }
    let names = |flags: &[syscall_db::RunscFlagSpec]| -> Vec<String> {
        flags.iter().map(|f| format!("--{}", f.name)).collect()
    };
    list(out, "runsc flags added", &names(&d.flags_added))?;
    list(out, "runsc flags removed", &names(&d.flags_removed))?;
    let declared = |f: &FlagDeclaration| match &f.default {
        Some(default) => format!("{} (default {default:?})", f.kind),
        None => f.kind.clone(),
    };
    let changed: Vec<String> = d
        .flags_changed
        .iter()
        .map(|c| {
            format!(
                "--{}: {} -> {}",
                c.name,
                declared(&c.before),
                declared(&c.after)
            )
        })
        .collect();
    list(out, "runsc flags changed", &changed)?;
    list(out, "/proc paths added", &d.proc_added)?;
    list(out, "/proc paths removed", &d.proc_removed)?;
    let ids = |rules: &[syscall_db::ArgRule]| -> Vec<String> {
        rules.iter().map(|r| r.id.clone()).collect()
    };
    list(out, "Rules added", &ids(&d.rules_added))?;
    list(out, "Rules removed", &ids(&d.rules_removed))?;
    let rules: Vec<String> = d
        .rules_changed
        .iter()
        .map(|c| {
            let (a, b) = (outcome(&c.before.outcome), outcome(&c.after.outcome));
            if a == b {
                format!("{}: conditions, note or fixes differ", c.after.id)
            } else {
                format!("{}: {a} -> {b}", c.after.id)
            }
        })
        .collect();
    list(out, "Rules changed", &rules)
}

/// `heading (n)` and one item a line, when there are any.
fn list(out: &mut dyn Write, heading: &str, items: &[String]) -> io::Result<()> {
    if items.is_empty() {
        return Ok(());
    }
    writeln!(out, "\n{heading} ({})", items.len())?;
    for item in items {
        writeln!(out, "  {item}")?;
    }
    Ok(())
}
