//! `sandprof db`: queries over the compatibility database — one syscall in full
//! (`syscall`), gVisor's table filtered by status or the syscalls Kata facts mention
//! (`list`), and where every table comes from (`info`). Each prints terminal tables or
//! JSON with a stable, versioned schema (`sandprof.db.<query>/1`).

use std::collections::BTreeSet;
use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use serde::Serialize;
use syscall_db::{
    Arch, ArgRule, Condition, Database, GvisorStatus, GvisorSyscall, KataFact, Outcome, Provenance,
    Remediation, Runtime, Syscall, Value,
};
use tabled::builder::Builder;
use tabled::settings::object::Columns;
use tabled::settings::{Modify, Style, Width};

/// Width long text columns wrap at, so tables fit a 120-column terminal.
const TEXT_WIDTH: usize = 60;

/// Options of `sandprof db`.
#[derive(Debug, clap::Args)]
pub struct Options {
    #[command(subcommand)]
    query: Query,
}

#[derive(Debug, clap::Subcommand)]
enum Query {
    /// One syscall: number, gVisor status (errno, event), argument rules, Kata notes,
    /// provenance.
    Syscall(SyscallOptions),
    /// Syscalls by runtime and status, e.g. everything gVisor leaves unimplemented.
    List(ListOptions),
    /// Versions and provenance of every table.
    Info(InfoOptions),
}

#[derive(Debug, clap::Args)]
struct SyscallOptions {
    /// Syscall name (`openat`) or number in the chosen arch (`257`).
    syscall: String,
    /// ABI to resolve the syscall in (default: this machine's).
    #[arg(long, value_parser = parse_arch)]
    arch: Option<Arch>,
    #[command(flatten)]
    output: Output,
}

#[derive(Debug, clap::Args)]
struct ListOptions {
    /// Runtime whose view to list.
    #[arg(long, value_enum, default_value_t = RuntimeArg::Gvisor)]
    runtime: RuntimeArg,
    /// Only syscalls with this gVisor status (gVisor only).
    #[arg(long, value_enum)]
    status: Option<StatusArg>,
    /// ABI to list (default: this machine's).
    #[arg(long, value_parser = parse_arch)]
    arch: Option<Arch>,
    #[command(flatten)]
    output: Output,
}

#[derive(Debug, clap::Args)]
struct InfoOptions {
    #[command(flatten)]
    output: Output,
}

#[derive(Debug, clap::Args)]
struct Output {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// Terminal tables.
    Table,
    /// JSON (schemas `sandprof.db.syscall/1`, `sandprof.db.list/1`, `sandprof.db.info/1`).
    Json,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
enum RuntimeArg {
    Gvisor,
    Kata,
}

impl From<RuntimeArg> for Runtime {
    fn from(r: RuntimeArg) -> Runtime {
        match r {
            RuntimeArg::Gvisor => Runtime::Gvisor,
            RuntimeArg::Kata => Runtime::Kata,
        }
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
enum StatusArg {
    Full,
    Partial,
    Unimplemented,
    NeedsCapability,
}

impl From<StatusArg> for GvisorStatus {
    fn from(s: StatusArg) -> GvisorStatus {
        match s {
            StatusArg::Full => GvisorStatus::Full,
            StatusArg::Partial => GvisorStatus::Partial,
            StatusArg::Unimplemented => GvisorStatus::Unimplemented,
            StatusArg::NeedsCapability => GvisorStatus::NeedsCapability,
        }
    }
}

fn parse_arch(s: &str) -> Result<Arch, String> {
    s.parse().map_err(|e: syscall_db::Error| e.to_string())
}

/// Runs the subcommand.
pub fn run(opts: Options) -> anyhow::Result<ExitCode> {
    let db = Database::get();
    let stdout = io::stdout();
    let mut out = stdout.lock();
    match opts.query {
        Query::Syscall(o) => syscall(db, &o, &mut out)?,
        Query::List(o) => list(db, &o, &mut out)?,
        Query::Info(o) => info(db, o.output.format, &mut out)?,
    }
    out.flush().context("failed to write to stdout")?;
    Ok(ExitCode::SUCCESS)
}

fn default_arch(arch: Option<Arch>) -> Arch {
    arch.or(Arch::host()).unwrap_or(Arch::X86_64)
}

/// `sandprof db syscall` as JSON.
#[derive(Serialize)]
struct SyscallView<'a> {
    schema: &'static str,
    database_version: &'a str,
    arch: Arch,
    syscall: &'a Syscall,
    /// The same name in the other ABIs.
    other_arches: Vec<ArchNumber>,
    /// None for i386, which gVisor does not run.
    gvisor: Option<&'a GvisorSyscall>,
    rules: Vec<&'a ArgRule>,
    kata: Vec<&'a KataFact>,
    remediations: Vec<&'a Remediation>,
    provenance: Vec<&'a Provenance>,
}

#[derive(Serialize)]
struct ArchNumber {
    arch: Arch,
    number: u32,
}

fn syscall(db: &Database, opts: &SyscallOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let arch = default_arch(opts.arch);
    let syscall = db.resolve_syscall(arch, &opts.syscall).map_err(|err| {
        let elsewhere: Vec<String> = [Arch::X86_64, Arch::Aarch64, Arch::I386]
            .into_iter()
            .filter(|&a| a != arch)
            .filter_map(|a| {
                db.syscall_by_name(a, opts.syscall.trim())
                    .map(|s| format!("{a} (number {})", s.number))
            })
            .collect();
        if elsewhere.is_empty() {
            anyhow::Error::new(err)
        } else {
            anyhow::anyhow!("{err}; it exists on {}", elsewhere.join(", "))
        }
    })?;
    let name = syscall.name.as_str();
    let rules: Vec<&ArgRule> = Runtime::ALL
        .into_iter()
        .flat_map(|runtime| db.rules_for(runtime, name))
        .filter(|r| r.arches.is_empty() || r.arches.contains(&arch))
        .collect();
    let kata: Vec<&KataFact> = db
        .kata_facts()
        .iter()
        .filter(|f| f.syscalls.iter().any(|s| s == name))
        .collect();
    let remediation_ids: BTreeSet<&str> = rules
        .iter()
        .flat_map(|r| r.remediations.iter())
        .chain(kata.iter().flat_map(|f| f.remediations.iter()))
        .map(String::as_str)
        .collect();
    let gvisor = db.gvisor(arch, name);
    let provenance = relevant_provenance(
        db,
        arch,
        gvisor,
        &rules,
        !kata.is_empty(),
        !remediation_ids.is_empty(),
    );
    let view = SyscallView {
        schema: "sandprof.db.syscall/1",
        database_version: db.version(),
        arch,
        syscall,
        other_arches: [Arch::X86_64, Arch::Aarch64, Arch::I386]
            .into_iter()
            .filter(|&a| a != arch)
            .filter_map(|a| {
                db.syscall_by_name(a, name).map(|s| ArchNumber {
                    arch: a,
                    number: s.number,
                })
            })
            .collect(),
        gvisor,
        rules,
        kata,
        remediations: remediation_ids
            .into_iter()
            .filter_map(|id| db.remediation(id))
            .collect(),
        provenance,
    };
    match opts.output.format {
        Format::Json => write_json(out, &view),
        Format::Table => write_syscall_table(&view, out).context("failed to write to stdout"),
    }
}

/// Tables a syscall view draws on: the arch's syscall and gVisor tables, our gVisor
/// notes when there is one, the files of the rules shown, and the remediation and Kata
/// tables when they contribute.
fn relevant_provenance<'a>(
    db: &'a Database,
    arch: Arch,
    gvisor: Option<&GvisorSyscall>,
    rules: &[&ArgRule],
    kata: bool,
    remediations: bool,
) -> Vec<&'a Provenance> {
    let mut tables: Vec<&str> = Vec::new();
    let syscalls = format!("syscalls-{arch}");
    let gvisor_table = format!("gvisor-syscalls-{arch}");
    tables.push(&syscalls);
    if gvisor.is_some() {
        tables.push(&gvisor_table);
    }
    if gvisor.is_some_and(|g| g.note.is_some()) {
        tables.push("gvisor-notes");
    }
    let rule_tables: Vec<&Provenance> = rules
        .iter()
        .filter_map(|r| db.rule_provenance(&r.id))
        .collect();
    db.provenance()
        .iter()
        .filter(|p| {
            tables.contains(&p.table.as_str())
                || rule_tables.iter().any(|r| r.table == p.table)
                || (kata && p.table == "kata-facts")
                || (remediations && p.table.starts_with("remediations"))
        })
        .collect()
}

fn write_syscall_table(view: &SyscallView<'_>, out: &mut dyn Write) -> io::Result<()> {
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
            head.push_record(["gVisor", &gvisor_summary(g)]);
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

fn conditions(rule: &ArgRule) -> String {
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

fn outcome(o: &Outcome) -> String {
    match o {
        Outcome::Works => "works".to_owned(),
        Outcome::Fails { errno } => format!("fails: {errno}"),
        Outcome::Ignored => "silently ignored".to_owned(),
        Outcome::Degraded => "works, degraded".to_owned(),
        Outcome::NeedsConfig { errno } => format!("{errno} unless configured"),
    }
}

/// `sandprof db list` as JSON.
#[derive(Serialize)]
struct ListView<'a> {
    schema: &'static str,
    database_version: &'a str,
    gvisor_revision: String,
    arch: Arch,
    runtime: Runtime,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<GvisorStatus>,
    /// For gVisor: its entry per syscall. Empty for Kata (see `kata`).
    syscalls: Vec<&'a GvisorSyscall>,
    /// For Kata: syscalls that Kata facts or rules mention, with the fact and rule ids.
    kata: Vec<KataRow<'a>>,
}

#[derive(Serialize)]
struct KataRow<'a> {
    syscall: &'a Syscall,
    facts: Vec<&'a str>,
    rules: Vec<&'a str>,
}

fn list(db: &Database, opts: &ListOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let arch = default_arch(opts.arch);
    let runtime = Runtime::from(opts.runtime);
    let status = opts.status.map(GvisorStatus::from);
    if runtime == Runtime::Kata && status.is_some() {
        bail!("--status filters gVisor's table; Kata runs a real guest kernel and has no per-syscall status (drop --status or use --runtime gvisor)");
    }
    if runtime == Runtime::Gvisor && arch == Arch::I386 {
        bail!("gVisor runs no 32-bit code: there is no gVisor table for i386 (use --arch x86_64 or aarch64)");
    }
    let view = ListView {
        schema: "sandprof.db.list/1",
        database_version: db.version(),
        gvisor_revision: db.gvisor_revision(),
        arch,
        runtime,
        status,
        syscalls: match runtime {
            Runtime::Gvisor => db
                .gvisor_table(arch)
                .iter()
                .filter(|g| status.is_none_or(|s| g.status == s))
                .collect(),
            Runtime::Kata => Vec::new(),
        },
        kata: match runtime {
            Runtime::Kata => kata_rows(db, arch),
            Runtime::Gvisor => Vec::new(),
        },
    };
    match opts.output.format {
        Format::Json => write_json(out, &view),
        Format::Table => write_list_table(&view, out).context("failed to write to stdout"),
    }
}

fn kata_rows(db: &Database, arch: Arch) -> Vec<KataRow<'_>> {
    db.syscalls(arch)
        .iter()
        .filter_map(|s| {
            let facts: Vec<&str> = db
                .kata_facts()
                .iter()
                .filter(|f| f.syscalls.contains(&s.name))
                .map(|f| f.id.as_str())
                .collect();
            let rules: Vec<&str> = db
                .rules_for(Runtime::Kata, &s.name)
                .filter(|r| r.arches.is_empty() || r.arches.contains(&arch))
                .map(|r| r.id.as_str())
                .collect();
            (!facts.is_empty() || !rules.is_empty()).then_some(KataRow {
                syscall: s,
                facts,
                rules,
            })
        })
        .collect()
}

fn write_list_table(view: &ListView<'_>, out: &mut dyn Write) -> io::Result<()> {
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

/// `sandprof db info` as JSON.
#[derive(Serialize)]
struct InfoView<'a> {
    schema: &'static str,
    database_version: &'a str,
    gvisor_revision: String,
    counts: Counts,
    tables: &'a [Provenance],
}

#[derive(Serialize)]
struct Counts {
    syscalls_x86_64: usize,
    syscalls_aarch64: usize,
    syscalls_i386: usize,
    rules: usize,
    remediations: usize,
    kata_facts: usize,
    captures: usize,
}

fn info(db: &Database, format: Format, out: &mut dyn Write) -> anyhow::Result<()> {
    let view = InfoView {
        schema: "sandprof.db.info/1",
        database_version: db.version(),
        gvisor_revision: db.gvisor_revision(),
        counts: Counts {
            syscalls_x86_64: db.syscalls(Arch::X86_64).len(),
            syscalls_aarch64: db.syscalls(Arch::Aarch64).len(),
            syscalls_i386: db.syscalls(Arch::I386).len(),
            rules: db.rules().len(),
            remediations: db.remediations().len(),
            kata_facts: db.kata_facts().len(),
            captures: db.captures().len(),
        },
        tables: db.provenance(),
    };
    match format {
        Format::Json => write_json(out, &view),
        Format::Table => {
            let c = &view.counts;
            writeln!(
                out,
                "database {} (gVisor {})",
                view.database_version, view.gvisor_revision
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
            writeln!(out, "{}", provenance_table(&all))?;
            Ok(())
        }
    }
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

/// Serializes first, then writes, so a closed pipe surfaces as an `io::Error` (which
/// `main` treats as a normal end) rather than inside a serde error.
fn write_json(out: &mut dyn Write, view: &impl Serialize) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(view).context("failed to encode JSON")?;
    text.push('\n');
    out.write_all(text.as_bytes())
        .context("failed to write to stdout")
}
