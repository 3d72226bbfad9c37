//! The four measured workloads and the files they need: a syscall loop, an
//! open/read/close loop, a fork/exec-heavy shell script, and `tar` of a file tree that
//! is created here, the same on every machine.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::host::Programs;

/// How a workload reports the time it took, from inside the traced command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timing {
    /// It prints `X ns/call` for its own loop (process start and exit excluded).
    NsPerCall,
    /// It runs under `sandprof-workload time`, which prints `X ns` for the whole command.
    TotalNs,
}

/// What a workload stands for in the targets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// The cheapest syscall in a loop: the per-call cost of tracing, nothing else.
    #[value(name = "getppid")]
    SyscallLoop,
    /// A file-heavy loop.
    OpenReadClose,
    /// Process creation: fork, exec, exit, each a tracer event beyond the syscalls.
    ForkExec,
    /// A realistic command, whose wall time (start-up included) is what a user waits.
    #[value(name = "tar")]
    Realistic,
}

/// One measured workload.
#[derive(Debug)]
pub struct Workload {
    /// What it stands for.
    pub kind: Kind,
    /// Row label in the results.
    pub label: String,
    /// The command, without the iteration count for loops (see [`Workload::argv`]).
    argv: Vec<OsString>,
    /// Whether the iteration count is appended to `argv`.
    takes_count: bool,
    /// How it reports its time.
    pub timing: Timing,
    /// Iterations of the measured loop under the eBPF tracers and untraced.
    pub iterations: u64,
    /// Iterations under strace (fewer for the loops, which strace slows ~1000×).
    pub strace_iterations: u64,
    /// Syscalls each iteration makes exactly once.
    pub per_iteration: &'static [&'static str],
}

impl Workload {
    /// The command line for `iterations` iterations.
    pub fn argv(&self, iterations: u64) -> Vec<OsString> {
        let mut argv = self.argv.clone();
        if self.takes_count {
            argv.push(iterations.to_string().into());
        }
        argv
    }
}

/// Sizes of the workloads.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    /// getppid calls.
    pub getppid: u64,
    /// getppid calls under strace.
    pub strace_getppid: u64,
    /// open/read/close iterations.
    pub open_read_close: u64,
    /// open/read/close iterations under strace.
    pub strace_open_read_close: u64,
    /// `/bin/true` runs of the shell loop.
    pub fork_exec: u64,
    /// Files in the tree that `tar` archives.
    pub tar_files: u32,
}

/// Files per leaf directory of the tar tree; the tree is two levels of 20 directories.
const FILES_PER_DIR: u32 = 50;
const DIRS_PER_LEVEL: u32 = 20;

/// Creates the files the workloads need under `dir` and returns the workloads.
pub fn prepare(dir: &Path, programs: &Programs, sizes: Sizes) -> anyhow::Result<Vec<Workload>> {
    let workload = programs.workload.as_os_str().to_owned();
    let script = dir.join("fork_exec.sh");
    let true_path = Path::new("/bin/true");
    fs::write(&script, fork_exec_script(true_path, sizes.fork_exec))
        .with_context(|| format!("failed to write {}", script.display()))?;
    let tree = create_tree(&dir.join("tree"), sizes.tar_files)?;
    let archive = dir.join("tree.tar");
    let time = |command: Vec<OsString>| {
        let mut argv = vec![workload.clone(), "time".into()];
        argv.extend(command);
        argv
    };
    Ok(vec![
        Workload {
            kind: Kind::SyscallLoop,
            label: format!("getppid loop ×{}", thousands(sizes.getppid)),
            argv: vec![workload.clone(), "getppid".into()],
            takes_count: true,
            timing: Timing::NsPerCall,
            iterations: sizes.getppid,
            strace_iterations: sizes.strace_getppid,
            per_iteration: &["getppid"],
        },
        Workload {
            kind: Kind::OpenReadClose,
            label: format!("open/read/close loop ×{}", thousands(sizes.open_read_close)),
            argv: time(vec![workload.clone(), "open-read-close".into()]),
            takes_count: true,
            timing: Timing::TotalNs,
            iterations: sizes.open_read_close,
            strace_iterations: sizes.strace_open_read_close,
            // The loop opens with open(2), which libc issues as openat.
            per_iteration: &["openat", "read", "close"],
        },
        Workload {
            kind: Kind::ForkExec,
            label: format!(
                "`sh` loop running `{}` ×{}",
                true_path.display(),
                thousands(sizes.fork_exec)
            ),
            argv: time(vec![programs.sh.clone().into(), script.into()]),
            takes_count: false,
            timing: Timing::TotalNs,
            iterations: sizes.fork_exec,
            strace_iterations: sizes.fork_exec,
            per_iteration: &[],
        },
        Workload {
            kind: Kind::Realistic,
            label: format!(
                "`tar -cf` of {} files ({} MiB) in {} directories",
                thousands(u64::from(tree.files)),
                tree.bytes >> 20,
                tree.dirs
            ),
            argv: time(vec![
                programs.tar.clone().into(),
                "-cf".into(),
                archive.into(),
                "-C".into(),
                dir.into(),
                "tree".into(),
            ]),
            takes_count: false,
            timing: Timing::TotalNs,
            iterations: 1,
            strace_iterations: 1,
            per_iteration: &[],
        },
    ])
}

/// A POSIX shell loop that runs `program` `runs` times using builtins only, so that the
/// only processes are the shell and `program`.
fn fork_exec_script(program: &Path, runs: u64) -> String {
    format!(
        "i=0\nwhile [ \"$i\" -lt {runs} ]; do\n    {}\n    i=$((i + 1))\ndone\n",
        program.display()
    )
}

/// What [`create_tree`] made.
#[derive(Debug, PartialEq, Eq)]
struct Tree {
    files: u32,
    dirs: u32,
    bytes: u64,
}

/// Creates `files` files (at most 20×20×50) under `root`, 50 per directory, in up to 20
/// directories of 20 directories; file `n` holds `n * 409 % 8192` bytes of a pattern
/// derived from `n`. The archive `tar` writes is therefore the same on every machine and
/// every run.
fn create_tree(root: &Path, files: u32) -> anyhow::Result<Tree> {
    let capacity = DIRS_PER_LEVEL * DIRS_PER_LEVEL * FILES_PER_DIR;
    anyhow::ensure!(
        (1..=capacity).contains(&files),
        "the tar tree holds 1 to {capacity} files, not {files}"
    );
    let mut bytes = 0u64;
    for n in 0..files {
        let leaf = n / FILES_PER_DIR;
        let dir: PathBuf = root
            .join(format!("d{:02}", leaf / DIRS_PER_LEVEL))
            .join(format!("e{:02}", leaf % DIRS_PER_LEVEL));
        if n % FILES_PER_DIR == 0 {
            fs::create_dir_all(&dir)
                .with_context(|| format!("failed to create {}", dir.display()))?;
        }
        let size = (n as usize * 409) % 8192;
        let content: Vec<u8> = (0..size).map(|i| (i as u32 ^ n) as u8).collect();
        let path = dir.join(format!("f{:02}", n % FILES_PER_DIR));
        fs::write(&path, &content)
            .with_context(|| format!("failed to write {}", path.display()))?;
        bytes += size as u64;
    }
    let leaves = files.div_ceil(FILES_PER_DIR);
    Ok(Tree {
        files,
        dirs: leaves + leaves.div_ceil(DIRS_PER_LEVEL),
        bytes,
    })
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(2_000_000), "2,000,000");
    }

    #[test]
    fn fork_exec_script_uses_builtins_only() {
        assert_eq!(
            fork_exec_script(Path::new("/bin/true"), 3),
            "i=0\nwhile [ \"$i\" -lt 3 ]; do\n    /bin/true\n    i=$((i + 1))\ndone\n"
        );
    }

    #[test]
    fn tree_layout_and_sizes() {
        let dir = tempfile::tempdir().unwrap();
        let tree = create_tree(dir.path(), 51).unwrap();
        // Sizes n * 409 % 8192 for n in 0..51; leaves d00/e00 and d00/e01 under d00.
        let bytes = (0..51u64).map(|n| n * 409 % 8192).sum::<u64>();
        assert_eq!(
            tree,
            Tree {
                files: 51,
                dirs: 3,
                bytes
            }
        );
        let last = dir.path().join("d00").join("e01").join("f00");
        assert_eq!(fs::metadata(&last).unwrap().len(), 50 * 409 % 8192);
        assert_eq!(fs::read(&last).unwrap()[..3], [50, 51, 48]);
    }
}
