//! `--gvisor-release` (and `--upgrade-to`): the options every judging command shares to
//! say which gVisor release it judges against, flattened into each command's options.
//! The resolving itself lives in [`crate::release`].

use std::io::Write;
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use syscall_db::Database;

use crate::analysis::{self, upgrade};
use crate::profile::SyscallProfile;
use crate::release::{self, JudgedRelease, ReleaseChoice};
use crate::report;

use super::report::ReportOptions;

/// Which gVisor release to judge against.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct ReleaseArgs {
    /// gVisor release to judge against: a release (`release-20221219.0`, `20221219.0`,
    /// or Debian's `0.0~20221219.0`), `latest` (the newest the database knows), or
    /// `auto` (the release of the runsc installed here, from `runsc --version`). A
    /// release between two the database knows is judged by the earlier one. Default:
    /// the newest, and the report says so.
    #[arg(long, value_name = "RELEASE|latest|auto")]
    pub gvisor_release: Option<ReleaseChoice>,
}

impl ReleaseArgs {
    /// The embedded database viewed at the release asked for.
    pub fn resolve(&self) -> anyhow::Result<JudgedRelease> {
        release::judge_at(Database::get(), self.gvisor_release.as_ref())
            .context("cannot choose the gVisor release to judge against")
    }
}

/// What upgrading runsc changes (`sandprof report` only).
#[derive(Clone, Debug, Default, clap::Args)]
pub struct UpgradeArgs {
    /// Also judge at this later gVisor release (a release, `latest` or `auto`) and
    /// report what upgrading runsc from `--gvisor-release` to it changes for the
    /// workload: findings fixed, findings new, findings changed. `--fail-on` then judges
    /// the upgraded release.
    #[arg(long, value_name = "RELEASE|latest|auto")]
    pub upgrade_to: Option<ReleaseChoice>,
}

impl UpgradeArgs {
    /// The release to upgrade to, when one is asked for.
    pub fn resolve(&self) -> anyhow::Result<Option<JudgedRelease>> {
        self.upgrade_to
            .as_ref()
            .map(|choice| {
                release::judge_at(Database::get(), Some(choice))
                    .context("cannot choose the gVisor release to upgrade to")
            })
            .transpose()
    }
}

/// `sandprof report --upgrade-to`: judges `profiles` at the release `opts` judges at and
/// at `target`, writes what changes between the two, and returns the exit code
/// `--fail-on` asks for of the report at `target`.
pub fn report_upgrade(
    profiles: &[(String, SyscallProfile)],
    opts: &ReportOptions,
    target: &JudgedRelease,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    if target.release() == opts.release.release() {
        bail!(
            "--upgrade-to names gVisor {}, the release already judged: name another release",
            target.release()
        );
    }
    let judge = |release: &JudgedRelease| -> anyhow::Result<analysis::finding::Report> {
        let mut report = analysis::analyze(release.database(), profiles, &opts.analysis)?;
        release.annotate(&mut report);
        Ok(report)
    };
    let after = judge(target)?;
    let exit = opts.gate.exit_code(&after);
    let upgrade = upgrade::compare(judge(&opts.release)?, after);
    report::upgrade::render(&upgrade, opts.format, out)
        .and_then(|()| out.flush())
        .context("cannot write the report")?;
    Ok(exit)
}
