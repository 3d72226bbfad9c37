//! `sandprof runsc-log`: the post-mortem. Reads runsc debug and `--strace` logs (files,
//! log directories, gzip, stdin; text, json or json-k8s, as pasted or exported), says
//! what failed and its most likely cause first, which unsupported or failing calls and
//! runsc messages explain it, and what to do, through the same renderers as `sandprof
//! report`. `--to-profile` writes the strace lines as a profile for `report`, `merge`
//! and `diff`. An input with nothing of runsc's in it is no evidence, never a pass.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use syscall_db::{Arch, Database, Release, UnknownRelease};

use super::args::runsc_flags;
use super::output::Output;
use crate::analysis::runsc::analyze_logs;
use crate::analysis::RunscFlags;
use crate::profile::io as profile_io;
use crate::release::{self, JudgedRelease, ReleaseChoice};
use crate::report::{self, Format, Gate};
use crate::runsc_log::{self, input};

/// Options of `sandprof runsc-log`.
#[derive(Debug, clap::Args)]
pub struct Options {
    /// Log files, directories of them (one file per runsc command), gzip files, or `-`
    /// for standard input.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    #[command(flatten)]
    pub gate: Gate,

    /// gVisor release to judge the logs at: a release, `latest` or `auto` (the runsc
    /// installed here). Default: the release the logs' `Version` header names, the
    /// runsc that wrote them; else the newest, and the report says so.
    #[arg(long, value_name = "RELEASE|latest|auto")]
    pub gvisor_release: Option<ReleaseChoice>,

    /// runsc flags the sandbox ran with, comma-separated (e.g. "--net-raw"); findings
    /// they configure are reported as such. May be repeated.
    #[arg(long, value_name = "FLAGS", allow_hyphen_values = true)]
    pub runsc_flags: Vec<RunscFlags>,

    /// Syscall ABI of the sandbox (x86_64, aarch64); default: the one the logs'
    /// `Version` header names, else this machine's.
    #[arg(long, value_name = "ARCH")]
    pub arch: Option<Arch>,

    /// Also write the strace lines as a profile to this file.
    #[arg(long, value_name = "OUT.json")]
    pub to_profile: Option<PathBuf>,

    /// Write the report to this file instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Runs the subcommand.
pub fn run(opts: Options) -> anyhow::Result<ExitCode> {
    let db = Database::get();
    let flags = runsc_flags(&opts.runsc_flags)?;
    let inputs = input::expand(&opts.paths)?;
    let evidence = runsc_log::load(&inputs, db, opts.arch)?;
    let (judged, why) = judged_release(
        db,
        opts.gvisor_release.as_ref(),
        evidence.facts.gvisor_release.as_deref(),
    )?;
    let mut report = analyze_logs(judged.database(), &evidence, &flags)?;
    judged.annotate(&mut report);
    if let Some(why) = why {
        report.caveats.insert(0, why);
    }
    if let Some(path) = &opts.to_profile {
        crate::atomic_file::refuse_inputs(path, &opts.paths)?;
        profile_io::write(path, &evidence.profile.profile)?;
    }
    let mut out = Output::to(opts.output.as_deref(), &opts.paths)?;
    let color = out.color();
    report::render(&report, opts.format, &mut out, color)
        .and_then(|()| out.flush())
        .context("cannot write the report")?;
    out.finish()?;
    Ok(opts.gate.exit_code(&report))
}

/// The release to judge logs at, and what the report should say about the choice when
/// the release module does not: `--gvisor-release` when given; else the release the
/// logs' header names (the runsc that wrote them), or the oldest the database knows when
/// the logs' is older still (the newest, when newer); else the newest. `sandprof try`
/// judges its run's log the same way.
pub fn judged_release(
    db: &Database,
    asked: Option<&ReleaseChoice>,
    logged: Option<&str>,
) -> anyhow::Result<(JudgedRelease, Option<String>)> {
    let logged = logged.and_then(|tag| Release::parse(tag).ok());
    let context = "cannot choose the gVisor release to judge the logs at";
    if let Some(choice) = asked {
        let judged = release::judge_at(db, Some(choice)).context(context)?;
        let why = logged.filter(|&l| l != judged.release()).map(|l| {
            format!(
                "The logs come from runsc {l}; they are judged at gVisor {} as \
                 --gvisor-release asks.",
                judged.release()
            )
        });
        return Ok((judged, why));
    }
    let Some(logged) = logged else {
        let judged = release::judge_at(db, None).context(context)?;
        return Ok((
            judged,
            Some(
                "The logs name no gVisor release (no `Version` header among the lines given)."
                    .to_owned(),
            ),
        ));
    };
    match release::judge_at(db, Some(&ReleaseChoice::Named(logged))) {
        Ok(judged) => {
            let why = format!(
                "Judged at gVisor {}, the release the logs' `Version` header names.",
                judged.release()
            );
            Ok((judged, Some(why)))
        }
        Err(release::ReleaseError::Unknown(UnknownRelease::TooOld { .. })) => {
            let oldest = db
                .releases()
                .oldest()
                .context("the database knows no gVisor release")?;
            let judged =
                release::judge_at(db, Some(&ReleaseChoice::Named(oldest))).context(context)?;
            let why = format!(
                "The logs come from runsc {logged}, older than any release the database \
                 knows: judged at {oldest}, the oldest it knows."
            );
            Ok((judged, Some(why)))
        }
        Err(release::ReleaseError::Unknown(UnknownRelease::TooNew { newest, .. })) => {
            let judged = release::judge_at(db, Some(&ReleaseChoice::Latest)).context(context)?;
            let why = format!(
                "The logs come from runsc {logged}, newer than any release the database \
                 knows: judged at {newest}, the newest it knows."
            );
            Ok((judged, Some(why)))
        }
        Err(e) => Err(e).context(context),
    }
}
