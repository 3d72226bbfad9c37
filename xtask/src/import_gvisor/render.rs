//! The text of each generated gVisor file: one inline table per row, its release range
//! last, then the file's provenance.

use std::fmt::Write as _;

use syscall_db::files::{GvisorEntry, GvisorFallback, ProcPathRow, RunscFlagRow, UnameRow};
use syscall_db::{GvisorStatus, Provenance, Release};

use super::tables::GENERATED;
use crate::output::{provenance_table, quote, quote_list};

/// `gvisor/<arch>.toml`.
pub fn syscall_file(
    fallback: &GvisorFallback,
    rows: &[GvisorEntry],
    provenance: &Provenance,
) -> String {
    let mut out = String::from(GENERATED);
    let _ = writeln!(
        out,
        "fallback = {{ errno = {}, event = {} }}",
        quote(&fallback.errno),
        fallback.event
    );
    file_rows(&mut out, "syscalls", rows.iter().map(syscall_row));
    out.push_str(&provenance_table(provenance));
    out
}

/// `gvisor/uname.toml`.
pub fn uname_file(rows: &[UnameRow], provenance: &Provenance) -> String {
    let mut out = String::from(GENERATED);
    file_rows(
        &mut out,
        "uname",
        rows.iter().map(|row| {
            let mut s = format!(
                "{{ sysname = {}, release = {}, version = {}, path = {}",
                quote(&row.sysname),
                quote(&row.release),
                quote(&row.version),
                quote(&row.path)
            );
            range(&mut s, row.first, row.last);
            s
        }),
    );
    out.push_str(&provenance_table(provenance));
    out
}

/// `gvisor/runsc_flags.toml`.
pub fn flags_file(rows: &[RunscFlagRow], provenance: &Provenance) -> String {
    let mut out = String::from(GENERATED);
    file_rows(
        &mut out,
        "flags",
        rows.iter().map(|row| {
            let mut s = format!(
                "{{ name = {}, kind = {}",
                quote(&row.name),
                quote(&row.kind)
            );
            if let Some(default) = &row.default {
                let _ = write!(s, ", default = {}", quote(default));
            }
            range(&mut s, row.first, row.last);
            s
        }),
    );
    out.push_str(&provenance_table(provenance));
    out
}

/// `gvisor/proc.toml`.
pub fn proc_file(rows: &[ProcPathRow], provenance: &Provenance) -> String {
    let mut out = String::from(GENERATED);
    file_rows(
        &mut out,
        "paths",
        rows.iter().map(|row| {
            let mut s = format!("{{ path = {}", quote(&row.path));
            if row.conditional {
                s.push_str(", conditional = true");
            }
            range(&mut s, row.first, row.last);
            s
        }),
    );
    out.push_str(&provenance_table(provenance));
    out
}

fn file_rows(out: &mut String, key: &str, rows: impl Iterator<Item = String>) {
    let _ = writeln!(out, "{key} = [");
    for row in rows {
        let _ = writeln!(out, "  {row},");
    }
    out.push_str("]\n\n");
}

/// `, first = "…", last = "…"` and the closing brace.
fn range(s: &mut String, first: Option<Release>, last: Option<Release>) {
    if let Some(first) = first {
        let _ = write!(s, ", first = {}", quote(&first.tag()));
    }
    if let Some(last) = last {
        let _ = write!(s, ", last = {}", quote(&last.tag()));
    }
    s.push_str(" }");
}

fn syscall_row(e: &GvisorEntry) -> String {
    let status = match e.status {
        GvisorStatus::Full => "full",
        GvisorStatus::Partial => "partial",
        GvisorStatus::Unimplemented => "unimplemented",
        GvisorStatus::NeedsCapability => "needs-capability",
    };
    let mut s = format!(
        "{{ number = {}, name = {}, status = {}",
        e.number,
        quote(&e.name),
        quote(status)
    );
    if let Some(errno) = &e.errno {
        let _ = write!(s, ", errno = {}", quote(errno));
    }
    if e.event {
        s.push_str(", event = true");
    }
    if let Some(capability) = &e.capability {
        let _ = write!(s, ", capability = {}", quote(capability));
    }
    if !e.issues.is_empty() {
        let _ = write!(s, ", issues = {}", quote_list(&e.issues));
    }
    range(&mut s, e.first, e.last);
    s
}
