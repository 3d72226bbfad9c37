//! `sandprof try` end to end, as root with the real runc and runsc: image archives
//! (`docker save` and OCI layouts, built here from busybox-static, with whiteouts and
//! the image's Env, WorkingDir and Entrypoint/Cmd), root file systems, bundles, a
//! timeout, Ctrl-C, the errors a user meets, and that nothing is left behind.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::support::{leftovers, privileged, sandprof_bin, scratch, tool};

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(program))
            .find(|p| p.is_file())
    })
}

fn ready(test: &str) -> bool {
    privileged(test) && tool(test, "runc") && tool(test, "runsc") && tool(test, "busybox")
}

/// Trials run one at a time in this test binary: what one leaves behind must not be
/// confused with another's work in progress. They never overlap the tracer tests
/// either, whose loaded-program checks would see a trial's probe.
pub fn one_trial_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    crate::support::serial()
}

/// Runs `sandprof try` with `args` and returns its output and the JSON report.
fn try_json(args: &[&str]) -> (Output, serde_json::Value) {
    let dir = scratch();
    let out = dir.path().join("report.json");
    let run = Command::new(sandprof_bin())
        .args(["try", "--format", "json", "-o"])
        .arg(&out)
        .args(args)
        .output()
        .expect("sandprof runs");
    assert!(
        run.status.success() || run.status.code() == Some(1),
        "sandprof try failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let report = serde_json::from_slice(&std::fs::read(&out).expect("a report")).expect("JSON");
    (run, report)
}

fn status(report: &serde_json::Value) -> &str {
    report["verdicts"][0]["status"].as_str().unwrap()
}

fn stdout_of(report: &serde_json::Value, run: usize) -> &str {
    report["trial"]["runs"][run]["stdout"]["text"]
        .as_str()
        .unwrap()
}

/// Asserts that no trial directory, cgroup or mount exists now that did not before.
fn assert_nothing_left(before: &BTreeSet<String>, what: &str) {
    let new: Vec<String> = leftovers("sandprof-try-")
        .difference(before)
        .cloned()
        .collect();
    assert!(new.is_empty(), "{what} left behind: {new:?}");
}

/// A tar archive of `entries` (path, contents, mode; `None` contents for a directory).
fn tarball(entries: &[(&str, Option<&[u8]>, u32)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, contents, mode) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_mode(*mode);
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        match contents {
            Some(bytes) => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_size(bytes.len() as u64);
                builder.append_data(&mut header, path, *bytes).unwrap();
            }
            None => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_size(0);
                builder.append_data(&mut header, path, &[][..]).unwrap();
            }
        }
    }
    builder.into_inner().unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// Two layers: busybox with a shell and an `old` file; then a whiteout of `old`, an
/// opaque `/data` (hiding the first layer's `data/lower`) and a new `data/upper`.
fn layers() -> (Vec<u8>, Vec<u8>) {
    let busybox = std::fs::read("/bin/busybox").expect("busybox-static is installed");
    let lower = tarball(&[
        ("bin/", None, 0o755),
        ("bin/busybox", Some(&busybox), 0o755),
        ("etc/", None, 0o755),
        (
            "etc/passwd",
            Some(b"root:x:0:0:root:/root:/bin/sh\n"),
            0o644,
        ),
        ("old", Some(b"gone\n"), 0o644),
        ("data/", None, 0o755),
        ("data/lower", Some(b"hidden\n"), 0o644),
        ("work/", None, 0o755),
    ]);
    let upper = tarball(&[
        (".wh.old", Some(b""), 0o644),
        ("data/", None, 0o755),
        ("data/.wh..wh..opq", Some(b""), 0o644),
        ("data/upper", Some(b"kept\n"), 0o644),
    ]);
    (lower, upper)
}

/// The image config: Env, WorkingDir, Entrypoint and Cmd.
fn image_config() -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "config": {
            "Env": ["PATH=/bin", "GREETING=from-the-image"],
            "WorkingDir": "/work",
            "Entrypoint": ["/bin/busybox", "sh", "-c"],
            "Cmd": ["echo $GREETING; pwd; /bin/busybox ls / /data"]
        },
        "rootfs": { "type": "layers", "diff_ids": [] }
    }))
    .unwrap()
}

/// What the image prints under both runtimes.
const IMAGE_OUTPUT: &str =
    "from-the-image\n/work\n/:\nbin\ndata\ndev\netc\nproc\nrun\nsys\ntmp\nwork\n\n/data:\nupper\n";

fn docker_save(path: &Path) {
    let (lower, upper) = layers();
    let manifest = serde_json::to_vec(&serde_json::json!([{
        "Config": "config.json",
        "RepoTags": ["sandprof/test:latest"],
        "Layers": ["l1/layer.tar", "l2/layer.tar"]
    }]))
    .unwrap();
    let config = image_config();
    let outer = tarball(&[
        ("manifest.json", Some(&manifest), 0o644),
        ("config.json", Some(&config), 0o644),
        ("l1/", None, 0o755),
        ("l1/layer.tar", Some(&lower), 0o644),
        ("l2/", None, 0o755),
        ("l2/layer.tar", Some(&upper), 0o644),
    ]);
    std::fs::write(path, outer).unwrap();
}

/// An OCI image layout, gzipped layers, the whole archive gzipped. Digests are names
/// here (sandprof reads blobs by them, as the layout lays them out).
fn oci_layout(path: &Path) {
    let (lower, upper) = layers();
    let (lower, upper) = (gzip(&lower), gzip(&upper));
    let config = image_config();
    let hex = |c: char| c.to_string().repeat(64);
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": { "mediaType": "application/vnd.oci.image.config.v1+json",
                    "digest": format!("sha256:{}", hex('c')), "size": config.len() },
        "layers": [
            { "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
              "digest": format!("sha256:{}", hex('1')), "size": lower.len() },
            { "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
              "digest": format!("sha256:{}", hex('2')), "size": upper.len() }
        ]
    }))
    .unwrap();
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{ "mediaType": "application/vnd.oci.image.manifest.v1+json",
                        "digest": format!("sha256:{}", hex('a')), "size": manifest.len(),
                        "annotations": { "org.opencontainers.image.ref.name": "test" } }]
    }))
    .unwrap();
    let blob = |c: char| format!("blobs/sha256/{}", hex(c));
    let outer = tarball(&[
        (
            "oci-layout",
            Some(br#"{"imageLayoutVersion":"1.0.0"}"#),
            0o644,
        ),
        ("index.json", Some(&index), 0o644),
        ("blobs/", None, 0o755),
        ("blobs/sha256/", None, 0o755),
        (&blob('a'), Some(&manifest), 0o644),
        (&blob('c'), Some(&config), 0o644),
        (&blob('1'), Some(&lower), 0o644),
        (&blob('2'), Some(&upper), 0o644),
    ]);
    std::fs::write(path, gzip(&outer)).unwrap();
}

#[test]
fn image_archives_run_with_their_layers_whiteouts_and_config() {
    if !ready("image_archives_run_with_their_layers_whiteouts_and_config") {
        return;
    }
    let _one = one_trial_at_a_time();
    let dir = scratch();
    for (name, build) in [
        ("docker.tar", docker_save as fn(&Path)),
        ("oci.tar.gz", oci_layout as fn(&Path)),
    ] {
        let archive = dir.path().join(name);
        build(&archive);
        let before = leftovers("sandprof-try-");
        let (_, report) = try_json(&["--image-archive", archive.to_str().unwrap()]);
        assert_eq!(stdout_of(&report, 0), IMAGE_OUTPUT, "{name} under runc");
        assert_eq!(stdout_of(&report, 1), IMAGE_OUTPUT, "{name} under runsc");
        // glibc's rseq registration is the one call that fails (the ptrace platform
        // has no restartable sequences); see `works_when_nothing_fails`.
        assert_eq!(
            status(&report),
            "works-degraded",
            "{name}: {}",
            report["trial"]
        );
        assert_eq!(
            report["trial"]["failed_calls"],
            serde_json::json!(["rseq: ENOSYS"])
        );
        assert_eq!(report["verdicts"][0]["basis"], "observed");
        assert_eq!(report["trial"]["runsc_version"], "0.0~20221219.0");
        assert_eq!(report["trial"]["platform"], "ptrace");
        assert_nothing_left(&before, name);
    }
}

#[test]
fn a_given_command_replaces_the_image_cmd_after_its_entrypoint() {
    if !ready("a_given_command_replaces_the_image_cmd_after_its_entrypoint") {
        return;
    }
    let _one = one_trial_at_a_time();
    let dir = scratch();
    let archive = dir.path().join("docker.tar");
    docker_save(&archive);
    let (_, report) = try_json(&[
        "--image-archive",
        archive.to_str().unwrap(),
        "--env",
        "GREETING=overridden",
        "--",
        "echo $GREETING; cat /old 2>&1; exit 3",
    ]);
    let expected = "overridden\ncat: can't open '/old': No such file or directory\n";
    assert_eq!(stdout_of(&report, 0), expected);
    assert_eq!(stdout_of(&report, 1), expected);
    assert_eq!(
        report["trial"]["runs"][0]["ending"],
        serde_json::json!({"exited": 3})
    );
    assert_eq!(
        report["trial"]["runs"][1]["ending"],
        serde_json::json!({"exited": 3})
    );
    assert_eq!(status(&report), "works-degraded");
}

#[test]
fn works_when_nothing_fails() {
    if !ready("works_when_nothing_fails") {
        return;
    }
    let _one = one_trial_at_a_time();
    // glibc's tunable turns its rseq registration off: nothing then fails under runsc.
    let (run, report) = try_json(&[
        "--fail-on",
        "needs-config",
        "--env",
        "GLIBC_TUNABLES=glibc.pthread.rseq=0",
        "--",
        "/bin/busybox",
        "echo",
        "same",
    ]);
    assert_eq!(run.status.code(), Some(0));
    assert_eq!(status(&report), "works", "{}", report["trial"]);
    assert_eq!(
        report["verdicts"][0]["summary"],
        "Observed under runsc 0.0~20221219.0 (ptrace): the workload reached runc's result \
         (exit 0, same output), with no call failing that succeeded under runc."
    );
    assert_eq!(
        report["trial"]["comparison"]["stdout"]["matched"],
        "identical"
    );
    assert_eq!(report["trial"]["network"], "loopback");
    // The profile's duration is the runc run's, not the tracer's wait for runsc's run.
    assert_eq!(report["trial"]["runs"][0]["runtime"], "runc");
    assert_eq!(
        report["captures"][0]["duration_ms"],
        report["trial"]["runs"][0]["wall_ms"]
    );
    for run in report["trial"]["runs"].as_array().unwrap() {
        assert_eq!(run["stdout"]["text"], "same\n");
        assert!(run["peak_memory_bytes"].as_u64().unwrap() > 0, "{run}");
    }
}

#[test]
fn a_result_that_differs_breaks_and_fails_the_gate() {
    if !ready("a_result_that_differs_breaks_and_fails_the_gate") {
        return;
    }
    let _one = one_trial_at_a_time();
    // /proc/sys/kernel/ngroups_max exists under runc and not under runsc.
    let (run, report) = try_json(&[
        "--fail-on",
        "breaks",
        "--",
        "/bin/busybox",
        "cat",
        "/proc/sys/kernel/ngroups_max",
    ]);
    assert_eq!(run.status.code(), Some(1));
    assert_eq!(status(&report), "breaks");
    assert_eq!(stdout_of(&report, 0), "65536\n");
    assert_eq!(stdout_of(&report, 1), "");
    assert_eq!(
        report["trial"]["cause"],
        "openat(path=/proc/sys/kernel/ngroups_max): ENOENT (pid 1, busybox)"
    );
    let outcome = &report["findings"][0];
    assert_eq!(
        outcome["title"],
        "the workload ended with exit 1 under runsc, exit 0 under runc"
    );
    assert_eq!(outcome["observation"]["kind"], "unpredicted");
    let predicted = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["reference"]["entry"] == "gvisor.proc.sys-kernel-ngroups-max")
        .expect("the predicted finding");
    assert_eq!(predicted["observation"]["kind"], "confirmed");
    assert_eq!(predicted["severity"], "degraded");
}

#[test]
fn a_hang_is_killed_at_the_timeout_and_reported() {
    if !ready("a_hang_is_killed_at_the_timeout_and_reported") {
        return;
    }
    let _one = one_trial_at_a_time();
    let before = leftovers("sandprof-try-");
    let (_, report) = try_json(&["--timeout", "2s", "--", "/bin/busybox", "sleep", "60"]);
    assert_eq!(status(&report), "incomplete");
    assert_eq!(report["trial"]["runs"][0]["ending"], "timed-out");
    assert_eq!(report["trial"]["runs"][1]["ending"], "timed-out");
    assert_eq!(
        report["verdicts"][0]["summary"],
        "The workload did not finish under runc within 2 s, so there is no result to \
         compare: both runs were killed at the timeout. Give it a longer --timeout, or a \
         command that ends."
    );
    assert_nothing_left(&before, "the trial");
}

#[test]
fn ctrl_c_stops_both_runs_and_cleans_up() {
    if !ready("ctrl_c_stops_both_runs_and_cleans_up") {
        return;
    }
    let _one = one_trial_at_a_time();
    let before = leftovers("sandprof-try-");
    let child = Command::new(sandprof_bin())
        .args(["try", "--", "/bin/busybox", "sleep", "60"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sandprof starts");
    // Long enough for the runsc run to be under way.
    std::thread::sleep(Duration::from_secs(3));
    // SAFETY: signalling our own child.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let out = child.wait_with_output().expect("sandprof ends");
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "sandprof: interrupted by SIGINT: both runs were stopped and their containers deleted\n"
    );
    assert_nothing_left(&before, "the trial");
}

#[test]
fn a_rootfs_directory_is_never_written_to() {
    if !ready("a_rootfs_directory_is_never_written_to") {
        return;
    }
    let _one = one_trial_at_a_time();
    let dir = scratch();
    let rootfs = dir.path().join("rootfs");
    std::fs::create_dir_all(rootfs.join("bin")).unwrap();
    std::fs::copy("/bin/busybox", rootfs.join("bin/busybox")).unwrap();
    let (_, report) = try_json(&[
        "--rootfs",
        rootfs.to_str().unwrap(),
        "--",
        "/bin/busybox",
        "sh",
        "-c",
        "echo written > /note && /bin/busybox cat /note",
    ]);
    assert_eq!(stdout_of(&report, 0), "written\n");
    assert_eq!(stdout_of(&report, 1), "written\n");
    assert_eq!(status(&report), "works-degraded");
    let mut left: Vec<String> = std::fs::read_dir(&rootfs)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["bin"]);
}

#[test]
fn runsc_missing_names_the_package() {
    if !ready("runsc_missing_names_the_package") {
        return;
    }
    let _one = one_trial_at_a_time();
    let dir = scratch();
    std::os::unix::fs::symlink(
        which("runc").expect("runc is on PATH"),
        dir.path().join("runc"),
    )
    .unwrap();
    let out = Command::new(sandprof_bin())
        .env("PATH", dir.path())
        .args(["try", "--", "/bin/true"])
        .output()
        .expect("sandprof runs");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "sandprof: error: runsc (gVisor) is not installed: install it with `apt-get install \
         runsc` (Debian 12 and later package it)\n"
    );
}

#[test]
fn runsc_refusing_to_start_says_why_and_where_its_logs_are() {
    if !ready("runsc_refusing_to_start_says_why_and_where_its_logs_are") {
        return;
    }
    let _one = one_trial_at_a_time();
    let dir = scratch();
    let logs = dir.path().join("logs");
    let before = leftovers("sandprof-try-");
    let out = Command::new(sandprof_bin())
        .args(["try", "--log-dir"])
        .arg(&logs)
        .args(["--platform", "no-such-platform", "--", "/bin/true"])
        .output()
        .expect("sandprof runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(&format!(
            "sandprof: error: runsc could not create the sandbox; runsc's logs are in {}: ",
            logs.display()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("no-such-platform"), "{stderr}");
    assert_nothing_left(&before, "the trial");
}

#[test]
fn a_bundle_keeps_its_configuration() {
    if !ready("a_bundle_keeps_its_configuration") {
        return;
    }
    let _one = one_trial_at_a_time();
    let dir = scratch();
    let bundle = dir.path().join("bundle");
    for sub in [
        "rootfs/bin",
        "rootfs/proc",
        "rootfs/sys",
        "rootfs/dev",
        "rootfs/tmp",
    ] {
        std::fs::create_dir_all(bundle.join(sub)).unwrap();
    }
    std::fs::copy("/bin/busybox", bundle.join("rootfs/bin/busybox")).unwrap();
    let spec = Command::new("runc")
        .args(["spec", "--bundle"])
        .arg(&bundle)
        .status()
        .expect("runc runs");
    assert!(spec.success());
    // `runc spec` asks for a terminal and runs `sh`; sandprof captures output instead,
    // and the command given replaces the bundle's.
    let (_, report) = try_json(&[
        "--bundle",
        bundle.to_str().unwrap(),
        "--",
        "/bin/busybox",
        "hostname",
    ]);
    // The bundle's own hostname, not the one sandprof gives its own containers.
    assert_eq!(stdout_of(&report, 0), "runc\n");
    assert_eq!(stdout_of(&report, 1), "runc\n");
    assert_eq!(
        report["trial"]["rootfs"],
        format!("bundle {}", bundle.display())
    );
    let refused = Command::new(sandprof_bin())
        .args(["try", "--bundle"])
        .arg(&bundle)
        .args(["--user", "nobody", "--", "/bin/busybox", "true"])
        .output()
        .expect("sandprof runs");
    assert_eq!(
        String::from_utf8_lossy(&refused.stderr),
        "sandprof: error: --user, --env and --cap-add shape sandprof's own container \
         configuration; a --bundle keeps its config.json: change the user, environment or \
         capabilities there\n"
    );
}
