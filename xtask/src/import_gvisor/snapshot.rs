//! Everything the importer reads at one gVisor revision: the syscall table of each
//! arch and its fallback, what gVisor reports as its kernel, the flags runsc registers
//! and the paths /proc registers. A revision is read from a [`Source`]: a git revision
//! of a repository, or a checked-out tree.

use std::collections::BTreeMap;
use std::fs;
use std::io::ErrorKind;
use std::path::PathBuf;

use anyhow::{anyhow, Context as _};
use syscall_db::files::{GvisorEntry, GvisorFallback, ProcPathRow, RunscFlagRow, UnameRow};
use syscall_db::Arch;

use super::git::Repo;
use super::{flags, proc_tree, table, uname, TABLE_PATH, TABLE_VARS};

/// Where the files of one revision are read from.
pub trait Source {
    /// The text of `path`, or None when the revision has no such file.
    fn read(&mut self, path: &str) -> anyhow::Result<Option<String>>;
    /// The revision, for messages.
    fn describe(&self) -> String;
}

/// A revision of a git repository.
pub struct GitRevision<'a> {
    /// The repository.
    pub repo: &'a mut Repo,
    /// A tag or commit.
    pub revision: String,
}

impl Source for GitRevision<'_> {
    fn read(&mut self, path: &str) -> anyhow::Result<Option<String>> {
        self.repo.show(&self.revision, path)
    }

    fn describe(&self) -> String {
        self.revision.clone()
    }
}

/// A checked-out tree.
pub struct Tree {
    /// Its root.
    pub dir: PathBuf,
}

impl Source for Tree {
    fn read(&mut self, path: &str) -> anyhow::Result<Option<String>> {
        let file = self.dir.join(path);
        match fs::read_to_string(&file) {
            Ok(text) => Ok(Some(text)),
            Err(err) if err.kind() == ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err).with_context(|| format!("failed to read {}", file.display())),
        }
    }

    fn describe(&self) -> String {
        self.dir.display().to_string()
    }
}

/// The facts of one revision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// Each native arch's table entries, by number (without release ranges).
    pub syscalls: BTreeMap<Arch, BTreeMap<u32, GvisorEntry>>,
    /// Each arch's fallback for numbers its table lacks.
    pub fallback: BTreeMap<Arch, GvisorFallback>,
    /// What gVisor reports as its kernel.
    pub uname: UnameRow,
    /// runsc's flags, by name.
    pub flags: BTreeMap<String, RunscFlagRow>,
    /// /proc's paths.
    pub proc: BTreeMap<String, ProcPathRow>,
}

/// Reads every fact at `source`'s revision.
pub fn read(source: &mut dyn Source) -> anyhow::Result<Snapshot> {
    let at = source.describe();
    let required = |source: &mut dyn Source, path: &str| -> anyhow::Result<String> {
        source.read(path)?.ok_or_else(|| {
            anyhow!("{path} does not exist at {at}: teach the importer where it went")
        })
    };
    let linux64 = required(source, TABLE_PATH)?;
    let tables = table::parse_tables(&linux64)
        .with_context(|| format!("failed to read {TABLE_PATH} at {at}"))?;
    let mut syscalls = BTreeMap::new();
    let mut fallback = BTreeMap::new();
    for (arch, var) in TABLE_VARS {
        let table = tables
            .iter()
            .find(|t| t.var == var)
            .ok_or_else(|| anyhow!("{TABLE_PATH} at {at} has no `{var}` table for {arch}"))?;
        syscalls.insert(
            arch,
            table
                .entries
                .iter()
                .map(|e| (e.number, e.clone()))
                .collect(),
        );
        fallback.insert(arch, table.fallback.clone());
    }

    let mut kernel = None;
    for path in uname::PATHS {
        if let Some(text) = source.read(path)? {
            kernel = uname::parse(path, &text).with_context(|| format!("at {at}"))?;
            if kernel.is_some() {
                break;
            }
        }
    }
    let uname = kernel.ok_or_else(|| {
        anyhow!(
            "none of {} defines LinuxRelease at {at}: teach the importer where it went",
            uname::PATHS.join(", ")
        )
    })?;

    let flag_source = required(source, flags::PATH)?;
    let flags = flags::parse(&flag_source)
        .with_context(|| format!("failed to read {} at {at}", flags::PATH))?
        .into_iter()
        .map(|(name, flag)| {
            let row = RunscFlagRow {
                name: name.clone(),
                kind: flag.kind,
                default: flag.default,
                first: None,
                last: None,
            };
            (name, row)
        })
        .collect();

    let proc_sources = proc_tree::PATHS
        .iter()
        .map(|path| required(source, path))
        .collect::<anyhow::Result<Vec<String>>>()?;
    let proc = proc_tree::parse(&proc_sources)
        .with_context(|| format!("failed to read the /proc sources at {at}"))?
        .into_iter()
        .map(|(path, entry)| {
            let row = ProcPathRow {
                path: path.clone(),
                conditional: entry.conditional,
                first: None,
                last: None,
            };
            (path, row)
        })
        .collect();

    Ok(Snapshot {
        syscalls,
        fallback,
        uname,
        flags,
        proc,
    })
}
