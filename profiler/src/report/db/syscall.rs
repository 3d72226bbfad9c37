//! `sandprof db syscall`: everything known about one syscall at one gVisor release —
//! its numbers, gVisor's entry, the argument rules, Kata facts, remediations and where
//! each table comes from.

use std::io::{self, Write};

use serde::Serialize;
use syscall_db::{
    Arch, ArgRule, Condition, GvisorSyscall, KataFact, Outcome, Provenance, Remediation, Syscall,
    Value,
};
use tabled::builder::Builder;
use tabled::settings::Style;

use super::{gvisor_summary, short_revision, wrap, wrap_columns, write_json, DbFormat};

/// `sandprof db syscall` as JSON (schema `sandprof.db.syscall/1`).
#[derive(Serialize)]
pub struct SyscallView<'a> {
    /// Schema.
    pub schema: &'static str,
    /// Data set version.
    pub database_version: &'a str,
    /// The gVisor release the entry and rules are for.
    pub gvisor_release: String,
    /// ABI resolved in.
    pub arch: Arch,
    /// The syscall.
    pub syscall: &'a Syscall,
    /// The same name in the other ABIs.
    pub other_arches: Vec<ArchNumber>,
    /// None for i386, which gVisor does not run.
    pub gvisor: Option<&'a GvisorSyscall>,
    /// Argument rules of both runtimes that hold at the release.
    pub rules: Vec<&'a ArgRule>,
    /// Kata facts naming the syscall.
    pub kata: Vec<&'a KataFact>,
    /// Remediations the rules and facts name.
    pub remediations: Vec<&'a Remediation>,
    /// The tables drawn on.
    pub provenance: Vec<&'a Provenance>,
}

/// A syscall's number in another ABI.
#[derive(Serialize)]
pub struct ArchNumber {
    /// The ABI.
    pub arch: Arch,
    /// The number there.
    pub number: u32,
}

/// Writes `view` in `format`.
pub fn render(view: &SyscallView<'_>, format: DbFormat, out: &mut dyn Write) -> io::Result<()> {
    match format {
        DbFormat::Json => write_json(out, view),
        DbFormat::Table => table(view, out),
    }
}

fn table(view: &SyscallView<'_>, out: &mut dyn Write) -> io::Result<()> {
    let others: Vec<String> = view
        .other_arches
        .iter()
        .map(|a| format!("{} {}", a.arch, a.number))
        .collect();
    let mut head = Builder::default();
    head.push_record(["syscall", view.syscall.name.as_str()]);
    head.push_record([
        "number",
        &format!("{} ({})", view.syscall.number, view.arch),
    ]);
    if !others.is_empty() {
        head.push_record(["elsewhere", &others.join(", ")]);
    }
    match view.gvisor {
        Some(g) => {
            head.push_record([
                "gVisor",
                &format!("{} (at {})", gvisor_summary(g), view.gvisor_release),
            ]);
            if let Some(note) = &g.note {
                head.push_record(["gVisor note", note]);
            }
            if !g.issues.is_empty() {
                head.push_record(["gVisor issues", &g.issues.join(", ")]);
            }
        }
        None => head.push_record(["gVisor", "not applicable: gVisor runs no 32-bit code"]),
    }
    head.push_record(["database", view.database_version]);
    writeln!(out, "{}", wrap(head.build().with(Style::sharp()), 1))?;

    if !view.rules.is_empty() {
        writeln!(out, "\nArgument rules")?;
        let mut b = Builder::default();
        b.push_record(["runtime", "when", "outcome", "fix", "note"]);
        for r in &view.rules {
            b.push_record([
                r.runtime.as_str().to_owned(),
                conditions(r),
                outcome(&r.outcome),
                r.remediations.join(", "),
                r.note.clone(),
            ]);
        }
        let mut table = b.build();
        table.with(Style::sharp());
        writeln!(
            out,
            "{}",
            wrap_columns(&mut table, &[(1, 36), (3, 20), (4, 48)])
        )?;
    }
    if !view.kata.is_empty() {
        writeln!(out, "\nKata Containers")?;
        let mut b = Builder::default();
        b.push_record(["fact", "effect", "fix"]);
        for f in &view.kata {
            b.push_record([f.id.clone(), f.effect.clone(), f.remediations.join(", ")]);
        }
        writeln!(out, "{}", wrap(b.build().with(Style::sharp()), 1))?;
    }
    if !view.remediations.is_empty() {
        writeln!(out, "\nRemediations")?;
        let mut b = Builder::default();
        b.push_record(["id", "what to do", "trade-off"]);
        for r in &view.remediations {
            b.push_record([
                r.id.clone(),
                r.summary.clone(),
                r.tradeoff.clone().unwrap_or_default(),
            ]);
        }
        writeln!(out, "{}", wrap(b.build().with(Style::sharp()), 1))?;
    }
    writeln!(out, "\nSources")?;
    let mut b = Builder::default();
    b.push_record(["table", "project", "revision", "date"]);
    for p in &view.provenance {
        b.push_record([
            p.table.clone(),
            p.project.clone(),
            short_revision(&p.revision).to_owned(),
            p.date.clone(),
        ]);
    }
    writeln!(out, "{}", b.build().with(Style::sharp()))
}

/// A rule's conditions in words: `domain = AF_NETLINK and protocol in {…}`.
pub(super) fn conditions(rule: &ArgRule) -> String {
    if rule.when.is_empty() {
        return "any arguments".to_owned();
    }
    let parts: Vec<String> = rule
        .when
        .iter()
        .map(|(field, c)| match c {
            Condition::Eq(v) => format!("{field} = {}", value(v)),
            Condition::In(vs) => format!("{field} in {}", values(vs)),
            Condition::AnyBits(vs) => format!("{field} has any of {}", values(vs)),
            Condition::Prefix(p) => format!("{field} starts with {p}"),
            Condition::Glob(g) => format!("{field} matches {g}"),
        })
        .collect();
    parts.join(" and ")
}

fn value(v: &Value) -> String {
    match v {
        Value::Number(n) => n.to_string(),
        Value::Name(s) => s.clone(),
    }
}

fn values(vs: &[Value]) -> String {
    let names: Vec<String> = vs.iter().map(value).collect();
    format!("{{{}}}", names.join(", "))
}

/// An outcome in words: `fails: ENOENT`, `EPERM unless configured`.
pub(super) fn outcome(o: &Outcome) -> String {
    match o {
        Outcome::Works => "works".to_owned(),
        Outcome::Fails { errno } => format!("fails: {errno}"),
        Outcome::Ignored => "silently ignored".to_owned(),
        Outcome::Degraded => "works, degraded".to_owned(),
        Outcome::NeedsConfig { errno } => format!("{errno} unless configured"),
    }
}
