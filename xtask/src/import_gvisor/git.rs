//! Reading a gVisor git repository (a clone with its tags, or a bare mirror): the
//! `release-*` tags with their commits and dates, and files at any revision, through one
//! `git cat-file --batch` process so reading ~150 releases' files costs one process.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use anyhow::{anyhow, bail, Context as _};
use syscall_db::{Release, ReleaseInfo};

/// A git repository read with `git -C <dir>`.
pub struct Repo {
    dir: PathBuf,
    batch: Option<Batch>,
}

struct Batch {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
}

impl Drop for Batch {
    fn drop(&mut self) {
        // Closing stdin ends `cat-file --batch`; reap it so no zombie is left.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Repo {
    /// The repository at `dir` (a work tree or a bare git directory).
    pub fn open(dir: &Path) -> anyhow::Result<Repo> {
        let repo = Repo {
            dir: dir.to_owned(),
            batch: None,
        };
        repo.git(&["rev-parse", "--git-dir"])
            .with_context(|| format!("{} is not a git repository", dir.display()))?;
        Ok(repo)
    }

    /// Runs `git -C <dir> <args>` and returns its trimmed standard output.
    pub fn git(&self, args: &[&str]) -> anyhow::Result<String> {
        let output = Command::new("git")
            .arg("-C")
            .arg(&self.dir)
            .args(args)
            .output()
            .with_context(|| format!("failed to run git {args:?} in {}", self.dir.display()))?;
        if !output.status.success() {
            bail!(
                "git {args:?} in {} failed ({}): {}",
                self.dir.display(),
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }

    /// Every `release-YYYYMMDD.N` tag at or after `from`, oldest first, with the commit
    /// it points to and that commit's date. Tags that are not of that form are skipped.
    pub fn releases(&self, from: Release) -> anyhow::Result<Vec<ReleaseInfo>> {
        let listing = self.git(&[
            "for-each-ref",
            "--format=%(refname:strip=2) %(*objectname)%(objectname) %(*committerdate:short)%(committerdate:short)",
            "refs/tags/release-*",
        ])?;
        let mut releases = Vec::new();
        for line in listing.lines() {
            let mut fields = line.split_whitespace();
            let (Some(tag), Some(objects), Some(dates)) =
                (fields.next(), fields.next(), fields.next())
            else {
                bail!("unexpected `git for-each-ref` line: {line:?}");
            };
            let Ok(release) = Release::parse(tag) else {
                continue;
            };
            if release < from || release.tag() != tag {
                continue;
            }
            // An annotated tag prints the commit (`%(*objectname)`) and then the tag
            // object; a lightweight one prints only the commit.
            let commit = objects.get(..40).unwrap_or(objects).to_owned();
            let date = dates.get(..10).unwrap_or(dates).to_owned();
            releases.push(ReleaseInfo {
                tag: release,
                commit,
                date,
            });
        }
        releases.sort_by_key(|r| r.tag);
        if releases.is_empty() {
            bail!(
                "{} has no `release-*` tags at or after {from}: fetch the tags (`git fetch --tags`)",
                self.dir.display()
            );
        }
        Ok(releases)
    }

    /// The text of `path` at `revision`, or None when the file does not exist there.
    pub fn show(&mut self, revision: &str, path: &str) -> anyhow::Result<Option<String>> {
        if self.batch.is_none() {
            let mut child = Command::new("git")
                .arg("-C")
                .arg(&self.dir)
                .args(["cat-file", "--batch"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .with_context(|| format!("failed to run git cat-file in {}", self.dir.display()))?;
            let input = child.stdin.take().ok_or_else(|| anyhow!("no stdin"))?;
            let output = BufReader::new(child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?);
            self.batch = Some(Batch {
                child,
                input,
                output,
            });
        }
        let batch = self.batch.as_mut().expect("started above");
        writeln!(batch.input, "{revision}:{path}")
            .and_then(|()| batch.input.flush())
            .context("failed to write to git cat-file")?;
        let mut header = String::new();
        batch
            .output
            .read_line(&mut header)
            .context("failed to read from git cat-file")?;
        let header = header.trim_end();
        if header.ends_with(" missing") || header.ends_with(" ambiguous") {
            return Ok(None);
        }
        let size: usize = match header.split(' ').collect::<Vec<_>>().as_slice() {
            [_, "blob", size] => size
                .parse()
                .with_context(|| format!("bad git cat-file header {header:?}"))?,
            _ => bail!("{revision}:{path} is not a file (git cat-file said {header:?})"),
        };
        let mut content = vec![0; size + 1];
        batch
            .output
            .read_exact(&mut content)
            .context("failed to read from git cat-file")?;
        content.pop();
        String::from_utf8(content)
            .map(Some)
            .with_context(|| format!("{revision}:{path} is not UTF-8"))
    }

    /// The text of `path` at `revision`; an error when it does not exist there.
    pub fn read(&mut self, revision: &str, path: &str) -> anyhow::Result<String> {
        self.show(revision, path)?
            .ok_or_else(|| anyhow!("{path} does not exist at {revision}"))
    }
}
