//! Where a subcommand's main output goes: standard output, or the file `-o` names.
//! Every command that prints a report, a diff or a plan goes through [`Output`], so
//! each decides color the same way: only on a terminal, and never when `NO_COLOR` is
//! set (<https://no-color.org>); a file never gets color. A file is written through
//! [`AtomicFile`], like every file sandprof writes.

use std::io::{self, BufWriter, IsTerminal as _, StdoutLock, Write};
use std::path::Path;

use anyhow::Context as _;

use crate::atomic_file::{self, AtomicFile};

/// Whether output written to standard output may carry ANSI color.
pub fn stdout_color() -> bool {
    io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// A buffered destination for a command's output.
pub struct Output {
    sink: Sink,
    color: bool,
}

enum Sink {
    Stdout(BufWriter<StdoutLock<'static>>),
    File(AtomicFile),
}

impl Output {
    /// Standard output.
    pub fn stdout() -> Output {
        Output {
            sink: Sink::Stdout(BufWriter::new(io::stdout().lock())),
            color: stdout_color(),
        }
    }

    /// The file at `path` when one is given, else standard output. A file that is one
    /// of the command's `inputs` is refused before anything is written.
    pub fn to<P: AsRef<Path>>(path: Option<&Path>, inputs: &[P]) -> anyhow::Result<Output> {
        let Some(path) = path else {
            return Ok(Output::stdout());
        };
        atomic_file::refuse_inputs(path, inputs)?;
        Ok(Output {
            sink: Sink::File(AtomicFile::create(path)?),
            color: false,
        })
    }

    /// Whether to use ANSI color.
    pub fn color(&self) -> bool {
        self.color
    }

    /// Flushes everything written; a file replaces its target only now, whole.
    pub fn finish(self) -> anyhow::Result<()> {
        match self.sink {
            Sink::Stdout(mut out) => out.flush().context("cannot write to standard output"),
            Sink::File(file) => file.commit(),
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.sink {
            Sink::Stdout(out) => out.write(buf),
            Sink::File(out) => out.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match &mut self.sink {
            Sink::Stdout(out) => out.write_all(buf),
            Sink::File(out) => out.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.sink {
            Sink::Stdout(out) => out.flush(),
            Sink::File(out) => out.flush(),
        }
    }
}
