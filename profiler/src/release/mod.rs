//! The gVisor release a judgement is made at. Every command that judges a workload for
//! gVisor judges it against one release of runsc: the one a user names
//! (`--gvisor-release release-20221219.0`, `20221219.0` or Debian's `0.0~20221219.0`),
//! the newest the database knows (`latest`, and the default), or the one installed here
//! (`auto`, which asks `runsc --version`). A release between two the database knows is
//! judged by the newest known one before it; one outside them is an error naming the
//! nearest.
//!
//! [`resolve_release`] and [`installed_runsc_release`] are the entry points for code
//! that judges outside the command line (`sandprof try` judges at the release it ran).

mod installed;

use std::fmt;
use std::str::FromStr;

use syscall_db::{Database, Release, ReleaseSyntaxError, UnknownRelease};

use crate::analysis::finding::Report;

pub use installed::{installed_runsc_release, InstalledRunsc};

/// What `--gvisor-release` asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReleaseChoice {
    /// The newest release the database knows.
    Latest,
    /// The release of the runsc installed here.
    Auto,
    /// A release by name.
    Named(Release),
}

impl FromStr for ReleaseChoice {
    type Err = ReleaseError;

    fn from_str(text: &str) -> Result<ReleaseChoice, ReleaseError> {
        match text.trim() {
            "latest" => Ok(ReleaseChoice::Latest),
            "auto" => Ok(ReleaseChoice::Auto),
            other => Release::parse(other)
                .map(ReleaseChoice::Named)
                .map_err(ReleaseError::Syntax),
        }
    }
}

/// Why no release could be judged at.
#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    /// Not a release, `latest` or `auto`.
    #[error(
        "{0}; or `latest` (the newest the database knows) or `auto` (the runsc installed here)"
    )]
    Syntax(#[source] ReleaseSyntaxError),
    /// A release outside those the database knows.
    #[error(transparent)]
    Unknown(#[from] UnknownRelease),
    /// `auto` with no runsc to ask.
    #[error("--gvisor-release auto asks the installed runsc for its release, but {0}: install runsc, or name the release your nodes run with --gvisor-release RELEASE")]
    RunscMissing(String),
    /// runsc did not say its version.
    #[error("`{path} --version` failed: {detail}")]
    RunscFailed {
        /// The runsc binary.
        path: String,
        /// What went wrong.
        detail: String,
    },
    /// runsc's version names no release (a development build).
    #[error("`{path} --version` reports `{version}`, which names no gVisor release (a build from source?): name the release it was built from with --gvisor-release RELEASE")]
    RunscVersion {
        /// The runsc binary.
        path: String,
        /// The version it printed.
        version: String,
    },
}

/// How the release judged at was chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Chosen {
    /// No release was asked for: the newest the database knows.
    Default,
    /// `latest`.
    Latest,
    /// A release by name.
    Named(Release),
    /// The runsc installed here.
    Installed(InstalledRunsc),
}

/// The database viewed at the release a judgement is made at, and how it was chosen.
#[derive(Debug)]
pub struct JudgedRelease {
    db: Database,
    chosen: Chosen,
}

impl JudgedRelease {
    /// The database at the release.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// The release judged at.
    pub fn release(&self) -> Release {
        self.db.release()
    }

    /// How it was chosen.
    pub fn chosen(&self) -> &Chosen {
        &self.chosen
    }

    /// The release asked for, when it was a particular one (named or installed).
    pub fn asked(&self) -> Option<Release> {
        match &self.chosen {
            Chosen::Named(release) => Some(*release),
            Chosen::Installed(installed) => Some(installed.release),
            Chosen::Default | Chosen::Latest => None,
        }
    }

    /// What a report should say about the choice, when there is something to say: that
    /// no release was given, which runsc was asked, or which release stood in for one
    /// the database does not have.
    pub fn explanation(&self) -> Option<String> {
        let judged = self.release();
        let between = self
            .asked()
            .filter(|&asked| asked != judged)
            .map(|asked| {
                format!(
                    " The database has no {asked}: it is judged by {judged}, the newest \
                     release it knows before that one."
                )
            })
            .unwrap_or_default();
        match &self.chosen {
            Chosen::Default => Some(format!(
                "No --gvisor-release was given: judged against gVisor {judged}, the newest \
                 release the database knows. Older runsc releases differ (Debian 12 ships \
                 release-20221219.0): pass --gvisor-release with the release your nodes run, \
                 or --gvisor-release auto for the runsc installed here."
            )),
            Chosen::Latest => None,
            Chosen::Named(_) => (!between.is_empty()).then(|| between.trim_start().to_owned()),
            Chosen::Installed(installed) => Some(format!(
                "Judged against gVisor {judged}, the release of the runsc installed here \
                 ({} reports version {}).{between}",
                installed.path.display(),
                installed.version
            )),
        }
    }

    /// Records the release in `report` and adds the explanation to its caveats.
    pub fn annotate(&self, report: &mut Report) {
        report.gvisor_release = Some(self.release().tag());
        if let Some(explanation) = self.explanation() {
            report.caveats.insert(0, explanation);
        }
    }
}

impl fmt::Display for JudgedRelease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "gVisor {}", self.release())
    }
}

/// `db` viewed at the release `choice` asks for; `None` is the default, the newest.
pub fn judge_at(
    db: &Database,
    choice: Option<&ReleaseChoice>,
) -> Result<JudgedRelease, ReleaseError> {
    let newest = |chosen| JudgedRelease {
        db: newest_view(db),
        chosen,
    };
    match choice {
        None => Ok(newest(Chosen::Default)),
        Some(ReleaseChoice::Latest) => Ok(newest(Chosen::Latest)),
        Some(ReleaseChoice::Named(release)) => judged(db, *release, Chosen::Named(*release)),
        Some(ReleaseChoice::Auto) => {
            let installed = installed_runsc_release(None)?;
            judge_installed(db, installed)
        }
    }
}

/// `db` viewed at the release a string names: a release, `latest` or `auto`.
pub fn resolve_release(db: &Database, text: &str) -> Result<JudgedRelease, ReleaseError> {
    let choice: ReleaseChoice = text.parse()?;
    judge_at(db, Some(&choice))
}

/// `db` viewed at the release of a runsc binary already asked.
pub fn judge_installed(
    db: &Database,
    installed: InstalledRunsc,
) -> Result<JudgedRelease, ReleaseError> {
    let release = installed.release;
    judged(db, release, Chosen::Installed(installed))
}

fn judged(db: &Database, asked: Release, chosen: Chosen) -> Result<JudgedRelease, ReleaseError> {
    let resolved = db.releases().resolve(asked)?;
    let db = db
        .at(resolved.judged)
        .expect("a resolved release is one the database has");
    Ok(JudgedRelease { db, chosen })
}

fn newest_view(db: &Database) -> Database {
    let newest = db.releases().newest().unwrap_or(db.release());
    db.at(newest)
        .expect("the newest release is one the database has")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(text: &str) -> Release {
        Release::parse(text).unwrap()
    }

    #[test]
    fn choices_parse() {
        assert_eq!(
            "latest".parse::<ReleaseChoice>().unwrap(),
            ReleaseChoice::Latest
        );
        assert_eq!(
            "auto".parse::<ReleaseChoice>().unwrap(),
            ReleaseChoice::Auto
        );
        assert_eq!(
            "0.0~20221219.0".parse::<ReleaseChoice>().unwrap(),
            ReleaseChoice::Named(r("release-20221219.0"))
        );
        assert_eq!(
            "newest".parse::<ReleaseChoice>().unwrap_err().to_string(),
            "`newest` is not a gVisor release: expected `release-YYYYMMDD.N`, `YYYYMMDD.N` or \
             Debian's `0.0~YYYYMMDD.N`; or `latest` (the newest the database knows) or `auto` \
             (the runsc installed here)"
        );
    }

    #[test]
    fn named_releases_resolve_and_explain_themselves() {
        let db = Database::get();
        let exact = resolve_release(db, "release-20221219.0").unwrap();
        assert_eq!(exact.release(), r("release-20221219.0"));
        assert_eq!(exact.database().release(), r("release-20221219.0"));
        assert_eq!(exact.explanation(), None);
        let between = resolve_release(db, "20230105.2").unwrap();
        assert_eq!(between.release(), r("release-20230102.0"));
        assert_eq!(
            between.explanation().unwrap(),
            "The database has no release-20230105.2: it is judged by release-20230102.0, the \
             newest release it knows before that one."
        );
        let newest = db.releases().newest().unwrap();
        let default = judge_at(db, None).unwrap();
        assert_eq!(default.release(), newest);
        assert!(default.explanation().unwrap().starts_with(&format!(
            "No --gvisor-release was given: judged against gVisor {newest}"
        )));
        assert_eq!(
            judge_at(db, Some(&ReleaseChoice::Latest))
                .unwrap()
                .explanation(),
            None
        );
        assert!(matches!(
            resolve_release(db, "release-20190101.0"),
            Err(ReleaseError::Unknown(UnknownRelease::TooOld { .. }))
        ));
    }

    #[test]
    fn annotating_a_report_records_the_release() {
        let db = Database::get();
        let judged = resolve_release(db, "release-20230105.0").unwrap();
        let mut report: Report = serde_json::from_str(
            &std::fs::read_to_string(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../tests/fixtures/k8s/node/report-needs-net-raw.json"
            ))
            .unwrap(),
        )
        .unwrap();
        report.caveats.clear();
        judged.annotate(&mut report);
        assert_eq!(report.gvisor_release.as_deref(), Some("release-20230102.0"));
        assert_eq!(report.caveats.len(), 1);
    }
}
