//! Invariants of the release history: the catalogue is sorted, every range names
//! known releases in order, facts kept per release cover each release at most once
//! (what gVisor reports as its kernel: exactly once), an id names one rule or
//! remediation per release, and a runsc flag a remediation sets is one runsc has
//! registered in some release.

use std::collections::BTreeMap;

use crate::model::{Arch, RemediationKind, Runtime};
use crate::release::{Release, ReleaseRange};

use super::{is_date, Validator};

impl Validator<'_> {
    pub(super) fn releases(&mut self) {
        let store = self.store;
        let file = "gvisor/releases.toml";
        let all = store.releases.all();
        if all.is_empty() {
            self.report(file, "releases".into(), "no release".into());
        }
        for pair in all.windows(2) {
            if pair[0].tag >= pair[1].tag {
                self.report(
                    file,
                    format!("release {}", pair[1].tag),
                    format!("does not follow {}: releases must be sorted, oldest first, without duplicates", pair[0].tag),
                );
            }
        }
        for info in all {
            let hex = info.commit.len() == 40 && info.commit.bytes().all(|b| b.is_ascii_hexdigit());
            if !hex || !is_date(&info.date) {
                self.report(
                    file,
                    format!("release {}", info.tag),
                    "needs a 40-digit commit and a YYYY-MM-DD date".into(),
                );
            }
        }
        self.generated_histories();
        self.remediation_releases();
    }

    /// Rows of the generated histories name known releases and never overlap; the
    /// kernel history covers every release exactly once.
    fn generated_histories(&mut self) {
        let store = self.store;
        for (arch, timelines) in &store.gvisor {
            let file = format!("gvisor/{arch}.toml");
            for timeline in &timelines.rows {
                for span in &timeline.spans {
                    let item = format!("entry {} (`{}`)", timeline.number, timeline.name);
                    self.range(&file, &item, span.range);
                }
            }
        }
        let kernel_file = "gvisor/uname.toml";
        for kernel in &store.kernels {
            let item = format!("kernel {}", kernel.release);
            self.range(kernel_file, &item, kernel.range);
        }
        for info in store.releases.all() {
            let holding = store
                .kernels
                .iter()
                .filter(|k| k.range.contains(info.tag))
                .count();
            if holding != 1 {
                self.report(
                    kernel_file,
                    format!("release {}", info.tag),
                    format!("{holding} kernels hold for it: exactly one must"),
                );
            }
        }
        for p in &store.provenance {
            if let Some(from) = p.checked_from {
                let item = format!("provenance of table `{}`", p.table);
                self.range("provenance", &item, ReleaseRange::new(Some(from), None));
            }
        }
        let flags = store.flags.iter().map(|f| (f.name.as_str(), f.range));
        self.disjoint("gvisor/runsc_flags.toml", "flag", flags);
        let paths = store.proc.iter().map(|p| (p.path.as_str(), p.range));
        self.disjoint("gvisor/proc.toml", "path", paths);
    }

    /// Remediation ids are unique per release, only gVisor ones have releases, and the
    /// runsc flag a remediation sets is one runsc has registered.
    fn remediation_releases(&mut self) {
        let store = self.store;
        let remediations = store
            .remediations
            .iter()
            .map(|r| (r.id.as_str(), r.releases()));
        self.disjoint("remediations.toml", "remediation", remediations);
        for r in &store.remediations {
            let item = format!("remediation `{}`", r.id);
            if r.runtime != Runtime::Gvisor && r.releases() != ReleaseRange::ALL {
                self.report(
                    "remediations.toml",
                    item.clone(),
                    "only gVisor remediations have releases".into(),
                );
            }
            if let Some(name) = r.runsc_flag_name() {
                let registered: Vec<ReleaseRange> = store
                    .flags
                    .iter()
                    .filter(|f| f.name == name)
                    .map(|f| f.range)
                    .collect();
                if registered.is_empty() {
                    let how = if r.kind == RemediationKind::RunscFlag {
                        "sets"
                    } else {
                        "overrides"
                    };
                    self.report(
                        "remediations.toml",
                        item,
                        format!("it {how} `--{name}`, which runsc registers in no release the database knows"),
                    );
                }
            }
        }
    }

    pub(super) fn notes(&mut self) {
        let store = self.store;
        let file = "gvisor/notes.toml";
        let native = |name: &str| {
            Arch::NATIVE
                .iter()
                .any(|&a| store.syscall_by_name(a, name).is_some())
        };
        for note in &store.notes {
            let item = format!("note on `{}`", note.syscall);
            if !native(&note.syscall) {
                self.report(file, item.clone(), "no native arch has this syscall".into());
            }
            self.range(file, &item, note.range());
        }
        let notes = store.notes.iter().map(|n| (n.syscall.as_str(), n.range()));
        self.disjoint(file, "note on", notes);
        for name in store.handled.keys() {
            if !native(name) {
                let item = format!("handled `{name}`");
                self.report(file, item, "no native arch has this syscall".into());
            }
        }
        for path in store.handled_paths.keys() {
            if !store.proc.iter().any(|p| &p.path == path) {
                self.report(
                    file,
                    format!("handled path `{path}`"),
                    "gvisor/proc.toml has no such path".into(),
                );
            }
        }
    }

    /// Rules sharing an id hold for releases that do not overlap (a gVisor fact that
    /// changed is one id with a rule per stretch of releases); only gVisor rules have
    /// releases.
    pub(super) fn rule_ids(&mut self, rule_files: &[String]) {
        let store = self.store;
        let mut by_id: BTreeMap<&str, Vec<(usize, ReleaseRange)>> = BTreeMap::new();
        for (i, rule) in store.rules.iter().enumerate() {
            let file = &rule_files[i];
            let item = format!("rule `{}`", rule.id);
            if rule.runtime != Runtime::Gvisor && rule.releases() != ReleaseRange::ALL {
                self.report(file, item.clone(), "only gVisor rules have releases".into());
            }
            self.range(file, &item, rule.releases());
            by_id
                .entry(&rule.id)
                .or_default()
                .push((i, rule.releases()));
        }
        for (id, rules) in by_id {
            for (k, (i, a)) in rules.iter().enumerate() {
                if let Some((_, b)) = rules[..k].iter().find(|(_, b)| a.overlaps(b)) {
                    let message = if *a == ReleaseRange::ALL && *b == ReleaseRange::ALL {
                        "id used twice".to_owned()
                    } else {
                        format!("id used twice for overlapping releases ({b} and {a})")
                    };
                    self.report(&rule_files[*i], format!("rule `{id}`"), message);
                }
            }
        }
    }

    /// The ends of `range` are known releases, in order.
    fn range(&mut self, file: &str, item: &str, range: ReleaseRange) {
        let known = |r: Option<Release>| r.is_none_or(|r| self.store.releases.contains(r));
        for end in [range.first, range.last] {
            if !known(end) {
                let end = end.expect("an unknown end is set");
                self.report(
                    file,
                    item.to_owned(),
                    format!("{end} is not a release in gvisor/releases.toml"),
                );
            }
        }
        if let (Some(first), Some(last)) = (range.first, range.last) {
            if first > last {
                self.report(
                    file,
                    item.to_owned(),
                    format!("first {first} is after last {last}"),
                );
            }
        }
    }

    /// Facts keyed alike hold for releases that do not overlap.
    fn disjoint<'k>(
        &mut self,
        file: &str,
        what: &str,
        facts: impl Iterator<Item = (&'k str, ReleaseRange)>,
    ) {
        let mut by_key: BTreeMap<&str, Vec<ReleaseRange>> = BTreeMap::new();
        for (key, range) in facts {
            let seen = by_key.entry(key).or_default();
            if let Some(other) = seen.iter().find(|other| other.overlaps(&range)) {
                let message = if range == ReleaseRange::ALL && *other == ReleaseRange::ALL {
                    "id used twice".to_owned()
                } else {
                    format!("given twice for overlapping releases ({other} and {range})")
                };
                self.report(file, format!("{what} `{key}`"), message);
            }
            seen.push(range);
            self.range(file, &format!("{what} `{key}`"), range);
        }
    }
}
