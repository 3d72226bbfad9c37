//! `cargo xtask import-syscalls <linux-source-dir>`: regenerates
//! `syscall-db/data/syscalls/{x86_64,aarch64,i386}.toml` from the kernel's syscall tables.
//!
//! Which table and which ABI rows make each arch's numbers:
//! - x86_64: `arch/x86/entry/syscalls/syscall_64.tbl`, rows `common` and `64` (not `x32`);
//! - i386: `arch/x86/entry/syscalls/syscall_32.tbl`, rows `i386` (the compat ABI);
//! - aarch64: `scripts/syscall.tbl`, rows `common` and `64` plus the ABIs arm64 opts into
//!   in `arch/arm64/kernel/Makefile.syscalls` (`syscall_abis_64 += renameat rlimit
//!   memfd_secret`). Rows of other arches (`arc`, `csky`, `riscv`…) and the 32-bit
//!   `32`/`time32`/`stat64` variants are left out.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::PathBuf;

use anyhow::{bail, Context as _};
use syscall_db::{Arch, Provenance};

use crate::output::{data_dir, provenance_table, quote, write_or_check};

/// Options of `cargo xtask import-syscalls`.
#[derive(Debug, clap::Args)]
pub struct Options {
    /// Root of a Linux source tree (only the three `.tbl` files are read).
    pub linux_dir: PathBuf,
    /// Kernel version the tree is, e.g. `6.18`.
    #[arg(long)]
    pub kernel: String,
    /// Tag or commit of the tree, e.g. `v6.18`.
    #[arg(long)]
    pub revision: String,
    /// Date of that revision (YYYY-MM-DD).
    #[arg(long)]
    pub date: String,
    /// Repository the tree comes from.
    #[arg(long, default_value = "torvalds/linux")]
    pub project: String,
    /// How the tree was obtained, when it is not a plain checkout of `--revision`.
    #[arg(long)]
    pub note: Option<String>,
    /// Fail if the committed files differ from what would be written.
    #[arg(long)]
    pub check: bool,
}

/// One arch's source table and the ABI rows it takes.
pub struct TableSpec {
    /// Arch the table describes.
    pub arch: Arch,
    /// Path of the `.tbl` file inside the kernel tree.
    pub path: &'static str,
    /// ABI column values kept.
    pub abis: &'static [&'static str],
}

/// The three tables sandprof keeps.
pub const TABLES: [TableSpec; 3] = [
    TableSpec {
        arch: Arch::X86_64,
        path: "arch/x86/entry/syscalls/syscall_64.tbl",
        abis: &["common", "64"],
    },
    TableSpec {
        arch: Arch::Aarch64,
        path: "scripts/syscall.tbl",
        abis: &["common", "64", "renameat", "rlimit", "memfd_secret"],
    },
    TableSpec {
        arch: Arch::I386,
        path: "arch/x86/entry/syscalls/syscall_32.tbl",
        abis: &["i386"],
    },
];

/// Runs the task.
pub fn run(opts: Options) -> anyhow::Result<()> {
    for spec in &TABLES {
        let path = opts.linux_dir.join(spec.path);
        let text = fs::read_to_string(&path)
            .with_context(|| format!("failed to read {}", path.display()))?;
        let rows = parse_tbl(&text, spec.abis)
            .with_context(|| format!("failed to parse {}", path.display()))?;
        let provenance = Provenance {
            table: format!("syscalls-{}", spec.arch),
            project: opts.project.clone(),
            revision: opts.revision.clone(),
            paths: vec![spec.path.to_owned()],
            date: opts.date.clone(),
            maintained: "generated".to_owned(),
            note: opts.note.clone(),
            checked_from: None,
        };
        let out = data_dir()
            .join("syscalls")
            .join(format!("{}.toml", spec.arch));
        write_or_check(&out, &render(&rows, &opts.kernel, &provenance), opts.check)?;
    }
    Ok(())
}

/// The `(number, name)` rows of a kernel `.tbl` file whose ABI is one of `abis`, sorted
/// by number. Errors name the line.
pub fn parse_tbl(text: &str, abis: &[&str]) -> anyhow::Result<Vec<(u32, String)>> {
    let mut rows: BTreeMap<u32, String> = BTreeMap::new();
    for (index, line) in text.lines().enumerate() {
        let line_no = index + 1;
        let content = line.split('#').next().unwrap_or("");
        let mut columns = content.split_whitespace();
        let Some(number) = columns.next() else {
            continue;
        };
        let (Some(abi), Some(name)) = (columns.next(), columns.next()) else {
            bail!(
                "line {line_no}: expected `<number> <abi> <name> [entry points]`, found `{}`",
                line.trim()
            );
        };
        let number: u32 = number
            .parse()
            .with_context(|| format!("line {line_no}: `{number}` is not a syscall number"))?;
        if !abis.contains(&abi) {
            continue;
        }
        if let Some(previous) = rows.insert(number, name.to_owned()) {
            bail!("line {line_no}: number {number} is both `{previous}` and `{name}` for ABIs {abis:?}");
        }
    }
    if rows.is_empty() {
        bail!("no rows for ABIs {abis:?}");
    }
    Ok(rows.into_iter().collect())
}

/// The text of `syscalls/<arch>.toml`.
pub fn render(rows: &[(u32, String)], kernel: &str, provenance: &Provenance) -> String {
    let mut out = String::from(
        "# Generated by `cargo xtask import-syscalls`. Do not edit: rerun the import instead.\n",
    );
    let _ = writeln!(out, "kernel = {}", quote(kernel));
    out.push_str("syscalls = [\n");
    for (number, name) in rows {
        let _ = writeln!(out, "  {{ name = {}, number = {number} }},", quote(name));
    }
    out.push_str("]\n\n");
    out.push_str(&provenance_table(provenance));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TBL: &str = "\
# comment line
0\tcommon\tio_setup\tsys_io_setup\tcompat_sys_io_setup
25\t32\tfcntl64\tsys_fcntl64
25\t64\tfcntl\tsys_fcntl
38\trenameat renameat\tsys_renameat
244\tarc\tcacheflush\tsys_cacheflush

447\tmemfd_secret\tmemfd_secret\tsys_memfd_secret
";

    #[test]
    fn keeps_only_the_requested_abis() {
        let rows = parse_tbl(TBL, &["common", "64", "renameat", "memfd_secret"]).unwrap();
        assert_eq!(
            rows,
            vec![
                (0, "io_setup".to_owned()),
                (25, "fcntl".to_owned()),
                (38, "renameat".to_owned()),
                (447, "memfd_secret".to_owned()),
            ]
        );
    }

    #[test]
    fn rejects_bad_lines_with_their_number() {
        let err = parse_tbl("0 common read\nx common write\n", &["common"]).unwrap_err();
        assert_eq!(
            format!("{err:#}"),
            "line 2: `x` is not a syscall number: invalid digit found in string"
        );
        let err = parse_tbl("0 common\n", &["common"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 1: expected `<number> <abi> <name> [entry points]`, found `0 common`"
        );
        let err = parse_tbl("1 common a\n1 64 b\n", &["common", "64"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 2: number 1 is both `a` and `b` for ABIs [\"common\", \"64\"]"
        );
    }
}
