//! Which inputs to read and how to open them: files, directories (runsc's
//! `--debug-log=DIR/` writes one file per command, `runsc.log.TIMESTAMP.COMMAND.txt`,
//! see `runsc/specutils/specutils.go`), gzip files (recognised by their magic bytes,
//! whatever their name), and `-` for stdin.

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read};
use std::path::PathBuf;

use anyhow::{bail, Context as _};
use flate2::read::MultiGzDecoder;

/// One input to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// Standard input.
    Stdin,
    /// A file.
    File(PathBuf),
}

impl Input {
    /// The name findings cite.
    pub fn name(&self) -> String {
        match self {
            Input::Stdin => "-".to_owned(),
            Input::File(path) => path.display().to_string(),
        }
    }

    /// The runsc command that wrote the file, from runsc's file naming
    /// (`….boot.txt`, `….gofer.txt.gz`…).
    pub fn command_from_name(&self) -> Option<String> {
        let Input::File(path) = self else {
            return None;
        };
        let name = path.file_name()?.to_str()?;
        let name = name.strip_suffix(".gz").unwrap_or(name);
        let stem = name
            .strip_suffix(".txt")
            .or_else(|| name.strip_suffix(".log"))
            .or_else(|| name.strip_suffix(".json"))?;
        let command = stem.rsplit('.').next()?;
        const COMMANDS: [&str; 16] = [
            "boot",
            "checkpoint",
            "create",
            "delete",
            "do",
            "events",
            "exec",
            "gofer",
            "kill",
            "pause",
            "restore",
            "resume",
            "run",
            "start",
            "state",
            "wait",
        ];
        COMMANDS.contains(&command).then(|| command.to_owned())
    }
}

/// Expands the command line's paths: a directory stands for the regular files in it
/// (not hidden, sorted by name, not recursing); `-` is stdin, at most once.
pub fn expand(paths: &[PathBuf]) -> anyhow::Result<Vec<Input>> {
    let mut inputs = Vec::new();
    let mut stdin_seen = false;
    for path in paths {
        if path.as_os_str() == "-" {
            if stdin_seen {
                bail!("`-` (stdin) is given more than once");
            }
            stdin_seen = true;
            inputs.push(Input::Stdin);
            continue;
        }
        let meta = fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
        if meta.is_dir() {
            let mut files = Vec::new();
            for entry in fs::read_dir(path)
                .with_context(|| format!("cannot list directory {}", path.display()))?
            {
                let entry =
                    entry.with_context(|| format!("cannot list directory {}", path.display()))?;
                let hidden = entry.file_name().to_string_lossy().starts_with('.');
                let file_type = entry
                    .file_type()
                    .with_context(|| format!("cannot read {}", entry.path().display()))?;
                if !hidden && file_type.is_file() {
                    files.push(entry.path());
                }
            }
            if files.is_empty() {
                bail!("directory {} holds no log files", path.display());
            }
            files.sort();
            inputs.extend(files.into_iter().map(Input::File));
        } else {
            inputs.push(Input::File(path.clone()));
        }
    }
    if inputs.is_empty() {
        bail!("no input given: name log files, directories, or `-` for stdin");
    }
    Ok(inputs)
}

/// Opens an input, decompressing gzip. The reader is unbuffered on top of the
/// decoder; the line scanner does its own large reads.
pub fn open(input: &Input) -> anyhow::Result<Box<dyn Read>> {
    let raw: Box<dyn Read> = match input {
        Input::Stdin => Box::new(io::stdin().lock()),
        Input::File(path) => {
            Box::new(File::open(path).with_context(|| format!("cannot open {}", path.display()))?)
        }
    };
    let mut buffered = BufReader::with_capacity(1 << 16, raw);
    let head = buffered
        .fill_buf()
        .with_context(|| format!("cannot read {}", input.name()))?;
    if head.starts_with(&[0x1f, 0x8b]) {
        Ok(Box::new(MultiGzDecoder::new(buffered)))
    } else {
        Ok(Box::new(buffered))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_from_runsc_file_names() {
        let cmd = |p: &str| Input::File(PathBuf::from(p)).command_from_name();
        assert_eq!(
            cmd("/l/runsc.log.20240102-150405.123456.boot.txt").as_deref(),
            Some("boot")
        );
        assert_eq!(cmd("gofer.txt.gz").as_deref(), Some("gofer"));
        assert_eq!(cmd("x.create.json").as_deref(), Some("create"));
        assert_eq!(cmd("notes.txt"), None);
        assert_eq!(Input::Stdin.command_from_name(), None);
    }
}
