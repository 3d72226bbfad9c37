//! The cost of one workload under runsc, predicted from its own syscall mix: each call
//! the profile counts, times the extra a call of its class costs under runsc (runsc's
//! median minus runc's, from a bench measurement), plus the extra start-up of one
//! container (the start-up figure: create to exit of a trivial command), added to the
//! wall time the profile was captured over. CPU-bound time is taken as unchanged (the fairness figure shows
//! it is). The model sees neither page faults (only the calls that map memory) nor the
//! size of reads and writes, and it adds the extra cost serially: a workload whose
//! threads make calls in parallel is predicted slower than it runs.

use std::collections::BTreeMap;

use serde::Serialize;

use super::result::BenchResult;
use super::suite::MetricId;
use crate::profile::SyscallProfile;

/// What a call costs like, for the model.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallClass {
    /// Process creation and program loading: the fork+exec figure, half to each.
    Process,
    /// Opening, closing and looking up files: the small-file figure, a quarter each.
    FileMeta,
    /// Socket calls: the TCP round-trip figure, a quarter each (two sends and two
    /// receives per round trip).
    Network,
    /// Every other call: the bare syscall figure.
    Other,
}

/// The class of syscall `name`.
pub fn class(name: &str) -> CallClass {
    match name {
        "clone" | "clone3" | "fork" | "vfork" | "execve" | "execveat" => CallClass::Process,
        "open" | "openat" | "openat2" | "creat" | "close" | "stat" | "lstat" | "fstat"
        | "newfstatat" | "statx" | "access" | "faccessat" | "faccessat2" | "readlink"
        | "readlinkat" | "getdents" | "getdents64" | "unlink" | "unlinkat" | "rename"
        | "renameat" | "renameat2" | "mkdir" | "mkdirat" | "rmdir" | "chmod" | "fchmodat"
        | "chown" | "fchownat" | "utimensat" => CallClass::FileMeta,
        "socket" | "connect" | "accept" | "accept4" | "bind" | "listen" | "sendto" | "recvfrom"
        | "sendmsg" | "recvmsg" | "sendmmsg" | "recvmmsg" | "shutdown" | "setsockopt"
        | "getsockopt" => CallClass::Network,
        _ => CallClass::Other,
    }
}

/// The extra µs one call of `class` costs under runsc, from the measurement.
pub fn extra_us(bench: &BenchResult, class: CallClass) -> f64 {
    let (id, share) = match class {
        CallClass::Process => (MetricId::ForkExec, 0.5),
        CallClass::FileMeta => (MetricId::SmallFile, 0.25),
        CallClass::Network => (MetricId::TcpLatency, 0.25),
        CallClass::Other => (MetricId::Syscall, 1.0),
    };
    bench
        .metric(id)
        .map_or(0.0, |m| (m.runsc.median - m.runc.median).max(0.0) * share)
}

/// One syscall's share of the predicted extra time.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CallCost {
    /// The syscall.
    pub syscall: String,
    /// Its class.
    pub class: CallClass,
    /// Calls in the profile.
    pub calls: u64,
    /// Extra time under runsc, in milliseconds.
    pub extra_ms: f64,
}

/// The prediction for one profile.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CostPrediction {
    /// The wall time the profile was captured over (runc), in milliseconds.
    pub runc_ms: f64,
    /// The predicted extra time under runsc, in milliseconds: start-up and calls.
    pub extra_ms: f64,
    /// Of which the extra start-up of the container.
    pub startup_ms: f64,
    /// (runc + extra) / runc.
    pub slowdown: f64,
    /// Every syscall with a predicted extra, costliest first.
    pub calls: Vec<CallCost>,
    /// The measurement's date, runsc release and platform.
    pub measured: String,
}

/// Predicts `profile`'s slowdown under runsc from `bench`.
pub fn predict(profile: &SyscallProfile, bench: &BenchResult) -> CostPrediction {
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    for row in &profile.syscalls {
        *counts.entry(row.name.as_str()).or_default() += row.calls;
    }
    let mut calls: Vec<CallCost> = counts
        .into_iter()
        .map(|(name, calls)| {
            let class = class(name);
            CallCost {
                syscall: name.to_owned(),
                class,
                calls,
                extra_ms: calls as f64 * extra_us(bench, class) / 1000.0,
            }
        })
        .filter(|c| c.extra_ms > 0.0)
        .collect();
    calls.sort_by(|a, b| {
        b.extra_ms
            .total_cmp(&a.extra_ms)
            .then(a.syscall.cmp(&b.syscall))
    });
    let runc_ms: f64 = profile.captures.iter().map(|c| c.duration_ms as f64).sum();
    let startup_ms = bench
        .metric(MetricId::Startup)
        .map_or(0.0, |m| (m.runsc.median - m.runc.median).max(0.0));
    let extra_ms: f64 = startup_ms + calls.iter().map(|c| c.extra_ms).sum::<f64>();
    CostPrediction {
        runc_ms,
        extra_ms,
        startup_ms,
        slowdown: if runc_ms > 0.0 {
            (runc_ms + extra_ms) / runc_ms
        } else {
            0.0
        },
        calls,
        measured: format!(
            "sandprof bench on {}, runsc {} (platform {})",
            bench.date,
            bench.runsc.version,
            bench.runsc.platform.as_deref().unwrap_or("default")
        ),
    }
}

/// The prediction as text lines (table and Markdown share them): the slowdown, then
/// the calls that make up most of the extra time.
pub fn lines(p: &CostPrediction) -> Vec<String> {
    let mut out = vec![format!(
        "predicted under gVisor: {:.2}× ({:.0} ms as profiled under runc + {:.0} ms: {:.0} ms \
         of container start-up and {:.0} ms of syscall cost), from the measurement of {}",
        p.slowdown,
        p.runc_ms,
        p.extra_ms,
        p.startup_ms,
        p.extra_ms - p.startup_ms,
        p.measured
    )];
    if p.runc_ms == 0.0 {
        out.push("the profile records no duration: no slowdown can be predicted".to_owned());
    }
    for c in p.calls.iter().take(5) {
        let calls_ms = p.extra_ms - p.startup_ms;
        let share = if calls_ms > 0.0 {
            c.extra_ms / calls_ms * 100.0
        } else {
            0.0
        };
        out.push(format!(
            "  {} ×{}: {:.1} ms ({share:.0}% of the syscall cost)",
            c.syscall, c.calls, c.extra_ms
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::result::fixture;

    fn profile(duration_ms: u64, calls: &[(&str, u64)]) -> SyscallProfile {
        use crate::profile::model::{Abi, CaptureStamp, SyscallStat, Target};
        let mut p = SyscallProfile::of_capture(
            syscall_db::Database::get(),
            syscall_db::Arch::X86_64,
            CaptureStamp {
                hostname: "node".to_owned(),
                kernel: "6.18".to_owned(),
                target: Target::Cgroup {
                    path: "/pod".to_owned(),
                },
                started_at: "2026-12-02T00:00:00Z".to_owned(),
                ended_at: "2026-12-02T00:00:01Z".to_owned(),
                duration_ms,
                method: "ebpf".to_owned(),
            },
        );
        for (i, (name, n)) in calls.iter().enumerate() {
            // The same call by two executables counts once, summed.
            for executable in [0, 1] {
                p.syscalls.push(SyscallStat {
                    name: (*name).to_owned(),
                    number: i as u32,
                    abi: Abi::Native,
                    executable,
                    calls: n / 2,
                    errors: Default::default(),
                });
            }
        }
        p
    }

    #[test]
    fn extra_time_by_class() {
        let bench = fixture(&[
            (MetricId::Syscall, 0.25, 50.25),     // +50 µs per call
            (MetricId::SmallFile, 10.0, 410.0),   // +100 µs per file call
            (MetricId::ForkExec, 1000.0, 9000.0), // +4000 µs per process call
            (MetricId::TcpLatency, 20.0, 420.0),  // +100 µs per socket call
            (MetricId::Startup, 60.0, 260.0),     // +200 ms per container
        ]);
        let p = profile(
            1000,
            &[
                ("getpid", 2000),
                ("openat", 1000),
                ("read", 1000),
                ("execve", 10),
                ("sendto", 100),
            ],
        );
        let cost = predict(&p, &bench);
        // getpid 2000 × 50 µs = 100 ms; openat 1000 × 100 µs = 100 ms; read 1000 × 50 µs
        // = 50 ms; execve 10 × 4000 µs = 40 ms; sendto 100 × 100 µs = 10 ms: 300 ms,
        // and 200 ms of start-up.
        assert_eq!(cost.extra_ms, 500.0);
        assert_eq!(cost.startup_ms, 200.0);
        assert_eq!(cost.slowdown, 1.5);
        let order: Vec<(&str, f64)> = cost
            .calls
            .iter()
            .map(|c| (c.syscall.as_str(), c.extra_ms))
            .collect();
        assert_eq!(
            order,
            [
                ("getpid", 100.0),
                ("openat", 100.0),
                ("read", 50.0),
                ("execve", 40.0),
                ("sendto", 10.0)
            ]
        );
        assert_eq!(
            lines(&cost)[1],
            "  getpid ×2000: 100.0 ms (33% of the syscall cost)"
        );
    }
}
