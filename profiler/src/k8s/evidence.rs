//! What sandprof knows about the workload when it writes node and pod configuration: a
//! report (`sandprof report --format json`, or `sandprof runsc-log`), or one computed
//! from profiles on the spot, and what it says each runtime needs.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use syscall_db::{Database, RemediationKind, Runtime};

use crate::analysis::finding::{
    RemediationRef, Report, Verdict, VerdictStatus, REPORT_SCHEMA, REPORT_SCHEMA_VERSION,
};
use crate::analysis::{self, AnalysisOptions};
use crate::profile::{io as profile_io, SyscallProfile};

/// A report read from a file.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkloadEvidence {
    /// The file, as given.
    pub file: String,
    /// Its content.
    pub report: Report,
}

/// One runsc flag as `runsc.toml` writes it under `[runsc_config]`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RunscFlag {
    /// Flag name without dashes, e.g. `net-raw`.
    pub name: String,
    /// Value; `true` for a bare flag.
    pub value: String,
    /// Database remediation id that asked for it.
    pub remediation: String,
}

impl WorkloadEvidence {
    /// Reads and checks a report file.
    pub fn load(path: &Path) -> anyhow::Result<WorkloadEvidence> {
        let file = path.display().to_string();
        let text =
            std::fs::read_to_string(path).with_context(|| format!("failed to read {file}"))?;
        let report: Report = serde_json::from_str(&text).with_context(|| {
            format!(
                "{file}: not a sandprof report (write one with `sandprof report --format json`)"
            )
        })?;
        if report.schema != REPORT_SCHEMA {
            bail!(
                "{file}: schema is `{}`, expected `{REPORT_SCHEMA}`",
                report.schema
            );
        }
        if report.schema_version > REPORT_SCHEMA_VERSION {
            bail!(
                "{file}: report schema version {} is newer than this sandprof reads ({}); \
                 upgrade sandprof",
                report.schema_version,
                REPORT_SCHEMA_VERSION
            );
        }
        Ok(WorkloadEvidence { file, report })
    }

    /// Judges profiles (several are merged, as by `sandprof report`) against `db` for
    /// both runtimes with no runsc flag assumed, so every flag the workload needs shows
    /// up in the gVisor verdict's configuration. The evidence is named after the files.
    pub fn from_profiles(db: &Database, paths: &[PathBuf]) -> anyhow::Result<WorkloadEvidence> {
        if paths.is_empty() {
            bail!("no profile given");
        }
        let profiles = profile_io::read_many(paths)?;
        WorkloadEvidence::judge(db, &profiles)
    }

    /// Judges profiles already read (each named by its file) as
    /// [`WorkloadEvidence::from_profiles`] does.
    pub fn judge(
        db: &Database,
        profiles: &[(String, SyscallProfile)],
    ) -> anyhow::Result<WorkloadEvidence> {
        if profiles.is_empty() {
            bail!("no profile given");
        }
        let file = profiles
            .iter()
            .map(|(name, _)| name.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let report = analysis::analyze(db, profiles, &AnalysisOptions::default())
            .with_context(|| format!("cannot judge {file}"))?;
        Ok(WorkloadEvidence { file, report })
    }

    /// The verdict for one runtime, if the report has one.
    pub fn verdict(&self, runtime: Runtime) -> Option<&Verdict> {
        self.report.verdicts.iter().find(|v| v.runtime == runtime)
    }

    /// The verdict status, if the report judged this runtime.
    pub fn status(&self, runtime: Runtime) -> Option<VerdictStatus> {
        self.verdict(runtime).map(|v| v.status)
    }

    /// Configuration of one kind the report says the runtime needs.
    pub fn configuration(&self, runtime: Runtime, kind: RemediationKind) -> Vec<&RemediationRef> {
        self.verdict(runtime)
            .map(|v| v.configuration.iter().filter(|r| r.kind == kind).collect())
            .unwrap_or_default()
    }

    /// runsc flags the gVisor verdict needs, sorted and without duplicates.
    pub fn runsc_flags(&self) -> anyhow::Result<Vec<RunscFlag>> {
        let mut flags = Vec::new();
        for remediation in self.configuration(Runtime::Gvisor, RemediationKind::RunscFlag) {
            let Some(flag) = &remediation.flag else {
                bail!(
                    "{}: remediation `{}` is a runsc flag but names none",
                    self.file,
                    remediation.id
                );
            };
            flags.push(
                parse_flag(flag, &remediation.id)
                    .with_context(|| format!("{}: remediation `{}`", self.file, remediation.id))?,
            );
        }
        flags.sort();
        flags.dedup_by(|a, b| a.name == b.name && a.value == b.value);
        if let Some(pair) = flags.windows(2).find(|w| w[0].name == w[1].name) {
            bail!(
                "{}: runsc flag `--{}` is asked for with two values (`{}` by `{}`, `{}` by `{}`)",
                self.file,
                pair[0].name,
                pair[0].value,
                pair[0].remediation,
                pair[1].value,
                pair[1].remediation
            );
        }
        Ok(flags)
    }
}

/// A remediation's flag (`--name` or `--name=value`, as runsc's Go `flag` package takes
/// it) → a [`RunscFlag`]. The syntax is `--runsc-flags`' own
/// ([`crate::analysis::flags::RunscFlag::parse`]), so a flag a report can assume is
/// exactly one the node wiring can write.
pub fn parse_flag(flag: &str, remediation: &str) -> anyhow::Result<RunscFlag> {
    let parsed = crate::analysis::flags::RunscFlag::parse(flag)?;
    Ok(RunscFlag {
        name: parsed.name,
        value: parsed.value.unwrap_or_else(|| "true".to_owned()),
        remediation: remediation.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_parse_bare_and_valued() {
        assert_eq!(
            parse_flag("--net-raw", "runsc.net-raw").unwrap(),
            RunscFlag {
                name: "net-raw".into(),
                value: "true".into(),
                remediation: "runsc.net-raw".into()
            }
        );
        let host = parse_flag("--network=host", "runsc.network-host").unwrap();
        assert_eq!(
            (host.name.as_str(), host.value.as_str()),
            ("network", "host")
        );
        assert_eq!(
            parse_flag("x", "r").unwrap_err().to_string(),
            "`x` is not a runsc flag: expected `--name` or `--name=value`"
        );
        assert_eq!(
            parse_flag("--Bad Name", "r").unwrap_err().to_string(),
            "`--Bad Name` is not a runsc flag: expected `--name` or `--name=value`"
        );
    }
}
