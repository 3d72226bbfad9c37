//! `sandprof verify`: from inside a pod (or any process), which runtime is really in
//! use and where the isolation boundary is, each conclusion with the evidence read.
//! Everything is read through a [`SystemView`] rooted at `/` in production and at a
//! recorded tree of `/proc` and `/sys` files in tests. It stands alone: it judges the
//! running system, not a profile, so it shares nothing with the analysis but the
//! upstream revisions its facts cite ([`crate::k8s::sources`]).

pub mod checks;
pub mod detect;

use std::io;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::Serialize;

pub use checks::{Check, CheckStatus};
pub use detect::{DetectedRuntime, Detection};

/// Reads the files verification looks at, below a root directory.
#[derive(Clone, Debug)]
pub struct SystemView {
    root: PathBuf,
}

impl SystemView {
    /// A view of the running system.
    pub fn live() -> SystemView {
        SystemView {
            root: PathBuf::from("/"),
        }
    }

    /// A view of a recorded tree: `<root>/proc/...`, `<root>/sys/...`. An empty `root`
    /// names no tree, and nothing can be read from it (rather than paths relative to
    /// the working directory, which would read whatever system that happens to be).
    pub fn recorded(root: &Path) -> SystemView {
        SystemView {
            root: root.to_path_buf(),
        }
    }

    /// The path of `absolute` in the view; `None` when the view names no tree.
    fn path(&self, absolute: &str) -> Option<PathBuf> {
        if self.root.as_os_str().is_empty() {
            return None;
        }
        Some(self.root.join(absolute.trim_start_matches('/')))
    }

    /// A file's content; `None` when it does not exist.
    pub fn read(&self, absolute: &str) -> anyhow::Result<Option<String>> {
        let Some(path) = self.path(absolute) else {
            return Ok(None);
        };
        match std::fs::read_to_string(path) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("failed to read {absolute}")),
        }
    }

    /// A symbolic link's target (`/proc/self/ns/*`); `None` when absent.
    pub fn read_link(&self, absolute: &str) -> anyhow::Result<Option<String>> {
        let Some(path) = self.path(absolute) else {
            return Ok(None);
        };
        match std::fs::read_link(path) {
            Ok(target) => Ok(Some(target.to_string_lossy().into_owned())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("failed to read link {absolute}")),
        }
    }

    /// Entry names of a directory, sorted; `None` when it does not exist.
    pub fn list(&self, absolute: &str) -> anyhow::Result<Option<Vec<String>>> {
        let Some(path) = self.path(absolute) else {
            return Ok(None);
        };
        let dir = match std::fs::read_dir(path) {
            Ok(dir) => dir,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("failed to list {absolute}")),
        };
        let mut names = Vec::new();
        for entry in dir {
            let entry = entry.with_context(|| format!("failed to list {absolute}"))?;
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
        names.sort();
        Ok(Some(names))
    }

    /// Whether a path exists.
    pub fn exists(&self, absolute: &str) -> bool {
        self.path(absolute).is_some_and(|path| path.exists())
    }
}

/// What `sandprof verify` found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// The runtime in use.
    pub detection: Detection,
    /// The boundary checks, in a fixed order.
    pub checks: Vec<Check>,
}

impl Verification {
    /// Whether every check passed.
    pub fn all_passed(&self) -> bool {
        self.checks.iter().all(|c| c.status == CheckStatus::Pass)
    }
}

/// Runs detection and every check.
pub fn verify(view: &SystemView) -> anyhow::Result<Verification> {
    let detection = detect::detect(view)?;
    let checks = checks::run(view, detection.runtime)?;
    Ok(Verification { detection, checks })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> SystemView {
        SystemView::recorded(
            &Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../tests/fixtures/k8s/verify")
                .join(name),
        )
    }

    fn statuses(v: &Verification) -> Vec<(&str, CheckStatus)> {
        v.checks.iter().map(|c| (c.id, c.status)).collect()
    }

    #[test]
    fn gvisor_fixture() {
        let v = verify(&fixture("gvisor")).unwrap();
        assert_eq!(v.detection.runtime, DetectedRuntime::Gvisor);
        assert_eq!(
            v.detection.evidence,
            vec![
                "/proc/version carries gVisor's build string: Linux version 4.19.0-gvisor #1 \
                 SMP Sun Jan 10 15:06:54 PST 2016 (google/gvisor@3c5eee17dc45659fb86843531074f38e78e0cc35 \
                 pkg/sentry/kernel/version/version.go)",
                "kernel release 4.19.0-gvisor is one gVisor reports",
                "/proc/self/status has no NoNewPrivs line, as under gVisor \
                 (pkg/sentry/fsimpl/proc/task_files.go)",
            ]
        );
        use CheckStatus::*;
        assert_eq!(
            statuses(&v),
            vec![
                ("host-pid-namespace", Pass),
                ("host-ipc-namespace", Pass),
                ("host-network-namespace", Pass),
                ("user-namespace", Pass),
                ("seccomp", Pass),
                ("capabilities", Pass),
                ("no-new-privs", Unknown),
                ("read-only-root", Pass),
                ("service-account-token", Pass),
            ]
        );
    }

    #[test]
    fn kata_fixture() {
        let v = verify(&fixture("kata")).unwrap();
        assert_eq!(v.detection.runtime, DetectedRuntime::Kata);
        assert_eq!(v.detection.evidence.len(), 4, "{:#?}", v.detection.evidence);
        assert_eq!(
            v.detection.evidence[1],
            "mounts from Kata's virtio-fs tag `kataShared`: /, /etc/hosts \
             (kata-containers/kata-containers@7c6ba40c54ea29b459b4997cff948caaba4e658b \
             src/runtime/virtcontainers/kata_agent.go (mountGuestTag))"
        );
        assert_eq!(
            v.detection.evidence[3],
            "running in a VM: hypervisor CPU flag set, 2 virtio device(s)"
        );
        use CheckStatus::*;
        assert_eq!(
            statuses(&v),
            vec![
                ("host-pid-namespace", Pass),
                ("host-ipc-namespace", Pass),
                ("host-network-namespace", Pass),
                ("user-namespace", Fail),
                ("seccomp", Pass),
                ("capabilities", Pass),
                ("no-new-privs", Pass),
                ("read-only-root", Pass),
                ("service-account-token", Pass),
            ]
        );
    }
}
