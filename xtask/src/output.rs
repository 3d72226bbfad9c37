//! Writing generated data files: where they live, TOML quoting, provenance tables, and
//! the `--check` mode that reports drift instead of writing.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use syscall_db::Provenance;

/// `syscall-db/data` of this workspace.
pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("syscall-db")
        .join("data")
}

/// A TOML basic string.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A TOML array of basic strings on one line.
pub fn quote_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| quote(s)).collect();
    format!("[{}]", quoted.join(", "))
}

/// The `[provenance]` table of a generated file.
pub fn provenance_table(p: &Provenance) -> String {
    let mut out = String::from("[provenance]\n");
    let _ = writeln!(out, "table = {}", quote(&p.table));
    let _ = writeln!(out, "project = {}", quote(&p.project));
    let _ = writeln!(out, "revision = {}", quote(&p.revision));
    let _ = writeln!(out, "paths = {}", quote_list(&p.paths));
    let _ = writeln!(out, "date = {}", quote(&p.date));
    let _ = writeln!(out, "maintained = {}", quote(&p.maintained));
    if let Some(note) = &p.note {
        let _ = writeln!(out, "note = {}", quote(note));
    }
    out
}

/// Writes `text` to `path`, or with `check` fails if the file differs.
pub fn write_or_check(path: &Path, text: &str, check: bool) -> anyhow::Result<()> {
    if check {
        let current = fs::read_to_string(path)
            .with_context(|| format!("failed to read {}", path.display()))?;
        if current != text {
            bail!(
                "{} is out of date: run the import without --check and commit the result",
                path.display()
            );
        }
        return Ok(());
    }
    fs::write(path, text).with_context(|| format!("failed to write {}", path.display()))?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_toml_strings() {
        assert_eq!(quote("plain"), "\"plain\"");
        assert_eq!(quote("a \"b\" \\ c\n"), "\"a \\\"b\\\" \\\\ c\\n\"");
        assert_eq!(quote("\u{1}"), "\"\\u0001\"");
    }
}
