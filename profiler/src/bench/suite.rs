//! The fixed suite: every figure `sandprof bench` measures, in which unit, which
//! direction is better, how it is measured, and the threshold `--plan` holds it to;
//! and how much work one repetition does in a full and in a `--quick` run.
//!
//! The per-iteration timing of the micro-benchmarks happens inside the container (see
//! [`super::workload`]), so a runtime's start-up never mixes into them; start-up is a
//! figure of its own, timed from the host.

use serde::{Deserialize, Serialize};

/// Which direction of a figure is better.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Better {
    /// A time or a size.
    Lower,
    /// A throughput.
    Higher,
}

/// One figure of the suite.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricId {
    /// `getppid` in a loop: the bare cost of a system call.
    Syscall,
    /// `stat`, `open`, `read` (≤ 4 KiB), `close` of a small file on the root file system.
    SmallFile,
    /// `fork`, `execve` of a static binary, `wait`.
    ForkExec,
    /// `vfork` (clone with CLONE_VM|CLONE_VFORK), `execve` of the same binary, `wait`:
    /// loading a program without copying the parent's address space.
    Spawn,
    /// A thread created (clone with CLONE_THREAD) and joined.
    Thread,
    /// Anonymous `mmap` of 4 MiB, one write per page, `munmap`: per page faulted.
    PageFault,
    /// FNV-1a hashing of an in-memory buffer: no system calls, the fairness check.
    CpuHash,
    /// Sequential 1 MiB writes to a file on a host directory (as a volume or the
    /// writable layer is reached).
    DiskWrite,
    /// Sequential 1 MiB reads of that file.
    DiskRead,
    /// Sequential writes on the container's tmpfs `/tmp`.
    TmpfsWrite,
    /// Sequential reads on `/tmp`.
    TmpfsRead,
    /// Bulk transfer between two processes over loopback TCP.
    TcpThroughput,
    /// One-byte request and response between two processes over loopback TCP.
    TcpLatency,
    /// From `create` to the exit of a trivial command, as the host sees it.
    Startup,
    /// Proportional set size of every process of an idle container.
    PssIdle,
    /// The same, of a container holding 256 MiB of touched anonymous memory.
    #[serde(rename = "pss_256mib")]
    Pss256Mib,
    /// CPU used by the container's processes while its workload sleeps.
    IdleCpu,
}

/// What kind of cost a figure is, for grouping in reports.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Group {
    /// System-call heavy micro-benchmarks.
    Syscalls,
    /// CPU-bound: expected equal.
    Cpu,
    /// File throughput.
    FileIo,
    /// Loopback networking inside the sandbox.
    Network,
    /// Container start-up.
    Startup,
    /// Memory and idle CPU of the sandbox itself.
    Footprint,
}

/// The definition of one figure.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct MetricDef {
    /// Which.
    pub id: MetricId,
    /// Its name in tables.
    pub name: &'static str,
    /// Its unit.
    pub unit: &'static str,
    /// Which direction is better.
    pub better: Better,
    /// Its group.
    pub group: Group,
    /// How it is measured, one sentence for `--plan`.
    pub how: &'static str,
}

const fn def(
    id: MetricId,
    name: &'static str,
    unit: &'static str,
    better: Better,
    group: Group,
    how: &'static str,
) -> MetricDef {
    MetricDef {
        id,
        name,
        unit,
        better,
        group,
        how,
    }
}

/// The suite, in the order reports show it.
pub const SUITE: [MetricDef; 17] = [
    def(MetricId::Syscall, "getppid loop", "µs/call", Better::Lower, Group::Syscalls,
        "raw getppid(2) in a loop, timed inside the container"),
    def(MetricId::SmallFile, "stat+open+read+close", "µs/file", Better::Lower, Group::Syscalls,
        "stat, open, read up to 4 KiB and close /etc/passwd on the root file system"),
    def(MetricId::ForkExec, "fork+exec+wait", "µs/exec", Better::Lower, Group::Syscalls,
        "fork, execve of a static binary running `true`, waitpid"),
    def(MetricId::Spawn, "vfork+exec+wait", "µs/exec", Better::Lower, Group::Syscalls,
        "clone with CLONE_VM|CLONE_VFORK (no copy of the parent), execve of that binary, waitpid"),
    def(MetricId::Thread, "thread create+join", "µs/thread", Better::Lower, Group::Syscalls,
        "a thread created (clone with CLONE_THREAD) that returns at once, and joined"),
    def(MetricId::PageFault, "mmap page faults", "µs/page", Better::Lower, Group::Syscalls,
        "mmap 4 MiB anonymous, write one byte per 4 KiB page, munmap"),
    def(MetricId::CpuHash, "CPU hashing", "MiB/s", Better::Higher, Group::Cpu,
        "FNV-1a over a 4 MiB buffer in memory, no system calls, the fastest 16 MiB stretch (the harness's fairness check)"),
    def(MetricId::DiskWrite, "disk write", "MiB/s", Better::Higher, Group::FileIo,
        "sequential 1 MiB writes to a host directory mounted into the container (into the host's page cache)"),
    def(MetricId::DiskRead, "disk read", "MiB/s", Better::Higher, Group::FileIo,
        "sequential 1 MiB reads of that file (the host's page cache holds it)"),
    def(MetricId::TmpfsWrite, "tmpfs write", "MiB/s", Better::Higher, Group::FileIo,
        "sequential 1 MiB writes to the container's /tmp"),
    def(MetricId::TmpfsRead, "tmpfs read", "MiB/s", Better::Higher, Group::FileIo,
        "sequential 1 MiB reads of that file"),
    def(MetricId::TcpThroughput, "loopback TCP throughput", "MiB/s", Better::Higher,
        Group::Network,
        "64 KiB writes from one process to another over 127.0.0.1 (runsc: its netstack)"),
    def(MetricId::TcpLatency, "loopback TCP round trip", "µs", Better::Lower, Group::Network,
        "one-byte request and response between two processes over 127.0.0.1"),
    def(MetricId::Startup, "start-up (create to exit)", "ms", Better::Lower, Group::Startup,
        "`create`, `start` and the exit of a static `true`, timed on the host"),
    def(MetricId::PssIdle, "memory, idle container", "MiB", Better::Lower, Group::Footprint,
        "sum of Pss in /proc/PID/smaps_rollup of every process of the container \
         (runsc: sandbox, gofer, stubs)"),
    def(MetricId::Pss256Mib, "memory, holding 256 MiB", "MiB", Better::Lower,
        Group::Footprint,
        "the same, with 256 MiB of anonymous memory touched by the workload"),
    def(MetricId::IdleCpu, "CPU, idle container", "millicores", Better::Lower,
        Group::Footprint,
        "CPU time of every process of the container over the idle window"),
];

/// The definition of `id`.
pub fn metric(id: MetricId) -> &'static MetricDef {
    SUITE
        .iter()
        .find(|d| d.id == id)
        .expect("every MetricId is in SUITE")
}

/// How much work one repetition of the micro-benchmarks does.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Work {
    /// getppid calls.
    pub syscalls: u64,
    /// Small files read.
    pub small_files: u64,
    /// fork+exec rounds, and as many vfork+exec rounds.
    pub execs: u64,
    /// Threads created and joined.
    pub threads: u64,
    /// 4 MiB mappings faulted in.
    pub mappings: u64,
    /// MiB hashed.
    pub hash_mib: u64,
    /// MiB written and read on each file system.
    pub file_mib: u64,
    /// MiB sent over loopback TCP.
    pub tcp_mib: u64,
    /// TCP round trips.
    pub round_trips: u64,
}

/// A full run's work, sized so that runsc's ptrace platform spends about a second on
/// each system-call figure.
pub const FULL: Work = Work {
    syscalls: 20_000,
    small_files: 2_000,
    execs: 100,
    threads: 2_000,
    mappings: 40,
    hash_mib: 256,
    file_mib: 64,
    tcp_mib: 64,
    round_trips: 2_000,
};

/// A `--quick` run's work: about a fifth.
pub const QUICK: Work = Work {
    syscalls: 4_000,
    small_files: 400,
    execs: 20,
    threads: 400,
    mappings: 8,
    hash_mib: 64,
    file_mib: 16,
    tcp_mib: 16,
    round_trips: 400,
};

/// How many times each figure is measured per runtime.
pub fn repetitions(quick: bool) -> usize {
    if quick {
        3
    } else {
        5
    }
}

/// How long the idle window lasts, in milliseconds.
pub fn idle_window_ms(quick: bool) -> u64 {
    if quick {
        1_000
    } else {
        3_000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_id_is_defined_once() {
        let mut ids: Vec<MetricId> = SUITE.iter().map(|d| d.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), SUITE.len());
        assert_eq!(metric(MetricId::TcpLatency).unit, "µs");
        assert_eq!(
            serde_json::to_string(&MetricId::Pss256Mib).unwrap(),
            "\"pss_256mib\""
        );
    }
}
