//! The reader on small logs: accounting, terminations with their suspects, files that
//! are not logs, and every way a line reaches the reader.

use syscall_db::{Arch, Database};

use super::*;
use crate::runsc_log::facts::{SuspectKind, SyscallId, TerminationKind};

fn read(text: &str) -> anyhow::Result<LogFacts> {
    let spec = CaptureSpec::from_database(Database::get(), Arch::X86_64);
    let mut builder = FactsBuilder::new(&spec);
    read_one(&mut builder, "t.boot.txt".to_owned(), None, text.as_bytes())?;
    Ok(builder.finish())
}

#[test]
fn a_process_exit_carries_the_calls_that_failed_before_it() {
    let facts = read(concat!(
        "I0102 15:04:05.000001       1 strace.go:567] [   5:   5] app E socket(AF_NETLINK, SOCK_RAW, 0x4)\n",
        "I0102 15:04:05.000002       1 strace.go:605] [   5:   5] app X socket(AF_NETLINK, SOCK_RAW, 0x4) = -1 errno=93 (protocol not supported) (3us)\n",
        "I0102 15:04:05.000003       1 strace.go:605] [   5:   5] app X openat(AT_FDCWD /, 0x7f0012340000 /x, O_RDONLY, 0o0) = -1 errno=2 (no such file or directory) (3us)\n",
        "I0102 15:04:05.000004       1 strace.go:567] [   5:   5] app E exit_group(0x1)\n",
        "garbage that continues the message before it\n",
    ))
    .unwrap();
    assert_eq!(facts.files[0].lines, 5);
    assert_eq!(facts.files[0].recognised, 5);
    assert_eq!(facts.files[0].unparsed, 0);
    assert_eq!(facts.calls.len(), 2);
    assert_eq!(facts.terminations.len(), 1);
    let t = &facts.terminations[0];
    assert_eq!(t.kind, TerminationKind::ProcessExit { pid: 5, code: 1 });
    let suspects: Vec<(String, SuspectKind, u64, Option<String>)> = t
        .suspects
        .iter()
        .map(|s| (s.syscall.display(), s.kind, s.at.line, s.path.clone()))
        .collect();
    assert_eq!(
        suspects,
        vec![
            ("socket".to_owned(), SuspectKind::Failed(93), 2, None),
            (
                "openat".to_owned(),
                SuspectKind::Failed(2),
                3,
                Some("/x".to_owned())
            ),
        ]
    );
    assert_eq!(t.suspects[1].errno_text, "no such file or directory");
    assert_eq!(t.suspects[0].syscall, SyscallId::Named("socket".to_owned()));
}

#[test]
fn a_file_that_is_not_a_log_is_an_error_showing_what_was_tried() {
    let err = read("hello\n\nworld: \tx:y\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "t.boot.txt: no evidence: 3 lines, none a runsc log line (runsc's text, json or \
         json-k8s format, with or without a line-number, grep, kubectl or Cloud Logging \
         prefix, or Go runtime output); the first lines tried:\n  line 1: \"hello\"\n  \
         line 3: \"world: \\tx:y\""
    );
    // Empty and blank inputs are no error: there is nothing to judge.
    let facts = read("").unwrap();
    assert_eq!((facts.files[0].lines, facts.files[0].nonblank), (0, 0));
    let facts = read("\n  \n").unwrap();
    assert_eq!((facts.files[0].lines, facts.files[0].nonblank), (2, 0));
}

#[test]
fn a_tab_and_a_colon_do_not_make_a_stack_frame() {
    let err = read("\tfoo: bar\n\tpkg/x.go:12 +0x1\n").unwrap_err();
    assert!(err
        .to_string()
        .starts_with("t.boot.txt: no evidence: 2 lines"));
}

#[test]
fn the_same_lines_in_every_pasted_form() {
    let glog = "I1201 22:20:16.046634   29559 strace.go:567] [   1:   1] sh E exit_group(0x1)";
    for (line, source_line, prefix) in [
        (format!("    41\t{glog}"), Some(41), Some("line numbers")),
        (format!("41:{glog}"), Some(41), Some("grep")),
        (
            format!("[pod/p/c] 2026-12-01T22:20:16.046634Z {glog}"),
            None,
            Some("kubectl --prefix"),
        ),
        (
            format!("2026-12-01T22:20:16Z\tsvc-1\t{glog}"),
            None,
            Some("timestamps"),
        ),
        ("[   1:   1] sh E exit_group(0x1)".to_owned(), None, None),
    ] {
        let facts = read(&format!("{line}\n")).unwrap();
        assert_eq!(facts.files[0].recognised, 1, "{line}");
        let t = &facts.terminations[0];
        assert_eq!(t.at.source_line, source_line, "{line}");
        assert_eq!(facts.files[0].prefixes.first().copied(), prefix, "{line}");
    }
}

#[test]
fn json_arrays_and_wrapped_lines() {
    let array = "[\n  {\n    \"textPayload\": \"I1201 22:20:16.046634   29559 strace.go:567] [   1:   1] sh E exit_group(0x2)\",\n    \"resource\": {\"labels\": {\"revision_name\": \"svc-1\"}}\n  },\n  {\"jsonPayload\": {\"message\": \"Container Sandbox: Unsupported syscall bpf(0x0,0x0,…\"}}\n]\n";
    let facts = read(array).unwrap();
    let file = &facts.files[0];
    assert_eq!((file.lines, file.recognised, file.unparsed), (7, 2, 0));
    assert_eq!(file.encodings, vec!["cloud-logging"]);
    assert_eq!(facts.terminations[0].at.line, 2);
    assert_eq!(
        facts.streams[facts.terminations[0].at.stream as usize]
            .tag
            .as_deref(),
        Some("svc-1")
    );
    assert_eq!(facts.events.len(), 1);
    assert_eq!(facts.events[0].first.line, 6);
}

#[test]
fn interleaved_sandboxes_keep_their_processes_apart() {
    let facts = read(concat!(
        "[pod/a/c] I1201 22:20:16.000001     100 strace.go:605] [   1:   1] a X ioprio_set(0x1, 0x0, 0x6007) = -1 errno=1 (operation not permitted) (1us)\n",
        "[pod/b/c] I1201 22:20:16.000002     200 strace.go:605] [   1:   1] b X keyctl(0x0, 0xfffffffd) = -1 errno=13 (permission denied) (1us)\n",
        "[pod/a/c] I1201 22:20:16.000003     100 strace.go:567] [   1:   1] a E exit_group(0x1)\n",
        "[pod/b/c] I1201 22:20:16.000004     200 strace.go:567] [   1:   1] b E exit_group(0x1)\n",
    ))
    .unwrap();
    let causes: Vec<Vec<String>> = facts
        .terminations
        .iter()
        .map(|t| t.suspects.iter().map(|s| s.syscall.display()).collect())
        .collect();
    assert_eq!(
        causes,
        vec![vec!["ioprio_set".to_owned()], vec!["keyctl".to_owned()]]
    );
    assert_eq!(facts.streams.len(), 2);
}

#[test]
fn a_gofer_panic_and_its_stack() {
    let facts = read(concat!(
        "I1201 22:20:16.000001       1 gofer.go:1] Serving\n",
        "panic: runtime error: invalid memory address or nil pointer dereference\n",
        "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x55]\n",
        "\n",
        "goroutine 7 [running]:\n",
        "gvisor.dev/gvisor/runsc/fsgofer.(*openedFile).walk(0x0)\n",
        "\trunsc/fsgofer/lisafs.go:300 +0x1c\n",
        "I1201 22:20:16.000002       1 gofer.go:2] next\n",
    ))
    .unwrap();
    assert_eq!(facts.files[0].recognised, 7);
    let t = &facts.terminations[0];
    assert_eq!(t.kind, TerminationKind::Panic);
    assert_eq!(t.at.line, 2);
    assert_eq!(t.detail.len(), 5);
    assert_eq!(t.detail[4], "\trunsc/fsgofer/lisafs.go:300 +0x1c");
}
