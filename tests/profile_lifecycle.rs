//! `sandprof profile` around the workload, as root: the command starts as it would
//! without sandprof (default signal dispositions, nothing blocked, the terminal), is
//! stopped with its whole process group when the capture is cut short, and nothing of
//! it is left running; targets sandprof did not start are left running, and it says so.
//! The tracer never traces itself, the destination is checked before anything starts,
//! and `--redact-argv` keeps the arguments out of the profile.

use std::fs;
use std::io::{BufRead as _, BufReader, Write as _};
use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use sandprof::capture::target::cgroup2_root;
use sandprof::profile::{ExitStatus, SyscallProfile, Target};

use crate::profile::{busybox_bundle, remove_e2e_parent, runc};
use crate::support::*;

fn command_exit(p: &SyscallProfile) -> Option<ExitStatus> {
    match &p.captures[0].target {
        Target::Command { exit, .. } => *exit,
        other => panic!("target is {other:?}"),
    }
}

/// Whether any process is in process group `group`.
fn group_alive(group: u32) -> bool {
    // SAFETY: signal 0 only checks that the group exists.
    unsafe { libc::killpg(group as i32, 0) == 0 }
}

#[test]
fn the_command_starts_with_default_signal_dispositions_and_nothing_blocked() {
    if !privileged("the_command_starts_with_default_signal_dispositions_and_nothing_blocked") {
        return;
    }
    let _serial = serial();
    let (run, _) = traced(
        &[],
        &["/bin/grep", "-E", "^Sig(Ign|Blk):", "/proc/self/status"],
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&run.stdout),
        "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n"
    );
    // With SIGPIPE ignored, `yes` would get EPIPE and complain.
    let (run, _) = traced(&[], &["/bin/sh", "-c", "yes | head -1"]);
    assert!(run.status.success());
    assert_eq!(String::from_utf8_lossy(&run.stdout), "y\n");
    assert_eq!(String::from_utf8_lossy(&run.stderr), "");
}

/// A shell that runs sandprof on its own PID tree, and a workload the shell started in
/// the background, which waits for the tracer to be ready.
#[test]
fn the_tracer_leaves_itself_out_of_a_pid_tree_and_leaves_the_tree_running() {
    if !privileged("the_tracer_leaves_itself_out_of_a_pid_tree_and_leaves_the_tree_running") {
        return;
    }
    let _serial = serial();
    let dir = scratch();
    let go = dir.path().join("go");
    let out = dir.path().join("self.sandprof.json");
    let script = format!(
        "( while [ ! -e {go} ]; do sleep 0.05; done; {workload} getppid 50 >/dev/null ) &
         {sandprof} profile --pid $$ --duration 3s --out {out} &
         echo \"sandprof=$!\" >&2
         wait",
        go = go.display(),
        workload = workload_bin().display(),
        sandprof = sandprof_bin().display(),
        out = out.display(),
    );
    let (shell, sandprof_pid, said) = run_shell_with_tracer(&script, &go);
    let p = read_profile(&out);
    assert_eq!(calls(&p, "/sandprof-workload", "getppid"), 50);
    assert_not_traced(&p, sandprof_pid);
    assert!(
        said.contains(&format!(
            "sandprof: stopped tracing; left running: PID {shell} and its descendants"
        )),
        "{said:#?}"
    );
}

/// The same inside a cgroup that holds sandprof itself.
#[test]
fn the_tracer_leaves_itself_out_of_its_own_cgroup_and_leaves_the_cgroup_running() {
    if !privileged("the_tracer_leaves_itself_out_of_its_own_cgroup_and_leaves_the_cgroup_running") {
        return;
    }
    let _serial = serial();
    let dir = scratch();
    let go = dir.path().join("go");
    let out = dir.path().join("self.sandprof.json");
    let cgroup = cgroup2_root()
        .expect("a cgroup v2 hierarchy")
        .join("sandprof-e2e")
        .join(unique("self"));
    fs::create_dir_all(&cgroup).expect("a test cgroup");
    let script = format!(
        "echo $$ > {cgroup}/cgroup.procs
         ( while [ ! -e {go} ]; do sleep 0.05; done; {workload} getppid 50 >/dev/null ) &
         {sandprof} profile --cgroup {cgroup} --duration 3s --out {out} &
         echo \"sandprof=$!\" >&2
         wait",
        cgroup = cgroup.display(),
        go = go.display(),
        workload = workload_bin().display(),
        sandprof = sandprof_bin().display(),
        out = out.display(),
    );
    let (_, sandprof_pid, said) = run_shell_with_tracer(&script, &go);
    let removed = fs::remove_dir(&cgroup);
    remove_e2e_parent();
    let p = read_profile(&out);
    assert_eq!(calls(&p, "/sandprof-workload", "getppid"), 50);
    assert_not_traced(&p, sandprof_pid);
    assert!(
        said.contains(&format!(
            "sandprof: stopped tracing; left running: the processes of cgroup {}",
            cgroup.display()
        )),
        "{said:#?}"
    );
    removed.expect("the test cgroup is empty at the end");
}

/// Runs `script` in `sh`, which starts sandprof in the background and prints
/// `sandprof=PID`; creates `go` once sandprof traces; returns the shell's pid,
/// sandprof's, and what was said on stderr.
fn run_shell_with_tracer(script: &str, go: &Path) -> (u32, u32, Vec<String>) {
    let mut shell = Command::new("/bin/sh")
        .args(["-c", script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sh starts");
    let mut lines = BufReader::new(shell.stderr.take().expect("piped")).lines();
    let mut said = Vec::new();
    let mut sandprof_pid = None;
    for line in lines.by_ref() {
        let line = line.expect("stderr is text");
        if let Some(pid) = line.strip_prefix("sandprof=") {
            sandprof_pid = pid.parse().ok();
        }
        let tracing = line.starts_with("sandprof: tracing ");
        said.push(line);
        if tracing {
            break;
        }
    }
    fs::write(go, b"").expect("the go file");
    said.extend(lines.map_while(Result::ok));
    let status = shell.wait().expect("sh ends");
    assert!(status.success(), "{status:?}: {said:#?}");
    let sandprof_pid = sandprof_pid.unwrap_or_else(|| panic!("no sandprof pid in {said:#?}"));
    (shell.id(), sandprof_pid, said)
}

/// Nothing of sandprof's own is in the profile: not its process, not the calls its
/// event loop makes.
fn assert_not_traced(p: &SyscallProfile, sandprof_pid: u32) {
    assert!(
        !p.processes.iter().any(|proc| proc.pid == sandprof_pid),
        "sandprof {sandprof_pid} traced itself: {:#?}",
        p.processes
    );
    for syscall in ["bpf", "epoll_wait", "epoll_pwait"] {
        let rows: Vec<_> = p.syscalls.iter().filter(|r| r.name == syscall).collect();
        assert!(rows.is_empty(), "sandprof's own {syscall}: {rows:#?}");
    }
}

#[test]
fn sigterm_reaches_the_command_group_and_sandprof_exits_as_it_did() {
    if !privileged("sigterm_reaches_the_command_group_and_sandprof_exits_as_it_did") {
        return;
    }
    let _serial = serial();
    let dir = scratch();
    let out = dir.path().join("term.sandprof.json");
    // A descendant in the same group must go too.
    let script = format!("{} getppid 100000000000 & wait", workload_bin().display());
    let (mut tracer, stderr) = start_sandprof(&[
        "profile",
        "--out",
        out.to_str().unwrap(),
        "--",
        "/bin/sh",
        "-c",
        &script,
    ]);
    std::thread::sleep(Duration::from_millis(300));
    // SAFETY: a signal to our own child.
    unsafe { libc::kill(tracer.id() as i32, libc::SIGTERM) };
    let status = tracer.wait().expect("sandprof ends");
    assert_eq!(status.code(), Some(128 + libc::SIGTERM), "{status:?}");
    let p = read_profile(&out);
    let group = p.processes.first().expect("the command").pid;
    assert!(!group_alive(group), "processes of group {group} are left");
    assert_eq!(command_exit(&p), Some(ExitStatus::Signal(libc::SIGTERM)));
    assert!(calls(&p, "/sandprof-workload", "getppid") > 0);
    let said: Vec<String> = stderr.iter().collect();
    assert!(
        said.contains(&format!(
            "sandprof: terminated (SIGTERM): sent SIGTERM to the command's process group \
             {group}; waiting up to 10s for it to exit"
        )),
        "{said:#?}"
    );
}

#[test]
fn the_duration_stops_the_command_and_sandprof_succeeds() {
    if !privileged("the_duration_stops_the_command_and_sandprof_succeeds") {
        return;
    }
    let _serial = serial();
    let workload = workload_bin();
    let (run, p) = traced(
        &["--duration", "1s"],
        &[workload.to_str().unwrap(), "getppid", "100000000000"],
    );
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(command_exit(&p), Some(ExitStatus::Signal(libc::SIGTERM)));
    let group = p.processes.first().expect("the command").pid;
    assert!(!group_alive(group));
    assert_eq!(String::from_utf8_lossy(&run.stderr), "");
}

#[test]
fn a_command_that_ignores_sigterm_is_killed_after_kill_after() {
    if !privileged("a_command_that_ignores_sigterm_is_killed_after_kill_after") {
        return;
    }
    let _serial = serial();
    // The shell and its background sleep both ignore SIGTERM (an ignored signal is
    // inherited).
    let (run, p) = traced(
        &["--duration", "1s", "--kill-after", "500ms"],
        &[
            "/bin/sh",
            "-c",
            "trap '' TERM; sleep 1000 & while :; do sleep 0.1; done",
        ],
    );
    assert_eq!(run.status.code(), Some(0));
    assert_eq!(command_exit(&p), Some(ExitStatus::Signal(libc::SIGKILL)));
    let group = p.processes.first().expect("the command").pid;
    assert!(!group_alive(group), "processes of group {group} are left");
    assert_eq!(
        String::from_utf8_lossy(&run.stderr),
        format!(
            "sandprof: the command's process group {group} did not exit within 500ms of \
             SIGTERM; killed it (SIGKILL)\n"
        )
    );
}

#[test]
fn a_container_is_left_running_and_sandprof_says_so() {
    if !privileged("a_container_is_left_running_and_sandprof_says_so")
        || !tool("a_container_is_left_running", "runc")
    {
        return;
    }
    let _serial = serial();
    let dir = scratch();
    let id = unique("sandprof-left");
    let bundle = busybox_bundle(
        dir.path(),
        &id,
        "while true; do cat /proc/self/status >/dev/null; done",
    );
    runc(&["run", "--detach", "--bundle", bundle.to_str().unwrap(), &id]);
    let out = dir.path().join("left.sandprof.json");
    let run = sandprof(&[
        "profile",
        "-q",
        "--container",
        &id,
        "--duration",
        "1s",
        "--out",
        out.to_str().unwrap(),
    ]);
    let state = Command::new("runc").args(["state", &id]).output();
    runc(&["delete", "--force", &id]);
    remove_e2e_parent();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&run.stderr),
        format!("sandprof: stopped tracing; left running: container {id}\n")
    );
    let state = state.expect("runc state runs");
    assert!(
        String::from_utf8_lossy(&state.stdout).contains("\"status\": \"running\""),
        "{}",
        String::from_utf8_lossy(&state.stdout)
    );
    assert!(read_profile(&out)
        .signatures
        .iter()
        .any(|s| s.syscall == "openat"));
}

/// A mount in `dir` of a tmpfs with `options`; unmounted when dropped.
struct TmpfsMount(std::path::PathBuf);

impl TmpfsMount {
    fn new(dir: &Path, options: &str) -> TmpfsMount {
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "sandprof-test"])
            .arg(dir)
            .status()
            .expect("mount runs");
        assert!(status.success(), "mount -o {options} failed");
        TmpfsMount(dir.to_path_buf())
    }
}

impl Drop for TmpfsMount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_bad_destination_fails_before_the_command_runs() {
    if !privileged("a_bad_destination_fails_before_the_command_runs") {
        return;
    }
    let _serial = serial();
    let dir = scratch();
    let marker = dir.path().join("ran");
    let touch = format!("touch {}", marker.display());
    let missing = dir.path().join("no-such-dir").join("p.json");
    let read_only = dir.path().join("ro");
    let tiny = dir.path().join("tiny");
    fs::create_dir(&read_only).unwrap();
    fs::create_dir(&tiny).unwrap();
    let _ro = TmpfsMount::new(&read_only, "ro,size=1m");
    let _tiny = TmpfsMount::new(&tiny, "size=64k");
    let cases = [
        (
            missing.clone(),
            format!(
                "cannot write the profile to {}: directory {} does not exist",
                missing.display(),
                dir.path().join("no-such-dir").display()
            ),
        ),
        (
            dir.path().to_path_buf(),
            format!(
                "cannot write the profile to {}: it is a directory; give a file name",
                dir.path().display()
            ),
        ),
        (
            read_only.join("p.json"),
            format!(
                "cannot write the profile to {}: directory {} is not writable: Read-only file \
                 system (os error 30)",
                read_only.join("p.json").display(),
                read_only.display()
            ),
        ),
        (
            tiny.join("p.json"),
            format!(
                "cannot write the profile to {}: only 64 KiB free on the file system of {} (a \
                 profile can take a few MiB)",
                tiny.join("p.json").display(),
                tiny.display()
            ),
        ),
    ];
    for (out, message) in cases {
        let run = sandprof(&[
            "profile",
            "-q",
            "--out",
            out.to_str().unwrap(),
            "--",
            "/bin/sh",
            "-c",
            &touch,
        ]);
        assert_eq!(run.status.code(), Some(2), "{}", out.display());
        assert_eq!(
            String::from_utf8_lossy(&run.stderr),
            format!("sandprof: error: {message}\n")
        );
        assert!(
            !marker.exists(),
            "the command ran despite --out {}",
            out.display()
        );
    }
    // The checks leave nothing behind where they looked.
    assert_eq!(fs::read_dir(&tiny).unwrap().count(), 0);
}

#[test]
fn redact_argv_keeps_the_arguments_out_of_the_profile_and_its_reports() {
    if !privileged("redact_argv_keeps_the_arguments_out_of_the_profile_and_its_reports") {
        return;
    }
    let _serial = serial();
    let dir = scratch();
    let out = dir.path().join("redacted.sandprof.json");
    let secret = "token=hunter2-sandprof";
    let run = sandprof(&[
        "profile",
        "-q",
        "--redact-argv",
        "--out",
        out.to_str().unwrap(),
        "--",
        "/bin/sh",
        "-c",
        "exit 0",
        "sh",
        secret,
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let text = fs::read_to_string(&out).unwrap();
    assert!(!text.contains("hunter2"), "{text}");
    let p = read_profile(&out);
    match &p.captures[0].target {
        Target::Command { argv, .. } => assert_eq!(argv, &["/bin/sh"]),
        other => panic!("target is {other:?}"),
    }
    for format in ["table", "markdown", "json"] {
        let report = sandprof(&["report", "--format", format, out.to_str().unwrap()]);
        assert!(!String::from_utf8_lossy(&report.stdout).contains("hunter2"));
    }
}

/// On a terminal, the command is the foreground job: it reads the terminal (in the
/// background, `cat` would be stopped by SIGTTIN), and Ctrl-C reaches it as it would
/// without sandprof. `script` gives it a pseudo-terminal.
#[test]
fn on_a_terminal_the_command_is_the_foreground_job() {
    if !privileged("on_a_terminal_the_command_is_the_foreground_job")
        || !tool("on_a_terminal", "script")
    {
        return;
    }
    let _serial = serial();
    let dir = scratch();
    let out = dir.path().join("tty.sandprof.json");
    let inner = format!(
        "{} profile -q --out {} -- /bin/cat; \
         echo \"sandprof exited $?\"",
        sandprof_bin().display(),
        out.display()
    );
    let mut script = Command::new("script")
        .args(["-qec", &inner, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("script starts");
    // Should anything hang, end it all after a minute.
    let group = script.id() as i32;
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(60));
        // SAFETY: a signal to the process group of our own child.
        unsafe { libc::killpg(group, libc::SIGKILL) };
    });
    let mut stdin = script.stdin.take().expect("piped");
    let mut lines = BufReader::new(script.stdout.take().expect("piped")).lines();
    std::thread::sleep(Duration::from_secs(2));
    stdin
        .write_all(b"hello\n")
        .expect("the terminal takes input");
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.expect("text").replace('\r', "");
        // The terminal's echo of what was typed, then cat's copy of it.
        let got = line == "hello" && seen.iter().any(|l| l == "hello");
        seen.push(line);
        if got {
            break;
        }
    }
    // Ctrl-C on the terminal.
    stdin.write_all(b"\x03").expect("the terminal takes input");
    for line in lines.by_ref() {
        let line = line.expect("text").replace('\r', "");
        // The terminal echoes Ctrl-C as `^C`, on the same line.
        let done = line.contains("sandprof exited");
        seen.push(line);
        if done {
            break;
        }
    }
    drop(stdin);
    let _ = script.wait();
    assert_eq!(
        seen.iter().filter(|l| *l == "hello").count(),
        2,
        "{seen:#?}"
    );
    assert!(
        seen.iter().any(|l| l.ends_with("sandprof exited 130")),
        "{seen:#?}"
    );
    assert_eq!(
        command_exit(&read_profile(&out)),
        Some(ExitStatus::Signal(libc::SIGINT))
    );
}
