//! Hand-written logs, line by line from the formats in gVisor's source: every format
//! generation (task prefixes, result formats, message wordings), both arches, JSON and
//! json-k8s, Cloud Run's console, nvproxy, and panics of the Sentry and of the gofer.

use super::*;

/// A 2026 release's log directory with every message family: each message judged by
/// what it does to the workload.
#[test]
fn a_directory_of_current_logs_with_every_message_family() {
    let facts = facts_of(&["sandbox-current"]);
    let files: Vec<(Option<&str>, u64, u64, u64, u64)> = facts
        .files
        .iter()
        .map(|f| {
            (
                f.command.as_deref(),
                f.lines,
                f.recognised,
                f.strace_lines,
                f.unparsed,
            )
        })
        .collect();
    assert_eq!(
        files,
        vec![
            (Some("create"), 5, 5, 0, 0),
            (Some("gofer"), 4, 4, 0, 0),
            (Some("boot"), 31, 31, 16, 0),
        ]
    );
    assert_eq!(facts.gvisor_release.as_deref(), Some("release-20261101.0"));
    let expected = [
        ("mount.unknown-filesystem-type[\"ext4\"]", 3),
        ("mount.unknown-option[\"nodev\"]", 4),
        ("unsupported:ioctl[(1, 21522)]", 11),
        ("socket.raw-needs-net-raw[]", 15),
        ("unsupported:prctl[(0, 47)]", 18),
        ("unsupported:sys_451[]", 22),
        ("sockopt.unsupported-unix[\"49\"]", 23),
        ("netfilter.refused[\"dnatTargetMakerV4: bad proto 47\"]", 24),
        ("netlink.rdma[\"client 5\"]", 25),
        ("keyctl.unimplemented[\"29\"]", 26),
        (
            "nvproxy.frontend-ioctl[\"215\", \"0xd7\", \"16\", \"0xc01046d7\"]",
            27,
        ),
    ];
    let got: Vec<(String, u64)> = events(&facts).into_iter().map(|(k, _, l)| (k, l)).collect();
    let want: Vec<(String, u64)> = expected
        .iter()
        .map(|(k, l)| ((*k).to_owned(), *l))
        .collect();
    assert_eq!(got, want);
    let report = report_of(&["sandbox-current"]);
    assert_eq!(
        titles(&report),
        vec![
            (
                Severity::Breaks,
                "netdiag (pid 7) exited with status 1 after cachestat (451 on x86_64)(0x0, \
                 0x0, 0x0, 0x0, 0x0, 0x0) failed with ENOSYS"
            ),
            (
                Severity::Breaks,
                "the application, sh (pid 1), exited with status 1 after \
                 ioctl(request=TIOCSTI) failed with ENOTTY"
            ),
            (Severity::Breaks, "cachestat is not implemented (ENOSYS)"),
            (
                Severity::Breaks,
                "socket(domain=AF_NETLINK) fails with EPROTONOSUPPORT"
            ),
            (Severity::Breaks, "ioctl(request=TIOCSTI) fails with ENOTTY"),
            (
                Severity::Breaks,
                "mount of filesystem type \"ext4\" skipped"
            ),
            (
                Severity::Breaks,
                "nvproxy does not support frontend ioctl 0xd7 (cmd=0xc01046d7)"
            ),
            (
                Severity::NeedsConfig,
                "raw socket refused: runsc runs without --net-raw"
            ),
            (
                Severity::NeedsConfig,
                "socket(domain=AF_INET, protocol=IPPROTO_ICMP, type=SOCK_RAW) fails with EPERM \
                 unless configured"
            ),
            (
                Severity::Degraded,
                "RDMA netlink request not served: client 5"
            ),
            (
                Severity::Degraded,
                "iptables request refused or not understood"
            ),
            (
                Severity::Degraded,
                "socket option 49 not supported on a Unix socket"
            ),
            (
                Severity::Degraded,
                "prctl(option=PR_CAP_AMBIENT) was refused by runsc release-20261101.0"
            ),
            (Severity::Degraded, "keyctl operation 29 not implemented"),
            (Severity::Info, "mount option \"nodev\" ignored"),
        ]
    );
    // With --net-raw assumed, the raw-socket message is configured, not a need.
    let flags: RunscFlags = "--net-raw".parse().unwrap();
    let report = report_with(&["sandbox-current"], &flags);
    let raw = report
        .findings
        .iter()
        .find(|f| f.title == "raw socket refused: runsc runs without --net-raw")
        .unwrap();
    assert_eq!(raw.severity, Severity::Info);
}

/// 2020: `[ tid]` prefixes, hex results, the first wordings; the task died inside a
/// read, and its name comes from the call it died in.
#[test]
fn the_oldest_formats() {
    let facts = facts_of(&["legacy-2020.boot.txt"]);
    assert_eq!(
        (facts.files[0].unparsed, facts.files[0].strace_lines),
        (0, 5)
    );
    assert_eq!(facts.gvisor_release.as_deref(), Some("release-20200211.0"));
    assert_eq!(facts.events[0].args, Some([29, 0, 0, 0, 0, 0]));
    assert_eq!(
        terminations(&facts),
        vec![
            (
                "Signal { pid: Some(5), signal: 11 } app".to_owned(),
                9,
                vec!["read Unfinished @8".to_owned()]
            ),
            (
                "Exit { scope: Command, status: Signal { signal: 11, core: true } }".to_owned(),
                12,
                vec!["keyctl Unsupported @4".to_owned()]
            ),
        ]
    );
    let report = report_of(&["legacy-2020.boot.txt"]);
    assert_eq!(
        report.findings[0].title,
        "the application, app (pid 5), was killed by signal 11 (SIGSEGV) after the task died \
         inside read(0x3 /etc/app.conf, 0x7f10, 0x1000)"
    );
}

/// 2023: `[ pid: tid]` prefixes and `0 (0x0) errno=N` results.
#[test]
fn the_middle_generation() {
    let report = report_of(&["mid-2023.boot.txt"]);
    assert_eq!(
        titles(&report),
        vec![
            (
                Severity::Breaks,
                "the application, ping (pid 12), was killed by signal 9 (SIGKILL) after the \
                 task died inside poll(0x7f20 [{FD: 0x3 socket:[4] Events: POLLIN}], 0x1, \
                 0x3e8)"
            ),
            (
                Severity::Breaks,
                "openat(path=\"/proc/sys/net/ipv4/ping_group_range\") fails with ENOENT"
            ),
            (
                Severity::NeedsConfig,
                "raw socket refused: runsc runs without --net-raw"
            ),
            (
                Severity::NeedsConfig,
                "socket(domain=AF_INET, protocol=IPPROTO_ICMP, type=SOCK_RAW) fails with EPERM \
                 unless configured"
            ),
        ]
    );
}

/// arm64, `--debug-log-format json`, a fatal error with its stack in the message; and
/// json-k8s.
#[test]
fn json_and_json_k8s() {
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
    let report = report_of(&["json.boot.json"]);
    assert_eq!(
        report.findings[0].title,
        "curl (pid 3) exited with status 6 after socket(domain=AF_INET6, \
         protocol=IPPROTO_IP, type=SOCK_DGRAM) failed with EAFNOSUPPORT"
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
    let facts = facts_of(&["user-log.json-k8s.json"]);
    assert_eq!(facts.files[0].encodings, vec!["json-k8s"]);
    assert_eq!(
        events(&facts),
        vec![("unsupported:setsockopt[(1, 0), (2, 64)]".to_owned(), 2, 1)]
    );
}

/// A Sentry panic and a gofer panic, each with its stack: the crash is the cause.
#[test]
fn panics_of_the_sentry_and_the_gofer() {
    let report = report_of(&["panic.boot.txt"]);
    assert_eq!(
        report.findings[0].title,
        "the Sentry (runsc boot) panicked: runtime error: invalid memory address or nil \
         pointer dereference"
    );
    let facts = facts_of(&["panic.boot.txt"]);
    assert_eq!(facts.terminations[0].detail.len(), 7);
    let report = report_of(&["gofer-panic.gofer.txt"]);
    assert_eq!(
        titles(&report)[0],
        (
            Severity::Breaks,
            "the gofer (runsc gofer) panicked: runtime error: index out of range [3] with \
             length 3"
        )
    );
    let facts = facts_of(&["gofer-panic.gofer.txt"]);
    assert_eq!(facts.goarches, vec!["arm64".to_owned()]);
    assert_eq!(
        facts.terminations[0].detail.last().map(String::as_str),
        Some("\tpkg/lisafs/connection.go:160 +0x8c")
    );
}

/// Cloud Run's console: timestamp and revision columns, `Container Sandbox:` messages
/// cut short, `UNKNOWN[435/0x1b3]` resolved for the arch, strace lines with no header.
#[test]
fn cloud_run_console_lines() {
    let facts = facts_of(&["cloud-run-console.txt"]);
    let file = &facts.files[0];
    assert_eq!((file.lines, file.recognised, file.unparsed), (5, 5, 0));
    assert_eq!(file.prefixes, vec!["timestamps", "Cloud Logging"]);
    assert_eq!(
        events(&facts),
        vec![
            ("unsupported:setsockopt[(1, 1), (2, 13)]".to_owned(), 2, 1),
            ("unsupported:sys_435[]".to_owned(), 1, 3),
        ]
    );
    assert_eq!((facts.strace_lines(), facts.truncated_calls), (2, 1));
    let report = report_of(&["cloud-run-console.txt"]);
    assert_eq!(
        titles(&report),
        vec![
            (
                Severity::Degraded,
                "clone3 (435 on x86_64) is unsupported (runsc reported it)"
            ),
            (
                Severity::Degraded,
                "setsockopt(level=SOL_SOCKET, optname=SO_LINGER) was refused by runsc"
            ),
        ]
    );
    let report = report_of(&["cloud-run.txt"]);
    assert_eq!(verdict(&report).0, VerdictStatus::NoFailureFound);
}

/// nvproxy refusals name the command, in hex; the process's exit is put down to them.
#[test]
fn nvproxy_refusals() {
    let report = report_of(&["nvproxy.boot.txt"]);
    assert_eq!(
        titles(&report),
        vec![
            (
                Severity::Breaks,
                "the application, python3 (pid 12), exited with status 1: nvproxy does not \
                 support control command 0x20800a2a"
            ),
            (
                Severity::Breaks,
                "nvproxy does not support frontend ioctl 0x2a (cmd=0xc020462a)"
            ),
            (
                Severity::NeedsConfig,
                "NVIDIA driver version 580.65.06 is not supported by nvproxy"
            ),
            (
                Severity::Degraded,
                "ioctl failed with EINVAL under runsc release-20260815.0"
            ),
        ]
    );
}

/// gzip and stdin read like the plain file.
#[test]
fn gzip_and_stdin_read_like_the_plain_file() {
    let plain = facts_of(&["legacy-2020.boot.txt"]);
    let gzip = facts_of(&["legacy-2020.boot.txt.gz"]);
    assert_eq!(terminations(&gzip), terminations(&plain));
    assert_eq!(events(&gzip), events(&plain));
    assert_eq!(gzip.files[0].command.as_deref(), Some("boot"));

    let spec = spec();
    let mut builder = sandprof::runsc_log::facts::FactsBuilder::new(&spec);
    let bytes = std::fs::read(fixture("legacy-2020.boot.txt")).unwrap();
    sandprof::runsc_log::read::read_one(&mut builder, "-".to_owned(), None, &bytes[..]).unwrap();
    let stdin = builder.finish();
    assert_eq!(stdin.files[0].command.as_deref(), Some("boot"));
    assert_eq!(terminations(&stdin), terminations(&plain));
}
