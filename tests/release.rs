//! Judging at a gVisor release: two breakages that are release differences (ionice's
//! ioprio_set and sysctl's /proc/sys/kernel/ostype, profiled under runc) judged at the
//! Debian runsc's release-20221219.0 and at the newest; `--gvisor-release auto` reading
//! the installed runsc (real, and stand-ins printing each version format); the upgrade
//! report; and, with root and runsc, the prediction at `auto` set against what the
//! installed runsc really does with the same commands.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use sandprof::analysis::finding::{Report, Severity, VerdictStatus};
use sandprof::analysis::{analyze, AnalysisOptions};
use sandprof::profile::io;
use sandprof::release::{self, ReleaseChoice};
use syscall_db::{Database, Release, Runtime};

use crate::support::{privileged, sandprof_bin, scratch, tool};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/profiles")
        .join(name)
}

/// The gVisor report of a fixture profile judged at `release`.
fn gvisor_report(profile: &str, release: &str) -> Report {
    let judged = release::resolve_release(Database::get(), release).unwrap();
    let p = io::read(&fixture(profile)).unwrap();
    let opts = AnalysisOptions {
        runtimes: vec![Runtime::Gvisor],
        ..AnalysisOptions::default()
    };
    let mut report = analyze(judged.database(), &[(profile.to_owned(), p)], &opts).unwrap();
    judged.annotate(&mut report);
    report
}

/// (severity, title, database entry) of the findings that break or need configuring.
fn blockers(report: &Report) -> Vec<(Severity, String, String)> {
    report
        .findings
        .iter()
        .filter(|f| matches!(f.severity, Severity::Breaks | Severity::NeedsConfig))
        .map(|f| (f.severity, f.title.clone(), f.reference.entry.clone()))
        .collect()
}

fn gvisor_status(report: &Report) -> VerdictStatus {
    report.verdicts[0].status
}

#[test]
fn ionice_breaks_at_the_debian_release_and_not_at_the_newest() {
    let old = gvisor_report("ionice.sandprof.json", "0.0~20221219.0");
    assert_eq!(old.gvisor_release.as_deref(), Some("release-20221219.0"));
    assert_eq!(
        blockers(&old),
        vec![(
            Severity::Breaks,
            "ioprio_set is refused with EPERM without CAP_SYS_ADMIN".to_owned(),
            "gvisor.syscall.x86_64.ioprio_set".to_owned()
        )]
    );
    let finding = &old.findings[0];
    assert!(
        finding
            .effect
            .ends_with(" From release-20260706.0 on, gVisor implements ioprio_set in part."),
        "{}",
        finding.effect
    );
    assert_eq!(
        finding.reference.revision,
        "google/gvisor@release-20221219.0"
    );
    assert_eq!(gvisor_status(&old), VerdictStatus::LikelyToBreak);

    let new = gvisor_report("ionice.sandprof.json", "latest");
    assert_eq!(blockers(&new), vec![]);
    assert_eq!(gvisor_status(&new), VerdictStatus::Compatible);
}

#[test]
fn sysctl_kernel_ostype_breaks_until_the_file_exists() {
    let missing = |report: &Report| -> Vec<String> {
        blockers(report)
            .into_iter()
            .map(|(_, title, _)| title)
            .collect()
    };
    let old = gvisor_report("sysctl.sandprof.json", "release-20221219.0");
    assert_eq!(
        missing(&old),
        vec![
            "newfstatat(path=\"/proc/sys/kernel/ostype\") fails with ENOENT",
            "openat(path=\"/proc/sys/kernel/ostype\") fails with ENOENT",
            "readlink(path=\"/proc/sys/kernel/ostype\") fails with ENOENT",
        ]
    );
    assert!(old
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Breaks)
        .all(|f| f.reference.entry == "gvisor.proc.global-added-in-release-20260126.0"));
    assert_eq!(gvisor_status(&old), VerdictStatus::LikelyToBreak);
    // The release before the file appeared, and the one that added it.
    let before = gvisor_report("sysctl.sandprof.json", "release-20260112.0");
    assert_eq!(gvisor_status(&before), VerdictStatus::LikelyToBreak);
    let after = gvisor_report("sysctl.sandprof.json", "release-20260126.0");
    assert_eq!(missing(&after), Vec::<String>::new());
    assert_eq!(gvisor_status(&after), VerdictStatus::Compatible);
}

/// A directory holding a stand-in `runsc` that prints `output`.
fn fake_runsc(dir: &Path, output: &str) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let path = bin.join("runsc");
    std::fs::write(&path, format!("#!/bin/sh\nprintf '{output}'\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

/// `sandprof report` of a fixture with `PATH` set to `path` only.
fn report_with_path(path: &Path, args: &[&str]) -> Output {
    Command::new(sandprof_bin())
        .arg("report")
        .arg(fixture("ionice.sandprof.json"))
        .args(args)
        .env("PATH", path)
        .output()
        .expect("sandprof runs")
}

#[test]
fn auto_reads_debian_and_upstream_versions_and_fails_clearly_without_runsc() {
    let dir = scratch();
    for (version, judged) in [
        (
            "runsc version 0.0~20221219.0\\nspec: 1.0.2-dev\\n",
            "release-20221219.0",
        ),
        (
            "runsc version release-20230105.2\\nspec: 1.1.0\\n",
            "release-20230102.0",
        ),
    ] {
        let bin = fake_runsc(dir.path(), version);
        let out = report_with_path(&bin, &["--gvisor-release", "auto", "--format", "json"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: Report = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report.gvisor_release.as_deref(), Some(judged));
        assert_eq!(report.database.gvisor_revision, judged);
        assert!(
            report.caveats[0].starts_with(&format!(
                "Judged against gVisor {judged}, the release of the runsc installed here ({}",
                bin.join("runsc").display()
            )),
            "{:?}",
            report.caveats
        );
    }
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let out = report_with_path(&empty, &["--gvisor-release", "auto"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "sandprof: error: cannot choose the gVisor release to judge against: --gvisor-release \
         auto asks the installed runsc for its release, but no `runsc` is on PATH: install \
         runsc, or name the release your nodes run with --gvisor-release RELEASE\n"
    );
}

#[test]
fn the_default_is_the_newest_release_and_the_report_says_so() {
    let out = Command::new(sandprof_bin())
        .args(["report", "--format", "markdown"])
        .arg(fixture("ionice.sandprof.json"))
        .output()
        .expect("sandprof runs");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let newest = Database::get().releases().newest().unwrap();
    assert!(
        text.contains(&format!(
            "> **Caveat:** No --gvisor-release was given: judged against gVisor {newest}, the \
             newest release the database knows."
        )),
        "{text}"
    );
    assert!(text.contains(&format!("(gVisor {newest})")), "{text}");
}

#[test]
fn unknown_releases_name_the_nearest() {
    let out = Command::new(sandprof_bin())
        .args(["report", "--gvisor-release", "release-20200101.0"])
        .arg(fixture("ionice.sandprof.json"))
        .output()
        .expect("sandprof runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("gVisor release-20200101.0 is older than every release the database knows")
            && stderr
                .contains("(nearest: release-20221219.0, release-20230102.0, release-20230109.0)"),
        "{stderr}"
    );
}

#[test]
fn upgrading_from_the_debian_release_fixes_both_breakages() {
    let out = Command::new(sandprof_bin())
        .args([
            "report",
            "--runtime",
            "gvisor",
            "--gvisor-release",
            "release-20221219.0",
            "--upgrade-to",
            "latest",
            "--format",
            "json",
            "--fail-on",
            "breaks",
        ])
        .arg(fixture("ionice.sandprof.json"))
        .arg(fixture("sysctl.sandprof.json"))
        .output()
        .expect("sandprof runs");
    // --fail-on judges the release upgraded to, where nothing breaks.
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let upgrade: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(upgrade["schema"], "sandprof.upgrade");
    assert_eq!(upgrade["from"], "release-20221219.0");
    assert_eq!(upgrade["verdict_before"]["status"], "likely-to-break");
    assert_eq!(upgrade["verdict_after"]["status"], "compatible");
    let entries = |key: &str| -> Vec<String> {
        upgrade[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["reference"]["entry"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        entries("fixed"),
        vec![
            "gvisor.proc.global-added-in-release-20260126.0",
            "gvisor.proc.global-added-in-release-20260126.0",
            "gvisor.proc.global-added-in-release-20260126.0",
        ]
    );
    let changed = upgrade["changed"].as_array().unwrap();
    assert!(changed.iter().any(|c| c["before"]["reference"]["entry"]
        == "gvisor.syscall.x86_64.ioprio_set"
        && c["before"]["severity"] == "breaks"
        && c["after"]["severity"] == "degraded"));
}

/// A bundle whose root is the host's `/`, bind-mounted read-only, with fresh /proc,
/// /sys, /dev and /tmp; unmounted when dropped.
struct HostBundle {
    dir: tempfile::TempDir,
}

impl HostBundle {
    fn new(args: &[&str]) -> HostBundle {
        let dir = scratch();
        let rootfs = dir.path().join("rootfs");
        std::fs::create_dir_all(&rootfs).unwrap();
        let mount = |extra: &[&str]| {
            let status = Command::new("mount")
                .args(extra)
                .arg("/")
                .arg(&rootfs)
                .status()
                .expect("mount runs");
            assert!(status.success(), "mount {extra:?} failed");
        };
        mount(&["--bind"]);
        let bundle = HostBundle { dir };
        mount(&["-o", "remount,bind,ro"]);
        let spec = Command::new("runc")
            .args(["spec", "--bundle"])
            .arg(bundle.dir.path())
            .status()
            .expect("runc runs");
        assert!(spec.success());
        let path = bundle.dir.path().join("config.json");
        let mut config: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        config["process"]["terminal"] = false.into();
        config["process"]["args"] = serde_json::json!(args);
        config["root"] = serde_json::json!({ "path": "rootfs", "readonly": true });
        let mounts = config["mounts"].as_array_mut().unwrap();
        mounts.retain(|m| m["destination"] != "/tmp");
        mounts.push(serde_json::json!({
            "destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev"]
        }));
        std::fs::write(&path, serde_json::to_vec_pretty(&config).unwrap()).unwrap();
        bundle
    }

    /// Runs the bundle under `runtime` (`runc` or `runsc`) and returns its exit code.
    fn run(&self, runtime: &str) -> i32 {
        let root = self.dir.path().join(format!("{runtime}-root"));
        let id = format!(
            "sandprof-release-{}-{}",
            std::process::id(),
            self.dir.path().file_name().unwrap().to_string_lossy()
        );
        let mut cmd = Command::new(runtime);
        if runtime == "runsc" {
            cmd.arg("--network=none");
        }
        let status = cmd
            .arg("--root")
            .arg(&root)
            .args(["run", "--bundle"])
            .arg(self.dir.path())
            .arg(&id)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("the runtime runs");
        let mut delete = Command::new(runtime);
        delete.arg("--root").arg(&root).arg("delete");
        delete.arg(if runtime == "runsc" {
            "-force"
        } else {
            "--force"
        });
        let _ = delete.arg(&id).output();
        status.code().unwrap_or(-1)
    }
}

impl Drop for HostBundle {
    fn drop(&mut self) {
        let rootfs = self.dir.path().join("rootfs");
        let _ = Command::new("umount").arg("-l").arg(&rootfs).status();
    }
}

#[test]
fn predictions_at_auto_match_the_installed_runsc() {
    let test = "predictions_at_auto_match_the_installed_runsc";
    if !privileged(test) || !tool(test, "runsc") || !tool(test, "runc") {
        return;
    }
    let installed = release::installed_runsc_release(None).unwrap();
    let judged = release::judge_at(Database::get(), Some(&ReleaseChoice::Auto)).unwrap();
    assert_eq!(judged.asked(), Some(installed.release));
    for (profile, command) in [
        (
            "ionice.sandprof.json",
            &["ionice", "-c2", "-n0", "true"][..],
        ),
        (
            "sysctl.sandprof.json",
            &["sysctl", "-n", "kernel.ostype"][..],
        ),
    ] {
        let bundle = HostBundle::new(command);
        assert_eq!(bundle.run("runc"), 0, "{command:?} under runc");
        let observed_breaks = bundle.run("runsc") != 0;
        let p = io::read(&fixture(profile)).unwrap();
        let opts = AnalysisOptions {
            runtimes: vec![Runtime::Gvisor],
            ..AnalysisOptions::default()
        };
        let report = analyze(judged.database(), &[(profile.to_owned(), p)], &opts).unwrap();
        let predicted_breaks = gvisor_status(&report) == VerdictStatus::LikelyToBreak;
        assert_eq!(
            predicted_breaks,
            observed_breaks,
            "{command:?} at gVisor {} (runsc {}): predicted {:?}",
            judged.release(),
            installed.version,
            blockers(&report)
        );
    }
    // What the machine this was written on runs; a different runsc only changes which
    // side of the comparison above holds, not its outcome.
    if installed.release == Release::parse("release-20221219.0").unwrap() {
        assert_eq!(installed.version, "0.0~20221219.0");
    }
}
