//! `cargo xtask setup`: installs what building and testing sandprof needs on a fresh
//! machine, saying what it installs: Debian packages (runc, runsc, containerd,
//! busybox-static, bpftool, bpftrace, strace, and the programs of `sandprof try`'s
//! calibration corpus), the nightly `rust-src` component and bpf-linker 0.10.0 (the
//! newest that links with rustc's own LLVM; later ones need a system LLVM 23). What is
//! already there is left alone.

use std::process::Command;

use anyhow::{bail, Context as _};

use crate::cmd::{run, succeeds};

/// Options of `cargo xtask setup`.
#[derive(Debug, Default, clap::Args)]
pub struct Options {}

/// Debian packages and the command each provides (checked before installing).
const PACKAGES: [(&str, &str); 26] = [
    ("runc", "runc"),
    // gVisor (release 20221219.0 on Debian 12): the ground truth `sandprof try` and
    // `sandprof bench` run workloads under, and the source of real runsc logs.
    ("runsc", "runsc"),
    // `containerd --config F config dump` checks the node configuration sandprof writes.
    ("containerd", "containerd"),
    ("busybox-static", "busybox"),
    ("bpftool", "bpftool"),
    ("bpftrace", "bpftrace"),
    ("strace", "strace"),
    // The calibration corpus of `sandprof try` (tests/corpus/corpus.toml): services
    // started and exercised over loopback inside the container, and everyday tools.
    ("nginx-light", "nginx"),
    ("redis-server", "redis-server"),
    ("memcached", "memcached"),
    ("postgresql", "pg_ctlcluster"),
    ("nodejs", "node"),
    ("python3", "python3"),
    ("curl", "curl"),
    ("sqlite3", "sqlite3"),
    ("openssl", "openssl"),
    ("procps", "ps"),
    ("iproute2", "ip"),
    ("util-linux", "ionice"),
    ("gdb", "gdb"),
    ("stress-ng", "stress-ng"),
    ("fio", "fio"),
    ("linux-perf", "perf"),
    ("keyutils", "keyctl"),
    ("libcap2-bin", "capsh"),
    ("mawk", "mawk"),
];

/// The bpf-linker release that works with this machine's toolchains.
pub const BPF_LINKER_VERSION: &str = "0.10.0";

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

fn apt_packages() -> anyhow::Result<()> {
    let missing: Vec<&str> = PACKAGES
        .iter()
        .filter(|(_, program)| {
            !on_path(program) && !std::path::Path::new("/bin").join(program).exists()
        })
        .map(|(package, _)| *package)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    if !is_root() {
        bail!(
            "missing Debian packages: {}; install them with `sudo apt-get update && sudo apt-get install -y {}`",
            missing.join(" "),
            missing.join(" ")
        );
    }
    eprintln!("setup: installing Debian packages: {}", missing.join(" "));
    run(Command::new("apt-get").args(["update", "-qq"]))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(&missing)
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

fn rust_src() -> anyhow::Result<()> {
    let installed = Command::new("rustup")
        .args(["component", "list", "--toolchain", "nightly", "--installed"])
        .output()
        .context(
            "failed to run rustup; sandprof's eBPF side needs rustup with a nightly toolchain",
        )?;
    if !installed.status.success() {
        bail!(
            "no nightly toolchain: install it with `rustup toolchain install nightly --profile minimal`"
        );
    }
    if String::from_utf8_lossy(&installed.stdout)
        .lines()
        .any(|l| l.starts_with("rust-src"))
    {
        return Ok(());
    }
    eprintln!("setup: installing the nightly rust-src component (the eBPF build rebuilds core)");
    run(Command::new("rustup").args(["component", "add", "rust-src", "--toolchain", "nightly"]))
}

fn bpf_linker() -> anyhow::Result<()> {
    let version = Command::new("bpf-linker").arg("--version").output();
    if let Ok(out) = &version {
        if String::from_utf8_lossy(&out.stdout).contains(BPF_LINKER_VERSION) {
            return Ok(());
        }
    }
    eprintln!("setup: installing bpf-linker {BPF_LINKER_VERSION} (links the eBPF object)");
    run(Command::new("cargo").args([
        "install",
        &format!("bpf-linker@{BPF_LINKER_VERSION}"),
        "--locked",
    ]))
}

/// Runs the set-up.
pub fn run_setup(_opts: Options) -> anyhow::Result<()> {
    apt_packages()?;
    rust_src()?;
    bpf_linker()?;
    if !succeeds(Command::new("bpf-linker").arg("--version")) {
        bail!("bpf-linker is installed but does not run; is ~/.cargo/bin on PATH?");
    }
    Ok(())
}
