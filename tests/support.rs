//! Shared helpers of the end-to-end tests: finding the binaries, gating on root, running
//! sandprof and reading what it wrote.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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

/// Names of the programs currently loaded in the kernel, from `bpftool`.
pub fn loaded_programs() -> Vec<String> {
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
                .filter_map(|p| p.get("name").and_then(|n| n.as_str()).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Program names of sandprof's probe as the kernel keeps them (the first 15 bytes).
pub const PROBE_PROGRAMS: [&str; 4] = [
    "syscalls_sys_en",
    "syscalls_sys_ex",
    "task_newtask",
    "sched_process_e",
];
