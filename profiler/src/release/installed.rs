//! Asking the runsc installed here which gVisor release it is: `runsc --version`, whose
//! first line is `runsc version <version>` (upstream prints `release-20221219.0`,
//! Debian `0.0~20221219.0`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use syscall_db::Release;

use super::ReleaseError;

/// How long `runsc --version` may take; it answers at once, so longer means stuck.
const VERSION_TIMEOUT: Duration = Duration::from_secs(10);

/// A runsc binary and the release it reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstalledRunsc {
    /// The binary asked.
    pub path: PathBuf,
    /// The version it printed, as printed (`0.0~20221219.0`).
    pub version: String,
    /// The release that version names.
    pub release: Release,
}

/// The release of `runsc` (found on `PATH` when `runsc` is None).
pub fn installed_runsc_release(runsc: Option<&Path>) -> Result<InstalledRunsc, ReleaseError> {
    let path = match runsc {
        Some(path) => path.to_owned(),
        None => on_path("runsc")
            .ok_or_else(|| ReleaseError::RunscMissing("no `runsc` is on PATH".to_owned()))?,
    };
    let shown = path.display().to_string();
    let output = version_output(&path).map_err(|detail| match detail {
        Failure::NotFound => ReleaseError::RunscMissing(format!("{shown} does not exist")),
        Failure::Other(detail) => ReleaseError::RunscFailed {
            path: shown.clone(),
            detail,
        },
    })?;
    let version = output
        .lines()
        .find_map(|line| line.trim().strip_prefix("runsc version "))
        .map(str::trim)
        .ok_or_else(|| ReleaseError::RunscFailed {
            path: shown.clone(),
            detail: format!(
                "its output has no `runsc version` line: {:?}",
                output.lines().next().unwrap_or_default()
            ),
        })?
        .to_owned();
    let release = Release::parse(&version).map_err(|_| ReleaseError::RunscVersion {
        path: shown,
        version: version.clone(),
    })?;
    Ok(InstalledRunsc {
        path,
        version,
        release,
    })
}

enum Failure {
    NotFound,
    Other(String),
}

/// Standard output of `<runsc> --version`, waiting at most [`VERSION_TIMEOUT`].
fn version_output(runsc: &Path) -> Result<String, Failure> {
    let mut child = Command::new(runsc)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|err| match err.kind() {
            std::io::ErrorKind::NotFound => Failure::NotFound,
            _ => Failure::Other(format!("cannot run it: {err}")),
        })?;
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() < VERSION_TIMEOUT => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Failure::Other(format!(
                    "no answer within {} s",
                    VERSION_TIMEOUT.as_secs()
                )));
            }
            Err(err) => return Err(Failure::Other(format!("cannot wait for it: {err}"))),
        }
    };
    let read = |pipe: Option<&mut dyn std::io::Read>| {
        let mut text = String::new();
        if let Some(pipe) = pipe {
            let _ = pipe.read_to_string(&mut text);
        }
        text
    };
    let stdout = read(child.stdout.as_mut().map(|p| p as &mut dyn std::io::Read));
    let stderr = read(child.stderr.as_mut().map(|p| p as &mut dyn std::io::Read));
    if !status.success() {
        return Err(Failure::Other(format!("{status}: {}", stderr.trim())));
    }
    Ok(stdout)
}

/// The first executable file named `name` in a directory of `PATH`.
fn on_path(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt as _;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| {
            candidate
                .metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

#[cfg(test)]
mod tests {

    use super::*;

    /// A script standing in for runsc that prints `output` and exits with `code`.
    /// Writes the fake from a child process: a write descriptor held here could be
    /// inherited by a fork of another test thread and make exec fail with ETXTBSY.
    fn fake_runsc(dir: &Path, output: &str, code: i32) -> PathBuf {
        let path = dir.join("runsc");
        let script = format!("#!/bin/sh\nprintf '%s' '{output}'\nexit {code}\n");
        let status = std::process::Command::new("sh")
            .args([
                "-c",
                "printf '%s' \"$1\" > \"$2\" && chmod 755 \"$2\"",
                "sh",
            ])
            .arg(&script)
            .arg(&path)
            .status()
            .unwrap();
        assert!(status.success());
        path
    }

    #[test]
    fn reads_debian_and_upstream_versions() {
        let dir = tempfile::tempdir().unwrap();
        let debian = fake_runsc(
            dir.path(),
            "runsc version 0.0~20221219.0\nspec: 1.0.2-dev\n",
            0,
        );
        let installed = installed_runsc_release(Some(&debian)).unwrap();
        assert_eq!(installed.version, "0.0~20221219.0");
        assert_eq!(
            installed.release,
            Release::parse("release-20221219.0").unwrap()
        );
        let upstream = fake_runsc(
            dir.path(),
            "runsc version release-20240513.0\nspec: 1.1.0\n",
            0,
        );
        assert_eq!(
            installed_runsc_release(Some(&upstream)).unwrap().release,
            Release::parse("release-20240513.0").unwrap()
        );
    }

    #[test]
    fn failures_are_clear() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("absent-runsc");
        assert_eq!(
            installed_runsc_release(Some(&missing))
                .unwrap_err()
                .to_string(),
            format!(
                "--gvisor-release auto asks the installed runsc for its release, but {} does \
                 not exist: install runsc, or name the release your nodes run with \
                 --gvisor-release RELEASE",
                missing.display()
            )
        );
        let dev = fake_runsc(dir.path(), "runsc version VERSION_MISSING\n", 0);
        assert!(matches!(
            installed_runsc_release(Some(&dev)),
            Err(ReleaseError::RunscVersion { version, .. }) if version == "VERSION_MISSING"
        ));
        let broken = fake_runsc(dir.path(), "", 3);
        assert!(matches!(
            installed_runsc_release(Some(&broken)),
            Err(ReleaseError::RunscFailed { .. })
        ));
    }
}
