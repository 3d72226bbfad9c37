//! The workload programs of the suite, run inside the container by the hidden
//! `sandprof bench-workload` subcommand (sandprof's own executable, bind-mounted
//! read-only into the container, so nothing is compiled or downloaded at run time).
//! Each times its own loop with the monotonic clock, so the runtime's start-up is not
//! in the figure, and prints one JSON [`Sample`] per line on standard output.
//!
//! The programs call the kernel directly (`libc`) where the figure is the cost of one
//! kind of call, so that no library caching or batching stands between the loop and
//! the runtime.

use std::ffi::CString;
use std::fs::File;
use std::hint::black_box;
use std::io::{self, Read as _, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::ffi::OsStrExt as _;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use serde::{Deserialize, Serialize};

use super::suite::{MetricId, Work};

/// The small file of the `small_file` figure: on every Debian-like root file system.
pub const SMALL_FILE: &str = "/etc/passwd";
const MIB: usize = 1 << 20;
const PAGE: usize = 4096;
/// The size of one mapping of the page-fault figure.
const MAPPING: usize = 4 * MIB;

/// One measured value of one figure, in the figure's unit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Which figure.
    pub metric: MetricId,
    /// Its value.
    pub value: f64,
}

fn per(elapsed: Duration, count: u64) -> f64 {
    elapsed.as_secs_f64() * 1e6 / count.max(1) as f64
}

fn rate(mib: u64, elapsed: Duration) -> f64 {
    mib as f64 / elapsed.as_secs_f64().max(1e-9)
}

/// Runs every micro-benchmark once with `work`, writing one sample per line to `out`.
/// `disk` is a writable directory on the host's disk; `exec` a static binary that
/// runs `true` when called so.
pub fn micro(work: &Work, disk: &Path, exec: &Path, out: &mut dyn Write) -> anyhow::Result<()> {
    let mut emit = |metric: MetricId, value: f64| -> anyhow::Result<()> {
        let line = serde_json::to_string(&Sample { metric, value })?;
        writeln!(out, "{line}")?;
        out.flush()?;
        Ok(())
    };
    emit(MetricId::Syscall, syscalls(work.syscalls))?;
    emit(MetricId::SmallFile, small_files(work.small_files)?)?;
    emit(MetricId::ForkExec, fork_exec(exec, work.execs)?)?;
    emit(MetricId::Spawn, spawn(exec, work.execs)?)?;
    emit(MetricId::Thread, threads(work.threads)?)?;
    emit(MetricId::PageFault, page_faults(work.mappings)?)?;
    emit(MetricId::CpuHash, cpu_hash(work.hash_mib))?;
    let (write, read) = file_throughput(disk, work.file_mib)?;
    emit(MetricId::DiskWrite, write)?;
    emit(MetricId::DiskRead, read)?;
    let (write, read) = file_throughput(Path::new("/tmp"), work.file_mib)?;
    emit(MetricId::TmpfsWrite, write)?;
    emit(MetricId::TmpfsRead, read)?;
    emit(MetricId::TcpThroughput, tcp_throughput(work.tcp_mib)?)?;
    emit(MetricId::TcpLatency, tcp_latency(work.round_trips)?)?;
    Ok(())
}

/// µs per `getppid`.
fn syscalls(count: u64) -> f64 {
    let start = Instant::now();
    for _ in 0..count {
        // SAFETY: getppid takes no arguments and cannot fail.
        black_box(unsafe { libc::syscall(libc::SYS_getppid) });
    }
    per(start.elapsed(), count)
}

/// µs per stat, open, read and close of [`SMALL_FILE`].
fn small_files(count: u64) -> anyhow::Result<f64> {
    let mut buf = [0u8; PAGE];
    let start = Instant::now();
    for _ in 0..count {
        std::fs::metadata(SMALL_FILE).with_context(|| format!("cannot stat {SMALL_FILE}"))?;
        let mut file = File::open(SMALL_FILE)?;
        black_box(file.read(&mut buf)?);
    }
    Ok(per(start.elapsed(), count))
}

/// µs per fork, execve of `exec` as `true`, and waitpid.
fn fork_exec(exec: &Path, count: u64) -> anyhow::Result<f64> {
    let program = CString::new(exec.as_os_str().as_bytes())?;
    let arg0 = CString::new("true")?;
    let argv = [arg0.as_ptr(), std::ptr::null()];
    let start = Instant::now();
    for _ in 0..count {
        // SAFETY: this process has one thread, so the child may run anything; it only
        // calls execv with C strings built before the fork, and _exit.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // SAFETY: see above; execv returns only on failure.
            unsafe {
                libc::execv(program.as_ptr(), argv.as_ptr());
                libc::_exit(127);
            }
        }
        reap_true(pid, "fork", exec)?;
    }
    Ok(per(start.elapsed(), count))
}

/// What the child of [`spawn`] runs: the program and its argument vector, built before
/// the clone so that the child allocates nothing.
struct Exec {
    program: CString,
    argv: [*const libc::c_char; 2],
}

/// The child of [`spawn`]: runs on its own stack in the parent's address space until
/// execve replaces it.
extern "C" fn exec_child(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the `Exec` that `spawn` keeps alive, and does not touch, until
    // the child has called execve or exited (CLONE_VFORK suspends the parent).
    let exec = unsafe { &*arg.cast::<Exec>() };
    // SAFETY: the program and argv are NUL-terminated C strings and a NULL-terminated
    // vector; execv returns only on failure, and _exit ends the child without running
    // anything of the parent's.
    unsafe {
        libc::execv(exec.program.as_ptr(), exec.argv.as_ptr());
        libc::_exit(127)
    }
}

/// µs per vfork-style clone, execve of `exec` as `true`, and waitpid: how shells,
/// posix_spawn, Go and Python start programs, without copying the parent.
fn spawn(exec: &Path, count: u64) -> anyhow::Result<f64> {
    const STACK: usize = 64 * 1024;
    let program = CString::new(exec.as_os_str().as_bytes())?;
    let arg0 = CString::new("true")?;
    let mut child = Exec {
        argv: [arg0.as_ptr(), std::ptr::null()],
        program,
    };
    let mut stack = vec![0u8; STACK];
    let start = Instant::now();
    for _ in 0..count {
        // The stack grows down on every architecture sandprof runs on; its top, kept
        // 16-byte aligned.
        let top = (stack.as_mut_ptr() as usize + STACK) & !15;
        // SAFETY: the child runs `exec_child` on `stack`, which outlives it (the parent
        // is suspended until the child execs or exits); it reads only `child`.
        let pid = unsafe {
            libc::clone(
                exec_child,
                top as *mut libc::c_void,
                libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
                std::ptr::from_mut(&mut child).cast(),
            )
        };
        reap_true(pid, "clone(CLONE_VFORK)", exec)?;
    }
    Ok(per(start.elapsed(), count))
}

/// µs per thread created and joined.
fn threads(count: u64) -> anyhow::Result<f64> {
    let start = Instant::now();
    for _ in 0..count {
        std::thread::Builder::new()
            .spawn(|| black_box(0u64))
            .context("cannot create a thread")?
            .join()
            .map_err(|_| anyhow::anyhow!("a benchmark thread panicked"))?;
    }
    Ok(per(start.elapsed(), count))
}

/// Waits for the child `pid` that `call` returned to run `exec` as `true`, and checks
/// that it succeeded.
fn reap_true(pid: libc::pid_t, call: &str, exec: &Path) -> anyhow::Result<()> {
    if pid < 0 {
        return Err(io::Error::last_os_error()).with_context(|| format!("{call} failed"));
    }
    let status = wait(pid)?;
    if status != 0 {
        bail!("{} true exited with wait status {status}", exec.display());
    }
    Ok(())
}

/// Waits for child `pid`, returning its raw wait status.
fn wait(pid: libc::pid_t) -> anyhow::Result<i32> {
    let mut status = 0;
    loop {
        // SAFETY: status is a valid out-pointer.
        let rc = unsafe { libc::waitpid(pid, &mut status, 0) };
        if rc == pid {
            return Ok(status);
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err).context("waitpid failed");
        }
    }
}

/// Maps `bytes` of anonymous memory and writes one byte per page.
fn map_and_touch(bytes: usize) -> anyhow::Result<*mut u8> {
    // SAFETY: an anonymous private mapping; no existing memory is affected.
    let addr = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            bytes,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if addr == libc::MAP_FAILED {
        return Err(io::Error::last_os_error()).context("mmap failed");
    }
    let base = addr.cast::<u8>();
    for offset in (0..bytes).step_by(PAGE) {
        // SAFETY: offset is within the mapping just made, which is writable.
        unsafe { base.add(offset).write_volatile(1) };
    }
    Ok(base)
}

/// µs per page faulted in (mmap, one write per page, munmap).
fn page_faults(mappings: u64) -> anyhow::Result<f64> {
    let start = Instant::now();
    for _ in 0..mappings {
        let base = map_and_touch(MAPPING)?;
        // SAFETY: base is the start of a mapping of MAPPING bytes made above.
        if unsafe { libc::munmap(base.cast(), MAPPING) } != 0 {
            return Err(io::Error::last_os_error()).context("munmap failed");
        }
    }
    Ok(per(start.elapsed(), mappings * (MAPPING / PAGE) as u64))
}

/// MiB/s of FNV-1a over 64-bit words of a 4 MiB buffer: the fastest of the 16 MiB
/// stretches `mib` makes up. The fastest, not the mean, because this figure checks that
/// both runtimes get the same CPU; a stretch where another process of the node took
/// the CPU says nothing about the runtime.
fn cpu_hash(mib: u64) -> f64 {
    let words: Vec<u64> = (0..(4 * MIB / 8) as u64)
        .map(|i| i.wrapping_mul(0x9E37_79B9))
        .collect();
    let stretches = (mib / 16).max(1);
    let mut best = 0.0f64;
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for _ in 0..stretches {
        let start = Instant::now();
        for _ in 0..4 {
            for &w in black_box(&words) {
                hash = (hash ^ w).wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
        best = best.max(rate(16, start.elapsed()));
    }
    black_box(hash);
    best
}

/// MiB/s writing then reading a file of `mib` MiB in `dir`, in 1 MiB calls.
fn file_throughput(dir: &Path, mib: u64) -> anyhow::Result<(f64, f64)> {
    let path = dir.join(format!("sandprof-bench-{}", std::process::id()));
    let result = (|| -> anyhow::Result<(f64, f64)> {
        let chunk = vec![0x5au8; MIB];
        let start = Instant::now();
        let mut file = File::create(&path)?;
        for _ in 0..mib {
            file.write_all(&chunk)?;
        }
        drop(file);
        let write = rate(mib, start.elapsed());
        let mut buf = vec![0u8; MIB];
        let start = Instant::now();
        let mut file = File::open(&path)?;
        let mut total = 0usize;
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                break;
            }
            total += n;
        }
        let read = rate(mib, start.elapsed());
        anyhow::ensure!(
            total as u64 == mib * MIB as u64,
            "read {total} bytes back, wrote {mib} MiB"
        );
        Ok((write, read))
    })()
    .with_context(|| format!("file throughput on {}", dir.display()));
    let _ = std::fs::remove_file(&path);
    result
}

/// Forks a peer that accepts one connection on `listener` and runs `serve` on it.
fn fork_peer(
    listener: &TcpListener,
    serve: fn(TcpStream) -> io::Result<()>,
) -> anyhow::Result<i32> {
    // SAFETY: this process has one thread; the child only uses the listener it
    // inherited and leaves with _exit.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        let code = match listener.accept().and_then(|(s, _)| serve(s)) {
            Ok(()) => 0,
            Err(_) => 1,
        };
        // SAFETY: leaves the child without running the parent's destructors.
        unsafe { libc::_exit(code) };
    }
    if pid < 0 {
        return Err(io::Error::last_os_error()).context("fork failed");
    }
    Ok(pid)
}

fn sink(mut stream: TcpStream) -> io::Result<()> {
    let mut buf = vec![0u8; 64 * 1024];
    while stream.read(&mut buf)? != 0 {}
    stream.write_all(b"k")
}

fn echo(mut stream: TcpStream) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let mut byte = [0u8; 1];
    while stream.read(&mut byte)? == 1 {
        stream.write_all(&byte)?;
    }
    Ok(())
}

/// Ends a peer: its exit status must be 0.
fn reap(pid: i32) -> anyhow::Result<()> {
    let status = wait(pid)?;
    anyhow::ensure!(status == 0, "the TCP peer failed (wait status {status})");
    Ok(())
}

/// MiB/s sent to a peer process over loopback TCP in 64 KiB writes.
fn tcp_throughput(mib: u64) -> anyhow::Result<f64> {
    let listener = TcpListener::bind("127.0.0.1:0").context("cannot listen on 127.0.0.1")?;
    let peer = fork_peer(&listener, sink)?;
    let mut stream = TcpStream::connect(listener.local_addr()?)?;
    let chunk = vec![0xa5u8; 64 * 1024];
    let start = Instant::now();
    for _ in 0..mib * 16 {
        stream.write_all(&chunk)?;
    }
    stream.shutdown(Shutdown::Write)?;
    let mut ack = [0u8; 1];
    stream.read_exact(&mut ack)?;
    let elapsed = start.elapsed();
    reap(peer)?;
    Ok(rate(mib, elapsed))
}

/// µs per one-byte round trip with a peer process over loopback TCP.
fn tcp_latency(count: u64) -> anyhow::Result<f64> {
    let listener = TcpListener::bind("127.0.0.1:0").context("cannot listen on 127.0.0.1")?;
    let peer = fork_peer(&listener, echo)?;
    let mut stream = TcpStream::connect(listener.local_addr()?)?;
    stream.set_nodelay(true)?;
    let mut byte = [0u8; 1];
    let mut round_trip = |stream: &mut TcpStream| -> io::Result<()> {
        stream.write_all(b"p")?;
        stream.read_exact(&mut byte)
    };
    for _ in 0..10 {
        round_trip(&mut stream)?;
    }
    let start = Instant::now();
    for _ in 0..count {
        round_trip(&mut stream)?;
    }
    let elapsed = start.elapsed();
    stream.shutdown(Shutdown::Write)?;
    reap(peer)?;
    Ok(per(elapsed, count))
}

/// Holds `mib` MiB of touched anonymous memory, creates `ready`, and sleeps until
/// killed.
pub fn hold(mib: usize, ready: &Path) -> anyhow::Result<()> {
    if mib > 0 {
        map_and_touch(mib * MIB)?;
    }
    File::create(ready).with_context(|| format!("cannot create {}", ready.display()))?;
    loop {
        // SAFETY: pause takes no arguments; it returns when a signal is handled.
        unsafe { libc::pause() };
    }
}

/// Reads the samples a micro run printed.
pub fn parse_samples(text: &str) -> Result<Vec<Sample>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str(l).map_err(|e| format!("line {}: {e}: {l:?}", i + 1)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_parse_and_name_bad_lines() {
        let text =
            "{\"metric\":\"syscall\",\"value\":0.5}\n\n{\"metric\":\"cpu_hash\",\"value\":812.0}\n";
        assert_eq!(
            parse_samples(text).unwrap(),
            vec![
                Sample {
                    metric: MetricId::Syscall,
                    value: 0.5
                },
                Sample {
                    metric: MetricId::CpuHash,
                    value: 812.0
                },
            ]
        );
        let err = parse_samples("{\"metric\":\"syscall\",\"value\":1}\nnot json").unwrap_err();
        assert!(err.starts_with("line 2: "), "{err}");
    }
}
