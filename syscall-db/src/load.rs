//! Turning [`Sources`] into a [`Database`]: parse each file by its path, index the
//! syscall tables, complete gVisor's tables with the fallback for missing numbers, then
//! hand the result to `validate`.

use std::collections::{BTreeMap, HashMap};

use serde::de::DeserializeOwned;

use crate::database::{Database, Indexed};
use crate::error::{Error, Problem};
use crate::files::{
    AbiFile, CapturesFile, ConstantsFile, DatabaseFile, GvisorNotesFile, GvisorTableFile, KataFile,
    RemediationsFile, RulesFile, SyscallTableFile,
};
use crate::model::{Arch, GvisorStatus, GvisorSyscall, Syscall};
use crate::rule_index::RuleIndex;
use crate::sources::Sources;
use crate::validate;

/// Every data file, parsed.
struct Parsed {
    database: DatabaseFile,
    constants: ConstantsFile,
    remediations: RemediationsFile,
    kata: KataFile,
    captures: CapturesFile,
    syscalls: BTreeMap<Arch, SyscallTableFile>,
    gvisor: BTreeMap<Arch, GvisorTableFile>,
    notes: GvisorNotesFile,
    abi: AbiFile,
    rules: Vec<(String, RulesFile)>,
}

pub(crate) fn load(sources: &Sources) -> Result<Database, Error> {
    let parsed = parse_all(sources)?;
    let mut problems = Vec::new();

    let mut provenance = vec![parsed.constants.provenance.clone()];
    provenance.extend(parsed.remediations.provenance.iter().cloned());
    provenance.extend([
        parsed.kata.provenance.clone(),
        parsed.captures.provenance.clone(),
        parsed.notes.provenance.clone(),
        parsed.abi.provenance.clone(),
    ]);
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
        let rows = complete_gvisor(arch, kernel, file, &parsed.notes, &mut problems);
        gvisor.insert(arch, index(rows, |g: &GvisorSyscall| &g.name));
    }
    let gvisor_revision = gvisor_revision(&parsed.gvisor, &mut problems);
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

    let database = Database {
        version: parsed.database.database.version,
        gvisor_revision,
        syscalls,
        gvisor,
        rule_index: RuleIndex::new(&rules),
        compiled: Default::default(),
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
    let noted: BTreeMap<String, String> = parsed
        .notes
        .notes
        .iter()
        .chain(&parsed.notes.handled)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    validate::check(&database, &rule_files, &noted, &mut problems);
    if problems.is_empty() {
        Ok(database)
    } else {
        Err(Error::Invalid { problems })
    }
}

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
            Some(("gvisor", "notes.toml" | "abi.toml")) => {}
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

fn index<T>(rows: Vec<T>, name: impl Fn(&T) -> &String) -> Indexed<T> {
    let by_name = rows
        .iter()
        .enumerate()
        .map(|(i, row)| (name(row).clone(), i))
        .collect();
    Indexed { rows, by_name }
}

/// Indexes a syscall table, reporting duplicate names, duplicate numbers and rows out of
/// numeric order (the generated files are sorted, so disorder means a hand edit).
fn index_syscalls(path: &str, rows: &[Syscall], problems: &mut Vec<Problem>) -> Indexed<Syscall> {
    let mut seen: HashMap<&str, u32> = HashMap::new();
    for pair in rows.windows(2) {
        if pair[0].number >= pair[1].number {
            problems.push(problem(
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
            problems.push(problem(
                path,
                format!("syscall `{}`", row.name),
                format!("name used for both {previous} and {}", row.number),
            ));
        }
    }
    index(rows.to_vec(), |s| &s.name)
}

/// One gVisor row per kernel syscall of the arch: the upstream entry for that number if
/// there is one, else the table's fallback; with our note attached.
fn complete_gvisor(
    arch: Arch,
    kernel: &[Syscall],
    file: &GvisorTableFile,
    notes: &GvisorNotesFile,
    problems: &mut Vec<Problem>,
) -> Vec<GvisorSyscall> {
    let path = format!("gvisor/{arch}.toml");
    let mut upstream: BTreeMap<u32, &crate::files::GvisorEntry> = BTreeMap::new();
    for entry in &file.syscalls {
        if upstream.insert(entry.number, entry).is_some() {
            problems.push(problem(
                &path,
                format!("entry {}", entry.number),
                "number listed twice".to_owned(),
            ));
        }
        if !kernel.iter().any(|s| s.number == entry.number) {
            problems.push(problem(
                &path,
                format!("entry {} (`{}`)", entry.number, entry.name),
                format!("no {arch} syscall has this number"),
            ));
        }
    }
    kernel
        .iter()
        .map(|syscall| {
            let note = notes.notes.get(&syscall.name).cloned();
            let handled = notes.handled.get(&syscall.name).cloned();
            match upstream.get(&syscall.number) {
                Some(entry) => GvisorSyscall {
                    name: syscall.name.clone(),
                    number: syscall.number,
                    status: entry.status,
                    errno: entry.errno.clone(),
                    event: entry.event,
                    capability: entry.capability.clone(),
                    upstream_name: (entry.name != syscall.name).then(|| entry.name.clone()),
                    issues: entry.issues.clone(),
                    in_upstream_table: true,
                    note,
                    handled,
                },
                None => GvisorSyscall {
                    name: syscall.name.clone(),
                    number: syscall.number,
                    status: GvisorStatus::Unimplemented,
                    errno: Some(file.fallback.errno.clone()),
                    event: file.fallback.event,
                    capability: None,
                    upstream_name: None,
                    issues: Vec::new(),
                    in_upstream_table: false,
                    note,
                    handled,
                },
            }
        })
        .collect()
}

/// The gVisor commit both arches were generated from; they must agree.
fn gvisor_revision(files: &BTreeMap<Arch, GvisorTableFile>, problems: &mut Vec<Problem>) -> String {
    let mut revisions = files
        .iter()
        .map(|(arch, f)| (*arch, &f.provenance.revision));
    let Some((first_arch, first)) = revisions.next() else {
        return String::new();
    };
    for (arch, revision) in revisions {
        if revision != first {
            problems.push(problem(
                &format!("gvisor/{arch}.toml"),
                "provenance".to_owned(),
                format!("revision `{revision}` differs from {first_arch}'s `{first}`: regenerate both arches together"),
            ));
        }
    }
    first.clone()
}

pub(crate) fn problem(file: &str, item: String, message: String) -> Problem {
    Problem {
        file: file.to_owned(),
        item,
        message,
    }
}
