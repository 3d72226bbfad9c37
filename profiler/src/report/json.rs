//! The JSON renderer: the [`Report`] as its serde form, pretty-printed, one trailing
//! newline. The schema (`sandprof.report`) is documented in `docs/report-format.md`.

use std::io::{self, Write};

use crate::analysis::finding::Report;

/// Writes `report` as JSON.
pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report).map_err(io::Error::from)?;
    out.write_all(b"\n")
}
