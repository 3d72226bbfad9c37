//! Report speed on a large profile: 1,000,000 distinct argument signatures and 10,000
//! processes, judged for both runtimes and rendered in every format.
//!
//! Run: `AYA_BUILD_SKIP=1 cargo run --release -p profiler --example report_bench [RELEASE]`
//! Results go in BENCHMARKS.md ("report"). With a gVisor release (e.g.
//! `release-20221219.0`) the profile is judged at that release, whose view carries the
//! rules derived from what its /proc lacks; without one, at the newest.
//!
//! Half the signatures are `socket` calls with distinct protocol numbers, so each one
//! misses the matching memo and is matched against the rules; the other half are
//! `openat` paths under /proc and /sys, the shape a real profile's long tail has.

use std::io::{self, Write};
use std::time::{Duration, Instant};

use sandprof::analysis::{analyze, AnalysisOptions};
use sandprof::profile::{
    Abi, ArgSignature, BinaryFormat, CaptureStamp, DatabaseStamp, Executable, FirstUse, LostCounts,
    Process, SyscallProfile, SyscallStat, Target, ToolStamp, SCHEMA, SCHEMA_VERSION,
};
use sandprof::report::{render, Format};
use syscall_db::{Arch, Database, FieldValue, FieldValues};

const SIGNATURES: u32 = 1_000_000;
const PROCESSES: u32 = 10_000;
const EXECUTABLES: u32 = 1_000;

fn main() -> anyhow::Result<()> {
    let start = Instant::now();
    let newest = Database::get();
    let loaded = start.elapsed();
    let start = Instant::now();
    let view = match std::env::args().nth(1) {
        Some(release) => Some(sandprof::release::resolve_release(newest, &release)?),
        None => None,
    };
    let viewed = start.elapsed();
    let db = view.as_ref().map_or(newest, |judged| judged.database());
    let profile = build(db);
    let inputs = [("bench.sandprof.json".to_owned(), profile)];
    let opts = AnalysisOptions::default();

    // Warm the database (parsed on first use) so the timing is the report alone.
    let _ = db.version();
    let start = Instant::now();
    let report = analyze(db, &inputs, &opts)?;
    let analysed = start.elapsed();
    let mut timings = vec![
        ("load database", loaded),
        ("view at release", viewed),
        ("analyze", analysed),
    ];
    for (name, format) in [
        ("render table", Format::Table),
        ("render markdown", Format::Markdown),
        ("render json", Format::Json),
    ] {
        let start = Instant::now();
        render(&report, format, &mut io::sink(), false)?;
        timings.push((name, start.elapsed()));
    }
    let total: Duration = timings.iter().map(|(_, t)| *t).sum::<Duration>();
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "{} signatures, {} processes, {} findings, gVisor {}",
        inputs[0].1.signatures.len(),
        inputs[0].1.processes.len(),
        report.findings.len(),
        db.release()
    )?;
    for (name, time) in &timings {
        writeln!(out, "{name:>16}: {:>8.1} ms", time.as_secs_f64() * 1e3)?;
    }
    writeln!(
        out,
        "{:>16}: {:>8.1} ms",
        "total",
        total.as_secs_f64() * 1e3
    )?;
    Ok(())
}

fn build(db: &Database) -> SyscallProfile {
    let number = |name: &str| {
        db.syscall_by_name(Arch::X86_64, name)
            .map_or(0, |s| s.number)
    };
    let executables: Vec<Executable> = (0..EXECUTABLES)
        .map(|id| Executable {
            id,
            path: format!("/usr/lib/app/bin/tool-{id}"),
            format: BinaryFormat::Elf {
                bits: 64,
                machine: "x86_64".to_owned(),
                is_static: false,
            },
        })
        .collect();
    let processes = (0..PROCESSES)
        .map(|pid| Process {
            pid: 1000 + pid,
            parent: (pid > 0).then_some(1000),
            executables: vec![pid % EXECUTABLES],
            capture: 0,
        })
        .collect();
    let mut syscalls = Vec::new();
    for exe in 0..EXECUTABLES {
        for name in [
            "read", "write", "openat", "close", "mmap", "socket", "clone",
        ] {
            syscalls.push(SyscallStat {
                name: name.to_owned(),
                number: number(name),
                abi: Abi::Native,
                executable: exe,
                calls: 1_000,
                errors: Default::default(),
            });
        }
    }
    let (socket, openat) = (number("socket"), number("openat"));
    let signatures = (0..SIGNATURES)
        .map(|i| {
            let mut fields = FieldValues::new();
            let (syscall, nr) = if i % 2 == 0 {
                fields.insert(
                    "domain".to_owned(),
                    FieldValue::Int(u64::from(i % 3) * 8 + 2),
                );
                fields.insert("type".to_owned(), FieldValue::Int(u64::from(i % 5) + 1));
                fields.insert("protocol".to_owned(), FieldValue::Int(u64::from(i)));
                ("socket", socket)
            } else {
                let root = if i % 4 == 1 {
                    "/proc/#/task/#"
                } else {
                    "/sys/fs/cgroup"
                };
                fields.insert(
                    "path".to_owned(),
                    FieldValue::Str(format!("{root}/entry-{i}")),
                );
                ("openat", openat)
            };
            ArgSignature {
                syscall: syscall.to_owned(),
                number: nr,
                fields,
                calls: 1,
                errors: Default::default(),
                incomplete: Vec::new(),
                first: Some(FirstUse {
                    pid: 1000 + i % PROCESSES,
                    tid: 1000 + i % PROCESSES,
                    executable: i % EXECUTABLES,
                }),
            }
        })
        .collect();
    SyscallProfile {
        schema: SCHEMA.to_owned(),
        schema_version: SCHEMA_VERSION,
        tool: ToolStamp::current(),
        database: DatabaseStamp::of(db),
        arch: Arch::X86_64,
        captures: vec![CaptureStamp {
            hostname: "bench".to_owned(),
            kernel: "6.18.0".to_owned(),
            target: Target::Pid { pid: 1000 },
            started_at: "2026-11-22T10:00:00Z".to_owned(),
            ended_at: "2026-11-22T11:00:00Z".to_owned(),
            duration_ms: 3_600_000,
            method: "ebpf".to_owned(),
        }],
        executables,
        processes,
        syscalls,
        signatures,
        lost: LostCounts::default(),
    }
}
