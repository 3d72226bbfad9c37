//! What `sandprof runsc-log` writes: the profile of the strace lines (`--to-profile`) and
//! golden reports in every format.

use sandprof::profile::io;
use sandprof::report::{render, Format};

use super::*;

#[test]
fn the_strace_lines_make_a_valid_profile() {
    let evidence = evidence_of(&[fixture("sandbox-current")]);
    let profile = &evidence.profile.profile;
    io::validate(profile).unwrap();
    assert_eq!(profile.captures[0].method, "runsc-strace");
    assert_eq!(
        profile.captures[0].target,
        sandprof::profile::Target::RunscLog {
            files: evidence.inputs.clone()
        }
    );
    let exes: Vec<&str> = profile
        .executables
        .iter()
        .map(|e| e.path.as_str())
        .collect();
    assert_eq!(exes, vec!["sh", "netdiag"]);
    type Row<'a> = (&'a str, u64, Vec<(&'a str, u64)>);
    let rows: Vec<Row<'_>> = profile
        .syscalls
        .iter()
        .map(|r| {
            (
                r.name.as_str(),
                r.calls,
                r.errors.iter().map(|(k, v)| (k.as_str(), *v)).collect(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            ("cachestat", 1, vec![("ENOSYS", 1)]),
            ("ioctl", 1, vec![("ENOTTY", 1)]),
            ("openat", 1, vec![]),
            ("prctl", 1, vec![("EINVAL", 1)]),
            ("socket", 2, vec![("EPERM", 1), ("EPROTONOSUPPORT", 1)]),
            ("write", 1, vec![]),
        ]
    );
    assert!(evidence.profile.left_out.is_empty());
    // Round trip through the file format.
    let dir = crate::support::scratch();
    let path = dir.path().join("out.sandprof.json");
    io::write(&path, profile).unwrap();
    assert_eq!(&io::read(&path).unwrap(), profile);
}

fn golden(name: &str, actual: &str) {
    let path = Path::new("golden/runsc").join(name);
    if std::env::var_os("SANDPROF_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; bless with SANDPROF_BLESS=1", path.display()));
    assert!(
        expected == actual,
        "{} differs from the report; diff it, then bless with SANDPROF_BLESS=1",
        path.display()
    );
}

/// A hand-written directory with every message family, and a real log.
#[test]
fn golden_reports_in_every_format() {
    for (names, stem) in [
        (vec!["sandbox-current"], "sandbox-current"),
        (vec!["real/sysctl"], "real-sysctl"),
    ] {
        let report = report_of(&names);
        for (format, extension) in [
            (Format::Table, "txt"),
            (Format::Markdown, "md"),
            (Format::Json, "json"),
        ] {
            let mut out = Vec::new();
            render(&report, format, &mut out, false).unwrap();
            golden(
                &format!("{stem}.{extension}"),
                &String::from_utf8(out).unwrap(),
            );
        }
    }
}
