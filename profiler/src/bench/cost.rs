//! The cost of one workload under runsc, predicted from its own syscall mix: each call
//! the profile counts, times the extra a call of its class costs under runsc (runsc's
//! median minus runc's, from a bench measurement), plus the extra start-up of one
//! container (the start-up figure: create to exit of a trivial command), added to the
//! wall time the profile was captured over. CPU-bound time is taken as unchanged (the
//! fairness figure shows it is).
//!
//! Process creation is split by what it does, because its costs differ by an order of
//! magnitude under runsc: loading a program (execve), copying a parent's address space
//! (fork, or clone without CLONE_VM), sharing it until the exec (vfork, clone with
//! CLONE_VM|CLONE_VFORK: charged to the exec that follows), and starting a thread
//! (clone with CLONE_THREAD). clone's flags come from the profile's argument
//! signatures; calls whose flags the profile did not keep are charged as forks, the
//! costlier guess.
//!
//! The model sees neither page faults (only the calls that map memory) nor the size of
//! reads and writes, and it adds the extra cost serially: a workload whose threads make
//! calls in parallel is predicted slower than it runs.

use std::collections::BTreeMap;

use serde::Serialize;
use syscall_db::FieldValue;

use super::result::BenchResult;
use super::suite::MetricId;
use crate::profile::SyscallProfile;

/// What a call costs like, for the model.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallClass {
    /// Loading a program (execve, execveat): the vfork+exec+wait figure, the child's
    /// exit and reaping included.
    Exec,
    /// Creating a process by copying its parent (fork, clone without CLONE_VM): the
    /// fork+exec+wait figure less the vfork+exec+wait one.
    Fork,
    /// Creating a process that borrows its parent's memory until it execs (vfork,
    /// clone with CLONE_VM|CLONE_VFORK): no extra of its own; the exec carries it.
    Vfork,
    /// Creating a thread (clone with CLONE_THREAD): the thread figure.
    Thread,
    /// Opening, closing and looking up files: the small-file figure, a quarter each.
    FileMeta,
    /// Socket calls: the TCP round-trip figure, a quarter each (two sends and two
    /// receives per round trip).
    Network,
    /// Every other call: the bare syscall figure.
    Other,
}

/// The class of syscall `name` (for clone and clone3, of a call without known flags).
pub fn class(name: &str) -> CallClass {
    match name {
        "execve" | "execveat" => CallClass::Exec,
        "fork" | "clone" | "clone3" => CallClass::Fork,
        "vfork" => CallClass::Vfork,
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

/// The class of a clone or clone3 call with `flags` (the same bits on every
/// architecture).
pub fn clone_class(flags: u64) -> CallClass {
    const CLONE_VM: u64 = libc::CLONE_VM as u64;
    const CLONE_VFORK: u64 = libc::CLONE_VFORK as u64;
    const CLONE_THREAD: u64 = libc::CLONE_THREAD as u64;
    if flags & CLONE_THREAD != 0 {
        CallClass::Thread
    } else if flags & (CLONE_VM | CLONE_VFORK) != 0 {
        CallClass::Vfork
    } else {
        CallClass::Fork
    }
}

/// runsc's median minus runc's for figure `id`, never below zero.
fn extra(bench: &BenchResult, id: MetricId) -> f64 {
    bench
        .metric(id)
        .map_or(0.0, |m| (m.runsc.median - m.runc.median).max(0.0))
}

/// The extra µs one call of `class` costs under runsc, from the measurement.
pub fn extra_us(bench: &BenchResult, class: CallClass) -> f64 {
    match class {
        CallClass::Exec => extra(bench, MetricId::Spawn),
        CallClass::Fork => {
            (extra(bench, MetricId::ForkExec) - extra(bench, MetricId::Spawn)).max(0.0)
        }
        CallClass::Vfork => 0.0,
        CallClass::Thread => extra(bench, MetricId::Thread),
        CallClass::FileMeta => extra(bench, MetricId::SmallFile) * 0.25,
        CallClass::Network => extra(bench, MetricId::TcpLatency) * 0.25,
        CallClass::Other => extra(bench, MetricId::Syscall),
    }
}

/// The profile's calls by syscall and class: clone and clone3 split by the flags their
/// argument signatures kept, the rest of their calls under [`class`].
fn counts_by_class(profile: &SyscallProfile) -> BTreeMap<(&str, CallClass), u64> {
    let mut totals: BTreeMap<&str, u64> = BTreeMap::new();
    for row in &profile.syscalls {
        *totals.entry(row.name.as_str()).or_default() += row.calls;
    }
    let mut counts = BTreeMap::new();
    for name in ["clone", "clone3"] {
        let Some(total) = totals.get_mut(name) else {
            continue;
        };
        for sig in profile.signatures.iter().filter(|s| s.syscall == name) {
            let Some(FieldValue::Int(flags)) = sig.fields.get("flags") else {
                continue;
            };
            let calls = sig.calls.min(*total);
            *total -= calls;
            *counts.entry((name, clone_class(*flags))).or_default() += calls;
        }
    }
    for (name, calls) in totals {
        if calls > 0 {
            *counts.entry((name, class(name))).or_default() += calls;
        }
    }
    counts
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

/// The prediction for one profile. Two slowdowns, because the container's start-up is
/// a fixed cost: once running, the workload is slowed by its calls alone; from create
/// to exit, runsc's slower start-up is added to both sides' own.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CostPrediction {
    /// The wall time the profile was captured over (runc), in milliseconds.
    pub runc_ms: f64,
    /// runc's own start-up (create to exit of a trivial command), in milliseconds.
    pub runc_startup_ms: f64,
    /// The predicted extra time under runsc, in milliseconds: start-up and calls.
    pub extra_ms: f64,
    /// Of which the extra start-up of the container.
    pub startup_ms: f64,
    /// Of which the extra of the calls.
    pub calls_ms: f64,
    /// From create to exit: (runc start-up + runc + extra) / (runc start-up + runc), the
    /// figure `sandprof bench -- CMD` measures; 0 when the profile has no duration.
    pub slowdown: f64,
    /// Once started: (runc + calls) / runc; 0 when the profile has no duration.
    pub running_slowdown: f64,
    /// Every syscall with a predicted extra, costliest first.
    pub calls: Vec<CallCost>,
    /// The measurement's date, runsc release and platform.
    pub measured: String,
}

/// Predicts `profile`'s slowdown under runsc from `bench`.
pub fn predict(profile: &SyscallProfile, bench: &BenchResult) -> CostPrediction {
    let mut calls: Vec<CallCost> = counts_by_class(profile)
        .into_iter()
        .map(|((name, class), calls)| CallCost {
            syscall: name.to_owned(),
            class,
            calls,
            extra_ms: calls as f64 * extra_us(bench, class) / 1000.0,
        })
        .filter(|c| c.extra_ms > 0.0)
        .collect();
    calls.sort_by(|a, b| {
        b.extra_ms
            .total_cmp(&a.extra_ms)
            .then(a.syscall.cmp(&b.syscall))
            .then(a.class.cmp(&b.class))
    });
    let runc_ms: f64 = profile.captures.iter().map(|c| c.duration_ms as f64).sum();
    let startup_ms = extra(bench, MetricId::Startup);
    let runc_startup_ms = bench
        .metric(MetricId::Startup)
        .map_or(0.0, |m| m.runc.median);
    let calls_ms: f64 = calls.iter().map(|c| c.extra_ms).sum();
    let extra_ms = startup_ms + calls_ms;
    let ratio = |base: f64, extra: f64| {
        if base > 0.0 {
            (base + extra) / base
        } else {
            0.0
        }
    };
    CostPrediction {
        runc_ms,
        runc_startup_ms,
        extra_ms,
        startup_ms,
        calls_ms,
        slowdown: if runc_ms > 0.0 {
            ratio(runc_startup_ms + runc_ms, extra_ms)
        } else {
            0.0
        },
        running_slowdown: ratio(runc_ms, calls_ms),
        calls,
        measured: format!(
            "sandprof bench on {}, runsc {} (platform {})",
            bench.date,
            bench.runsc.version,
            bench.runsc.platform.as_deref().unwrap_or("default")
        ),
    }
}

/// The prediction as text lines (table and Markdown share them): the slowdowns, then
/// the calls that make up most of the extra time.
pub fn lines(p: &CostPrediction) -> Vec<String> {
    let mut out = if p.runc_ms == 0.0 {
        vec!["the profile records no duration: no slowdown can be predicted".to_owned()]
    } else {
        vec![
            format!(
                "predicted under gVisor, once running: {:.2}× ({:.0} ms as profiled under runc \
                 + {:.0} ms of syscall cost)",
                p.running_slowdown, p.runc_ms, p.calls_ms
            ),
            format!(
                "predicted under gVisor, create to exit: {:.2}× (start-up {:.0} ms under runc \
                 + {:.0} ms)",
                p.slowdown, p.runc_startup_ms, p.startup_ms
            ),
        ]
    };
    out.push(format!("from the measurement of {}", p.measured));
    for c in p.calls.iter().take(5) {
        let share = if p.calls_ms > 0.0 {
            c.extra_ms / p.calls_ms * 100.0
        } else {
            0.0
        };
        // clone and clone3 are split by what they created; say which part this is.
        let what = match (c.syscall.as_str(), c.class) {
            ("clone" | "clone3", CallClass::Thread) => " (threads)",
            ("clone" | "clone3", CallClass::Fork) => " (processes)",
            _ => "",
        };
        out.push(format!(
            "  {}{what} ×{}: {:.1} ms ({share:.0}% of the syscall cost)",
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

    /// The measurement of both tests: +50 µs per bare call, +100 µs per file call,
    /// +8000 µs per fork+exec of which +6000 µs is the exec, +500 µs per thread, +100 µs
    /// per socket call, +200 ms of start-up.
    fn bench() -> BenchResult {
        fixture(&[
            (MetricId::Syscall, 0.25, 50.25),
            (MetricId::SmallFile, 10.0, 410.0),
            (MetricId::ForkExec, 1000.0, 9000.0),
            (MetricId::Spawn, 800.0, 6800.0),
            (MetricId::Thread, 30.0, 530.0),
            (MetricId::TcpLatency, 20.0, 420.0),
            (MetricId::Startup, 60.0, 260.0),
        ])
    }

    #[test]
    fn extra_time_by_class() {
        let p = profile(
            1000,
            &[
                ("getpid", 2000),
                ("openat", 1000),
                ("read", 1000),
                ("execve", 10),
                ("vfork", 10),
                ("sendto", 100),
            ],
        );
        let cost = predict(&p, &bench());
        // getpid 2000 × 50 µs = 100 ms; openat 1000 × 100 µs = 100 ms; read 1000 × 50 µs
        // = 50 ms; execve 10 × 6000 µs = 60 ms; vfork nothing of its own; sendto 100 ×
        // 100 µs = 10 ms: 320 ms, and 200 ms of start-up.
        assert_eq!(cost.calls_ms, 320.0);
        assert_eq!(cost.startup_ms, 200.0);
        assert_eq!(cost.extra_ms, 520.0);
        assert_eq!(cost.running_slowdown, 1.32);
        // (60 ms of runc start-up + 1000 + 520) / (60 + 1000).
        assert_eq!(cost.slowdown, 1580.0 / 1060.0);
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
                ("execve", 60.0),
                ("read", 50.0),
                ("sendto", 10.0)
            ]
        );
        assert_eq!(
            lines(&cost)[..4],
            [
                "predicted under gVisor, once running: 1.32× (1000 ms as profiled under runc + \
                 320 ms of syscall cost)",
                "predicted under gVisor, create to exit: 1.49× (start-up 60 ms under runc + 200 \
                 ms)",
                "from the measurement of sandprof bench on 2026-12-02T02:08:38Z, runsc \
                 0.0~20221219.0 (platform ptrace)",
                "  getpid ×2000: 100.0 ms (31% of the syscall cost)"
            ]
        );
        let nothing = predict(&profile(0, &[("getpid", 10)]), &bench());
        assert_eq!((nothing.running_slowdown, nothing.slowdown), (0.0, 0.0));
        assert_eq!(
            lines(&nothing)[0],
            "the profile records no duration: no slowdown can be predicted"
        );
    }

    #[test]
    fn clone_is_split_by_its_flags() {
        use crate::profile::model::ArgSignature;
        let mut p = profile(1000, &[("clone", 40), ("clone3", 6), ("fork", 2)]);
        let thread = u64::from((libc::CLONE_VM | libc::CLONE_FS | libc::CLONE_THREAD) as u32);
        let vfork = u64::from((libc::CLONE_VM | libc::CLONE_VFORK) as u32);
        for (syscall, flags, calls) in [
            ("clone", thread, 20),
            ("clone", 0, 4),
            ("clone", vfork, 10),
            ("clone3", thread, 6),
        ] {
            p.signatures.push(ArgSignature {
                syscall: syscall.to_owned(),
                number: 0,
                fields: [("flags".to_owned(), FieldValue::Int(flags))].into(),
                calls,
                errors: Default::default(),
                incomplete: Vec::new(),
                first: None,
            });
        }
        let cost = predict(&p, &bench());
        let rows: Vec<(&str, CallClass, u64, f64)> = cost
            .calls
            .iter()
            .map(|c| (c.syscall.as_str(), c.class, c.calls, c.extra_ms))
            .collect();
        // A fork costs the fork+exec figure less the exec: 2000 µs. The 6 clone calls
        // no signature covers are charged as forks; the 10 vfork-style ones carry
        // nothing of their own.
        assert_eq!(
            rows,
            [
                ("clone", CallClass::Fork, 10, 20.0),
                ("clone", CallClass::Thread, 20, 10.0),
                ("fork", CallClass::Fork, 2, 4.0),
                ("clone3", CallClass::Thread, 6, 3.0),
            ]
        );
        let text = lines(&cost);
        assert_eq!(
            text[3],
            "  clone (processes) ×10: 20.0 ms (54% of the syscall cost)"
        );
        assert_eq!(
            text[4],
            "  clone (threads) ×20: 10.0 ms (27% of the syscall cost)"
        );
    }
}
