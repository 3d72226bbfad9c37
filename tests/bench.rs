//! `sandprof bench` end to end, as root with the real runc and runsc: a `--quick` run
//! whose figures hold the relations any sandbox must show, whose file feeds the
//! RuntimeClass, and which leaves nothing behind; and the errors a user meets.
//!
//! A test target of its own (see Cargo.toml): the run's fairness check compares CPU-bound
//! work under both runtimes, which only holds when no other test loads the cores.

// The bench uses a few of the helpers the integration target shares.
#[allow(dead_code)]
mod support;

use crate::support::{leftovers, privileged, sandprof, scratch, tool};

fn ready(test: &str) -> bool {
    privileged(test) && tool(test, "runc") && tool(test, "runsc") && tool(test, "busybox")
}

fn median(bench: &serde_json::Value, id: &str, runtime: &str) -> f64 {
    let metric = bench["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == id)
        .unwrap_or_else(|| panic!("figure {id} missing"));
    metric[runtime]["median"].as_f64().unwrap()
}

#[test]
fn quick_bench_under_runc_and_runsc() {
    if !ready("quick_bench_under_runc_and_runsc") {
        return;
    }
    let before = leftovers("sandprof-bench-");
    let dir = scratch();
    let file = dir.path().join("bench.json");
    let run = sandprof(&[
        "bench",
        "--quick",
        "--format",
        "json",
        "--out",
        file.to_str().unwrap(),
    ]);
    assert!(
        run.status.success(),
        "sandprof bench failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("sandprof bench: [16/16] runsc") || stderr.contains("[16/16] runc"));
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let printed: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(written, printed);
    assert_eq!(written["format"], "sandprof.bench");
    assert_eq!(written["version"], 2);
    assert_eq!(written["quick"], true);
    assert_eq!(written["repetitions"], 3);
    assert_eq!(written["runsc"]["platform"], "ptrace");
    assert!(written["runsc"]["version"]
        .as_str()
        .unwrap()
        .contains("2022"));
    let ids: Vec<&str> = written["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "syscall",
            "small_file",
            "fork_exec",
            "spawn",
            "thread",
            "page_fault",
            "cpu_hash",
            "disk_write",
            "disk_read",
            "tmpfs_write",
            "tmpfs_read",
            "tcp_throughput",
            "tcp_latency",
            "startup",
            "pss_idle",
            "pss_256mib",
            "idle_cpu"
        ]
    );
    for m in written["metrics"].as_array().unwrap() {
        let samples = if m["id"].as_str().unwrap().starts_with("pss") || m["id"] == "idle_cpu" {
            1
        } else {
            3
        };
        for runtime in ["runc", "runsc"] {
            assert_eq!(
                m[runtime]["samples"].as_array().unwrap().len(),
                samples,
                "{} under {runtime}",
                m["id"]
            );
        }
    }
    // A system call crosses into the Sentry under runsc: it costs more than under runc.
    assert!(median(&written, "syscall", "runsc") > median(&written, "syscall", "runc"));
    assert!(median(&written, "startup", "runsc") > median(&written, "startup", "runc"));
    // CPU-bound work is not intercepted: the harness is fair.
    let cpu = written["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "cpu_hash")
        .unwrap()["slowdown"]
        .as_f64()
        .unwrap();
    assert!((0.8..=1.25).contains(&cpu), "CPU-bound slowdown {cpu}");
    // The 256 MiB the workload holds is counted under both runtimes.
    for runtime in ["runc", "runsc"] {
        assert!(
            median(&written, "pss_256mib", runtime) >= 256.0,
            "{runtime}"
        );
    }
    assert!(median(&written, "pss_idle", "runsc") > median(&written, "pss_idle", "runc"));

    // The file feeds the RuntimeClass.
    let rc = sandprof(&[
        "k8s",
        "runtimeclass",
        "--runtime",
        "gvisor",
        "--measurement",
        file.to_str().unwrap(),
    ]);
    assert!(
        rc.status.success(),
        "{}",
        String::from_utf8_lossy(&rc.stderr)
    );
    let yaml = String::from_utf8_lossy(&rc.stdout);
    assert!(yaml.contains("measured: sandprof bench on"), "{yaml}");
    assert!(
        yaml.contains("runsc 0.0~20221219.0 (platform ptrace)"),
        "{yaml}"
    );

    let new: Vec<String> = leftovers("sandprof-bench-")
        .difference(&before)
        .cloned()
        .collect();
    assert!(new.is_empty(), "bench left behind: {new:?}");
}

#[test]
fn kata_figures_stay_published() {
    let run = sandprof(&["bench", "--runtime", "kata"]);
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.starts_with(
            "sandprof: error: sandprof bench measures runtimes that run on this node; Kata \
             Containers needs a hypervisor and its runtime installed, so its figures stay \
             published ones, not measured: qemu: cpu 250m, memory 320Mi (kata-deploy default"
        ),
        "{stderr}"
    );
}

#[test]
fn runtimeclass_refuses_an_incomplete_measurement() {
    let dir = scratch();
    let file = dir.path().join("partial.json");
    std::fs::write(&file, "{\"format\": \"sandprof.bench\", \"version\": 3}").unwrap();
    let run = sandprof(&[
        "k8s",
        "runtimeclass",
        "--runtime",
        "gvisor",
        "--measurement",
        file.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&run.stderr),
        format!(
            "sandprof: error: {}: version 3 is not one this sandprof reads (it reads 2)\n",
            file.display()
        )
    );
}

#[test]
fn report_predicts_the_cost_from_a_measurement() {
    let profile = "tests/fixtures/profiles/workload.sandprof.json";
    let bench = "tests/fixtures/bench/node.json";
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let run = std::process::Command::new(crate::support::sandprof_bin())
        .current_dir(root)
        .args(["report", profile, "--runtime", "gvisor", "--bench", bench])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let text = String::from_utf8_lossy(&run.stdout);
    // The fixture measurement (a full run on a 2-core VM, runsc 20221219.0 on ptrace):
    // start-up 77.5 ms under runc, 1879.4 ms under runsc; getppid 1040 × (38.8 − 0.25)
    // µs; execve 5 × (4515.7 − 696.8) µs of vfork+exec; the two plain clones are forks,
    // 2 × ((6579.7 − 999.2) − (4515.7 − 696.8)) µs; the four clone3 with CLONE_THREAD
    // are threads, 4 × (762.3 − 48.8) µs; the four clone3 with CLONE_VM|CLONE_VFORK
    // carry nothing of their own. Once running: (250 + 104) / 250; create to exit:
    // (77.5 + 250 + 1802 + 104) / (77.5 + 250).
    let tail: Vec<&str> = text.lines().rev().take(8).collect::<Vec<_>>();
    assert_eq!(
        tail.into_iter().rev().collect::<Vec<_>>(),
        [
            "  predicted under gVisor, once running: 1.42× (250 ms as profiled under runc + \
             104 ms of syscall cost)",
            "  predicted under gVisor, create to exit: 6.82× (start-up 77 ms under runc + 1802 \
             ms)",
            "  from the measurement of sandprof bench on 2026-12-02T04:39:27Z, runsc \
             0.0~20221219.0 (platform ptrace)",
            "    getppid ×1040: 40.1 ms (39% of the syscall cost)",
            "    rt_sigaction ×508: 19.6 ms (19% of the syscall cost)",
            "    execve ×5: 19.1 ms (18% of the syscall cost)",
            "    clone (processes) ×2: 3.5 ms (3% of the syscall cost)",
            "    clone3 (threads) ×4: 2.9 ms (3% of the syscall cost)",
        ]
    );
}
