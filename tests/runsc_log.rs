//! `sandprof runsc-log` on fixture logs written from the formats in runsc's source: one
//! test per message family and format generation with the exact facts and findings, a
//! directory of several runsc logs, gzip, stdin, text and JSON mixed, bad input, the
//! profile it writes, and golden reports (regenerate them with
//! `SANDPROF_BLESS=1 cargo test -p sandprof-tests runsc_log::`).

use std::path::{Path, PathBuf};

use sandprof::analysis::finding::{Severity, VerdictStatus};
use sandprof::analysis::runsc::analyze_logs;
use sandprof::analysis::RunscFlags;
use sandprof::profile::io;
use sandprof::report::{render, Format};
use sandprof::runsc_log::capture::CaptureSpec;
use sandprof::runsc_log::facts::{FactsBuilder, LogFacts, Termination};
use sandprof::runsc_log::input::{self, Input};
use sandprof::runsc_log::read::read_one;
use sandprof::runsc_log::read_inputs;
use syscall_db::{Arch, Database, FieldValue};

const DIR: &str = "fixtures/runsc";

fn fixture(name: &str) -> PathBuf {
    Path::new(DIR).join(name)
}

fn spec() -> CaptureSpec {
    CaptureSpec::from_database(Database::get(), Arch::X86_64)
}

fn facts_of(names: &[&str]) -> LogFacts {
    let paths: Vec<PathBuf> = names.iter().map(|n| fixture(n)).collect();
    let inputs = input::expand(&paths).unwrap();
    read_inputs(&inputs, &spec()).unwrap()
}

/// (kind, count, first line, last line) per message kind.
fn events(facts: &LogFacts) -> Vec<(String, u64, u64, u64)> {
    facts
        .events
        .iter()
        .map(|e| (format!("{:?}", e.kind), e.count, e.first.line, e.last.line))
        .collect()
}

/// (kind, line, cause as `syscall kind @line`) per termination.
fn terminations(facts: &LogFacts) -> Vec<(String, u64, Option<String>)> {
    facts
        .terminations
        .iter()
        .map(|t: &Termination| {
            (
                format!("{:?}", t.kind),
                t.at.line,
                t.cause
                    .as_ref()
                    .map(|c| format!("{} {:?} @{}", c.syscall.display(), c.kind, c.at.line)),
            )
        })
        .collect()
}

/// A call aggregate as (syscall, comm, calls, failures as errno×count).
type CallRow = (String, String, u64, Vec<(u16, u64)>);

/// Every call aggregate, sorted.
fn calls(facts: &LogFacts) -> Vec<CallRow> {
    let mut out: Vec<_> = facts
        .calls
        .iter()
        .map(|c| {
            (
                c.syscall.display(),
                c.comm.clone(),
                c.calls,
                c.failures.iter().map(|f| (f.errno, f.count)).collect(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn a_directory_of_current_logs_with_every_message_family() {
    let facts = facts_of(&["sandbox-current"]);
    let files: Vec<_> = facts
        .files
        .iter()
        .map(|f| {
            (
                f.name.clone(),
                f.command.clone(),
                f.encodings.clone(),
                f.lines,
                f.recognised,
                f.strace_lines,
                f.unparsed,
            )
        })
        .collect();
    let name = |n: &str| format!("{DIR}/sandbox-current/runsc.log.20261122-150405.{n}");
    assert_eq!(
        files,
        vec![
            (
                name("000001.create.txt"),
                Some("create".to_owned()),
                vec!["text"],
                5,
                5,
                0,
                0
            ),
            (
                name("000002.gofer.txt"),
                Some("gofer".to_owned()),
                vec!["text"],
                4,
                4,
                0,
                0
            ),
            (
                name("000003.boot.txt"),
                Some("boot".to_owned()),
                vec!["text"],
                31,
                31,
                16,
                0
            ),
        ]
    );
    assert_eq!(facts.runsc_version.as_deref(), Some("release-20261101.0"));
    assert_eq!(facts.goarches, vec!["amd64".to_owned()]);
    assert_eq!(
        events(&facts),
        vec![
            ("MountTypeIgnored(\"ext4\")".to_owned(), 1, 3, 3),
            ("MountOptionIgnored(\"nodev\")".to_owned(), 1, 4, 4),
            (
                "UnsupportedSyscall { syscall: Named(\"ioctl\"), key_args: [(1, 21522)] }"
                    .to_owned(),
                1,
                11,
                11
            ),
            ("RawSocket(NetRaw)".to_owned(), 1, 15, 15),
            (
                "UnsupportedSyscall { syscall: Named(\"prctl\"), key_args: [(0, 47)] }".to_owned(),
                1,
                18,
                18
            ),
            (
                "UnsupportedSyscall { syscall: Number(451), key_args: [] }".to_owned(),
                1,
                22,
                22
            ),
            (
                "Sockopt { level: None, option: Some(49) }".to_owned(),
                1,
                23,
                23
            ),
            ("Netfilter".to_owned(), 1, 24, 24),
            ("Netlink".to_owned(), 1, 25, 25),
            ("Keyctl(29)".to_owned(), 1, 26, 26),
            ("Nvproxy(Unsupported)".to_owned(), 1, 27, 27),
        ]
    );
    assert_eq!(
        calls(&facts),
        vec![
            ("ioctl".to_owned(), "sh".to_owned(), 1, vec![(25, 1)]),
            ("openat".to_owned(), "sh".to_owned(), 1, vec![]),
            ("prctl".to_owned(), "netdiag".to_owned(), 1, vec![(22, 1)]),
            ("socket".to_owned(), "netdiag".to_owned(), 1, vec![(1, 1)]),
            ("socket".to_owned(), "netdiag".to_owned(), 1, vec![(93, 1)]),
            ("sys_451".to_owned(), "netdiag".to_owned(), 1, vec![(38, 1)]),
            ("write".to_owned(), "sh".to_owned(), 1, vec![]),
        ]
    );
    // Each process's exit is explained by the last call runsc refused it; the sandbox's
    // by the last refusal or unsupported report anywhere.
    assert_eq!(
        terminations(&facts),
        vec![
            (
                "ProcessExit { pid: 7, code: 1 }".to_owned(),
                28,
                Some("sys_451 Failed(38) @21".to_owned())
            ),
            (
                "ProcessExit { pid: 1, code: 1 }".to_owned(),
                29,
                Some("ioctl Failed(25) @10".to_owned())
            ),
            (
                "Exit { scope: Application, status: Code(1) }".to_owned(),
                30,
                Some("sys_451 Unsupported @22".to_owned())
            ),
            (
                "Exit { scope: Command, status: Code(1) }".to_owned(),
                31,
                Some("sys_451 Unsupported @22".to_owned())
            ),
        ]
    );
    // Task ids with namespace ids are kept as root ids.
    let socket = facts
        .calls
        .iter()
        .find(|c| c.syscall.display() == "socket" && c.failures[0].errno == 1)
        .unwrap();
    assert_eq!((socket.first.pid, socket.first.tid), (Some(7), Some(8)));
    assert_eq!(socket.first.time.to_string_lossy(), "1122 15:04:05.400040");
    assert_eq!(facts.truncated_calls, 0);
    assert_eq!(facts.unfinished_calls, 0);
}

#[test]
fn the_oldest_formats_tid_prefix_hex_results_and_the_first_wordings() {
    let facts = facts_of(&["legacy-2020.boot.txt"]);
    assert_eq!(facts.files[0].unparsed, 0);
    assert_eq!(facts.files[0].strace_lines, 5);
    assert_eq!(
        calls(&facts),
        vec![
            ("keyctl".to_owned(), "app".to_owned(), 1, vec![(38, 1)]),
            ("openat".to_owned(), "app".to_owned(), 1, vec![]),
        ]
    );
    assert_eq!(
        events(&facts),
        vec![(
            "UnsupportedSyscall { syscall: Named(\"keyctl\"), key_args: [] }".to_owned(),
            1,
            4,
            4
        )]
    );
    assert_eq!(facts.events[0].args, Some([29, 0, 0, 0, 0, 0]));
    // The task's signal line and the uncaught-signal event are one death; the task
    // died inside read(2), which never returned.
    assert_eq!(
        terminations(&facts),
        vec![
            (
                "Signal { pid: Some(5), signal: 11 }".to_owned(),
                9,
                Some("read Unfinished @8".to_owned())
            ),
            (
                "Exit { scope: Application, status: Signal { signal: 11, core: false } }"
                    .to_owned(),
                11,
                Some("keyctl Failed(38) @5".to_owned())
            ),
            (
                "Exit { scope: Command, status: Signal { signal: 11, core: true } }".to_owned(),
                12,
                Some("keyctl Failed(38) @5".to_owned())
            ),
        ]
    );
}

#[test]
fn the_middle_generation_pid_tid_prefix_and_zero_return_with_errno() {
    let facts = facts_of(&["mid-2023.boot.txt"]);
    assert_eq!(facts.files[0].unparsed, 0);
    assert_eq!(
        calls(&facts),
        vec![
            ("openat".to_owned(), "ping".to_owned(), 1, vec![(2, 1)]),
            ("socket".to_owned(), "ping".to_owned(), 1, vec![(1, 1)]),
        ]
    );
    assert_eq!(
        events(&facts),
        vec![("RawSocket(NetRaw)".to_owned(), 1, 3, 3)]
    );
    assert_eq!(
        terminations(&facts),
        vec![
            (
                "Signal { pid: Some(12), signal: 9 }".to_owned(),
                8,
                Some("poll Unfinished @7".to_owned())
            ),
            (
                "Exit { scope: Application, status: Signal { signal: 9, core: false } }".to_owned(),
                9,
                Some("socket Failed(1) @4".to_owned())
            ),
            (
                "Exit { scope: Command, status: Signal { signal: 9, core: false } }".to_owned(),
                10,
                Some("socket Failed(1) @4".to_owned())
            ),
        ]
    );
    let openat = facts
        .calls
        .iter()
        .find(|c| c.syscall.display() == "openat")
        .unwrap();
    assert_eq!(
        openat.fields.get("path"),
        Some(&FieldValue::Str(
            "/proc/sys/net/ipv4/ping_group_range".to_owned()
        ))
    );
}

#[test]
fn json_and_json_k8s_logs_mixed_with_text() {
    let facts = facts_of(&["mid-2023.boot.txt", "user-log.json-k8s.json"]);
    assert_eq!(facts.files[1].encodings, vec!["json-k8s"]);
    assert_eq!(
        events(&facts)[1],
        (
            "UnsupportedSyscall { syscall: Named(\"setsockopt\"), key_args: [(1, 0), (2, 64)] }"
                .to_owned(),
            2,
            1,
            2
        )
    );
    assert_eq!(facts.events[1].first.file, 1);
    assert_eq!(
        facts.events[1].last.time.to_string_lossy(),
        "2026-11-22T15:04:05.6Z"
    );

    let facts = facts_of(&["json.boot.json"]);
    let file = &facts.files[0];
    assert_eq!((file.lines, file.recognised, file.unparsed), (6, 5, 1));
    assert_eq!(file.encodings, vec!["json"]);
    assert_eq!(
        file.unparsed_samples,
        vec![(
            6,
            "invalid JSON: EOF while parsing a string at line 1 column 17".to_owned()
        )]
    );
    assert_eq!(facts.goarches, vec!["arm64".to_owned()]);
    assert_eq!(
        terminations(&facts),
        vec![
            (
                "ProcessExit { pid: 3, code: 6 }".to_owned(),
                4,
                Some("socket Failed(97) @3".to_owned())
            ),
            (
                "FatalError".to_owned(),
                5,
                Some("socket Failed(97) @3".to_owned())
            ),
        ]
    );
    assert_eq!(
        facts.terminations[1].detail,
        vec![
            "FATAL ERROR: running container: exit status 6".to_owned(),
            "goroutine 1 [running]:".to_owned(),
            "main.main()".to_owned(),
            "\trunsc/main.go:27 +0x18".to_owned(),
        ]
    );
}

#[test]
fn a_go_panic_with_its_stack() {
    let facts = facts_of(&["panic.boot.txt"]);
    assert_eq!(facts.files[0].unparsed, 0);
    assert_eq!(
        terminations(&facts),
        vec![(
            "Panic".to_owned(),
            4,
            Some("membarrier Failed(22) @3".to_owned())
        )]
    );
    assert_eq!(
        facts.terminations[0].detail,
        vec![
            "panic: runtime error: invalid memory address or nil pointer dereference",
            "[signal SIGSEGV: segmentation violation code=0x1 addr=0x18 pc=0x5a1b2c]",
            "goroutine 212 [running]:",
            "gvisor.dev/gvisor/pkg/sentry/kernel.(*Task).doSyscall(0xc000a80000)",
            "\tpkg/sentry/kernel/task_syscall.go:110 +0x2c",
            "created by gvisor.dev/gvisor/pkg/sentry/kernel.(*Task).Start in goroutine 1",
            "\tpkg/sentry/kernel/task_start.go:380 +0x10f",
        ]
    );
}

#[test]
fn cloud_run_container_sandbox_lines() {
    let facts = facts_of(&["cloud-run.txt"]);
    assert_eq!((facts.files[0].recognised, facts.files[0].unparsed), (2, 0));
    assert_eq!(
        events(&facts),
        vec![
            (
                "UnsupportedSyscall { syscall: Named(\"ioctl\"), key_args: [(1, 21513)] }"
                    .to_owned(),
                1,
                1,
                1
            ),
            (
                "UnsupportedSyscall { syscall: Named(\"io_uring_setup\"), key_args: [] }"
                    .to_owned(),
                1,
                2,
                2
            ),
        ]
    );
}

#[test]
fn gzip_and_stdin_read_like_the_plain_file() {
    let plain = facts_of(&["legacy-2020.boot.txt"]);
    let gzip = facts_of(&["legacy-2020.boot.txt.gz"]);
    assert_eq!(terminations(&gzip), terminations(&plain));
    assert_eq!(events(&gzip), events(&plain));
    assert_eq!(gzip.files[0].command.as_deref(), Some("boot"));

    let spec = spec();
    let mut builder = FactsBuilder::new(&spec);
    let bytes = std::fs::read(fixture("legacy-2020.boot.txt")).unwrap();
    read_one(&mut builder, "-".to_owned(), None, &bytes[..]).unwrap();
    let stdin = builder.finish();
    assert_eq!(stdin.files[0].name, "-");
    assert_eq!(stdin.files[0].command.as_deref(), Some("boot"));
    assert_eq!(terminations(&stdin), terminations(&plain));
    assert_eq!(
        input::expand(&[PathBuf::from("-")]).unwrap(),
        vec![Input::Stdin]
    );
}

#[test]
fn bad_input_gets_an_error_naming_the_file_and_the_problem() {
    let not_a_log = fixture("not-a-log.txt");
    let err = read_inputs(&input::expand(&[not_a_log]).unwrap(), &spec()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "fixtures/runsc/not-a-log.txt is not a runsc log: none of its first 2 non-blank \
         lines is a runsc log line (text, json or json-k8s) or Go runtime output; line 1 \
         reads \"# nginx access log\""
    );
    let err = input::expand(&[fixture("missing.txt")]).unwrap_err();
    assert_eq!(
        format!("{err:#}"),
        "cannot read fixtures/runsc/missing.txt: No such file or directory (os error 2)"
    );
    let err = input::expand(&[PathBuf::from("-"), PathBuf::from("-")]).unwrap_err();
    assert_eq!(err.to_string(), "`-` (stdin) is given more than once");
}

#[test]
fn findings_put_the_root_causes_first_with_their_occurrences() {
    let facts = facts_of(&["sandbox-current"]);
    let names = facts.files.iter().map(|f| f.name.clone()).collect();
    let analysis = analyze_logs(
        Database::get(),
        &facts,
        Arch::X86_64,
        names,
        &RunscFlags::none(),
    )
    .unwrap();
    let report = &analysis.report;
    assert_eq!(report.verdicts[0].status, VerdictStatus::LikelyToBreak);
    let heads: Vec<(Severity, &str, &str)> = report
        .findings
        .iter()
        .take(3)
        .map(|f| (f.severity, f.title.as_str(), f.effect.as_str()))
        .collect();
    let boot = format!("{DIR}/sandbox-current/runsc.log.20261122-150405.000003.boot.txt");
    assert_eq!(
        heads,
        vec![
            (
                Severity::Breaks,
                "process 7 exited with status 1 (netdiag)",
                &*format!(
                    "Likely cause: cachestat failed with ENOSYS at {boot}:21 (pid 7, netdiag)."
                )
            ),
            (
                Severity::Breaks,
                "process 1 exited with status 1 (sh)",
                &*format!("Likely cause: ioctl failed with ENOTTY at {boot}:10 (pid 1, sh).")
            ),
            (
                Severity::Breaks,
                "the application exited with status 1",
                &*format!("Likely cause: runsc reported cachestat unsupported at {boot}:22.")
            ),
        ]
    );
    // runsc boot's own exit repeats the application's and is not a finding of its own.
    assert!(!report
        .findings
        .iter()
        .any(|f| f.title.starts_with("runsc boot")));
    let raw = report
        .findings
        .iter()
        .find(|f| f.title == "raw socket refused: runsc runs without --net-raw")
        .unwrap();
    assert_eq!(raw.severity, Severity::NeedsConfig);
    assert_eq!(raw.remediations[0].flag.as_deref(), Some("--net-raw"));
    let first = raw.evidence.first.as_ref().unwrap();
    assert_eq!(
        (first.file.as_deref(), first.line),
        (Some(&*boot), Some(15))
    );

    // With --net-raw assumed, the raw-socket message is configured, not a need.
    let flags: RunscFlags = "--net-raw".parse().unwrap();
    let names = facts.files.iter().map(|f| f.name.clone()).collect();
    let analysis = analyze_logs(Database::get(), &facts, Arch::X86_64, names, &flags).unwrap();
    let raw = analysis
        .report
        .findings
        .iter()
        .find(|f| f.title == "raw socket refused: runsc runs without --net-raw")
        .unwrap();
    assert_eq!(raw.severity, Severity::Info);
}

#[test]
fn the_strace_lines_make_a_valid_profile() {
    let facts = facts_of(&["sandbox-current"]);
    let names: Vec<String> = facts.files.iter().map(|f| f.name.clone()).collect();
    let analysis = analyze_logs(
        Database::get(),
        &facts,
        Arch::X86_64,
        names.clone(),
        &RunscFlags::none(),
    )
    .unwrap();
    let profile = &analysis.profile.profile;
    io::validate(profile).unwrap();
    assert_eq!(profile.captures[0].method, "runsc-strace");
    assert_eq!(
        profile.captures[0].target,
        sandprof::profile::Target::RunscLog { files: names }
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
    assert!(analysis.profile.left_out.is_empty());
    // Round trip through the file format.
    let dir = std::env::temp_dir().join(format!("sandprof-runsc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("out.sandprof.json");
    io::write(&path, profile).unwrap();
    assert_eq!(&io::read(&path).unwrap(), profile);
    std::fs::remove_dir_all(&dir).unwrap();
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

#[test]
fn golden_reports_in_every_format() {
    let facts = facts_of(&["sandbox-current"]);
    let names = facts.files.iter().map(|f| f.name.clone()).collect();
    let analysis = analyze_logs(
        Database::get(),
        &facts,
        Arch::X86_64,
        names,
        &RunscFlags::none(),
    )
    .unwrap();
    for (format, file) in [
        (Format::Table, "sandbox-current.txt"),
        (Format::Markdown, "sandbox-current.md"),
        (Format::Json, "sandbox-current.json"),
    ] {
        let mut out = Vec::new();
        render(&analysis.report, format, &mut out, false).unwrap();
        golden(file, &String::from_utf8(out).unwrap());
    }
}
