//! The data files the database is built from: the embedded set, and edited copies of it
//! for tests and tools ([`Sources::with_file`]).

use std::borrow::Cow;

/// One data file: its path relative to `data/` and its text.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// Path relative to `data/`, with `/` separators, e.g. `rules/socket.toml`.
    pub path: String,
    /// TOML text.
    pub text: Cow<'static, str>,
}

/// A set of data files, in the order they are read (which is the order rules keep).
#[derive(Clone, Debug, Default)]
pub struct Sources {
    files: Vec<SourceFile>,
}

macro_rules! embed {
    ($($path:literal),* $(,)?) => {
        &[$(($path, include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/", $path)))),*]
    };
}

/// Every data file compiled into the crate. A new rule file must be listed here; the
/// `every_data_file_is_embedded` test fails otherwise.
const EMBEDDED: &[(&str, &str)] = embed![
    "database.toml",
    "constants.toml",
    "remediations.toml",
    "kata.toml",
    "captures.toml",
    "syscalls/x86_64.toml",
    "syscalls/aarch64.toml",
    "syscalls/i386.toml",
    "gvisor/x86_64.toml",
    "gvisor/aarch64.toml",
    "gvisor/releases.toml",
    "gvisor/uname.toml",
    "gvisor/runsc_flags.toml",
    "gvisor/proc.toml",
    "gvisor/notes.toml",
    "gvisor/abi.toml",
    "gvisor/messages.toml",
    "rules/socket.toml",
    "rules/sockopt.toml",
    "rules/ioctl.toml",
    "rules/fcntl.toml",
    "rules/prctl.toml",
    "rules/ptrace.toml",
    "rules/namespaces.toml",
    "rules/mount.toml",
    "rules/madvise.toml",
    "rules/personality.toml",
    "rules/seccomp.toml",
    "rules/keyctl.toml",
    "rules/io_uring.toml",
    "rules/bpf.toml",
    "rules/syscall.toml",
    "rules/proc.toml",
    "rules/sys.toml",
    "rules/dev.toml",
    "rules/kata.toml",
];

impl Sources {
    /// The data files compiled into this build.
    pub fn embedded() -> Sources {
        Sources {
            files: EMBEDDED
                .iter()
                .map(|&(path, text)| SourceFile {
                    path: path.to_owned(),
                    text: Cow::Borrowed(text),
                })
                .collect(),
        }
    }

    /// The files of the embedded set as they are now in `dir` (a `data/` directory):
    /// for tools that check data on disk before it is compiled in.
    pub fn read_dir(dir: &std::path::Path) -> std::io::Result<Sources> {
        let files = EMBEDDED
            .iter()
            .map(|&(path, _)| {
                let text = std::fs::read_to_string(dir.join(path))?;
                Ok(SourceFile {
                    path: path.to_owned(),
                    text: Cow::Owned(text),
                })
            })
            .collect::<std::io::Result<_>>()?;
        Ok(Sources { files })
    }

    /// An empty set, to be filled with [`Sources::with_file`].
    pub fn new() -> Sources {
        Sources::default()
    }

    /// This set with `path` holding `text`: replaces the file if present, else appends it.
    pub fn with_file(mut self, path: &str, text: impl Into<Cow<'static, str>>) -> Sources {
        let text = text.into();
        match self.files.iter_mut().find(|file| file.path == path) {
            Some(file) => file.text = text,
            None => self.files.push(SourceFile {
                path: path.to_owned(),
                text,
            }),
        }
        self
    }

    /// This set without `path`.
    pub fn without_file(mut self, path: &str) -> Sources {
        self.files.retain(|file| file.path != path);
        self
    }

    /// The text of `path`, if present.
    pub fn text(&self, path: &str) -> Option<&str> {
        self.files
            .iter()
            .find(|file| file.path == path)
            .map(|file| file.text.as_ref())
    }

    /// The files, in reading order.
    pub fn files(&self) -> &[SourceFile] {
        &self.files
    }
}
