//! Logs of real runs of the installed runsc (release 20221219.0; `real/generate.sh`),
//! each with its exact root cause and verdict, and the same logs in every form they are
//! pasted in (`pasted/derive.py`), which must say the same.

use sandprof::analysis::finding::Occurrence;

use super::*;

/// The gVisor release and what the header says of the sandbox.
#[test]
fn the_header_names_release_arch_platform_and_network() {
    let facts = facts_of(&["real/sysctl"]);
    assert_eq!(facts.runsc_version.as_deref(), Some("0.0~20221219.0"));
    assert_eq!(facts.gvisor_release.as_deref(), Some("release-20221219.0"));
    assert_eq!(facts.goarches, vec!["amd64".to_owned()]);
    assert_eq!(facts.platform.as_deref(), Some("ptrace"));
    assert_eq!(facts.network.as_deref(), Some("none"));
    /// (name, command, lines, recognised, strace lines, unparsed)
    type FileRow<'a> = (String, Option<&'a str>, u64, u64, u64, u64);
    let files: Vec<FileRow<'_>> = facts
        .files
        .iter()
        .map(|f| {
            (
                f.name.clone(),
                f.command.as_deref(),
                f.lines,
                f.recognised,
                f.strace_lines,
                f.unparsed,
            )
        })
        .collect();
    let name = |f: &str| format!("{DIR}/real/sysctl/{f}");
    // Every non-blank line is runsc's (the spec runsc prints one key per line continues
    // the message before it); the one blank line ends the seccomp program dump.
    assert_eq!(
        files,
        vec![
            (name("boot.txt"), Some("boot"), 498, 497, 238, 0),
            (name("gofer.txt"), Some("gofer"), 193, 192, 0, 0),
            (name("run.txt"), Some("run"), 285, 285, 0, 0),
        ]
    );
    let report = report_of(&["real/sysctl"]);
    assert_eq!(report.gvisor_release.as_deref(), Some("release-20221219.0"));
}

/// The exit of the failing process carries the calls that failed in it before, in log
/// order; the ordinary ones (missing locale files) only as the last few.
#[test]
fn a_failing_exit_carries_its_suspects() {
    let facts = facts_of(&["real/sysctl"]);
    assert_eq!(
        terminations(&facts)[0],
        (
            "ProcessExit { pid: 1, code: 1 } app".to_owned(),
            485,
            vec![
                "rseq Failed(38) @294".to_owned(),
                "newfstatat Failed(2) @460".to_owned(),
                "openat Failed(2) @466".to_owned(),
                "openat Failed(2) @472".to_owned(),
                "openat Failed(2) @474".to_owned(),
                "openat Failed(2) @476".to_owned(),
            ]
        )
    );
    let named = facts.terminations[0].suspects[1]
        .named_in_output
        .as_ref()
        .unwrap();
    assert_eq!(named.text, "cannot stat /proc/sys/kernel/ostype");
    assert!(named.names_call);
}

/// Each workload that exits 1 under runsc (and 0 under runc): the finding that leads
/// names the call behind it, and the verdict says the workload failed.
#[test]
fn failures_lead_with_the_call_behind_them() {
    let cases = [
        (
            "sysctl",
            "the application, sysctl (pid 1), exited with status 1 after \
             newfstatat(/proc/sys/kernel/ostype) failed with ENOENT",
            "gvisor.proc.global-added-in-release-20260126.0",
            vec!["runsc.upgrade", "code.ignore-missing-file", "other.kata"],
            460,
        ),
        (
            "ionice",
            "the application, ionice (pid 1), exited with status 1 after ioprio_set(0x1, \
             0x0, 0x6007) failed with EPERM",
            "gvisor.syscall.x86_64.ioprio_set",
            vec![],
            464,
        ),
        (
            "keyctl",
            "the application, keyctl (pid 1), exited with status 1 after \
             keyctl(operation=KEYCTL_GET_KEYRING_ID) failed with EACCES",
            "gvisor.syscall.x86_64.keyctl",
            vec![],
            331,
        ),
        (
            "lsblk",
            "the application, lsblk (pid 1), exited with status 1 after \
             access(/sys/dev/block) failed with ENOENT",
            "gvisor.sys.other",
            vec!["runsc.upgrade", "code.ignore-missing-file", "other.kata"],
            586,
        ),
        (
            "segv",
            "the application, sh (pid 1), was killed by signal 11 (SIGSEGV) after it sent \
             itself SIGSEGV with kill()",
            "runsc.termination",
            vec![],
            343,
        ),
        (
            "missing-entrypoint",
            "runsc run failed: the entrypoint /no/such/program does not exist in the container",
            "gvisor.message.exec.entrypoint-not-loadable",
            vec!["code.fix-entrypoint"],
            240,
        ),
        (
            "not-executable",
            "runsc run failed: the entrypoint /etc/os-release is not executable",
            "gvisor.message.exec.entrypoint-not-loadable",
            vec!["code.fix-entrypoint"],
            240,
        ),
    ];
    for (name, title, entry, remediations, cause_line) in cases {
        let report = report_of(&[&format!("real/{name}")]);
        let (status, summary) = verdict(&report);
        assert_eq!(status, VerdictStatus::Breaks, "{name}");
        assert!(
            summary.starts_with(&format!(
                "The workload failed under gVisor release-20221219.0: {title}."
            )),
            "{name}: {summary}"
        );
        let first = &report.findings[0];
        assert_eq!(
            (first.severity, first.title.as_str()),
            (Severity::Breaks, title)
        );
        assert_eq!(first.reference.entry, entry, "{name}");
        let ids: Vec<&str> = first.remediations.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, remediations, "{name}");
        assert_eq!(
            first.evidence.first.as_ref().and_then(|o| o.line),
            Some(cause_line),
            "{name}"
        );
        // One failure, one root cause: runsc's own exit repeats the application's.
        let root_causes = report
            .findings
            .iter()
            .filter(|f| {
                f.category == sandprof::analysis::finding::Category::Runtime
                    && f.severity == Severity::Breaks
            })
            .count();
        assert_eq!(root_causes, 1, "{name}");
    }
}

/// Why the cause ranks first is in the finding, and so are the other candidates.
#[test]
fn the_ranking_says_why() {
    let report = report_of(&["real/ionice"]);
    assert_eq!(
        report.findings[0].effect,
        format!(
            "Most likely cause, ranked first because its error output names it (\"ioprio_set \
             failed\"); gVisor release-20221219.0 requires CAP_SYS_ADMIN for it; it is the \
             last call that failed before the end: ioprio_set(0x1, 0x0, 0x6007) failed with \
             EPERM at {DIR}/real/ionice/boot.txt:464. Other candidates: rseq(0x7f957e162060, \
             0x20, 0x0, 0x53053053) failed with ENOSYS (gVisor release-20221219.0 implements \
             rseq only in part; Linux implements rseq, so it would not fail with ENOSYS there; \
             it is the second-last call that failed before the end)."
        )
    );
    let report = report_of(&["real/keyctl"]);
    assert!(report.findings[0].effect.starts_with(
        "Most likely cause, ranked first because its error output reports that error \
         (\"Unable to dump key: Permission denied\"); gVisor release-20221219.0 does not \
         implement keyctl; it is the last call that failed before the end:"
    ));
}

/// A crash of the Sentry is its own cause, with its stack.
#[test]
fn a_sentry_panic_with_every_goroutine() {
    let report = report_of(&["real/sentry-panic"]);
    let first = &report.findings[0];
    assert_eq!(
        first.title,
        "the Sentry (runsc boot) panicked: Signal-induced panic"
    );
    assert_eq!(first.evidence.detail.len(), 40);
    assert_eq!(first.evidence.detail[0], "panic: Signal-induced panic");
    // Blank lines in the dump are not kept.
    assert_eq!(first.evidence.detail[1], "goroutine 22 [running]:");
}

/// Programs that worked under runsc: no failure, never "breaks", and the coverage said.
#[test]
fn programs_that_worked_are_no_failure_found() {
    for (name, coverage) in [
        ("cp", "607 lines (346 strace lines: 173 calls by cp)"),
        ("ss", "751 lines (492 strace lines: 246 calls by ss)"),
        (
            "python3",
            "1472 lines (1212 strace lines: 606 calls by python3)",
        ),
    ] {
        let report = report_of(&[&format!("real/{name}")]);
        let (status, summary) = verdict(&report);
        assert_eq!(status, VerdictStatus::NoFailureFound, "{name}");
        assert!(
            summary.starts_with(&format!(
                "No failure found in the log: {coverage} from runsc release-20221219.0; the \
                 application exited with status 0."
            )),
            "{name}: {summary}"
        );
        assert!(
            report
                .findings
                .iter()
                .all(|f| f.severity != Severity::Breaks),
            "{name}: {:?}",
            titles(&report)
        );
    }
}

/// The /dev/mqueue mount containerd puts in every container is skipped by this runsc,
/// and does not matter: info, in every real log.
#[test]
fn the_mqueue_mount_is_not_a_blocker() {
    for name in ["cp", "sysctl", "segv"] {
        let report = report_of(&[&format!("real/{name}")]);
        let mqueue = report
            .findings
            .iter()
            .find(|f| f.reference.entry == "gvisor.message.mount.unknown-filesystem-type")
            .unwrap();
        assert_eq!(mqueue.severity, Severity::Info, "{name}");
        assert_eq!(
            mqueue.title,
            "the /dev/mqueue mount (type \"mqueue\") is skipped"
        );
        let options = report
            .findings
            .iter()
            .find(|f| f.reference.entry == "gvisor.message.mount.unknown-option")
            .unwrap();
        assert_eq!(
            (options.severity, options.title.as_str()),
            (
                Severity::Info,
                "mount option \"nosuid\" ignored (and 9 more like it)"
            )
        );
    }
}

/// Where the first occurrence is, as (file suffix, line, original line).
fn first_at(report: &Report) -> (String, Option<u64>, Option<u64>) {
    let o: &Occurrence = report.findings[0].evidence.first.as_ref().unwrap();
    let file = o.file.clone().unwrap_or_default();
    let short = file.rsplit('/').next().unwrap_or_default().to_owned();
    (short, o.line, o.source_line)
}

/// The pasted forms of the real logs say the same, and cite the original line where the
/// paste printed it.
#[test]
fn every_pasted_form_says_the_same() {
    let sysctl = "the application, sysctl (pid 1), exited with status 1 after \
                  newfstatat(/proc/sys/kernel/ostype) failed with ENOENT";
    let lsblk = "the application, lsblk (pid 1), exited with status 1 after \
                 access(/sys/dev/block) failed with ENOENT";
    let keyctl = "the application, keyctl (pid 1), exited with status 1 after \
                  keyctl(operation=KEYCTL_GET_KEYRING_ID) failed with EACCES";
    let ionice = "the application, ionice (pid 1), exited with status 1 after \
                  ioprio_set(0x1, 0x0, 0x6007) failed with EPERM";
    for (file, title, line, original) in [
        ("sysctl.cat-n.txt", sysctl, 112, Some(460)),
        ("sysctl.cloud-logging.txt", sysctl, 112, None),
        ("lsblk.glued-numbers.txt", lsblk, 110, Some(586)),
        ("lsblk.cloud-logging.json", lsblk, 1528, None),
        ("ionice.grep-n.txt", ionice, 258, Some(464)),
        ("keyctl.grep-Hn.txt", keyctl, 126, Some(331)),
        ("keyctl.kubectl-prefix-timestamps.txt", keyctl, 92, None),
    ] {
        let report = report_of(&[&format!("pasted/{file}")]);
        assert_eq!(verdict(&report).0, VerdictStatus::Breaks, "{file}");
        assert_eq!(report.findings[0].title, title, "{file}");
        assert_eq!(
            first_at(&report),
            (file.to_owned(), Some(line), original),
            "{file}"
        );
    }
}

/// Two pods interleaved by `kubectl logs -l --prefix`: both sandboxes' pid 1, told
/// apart.
#[test]
fn interleaved_pods_each_get_their_cause() {
    let report = report_of(&["pasted/interleaved.kubectl-prefix.txt"]);
    let causes: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| {
            f.category == sandprof::analysis::finding::Category::Runtime
                && f.severity == Severity::Breaks
        })
        .map(|f| f.title.as_str())
        .collect();
    assert_eq!(
        causes,
        vec![
            "the application, sysctl (pid 1), exited with status 1 after \
             newfstatat(/proc/sys/kernel/ostype) failed with ENOENT",
            "the application, ionice (pid 1), exited with status 1 after ioprio_set(0x1, \
             0x0, 0x6007) failed with EPERM",
        ]
    );
    let facts = facts_of(&["pasted/interleaved.kubectl-prefix.txt"]);
    let tags: Vec<Option<&str>> = facts.streams.iter().map(|s| s.tag.as_deref()).collect();
    assert_eq!(
        tags,
        vec![Some("pod/sysctl-0/app"), Some("pod/ionice-0/app")]
    );
}

/// Forms with no failure in them: strace lines with no header (with and without the
/// task prefix) and Cloud Logging JSON lines of a program that worked.
#[test]
fn pasted_forms_of_programs_that_worked() {
    for (file, coverage, recognised) in [
        (
            "python3.strace-bare.txt",
            "150 lines (150 strace lines: 75 calls by python3)",
            150,
        ),
        (
            "python3.strace-task-prefix.txt",
            "150 lines (150 strace lines: 75 calls by python3)",
            150,
        ),
        (
            "ss.cloud-logging.jsonl",
            "150 lines (138 strace lines: 69 calls by ss)",
            150,
        ),
    ] {
        let report = report_of(&[&format!("pasted/{file}")]);
        let (status, summary) = verdict(&report);
        assert_eq!(status, VerdictStatus::NoFailureFound, "{file}");
        assert!(
            summary.starts_with(&format!("No failure found in the log: {coverage}")),
            "{file}: {summary}"
        );
        let facts = facts_of(&[&format!("pasted/{file}")]);
        assert_eq!(facts.files[0].recognised, recognised, "{file}");
        assert_eq!(facts.files[0].unparsed, 0, "{file}");
    }
}
