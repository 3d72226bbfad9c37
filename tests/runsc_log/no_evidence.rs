//! Input with nothing to judge is never a pass: an empty input (stdin, an empty gzip)
//! is "no evidence" and fails every `--fail-on`; a file with lines but none of them
//! runsc's (random bytes, another program's log) is an error that shows the lines it
//! tried.

use std::io::Write as _;
use std::process::{Command, Stdio};

use super::*;
use crate::support::{sandprof, sandprof_bin, scratch};

/// Runs `sandprof runsc-log ARGS` with `stdin` on its standard input.
fn runsc_log_with_stdin(args: &[&str], stdin: &[u8]) -> std::process::Output {
    let mut child = Command::new(sandprof_bin())
        .arg("runsc-log")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sandprof runs");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn empty_stdin_is_no_evidence_and_fails_the_gate() {
    let out = runsc_log_with_stdin(&["--fail-on", "breaks", "--format", "json", "-"], b"");
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["verdicts"][0]["status"], "no-evidence");
    assert_eq!(report["verdicts"][0]["basis"], "log");
    assert_eq!(
        report["verdicts"][0]["summary"],
        "No evidence: 0 lines, none a runsc log line."
    );
    // Without a gate it is reported, and the command succeeds.
    let out = runsc_log_with_stdin(&["-"], b"\n\n");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("No evidence: 2 lines, none a runsc log line."),
        "{text}"
    );
    let out = runsc_log_with_stdin(&["--fail-on", "needs-config", "-"], b"");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn an_empty_gzip_is_no_evidence() {
    let dir = scratch();
    let path = dir
        .path()
        .join("runsc.log.20261201-000000.000001.boot.txt.gz");
    // A gzip member of nothing: header, an empty final deflate block, CRC and size 0.
    std::fs::write(
        &path,
        [
            0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ],
    )
    .unwrap();
    let out = sandprof(&["runsc-log", "--fail-on", "breaks", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("No evidence: 0 lines, none a runsc log line."),
        "{text}"
    );
}

/// Random bytes: no line is runsc's (a tab and a colon do not make a Go stack frame),
/// so it is an error naming the file, how many lines it had, and what they were.
#[test]
fn random_bytes_are_an_error_showing_what_was_tried() {
    let dir = scratch();
    let path = dir.path().join("random.bin");
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut bytes = Vec::with_capacity(4 << 20);
    while bytes.len() < 4 << 20 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        bytes.extend_from_slice(&state.to_le_bytes());
    }
    std::fs::write(&path, &bytes).unwrap();
    let newlines = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
    let lines = newlines + u64::from(bytes.last() != Some(&b'\n'));
    let out = sandprof(&["runsc-log", "--fail-on", "breaks", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let expected = format!(
        "{}: no evidence: {lines} lines, none a runsc log line",
        path.display()
    );
    assert!(stderr.contains(&expected), "{stderr}");
    assert!(
        stderr.contains("the first lines tried:\n  line 1: "),
        "{stderr}"
    );

    std::fs::write(&path, "\tfoo: bar\n\tx.go:1 +0x1\nmain.main()\n").unwrap();
    let out = sandprof(&["runsc-log", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn bad_input_gets_an_error_naming_the_file_and_the_problem() {
    let inputs = input::expand(&[fixture("not-a-log.txt")]).unwrap();
    let err = sandprof::runsc_log::read_inputs(&inputs, &spec()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "fixtures/runsc/not-a-log.txt: no evidence: 2 lines, none a runsc log line (runsc's \
         text, json or json-k8s format, with or without a line-number, grep, kubectl or \
         Cloud Logging prefix, or Go runtime output); the first lines tried:\n  line 1: \
         \"# nginx access log\"\n  line 2: \"10.0.0.1 - - [22/Nov/2026:15:04:05 +0000] \\\"GET / \
         HTTP/1.1\\\" 200 612\""
    );
    let err = input::expand(&[fixture("missing.txt")]).unwrap_err();
    assert_eq!(
        format!("{err:#}"),
        "cannot read fixtures/runsc/missing.txt: No such file or directory (os error 2)"
    );
    let err = input::expand(&[PathBuf::from("-"), PathBuf::from("-")]).unwrap_err();
    assert_eq!(err.to_string(), "`-` (stdin) is given more than once");
}
