//! `sandprof db`: queries over the compatibility database — one syscall in full
//! (`syscall`), gVisor's table filtered by status or the syscalls Kata facts mention
//! (`list`), one syscall over every gVisor release (`history`), what differs between
//! two releases (`diff`), and where every table comes from (`info`). `syscall` and
//! `list` answer for one gVisor release (`--gvisor-release`, default the newest). The
//! answers are laid out by `crate::report::db`, as tables or versioned JSON.

use std::collections::BTreeSet;
use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use syscall_db::{
    Arch, ArgRule, Database, GvisorStatus, GvisorSyscall, KataFact, Provenance, Runtime,
};

use super::release::ReleaseArgs;
use crate::release::{self, JudgedRelease};
use crate::report::db::diff::DiffView;
use crate::report::db::history::HistoryView;
use crate::report::db::info::{Counts, InfoView, ReleaseSpan};
use crate::report::db::list::{KataRow, ListView};
use crate::report::db::syscall::{ArchNumber, SyscallView};
use crate::report::db::{self as render, DbFormat};

/// Options of `sandprof db`.
#[derive(Debug, clap::Args)]
pub struct Options {
    #[command(subcommand)]
    query: Query,
}

#[derive(Debug, clap::Subcommand)]
enum Query {
    /// One syscall at one gVisor release: number, gVisor status (errno, event),
    /// argument rules, Kata notes, provenance.
    Syscall(SyscallOptions),
    /// Syscalls by runtime and status at one gVisor release, e.g. everything gVisor
    /// leaves unimplemented.
    List(ListOptions),
    /// One syscall over every gVisor release: gVisor's table entry, notes and argument
    /// rules, each with the releases it holds for.
    History(HistoryOptions),
    /// What differs between two gVisor releases: syscalls, the kernel reported, runsc
    /// flags, /proc paths and argument rules.
    Diff(DiffOptions),
    /// Versions, gVisor releases and provenance of every table.
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
    release: ReleaseArgs,
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
    release: ReleaseArgs,
    #[command(flatten)]
    output: Output,
}

#[derive(Debug, clap::Args)]
struct HistoryOptions {
    /// Syscall name or number in the chosen arch.
    syscall: String,
    /// ABI to resolve the syscall in (default: this machine's).
    #[arg(long, value_parser = parse_arch)]
    arch: Option<Arch>,
    #[command(flatten)]
    output: Output,
}

#[derive(Debug, clap::Args)]
struct DiffOptions {
    /// The release to compare from: a release, `latest` or `auto`.
    #[arg(value_name = "RELEASE_A")]
    from: String,
    /// The release to compare to.
    #[arg(value_name = "RELEASE_B")]
    to: String,
    /// ABI whose syscall table to compare (default: this machine's).
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
    #[arg(long, value_enum, default_value_t = DbFormat::Table)]
    format: DbFormat,
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
        Query::Syscall(o) => syscall(&o.release.resolve()?, &o, &mut out)?,
        Query::List(o) => list(o.release.resolve()?.database(), &o, &mut out)?,
        Query::History(o) => history(db, &o, &mut out)?,
        Query::Diff(o) => diff(db, &o, &mut out)?,
        Query::Info(o) => info(db, o.output.format, &mut out)?,
    }
    out.flush().context("failed to write to stdout")?;
    Ok(ExitCode::SUCCESS)
}

fn default_arch(arch: Option<Arch>) -> Arch {
    arch.or(Arch::host()).unwrap_or(Arch::X86_64)
}

fn write_failed(err: io::Error) -> anyhow::Error {
    anyhow::Error::new(err).context("failed to write to stdout")
}

/// The syscall `query` names on `arch`; an unknown one names the arches that have it.
fn resolve<'d>(
    db: &'d Database,
    arch: Arch,
    query: &str,
) -> anyhow::Result<&'d syscall_db::Syscall> {
    db.resolve_syscall(arch, query).map_err(|err| {
        let elsewhere: Vec<String> = [Arch::X86_64, Arch::Aarch64, Arch::I386]
            .into_iter()
            .filter(|&a| a != arch)
            .filter_map(|a| {
                db.syscall_by_name(a, query.trim())
                    .map(|s| format!("{a} (number {})", s.number))
            })
            .collect();
        if elsewhere.is_empty() {
            anyhow::Error::new(err)
        } else {
            anyhow::anyhow!("{err}; it exists on {}", elsewhere.join(", "))
        }
    })
}

fn syscall(
    judged: &JudgedRelease,
    opts: &SyscallOptions,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let db = judged.database();
    let arch = default_arch(opts.arch);
    let syscall = resolve(db, arch, &opts.syscall)?;
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
        gvisor_release: db.release().tag(),
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
    render::syscall::render(&view, opts.output.format, out).map_err(write_failed)
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
    render::list::render(&view, opts.output.format, out).map_err(write_failed)
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

fn release_span(db: &Database) -> ReleaseSpan {
    ReleaseSpan {
        count: db.releases().all().len(),
        oldest: db.releases().oldest(),
        newest: db.releases().newest(),
    }
}

fn history(db: &Database, opts: &HistoryOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let arch = default_arch(opts.arch);
    let syscall = resolve(db, arch, &opts.syscall)?;
    let name = syscall.name.as_str();
    let view = HistoryView {
        schema: "sandprof.db.history/1",
        database_version: db.version(),
        arch,
        syscall,
        releases: release_span(db),
        gvisor: db.gvisor_history(arch, name).unwrap_or_default(),
        notes: db.gvisor_notes(name).collect(),
        rules: db
            .all_rules()
            .iter()
            .filter(|r| r.syscalls.iter().any(|s| s == name))
            .filter(|r| r.arches.is_empty() || r.arches.contains(&arch))
            .collect(),
        catalogue: db.releases(),
    };
    render::history::render(&view, opts.output.format, out).map_err(write_failed)
}

fn diff(db: &Database, opts: &DiffOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let arch = default_arch(opts.arch);
    if arch == Arch::I386 {
        bail!("gVisor runs no 32-bit code: there is no gVisor table for i386 (use --arch x86_64 or aarch64)");
    }
    let side = |text: &str, which: &str| {
        release::resolve_release(db, text)
            .with_context(|| format!("cannot resolve {which} `{text}`"))
    };
    let (from, to) = (side(&opts.from, "RELEASE_A")?, side(&opts.to, "RELEASE_B")?);
    let notes: Vec<String> = [&from, &to]
        .iter()
        .filter_map(|judged| judged.explanation())
        .collect();
    let diff = syscall_db::compare::diff(from.database(), to.database(), arch);
    let view = DiffView {
        schema: "sandprof.db.diff/1",
        database_version: db.version(),
        notes,
        diff: &diff,
    };
    render::diff::render(&view, opts.output.format, out).map_err(write_failed)
}

fn info(db: &Database, format: DbFormat, out: &mut dyn Write) -> anyhow::Result<()> {
    let view = InfoView {
        schema: "sandprof.db.info/1",
        database_version: db.version(),
        gvisor_revision: db.gvisor_revision(),
        gvisor_releases: release_span(db),
        counts: Counts {
            syscalls_x86_64: db.syscalls(Arch::X86_64).len(),
            syscalls_aarch64: db.syscalls(Arch::Aarch64).len(),
            syscalls_i386: db.syscalls(Arch::I386).len(),
            rules: db.all_rules().len(),
            remediations: db.remediations().len(),
            kata_facts: db.kata_facts().len(),
            captures: db.captures().len(),
        },
        tables: db.provenance(),
    };
    render::info::render(&view, format, out).map_err(write_failed)
}
