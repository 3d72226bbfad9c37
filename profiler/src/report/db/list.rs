//! `sandprof db list`: gVisor's table at one release, filtered by status, or the
//! syscalls Kata facts and rules mention.

use std::io::{self, Write};

use serde::Serialize;
use syscall_db::{Arch, GvisorStatus, GvisorSyscall, Runtime, Syscall};
use tabled::builder::Builder;
use tabled::settings::Style;

use super::{gvisor_summary, wrap, write_json, DbFormat};

/// `sandprof db list` as JSON (schema `sandprof.db.list/1`).
#[derive(Serialize)]
pub struct ListView<'a> {
    /// Schema.
    pub schema: &'static str,
    /// Data set version.
    pub database_version: &'a str,
    /// The gVisor release listed (its tag).
    pub gvisor_revision: String,
    /// ABI listed.
    pub arch: Arch,
    /// Runtime listed.
    pub runtime: Runtime,
    /// Status filtered on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<GvisorStatus>,
    /// For gVisor: its entry per syscall. Empty for Kata (see `kata`).
    pub syscalls: Vec<&'a GvisorSyscall>,
    /// For Kata: syscalls that Kata facts or rules mention, with the fact and rule ids.
    pub kata: Vec<KataRow<'a>>,
}

/// A syscall Kata facts or rules mention.
#[derive(Serialize)]
pub struct KataRow<'a> {
    /// The syscall.
    pub syscall: &'a Syscall,
    /// Fact ids.
    pub facts: Vec<&'a str>,
    /// Rule ids.
    pub rules: Vec<&'a str>,
}

/// Writes `view` in `format`.
pub fn render(view: &ListView<'_>, format: DbFormat, out: &mut dyn Write) -> io::Result<()> {
    match format {
        DbFormat::Json => write_json(out, view),
        DbFormat::Table => table(view, out),
    }
}

fn table(view: &ListView<'_>, out: &mut dyn Write) -> io::Result<()> {
    let mut b = Builder::default();
    match view.runtime {
        Runtime::Gvisor => {
            b.push_record(["number", "syscall", "gVisor"]);
            for g in &view.syscalls {
                b.push_record([g.number.to_string(), g.name.clone(), gvisor_summary(g)]);
            }
            writeln!(
                out,
                "{} syscalls on {} (gVisor {})",
                view.syscalls.len(),
                view.arch,
                view.gvisor_revision
            )?;
            writeln!(out, "{}", wrap(b.build().with(Style::sharp()), 2))
        }
        Runtime::Kata => {
            b.push_record(["number", "syscall", "Kata facts", "Kata rules"]);
            for row in &view.kata {
                b.push_record([
                    row.syscall.number.to_string(),
                    row.syscall.name.clone(),
                    row.facts.join(", "),
                    row.rules.join(", "),
                ]);
            }
            writeln!(
                out,
                "{} syscalls on {} that Kata facts or rules mention",
                view.kata.len(),
                view.arch
            )?;
            writeln!(out, "{}", b.build().with(Style::sharp()))
        }
    }
}
