//! The database over gVisor's releases: the history viewed at a release agrees exactly
//! with what upstream had at that release alone (fixtures written by `cargo xtask
//! import-gvisor --all-releases --fixtures`, read from each tag, not from the history),
//! the changes that matter most sit at the releases upstream made them, the hand-kept
//! /proc rules never deny a path a release registers, and releases resolve as
//! documented.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use syscall_db::files::{GvisorTableFile, ProcFile, RunscFlagsFile, UnameFile};
use syscall_db::{
    Arch, Database, FieldValue, FieldValues, GvisorStatus, Outcome, Release, Runtime,
};

fn r(tag: &str) -> Release {
    Release::parse(tag).unwrap()
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/releases")
}

fn read<T: serde::de::DeserializeOwned>(path: &Path) -> T {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The first release, the newest, and those where io_uring, clone3 and the reported
/// kernel changed.
const FIXTURE_RELEASES: [&str; 7] = [
    "release-20221219.0",
    "release-20230118.0",
    "release-20230814.0",
    "release-20230823.0",
    "release-20260420.0",
    "release-20260427.0",
    "release-20260817.0",
];

#[test]
fn the_history_agrees_exactly_with_upstream_at_each_fixture_release() {
    let mut found: Vec<String> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    found.sort();
    assert_eq!(found, FIXTURE_RELEASES);
    let db = Database::get();
    for tag in FIXTURE_RELEASES {
        let dir = fixtures().join(tag);
        let view = db.at(r(tag)).unwrap();
        for arch in Arch::NATIVE {
            let file: GvisorTableFile = read(&dir.join(format!("{arch}.toml")));
            let upstream: BTreeMap<u32, _> = file.syscalls.iter().map(|e| (e.number, e)).collect();
            let table = view.gvisor_table(arch);
            for row in table {
                match upstream.get(&row.number) {
                    Some(entry) => {
                        let name = row.upstream_name.as_deref().unwrap_or(&row.name);
                        assert_eq!(
                            (
                                name,
                                row.status,
                                &row.errno,
                                row.event,
                                &row.capability,
                                &row.issues
                            ),
                            (
                                entry.name.as_str(),
                                entry.status,
                                &entry.errno,
                                entry.event,
                                &entry.capability,
                                &entry.issues
                            ),
                            "{tag} {arch} {}",
                            row.number
                        );
                        assert!(row.in_upstream_table, "{tag} {arch} {}", row.number);
                    }
                    None => {
                        assert!(!row.in_upstream_table, "{tag} {arch} {}", row.number);
                        assert_eq!(row.errno.as_deref(), Some(file.fallback.errno.as_str()));
                        assert_eq!(row.event, file.fallback.event);
                    }
                }
            }
            for number in upstream.keys() {
                assert!(
                    table.iter().any(|row| row.number == *number),
                    "{tag} {arch}: upstream's {number} is not in the view"
                );
            }
        }
        let uname: UnameFile = read(&dir.join("uname.toml"));
        let kernel = view.gvisor_kernel();
        let expected = &uname.uname[0];
        assert_eq!(
            (
                &kernel.sysname,
                &kernel.release,
                &kernel.version,
                &kernel.path
            ),
            (
                &expected.sysname,
                &expected.release,
                &expected.version,
                &expected.path
            ),
            "{tag}"
        );
        let flags: RunscFlagsFile = read(&dir.join("runsc_flags.toml"));
        let shown = |name: &str, kind: &str, default: Option<&str>| {
            (name.to_owned(), kind.to_owned(), default.map(str::to_owned))
        };
        assert_eq!(
            view.runsc_flags()
                .iter()
                .map(|f| shown(&f.name, &f.kind, f.default.as_deref()))
                .collect::<Vec<_>>(),
            flags
                .flags
                .iter()
                .map(|f| shown(&f.name, &f.kind, f.default.as_deref()))
                .collect::<Vec<_>>(),
            "{tag}"
        );
        let proc: ProcFile = read(&dir.join("proc.toml"));
        assert_eq!(
            view.proc_paths()
                .iter()
                .map(|p| (p.path.clone(), p.conditional))
                .collect::<Vec<_>>(),
            proc.paths
                .iter()
                .map(|p| (p.path.clone(), p.conditional))
                .collect::<Vec<_>>(),
            "{tag}"
        );
    }
}

fn entry(db: &Database, tag: &str, name: &str) -> (GvisorStatus, Option<String>) {
    let view = db.at(r(tag)).unwrap();
    let e = view.gvisor(Arch::X86_64, name).unwrap();
    (e.status, e.errno.clone())
}

#[test]
fn changes_sit_at_the_releases_upstream_made_them() {
    let db = Database::get();
    let unimplemented = |errno: &str| (GvisorStatus::Unimplemented, Some(errno.to_owned()));
    let partial = (GvisorStatus::Partial, None);
    let needs_cap = (GvisorStatus::NeedsCapability, Some("EPERM".to_owned()));
    assert_eq!(entry(db, "release-20221219.0", "ioprio_set"), needs_cap);
    assert_eq!(entry(db, "release-20260622.0", "ioprio_set"), needs_cap);
    assert_eq!(entry(db, "release-20260706.0", "ioprio_set"), partial);
    assert_eq!(
        entry(db, "release-20230807.0", "clone3"),
        unimplemented("ENOSYS")
    );
    assert_eq!(entry(db, "release-20230814.0", "clone3"), partial);
    assert_eq!(
        entry(db, "release-20230823.0", "clone3"),
        unimplemented("ENOSYS")
    );
    assert_eq!(entry(db, "release-20230904.0", "clone3"), partial);
    assert_eq!(
        entry(db, "release-20230920.0", "keyctl"),
        unimplemented("EACCES")
    );
    assert_eq!(entry(db, "release-20230925.0", "keyctl"), partial);
    assert_eq!(
        entry(db, "release-20260608.0", "fsopen"),
        unimplemented("ENOSYS")
    );
    assert_eq!(entry(db, "release-20260615.0", "fsopen"), partial);

    let kernel = |tag: &str| db.at(r(tag)).unwrap().gvisor_kernel().release.clone();
    assert_eq!(kernel("release-20221219.0"), "4.4.0");
    assert_eq!(kernel("release-20260420.0"), "4.4.0");
    assert_eq!(kernel("release-20260427.0"), "4.19.0-gvisor");

    let iouring = |tag: &str| {
        db.at(r(tag))
            .unwrap()
            .runsc_flag("iouring")
            .map(|f| (f.kind.clone(), f.default.clone()))
    };
    assert_eq!(iouring("release-20230109.0"), None);
    assert_eq!(
        iouring("release-20230118.0"),
        Some(("bool".to_owned(), Some("false".to_owned())))
    );

    let has = |tag: &str, path: &str| {
        db.at(r(tag))
            .unwrap()
            .proc_paths()
            .iter()
            .any(|p| p.path == path)
    };
    assert!(!has("release-20260112.0", "/proc/sys/kernel/ostype"));
    assert!(has("release-20260126.0", "/proc/sys/kernel/ostype"));
    assert!(!has("release-20230130.0", "/proc/#/limits"));
    assert!(has("release-20230214.0", "/proc/#/limits"));
}

/// The best gVisor rule for opening `path` at `view`'s release.
fn judge(view: &Database, path: &str) -> Option<(String, Outcome)> {
    let fields: FieldValues = [("path".to_owned(), FieldValue::Str(path.to_owned()))].into();
    view.best_matching_rule(Runtime::Gvisor, Arch::X86_64, "openat", &fields)
        .map(|rule| (rule.id.clone(), rule.outcome.clone()))
}

#[test]
fn paths_a_release_registers_are_never_denied_and_paths_it_lacks_are() {
    let db = Database::get();
    let mut denied = Vec::new();
    for info in db.releases().all() {
        let view = db.at(info.tag).unwrap();
        for path in view.proc_paths().iter().filter(|p| !p.conditional) {
            let as_opened = path.path.replace("/proc/#/", "/proc/self/");
            let judged = judge(&view, &as_opened);
            if !matches!(
                judged,
                Some((_, Outcome::Works | Outcome::Degraded | Outcome::Ignored))
            ) {
                denied.push(format!("{}: {as_opened} judged {judged:?}", info.tag));
            }
        }
    }
    assert!(
        denied.is_empty(),
        "registered paths denied:\n{}",
        denied.join("\n")
    );
    let old = db.at(r("release-20221219.0")).unwrap();
    for path in [
        "/proc/sys/kernel/ostype",
        "/proc/sys/kernel/osrelease",
        "/proc/devices",
        "/proc/self/limits",
        "/proc/self/ns/mnt",
        "/proc/sys/fs/nr_open",
        "/proc/sys/kernel/random/boot_id",
    ] {
        assert_eq!(
            judge(&old, path).map(|(_, outcome)| outcome),
            Some(Outcome::Fails {
                errno: "ENOENT".to_owned()
            }),
            "{path}"
        );
    }
    assert_eq!(
        judge(&old, "/proc/sys/kernel/ostype").unwrap().0,
        "gvisor.proc.global-added-in-release-20260126.0"
    );
    assert_eq!(
        judge(&old, "/proc/self/limits").unwrap().0,
        "gvisor.proc.pid-added-in-release-20230214.0"
    );
    let newest = Database::get();
    assert_eq!(
        judge(newest, "/proc/sys/kernel/ostype"),
        Some(("gvisor.proc.sys-implemented".to_owned(), Outcome::Works))
    );
}

/// The paths a glob of the form `/prefix/{a,b,c}` names, one brace group at the end.
fn alternatives(glob: &str) -> Vec<String> {
    let (prefix, group) = glob.split_once('{').expect("a brace group");
    group
        .trim_end_matches('}')
        .split(',')
        .map(|alt| format!("{prefix}{alt}"))
        .collect()
}

#[test]
fn every_sysctl_the_hand_kept_rules_say_exists_is_registered_at_the_newest_release() {
    let db = Database::get();
    let registered: Vec<&str> = db.proc_paths().iter().map(|p| p.path.as_str()).collect();
    for id in [
        "gvisor.proc.sys",
        "gvisor.proc.sys-implemented",
        "gvisor.proc.sys-static",
    ] {
        let rule = db.rules().iter().find(|r| r.id == id).unwrap();
        let Some(syscall_db::Condition::Glob(glob)) = rule.when.get("path") else {
            panic!("{id} has no path glob");
        };
        for path in alternatives(glob) {
            assert!(
                registered.contains(&path.as_str()),
                "{id} names {path}, which is not registered"
            );
        }
    }
}

#[test]
fn needs_config_without_the_flag_in_the_release_fails() {
    let db = Database::get();
    let io_uring = |tag: &str| {
        let view = db.at(r(tag)).unwrap();
        let rule = view
            .best_matching_rule(
                Runtime::Gvisor,
                Arch::X86_64,
                "io_uring_setup",
                &FieldValues::new(),
            )
            .unwrap();
        (rule.id.clone(), rule.outcome.clone())
    };
    assert_eq!(
        io_uring("release-20221219.0"),
        ("gvisor.io_uring.setup".to_owned(), Outcome::Degraded)
    );
    assert_eq!(
        io_uring("release-20230118.0"),
        (
            "gvisor.io_uring.setup".to_owned(),
            Outcome::NeedsConfig {
                errno: "ENOSYS".to_owned()
            }
        )
    );
    // cgroup2 mounts need --mount-cgroup-v2, which release-20260706.0 introduces.
    let cgroup2 = |tag: &str| {
        let view = db.at(r(tag)).unwrap();
        let fields: FieldValues =
            [("fstype".to_owned(), FieldValue::Str("cgroup2".to_owned()))].into();
        let rule = view
            .best_matching_rule(Runtime::Gvisor, Arch::X86_64, "mount", &fields)
            .unwrap();
        (rule.outcome.clone(), rule.note.clone())
    };
    let (outcome, note) = cgroup2("release-20260622.0");
    assert_eq!(
        outcome,
        Outcome::Fails {
            errno: "ENODEV".to_owned()
        }
    );
    assert!(
        note.ends_with(
            " This release of runsc has none of the settings that would fix this \
             (--mount-cgroup-v2 first appears in release-20260706.0)."
        ),
        "{note}"
    );
    assert_eq!(
        cgroup2("release-20260706.0").0,
        Outcome::NeedsConfig {
            errno: "ENODEV".to_owned()
        }
    );
    assert!(db
        .at(r("release-20230109.0"))
        .unwrap()
        .remediation("runsc.iouring")
        .is_none());
}

#[test]
fn releases_resolve_to_the_newest_known_at_or_before_them() {
    let releases = Database::get().releases();
    assert_eq!(releases.oldest(), Some(r("release-20221219.0")));
    let debian = releases
        .resolve(Release::parse("0.0~20221219.0").unwrap())
        .unwrap();
    assert!(debian.is_exact());
    let between = releases.resolve(r("release-20230105.0")).unwrap();
    assert_eq!(between.judged, r("release-20230102.0"));
    let err = releases
        .resolve(r("release-20221001.0"))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("gVisor release-20221001.0 is older than every release the database knows (release-20221219.0 to "),
        "{err}"
    );
    assert!(
        err.ends_with("(nearest: release-20221219.0, release-20230102.0, release-20230109.0)"),
        "{err}"
    );
}

#[test]
fn a_view_at_an_unknown_release_is_an_error() {
    let err = Database::get().at(r("release-20230105.0")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the database has no gVisor release-20230105.0: resolve the release first"
    );
}

fn problems(sources: syscall_db::Sources) -> Vec<String> {
    match Database::from_sources(&sources) {
        Err(syscall_db::Error::Invalid { problems }) => {
            problems.iter().map(ToString::to_string).collect()
        }
        Err(other) => panic!("expected invalid data, got: {other}"),
        Ok(_) => panic!("bad data was accepted"),
    }
}

#[test]
fn release_ranges_are_checked() {
    let rule = |range: &str| {
        format!(
            "[[rule]]\nid = \"t.ranged\"\n{range}\nruntime = \"gvisor\"\ncategory = \"syscall\"\nsyscalls = [\"read\"]\noutcome = {{ kind = \"works\" }}\nnote = \"n\"\nsources = [{{ path = \"a.go\" }}]\n"
        )
    };
    let file = format!(
        "[provenance]\ntable = \"rules-test\"\nproject = \"google/gvisor\"\nrevision = \"x\"\npaths = [\"a.go\"]\ndate = \"2026-01-01\"\nmaintained = \"curated\"\n\n{}\n{}\n{}",
        rule("first = \"release-20230105.0\""),
        rule("last = \"release-20230109.0\""),
        rule("first = \"release-20230118.0\"\nlast = \"release-20230109.0\""),
    );
    let sources = syscall_db::Sources::embedded().with_file("rules/test.toml", file);
    assert_eq!(
        problems(sources),
        [
            "`rules/test.toml`: rule `t.ranged`: release-20230105.0 is not a release in gvisor/releases.toml",
            "`rules/test.toml`: rule `t.ranged`: first release-20230118.0 is after last release-20230109.0",
            "`rules/test.toml`: rule `t.ranged`: id used twice for overlapping releases (release-20230105.0 on and up to release-20230109.0)",
            "`rules/test.toml`: rule `t.ranged`: id used twice for overlapping releases (release-20230105.0 on and release-20230118.0 to release-20230109.0)",
        ]
    );
    let history = "# x\nfallback = { errno = \"ENOSYS\", event = true }\nsyscalls = [\n  { number = 0, name = \"read\", status = \"full\", last = \"release-20230109.0\" },\n  { number = 0, name = \"read\", status = \"partial\", first = \"release-20230102.0\" },\n]\n\n[provenance]\ntable = \"gvisor-syscalls-x86_64\"\nproject = \"google/gvisor\"\nrevision = \"release-20260817.0\"\npaths = [\"pkg/sentry/syscalls/linux/linux64.go\"]\ndate = \"2026-08-14\"\nmaintained = \"generated\"\n";
    let sources = syscall_db::Sources::embedded().with_file("gvisor/x86_64.toml", history);
    assert_eq!(
        problems(sources),
        ["`gvisor/x86_64.toml`: entry 0 (`read`): rows for up to release-20230109.0 and release-20230102.0 on overlap or are out of release order"]
    );
}
