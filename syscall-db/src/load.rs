//! Turning [`Sources`] into a [`Database`]: parse each file by its path, index the
//! syscall tables, build gVisor's history (timelines completed with the fallback for
//! missing numbers), hand the whole [`Store`] to `validate`, then view it at the newest
//! release.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};

use serde::de::DeserializeOwned;

use crate::database::Database;
use crate::error::{Error, Problem};
use crate::files::{
    AbiFile, CapturesFile, ConstantsFile, DatabaseFile, GvisorNotesFile, GvisorTableFile, KataFile,
    ProcFile, ReleasesFile, RemediationsFile, RulesFile, RunscFlagsFile, SyscallTableFile,
    UnameFile,
};
use crate::history;
use crate::model::{Arch, Syscall};
use crate::release::Releases;
use crate::sources::Sources;
use crate::store::{Indexed, Store};
use crate::{validate, view};

/// Every data file, parsed.
struct Parsed {
    database: DatabaseFile,
    constants: ConstantsFile,
    remediations: RemediationsFile,
    kata: KataFile,
    captures: CapturesFile,
    syscalls: BTreeMap<Arch, SyscallTableFile>,
    gvisor: BTreeMap<Arch, GvisorTableFile>,
    releases: ReleasesFile,
    uname: UnameFile,
    flags: RunscFlagsFile,
    proc: ProcFile,
    notes: GvisorNotesFile,
    abi: AbiFile,
    rules: Vec<(String, RulesFile)>,
}

static EMBEDDED: OnceLock<Database> = OnceLock::new();

impl Database {
    /// The database compiled into this build, at the newest gVisor release it knows,
    /// loaded on first use.
    pub fn get() -> &'static Database {
        EMBEDDED.get_or_init(|| {
            Database::from_sources(&Sources::embedded())
                .expect("embedded data is valid: the `embedded_database_loads` test guards it")
        })
    }

    /// Parses and validates a data set; the result is viewed at its newest release.
    pub fn from_sources(sources: &Sources) -> Result<Database, Error> {
        let store = load(sources)?;
        let newest = store
            .releases
            .newest()
            .ok_or_else(|| Error::MissingFile("gvisor/releases.toml (no release)".to_owned()))?;
        Ok(view::build(Arc::new(store), newest))
    }
}

fn load(sources: &Sources) -> Result<Store, Error> {
    let parsed = parse_all(sources)?;
    let mut problems = Vec::new();

    let mut provenance = vec![parsed.constants.provenance.clone()];
    provenance.extend(parsed.remediations.provenance.iter().cloned());
    provenance.extend([
        parsed.kata.provenance.clone(),
        parsed.captures.provenance.clone(),
        parsed.notes.provenance.clone(),
        parsed.abi.provenance.clone(),
        parsed.releases.provenance.clone(),
        parsed.uname.provenance.clone(),
        parsed.flags.provenance.clone(),
        parsed.proc.provenance.clone(),
    ]);
    let releases = Releases::new(parsed.releases.releases);
    let mut syscalls = BTreeMap::new();
    for (&arch, file) in &parsed.syscalls {
        provenance.push(file.provenance.clone());
        let path = format!("syscalls/{arch}.toml");
        syscalls.insert(arch, index_syscalls(&path, &file.syscalls, &mut problems));
    }
    let mut gvisor = BTreeMap::new();
    for (&arch, file) in &parsed.gvisor {
        provenance.push(file.provenance.clone());
        let kernel = syscalls
            .get(&arch)
            .map_or(&[][..], |t: &Indexed<Syscall>| &t.rows);
        let timelines = history::timelines(
            arch,
            kernel,
            &file.syscalls,
            &file.fallback,
            &releases,
            &mut problems,
        );
        gvisor.insert(arch, Indexed::new(timelines, |t| &t.name));
    }
    same_revision(&parsed.gvisor, &mut problems);
    let mut rules = Vec::new();
    let mut rule_files = Vec::new();
    let mut rule_tables = Vec::new();
    for (path, file) in parsed.rules {
        provenance.push(file.provenance);
        for rule in file.rule {
            rule_files.push(path.clone());
            rule_tables.push(provenance.len() - 1);
            rules.push(rule);
        }
    }

    let store = Store {
        version: parsed.database.database.version,
        releases,
        syscalls,
        gvisor,
        kernels: history::kernels(parsed.uname.uname),
        flags: history::flags(parsed.flags.flags),
        proc: history::proc_paths(parsed.proc.paths),
        notes: parsed.notes.note,
        rules,
        rule_tables,
        remediations: parsed.remediations.remediation,
        kata: parsed.kata.fact,
        abi: parsed.abi.abi,
        captures: parsed.captures.capture,
        namings: parsed.captures.naming,
        constants: parsed.constants.groups,
        provenance,
    };
    validate::check(&store, &rule_files, &mut problems);
    if problems.is_empty() {
        Ok(store)
    } else {
        Err(Error::Invalid { problems })
    }
}

/// The generated gVisor files, by name under `gvisor/`.
// The message catalogue (`messages.toml`) is loaded apart (`messages::MessageCatalogue`).
const GVISOR_FILES: [&str; 7] = [
    "messages.toml",
    "notes.toml",
    "abi.toml",
    "releases.toml",
    "uname.toml",
    "runsc_flags.toml",
    "proc.toml",
];

fn parse_all(sources: &Sources) -> Result<Parsed, Error> {
    let mut syscalls = BTreeMap::new();
    let mut gvisor = BTreeMap::new();
    let mut rules = Vec::new();
    for file in sources.files() {
        let path = file.path.as_str();
        let arch_of = |stem: &str| -> Result<Arch, Error> {
            let arch = stem
                .parse()
                .map_err(|_| Error::UnexpectedFile(path.to_owned()))?;
            Ok(arch)
        };
        match path.split_once('/') {
            None if is_known_top_level(path) => {}
            Some(("syscalls", name)) => {
                let arch = arch_of(name.strip_suffix(".toml").unwrap_or(name))?;
                syscalls.insert(arch, parse(path, &file.text)?);
            }
            Some(("gvisor", name)) if GVISOR_FILES.contains(&name) => {}
            Some(("gvisor", name)) => {
                let arch = arch_of(name.strip_suffix(".toml").unwrap_or(name))?;
                if !Arch::NATIVE.contains(&arch) {
                    return Err(Error::UnexpectedFile(path.to_owned()));
                }
                gvisor.insert(arch, parse(path, &file.text)?);
            }
            Some(("rules", name)) if name.ends_with(".toml") && !name.contains('/') => {
                rules.push((path.to_owned(), parse(path, &file.text)?));
            }
            _ => return Err(Error::UnexpectedFile(path.to_owned())),
        }
    }
    for arch in [Arch::X86_64, Arch::Aarch64, Arch::I386] {
        if !syscalls.contains_key(&arch) {
            return Err(Error::MissingFile(format!("syscalls/{arch}.toml")));
        }
    }
    for arch in Arch::NATIVE {
        if !gvisor.contains_key(&arch) {
            return Err(Error::MissingFile(format!("gvisor/{arch}.toml")));
        }
    }
    Ok(Parsed {
        database: parse_required(sources, "database.toml")?,
        constants: parse_required(sources, "constants.toml")?,
        remediations: parse_required(sources, "remediations.toml")?,
        kata: parse_required(sources, "kata.toml")?,
        captures: parse_required(sources, "captures.toml")?,
        notes: parse_required(sources, "gvisor/notes.toml")?,
        abi: parse_required(sources, "gvisor/abi.toml")?,
        releases: parse_required(sources, "gvisor/releases.toml")?,
        uname: parse_required(sources, "gvisor/uname.toml")?,
        flags: parse_required(sources, "gvisor/runsc_flags.toml")?,
        proc: parse_required(sources, "gvisor/proc.toml")?,
        syscalls,
        gvisor,
        rules,
    })
}

fn is_known_top_level(path: &str) -> bool {
    matches!(
        path,
        "database.toml" | "constants.toml" | "remediations.toml" | "kata.toml" | "captures.toml"
    )
}

fn parse_required<T: DeserializeOwned>(sources: &Sources, path: &str) -> Result<T, Error> {
    let text = sources
        .text(path)
        .ok_or_else(|| Error::MissingFile(path.to_owned()))?;
    parse(path, text)
}

fn parse<T: DeserializeOwned>(path: &str, text: &str) -> Result<T, Error> {
    toml::from_str(text).map_err(|source| Error::Parse {
        file: path.to_owned(),
        source,
    })
}

/// Indexes a syscall table, reporting duplicate names, duplicate numbers and rows out of
/// numeric order (the generated files are sorted, so disorder means a hand edit).
fn index_syscalls(path: &str, rows: &[Syscall], problems: &mut Vec<Problem>) -> Indexed<Syscall> {
    let mut seen: HashMap<&str, u32> = HashMap::new();
    for pair in rows.windows(2) {
        if pair[0].number >= pair[1].number {
            problems.push(Problem::new(
                path,
                format!("syscall `{}`", pair[1].name),
                format!(
                    "number {} does not follow {} (`{}`): rows must be sorted by number without duplicates",
                    pair[1].number, pair[0].number, pair[0].name
                ),
            ));
        }
    }
    for row in rows {
        if let Some(previous) = seen.insert(&row.name, row.number) {
            problems.push(Problem::new(
                path,
                format!("syscall `{}`", row.name),
                format!("name used for both {previous} and {}", row.number),
            ));
        }
    }
    Indexed::new(rows.to_vec(), |s| &s.name)
}

/// Both arches' histories were generated together: they name the same newest release.
fn same_revision(files: &BTreeMap<Arch, GvisorTableFile>, problems: &mut Vec<Problem>) {
    let mut revisions = files
        .iter()
        .map(|(arch, f)| (*arch, &f.provenance.revision));
    let Some((first_arch, first)) = revisions.next() else {
        return;
    };
    for (arch, revision) in revisions {
        if revision != first {
            problems.push(Problem::new(
                &format!("gvisor/{arch}.toml"),
                "provenance".to_owned(),
                format!("revision `{revision}` differs from {first_arch}'s `{first}`: regenerate both arches together"),
            ));
        }
    }
}
