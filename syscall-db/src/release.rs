//! gVisor releases: the [`Release`] a fact holds for or a judgement is made at, the
//! [`ReleaseRange`] of a fact (its first and last release), and the catalogue of
//! [`Releases`] the database was imported from, which resolves what a user or a runsc
//! binary names to the release to judge by.
//!
//! gVisor tags its releases `release-YYYYMMDD.N`. Debian packages them as
//! `0.0~YYYYMMDD.N` (runsc then prints that as its version), so both spellings, and the
//! bare `YYYYMMDD.N`, name the same release.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One gVisor release, ordered by date and then by its number within the day.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Release {
    /// `YYYYMMDD`.
    date: u32,
    /// The `N` of `.N`.
    number: u32,
}

/// Text that names no gVisor release.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a gVisor release: expected `release-YYYYMMDD.N`, `YYYYMMDD.N` or Debian's `0.0~YYYYMMDD.N`")]
pub struct ReleaseSyntaxError {
    /// The text as given.
    pub text: String,
}

impl Release {
    /// The release of `date` (`YYYYMMDD`, in 2000 or later) numbered `number` that day.
    pub fn new(date: u32, number: u32) -> Option<Release> {
        let (year, month, day) = (date / 10_000, date / 100 % 100, date % 100);
        ((2000..=9999).contains(&year) && (1..=12).contains(&month) && (1..=31).contains(&day))
            .then_some(Release { date, number })
    }

    /// Parses `release-20221219.0`, `20221219.0`, Debian's `0.0~20221219.0` (with or
    /// without a package revision such as `-2+b3`).
    pub fn parse(text: &str) -> Result<Release, ReleaseSyntaxError> {
        let error = || ReleaseSyntaxError {
            text: text.to_owned(),
        };
        let trimmed = text.trim();
        let body = trimmed
            .strip_prefix("release-")
            .or_else(|| trimmed.strip_prefix("0.0~"))
            .unwrap_or(trimmed);
        // A Debian package revision (`-2+b3`) follows the upstream version.
        let body = body.split_once('-').map_or(body, |(version, _)| version);
        let (date, number) = body.split_once('.').ok_or_else(error)?;
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if date.len() != 8 || !digits(date) || !digits(number) || number.len() > 4 {
            return Err(error());
        }
        let date = date.parse().map_err(|_| error())?;
        let number = number.parse().map_err(|_| error())?;
        Release::new(date, number).ok_or_else(error)
    }

    /// The release a `runsc --version` output names: its first line is `runsc version
    /// <version>`, where the version is upstream's `release-…` or Debian's `0.0~…`.
    pub fn from_runsc_version(output: &str) -> Result<Release, ReleaseSyntaxError> {
        let version = output
            .lines()
            .find_map(|line| line.trim().strip_prefix("runsc version "))
            .ok_or_else(|| ReleaseSyntaxError {
                text: output.lines().next().unwrap_or_default().to_owned(),
            })?;
        Release::parse(version)
    }

    /// The release's tag, `release-YYYYMMDD.N`.
    pub fn tag(&self) -> String {
        self.to_string()
    }

    /// The date in the tag, `YYYY-MM-DD`.
    pub fn date(&self) -> String {
        let d = self.date;
        format!("{:04}-{:02}-{:02}", d / 10000, d / 100 % 100, d % 100)
    }
}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "release-{}.{}", self.date, self.number)
    }
}

impl FromStr for Release {
    type Err = ReleaseSyntaxError;

    fn from_str(text: &str) -> Result<Release, ReleaseSyntaxError> {
        Release::parse(text)
    }
}

impl Serialize for Release {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Release {
    /// Data files name releases by their tag only.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Release, D::Error> {
        let text = String::deserialize(deserializer)?;
        if !text.starts_with("release-") {
            return Err(serde::de::Error::custom(format!(
                "`{text}` is not a release tag (`release-YYYYMMDD.N`)"
            )));
        }
        Release::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// The releases a fact holds for: from `first` through `last`, each end open when absent
/// (a fact without `first` holds from the oldest release the database knows, one without
/// `last` through the newest).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ReleaseRange {
    /// First release the fact holds for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first: Option<Release>,
    /// Last release it holds for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<Release>,
}

impl ReleaseRange {
    /// Every release.
    pub const ALL: ReleaseRange = ReleaseRange {
        first: None,
        last: None,
    };

    /// The range from `first` through `last`.
    pub fn new(first: Option<Release>, last: Option<Release>) -> ReleaseRange {
        ReleaseRange { first, last }
    }

    /// Whether the fact holds at `release`.
    pub fn contains(&self, release: Release) -> bool {
        self.first.is_none_or(|first| first <= release) && self.last.is_none_or(|l| release <= l)
    }

    /// Whether some release lies in both ranges.
    pub fn overlaps(&self, other: &ReleaseRange) -> bool {
        let starts_before_other_ends = match (self.first, other.last) {
            (Some(first), Some(last)) => first <= last,
            _ => true,
        };
        let other_starts_before_end = match (other.first, self.last) {
            (Some(first), Some(last)) => first <= last,
            _ => true,
        };
        starts_before_other_ends && other_starts_before_end
    }

    /// Whether every release of `inner` lies in this range.
    pub fn covers(&self, inner: &ReleaseRange) -> bool {
        let start = match (self.first, inner.first) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(a), Some(b)) => a <= b,
        };
        let end = match (self.last, inner.last) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(a), Some(b)) => b <= a,
        };
        start && end
    }
}

impl fmt::Display for ReleaseRange {
    /// `release-A to release-B`, `release-A on`, `up to release-B`, `every release`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.first, self.last) {
            (Some(first), Some(last)) if first == last => write!(f, "{first} only"),
            (Some(first), Some(last)) => write!(f, "{first} to {last}"),
            (Some(first), None) => write!(f, "{first} on"),
            (None, Some(last)) => write!(f, "up to {last}"),
            (None, None) => f.write_str("every release"),
        }
    }
}

/// One release the database was imported from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseInfo {
    /// The release.
    pub tag: Release,
    /// The commit the tag points to.
    pub commit: String,
    /// Commit date, `YYYY-MM-DD`.
    pub date: String,
}

/// Every release the database knows, oldest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Releases {
    list: Vec<ReleaseInfo>,
}

/// How a release someone asked for maps to one the database knows.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// What was asked for.
    pub asked: Release,
    /// The release judged by: `asked` itself when the database has it, else the newest
    /// release before it.
    pub judged: Release,
}

impl Resolved {
    /// Whether the release asked for is one the database has.
    pub fn is_exact(&self) -> bool {
        self.asked == self.judged
    }
}

/// A release outside what the database knows.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UnknownRelease {
    /// Older than the oldest release imported.
    #[error("gVisor {asked} is older than every release the database knows ({oldest} to {newest}): sandprof cannot say what it does (nearest: {})", nearest.iter().map(Release::tag).collect::<Vec<_>>().join(", "))]
    TooOld {
        /// What was asked for.
        asked: Release,
        /// Oldest known.
        oldest: Release,
        /// Newest known.
        newest: Release,
        /// The known releases nearest to it.
        nearest: Vec<Release>,
    },
    /// Newer than the newest release imported.
    #[error("gVisor {asked} is newer than the newest release the database knows ({newest}): use a sandprof whose database includes it, or judge against {newest} with `--gvisor-release latest` (nearest: {})", nearest.iter().map(Release::tag).collect::<Vec<_>>().join(", "))]
    TooNew {
        /// What was asked for.
        asked: Release,
        /// Newest known.
        newest: Release,
        /// The known releases nearest to it.
        nearest: Vec<Release>,
    },
}

/// How many releases an error lists as the nearest.
const NEAREST: usize = 3;

impl Releases {
    /// A catalogue of `list`, which must be sorted oldest first without duplicates
    /// (loading checks that and reports it as a data problem).
    pub fn new(list: Vec<ReleaseInfo>) -> Releases {
        Releases { list }
    }

    /// Every release, oldest first.
    pub fn all(&self) -> &[ReleaseInfo] {
        &self.list
    }

    /// The oldest release.
    pub fn oldest(&self) -> Option<Release> {
        self.list.first().map(|r| r.tag)
    }

    /// The newest release.
    pub fn newest(&self) -> Option<Release> {
        self.list.last().map(|r| r.tag)
    }

    /// Whether the database has this exact release.
    pub fn contains(&self, release: Release) -> bool {
        self.position(release).is_ok()
    }

    /// What the database knows of `release`, if it has it.
    pub fn info(&self, release: Release) -> Option<&ReleaseInfo> {
        self.position(release).ok().map(|i| &self.list[i])
    }

    fn position(&self, release: Release) -> Result<usize, usize> {
        self.list.binary_search_by(|r| r.tag.cmp(&release))
    }

    /// The release after `release` among the known ones.
    pub fn next_after(&self, release: Release) -> Option<Release> {
        let i = match self.position(release) {
            Ok(i) => i + 1,
            Err(i) => i,
        };
        self.list.get(i).map(|r| r.tag)
    }

    /// The release before `release` among the known ones.
    pub fn previous_before(&self, release: Release) -> Option<Release> {
        let i = match self.position(release) {
            Ok(i) | Err(i) => i,
        };
        i.checked_sub(1).map(|i| self.list[i].tag)
    }

    /// The release to judge `asked` by: itself when known; the newest known release
    /// before it when it falls between two known ones (nothing changed in between that
    /// the database could know of); an error naming the nearest known releases when it
    /// lies outside them.
    pub fn resolve(&self, asked: Release) -> Result<Resolved, UnknownRelease> {
        let (Some(oldest), Some(newest)) = (self.oldest(), self.newest()) else {
            return Err(UnknownRelease::TooNew {
                asked,
                newest: asked,
                nearest: Vec::new(),
            });
        };
        let nearest = self.nearest(asked);
        if asked < oldest {
            return Err(UnknownRelease::TooOld {
                asked,
                oldest,
                newest,
                nearest,
            });
        }
        if asked > newest {
            return Err(UnknownRelease::TooNew {
                asked,
                newest,
                nearest,
            });
        }
        let judged = match self.position(asked) {
            Ok(_) => asked,
            Err(i) => self.list[i - 1].tag,
        };
        Ok(Resolved { asked, judged })
    }

    /// The known releases nearest to `release` in time, nearest first.
    fn nearest(&self, release: Release) -> Vec<Release> {
        let distance = |r: Release| {
            let days = |x: Release| {
                let (y, m, d) = (x.date / 10000, x.date / 100 % 100, x.date % 100);
                i64::from(y) * 372 + i64::from(m) * 31 + i64::from(d)
            };
            ((days(r) - days(release)).abs(), r)
        };
        let mut all: Vec<Release> = self.list.iter().map(|r| r.tag).collect();
        all.sort_by_key(|&r| distance(r));
        all.truncate(NEAREST);
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(text: &str) -> Release {
        Release::parse(text).unwrap()
    }

    #[test]
    fn parses_every_spelling() {
        let expected = Release::new(20221219, 0).unwrap();
        for text in [
            "release-20221219.0",
            "20221219.0",
            "0.0~20221219.0",
            "0.0~20221219.0-2+b3",
            " release-20221219.0\n",
        ] {
            assert_eq!(Release::parse(text), Ok(expected), "{text}");
        }
        assert_eq!(expected.to_string(), "release-20221219.0");
        assert_eq!(expected.date(), "2022-12-19");
        for bad in [
            "",
            "latest",
            "release-2022121.0",
            "release-20221319.0",
            "release-20221219",
            "release-20221219.x",
            "VERSION_MISSING",
        ] {
            assert!(Release::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn reads_runsc_version_output() {
        assert_eq!(
            Release::from_runsc_version("runsc version 0.0~20221219.0\nspec: 1.0.2-dev\n"),
            Ok(r("release-20221219.0"))
        );
        assert_eq!(
            Release::from_runsc_version("runsc version release-20240513.0\nspec: 1.1.0-rc.1\n"),
            Ok(r("release-20240513.0"))
        );
        assert_eq!(
            Release::from_runsc_version("runsc version VERSION_MISSING\nspec: 1.1.0\n")
                .unwrap_err()
                .text,
            "VERSION_MISSING"
        );
        assert!(Release::from_runsc_version("").is_err());
    }

    #[test]
    fn orders_by_date_then_number() {
        assert!(r("release-20230102.0") < r("release-20230102.1"));
        assert!(r("release-20230102.9") < r("release-20230109.0"));
        assert!(r("release-20221219.0") < r("release-20230102.0"));
    }

    #[test]
    fn ranges() {
        let range = ReleaseRange::new(Some(r("release-20230102.0")), Some(r("release-20230109.0")));
        assert!(!range.contains(r("release-20221219.0")));
        assert!(range.contains(r("release-20230102.0")));
        assert!(range.contains(r("release-20230109.0")));
        assert!(!range.contains(r("release-20230118.0")));
        assert!(ReleaseRange::ALL.contains(r("release-20230118.0")));
        let before = ReleaseRange::new(None, Some(r("release-20230102.0")));
        let after = ReleaseRange::new(Some(r("release-20230109.0")), None);
        assert!(range.overlaps(&before) && range.overlaps(&after));
        assert!(!before.overlaps(&after));
        assert!(ReleaseRange::ALL.covers(&range));
        assert!(!range.covers(&after));
        assert!(after.covers(&ReleaseRange::new(Some(r("release-20240101.0")), None)));
        assert_eq!(
            range.to_string(),
            "release-20230102.0 to release-20230109.0"
        );
        assert_eq!(after.to_string(), "release-20230109.0 on");
    }

    fn catalogue() -> Releases {
        Releases::new(
            [
                "release-20221219.0",
                "release-20230102.0",
                "release-20230109.0",
            ]
            .iter()
            .map(|tag| ReleaseInfo {
                tag: r(tag),
                commit: "c".repeat(40),
                date: "2023-01-01".to_owned(),
            })
            .collect(),
        )
    }

    #[test]
    fn resolves_between_tags_to_the_newest_before() {
        let releases = catalogue();
        let exact = releases.resolve(r("release-20230102.0")).unwrap();
        assert!(exact.is_exact());
        let between = releases.resolve(r("release-20230105.3")).unwrap();
        assert_eq!(between.judged, r("release-20230102.0"));
        assert!(!between.is_exact());
        assert_eq!(
            releases.resolve(r("release-20230102.1")).unwrap().judged,
            r("release-20230102.0")
        );
    }

    #[test]
    fn unknown_releases_name_the_nearest() {
        let releases = catalogue();
        assert_eq!(
            releases
                .resolve(r("release-20221001.0"))
                .unwrap_err()
                .to_string(),
            "gVisor release-20221001.0 is older than every release the database knows \
             (release-20221219.0 to release-20230109.0): sandprof cannot say what it does \
             (nearest: release-20221219.0, release-20230102.0, release-20230109.0)"
        );
        assert_eq!(
            releases
                .resolve(r("release-20230110.0"))
                .unwrap_err()
                .to_string(),
            "gVisor release-20230110.0 is newer than the newest release the database knows \
             (release-20230109.0): use a sandprof whose database includes it, or judge \
             against release-20230109.0 with `--gvisor-release latest` (nearest: \
             release-20230109.0, release-20230102.0, release-20221219.0)"
        );
        assert_eq!(
            releases.next_after(r("release-20230102.0")),
            Some(r("release-20230109.0"))
        );
        assert_eq!(
            releases.previous_before(r("release-20230102.0")),
            Some(r("release-20221219.0"))
        );
    }
}
