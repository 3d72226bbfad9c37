//! The installed runsc, run now, so the reader is checked against its current output and
//! not only against frozen fixtures: a workload that fails in a way that does not depend
//! on gVisor's release (a missing file its error output names) and one that works, each
//! in an OCI bundle like `fixtures/runsc/real/generate.sh` makes (the host's `/`
//! read-only, with the mounts containerd gives a Kubernetes container). Needs root and
//! runsc; outside CI it says why it skips, under `CI=true` it fails instead.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::*;
use crate::support::{privileged, scratch, tool};

/// A bundle, its runsc state and logs, torn down on drop (the container deleted, the
/// rootfs unmounted, the directory removed) however the test ends.
struct Sandbox {
    dir: tempfile::TempDir,
    id: String,
    mounted: bool,
}

impl Sandbox {
    fn new(name: &str, args: &[&str]) -> Sandbox {
        let dir = scratch();
        let id = format!(
            "sandprof-live-{name}-{}-{}",
            std::process::id(),
            dir.path().file_name().unwrap().to_string_lossy()
        );
        let mut sandbox = Sandbox {
            dir,
            id,
            mounted: false,
        };
        let rootfs = sandbox.path("bundle/rootfs");
        std::fs::create_dir_all(&rootfs).unwrap();
        std::fs::create_dir_all(sandbox.path("logs")).unwrap();
        std::fs::create_dir_all(sandbox.path("root")).unwrap();
        run(Command::new("mount").arg("--bind").arg("/").arg(&rootfs));
        sandbox.mounted = true;
        run(Command::new("mount")
            .args(["-o", "remount,bind,ro"])
            .arg(&rootfs));
        let spec = spec_json(args);
        std::fs::write(sandbox.path("bundle/config.json"), spec.to_string()).unwrap();
        sandbox
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    /// Runs the container to its end under `runsc --debug --strace`; returns runsc's exit
    /// status.
    fn run(&self) -> i32 {
        let mut logs = self.path("logs").into_os_string();
        logs.push("/");
        let mut child = Command::new("runsc")
            .arg("--debug")
            .arg(format!("--debug-log={}", logs.to_string_lossy()))
            .args(["--strace", "--network=none", "--root"])
            .arg(self.path("root"))
            .args(["run", &self.id])
            .current_dir(self.path("bundle"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("runsc starts");
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("runsc run {} did not end within 120 s", self.id);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn evidence(&self) -> LogEvidence {
        evidence_of(&[self.path("logs")])
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = Command::new("runsc")
            .arg("--root")
            .arg(self.path("root"))
            .args(["delete", "-force", &self.id])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if self.mounted {
            let _ = Command::new("umount")
                .arg(self.path("bundle/rootfs"))
                .status();
        }
    }
}

fn run(command: &mut Command) {
    let status = command.status().expect("the command starts");
    assert!(status.success(), "{command:?} failed: {status}");
}

/// The OCI spec `real/generate.sh` writes.
fn spec_json(args: &[&str]) -> serde_json::Value {
    let caps = [
        "CAP_CHOWN",
        "CAP_DAC_OVERRIDE",
        "CAP_FSETID",
        "CAP_FOWNER",
        "CAP_MKNOD",
        "CAP_NET_RAW",
        "CAP_SETGID",
        "CAP_SETUID",
        "CAP_SETFCAP",
        "CAP_SETPCAP",
        "CAP_NET_BIND_SERVICE",
        "CAP_SYS_CHROOT",
        "CAP_KILL",
        "CAP_AUDIT_WRITE",
    ];
    let mount = |dest: &str, kind: &str, source: &str, options: &[&str]| serde_json::json!({"destination": dest, "type": kind, "source": source, "options": options});
    serde_json::json!({
        "ociVersion": "1.0.0",
        "process": {
            "terminal": false,
            "user": {"uid": 0, "gid": 0},
            "args": args,
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"],
            "cwd": "/",
            "capabilities": {"bounding": caps, "effective": caps, "permitted": caps},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}]
        },
        "root": {"path": "rootfs", "readonly": true},
        "hostname": "live",
        "mounts": [
            mount("/proc", "proc", "proc", &["nosuid", "noexec", "nodev"]),
            mount("/dev", "tmpfs", "tmpfs", &["nosuid", "strictatime", "mode=755", "size=65536k"]),
            mount("/dev/pts", "devpts", "devpts", &["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]),
            mount("/dev/shm", "tmpfs", "shm", &["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
            mount("/dev/mqueue", "mqueue", "mqueue", &["nosuid", "noexec", "nodev"]),
            mount("/sys", "sysfs", "sysfs", &["nosuid", "noexec", "nodev", "ro"]),
            mount("/sys/fs/cgroup", "cgroup", "cgroup", &["nosuid", "noexec", "nodev", "relatime", "ro"]),
            mount("/tmp", "tmpfs", "tmpfs", &["nosuid", "nodev", "mode=1777"]),
        ],
        "linux": {"namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}]}
    })
}

/// The release `runsc --version` names.
fn installed_release() -> Option<String> {
    let out = Command::new("runsc").arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let version = text.lines().next()?.strip_prefix("runsc version ")?;
    syscall_db::Release::parse(version).ok().map(|r| r.tag())
}

fn ready(test: &str) -> bool {
    privileged(test) && tool(test, "runsc")
}

/// Every line of every log the installed runsc wrote is read, its release recognised,
/// and a failure that does not depend on gVisor's release is put down to its call.
#[test]
fn the_installed_runsc_is_read_whole() {
    if !ready("runsc_log::live::the_installed_runsc_is_read_whole") {
        return;
    }
    let missing = "/sandprof-live-test-no-such-file";
    let sandbox = Sandbox::new("cat", &["cat", missing]);
    assert_eq!(sandbox.run(), 1);
    let evidence = sandbox.evidence();
    let facts = &evidence.facts;
    for file in &facts.files {
        assert_eq!(
            file.unparsed, 0,
            "{}: {:?}",
            file.name, file.unparsed_samples
        );
        assert!(file.recognised > 0, "{}", file.name);
    }
    assert!(facts.strace_lines() > 0);
    assert_eq!(facts.gvisor_release, installed_release());
    let report = report_of_evidence(&evidence, &RunscFlags::none());
    assert_eq!(report.verdicts[0].status, VerdictStatus::Breaks);
    assert_eq!(
        report.findings[0].title,
        format!(
            "the application, cat (pid 1), exited with status 1 after openat({missing}) \
             failed with ENOENT"
        )
    );
    // cat writes its message in pieces; the one that names the file is quoted.
    let effect = &report.findings[0].effect;
    assert!(
        effect.starts_with("Most likely cause, ranked first because its error output names it (")
            && effect.contains(&format!("{missing}\")")),
        "{effect}"
    );
}

/// A workload that works is "no failure found", with the application's exit status 0.
#[test]
fn the_installed_runsc_running_a_workload_that_works() {
    if !ready("runsc_log::live::the_installed_runsc_running_a_workload_that_works") {
        return;
    }
    let sandbox = Sandbox::new("true", &["true"]);
    assert_eq!(sandbox.run(), 0);
    let evidence = sandbox.evidence();
    let report = report_of_evidence(&evidence, &RunscFlags::none());
    assert_eq!(report.verdicts[0].status, VerdictStatus::NoFailureFound);
    assert!(report.verdicts[0]
        .summary
        .contains("; the application exited with status 0."));
    assert!(report
        .findings
        .iter()
        .all(|f| f.severity != Severity::Breaks));
}
