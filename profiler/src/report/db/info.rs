//! `sandprof db info`: the data set's version, the gVisor releases it covers, its sizes,
//! and where every table comes from.

use std::io::{self, Write};

use serde::Serialize;
use syscall_db::{Provenance, Release};

use super::{provenance_table, write_json, DbFormat};

/// `sandprof db info` as JSON (schema `sandprof.db.info/1`).
#[derive(Serialize)]
pub struct InfoView<'a> {
    /// Schema.
    pub schema: &'static str,
    /// Data set version.
    pub database_version: &'a str,
    /// The release the provenance below is viewed at (the newest).
    pub gvisor_revision: String,
    /// The gVisor releases the data covers.
    pub gvisor_releases: ReleaseSpan,
    /// Table sizes.
    pub counts: Counts,
    /// Every table's provenance.
    pub tables: &'a [Provenance],
}

/// The releases the data covers.
#[derive(Serialize)]
pub struct ReleaseSpan {
    /// How many.
    pub count: usize,
    /// The oldest.
    pub oldest: Option<Release>,
    /// The newest.
    pub newest: Option<Release>,
}

/// Table sizes.
#[derive(Serialize)]
pub struct Counts {
    /// x86_64 syscalls.
    pub syscalls_x86_64: usize,
    /// aarch64 syscalls.
    pub syscalls_aarch64: usize,
    /// i386 syscalls.
    pub syscalls_i386: usize,
    /// Argument rules of every release.
    pub rules: usize,
    /// Remediations of every release.
    pub remediations: usize,
    /// Kata facts.
    pub kata_facts: usize,
    /// Captured syscalls.
    pub captures: usize,
}

/// Writes `view` in `format`.
pub fn render(view: &InfoView<'_>, format: DbFormat, out: &mut dyn Write) -> io::Result<()> {
    if format == DbFormat::Json {
        return write_json(out, view);
    }
    let c = &view.counts;
    let r = &view.gvisor_releases;
    writeln!(
        out,
        "database {}: gVisor {} releases, {} to {}",
        view.database_version,
        r.count,
        super::tag(r.oldest),
        super::tag(r.newest)
    )?;
    writeln!(
        out,
        "syscalls: {} x86_64, {} aarch64, {} i386; {} rules, {} remediations, {} Kata facts, {} captures\n",
        c.syscalls_x86_64,
        c.syscalls_aarch64,
        c.syscalls_i386,
        c.rules,
        c.remediations,
        c.kata_facts,
        c.captures
    )?;
    let all: Vec<&Provenance> = view.tables.iter().collect();
    writeln!(out, "{}", provenance_table(&all))
}
