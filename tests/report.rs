//! `sandprof report`, `merge` and `diff` on profiles built here and on fixture files:
//! one test per rule category with the exact findings, a known-good workload, bad
//! input, and golden reports in every format (regenerate them with
//! `SANDPROF_BLESS=1 cargo test -p sandprof-tests report::`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use sandprof::analysis::finding::{Report, Severity, VerdictStatus};
use sandprof::analysis::{analyze, AnalysisOptions, RunscFlags};
use sandprof::profile::{
    io, merge, Abi, ArgSignature, BinaryFormat, CaptureStamp, DatabaseStamp, Executable, FirstUse,
    LostCounts, Process, SyscallProfile, SyscallStat, Target, ToolStamp, SCHEMA, SCHEMA_VERSION,
};
use sandprof::report::{render, FailOn, Format};
use syscall_db::{Arch, Database, FieldValue, Runtime, Sources};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/profiles")
        .join(name)
}

/// A profile with one capture and the given executables (id = index).
fn profile(executables: &[(&str, BinaryFormat)]) -> SyscallProfile {
    SyscallProfile {
        schema: SCHEMA.to_owned(),
        schema_version: SCHEMA_VERSION,
        tool: ToolStamp {
            name: "sandprof".to_owned(),
            version: "0.1.0".to_owned(),
        },
        database: DatabaseStamp {
            version: Database::get().version().to_owned(),
            gvisor_revision: Database::get().gvisor_revision().to_owned(),
        },
        arch: Arch::X86_64,
        captures: vec![CaptureStamp {
            hostname: "node-a".to_owned(),
            kernel: "6.18.0".to_owned(),
            target: Target::Pid { pid: 1 },
            started_at: "2026-11-22T10:00:00Z".to_owned(),
            ended_at: "2026-11-22T10:00:01Z".to_owned(),
            duration_ms: 1000,
            method: "ebpf".to_owned(),
        }],
        executables: executables
            .iter()
            .enumerate()
            .map(|(id, (path, format))| Executable {
                id: id as u32,
                path: (*path).to_owned(),
                format: format.clone(),
            })
            .collect(),
        processes: (0..executables.len() as u32)
            .map(|id| Process {
                pid: 100 + id,
                parent: None,
                executables: vec![id],
                capture: 0,
            })
            .collect(),
        syscalls: Vec::new(),
        signatures: Vec::new(),
        lost: LostCounts::default(),
    }
}

fn elf64() -> BinaryFormat {
    BinaryFormat::Elf {
        bits: 64,
        machine: "x86_64".to_owned(),
        is_static: false,
    }
}

fn call(p: &mut SyscallProfile, exe: u32, name: &str, calls: u64, errors: &[(&str, u64)]) {
    let number = Database::get()
        .syscall_by_name(Arch::X86_64, name)
        .map_or(0, |s| s.number);
    p.syscalls.push(SyscallStat {
        name: name.to_owned(),
        number,
        abi: Abi::Native,
        executable: exe,
        calls,
        errors: errors.iter().map(|(e, n)| ((*e).to_owned(), *n)).collect(),
    });
}

fn signature(
    p: &mut SyscallProfile,
    exe: u32,
    name: &str,
    fields: &[(&str, FieldValue)],
    calls: u64,
) {
    let number = Database::get()
        .syscall_by_name(Arch::X86_64, name)
        .map_or(0, |s| s.number);
    p.signatures.push(ArgSignature {
        syscall: name.to_owned(),
        number,
        fields: fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
        calls,
        errors: Default::default(),
        incomplete: Vec::new(),
        first: Some(FirstUse {
            pid: 100 + exe,
            tid: 100 + exe,
            executable: exe,
        }),
    });
}

fn report_of(p: &SyscallProfile, flags: &str) -> Report {
    let opts = AnalysisOptions {
        runtimes: Runtime::ALL.to_vec(),
        runsc_flags: if flags.is_empty() {
            RunscFlags::none()
        } else {
            flags.parse().unwrap()
        },
    };
    analyze(
        Database::get(),
        &[("p.sandprof.json".to_owned(), p.clone())],
        &opts,
    )
    .unwrap()
}

/// (runtime, severity, title, database entry) of every finding, in report order.
fn summary(report: &Report) -> Vec<(Runtime, Severity, String, String)> {
    report
        .findings
        .iter()
        .map(|f| {
            (
                f.runtime,
                f.severity,
                f.title.clone(),
                f.reference.entry.clone(),
            )
        })
        .collect()
}

fn statuses(report: &Report) -> Vec<(Runtime, VerdictStatus)> {
    report
        .verdicts
        .iter()
        .map(|v| (v.runtime, v.status))
        .collect()
}

#[test]
fn known_good_shell_and_python_workload_is_compatible() {
    let mut p = profile(&[("/bin/sh", elf64()), ("/usr/bin/python3", elf64())]);
    for exe in [0, 1] {
        for name in [
            "read",
            "write",
            "openat",
            "close",
            "fstat",
            "mmap",
            "munmap",
            "brk",
            "execve",
            "exit_group",
            "rt_sigaction",
            "getpid",
            "lseek",
            "pipe2",
            "dup2",
            "wait4",
        ] {
            call(&mut p, exe, name, 10, &[]);
        }
    }
    call(&mut p, 1, "socket", 2, &[]);
    call(&mut p, 1, "connect", 2, &[("ECONNREFUSED", 1)]);
    signature(
        &mut p,
        1,
        "socket",
        &[
            ("domain", FieldValue::Int(2)),
            ("type", FieldValue::Int(1)),
            ("protocol", FieldValue::Int(0)),
        ],
        2,
    );
    let report = report_of(&p, "");
    assert_eq!(
        statuses(&report),
        vec![
            (Runtime::Gvisor, VerdictStatus::Compatible),
            (Runtime::Kata, VerdictStatus::Compatible)
        ]
    );
    assert_eq!(summary(&report), vec![]);
    assert_eq!(report.caveats, Vec::<String>::new());
}

#[test]
fn socket_rules_judge_by_domain_and_type() {
    let mut p = profile(&[("/usr/bin/ss", elf64()), ("/usr/bin/ping", elf64())]);
    call(&mut p, 0, "socket", 3, &[]);
    call(&mut p, 1, "socket", 1, &[]);
    // NETLINK_SOCK_DIAG: no gVisor provider.
    signature(
        &mut p,
        0,
        "socket",
        &[
            ("domain", FieldValue::Int(16)),
            ("type", FieldValue::Int(3)),
            ("protocol", FieldValue::Int(4)),
        ],
        2,
    );
    // NETLINK_ROUTE: implemented, so no finding.
    signature(
        &mut p,
        0,
        "socket",
        &[
            ("domain", FieldValue::Int(16)),
            ("type", FieldValue::Int(3)),
            ("protocol", FieldValue::Int(0)),
        ],
        1,
    );
    // A raw ICMP socket: needs --net-raw.
    signature(
        &mut p,
        1,
        "socket",
        &[
            ("domain", FieldValue::Int(2)),
            ("type", FieldValue::Int(3)),
            ("protocol", FieldValue::Int(1)),
        ],
        1,
    );
    let report = report_of(&p, "");
    assert_eq!(
        summary(&report),
        vec![
            (
                Runtime::Gvisor,
                Severity::Breaks,
                "socket(domain=AF_NETLINK) fails with EPROTONOSUPPORT".to_owned(),
                "gvisor.socket.netlink-unsupported".to_owned()
            ),
            (
                Runtime::Gvisor,
                Severity::NeedsConfig,
                "socket(domain=AF_INET, protocol=IPPROTO_ICMP, type=SOCK_RAW) fails with EPERM \
                 unless configured"
                    .to_owned(),
                "gvisor.socket.inet-raw".to_owned()
            ),
        ]
    );
    let netlink = &report.findings[0];
    assert_eq!(netlink.evidence.calls, 2);
    assert_eq!(netlink.evidence.executables, vec!["/usr/bin/ss".to_owned()]);
    assert_eq!(
        netlink.evidence.first.as_ref().and_then(|o| o.pid),
        Some(100)
    );
    assert_eq!(
        statuses(&report)[0],
        (Runtime::Gvisor, VerdictStatus::LikelyToBreak)
    );
    assert_eq!(
        report.verdicts[0]
            .configuration
            .iter()
            .map(|r| r.id.as_str())
            .collect::<Vec<_>>(),
        vec!["runsc.net-raw"]
    );
}

#[test]
fn values_are_named_in_the_context_of_their_call() {
    let mut p = profile(&[
        ("/usr/sbin/udevd", elf64()),
        ("/usr/bin/tls-proxy", elf64()),
    ]);
    call(&mut p, 0, "socket", 1, &[]);
    call(&mut p, 1, "setsockopt", 1, &[]);
    // Protocol 15 of AF_NETLINK is NETLINK_KOBJECT_UEVENT, not an IPPROTO_* number.
    signature(
        &mut p,
        0,
        "socket",
        &[
            ("domain", FieldValue::Int(16)),
            ("type", FieldValue::Int(2)),
            ("protocol", FieldValue::Int(15)),
        ],
        1,
    );
    // Option 31 is TCP_ULP at SOL_TCP (and SO_PEERSEC at SOL_SOCKET).
    signature(
        &mut p,
        1,
        "setsockopt",
        &[
            ("level", FieldValue::Int(6)),
            ("optname", FieldValue::Int(31)),
        ],
        1,
    );
    let report = report_of(&p, "");
    assert_eq!(
        summary(&report),
        vec![
            (
                Runtime::Gvisor,
                Severity::Degraded,
                "socket(domain=AF_NETLINK, protocol=NETLINK_KOBJECT_UEVENT) works in a reduced \
                 way"
                .to_owned(),
                "gvisor.socket.netlink-uevent".to_owned()
            ),
            (
                Runtime::Gvisor,
                Severity::Degraded,
                "setsockopt(level=SOL_TCP, optname=TCP_ULP) is accepted but has no effect"
                    .to_owned(),
                "gvisor.sockopt.tcp-ulp".to_owned()
            ),
        ]
    );
    let shown = |i: usize| -> Vec<(String, String, Option<String>)> {
        report.findings[i]
            .evidence
            .args
            .iter()
            .map(|a| (a.name.clone(), a.raw.clone(), a.symbol.clone()))
            .collect()
    };
    assert_eq!(
        shown(1),
        vec![
            (
                "level".to_owned(),
                "6".to_owned(),
                Some("SOL_TCP".to_owned())
            ),
            (
                "optname".to_owned(),
                "31".to_owned(),
                Some("TCP_ULP".to_owned())
            ),
        ]
    );
    assert_eq!(
        shown(0),
        vec![
            (
                "domain".to_owned(),
                "16".to_owned(),
                Some("AF_NETLINK".to_owned())
            ),
            (
                "protocol".to_owned(),
                "15".to_owned(),
                Some("NETLINK_KOBJECT_UEVENT".to_owned())
            ),
        ]
    );
}

#[test]
fn runsc_flags_turn_needs_config_into_configured() {
    let mut p = profile(&[("/usr/bin/ping", elf64())]);
    call(&mut p, 0, "socket", 1, &[]);
    signature(
        &mut p,
        0,
        "socket",
        &[
            ("domain", FieldValue::Int(2)),
            ("type", FieldValue::Int(3)),
            ("protocol", FieldValue::Int(1)),
        ],
        1,
    );
    let before = report_of(&p, "");
    assert_eq!(
        statuses(&before)[0],
        (Runtime::Gvisor, VerdictStatus::CompatibleWithConfiguration)
    );
    let after = report_of(&p, "--net-raw");
    assert_eq!(
        statuses(&after)[0],
        (Runtime::Gvisor, VerdictStatus::Compatible)
    );
    assert_eq!(
        summary(&after),
        vec![(
            Runtime::Gvisor,
            Severity::Info,
            "socket(domain=AF_INET, protocol=IPPROTO_ICMP, type=SOCK_RAW) works with --net-raw \
             as configured"
                .to_owned(),
            "gvisor.socket.inet-raw".to_owned()
        )]
    );
    assert_eq!(after.assumed_runsc_flags, vec!["--net-raw".to_owned()]);
}

#[test]
fn unimplemented_syscall_breaks_unless_it_already_failed_under_runc() {
    let mut p = profile(&[("/bin/app", elf64())]);
    call(&mut p, 0, "ustat", 2, &[]);
    call(&mut p, 0, "sysfs", 3, &[("ENOSYS", 3)]);
    let report = report_of(&p, "");
    assert_eq!(
        summary(&report),
        vec![
            (
                Runtime::Gvisor,
                Severity::Breaks,
                "ustat is not implemented (ENOSYS)".to_owned(),
                "gvisor.syscall.x86_64.ustat".to_owned()
            ),
            (
                Runtime::Gvisor,
                Severity::Info,
                "sysfs is not implemented (ENOSYS), as it already was under runc".to_owned(),
                "gvisor.syscall.x86_64.sysfs".to_owned()
            ),
        ]
    );
    assert_eq!(
        report.verdicts[0].blockers,
        vec!["ustat is not implemented (ENOSYS)".to_owned()]
    );
}

#[test]
fn partly_implemented_syscall_without_arguments_is_degraded_not_broken() {
    let mut p = profile(&[("/bin/app", elf64())]);
    // gVisor marks mlock partial, and no rule or capture covers its arguments.
    assert_eq!(
        Database::get().rules_for(Runtime::Gvisor, "mlock").count(),
        0
    );
    call(&mut p, 0, "mlock", 1, &[]);
    let report = report_of(&p, "");
    assert_eq!(
        summary(&report),
        vec![(
            Runtime::Gvisor,
            Severity::Degraded,
            "mlock is partly implemented; arguments not captured".to_owned(),
            "gvisor.syscall.x86_64.mlock".to_owned()
        )]
    );
    assert_eq!(
        statuses(&report)[0],
        (Runtime::Gvisor, VerdictStatus::Compatible)
    );
}

#[test]
fn a_32_bit_binary_breaks_gvisor_only() {
    let i386 = BinaryFormat::Elf {
        bits: 32,
        machine: "i386".to_owned(),
        is_static: true,
    };
    let mut p = profile(&[("/opt/probe32", i386)]);
    p.syscalls.push(SyscallStat {
        name: "write".to_owned(),
        number: 4,
        abi: Abi::Compat,
        executable: 0,
        calls: 2,
        errors: Default::default(),
    });
    let report = report_of(&p, "");
    assert_eq!(
        summary(&report),
        vec![(
            Runtime::Gvisor,
            Severity::Breaks,
            "32-bit executable /opt/probe32 cannot run".to_owned(),
            "gvisor.abi.32-bit".to_owned()
        )]
    );
    let finding = &report.findings[0];
    assert_eq!(
        finding
            .remediations
            .iter()
            .map(|r| r.id.as_str())
            .collect::<Vec<_>>(),
        vec!["code.rebuild-64bit", "other.kata", "other.runc-gvisor"]
    );
    assert_eq!(
        finding.reference.paths,
        vec![
            "pkg/sentry/loader/elf.go".to_owned(),
            "pkg/sentry/syscalls/linux/linux64.go".to_owned()
        ]
    );
    assert_eq!(
        finding.reference.revision,
        "google/gvisor@release-20260817.0"
    );
    assert_eq!(finding.evidence.calls, 2);
    assert_eq!(
        finding.evidence.detail,
        vec![
            "Format: ELF 32-bit i386.".to_owned(),
            "2 calls through the 32-bit syscall ABI under runc.".to_owned()
        ]
    );
    assert_eq!(
        statuses(&report)[1],
        (Runtime::Kata, VerdictStatus::Compatible)
    );
}

#[test]
fn a_compat_exec_return_does_not_make_its_64_bit_caller_32_bit() {
    let unknown = BinaryFormat::Unknown {
        reason: "removed before it could be read".to_owned(),
    };
    let mut p = profile(&[("/usr/bin/launcher", elf64()), ("/tmp/probe32", unknown)]);
    for (exe, name, calls) in [(0, "execve", 1), (1, "getpid", 1), (1, "exit", 1)] {
        p.syscalls.push(SyscallStat {
            name: name.to_owned(),
            number: 0,
            abi: Abi::Compat,
            executable: exe,
            calls,
            errors: Default::default(),
        });
    }
    let report = report_of(&p, "");
    assert_eq!(
        summary(&report),
        vec![(
            Runtime::Gvisor,
            Severity::Breaks,
            "32-bit executable /tmp/probe32 cannot run".to_owned(),
            "gvisor.abi.32-bit".to_owned()
        )]
    );
    assert_eq!(report.findings[0].evidence.calls, 2);
}

#[test]
fn kata_facts_are_as_severe_as_the_database_grades_them() {
    let mut p = profile(&[("/usr/bin/config-reloader", elf64())]);
    call(&mut p, 0, "inotify_init1", 1, &[]);
    call(&mut p, 0, "inotify_add_watch", 4, &[]);
    let kata_only = |db: &Database| {
        let opts = AnalysisOptions {
            runtimes: vec![Runtime::Kata],
            runsc_flags: RunscFlags::none(),
        };
        analyze(db, &[("p.sandprof.json".to_owned(), p.clone())], &opts).unwrap()
    };
    // The embedded database grades missed inotify events on shared volumes as degraded.
    let report = kata_only(Database::get());
    assert_eq!(
        summary(&report),
        vec![(
            Runtime::Kata,
            Severity::Degraded,
            "inotify (inotify_init1, inotify_add_watch)".to_owned(),
            "kata.inotify".to_owned()
        )]
    );
    assert_eq!(report.findings[0].evidence.calls, 5);
    assert_eq!(
        statuses(&report),
        vec![(Runtime::Kata, VerdictStatus::Compatible)]
    );
    // The same fact graded `breaks` in a data set makes the workload likely to break.
    let kata = Sources::embedded().text("kata.toml").unwrap().replace(
        "severity = \"degraded\"\nremediations = [\"kata.watchable-config\"",
        "severity = \"breaks\"\nremediations = [\"kata.watchable-config\"",
    );
    let graded = Database::from_sources(&Sources::embedded().with_file("kata.toml", kata)).unwrap();
    let report = kata_only(&graded);
    assert_eq!(report.findings[0].severity, Severity::Breaks);
    assert_eq!(
        statuses(&report),
        vec![(Runtime::Kata, VerdictStatus::LikelyToBreak)]
    );
}

#[test]
fn lost_events_are_a_caveat_in_every_format() {
    let mut p = profile(&[("/bin/sh", elf64())]);
    call(&mut p, 0, "read", 1, &[]);
    p.lost.ring_buffer_full = 12;
    p.lost.signature_map_full = 3;
    let report = report_of(&p, "");
    let caveat = "The capture lost 15 events (ring buffer full: 12, signature map full: 3). The \
                  profile may miss calls or arguments, so a missing finding is weaker evidence \
                  than usual; capture again with larger maps.";
    assert_eq!(report.caveats, vec![caveat.to_owned()]);
    for format in [Format::Table, Format::Markdown, Format::Json] {
        let mut out = Vec::new();
        render(&report, format, &mut out, false).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("ring buffer full: 12"),
            "{format:?} hides the caveat:\n{text}"
        );
    }
}

#[test]
fn fail_on_sets_the_exit_code() {
    let report = report_of(&io::read(&fixture("netdiag.sandprof.json")).unwrap(), "");
    assert!(FailOn::Breaks.fails(&report));
    assert!(FailOn::NeedsConfig.fails(&report));
    assert!(!FailOn::Never.fails(&report));
    assert_eq!(FailOn::Breaks.exit_code(&report), ExitCode::from(1));
}

#[test]
fn bad_profiles_get_errors_naming_file_and_problem() {
    let cases = [
        ("not-json.sandprof.json", "not valid JSON: expected value at line 1 column 1"),
        ("truncated.sandprof.json", "the file is truncated: it ends at line 117 column 9 in the middle of the JSON"),
        ("future-version.sandprof.json", "it uses schema version 2, newer than the version 1 this sandprof reads; use a newer sandprof"),
        ("unknown-arch.sandprof.json", "unknown arch `riscv64` (known: x86_64, aarch64, i386)"),
        ("dangling-executable.sandprof.json", "the `read` row of `syscalls` refers to executable id 9, which `executables` does not list"),
    ];
    for (name, problem) in cases {
        let path = fixture(name);
        let err = io::read(&path).unwrap_err();
        assert_eq!(
            format!("{err:#}"),
            format!("{} is not a usable profile: {problem}", path.display())
        );
    }
}

#[test]
fn merge_adds_counts_and_keeps_every_capture() {
    let mut a = profile(&[("/bin/sh", elf64())]);
    call(&mut a, 0, "read", 5, &[("EINTR", 1)]);
    signature(&mut a, 0, "socket", &[("domain", FieldValue::Int(2))], 1);
    let mut b = profile(&[("/usr/bin/ss", elf64()), ("/bin/sh", elf64())]);
    call(&mut b, 1, "read", 7, &[("EINTR", 2)]);
    signature(&mut b, 1, "socket", &[("domain", FieldValue::Int(2))], 4);
    let merged = merge::merge(
        &[("a".to_owned(), a), ("b".to_owned(), b)],
        sandprof::profile::ToolStamp::current(),
    )
    .unwrap();
    assert_eq!(merged.captures.len(), 2);
    assert_eq!(
        merged
            .executables
            .iter()
            .map(|e| e.path.as_str())
            .collect::<Vec<_>>(),
        vec!["/bin/sh", "/usr/bin/ss"]
    );
    assert_eq!(merged.syscalls.len(), 1);
    assert_eq!(merged.syscalls[0].calls, 12);
    assert_eq!(merged.syscalls[0].errors.get("EINTR"), Some(&3));
    assert_eq!(merged.signatures.len(), 1);
    assert_eq!(merged.signatures[0].calls, 5);
    assert_eq!(
        merged
            .processes
            .iter()
            .map(|p| (p.capture, p.pid))
            .collect::<Vec<_>>(),
        vec![(0, 100), (1, 100), (1, 101)]
    );
}

#[test]
fn diff_lists_only_what_is_new() {
    let mut base = profile(&[("/bin/sh", elf64())]);
    call(&mut base, 0, "read", 5, &[]);
    let mut new = base.clone();
    new.executables.push(Executable {
        id: 1,
        path: "/usr/bin/ss".to_owned(),
        format: elf64(),
    });
    call(&mut new, 1, "socket", 2, &[]);
    signature(&mut new, 1, "socket", &[("domain", FieldValue::Int(16))], 2);
    let found = sandprof::profile::diff::diff(&base, &new);
    assert_eq!(
        found
            .syscalls
            .iter()
            .map(|s| (s.name.as_str(), s.calls))
            .collect::<Vec<_>>(),
        vec![("socket", 2)]
    );
    assert_eq!(found.signatures.len(), 1);
    assert_eq!(
        found
            .executables
            .iter()
            .map(|e| e.path.as_str())
            .collect::<Vec<_>>(),
        vec!["/usr/bin/ss"]
    );
    assert!(sandprof::profile::diff::diff(&new, &base).is_empty());
}

/// Compares `actual` with the golden file, or rewrites it under `SANDPROF_BLESS=1`.
fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("golden/report")
        .join(name);
    if std::env::var_os("SANDPROF_BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run with SANDPROF_BLESS=1 to create it",
            path.display()
        )
    });
    assert_eq!(
        actual,
        expected,
        "{} differs; rerun with SANDPROF_BLESS=1 if the change is intended",
        path.display()
    );
}

#[test]
fn golden_reports_in_every_format() {
    // The input is named as the command line would name it, relative to this crate.
    let profile = io::read(&fixture("netdiag.sandprof.json")).unwrap();
    let inputs = [(
        "fixtures/profiles/netdiag.sandprof.json".to_owned(),
        profile,
    )];
    for (flags, stem) in [("", "netdiag"), ("--net-raw", "netdiag-net-raw")] {
        let opts = AnalysisOptions {
            runtimes: Runtime::ALL.to_vec(),
            runsc_flags: if flags.is_empty() {
                RunscFlags::none()
            } else {
                flags.parse().unwrap()
            },
        };
        let mut report = analyze(Database::get(), &inputs, &opts).unwrap();
        // The tool version changes with every release; the goldens should not.
        report.tool.version = "0.0.0-golden".to_owned();
        for (format, ext) in [
            (Format::Table, "txt"),
            (Format::Markdown, "md"),
            (Format::Json, "json"),
        ] {
            let mut out = Vec::new();
            render(&report, format, &mut out, false).unwrap();
            golden(&format!("{stem}.{ext}"), &String::from_utf8(out).unwrap());
        }
    }
}

/// The profile `sandprof profile` wrote for `sandprof-workload all` (regenerate with
/// `sandprof profile -q --out tests/fixtures/profiles/workload.sandprof.json --
/// ./target/debug/sandprof-workload all` as root), with what varies between runs
/// normalised: hostname, kernel, times, pids (renumbered from 100) and the temporary
/// path of the 32-bit program.
const WORKLOAD: &str = "workload.sandprof.json";

#[test]
fn the_traced_workload_gets_exactly_the_findings_the_database_predicts() {
    let profile = io::read(&fixture(WORKLOAD)).unwrap();
    let report = report_of(&profile, "");
    let gvisor = |severity, title: &str, entry: &str| {
        (
            Runtime::Gvisor,
            severity,
            title.to_owned(),
            entry.to_owned(),
        )
    };
    assert_eq!(
        summary(&report),
        vec![
            gvisor(
                Severity::Breaks,
                "copy_file_range is not implemented (ENOSYS)",
                "gvisor.syscall.x86_64.copy_file_range"
            ),
            gvisor(
                Severity::Breaks,
                "openat(path=\"/proc/self/smaps_rollup\") fails with ENOENT",
                "gvisor.proc.pid-memory-introspection"
            ),
            gvisor(
                Severity::Breaks,
                "socket(domain=AF_NETLINK) fails with EPROTONOSUPPORT",
                "gvisor.socket.netlink-unsupported"
            ),
            gvisor(
                Severity::Breaks,
                "32-bit executable /tmp/sandprof-i386-100 cannot run",
                "gvisor.abi.32-bit"
            ),
            gvisor(
                Severity::Breaks,
                "bpf(cmd=BPF_PROG_LOAD) fails with EINVAL",
                "gvisor.bpf.prog-load"
            ),
            gvisor(
                Severity::Breaks,
                "perf_event_open is not implemented (ENODEV)",
                "gvisor.syscall.x86_64.perf_event_open"
            ),
            gvisor(
                Severity::NeedsConfig,
                "socket(domain=AF_INET, protocol=IPPROTO_ICMP, type=SOCK_RAW) fails with EPERM \
                 unless configured",
                "gvisor.socket.inet-raw"
            ),
            gvisor(
                Severity::NeedsConfig,
                "socket(domain=AF_PACKET) fails with EPERM unless configured",
                "gvisor.socket.packet"
            ),
            gvisor(
                Severity::NeedsConfig,
                "io_uring_setup() fails with ENOSYS unless configured",
                "gvisor.io_uring.setup"
            ),
            gvisor(
                Severity::Degraded,
                "futex is partly implemented; arguments not captured",
                "gvisor.syscall.x86_64.futex"
            ),
            gvisor(
                Severity::Degraded,
                "rseq is partly implemented; arguments not captured",
                "gvisor.syscall.x86_64.rseq"
            ),
            gvisor(
                Severity::Degraded,
                "sched_getaffinity is partly implemented; arguments not captured",
                "gvisor.syscall.x86_64.sched_getaffinity"
            ),
        ]
    );
    assert_eq!(
        statuses(&report),
        vec![
            (Runtime::Gvisor, VerdictStatus::LikelyToBreak),
            (Runtime::Kata, VerdictStatus::Compatible)
        ]
    );
    assert_eq!(
        report.verdicts[0]
            .configuration
            .iter()
            .map(|r| r.id.as_str())
            .collect::<Vec<_>>(),
        vec!["runsc.net-raw", "runsc.iouring"]
    );
    // The propagation change of `mount --make-rprivate /` passes no filesystem type.
    let mut caveats = vec![
        "1 argument signatures have fields that could not be read or were cut short; rules on \
         those fields may not have matched."
            .to_owned(),
    ];
    // The fixture was captured with database 2026.11.2; every later data set says so.
    let current = syscall_db::Database::get().version();
    if current != "2026.11.2" {
        caveats.push(format!(
            "p.sandprof.json was captured with database 2026.11.2, this report uses {current}: \
             arguments the newer capture spec records may be missing from it."
        ));
    }
    assert_eq!(report.caveats, caveats);
}

#[test]
fn golden_reports_of_the_traced_workload() {
    let inputs = [(
        format!("fixtures/profiles/{WORKLOAD}"),
        io::read(&fixture(WORKLOAD)).unwrap(),
    )];
    let mut report = analyze(Database::get(), &inputs, &AnalysisOptions::default()).unwrap();
    report.tool.version = "0.0.0-golden".to_owned();
    for (format, ext) in [
        (Format::Table, "txt"),
        (Format::Markdown, "md"),
        (Format::Json, "json"),
    ] {
        let mut out = Vec::new();
        render(&report, format, &mut out, false).unwrap();
        golden(&format!("workload.{ext}"), &String::from_utf8(out).unwrap());
    }
}

#[test]
fn the_report_command_gates_ci_on_breaking_findings() {
    let out = std::process::Command::new(crate::support::sandprof_bin())
        .args(["report", "--format", "json", "--fail-on", "breaks"])
        .arg(fixture(WORKLOAD))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Report = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report.schema, "sandprof.report");
    assert_eq!(report.schema_version, 1);
    assert_eq!(
        statuses(&report),
        vec![
            (Runtime::Gvisor, VerdictStatus::LikelyToBreak),
            (Runtime::Kata, VerdictStatus::Compatible)
        ]
    );
    assert_eq!(report.findings.len(), 12);
}

/// The attack of a planted temporary file: another user fills a directory sandprof
/// writes in with symlinks named as its temporary files used to be
/// (`.NAME.<pid>.tmp`, for the next pids) that point at a file of the victim's. The
/// output lands in the named file, 0600, and the victim's file is untouched.
#[test]
fn planted_temporary_file_links_cannot_redirect_an_output() {
    use std::os::unix::fs::{symlink, PermissionsExt as _};

    let dir = crate::support::scratch();
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "precious\n").unwrap();
    let last_pid: u32 = std::fs::read_to_string("/proc/sys/kernel/ns_last_pid")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    for pid in last_pid + 1..last_pid + 3000 {
        for name in ["all.json", "report.md"] {
            symlink(&victim, dir.path().join(format!(".{name}.{pid}.tmp"))).unwrap();
        }
    }
    let merged = dir.path().join("all.json");
    let out = crate::support::sandprof(&[
        "merge",
        fixture(WORKLOAD).to_str().unwrap(),
        "-o",
        merged.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = dir.path().join("report.md");
    let out = crate::support::sandprof(&[
        "report",
        "--format",
        "markdown",
        merged.to_str().unwrap(),
        "-o",
        report.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    io::read(&merged).unwrap();
    assert!(std::fs::read_to_string(&report)
        .unwrap()
        .starts_with("## Sandbox compatibility"));
    for written in [&merged, &report] {
        let meta = std::fs::symlink_metadata(written).unwrap();
        assert!(meta.file_type().is_file());
        assert_eq!(meta.permissions().mode() & 0o7777, 0o600);
    }
}

/// `-o` naming an input, or a link to one, is refused before anything is written; a
/// symlink as the output is refused whatever it points at.
#[test]
fn an_output_that_is_an_input_or_a_link_is_refused() {
    use std::os::unix::fs::symlink;

    let dir = crate::support::scratch();
    let input = dir.path().join("in.json");
    std::fs::copy(fixture(WORKLOAD), &input).unwrap();
    let original = std::fs::read(&input).unwrap();
    let hard = dir.path().join("hard.json");
    std::fs::hard_link(&input, &hard).unwrap();
    let input_s = input.to_str().unwrap();
    for (command, output) in [("merge", &input), ("merge", &hard), ("report", &hard)] {
        let out = crate::support::sandprof(&[command, input_s, "-o", output.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2));
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            format!(
                "sandprof: error: {} is the input {input_s}: writing it would destroy the \
                 input; choose another output file\n",
                output.display()
            )
        );
    }
    let elsewhere = dir.path().join("elsewhere");
    std::fs::write(&elsewhere, "precious\n").unwrap();
    let link = dir.path().join("link.md");
    symlink(&elsewhere, &link).unwrap();
    let out = crate::support::sandprof(&["report", input_s, "-o", link.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "sandprof: error: {} is a symbolic link; sandprof does not write through links: \
             name the file it points to\n",
            link.display()
        )
    );
    assert_eq!(std::fs::read(&input).unwrap(), original);
    assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), "precious\n");
}

/// A busy workload whose capture filled the signature map, then listed /sys/class/net.
fn lossy_profile(list_sys_class_net: bool) -> SyscallProfile {
    let mut p = profile(&[("/usr/bin/stat-many", elf64())]);
    call(&mut p, 0, "newfstatat", 40_000, &[]);
    call(&mut p, 0, "openat", 3, &[]);
    if list_sys_class_net {
        signature(
            &mut p,
            0,
            "openat",
            &[("path", FieldValue::Str("/sys/class/net".to_owned()))],
            1,
        );
    }
    p.lost.signature_map_full = 39_000;
    p.lost.ring_buffer_full = 12;
    p
}

/// Runs `sandprof report` on `p` (written to a scratch file) with `args`; returns the
/// exit code and the JSON report.
fn report_command(p: &SyscallProfile, args: &[&str]) -> (Option<i32>, Report) {
    let dir = crate::support::scratch();
    let path = dir.path().join("p.sandprof.json");
    io::write(&path, p).unwrap();
    let mut all = vec!["report", "--format", "json"];
    all.extend_from_slice(args);
    all.push(path.to_str().unwrap());
    let out = crate::support::sandprof(&all);
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code(), report)
}

#[test]
fn lost_signatures_make_a_passing_verdict_incomplete() {
    let (code, report) = report_command(&lossy_profile(false), &["--fail-on", "breaks"]);
    assert_eq!(code, Some(1));
    assert_eq!(
        statuses(&report),
        vec![
            (Runtime::Gvisor, VerdictStatus::Incomplete),
            (Runtime::Kata, VerdictStatus::Incomplete)
        ]
    );
    assert_eq!(
        report.verdicts[0].summary,
        "Nothing found breaks the workload under gVisor, but evidence was lost (ring buffer \
         full: 12, signature map full: 39000), and what was lost could: this is not a pass. \
         Capture again with larger maps."
    );
    let (code, _) = report_command(
        &lossy_profile(false),
        &["--fail-on", "breaks", "--allow-incomplete"],
    );
    assert_eq!(code, Some(0));
    let (code, _) = report_command(
        &lossy_profile(false),
        &["--fail-on", "needs-config", "--allow-incomplete"],
    );
    assert_eq!(code, Some(0));
}

#[test]
fn a_blocker_found_despite_lost_evidence_still_breaks() {
    let (code, report) = report_command(
        &lossy_profile(true),
        &["--fail-on", "breaks", "--allow-incomplete"],
    );
    assert_eq!(code, Some(1));
    let gvisor = &report.verdicts[0];
    assert_eq!(gvisor.status, VerdictStatus::LikelyToBreak);
    assert!(
        gvisor.summary.ends_with(
            " Evidence was also lost (ring buffer full: 12, signature map full: 39000): there \
             may be more."
        ),
        "{}",
        gvisor.summary
    );
    assert_eq!(report.verdicts[1].status, VerdictStatus::Incomplete);
}

#[test]
fn a_profile_without_calls_is_no_evidence() {
    let empty = profile(&[]);
    for args in [
        &["--fail-on", "breaks"][..],
        &["--fail-on", "breaks", "--allow-incomplete"],
    ] {
        let (code, report) = report_command(&empty, args);
        assert_eq!(code, Some(1), "{args:?}");
        assert_eq!(
            statuses(&report),
            vec![
                (Runtime::Gvisor, VerdictStatus::NoEvidence),
                (Runtime::Kata, VerdictStatus::NoEvidence)
            ]
        );
        assert_eq!(
            report.verdicts[1].summary,
            "No evidence: the profile records no syscalls, so there is nothing to judge Kata \
             Containers by; this is not a pass."
        );
    }
    let (code, _) = report_command(&empty, &[]);
    assert_eq!(code, Some(0), "without --fail-on the report is no gate");
}

/// Counts past `u64::MAX` are an error naming the input and the row, never a panic or
/// a wrapped count; so is a profile whose own counts cannot add up.
#[test]
fn merge_refuses_counts_past_u64() {
    let dir = crate::support::scratch();
    let mut big = profile(&[("/bin/sh", elf64())]);
    call(&mut big, 0, "read", u64::MAX - 1, &[]);
    let (a, b) = (dir.path().join("a.json"), dir.path().join("b.json"));
    io::write(&a, &big).unwrap();
    io::write(&b, &big).unwrap();
    let out = crate::support::sandprof(&[
        "merge",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "-o",
        dir.path().join("all.json").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "sandprof: error: cannot add {} to the merged profile: the calls of `read`: \
             18446744073709551614 + 18446744073709551614 is more than 18446744073709551615\n",
            b.display()
        )
    );
    assert!(!dir.path().join("all.json").exists());

    call(&mut big, 0, "write", 2, &[]);
    io::write(&a, &big).unwrap();
    let out = crate::support::sandprof(&["report", a.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "sandprof: error: {} is not a usable profile: `syscalls[1]` (`write`): the calls \
             of all rows add up to more than 18446744073709551615\n",
            a.display()
        )
    );
}
