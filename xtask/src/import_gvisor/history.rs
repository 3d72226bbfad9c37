//! Facts read at every release, stored as each fact's history: for each key (a syscall
//! number, a flag name, a path), the runs of consecutive releases over which its value
//! stayed the same. A run's `first` is left open when it starts at the oldest release
//! read and its `last` when it reaches the newest, so a fact that never changed is one
//! row without either; a key absent from a release has no run covering it.

use std::collections::BTreeMap;

use syscall_db::{Release, ReleaseRange};

/// One run: `value` held from `first` through `last` (open ends as the module says).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span<V> {
    /// The releases the value held for.
    pub range: ReleaseRange,
    /// The value.
    pub value: V,
}

/// The history of every key, built from per-release snapshots, oldest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct History<K, V> {
    releases: Vec<Release>,
    spans: BTreeMap<K, Vec<Span<V>>>,
}

impl<K: Ord + Clone, V: PartialEq + Clone> History<K, V> {
    /// Builds the history of `snapshots`: each release with its facts, oldest first.
    pub fn build(snapshots: impl IntoIterator<Item = (Release, BTreeMap<K, V>)>) -> History<K, V> {
        let mut releases = Vec::new();
        // Per key: the runs so far, each as (first, last, value) with closed ends.
        let mut runs: BTreeMap<K, Vec<(Release, Release, V)>> = BTreeMap::new();
        let mut previous: Option<Release> = None;
        for (release, facts) in snapshots {
            for (key, value) in facts {
                let key_runs = runs.entry(key).or_default();
                match key_runs.last_mut() {
                    // Extend the run when the value held at the release just before.
                    Some((_, last, held)) if Some(*last) == previous && *held == value => {
                        *last = release;
                    }
                    _ => key_runs.push((release, release, value)),
                }
            }
            releases.push(release);
            previous = Some(release);
        }
        let oldest = releases.first().copied();
        let newest = releases.last().copied();
        let spans = runs
            .into_iter()
            .map(|(key, key_runs)| {
                let spans = key_runs
                    .into_iter()
                    .map(|(first, last, value)| Span {
                        range: ReleaseRange::new(
                            (Some(first) != oldest).then_some(first),
                            (Some(last) != newest).then_some(last),
                        ),
                        value,
                    })
                    .collect();
                (key, spans)
            })
            .collect();
        History { releases, spans }
    }

    /// A history read back from its spans, over `releases` (oldest first).
    pub fn from_spans(releases: Vec<Release>, spans: BTreeMap<K, Vec<Span<V>>>) -> History<K, V> {
        History { releases, spans }
    }

    /// The releases the history covers, oldest first.
    pub fn releases(&self) -> &[Release] {
        &self.releases
    }

    /// Every key's runs, in key order.
    pub fn spans(&self) -> &BTreeMap<K, Vec<Span<V>>> {
        &self.spans
    }

    /// The facts at `release`: each key whose run covers it, with its value there.
    pub fn at(&self, release: Release) -> BTreeMap<K, V> {
        self.spans
            .iter()
            .filter_map(|(key, spans)| {
                spans
                    .iter()
                    .find(|span| span.range.contains(release))
                    .map(|span| (key.clone(), span.value.clone()))
            })
            .collect()
    }

    /// This history with `release` (newer than every release in it) appended, its facts
    /// `facts`. The result equals building the history from scratch with every release.
    pub fn append(&self, release: Release, facts: BTreeMap<K, V>) -> History<K, V> {
        let snapshots: Vec<(Release, BTreeMap<K, V>)> = self
            .releases
            .iter()
            .map(|&r| (r, self.at(r)))
            .chain([(release, facts)])
            .collect();
        History::build(snapshots)
    }

    /// This history with the facts at its newest release replaced by `facts`.
    pub fn replace_newest(&self, facts: BTreeMap<K, V>) -> History<K, V> {
        let Some((&newest, older)) = self.releases.split_last() else {
            return self.clone();
        };
        let snapshots: Vec<(Release, BTreeMap<K, V>)> = older
            .iter()
            .map(|&r| (r, self.at(r)))
            .chain([(newest, facts)])
            .collect();
        History::build(snapshots)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(day: u32) -> Release {
        Release::new(20230100 + day, 0).unwrap()
    }

    fn facts(pairs: &[(&'static str, u8)]) -> BTreeMap<&'static str, u8> {
        pairs.iter().copied().collect()
    }

    #[test]
    fn runs_with_open_ends_and_gaps() {
        let history = History::build([
            (r(1), facts(&[("a", 1), ("b", 1)])),
            (r(2), facts(&[("a", 1), ("b", 2), ("c", 1)])),
            (r(3), facts(&[("a", 1), ("c", 1)])),
            (r(4), facts(&[("a", 1), ("b", 2)])),
        ]);
        let spans = history.spans();
        assert_eq!(
            spans["a"],
            vec![Span {
                range: ReleaseRange::ALL,
                value: 1
            }]
        );
        assert_eq!(
            spans["b"],
            vec![
                Span {
                    range: ReleaseRange::new(None, Some(r(1))),
                    value: 1
                },
                Span {
                    range: ReleaseRange::new(Some(r(2)), Some(r(2))),
                    value: 2
                },
                Span {
                    range: ReleaseRange::new(Some(r(4)), None),
                    value: 2
                },
            ]
        );
        assert_eq!(
            spans["c"],
            vec![Span {
                range: ReleaseRange::new(Some(r(2)), Some(r(3))),
                value: 1
            }]
        );
        assert_eq!(history.at(r(3)), facts(&[("a", 1), ("c", 1)]));
    }

    #[test]
    fn appending_equals_building_from_scratch() {
        let snapshots = vec![
            (r(1), facts(&[("a", 1)])),
            (r(2), facts(&[("a", 2), ("b", 1)])),
        ];
        let newer = (r(3), facts(&[("b", 1)]));
        let appended = History::build(snapshots.clone()).append(newer.0, newer.1.clone());
        let mut all = snapshots;
        all.push(newer);
        assert_eq!(appended, History::build(all.clone()));
        let replaced = History::build(all.clone()).replace_newest(facts(&[("c", 1)]));
        all[2].1 = facts(&[("c", 1)]);
        assert_eq!(replaced, History::build(all));
    }
}
