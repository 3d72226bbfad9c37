//! `sandprof db history`: one syscall over every gVisor release the database knows —
//! the runs of releases gVisor's table kept one entry for, our notes and the argument
//! rules, each with the releases it holds for.

use std::io::{self, Write};

use serde::Serialize;
use syscall_db::{Arch, ArgRule, GvisorNote, GvisorSpan, Releases, Syscall};
use tabled::builder::Builder;
use tabled::settings::Style;

use super::info::ReleaseSpan;
use super::syscall::{conditions, outcome};
use super::{gvisor_summary, known, span, wrap, wrap_columns, write_json, DbFormat};

/// `sandprof db history` as JSON (schema `sandprof.db.history/1`).
#[derive(Serialize)]
pub struct HistoryView<'a> {
    /// Schema.
    pub schema: &'static str,
    /// Data set version.
    pub database_version: &'a str,
    /// ABI resolved in.
    pub arch: Arch,
    /// The syscall.
    pub syscall: &'a Syscall,
    /// The releases the history covers.
    pub releases: ReleaseSpan,
    /// gVisor's entry over the releases, each release in exactly one span; empty for
    /// i386, which gVisor does not run.
    pub gvisor: &'a [GvisorSpan],
    /// Our notes, with their releases.
    pub notes: Vec<&'a GvisorNote>,
    /// Argument rules naming the syscall, of every release, with their releases.
    pub rules: Vec<&'a ArgRule>,
    /// The catalogue, to fill open ends in tables (not serialized).
    #[serde(skip)]
    pub catalogue: &'a Releases,
}

/// Writes `view` in `format`.
pub fn render(view: &HistoryView<'_>, format: DbFormat, out: &mut dyn Write) -> io::Result<()> {
    if format == DbFormat::Json {
        return write_json(out, view);
    }
    let releases = view.catalogue;
    writeln!(
        out,
        "{} (number {} on {}) over {} gVisor releases, {}",
        view.syscall.name,
        view.syscall.number,
        view.arch,
        view.releases.count,
        known(releases)
    )?;
    if view.gvisor.is_empty() {
        writeln!(
            out,
            "gVisor runs no 32-bit code: it has no table for {}.",
            view.arch
        )?;
    } else {
        writeln!(out, "\ngVisor's table")?;
        let mut b = Builder::default();
        b.push_record(["releases", "gVisor"]);
        for s in view.gvisor {
            b.push_record([span(s.range, releases), gvisor_summary(&s.entry)]);
        }
        writeln!(out, "{}", wrap(b.build().with(Style::sharp()), 1))?;
    }
    if !view.notes.is_empty() {
        writeln!(out, "\nNotes")?;
        let mut b = Builder::default();
        b.push_record(["releases", "note"]);
        for n in &view.notes {
            b.push_record([span(n.range(), releases), n.text.clone()]);
        }
        writeln!(out, "{}", wrap(b.build().with(Style::sharp()), 1))?;
    }
    if !view.rules.is_empty() {
        writeln!(out, "\nArgument rules")?;
        let mut b = Builder::default();
        b.push_record(["releases", "rule", "when", "outcome"]);
        for r in &view.rules {
            b.push_record([
                span(r.releases(), releases),
                r.id.clone(),
                conditions(r),
                outcome(&r.outcome),
            ]);
        }
        let mut table = b.build();
        table.with(Style::sharp());
        writeln!(
            out,
            "{}",
            wrap_columns(&mut table, &[(0, 22), (1, 34), (2, 40)])
        )?;
    }
    Ok(())
}
