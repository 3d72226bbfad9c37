//! runsc-log throughput on two generated logs, against `grep -c ' X '` (its output to a
//! pipe) on the same file.
//!
//! Generate once, then measure on one core:
//!
//! ```text
//! AYA_BUILD_SKIP=1 cargo build --release -p profiler --example runsc_log_bench
//! target/release/examples/runsc_log_bench generate strace DIR/strace.log 1024
//! target/release/examples/runsc_log_bench generate boot DIR/boot.log 1024
//! taskset -c 0 target/release/examples/runsc_log_bench measure DIR/strace.log
//! taskset -c 0 target/release/examples/runsc_log_bench measure DIR/boot.log
//! ```
//!
//! Results go in BENCHMARKS.md ("runsc-log"). `strace` is what an older runsc with
//! `--debug --strace` writes for a busy multi-threaded service: entry and exit lines of
//! everyday syscalls from 64 threads in 16 processes, with paths (some under /proc, /sys
//! and /dev, which the capture spec keeps), sockets, a few percent of failures, runsc's
//! unsupported-syscall reports, and long write buffers cut by `--strace-log-size`.
//! `boot` is a current runsc's full-boot debug log, one sandbox start after another
//! (see `runsc_log_bench/boot_log.rs`): mostly runsc's own messages, multi-line dumps and
//! timing tables, with the workload's strace lines after them.

#[path = "runsc_log_bench/boot_log.rs"]
mod boot_log;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context as _};
use sandprof::runsc_log::capture::CaptureSpec;
use sandprof::runsc_log::facts::FactsBuilder;
use sandprof::runsc_log::read::read_one;
use syscall_db::{Arch, Database};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("generate") => {
            let (Some(kind), Some(path), Some(mib)) = (args.get(2), args.get(3), args.get(4))
            else {
                bail!("usage: runsc_log_bench generate strace|boot OUT MIB");
            };
            let mib: u64 = mib.parse().context("MIB must be a number")?;
            generate(kind, Path::new(path), mib << 20)
        }
        Some("measure") => {
            let Some(path) = args.get(2) else {
                bail!("usage: runsc_log_bench measure FILE");
            };
            measure(Path::new(path))
        }
        _ => bail!("usage: runsc_log_bench generate strace|boot OUT MIB | measure FILE"),
    }
}

/// A small deterministic generator (xorshift64*), so every run writes the same log.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const COMMS: [&str; 16] = [
    "nginx",
    "php-fpm",
    "java",
    "python3",
    "node",
    "envoy",
    "redis-server",
    "postgres",
    "sh",
    "curl",
    "grpc-worker",
    "gc-thread",
    "logrotate",
    "sidecar",
    "healthcheck",
    "app",
];

fn generate(kind: &str, path: &Path, size: u64) -> anyhow::Result<()> {
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    match kind {
        "strace" => {}
        "boot" => {
            let written = boot_log::write(&mut out, size, &mut rng)?;
            out.flush()?;
            println!("wrote {written} bytes to {}", path.display());
            return Ok(());
        }
        other => bail!("unknown log kind {other:?}: strace or boot"),
    }
    let mut written: u64 = 0;
    let mut micros: u64 = 0;
    let mut line = String::with_capacity(512);
    writeln!(
        out,
        "I1122 15:04:05.000000    4242 cli.go:276] Version release-20261101.0, go1.25.1, amd64, 2 CPUs, linux, PID 4242, PPID 1, UID 0, GID 0"
    )?;
    while written < size {
        let process = rng.below(16);
        let pid = 100 + process as u32;
        let tid = pid * 10 + rng.below(4) as u32;
        let comm = COMMS[process as usize];
        let (call, result) = pick(&mut rng);
        for phase in ["E", "X"] {
            micros += 1 + rng.below(40);
            line.clear();
            use std::fmt::Write as _;
            let (s, us) = (micros / 1_000_000, micros % 1_000_000);
            let _ = write!(
                line,
                "I1122 15:{:02}:{:02}.{us:06}    4242 strace.go:{}] [{pid:4}:{tid:4}] {comm} {phase} {call}",
                (s / 60) % 60,
                s % 60,
                if phase == "E" { 567 } else { 605 },
            );
            if phase == "X" {
                line.push_str(" = ");
                line.push_str(&result);
            }
            line.push('\n');
            out.write_all(line.as_bytes())?;
            written += line.len() as u64;
        }
        if rng.below(2000) == 0 {
            let report = "I1122 15:04:06.000000    4242 compat.go:120] Unsupported syscall ioctl(0x3,0x5412,0x7ffc40,0x0,0x0,0x0). It is likely that you can safely ignore this message and that this is not the cause of any error. Please, refer to https://gvisor.dev/c/linux/amd64/ioctl for more information.\n";
            out.write_all(report.as_bytes())?;
            written += report.len() as u64;
        }
    }
    out.flush()?;
    println!("wrote {} bytes to {}", written, path.display());
    Ok(())
}

/// A syscall with its arguments, and its result.
fn pick(rng: &mut Rng) -> (String, String) {
    let fd = 3 + rng.below(60);
    let ok = |v: u64| format!("{v} ({v:#x}) ({}.{}µs)", 1 + v % 9, v % 10);
    let failed = |errno: u32, text: &str| format!("-1 errno={errno} ({text}) (2.1µs)");
    match rng.below(20) {
        0..=4 => {
            let n = rng.below(4096);
            (
                format!("read({fd:#x} socket:[{}], 0x7f3a1c00{:04x}, 0x1000)", 1000 + fd, n),
                ok(n),
            )
        }
        5..=8 => (
            format!(
                "write({fd:#x} socket:[{}], 0x7f3a1c004000 \"HTTP/1.1 200 OK\\r\\nContent-Type: application/json\\r\\nContent-Length: 512\\r\\n\\r\\n{{\\\"status\\\":\\\"ok\\\"\"..., 0x258)",
                1000 + fd
            ),
            ok(600),
        ),
        9 => (
            format!("epoll_wait(0x5 anon_inode:[eventpoll], 0x7ffc4a20, 0x400, 0x{:x})", rng.below(1000)),
            ok(rng.below(8)),
        ),
        10 => (
            "futex(0xc000080148, FUTEX_WAIT_PRIVATE, 0x0, 0x0, 0x0, 0x0)".to_owned(),
            ok(0),
        ),
        11 => (
            format!("openat(AT_FDCWD /, 0x7f3a1c005000 /proc/{}/status, O_RDONLY|O_CLOEXEC, 0o0)", rng.below(400)),
            ok(fd),
        ),
        12 => (
            format!("openat(AT_FDCWD /, 0x7f3a1c005000 /var/lib/app/cache/{:08x}.json, O_RDONLY|O_CLOEXEC, 0o0)", rng.below(1 << 20)),
            if rng.below(4) == 0 { failed(2, "no such file or directory") } else { ok(fd) },
        ),
        13 => (format!("close({fd:#x} /var/lib/app/cache/a.json)"), ok(0)),
        14 => (
            format!("newfstatat({fd:#x} /etc/ssl/certs, 0x7f3a1c005100 , 0x7ffc4b00 {{dev=2049, ino={}, mode=S_IFREG|0o644, nlink=1, uid=0, gid=0, rdev=0, size=4096, blksize=4096, blocks=8, atime=2026-11-22 15:04:05 +0000 UTC, mtime=2026-11-22 15:04:05 +0000 UTC, ctime=2026-11-22 15:04:05 +0000 UTC}}, 0x1000)", rng.below(1 << 16)),
            ok(0),
        ),
        15 => (
            "socket(AF_INET, SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC, IPPROTO_TCP)".to_owned(),
            ok(fd),
        ),
        16 => (
            format!("connect({fd:#x} socket:[{}], 0x7ffc4c00 {{Family: AF_INET, Addr: 10.0.{}.{}, Port: 8080}}, 0x10)", 1000 + fd, rng.below(4), rng.below(250)),
            failed(115, "operation now in progress"),
        ),
        17 => (
            format!("ioctl({fd:#x} socket:[{}], 0x5412, 0x7ffc40)", 1000 + fd),
            failed(25, "inappropriate ioctl for device"),
        ),
        18 => (
            "clock_gettime(0x1, 0x7ffc4d00 {sec=1764000000 nsec=123456789})".to_owned(),
            ok(0),
        ),
        _ => ("getpid()".to_owned(), ok(100)),
    }
}

/// CPU time (user + system) of this process or of its waited-for children: on a shared
/// machine it is steadier than wall time, which other load stretches.
fn cpu_seconds(who: libc::c_int) -> f64 {
    // SAFETY: `getrusage` only writes the struct it is given, which is zeroed and
    // large enough; `who` is RUSAGE_SELF or RUSAGE_CHILDREN.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(who, &mut usage);
        usage
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

/// Runs that are measured, interleaved (grep, then the reader), after one warm-up run
/// of each that puts the file in the page cache.
const RUNS: usize = 3;

fn measure(path: &Path) -> anyhow::Result<()> {
    let size = std::fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    let mb = size as f64 / 1e6;
    println!("file: {} ({mb:.0} MB)", path.display());
    let db = Database::get();
    let spec = CaptureSpec::from_database(db, Arch::X86_64);
    // Loaded once per process, before the clock starts, as for the database.
    syscall_db::messages::MessageCatalogue::get();

    let mut grep_cpu = Vec::new();
    let mut ours_cpu = Vec::new();
    for run in 0..=RUNS {
        let (cpu, wall, count) = run_grep(path)?;
        let (ours, ours_wall, summary) = run_reader(path, &spec)?;
        if run == 0 {
            println!("grep -c ' X ' counts {count} lines; the reader: {summary}");
            continue;
        }
        println!(
            "run {run}: grep cpu {cpu:.2} s ({:.0} MB/s, wall {wall:.2} s); runsc-log cpu {ours:.2} s ({:.0} MB/s, wall {ours_wall:.2} s); ratio {:.2}",
            mb / cpu,
            mb / ours,
            ours / cpu
        );
        grep_cpu.push(cpu);
        ours_cpu.push(ours);
    }
    let (grep, ours) = (median(&mut grep_cpu), median(&mut ours_cpu));
    println!(
        "median: grep {:.0} MB/s, runsc-log {:.0} MB/s, ratio runsc-log / grep (cpu) {:.2}",
        mb / grep,
        mb / ours,
        ours / grep
    );
    Ok(())
}

/// `grep -c ' X ' FILE` with its output to a pipe (to /dev/null GNU grep stops at the
/// first match): CPU seconds, wall seconds, its count.
fn run_grep(path: &Path) -> anyhow::Result<(f64, f64, String)> {
    let cpu_before = cpu_seconds(libc::RUSAGE_CHILDREN);
    let start = Instant::now();
    let output = Command::new("grep")
        .args(["-c", " X "])
        .arg(path)
        .output()
        .context("cannot run grep")?;
    let wall = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds(libc::RUSAGE_CHILDREN) - cpu_before;
    Ok((
        cpu,
        wall,
        String::from_utf8_lossy(&output.stdout).trim().to_owned(),
    ))
}

/// The reader on the file: CPU seconds, wall seconds, what it found.
fn run_reader(path: &Path, spec: &CaptureSpec) -> anyhow::Result<(f64, f64, String)> {
    let cpu_before = cpu_seconds(libc::RUSAGE_SELF);
    let start = Instant::now();
    let mut builder = FactsBuilder::new(spec);
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    read_one(&mut builder, path.display().to_string(), None, file)?;
    let facts = builder.finish();
    let wall = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds(libc::RUSAGE_SELF) - cpu_before;
    let exits: u64 = facts.calls.iter().map(|c| c.calls).sum();
    let file = &facts.files[0];
    let summary = format!(
        "{} lines, {} recognised, {} unparsed; {exits} exits in {} aggregates, {} messages, {} terminations",
        file.lines,
        file.recognised,
        file.unparsed,
        facts.calls.len(),
        facts.events.len(),
        facts.terminations.len()
    );
    Ok((cpu, wall, summary))
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
