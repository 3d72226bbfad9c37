//! Shared helpers of the end-to-end tests: finding the binaries, gating on root, running
//! sandprof and reading what it wrote.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard};

use sandprof::profile::{io as profile_io, SyscallProfile};

/// The `sandprof` binary of this build: next to the test executable's `deps` folder.
/// `cargo xtask test` builds it first; a missing binary is a loud failure.
pub fn sandprof_bin() -> PathBuf {
    if let Some(path) = std::env::var_os("SANDPROF_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("the test executable has a path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("tests run from target/<profile>/deps");
    let bin = dir.join("sandprof");
    assert!(
        bin.is_file(),
        "{} is missing: build it first (`cargo build -p profiler`, which `cargo xtask test` does)",
        bin.display()
    );
    bin
}

/// The purpose-built workload.
pub fn workload_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_sandprof-workload"))
}

/// Whether a test that needs root may run. Under `CI=true` a missing privilege is a
/// failure, never a silent skip; elsewhere the test says why it skips.
pub fn privileged(test: &str) -> bool {
    // SAFETY: geteuid has no failure mode.
    if unsafe { libc::geteuid() } == 0 {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{test} needs root (eBPF, runc); CI must run the tests as root");
    }
    eprintln!("skipping {test}: it needs root (eBPF); run `sudo -E cargo xtask test`");
    false
}

/// Whether a command is on PATH; under `CI=true` its absence is a failure.
pub fn tool(test: &str, name: &str) -> bool {
    let found = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|d| d.join(name).is_file()))
        .unwrap_or(false);
    if !found {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{test} needs `{name}`; .ci/run installs it");
        }
        eprintln!("skipping {test}: `{name}` is not installed (`cargo xtask setup` installs it)");
    }
    found
}

/// A scratch directory removed at the end of the test.
pub fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("sandprof-test-")
        .tempdir()
        .expect("a temporary directory")
}

/// Runs `sandprof` with `args` and returns its output.
pub fn sandprof(args: &[&str]) -> Output {
    Command::new(sandprof_bin())
        .args(args)
        .output()
        .expect("sandprof runs")
}

/// Reads a profile sandprof wrote, through the same reader users get.
pub fn read_profile(path: &Path) -> SyscallProfile {
    profile_io::read(path)
        .unwrap_or_else(|e| panic!("{} is not a valid profile: {e:#}", path.display()))
}

/// Calls of `syscall` (native ABI) by executables whose path ends with `exe_suffix`.
pub fn calls(profile: &SyscallProfile, exe_suffix: &str, syscall: &str) -> u64 {
    let exes: Vec<u32> = profile
        .executables
        .iter()
        .filter(|e| e.path.ends_with(exe_suffix))
        .map(|e| e.id)
        .collect();
    profile
        .syscalls
        .iter()
        .filter(|s| s.name == syscall && exes.contains(&s.executable))
        .filter(|s| s.abi == sandprof::profile::Abi::Native)
        .map(|s| s.calls)
        .sum()
}

/// Every program loaded in the kernel, by id, with its name, from `bpftool`. Other
/// tracers may be loaded at the same time: look at the ids a process held.
pub fn loaded_programs() -> BTreeMap<u32, String> {
    let out = Command::new("bpftool")
        .args(["prog", "list", "--json"])
        .output()
        .expect("bpftool runs");
    assert!(
        out.status.success(),
        "bpftool failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).expect("bpftool prints JSON");
    list.as_array()
        .map(|progs| {
            progs
                .iter()
                .filter_map(|p| {
                    let id = u32::try_from(p.get("id")?.as_u64()?).ok()?;
                    let name = p.get("name").and_then(|n| n.as_str()).unwrap_or("");
                    Some((id, name.to_owned()))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Ids of the BPF programs process `pid` holds open: its `anon_inode:bpf-prog`
/// descriptors and the programs of its `bpf-link` descriptors, from `fdinfo`.
pub fn held_programs(pid: u32) -> BTreeSet<u32> {
    let mut ids = BTreeSet::new();
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fdinfo")) else {
        return ids;
    };
    for fd in fds.flatten() {
        let Ok(info) = std::fs::read_to_string(fd.path()) else {
            continue;
        };
        if let Some(id) = info
            .lines()
            .find_map(|l| l.strip_prefix("prog_id:"))
            .and_then(|v| v.trim().parse().ok())
        {
            ids.insert(id);
        }
    }
    ids
}

/// Program names of sandprof's probe as the kernel keeps them (the first 15 bytes).
pub const PROBE_PROGRAMS: [&str; 4] = [
    "syscalls_sys_en",
    "syscalls_sys_ex",
    "task_newtask",
    "sched_process_e",
];

/// Checks that sandprof process `pid`, while tracing, holds every probe program, and
/// returns their ids, to check later that they are gone.
pub fn probe_programs_of(pid: u32) -> BTreeSet<u32> {
    let held = held_programs(pid);
    let loaded = loaded_programs();
    let names: BTreeSet<&str> = held
        .iter()
        .filter_map(|id| loaded.get(id).map(String::as_str))
        .collect();
    for name in PROBE_PROGRAMS {
        assert!(
            names.contains(name),
            "sandprof {pid} does not hold {name} while tracing: {names:?}"
        );
    }
    held
}

/// Fails if any of the programs `ids` is still loaded a few seconds after sandprof
/// exited. The kernel frees a detached raw-tracepoint program after an RCU grace
/// period, not at once: a program can be listed for some milliseconds after its last
/// descriptor closed.
pub fn assert_unloaded(ids: &BTreeSet<u32>) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let loaded = loaded_programs();
        let left: Vec<_> = ids
            .iter()
            .filter_map(|id| loaded.get_key_value(id))
            .collect();
        if left.is_empty() {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still loaded 5 s after sandprof exited: {left:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

static SERIAL: Mutex<()> = Mutex::new(());

/// Runs tracer tests one at a time: each loads the probe on the shared syscall
/// tracepoints, and two at once on two cores would measure each other's load.
pub fn serial() -> MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A name no other test, run or engineer on this machine uses at the same time.
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{prefix}-{}-{nanos:09}", std::process::id())
}

/// Starts `sandprof` with `args` (not quiet) and returns once it says it is tracing,
/// with the lines it printed up to there and a receiver of the lines that follow.
pub fn start_sandprof(args: &[&str]) -> (Child, std::sync::mpsc::Receiver<String>) {
    let mut child = Command::new(sandprof_bin())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sandprof starts");
    let stderr = child.stderr.take().expect("piped stderr");
    let lines = wait_for_tracing(stderr, || {
        let status = child.wait();
        format!("{status:?}")
    });
    (child, lines)
}

/// Reads `stderr` until sandprof says it is tracing, then hands the following lines to
/// the returned receiver from a thread (so sandprof never blocks on a full pipe).
pub fn wait_for_tracing(
    stderr: impl std::io::Read + Send + 'static,
    on_early_end: impl FnOnce() -> String,
) -> std::sync::mpsc::Receiver<String> {
    let mut lines = BufReader::new(stderr).lines();
    let mut said = Vec::new();
    loop {
        match lines.next() {
            Some(Ok(line)) if line.starts_with("sandprof: tracing ") => break,
            Some(Ok(line)) => said.push(line),
            _ => panic!(
                "sandprof stopped before tracing ({}): {}",
                on_early_end(),
                said.join("\n")
            ),
        }
    }
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    rx
}

/// Runs `sandprof profile -q [options] --out FILE -- command…` and returns its output
/// with the profile it wrote. Whether the run succeeded is the caller's to check.
pub fn traced(options: &[&str], command: &[&str]) -> (std::process::Output, SyscallProfile) {
    let dir = scratch();
    let out = dir.path().join("traced.sandprof.json");
    let run = Command::new(sandprof_bin())
        .args(["profile", "-q"])
        .args(options)
        .arg("--out")
        .arg(&out)
        .arg("--")
        .args(command)
        .output()
        .expect("sandprof runs");
    if !out.exists() {
        panic!(
            "sandprof wrote no profile ({}): {}",
            run.status,
            String::from_utf8_lossy(&run.stderr)
        );
    }
    let profile = read_profile(&out);
    (run, profile)
}

/// What a run of sandprof whose host resources are named `prefix…` could leave behind:
/// its temporary directories, cgroups and mounts. Compared before and after a run;
/// other users of the machine may add their own meanwhile, so a test asserts that
/// nothing new is left.
pub fn leftovers(prefix: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let dirs = [
        std::env::temp_dir(),
        PathBuf::from("/sys/fs/cgroup/unified"),
        PathBuf::from("/sys/fs/cgroup/memory"),
        PathBuf::from("/sys/fs/cgroup"),
    ];
    for dir in dirs {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(prefix) {
                out.insert(format!("{}/{name}", dir.display()));
            }
        }
    }
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    for line in mounts.lines().filter(|l| l.contains(prefix)) {
        out.insert(format!("mount {line}"));
    }
    out
}
