//! Renderers of `sandprof db` answers: each query's view (the JSON shape, schemas
//! `sandprof.db.<query>/1`) and its terminal tables. Views are plain data the command
//! fills from the database; rendering adds nothing but layout.

pub mod diff;
pub mod history;
pub mod info;
pub mod list;
pub mod syscall;

use std::io::{self, Write};

use serde::Serialize;
use syscall_db::{GvisorStatus, GvisorSyscall, Provenance, Release, ReleaseRange, Releases};
use tabled::builder::Builder;
use tabled::settings::object::Columns;
use tabled::settings::{Modify, Style, Width};

/// Width long text columns wrap at, so tables fit a 120-column terminal.
const TEXT_WIDTH: usize = 60;

/// Output format of `sandprof db`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DbFormat {
    /// Terminal tables.
    Table,
    /// JSON (schemas `sandprof.db.<query>/1`, docs/database.md).
    Json,
}

/// Writes `view` as pretty JSON. Serializes first, then writes, so a closed pipe
/// surfaces as an `io::Error` (which `main` treats as a normal end) rather than inside
/// a serde error.
pub fn write_json(out: &mut dyn Write, view: &impl Serialize) -> io::Result<()> {
    let mut text = serde_json::to_string_pretty(view).map_err(io::Error::other)?;
    text.push('\n');
    out.write_all(text.as_bytes())
}

/// A commit hash cut to 12 digits for tables (JSON keeps it whole); tags unchanged.
fn short_revision(revision: &str) -> &str {
    let is_hash = revision.len() == 40 && revision.bytes().all(|b| b.is_ascii_hexdigit());
    if is_hash {
        &revision[..12]
    } else {
        revision
    }
}

/// "unimplemented: ENOSYS, event", "needs CAP_SYS_ADMIN (else EPERM)", …
fn gvisor_summary(g: &GvisorSyscall) -> String {
    let errno = g.errno.as_deref().unwrap_or("?");
    let event = if g.event {
        ", logs an unsupported-syscall event"
    } else {
        ""
    };
    let mut s = match g.status {
        GvisorStatus::Full => "full".to_owned(),
        GvisorStatus::Partial => "partial (see argument rules and note)".to_owned(),
        GvisorStatus::Unimplemented => format!("unimplemented: fails with {errno}{event}"),
        GvisorStatus::NeedsCapability => format!(
            "needs {}: fails with {errno} without it, ENOSYS with it{event}",
            g.capability.as_deref().unwrap_or("a capability")
        ),
    };
    if !g.in_upstream_table {
        s.push_str(" (absent from gVisor's table)");
    }
    if let Some(upstream) = &g.upstream_name {
        s.push_str(&format!(" (gVisor calls it `{upstream}`)"));
    }
    s
}

/// A range with its open ends filled in from the releases known: `release-A to
/// release-B`, or the one release.
fn span(range: ReleaseRange, releases: &Releases) -> String {
    let first = range.first.or(releases.oldest());
    let last = range.last.or(releases.newest());
    match (first, last) {
        (Some(first), Some(last)) if first == last => first.tag(),
        (Some(first), Some(last)) => format!("{first} to {last}"),
        _ => range.to_string(),
    }
}

/// `release-A to release-B` for the releases the database knows.
fn known(releases: &Releases) -> String {
    span(ReleaseRange::ALL, releases)
}

/// The tag of a release, for table cells.
fn tag(release: Option<Release>) -> String {
    release.map(|r| r.tag()).unwrap_or_default()
}

fn provenance_table(tables: &[&Provenance]) -> String {
    let mut b = Builder::default();
    b.push_record([
        "table",
        "project",
        "revision",
        "date",
        "maintained",
        "paths",
    ]);
    for p in tables {
        b.push_record([
            p.table.clone(),
            p.project.clone(),
            p.revision.clone(),
            p.date.clone(),
            p.maintained.clone(),
            p.paths.join("\n"),
        ]);
    }
    b.build().with(Style::sharp()).to_string()
}

/// Wraps each `(column, width)` at word boundaries.
fn wrap_columns(table: &mut tabled::Table, widths: &[(usize, usize)]) -> String {
    for &(column, width) in widths {
        table.with(
            Modify::new(Columns::new(column..=column)).with(Width::wrap(width).keep_words(true)),
        );
    }
    table.to_string()
}

/// Wraps every column from `column` on at [`TEXT_WIDTH`].
fn wrap(table: &mut tabled::Table, column: usize) -> String {
    table
        .with(Modify::new(Columns::new(column..)).with(Width::wrap(TEXT_WIDTH).keep_words(true)))
        .to_string()
}
