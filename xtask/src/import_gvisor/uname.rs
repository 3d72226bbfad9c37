//! What gVisor reports as its kernel: the `LinuxSysname`, `LinuxRelease` and
//! `LinuxVersion` constants (what `uname(2)`, `/proc/version` and
//! `/proc/sys/kernel/{ostype,osrelease,version}` show). They moved between files over
//! the releases, so each candidate file is searched, and the file they were read from
//! is kept as the fact's provenance.

use anyhow::{bail, Context as _};
use syscall_db::files::UnameRow;

use super::lexer::{tokenize, Token};

/// Files that have held the constants, newest home first.
pub const PATHS: [&str; 2] = [
    "pkg/sentry/kernel/version/version.go",
    "pkg/sentry/syscalls/linux/linux64.go",
];

/// The constants in `source` (the text of `path`), if it defines all three.
pub fn parse(path: &str, source: &str) -> anyhow::Result<Option<UnameRow>> {
    let tokens = tokenize(source).with_context(|| format!("in {path}"))?;
    let constant = |name: &str| -> Option<String> {
        tokens
            .windows(3)
            .find_map(|w| match (&w[0].token, &w[1].token, &w[2].token) {
                (Token::Ident(n), Token::Punct('='), Token::Str(value)) if n == name => {
                    Some(value.clone())
                }
                _ => None,
            })
    };
    match (
        constant("LinuxSysname"),
        constant("LinuxRelease"),
        constant("LinuxVersion"),
    ) {
        (Some(sysname), Some(release), Some(version)) => Ok(Some(UnameRow {
            sysname,
            release,
            version,
            path: path.to_owned(),
            first: None,
            last: None,
        })),
        (None, None, None) => Ok(None),
        _ => bail!(
            "{path} defines only some of LinuxSysname, LinuxRelease and LinuxVersion: teach the importer where the others went"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_three_constants() {
        let src = "package version\nconst (\n\tLinuxSysname = \"Linux\"\n\tLinuxRelease = \"4.19.0-gvisor\"\n\tLinuxVersion = \"#1 SMP\"\n)\n";
        assert_eq!(
            parse("v.go", src).unwrap(),
            Some(UnameRow {
                sysname: "Linux".into(),
                release: "4.19.0-gvisor".into(),
                version: "#1 SMP".into(),
                path: "v.go".into(),
                first: None,
                last: None,
            })
        );
        assert_eq!(parse("v.go", "package x\n").unwrap(), None);
        assert!(parse("v.go", "LinuxRelease = \"4.4.0\"\n").is_err());
    }
}
