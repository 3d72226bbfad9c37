//! Root causes: each way the workload or runsc ended badly becomes a finding that names
//! its most likely cause and says why that ranks first.
//!
//! For a process that exited non-zero or died by a signal, the candidates are the calls
//! that failed in it shortly before (its threads', in log order), a signal it sent
//! itself, and runsc's messages that explain a failure; for the sandbox or a runsc
//! command, the refused calls and messages anywhere in it. Each candidate scores what
//! the evidence says of it:
//!
//! | evidence | score |
//! |---|---|
//! | the process sent itself the killing signal | +20 |
//! | the task died inside the call | +6 |
//! | its error output names the call (its path, or its syscall as a word) | +8 |
//! | its error output only reports the same error text | +3 |
//! | runsc reported it as a message that explains failures | +6, +4 more if it breaks workloads |
//! | the database marks it failing in gVisor (a rule, or an unimplemented syscall) | +4 |
//! | the database marks it partial or degraded | +2 |
//! | a normal Linux would not fail it (ENOSYS for a syscall the kernel has; ENOENT for a kernel file the database knows) | +2 |
//! | it is the last (+2) or second-last (+1) failure before the end | |
//! | the same call later succeeded in the process (the program recovered) | −4 |
//!
//! The highest score ranks first (the later candidate on a tie); its reasons are the
//! "why" the finding gives. Ordinary failures (ENOENT on a file that is not the kernel's,
//! EAGAIN…) are candidates only when the error output names them.

use syscall_db::messages::MessageEffect;
use syscall_db::Runtime;

use super::context::Context;
use crate::analysis::finding::{
    Category, DbReference, Evidence, Finding, RemediationRef, Severity,
};
use crate::runsc_log::facts::{EventKind, Termination, TerminationKind, Where};
use crate::runsc_log::message::{ExitScope, ExitStatus};

/// Other candidates named in a finding's effect after the first.
const OTHERS_NAMED: usize = 3;

/// The root-cause findings, and the events they absorbed (a message that is a
/// termination's cause is told there, not again on its own).
pub(super) struct RootCauses {
    pub findings: Vec<Finding>,
    pub absorbed_events: Vec<usize>,
}

/// A candidate cause.
pub(super) struct Candidate {
    /// `newfstatat(/proc/sys/kernel/ostype) failed with ENOENT`.
    pub what: String,
    pub score: i32,
    pub reasons: Vec<String>,
    pub at: Where,
    pub syscall: Option<String>,
    pub remediations: Vec<RemediationRef>,
    pub reference: Option<DbReference>,
    /// What the database says about it, for the effect.
    pub note: Option<String>,
    pub event: Option<usize>,
}

impl Candidate {
    pub(super) fn plus(&mut self, score: i32, reason: impl Into<String>) {
        self.score += score;
        self.reasons.push(reason.into());
    }
}

impl Context<'_> {
    /// One finding per termination, in log order, repeats left out.
    pub(super) fn root_causes(&self) -> RootCauses {
        let mut findings = Vec::new();
        let mut absorbed_events = Vec::new();
        for termination in &self.facts.terminations {
            if self.repeats_another(termination) {
                continue;
            }
            let (finding, event) = self.termination(termination);
            findings.push(finding);
            absorbed_events.extend(event);
        }
        RootCauses {
            findings,
            absorbed_events,
        }
    }

    /// A runsc command's exit that only repeats the application's (`boot` and `run`
    /// exit with the application's status).
    fn repeats_another(&self, t: &Termination) -> bool {
        let TerminationKind::Exit {
            scope: ExitScope::Command,
            status,
        } = t.kind
        else {
            return false;
        };
        self.facts
            .application_exits
            .iter()
            .any(|(s, _)| same_status(*s, status))
            || self.facts.terminations.iter().any(|other| {
                other.application && status_of(&other.kind).is_some_and(|s| same_status(s, status))
            })
    }

    fn termination(&self, t: &Termination) -> (Finding, Option<usize>) {
        let (what_ended, path) = self.what_ended(t);
        let mut candidates = self.candidates(t);
        rank(&mut candidates);
        let top = candidates.first();
        let title = match (top, &t.kind) {
            // runsc's own error text repeats its cause: the cause says it better.
            (Some(c), TerminationKind::FatalError) if c.event.is_some() => format!(
                "runsc {} failed: {}",
                self.command(t.at.file).unwrap_or("command"),
                c.what
            ),
            (Some(c), _) if c.event.is_some() => format!("{what_ended}: {}", c.what),
            (Some(c), _) => format!("{what_ended} after {}", c.what),
            (None, _) => what_ended.clone(),
        };
        let effect = match (&t.kind, top) {
            (TerminationKind::Panic | TerminationKind::GoFatal, None) => format!(
                "runsc itself crashed ({}): every process of the sandbox died with it. This is \
                 a failure of runsc{}, not of the workload; the stack in the detail shows \
                 where. Report it to gVisor with the stack and the runsc version.",
                first_line(&t.detail),
                self.release_phrase(" ")
            ),
            (_, None) => "No call failed in it before it ended and no runsc message explains \
                          it; run runsc with --debug --strace to see the calls that led to it."
                .to_owned(),
            (_, Some(top)) => self.explain(top, &candidates[1..]),
        };
        let mut detail = t.detail.clone();
        if !candidates.is_empty() {
            detail.push("candidates, most likely first:".to_owned());
            detail.extend(candidates.iter().map(|c| {
                format!(
                    "{} at {} (score {}: {})",
                    c.what,
                    self.place(&c.at),
                    c.score,
                    c.reasons.join("; ")
                )
            }));
        }
        let comm = (!t.at.comm.is_empty()).then(|| t.at.comm.to_string_lossy());
        let finding = Finding {
            runtime: Runtime::Gvisor,
            severity: Severity::Breaks,
            category: Category::Runtime,
            title,
            effect,
            evidence: Evidence {
                syscall: top.and_then(|c| c.syscall.clone()),
                args: Vec::new(),
                calls: 1,
                errors: Default::default(),
                first: top.map(|c| self.occurrence(&c.at)),
                last: Some(self.occurrence(&t.at)),
                executables: comm.into_iter().collect(),
                detail,
            },
            remediations: top.map(|c| c.remediations.clone()).unwrap_or_default(),
            reference: top.and_then(|c| c.reference.clone()).unwrap_or_else(|| {
                self.source_reference("runsc.termination", vec![path.to_owned()])
            }),
            observation: None,
        };
        (finding, top.and_then(|c| c.event))
    }

    /// "Most likely cause, ranked first because …: … at …. Other candidates: …".
    fn explain(&self, top: &Candidate, others: &[Candidate]) -> String {
        let mut text = format!(
            "Most likely cause, ranked first because {}: {} at {}.",
            top.reasons.join("; "),
            top.what,
            self.place(&top.at)
        );
        if let Some(note) = &top.note {
            text.push(' ');
            text.push_str(note);
        }
        if !others.is_empty() {
            let named: Vec<String> = others
                .iter()
                .take(OTHERS_NAMED)
                .map(|c| format!("{} ({})", c.what, c.reasons.join("; ")))
                .collect();
            text.push_str(&format!(" Other candidates: {}.", named.join("; ")));
        }
        text
    }

    /// What ended, in words, and the runsc source that reports it.
    fn what_ended(&self, t: &Termination) -> (String, &'static str) {
        let comm = t.at.comm.to_string_lossy();
        let who = |pid: Option<u32>| match (pid, comm.is_empty()) {
            (Some(pid), false) => format!("{comm} (pid {pid})"),
            (Some(pid), true) => format!("process {pid}"),
            (None, false) => comm.clone(),
            (None, true) => "a process".to_owned(),
        };
        let app = |who: String| {
            if t.application {
                format!("the application, {who},")
            } else {
                who
            }
        };
        let command = self.command(t.at.file).unwrap_or("command").to_owned();
        match &t.kind {
            TerminationKind::ProcessExit { pid, code } => (
                format!("{} exited with status {code}", app(who(nonzero(*pid)))),
                "pkg/sentry/strace/strace.go",
            ),
            TerminationKind::Signal { pid, signal } => (
                format!(
                    "{} was killed by signal {signal}{}",
                    app(who(pid.and_then(nonzero))),
                    self.signal_name(*signal)
                        .map(|n| format!(" ({n})"))
                        .unwrap_or_default()
                ),
                "pkg/sentry/kernel/task_signals.go",
            ),
            TerminationKind::Exit {
                scope: ExitScope::Application,
                status,
            } => (
                format!("the application {}", status_phrase(*status)),
                "runsc/cmd/boot.go",
            ),
            TerminationKind::Exit {
                scope: ExitScope::Command,
                status,
            } => (
                format!("runsc {command} {}", status_phrase(*status)),
                "runsc/cli/cli.go",
            ),
            TerminationKind::FatalError => (
                format!(
                    "runsc {command} failed: {}",
                    first_line(&t.detail).trim_start_matches("FATAL ERROR: ")
                ),
                "runsc/cmd/util/util.go",
            ),
            TerminationKind::Panic => (
                format!(
                    "{} panicked: {}",
                    runsc_part(&command),
                    first_line(&t.detail).trim_start_matches("panic: ")
                ),
                "runsc/cli/cli.go",
            ),
            TerminationKind::GoFatal => (
                format!(
                    "{} crashed: {}",
                    runsc_part(&command),
                    first_line(&t.detail)
                ),
                "runsc/cli/cli.go",
            ),
        }
    }

    fn signal_name(&self, signal: u32) -> Option<&str> {
        self.db
            .constant_name("signal", u64::from(signal), self.arch)
    }

    /// Every candidate cause of `t`, scored but not yet ranked.
    fn candidates(&self, t: &Termination) -> Vec<Candidate> {
        let mut out = Vec::new();
        if let Some(signal) = &t.self_signal {
            let name = self
                .signal_name(signal.signal)
                .map_or_else(|| signal.signal.to_string(), str::to_owned);
            let mut c = self.candidate(
                format!("it sent itself {name} with {}()", signal.syscall),
                signal.at,
                Some(signal.syscall.clone()),
            );
            c.plus(20, "the process sent the signal that killed it to itself");
            out.push(c);
        }
        // A crash of runsc is its own cause: neither the calls nor the messages before
        // it made it.
        if matches!(t.kind, TerminationKind::Panic | TerminationKind::GoFatal) {
            return out;
        }
        {
            let mut failed: Vec<Candidate> =
                t.suspects.iter().filter_map(|s| self.suspect(s)).collect();
            failed.sort_by_key(|c| std::cmp::Reverse(c.at.order()));
            for (i, c) in failed.iter_mut().take(2).enumerate() {
                if i == 0 {
                    c.plus(2, "it is the last call that failed before the end");
                } else {
                    c.plus(1, "it is the second-last call that failed before the end");
                }
            }
            out.extend(failed);
        }
        out.extend(self.message_candidates(t));
        out
    }

    pub(super) fn candidate(&self, what: String, at: Where, syscall: Option<String>) -> Candidate {
        Candidate {
            what,
            score: 0,
            reasons: Vec::new(),
            at,
            syscall,
            remediations: Vec::new(),
            reference: None,
            note: None,
            event: None,
        }
    }

    /// runsc's messages that explain a failure and came before `t`: in the same process
    /// for a process, anywhere for the sandbox or a runsc command.
    fn message_candidates(&self, t: &Termination) -> Vec<Candidate> {
        let process = match t.kind {
            TerminationKind::ProcessExit { pid, .. } => Some(pid),
            TerminationKind::Signal { pid, .. } => pid,
            _ => None,
        };
        let mut out = Vec::new();
        for (index, event) in self.facts.events.iter().enumerate() {
            let EventKind::Catalogued { message, captures } = &event.kind else {
                continue;
            };
            let entry = &self.catalogue.messages()[*message];
            if !entry.cause {
                continue;
            }
            let before = event.first.file != t.at.file || event.first.line <= t.at.line;
            let in_scope = match process {
                Some(pid) => event.first.stream == t.at.stream && event.first.pid == Some(pid),
                None => true,
            };
            if !before || !in_scope {
                continue;
            }
            let judged = entry.judged(captures);
            let (severity, remediations) =
                self.message_severity(judged.effect, &entry.remediations);
            if severity == Severity::Info {
                continue;
            }
            let mut c = self.candidate(judged.title.clone(), event.first, None);
            c.plus(6, format!("runsc reported it ({})", entry.id));
            if judged.effect == MessageEffect::Breaks {
                c.plus(4, "it is a message of something that breaks workloads");
            }
            c.remediations = remediations;
            c.reference = Some(self.message_reference(*message));
            c.note = Some(judged.explanation);
            c.event = Some(index);
            out.push(c);
        }
        out
    }
}

/// Highest score first; the later candidate first on a tie.
fn rank(candidates: &mut [Candidate]) {
    candidates.sort_by(|a, b| {
        b.score
            .cmp(&a.score)
            .then_with(|| b.at.order().cmp(&a.at.order()))
    });
}

/// `the Sentry (runsc boot)`, `the gofer (runsc gofer)`, `runsc run`.
fn runsc_part(command: &str) -> String {
    match command {
        "boot" => "the Sentry (runsc boot)".to_owned(),
        "gofer" => "the gofer (runsc gofer)".to_owned(),
        other => format!("runsc {other}"),
    }
}

fn nonzero(pid: u32) -> Option<u32> {
    (pid != crate::runsc_log::line::UNKNOWN_PID).then_some(pid)
}

fn status_of(kind: &TerminationKind) -> Option<ExitStatus> {
    match kind {
        TerminationKind::ProcessExit { code, .. } => Some(ExitStatus::Code(*code)),
        TerminationKind::Signal { signal, .. } => Some(ExitStatus::Signal {
            signal: *signal,
            core: false,
        }),
        TerminationKind::Exit { status, .. } => Some(*status),
        _ => None,
    }
}

/// The same exit: the same code, or death by the same signal (core dump or not).
fn same_status(a: ExitStatus, b: ExitStatus) -> bool {
    match (a, b) {
        (ExitStatus::Code(x), ExitStatus::Code(y)) => x == y,
        (ExitStatus::Signal { signal: x, .. }, ExitStatus::Signal { signal: y, .. }) => x == y,
        _ => false,
    }
}

fn status_phrase(status: ExitStatus) -> String {
    match status {
        ExitStatus::Code(code) => format!("exited with status {code}"),
        ExitStatus::Signal { signal, core: true } => {
            format!("was killed by signal {signal} (core dumped)")
        }
        ExitStatus::Signal {
            signal,
            core: false,
        } => format!("was killed by signal {signal}"),
    }
}

fn first_line(detail: &[String]) -> &str {
    detail.first().map_or("", String::as_str)
}
