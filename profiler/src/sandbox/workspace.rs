//! Everything a trial creates on the host, and its removal on every exit path: a
//! private temporary directory (bundles, root file systems, runtime state, logs), the
//! mounts made in it, the containers created and their cgroups. Dropping the
//! [`Workspace`] — on return, error, panic, or after Ctrl-C or SIGTERM was turned
//! into an error — deletes the containers (`delete -f`/`-force`), unmounts, removes
//! cgroups the runtimes left, then the directory. The directory is removed only once
//! nothing is mounted in it any more: removing a tree with the host's `/` bound inside
//! would reach into the host.
//!
//! Mounts are made in sandprof's private mount namespace (see
//! [`super::host::private_mount_namespace`]), so even SIGKILL cannot leave them on
//! the host.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::cgroup::Hierarchies;
use super::host;
use super::runtime::RuntimeCli;

/// The trial's host resources.
pub struct Workspace {
    dir: Option<tempfile::TempDir>,
    /// Mount points, in the order mounted.
    mounts: Vec<PathBuf>,
    /// Containers created (or being created), with the runtime that owns each.
    containers: Vec<(RuntimeCli, String)>,
    /// cgroup paths the containers were given.
    cgroups: Vec<String>,
    /// A short random token naming this trial's containers and cgroups.
    token: String,
    /// What the workspace is for (`try`, `bench`): in its directory's and its
    /// containers' names.
    purpose: &'static str,
}

impl Workspace {
    /// A new private directory (mode 0700, unpredictable name) under the system's
    /// temporary directory, for a trial.
    pub fn new() -> anyhow::Result<Workspace> {
        Workspace::for_purpose("try")
    }

    /// A new private directory for `purpose` (`sandprof-<purpose>-<random>`).
    pub fn for_purpose(purpose: &'static str) -> anyhow::Result<Workspace> {
        let prefix = format!("sandprof-{purpose}-");
        let dir = tempfile::Builder::new()
            .prefix(&prefix)
            .tempdir()
            .context("cannot create a private temporary directory")?;
        let token = dir
            .path()
            .file_name()
            .map(|n| n.to_string_lossy().trim_start_matches(&prefix).to_owned())
            .unwrap_or_default()
            .to_ascii_lowercase();
        Ok(Workspace {
            dir: Some(dir),
            mounts: Vec::new(),
            containers: Vec::new(),
            cgroups: Vec::new(),
            token,
            purpose,
        })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        self.dir
            .as_ref()
            .map_or(Path::new("/nonexistent"), |d| d.path())
    }

    /// A name unique to this workspace: `sandprof-<purpose>-<token>-<what>`.
    pub fn name(&self, what: &str) -> String {
        format!("sandprof-{}-{}-{what}", self.purpose, self.token)
    }

    /// Creates `relative` (and its parents) in the directory.
    pub fn subdir(&self, relative: &str) -> anyhow::Result<PathBuf> {
        let path = self.path().join(relative);
        std::fs::create_dir_all(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        Ok(path)
    }

    /// Records a mount made at `target`, to be undone.
    pub fn mounted(&mut self, target: PathBuf) {
        self.mounts.push(target);
    }

    /// Records a container about to be created, to be deleted.
    pub fn container(&mut self, runtime: &RuntimeCli, id: &str) {
        self.containers.push((runtime.clone(), id.to_owned()));
    }

    /// Records a cgroup path a container is given.
    pub fn cgroup(&mut self, path: &str) {
        self.cgroups.push(path.to_owned());
    }

    /// Deletes container `id` now, reporting a failure; it is forgotten either way
    /// (a delete that failed is retried at drop).
    pub fn delete_container(&mut self, id: &str) -> anyhow::Result<()> {
        let Some(i) = self.containers.iter().position(|(_, c)| c == id) else {
            return Ok(());
        };
        let (runtime, id) = &self.containers[i];
        runtime.delete_now(id)?;
        self.containers.remove(i);
        Ok(())
    }

    fn teardown(&mut self) -> Vec<String> {
        let mut problems = Vec::new();
        let had_containers = !self.containers.is_empty();
        for (runtime, id) in self.containers.drain(..).rev() {
            if let Err(e) = runtime.delete_now(&id) {
                // A container that never got created is not a problem.
                let text = e.to_string();
                if !text.contains("does not exist") && !text.contains("not exist") {
                    problems.push(text);
                }
            }
        }
        // A sandbox whose `create` never finished has no saved state for `delete` to
        // act on; its processes are found by the private state directory they name.
        if had_containers {
            problems.extend(kill_strays(self.path()));
        }
        let mut all_unmounted = true;
        for target in self.mounts.drain(..).rev() {
            if let Err(e) = host::unmount(&target) {
                all_unmounted = false;
                problems.push(format!("{e:#}"));
            }
        }
        let hierarchies = Hierarchies::of_this_process();
        for cgroup in self.cgroups.drain(..) {
            problems.extend(hierarchies.remove(&cgroup));
        }
        if let Some(dir) = self.dir.take() {
            if all_unmounted {
                if let Err(e) = dir.close() {
                    problems.push(format!("cannot remove the temporary directory: {e}"));
                }
            } else {
                let kept = dir.keep();
                problems.push(format!(
                    "left {} in place because something is still mounted in it",
                    kept.display()
                ));
            }
        }
        problems
    }

    /// Removes everything now, reporting what could not be removed.
    pub fn close(mut self) -> anyhow::Result<()> {
        let problems = self.teardown();
        if problems.is_empty() {
            Ok(())
        } else {
            anyhow::bail!("cleaning up after the trial: {}", problems.join("; "))
        }
    }
}

/// Kills (SIGKILL) the processes whose command line names a path in `dir`: runtime
/// processes of this trial only, since `dir` is its private, unpredictable directory.
fn kill_strays(dir: &Path) -> Vec<String> {
    let needle = dir.as_os_str().as_encoded_bytes();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let me = std::process::id();
    let mut problems = Vec::new();
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        if pid as u32 == me {
            continue;
        }
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        if cmdline.windows(needle.len()).any(|w| w == needle) {
            // SAFETY: kill takes plain integers; the pid was read from /proc just now.
            if unsafe { libc::kill(pid, libc::SIGKILL) } != 0 {
                let err = std::io::Error::last_os_error();
                if err.raw_os_error() != Some(libc::ESRCH) {
                    problems.push(format!("cannot kill stray runtime process {pid}: {err}"));
                }
            }
        }
    }
    problems
}

impl Drop for Workspace {
    fn drop(&mut self) {
        for problem in self.teardown() {
            let _ = writeln!(std::io::stderr(), "sandprof: cleanup: {problem}");
        }
    }
}
