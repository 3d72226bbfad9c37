//! `sandprof profile` end to end, as root, on this kernel: the purpose-built workload, a
//! PID tree, an interrupted capture, real runc containers by cgroup and by id, full
//! signature maps, and the errors for bad targets and missing privileges. The tests run
//! one at a time (see `support::serial`); what they check is left loaded is what their
//! own sandprof held, whatever else runs on the machine.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sandprof::capture::target::cgroup2_root;
use sandprof::profile::{Abi, ExitStatus, LostCounts, SyscallProfile, Target};
use sandprof::sandbox::cgroup::Hierarchies;
use syscall_db::{Database, FieldValue};

use crate::support::*;

fn signature_calls(
    profile: &SyscallProfile,
    syscall: &str,
    field: &str,
    value: &FieldValue,
) -> u64 {
    profile
        .signatures
        .iter()
        .filter(|s| s.syscall == syscall && s.fields.get(field) == Some(value))
        .map(|s| s.calls)
        .sum()
}

fn str_value(s: &str) -> FieldValue {
    FieldValue::Str(s.to_owned())
}

/// The workload's own report of each step: `step: errno` (0 for success).
fn steps(stderr: &[u8]) -> BTreeMap<String, i64> {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter_map(|l| {
            let (step, code) = l.split_once(": ")?;
            Some((step.to_owned(), code.trim().parse().ok()?))
        })
        .collect()
}

/// The failed calls a step's errno predicts for its syscall row.
fn expected_errors(code: i64) -> BTreeMap<String, u64> {
    if code == 0 {
        return BTreeMap::new();
    }
    let name = Database::get()
        .errno_name(code as u32)
        .expect("the workload reports Linux errnos");
    BTreeMap::from([(name.to_owned(), 1)])
}

fn row_errors(profile: &SyscallProfile, exe_suffix: &str, syscall: &str) -> BTreeMap<String, u64> {
    let exes: Vec<u32> = profile
        .executables
        .iter()
        .filter(|e| e.path.ends_with(exe_suffix))
        .map(|e| e.id)
        .collect();
    let mut errors = BTreeMap::new();
    for row in profile
        .syscalls
        .iter()
        .filter(|r| r.name == syscall && exes.contains(&r.executable))
    {
        for (errno, count) in &row.errors {
            *errors.entry(errno.clone()).or_default() += count;
        }
    }
    errors
}

#[test]
fn workload_does_exactly_what_the_profile_says() {
    if !privileged("workload_does_exactly_what_the_profile_says") {
        return;
    }
    let _serial = serial();
    let workload = workload_bin();
    let (run, p) = traced(&[], &[workload.to_str().unwrap(), "all"]);
    assert!(
        run.status.success(),
        "sandprof failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let steps = steps(&run.stderr);
    let wl = "/sandprof-workload";

    assert_eq!(p.lost, LostCounts::default());
    // 1000 in the main loop, then 10 per process of the exec chain (depth 3: the root
    // and the three processes it execs).
    assert_eq!(calls(&p, wl, "getppid"), 1040);
    for (syscall, step) in [
        ("copy_file_range", "copy_file_range"),
        ("io_uring_setup", "io_uring"),
        ("perf_event_open", "perf"),
        ("bpf", "bpf"),
    ] {
        assert_eq!(calls(&p, wl, syscall), 1, "{syscall}");
        assert_eq!(
            row_errors(&p, wl, syscall),
            expected_errors(steps[step]),
            "{syscall}"
        );
    }
    assert_eq!(calls(&p, wl, "ptrace"), 1);
    assert_eq!(calls(&p, wl, "unshare"), 1);
    // Making / private, then the tmpfs.
    assert_eq!(calls(&p, wl, "mount"), 2);
    assert_eq!(calls(&p, wl, "umount2"), 1);
    assert_eq!(calls(&p, wl, "socket"), 3);

    for path in [
        "/proc/self/status",
        "/proc/self/smaps_rollup",
        "/sys/dev/block",
    ] {
        assert_eq!(
            signature_calls(&p, "openat", "path", &str_value(path)),
            1,
            "{path}"
        );
    }
    let sockets: Vec<(u64, u64, u64)> = p
        .signatures
        .iter()
        .filter(|s| s.syscall == "socket")
        .map(|s| {
            let int = |f: &str| match s.fields.get(f) {
                Some(FieldValue::Int(v)) => *v,
                other => panic!("socket field {f} is {other:?}"),
            };
            assert_eq!(s.calls, 1);
            (int("domain"), int("type"), int("protocol"))
        })
        .collect();
    // AF_INET/SOCK_RAW/ICMP, AF_NETLINK/SOCK_RAW/NETLINK_SOCK_DIAG (SOCK_CLOEXEC masked
    // off), AF_PACKET/SOCK_RAW/htons(ETH_P_ALL).
    assert_eq!(sockets, [(2, 3, 1), (16, 3, 4), (17, 3, 768)]);

    // The 32-bit program: the kernel-side mode check sees its calls as compat ones.
    let compat: BTreeMap<&str, u64> = p
        .syscalls
        .iter()
        .filter(|s| s.abi == Abi::Compat)
        .map(|s| (s.name.as_str(), s.calls))
        .collect();
    assert_eq!(
        compat,
        BTreeMap::from([("execve", 1), ("exit", 1), ("getpid", 1)])
    );
    assert_eq!(steps["i386"], 42);

    // Processes: the root, the mount and ptrace children, the three chain processes and
    // the 32-bit program; the chain is three forks deep.
    assert_eq!(p.processes.len(), 7, "{:#?}", p.processes);
    let parent: BTreeMap<u32, u32> = p
        .processes
        .iter()
        .filter_map(|proc| Some((proc.pid, proc.parent?)))
        .collect();
    let depth = |mut pid: u32| {
        let mut d = 0;
        while let Some(&up) = parent.get(&pid) {
            pid = up;
            d += 1;
        }
        d
    };
    assert_eq!(
        p.processes.iter().map(|proc| depth(proc.pid)).max(),
        Some(3)
    );
    match &p.captures[0].target {
        Target::Command { exit, .. } => {
            assert_eq!(*exit, Some(ExitStatus::Code(0)))
        }
        other => panic!("target is {other:?}"),
    }
}

#[test]
fn counts_are_exact() {
    if !privileged("counts_are_exact") {
        return;
    }
    let _serial = serial();
    let workload = workload_bin();
    let (run, p) = traced(&[], &[workload.to_str().unwrap(), "getppid", "123457"]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(calls(&p, "/sandprof-workload", "getppid"), 123_457);
    assert_eq!(p.lost.total(), 0);
}

/// Two keys in one slot of the probe's per-CPU count cache evict each other's pending
/// count on every call; each eviction must land in `COUNTS`, and what is pending at the
/// end must be added by userspace.
#[cfg(target_arch = "x86_64")]
#[test]
fn calls_sharing_a_count_cache_slot_are_counted_exactly() {
    // x86-64 getppid (110) and access (21), both succeeding.
    assert_eq!(
        profiler_common::maps::count_cache_slot(110, 0),
        profiler_common::maps::count_cache_slot(21, 0),
        "the workload no longer makes two keys share a slot"
    );
    if !privileged("calls_sharing_a_count_cache_slot_are_counted_exactly") {
        return;
    }
    let _serial = serial();
    let workload = workload_bin();
    let (run, p) = traced(&[], &[workload.to_str().unwrap(), "alternate", "54321"]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(calls(&p, "/sandprof-workload", "getppid"), 54_321);
    // The dynamic loader's access("/etc/ld.so.preload") fails with ENOENT: another key.
    assert_eq!(
        row_errors(&p, "/sandprof-workload", "access"),
        expected_errors(2)
    );
    assert_eq!(calls(&p, "/sandprof-workload", "access"), 54_321 + 1);
    assert_eq!(p.lost.total(), 0);
}

#[test]
fn exit_status_passes_through() {
    if !privileged("exit_status_passes_through") {
        return;
    }
    let _serial = serial();
    let (run, p) = traced(&[], &["/bin/sh", "-c", "exit 7"]);
    assert_eq!(run.status.code(), Some(7));
    assert_eq!(calls(&p, "/bin/sh", "exit_group"), 1);
}

#[test]
fn follows_a_running_pid_tree() {
    if !privileged("follows_a_running_pid_tree") {
        return;
    }
    let _serial = serial();
    let dir = scratch();
    let out = dir.path().join("pid.sandprof.json");
    let script = format!("read line; exec {} getppid 777", workload_bin().display());
    let mut target = Command::new("/bin/sh")
        .args(["-c", &script])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("sh starts");
    let pid = target.id().to_string();
    let (mut tracer, _stderr) =
        start_sandprof(&["profile", "--pid", &pid, "--out", out.to_str().unwrap()]);
    target
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(b"go\n")
        .expect("the target reads its line");
    assert!(target.wait().expect("sh ends").success());
    assert!(tracer.wait().expect("sandprof ends").success());
    let p = read_profile(&out);
    assert_eq!(calls(&p, "/sandprof-workload", "getppid"), 777);
    assert_eq!(p.captures[0].target, Target::Pid { pid: target.id() });
    // The shell was running before the capture: it is known by its /proc/PID/exe.
    assert!(p
        .executables
        .iter()
        .any(|e| e.path.ends_with("sh") || e.path.ends_with("dash")));
}

#[test]
fn interrupted_capture_stops_the_command_writes_a_valid_profile_and_detaches() {
    if !privileged("interrupted_capture_stops_the_command_writes_a_valid_profile_and_detaches")
        || !tool("interrupted", "bpftool")
    {
        return;
    }
    let _serial = serial();
    let dir = scratch();
    let out = dir.path().join("int.sandprof.json");
    let workload = workload_bin();
    let (mut tracer, stderr) = start_sandprof(&[
        "profile",
        "--out",
        out.to_str().unwrap(),
        "--",
        workload.to_str().unwrap(),
        "getppid",
        "100000000000",
    ]);
    let programs = probe_programs_of(tracer.id());
    std::thread::sleep(std::time::Duration::from_millis(300));
    // SAFETY: a signal to our own child.
    unsafe { libc::kill(tracer.id() as i32, libc::SIGINT) };
    let status = tracer.wait().expect("sandprof ends");
    // The command got the SIGINT and died of it; sandprof passes that on.
    assert_eq!(status.code(), Some(130), "{status:?}");
    let p = read_profile(&out);
    let root = p.processes.first().expect("the command's process").pid;
    assert!(
        !Path::new(&format!("/proc/{root}")).exists(),
        "the command {root} is still running"
    );
    assert!(calls(&p, "/sandprof-workload", "getppid") > 0);
    match &p.captures[0].target {
        Target::Command { exit, .. } => assert_eq!(*exit, Some(ExitStatus::Signal(libc::SIGINT))),
        other => panic!("target is {other:?}"),
    }
    let said: Vec<String> = stderr.iter().collect();
    assert!(
        said.contains(&format!(
            "sandprof: interrupted (SIGINT): sent SIGINT to the command's process group {root}; \
             waiting up to 10s for it to exit"
        )),
        "{said:#?}"
    );
    assert_unloaded(&programs);
}

#[test]
fn bad_targets_are_clear_errors() {
    if !privileged("bad_targets_are_clear_errors") {
        return;
    }
    let _serial = serial();
    let v2 = cgroup2_root().expect("a cgroup v2 hierarchy");
    let v2 = v2.display();
    let cases: [(&[&str], String); 5] = [
        (&["profile", "--pid", "999999999"], "no process with PID 999999999".to_owned()),
        (
            &["profile", "--cgroup", "/sys/fs/cgroup/sandprof-no-such-cgroup"],
            "cgroup /sys/fs/cgroup/sandprof-no-such-cgroup does not exist: No such file or directory (os error 2)".to_owned(),
        ),
        (&["profile", "--cgroup", "/tmp"], format!("/tmp is not under the cgroup v2 mount {v2}")),
        (
            &["profile", "--container", "sandprof-no-such-container"],
            format!("no container with id `sandprof-no-such-container` under {v2} (looked for cgroup directories named <id>, docker-<id>.scope, cri-containerd-<id>.scope, crio-<id>.scope, libpod-<id>.scope, runc-<id>.scope)"),
        ),
        (
            &["profile", "--", "sandprof-no-such-command"],
            "command `sandprof-no-such-command` not found in PATH".to_owned(),
        ),
    ];
    for (args, message) in cases {
        let out = sandprof(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            format!("sandprof: error: {message}\n"),
            "{args:?}"
        );
    }
}

#[test]
fn without_privileges_says_which_are_missing() {
    if !privileged("without_privileges_says_which_are_missing")
        || !tool("without_privileges", "setpriv")
    {
        return;
    }
    let out = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
        ])
        .arg(sandprof_bin())
        .args(["profile", "--", "/bin/true"])
        .output()
        .expect("setpriv runs");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "sandprof: error: tracing needs root, or CAP_BPF and CAP_PERFMON (to load and attach \
         the probe); this process lacks CAP_BPF and CAP_PERFMON (CapEff 0x0); run it as root, \
         e.g. `sudo sandprof profile …`\n"
    );
}

/// A runc bundle with a busybox root file system running `script`.
pub fn busybox_bundle(dir: &Path, id: &str, script: &str) -> PathBuf {
    let bundle = dir.join(id);
    let bin = bundle.join("rootfs/bin");
    std::fs::create_dir_all(&bin).unwrap();
    for sub in ["proc", "sys", "dev", "tmp"] {
        std::fs::create_dir_all(bundle.join("rootfs").join(sub)).unwrap();
    }
    std::fs::copy("/bin/busybox", bin.join("busybox")).expect("busybox-static is installed");
    for applet in ["sh", "cat", "true"] {
        std::os::unix::fs::symlink("busybox", bin.join(applet)).unwrap();
    }
    let spec = Command::new("runc")
        .args(["spec", "--bundle"])
        .arg(&bundle)
        .status()
        .expect("runc runs");
    assert!(spec.success(), "runc spec failed");
    let path = bundle.join("config.json");
    let mut config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    config["process"]["terminal"] = false.into();
    config["process"]["args"] = serde_json::json!(["/bin/sh", "-c", script]);
    config["linux"]["cgroupsPath"] = format!("/sandprof-e2e/{id}").into();
    std::fs::write(&path, serde_json::to_vec_pretty(&config).unwrap()).unwrap();
    bundle
}

/// Runs runc. Its stderr goes to a file, not a pipe: `runc create` hands its stdio to
/// the container, which would hold a pipe open for as long as it lives.
pub fn runc(args: &[&str]) {
    let log = tempfile::NamedTempFile::new().expect("a temporary file");
    let status = Command::new("runc")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log.reopen().expect("the log file reopens"))
        .status()
        .expect("runc runs");
    let stderr = std::fs::read_to_string(log.path()).unwrap_or_default();
    assert!(status.success(), "runc {args:?}: {stderr}");
}

/// Profiles a runc container selected by `select(id)`; the host runs the workload at
/// the same time, and none of it may appear.
fn profile_container(id: &str, select: impl FnOnce(&str) -> Vec<String>) -> SyscallProfile {
    let dir = scratch();
    let bundle = busybox_bundle(
        dir.path(),
        id,
        "i=0; while [ $i -lt 5 ]; do cat /proc/self/status > /dev/null; i=$((i+1)); done",
    );
    let _ = Command::new("runc")
        .args(["delete", "--force", id])
        .output();
    runc(&["create", "--bundle", bundle.to_str().unwrap(), id]);
    let out = dir.path().join("container.sandprof.json");
    let mut args = vec![
        "profile".to_owned(),
        "--out".to_owned(),
        out.display().to_string(),
    ];
    args.extend(select(id));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (mut tracer, _stderr) = start_sandprof(&args);
    let host = Command::new(workload_bin())
        .args(["getppid", "4321"])
        .stdout(Stdio::null())
        .status()
        .expect("the host workload runs");
    assert!(host.success());
    runc(&["start", id]);
    let status = tracer.wait().expect("sandprof ends");
    runc(&["delete", "--force", id]);
    remove_e2e_parent();
    assert!(status.success(), "{status:?}");
    read_profile(&out)
}

/// Removes the `sandprof-e2e` parent cgroup runc made in every hierarchy, once its
/// container's own cgroup is gone (an empty directory only; the kernel refuses others,
/// so the last container test to finish removes it).
pub fn remove_e2e_parent() {
    // What cannot be removed yet is another container test's, which removes it.
    let _ = Hierarchies::of_this_process().remove("/sandprof-e2e");
}

fn assert_container_only(p: &SyscallProfile) {
    assert_eq!(
        signature_calls(p, "openat", "path", &str_value("/proc/self/status")),
        5,
        "{:#?}",
        p.signatures
    );
    // busybox's shell runs `cat` in a forked child without exec, so the container's only
    // executable is /bin/sh; the others are runc's own init, which was in the cgroup
    // already (`runc create`) and re-executes itself through /proc/self/exe.
    let paths: Vec<&str> = p.executables.iter().map(|e| e.path.as_str()).collect();
    assert!(paths.contains(&"/bin/sh"), "{paths:?}");
    for path in &paths {
        assert!(
            *path == "/bin/sh" || *path == "/proc/self/exe" || path.starts_with("[runc"),
            "not the container's: {path} in {paths:?}"
        );
    }
    let sh = p
        .executables
        .iter()
        .find(|e| e.path == "/bin/sh")
        .expect("/bin/sh")
        .id;
    let sh_processes = p
        .processes
        .iter()
        .filter(|proc| proc.executables.contains(&sh))
        .count();
    assert_eq!(
        sh_processes, 6,
        "the shell and its five forks: {:#?}",
        p.processes
    );
    assert_eq!(
        calls(p, "/bin/sh", "fork") + calls(p, "/bin/sh", "vfork") + calls(p, "/bin/sh", "clone"),
        5
    );
    assert_eq!(p.lost.total(), 0);
}

#[test]
fn runc_container_by_cgroup() {
    if !privileged("runc_container_by_cgroup") || !tool("runc_container_by_cgroup", "runc") {
        return;
    }
    let _serial = serial();
    let id = unique("sandprof-cg");
    let cgroup = cgroup2_root()
        .expect("a cgroup v2 hierarchy")
        .join("sandprof-e2e")
        .join(&id);
    let p = profile_container(&id, |_| {
        vec!["--cgroup".to_owned(), cgroup.display().to_string()]
    });
    assert_container_only(&p);
    assert_eq!(
        p.captures[0].target,
        Target::Cgroup {
            path: cgroup.display().to_string()
        }
    );
}

#[test]
fn runc_container_by_id() {
    if !privileged("runc_container_by_id") || !tool("runc_container_by_id", "runc") {
        return;
    }
    let _serial = serial();
    let id = unique("sandprof-id");
    let p = profile_container(&id, |id| vec!["--container".to_owned(), id.to_owned()]);
    assert_container_only(&p);
    let cgroup = cgroup2_root()
        .expect("a cgroup v2 hierarchy")
        .join("sandprof-e2e")
        .join(&id);
    assert_eq!(
        p.captures[0].target,
        Target::Container {
            id: id.clone(),
            cgroup: cgroup.display().to_string()
        }
    );
}

#[test]
fn user_runs_the_command_unprivileged() {
    if !privileged("user_runs_the_command_unprivileged") {
        return;
    }
    let _serial = serial();
    let (run, p) = traced(&["--user", "65534:65534"], &["/usr/bin/id", "-u"]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&run.stdout), "65534\n");
    // The user switch happened before the probe followed the command: only the
    // command's own calls are there, starting with its execve.
    assert_eq!(calls(&p, "/usr/bin/id", "execve"), 1);
    assert_eq!(calls(&p, "/usr/bin/id", "setuid"), 0);
    match &p.captures[0].target {
        Target::Command { user, .. } => assert_eq!(user.as_deref(), Some("65534:65534")),
        other => panic!("target is {other:?}"),
    }
}

#[test]
fn thousands_of_children_running_a_static_binary() {
    if !privileged("thousands_of_children_running_a_static_binary")
        || !tool("thousands_of_children", "busybox")
    {
        return;
    }
    let _serial = serial();
    let script = "i=0; while [ $i -lt 2000 ]; do /bin/busybox true; i=$((i+1)); done";
    let (run, p) = traced(&[], &["/bin/sh", "-c", script]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(p.lost, LostCounts::default());
    assert_eq!(calls(&p, "/bin/busybox", "exit_group"), 2000);
    // Each child's execve returns in the new image and counts under the shell.
    assert_eq!(calls(&p, "/bin/sh", "execve"), 2001);
    assert_eq!(p.processes.len(), 2001);
    let busybox = p
        .executables
        .iter()
        .find(|e| e.path == "/bin/busybox")
        .expect("busybox ran");
    match &busybox.format {
        sandprof::profile::BinaryFormat::Elf {
            bits, is_static, ..
        } => {
            assert_eq!((*bits, *is_static), (64, true))
        }
        other => panic!("busybox is {other:?}"),
    }
}

/// The scenario: 40,000 distinct paths fill a signature map of 32,768 entries
/// before the workload lists /sys/class/net. What could not be recorded is counted, by
/// syscall, exactly; with room for them (the default), nothing is lost.
#[test]
fn full_signature_maps_are_counted_exactly_and_max_signatures_sizes_them() {
    if !privileged("full_signature_maps_are_counted_exactly_and_max_signatures_sizes_them") {
        return;
    }
    let _serial = serial();
    let workload = workload_bin();
    let command = [workload.to_str().unwrap(), "stat-paths", "40000"];
    let stat_paths = |p: &SyscallProfile| -> u64 {
        p.signatures
            .iter()
            .filter(|s| s.syscall == "newfstatat")
            .filter(|s| {
                matches!(s.fields.get("path"), Some(FieldValue::Str(path))
                    if path.starts_with("/dev/sandprof-stat-"))
            })
            .map(|s| {
                assert_eq!(s.calls, 1, "{s:?}");
                s.calls
            })
            .sum()
    };
    let net = str_value("/sys/class/net");

    let (run, full) = traced(&["--max-signatures", "32768"], &command);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let lost = &full.lost;
    assert!(lost.signature_map_full > 0, "{lost:?}");
    assert_eq!(
        lost.signature_map_full_by_syscall.values().sum::<u64>(),
        lost.signature_map_full
    );
    // Each stat is either a recorded signature or a lost one, and the listing, made
    // once the map is full, is lost too.
    assert_eq!(
        stat_paths(&full) + lost.signature_map_full_by_syscall["newfstatat"],
        40_000
    );
    assert_eq!(signature_calls(&full, "openat", "path", &net), 0);
    assert!(
        lost.signature_map_full_by_syscall["openat"] >= 1,
        "{lost:?}"
    );
    assert_eq!(
        String::from_utf8_lossy(&run.stderr),
        format!(
            "sandprof: warning: {} calls' arguments were not recorded: the signature maps \
             were full (32768 entries each); capture again with --max-signatures 131072\n",
            lost.signature_map_full
        )
    );

    let (run, roomy) = traced(&[], &command);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(roomy.lost.signature_map_full, 0);
    assert!(roomy.lost.signature_map_full_by_syscall.is_empty());
    assert_eq!(stat_paths(&roomy), 40_000);
    assert_eq!(signature_calls(&roomy, "openat", "path", &net), 1);
}
