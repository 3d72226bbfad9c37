//! What the accuracy tasks share: `sandprof try`'s calibration corpus
//! (`tests/corpus/corpus.toml`) as they read it, and the rewrite of a marked section of
//! a document with a task's generated text.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context as _};
use serde::Deserialize;

/// The corpus file.
#[derive(Deserialize)]
pub struct Corpus {
    /// Its programs, in file order.
    pub program: Vec<Program>,
}

/// One program of the corpus, the fields the tasks use.
#[derive(Deserialize)]
pub struct Program {
    /// Its name.
    pub name: String,
    /// A server polled until it answers, not a command that exits on its own.
    #[serde(default)]
    pub service: bool,
    /// The command.
    pub command: Vec<String>,
    /// `--user` to run it as.
    #[serde(default)]
    pub user: Option<String>,
    /// Why prediction and observation differ, when the corpus explains it.
    #[serde(default)]
    pub differs: Option<String>,
}

/// Reads the corpus of the workspace at `root`.
pub fn load(root: &Path) -> anyhow::Result<Corpus> {
    let path = root.join("tests/corpus/corpus.toml");
    toml::from_str(
        &std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?,
    )
    .with_context(|| format!("{} is not a valid corpus", path.display()))
}

/// `sandprof try` of `command` (as `user`, when given), its JSON report written to `out`,
/// killed after 90 s: as both accuracy tasks run a workload through it.
pub fn try_command(sandprof: &Path, command: &[String], user: Option<&str>, out: &Path) -> Command {
    let mut cmd = Command::new(sandprof);
    cmd.args(["try", "--format", "json", "--timeout", "90s", "-o"])
        .arg(out);
    if let Some(user) = user {
        cmd.args(["--user", user]);
    }
    cmd.arg("--").args(command);
    cmd
}

/// Replaces the text of `doc` from marker `begin` to marker `end` (both included) with
/// `text`, which carries the markers itself.
pub fn rewrite_section(doc: &Path, begin: &str, end: &str, text: &str) -> anyhow::Result<()> {
    let current =
        std::fs::read_to_string(doc).with_context(|| format!("cannot read {}", doc.display()))?;
    let (Some(from), Some(to)) = (current.find(begin), current.find(end)) else {
        bail!("{} has no markers {begin} … {end}", doc.display());
    };
    let updated = format!(
        "{}{}{}",
        &current[..from],
        text.trim_end(),
        &current[to + end.len()..]
    );
    std::fs::write(doc, updated).with_context(|| format!("cannot write {}", doc.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_section_between_the_markers_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let doc = dir.path().join("doc.md");
        std::fs::write(&doc, "# Title\n<!-- b -->\nold\n<!-- e -->\nafter\n").unwrap();
        rewrite_section(
            &doc,
            "<!-- b -->",
            "<!-- e -->",
            "<!-- b -->\nnew\n<!-- e -->\n",
        )
        .unwrap();
        assert_eq!(
            std::fs::read_to_string(&doc).unwrap(),
            "# Title\n<!-- b -->\nnew\n<!-- e -->\nafter\n"
        );
        let err = rewrite_section(&doc, "<!-- x -->", "<!-- e -->", "").unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("{} has no markers <!-- x --> … <!-- e -->", doc.display())
        );
    }

    #[test]
    fn the_corpus_reads() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let corpus = load(root).unwrap();
        assert_eq!(corpus.program.len(), 34);
        assert_eq!(corpus.program.iter().filter(|p| p.service).count(), 6);
    }
}
