//! runc and runsc as command-line runtimes, driven the way containerd's runc shim
//! drives them: `create`, `start`, `state` (JSON, read with serde), `kill`, `wait`
//! (runsc), `delete -f` / `delete -force`. Each keeps its state in a private root
//! directory; a failing command's error carries its own stderr or log.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Stdio};

use serde::Deserialize;
use thiserror::Error;
use tokio::process::Command;

/// Which runtime.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// runc, the reference: what Kubernetes runs containers with today.
    Runc,
    /// runsc, gVisor.
    Runsc,
}

impl Kind {
    /// Its command name.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Runc => "runc",
            Kind::Runsc => "runsc",
        }
    }
}

/// A runtime command that failed.
#[derive(Debug, Error)]
pub enum RuntimeError {
    /// It could not be started.
    #[error("cannot run `{command}`: {source}")]
    Spawn {
        /// The command line.
        command: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// It ran and failed.
    #[error("`{command}` failed ({status}){}", detail(.stderr))]
    Failed {
        /// The command line.
        command: String,
        /// Its exit status.
        status: String,
        /// What it said.
        stderr: String,
    },
    /// It printed something that is not what it documents.
    #[error("`{command}` printed something unexpected ({problem}): {output}")]
    Output {
        /// The command line.
        command: String,
        /// What is wrong.
        problem: String,
        /// What it printed.
        output: String,
    },
}

fn detail(stderr: &str) -> String {
    let text = stderr.trim();
    if text.is_empty() {
        String::new()
    } else {
        format!(": {text}")
    }
}

/// `runc state` / `runsc state`: the part a run needs.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct State {
    /// `created`, `running`, `stopped`…
    pub status: String,
    /// The container's init process in the host's PID namespace (runc), or the
    /// sandbox process (runsc).
    pub pid: i64,
}

/// `runsc wait`'s answer.
#[derive(Deserialize)]
struct WaitResult {
    #[serde(rename = "exitStatus")]
    exit_status: i32,
}

/// One runtime with its state directory and global flags.
#[derive(Clone, Debug)]
pub struct RuntimeCli {
    /// Which.
    pub kind: Kind,
    /// Its executable.
    pub binary: PathBuf,
    /// The private state root (`--root`).
    pub root: PathBuf,
    /// Global flags for `create` and `start` (runsc: platform, network, the user's
    /// flags). `state`, `kill`, `wait` and `delete` get `--root` alone: they act on
    /// the saved container, and a flag runsc refuses must not stop the cleanup.
    pub global: Vec<OsString>,
    /// Global flags for `create` and `start` only (runsc: debug logging; runc: its
    /// log file).
    pub logging: Vec<OsString>,
}

impl RuntimeCli {
    fn command(&self, starting: bool) -> Command {
        let mut cmd = Command::new(&self.binary);
        cmd.arg("--root").arg(&self.root);
        if starting {
            cmd.args(&self.global).args(&self.logging);
        }
        cmd.stdin(Stdio::null()).kill_on_drop(true);
        cmd
    }

    fn shown(&self, args: &[&str]) -> String {
        format!("{} {}", self.kind.name(), args.join(" "))
    }

    async fn checked(&self, mut cmd: Command, args: &[&str]) -> Result<Vec<u8>, RuntimeError> {
        let out = cmd
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .await
            .map_err(|source| RuntimeError::Spawn {
                command: self.shown(args),
                source,
            })?;
        if !out.status.success() {
            return Err(RuntimeError::Failed {
                command: self.shown(args),
                status: out.status.to_string(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            });
        }
        Ok(out.stdout)
    }

    /// `create`: the container's stdio are `stdout` and `stderr` (and /dev/null), held
    /// by it from then on. On failure, `log` (if any) is read for the runtime's words.
    pub async fn create(
        &self,
        bundle: &Path,
        id: &str,
        stdout: Stdio,
        stderr: Stdio,
        log: Option<&Path>,
    ) -> Result<(), RuntimeError> {
        let args = ["create", "--bundle", &bundle.display().to_string(), id];
        let status = self
            .command(true)
            .args(args)
            .stdout(stdout)
            .stderr(stderr)
            .status()
            .await
            .map_err(|source| RuntimeError::Spawn {
                command: self.shown(&args),
                source,
            })?;
        if status.success() {
            return Ok(());
        }
        let said = log
            .and_then(|log| std::fs::read_to_string(log).ok())
            .unwrap_or_default();
        Err(RuntimeError::Failed {
            command: self.shown(&args),
            status: status.to_string(),
            stderr: log_messages(&said),
        })
    }

    /// `start`.
    pub async fn start(&self, id: &str) -> Result<(), RuntimeError> {
        self.checked(self.command(true), &["start", id])
            .await
            .map(drop)
    }

    /// `state`.
    pub async fn state(&self, id: &str) -> Result<State, RuntimeError> {
        let out = self.checked(self.command(false), &["state", id]).await?;
        serde_json::from_slice(&out).map_err(|e| RuntimeError::Output {
            command: self.shown(&["state", id]),
            problem: e.to_string(),
            output: String::from_utf8_lossy(&out).into_owned(),
        })
    }

    /// `kill --all ID KILL`: every process of the container.
    pub async fn kill_all(&self, id: &str) -> Result<(), RuntimeError> {
        self.checked(self.command(false), &["kill", "--all", id, "KILL"])
            .await
            .map(drop)
    }

    /// `runsc wait`: the container's exit status, signals folded to 128 + N as runsc
    /// reports them.
    pub async fn wait(&self, id: &str) -> Result<i32, RuntimeError> {
        let out = self.checked(self.command(false), &["wait", id]).await?;
        let result: WaitResult =
            serde_json::from_slice(&out).map_err(|e| RuntimeError::Output {
                command: self.shown(&["wait", id]),
                problem: e.to_string(),
                output: String::from_utf8_lossy(&out).into_owned(),
            })?;
        Ok(result.exit_status)
    }

    /// `delete -f` (runc) or `delete -force` (runsc), blocking: the cleanup path, which
    /// must also run from a destructor. Returns what went wrong, if anything.
    pub fn delete_now(&self, id: &str) -> Result<(), RuntimeError> {
        let force = match self.kind {
            Kind::Runc => "-f",
            Kind::Runsc => "-force",
        };
        let args = ["delete", force, id];
        let out = StdCommand::new(&self.binary)
            .arg("--root")
            .arg(&self.root)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|source| RuntimeError::Spawn {
                command: self.shown(&args),
                source,
            })?;
        if out.status.success() {
            Ok(())
        } else {
            Err(RuntimeError::Failed {
                command: self.shown(&args),
                status: out.status.to_string(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            })
        }
    }
}

/// The messages of a runc JSON log (`{"level":…,"msg":…}` per line), one per line;
/// text that is not such a log is kept as it is.
fn log_messages(log: &str) -> String {
    #[derive(Deserialize)]
    struct Line {
        msg: String,
    }
    log.lines()
        .map(|line| serde_json::from_str::<Line>(line).map_or_else(|_| line.to_owned(), |l| l.msg))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs() {
        assert_eq!(
            log_messages("{\"level\":\"error\",\"msg\":\"no such file\",\"time\":\"t\"}\nplain"),
            "no such file\nplain"
        );
    }

    #[test]
    fn state_json() {
        let state: State = serde_json::from_str(
            r#"{"ociVersion":"1.0.2","id":"x","status":"created","pid":42,"bundle":"/b"}"#,
        )
        .unwrap();
        assert_eq!(
            state,
            State {
                status: "created".to_owned(),
                pid: 42
            }
        );
    }
}
