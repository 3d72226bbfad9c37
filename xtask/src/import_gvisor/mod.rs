//! `cargo xtask import-gvisor`: regenerates the gVisor tables of `syscall-db/data/gvisor/`
//! from gVisor's own sources, as history over its releases (see [`tables`]):
//!
//! - `--all-releases` reads every `release-*` tag of a clone or mirror, from the oldest
//!   release already imported (or `--from`), and rewrites every history;
//! - without it, one checked-out tree is read as one release (its `release-*` tag, or
//!   `--release`) and added to the committed history: appended when newer than every
//!   release there, replacing the newest when it is the newest.
//!
//! `--check` writes nothing and fails when the committed files differ from what would
//! be written; with `--all-releases` it also loads the committed data through
//! `syscall-db` and proves it agrees with upstream at every release ([`check`]).

pub mod check;
pub mod flags;
pub mod git;
pub mod go;
pub mod history;
pub mod lexer;
pub mod proc_tree;
pub mod render;
pub mod snapshot;
pub mod table;
pub mod tables;
pub mod uname;

use std::path::PathBuf;

use anyhow::{anyhow, Context as _};
use syscall_db::{Arch, Provenance, Release, ReleaseInfo};

use crate::output::{data_dir, write_or_check};
use git::Repo;
use snapshot::{GitRevision, Tree};
use tables::Histories;

/// Where gVisor keeps its syscall tables.
pub const TABLE_PATH: &str = "pkg/sentry/syscalls/linux/linux64.go";

/// gVisor's table variable for each arch.
pub const TABLE_VARS: [(Arch, &str); 2] = [(Arch::X86_64, "AMD64"), (Arch::Aarch64, "ARM64")];

/// The oldest release read when nothing is imported yet: the one Debian 12 ships.
pub const OLDEST: &str = "release-20221219.0";

/// Options of `cargo xtask import-gvisor`.
#[derive(Debug, clap::Args)]
pub struct Options {
    /// A gVisor repository: a checked-out tree of one release, or (with
    /// `--all-releases`) a clone or bare mirror with its `release-*` tags.
    pub gvisor_dir: PathBuf,
    /// Read every `release-*` tag from `--from` to the newest and rewrite the history.
    #[arg(long)]
    pub all_releases: bool,
    /// With `--all-releases`: the oldest release to read (default: the oldest already
    /// imported, else release-20221219.0).
    #[arg(long, requires = "all_releases", value_name = "RELEASE")]
    pub from: Option<Release>,
    /// The release a checked-out tree is; read from its `release-*` tag when omitted.
    #[arg(long, conflicts_with = "all_releases", value_name = "RELEASE")]
    pub release: Option<Release>,
    /// Commit of a checked-out tree; read with `git rev-parse HEAD` when omitted.
    #[arg(long, conflicts_with = "all_releases")]
    pub revision: Option<String>,
    /// Commit date of a checked-out tree (YYYY-MM-DD); read with `git log` when omitted.
    #[arg(long, conflicts_with = "all_releases")]
    pub date: Option<String>,
    /// With `--all-releases`: also write, for each of these releases, the facts
    /// upstream has at it alone (read from its tag, not from the history) into
    /// `syscall-db/tests/fixtures/releases/<release>/`, which the database's tests compare
    /// with the history viewed at that release.
    #[arg(
        long,
        requires = "all_releases",
        value_delimiter = ',',
        value_name = "RELEASE,..."
    )]
    pub fixtures: Vec<Release>,
    /// Write nothing; fail if the committed files differ from what would be written.
    /// With `--all-releases`, also prove the committed data agrees with upstream at
    /// every release.
    #[arg(long)]
    pub check: bool,
}

/// Runs the task.
pub fn run(opts: Options) -> anyhow::Result<()> {
    let histories = if opts.all_releases {
        all_releases(&opts)?
    } else {
        one_release(&opts)?
    };
    for (path, text) in histories.render() {
        write_or_check(&data_dir().join(&path), &text, opts.check)?;
    }
    for &release in &opts.fixtures {
        let info = histories
            .releases
            .iter()
            .find(|r| r.tag == release)
            .ok_or_else(|| anyhow!("--fixtures names {release}, which was not read"))?;
        let mut repo = Repo::open(&opts.gvisor_dir)?;
        let snapshot = snapshot::read(&mut GitRevision {
            repo: &mut repo,
            revision: release.tag(),
        })?;
        let alone = Histories::build(vec![(info.clone(), snapshot)])?;
        let dir = fixtures_dir().join(release.tag());
        if !opts.check {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("failed to create {}", dir.display()))?;
        }
        for (path, text) in alone.render() {
            let name = path.trim_start_matches("gvisor/");
            if name != "releases.toml" {
                write_or_check(&dir.join(name), &text, opts.check)?;
            }
        }
    }
    if opts.check && opts.all_releases {
        let checked = check::against_upstream(&data_dir(), &histories)?;
        eprintln!("{checked}");
    }
    Ok(())
}

/// `syscall-db/tests/fixtures/releases` of this workspace.
pub fn fixtures_dir() -> PathBuf {
    data_dir().join("../tests/fixtures/releases")
}

/// Every release of the repository from the oldest wanted, read.
fn all_releases(opts: &Options) -> anyhow::Result<Histories> {
    let mut repo = Repo::open(&opts.gvisor_dir)?;
    let from = match opts.from {
        Some(from) => from,
        None => match Histories::read_committed(&data_dir()) {
            Ok(committed) => committed.releases[0].tag,
            Err(_) => Release::parse(OLDEST)?,
        },
    };
    let releases = repo.releases(from)?;
    eprintln!(
        "reading {} releases, {} to {}",
        releases.len(),
        releases[0].tag,
        releases[releases.len() - 1].tag
    );
    let mut snapshots = Vec::with_capacity(releases.len());
    for info in releases {
        let mut source = GitRevision {
            repo: &mut repo,
            revision: info.tag.tag(),
        };
        let snapshot = snapshot::read(&mut source)?;
        snapshots.push((info, snapshot));
    }
    Histories::build(snapshots)
}

/// The committed history with one checked-out tree added as its release.
fn one_release(opts: &Options) -> anyhow::Result<Histories> {
    let dir = &opts.gvisor_dir;
    let repo = Repo::open(dir);
    let git = |args: &[&str]| -> anyhow::Result<String> {
        repo.as_ref()
            .map_err(|err| anyhow!("{err:#}: pass --release, --revision and --date"))?
            .git(args)
    };
    let release = match opts.release {
        Some(release) => release,
        None => {
            let tag = git(&["describe", "--tags", "--exact-match", "--match", "release-*", "HEAD"])
                .with_context(|| {
                    format!(
                        "{} is not checked out at a `release-*` tag: check one out, or name the release with --release",
                        dir.display()
                    )
                })?;
            Release::parse(&tag)?
        }
    };
    let info = ReleaseInfo {
        tag: release,
        commit: match &opts.revision {
            Some(revision) => revision.clone(),
            None => git(&["rev-parse", "HEAD"])?,
        },
        date: match &opts.date {
            Some(date) => date.clone(),
            None => git(&["log", "-1", "--format=%cs", "HEAD"])?,
        },
    };
    let snapshot = snapshot::read(&mut Tree { dir: dir.clone() })?;
    let committed = Histories::read_committed(&data_dir()).context(
        "cannot read the committed history to add a release to: import --all-releases first",
    )?;
    committed.with_release(info, snapshot)
}

/// The rendered `gvisor/<arch>.toml` of each native arch from the text of `linux64.go`
/// alone: the table of one revision, every entry without a release range.
pub fn import(go_source: &str, revision: &str, date: &str) -> anyhow::Result<Vec<(Arch, String)>> {
    let tables = table::parse_tables(go_source)?;
    TABLE_VARS
        .iter()
        .map(|&(arch, var)| {
            let table = tables
                .iter()
                .find(|t| t.var == var)
                .ok_or_else(|| anyhow!("no `{var}` table for {arch}"))?;
            let provenance = Provenance {
                table: format!("gvisor-syscalls-{arch}"),
                project: "google/gvisor".to_owned(),
                revision: revision.to_owned(),
                paths: vec![TABLE_PATH.to_owned()],
                date: date.to_owned(),
                maintained: "generated".to_owned(),
                note: None,
                checked_from: None,
            };
            Ok((arch, render(table, &provenance)))
        })
        .collect()
}

/// The text of one `gvisor/<arch>.toml` holding `table`'s entries.
pub fn render(table: &table::GoTable, provenance: &Provenance) -> String {
    render::syscall_file(&table.fallback, &table.entries, provenance)
}
