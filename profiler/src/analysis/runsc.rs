//! Log facts (from `crate::runsc_log`) × `syscall-db` → findings for gVisor, in the
//! same model and order as profiles get, with the likely root causes first.
//!
//! The strace part of the logs becomes a profile and goes through the profile analysis
//! (so a call is judged the same whether a tracer or runsc saw it); each finding then
//! gets its first and last occurrence in the logs. What only logs say becomes findings
//! here: runsc's unsupported-syscall reports, refused raw sockets, socket options,
//! netfilter and netlink, keyctl, ignored mounts and mount options, nvproxy, calls
//! runsc refused with an errno the database does not predict, and terminations
//! (processes exiting non-zero or killed, the application or a runsc command failing,
//! panics, fatal errors), each with the failing call nearest to it.

use std::collections::BTreeMap;

use syscall_db::{Arch, Database, FieldKind, FieldValue, FieldValues, GvisorStatus, Runtime};

use super::finding::{
    Category, DbReference, Evidence, Finding, Occurrence, RemediationRef, Report, Severity,
    ShownArg,
};
use super::flags::RunscFlags;
use super::outcome::{self, Judgement};
use super::{analyze, args, dbref, gvisor, verdict, AnalysisOptions};
use crate::profile::SyscallProfile;
use crate::runsc_log::facts::{
    CallStat, Cause, CauseKind, EventKind, EventStat, LogFacts, SyscallId, Termination,
    TerminationKind, Where,
};
use crate::runsc_log::message::{ExitScope, ExitStatus, NvproxyProblem, RawSocketFix};
use crate::runsc_log::to_profile::{self, errno_name, LogProfile};

/// Findings and the profile made from the logs.
#[derive(Debug)]
pub struct LogAnalysis {
    /// The report.
    pub report: Report,
    /// The strace lines as a profile.
    pub profile: LogProfile,
}

/// Analyses log facts. `inputs` names the files as given.
pub fn analyze_logs(
    db: &Database,
    facts: &LogFacts,
    arch: Arch,
    inputs: Vec<String>,
    runsc_flags: &RunscFlags,
) -> anyhow::Result<LogAnalysis> {
    let profile = to_profile::to_profile(facts, db, arch, inputs.clone());
    // The profile analysis reads a profile's errnos as failures under runc, which would
    // excuse every call runsc refused as "no regression"; here they happened under
    // runsc, so it judges usage alone and the errnos come back through `locate`. It
    // would also report unparsed lines as lost events; the caveats below say it
    // precisely instead.
    let mut judged: SyscallProfile = profile.profile.clone();
    judged.lost = Default::default();
    for row in &mut judged.syscalls {
        row.errors.clear();
    }
    for sig in &mut judged.signatures {
        sig.errors.clear();
    }
    let mut report = analyze(
        db,
        &[(inputs.join(", "), judged)],
        &AnalysisOptions {
            runtimes: vec![Runtime::Gvisor],
            runsc_flags: runsc_flags.clone(),
        },
    )?;
    report.inputs = inputs;
    let ctx = Context {
        db,
        arch,
        facts,
        flags: runsc_flags,
    };
    for finding in &mut report.findings {
        ctx.locate(finding);
    }
    let mut extra = Vec::new();
    for event in &facts.events {
        if let Some(finding) = ctx.event(event, &mut report.findings) {
            extra.push(finding);
        }
    }
    report.findings.extend(extra);
    let refusals = ctx.refusals(&report.findings);
    report.findings.extend(refusals);
    verdict::sort_findings(&mut report.findings);
    let mut causes: Vec<Finding> = facts
        .terminations
        .iter()
        .filter(|t| !repeats_application_exit(t, &facts.terminations))
        .map(|t| ctx.termination(t))
        .collect();
    causes.append(&mut report.findings);
    report.findings = causes;
    report.verdicts = verdict::verdicts(&[Runtime::Gvisor], &report.findings);
    report.caveats.extend(caveats(facts, &profile));
    Ok(LogAnalysis { report, profile })
}

struct Context<'a> {
    db: &'a Database,
    arch: Arch,
    facts: &'a LogFacts,
    flags: &'a RunscFlags,
}

impl Context<'_> {
    fn occurrence(&self, at: &Where) -> Occurrence {
        Occurrence {
            pid: at.pid,
            tid: at.tid,
            executable: (!at.comm.is_empty()).then(|| at.comm.to_string_lossy()),
            file: self
                .facts
                .files
                .get(at.file as usize)
                .map(|f| f.name.clone()),
            line: Some(at.line),
            document: None,
            time: (!at.time.is_empty()).then(|| at.time.to_string_lossy()),
        }
    }

    /// The syscall's name in the database's table, falling back to how runsc wrote it.
    fn name(&self, syscall: &SyscallId) -> String {
        to_profile::resolve(self.db, self.arch, syscall)
            .map_or_else(|| syscall.display(), |(name, _)| name)
    }

    /// Replaces a profile finding's occurrences with where the logs show the calls.
    fn locate(&self, finding: &mut Finding) {
        let Some(syscall) = finding.evidence.syscall.clone() else {
            return;
        };
        let matching: Vec<&CallStat> = self
            .facts
            .calls
            .iter()
            .filter(|stat| self.name(&stat.syscall) == syscall)
            .filter(|stat| {
                finding.evidence.args.iter().all(|arg| {
                    stat.fields
                        .get(&arg.name)
                        .is_some_and(|v| raw(v) == arg.raw)
                })
            })
            .collect();
        if matching.is_empty() {
            return;
        }
        let first = matching.iter().map(|s| s.first).min_by_key(order);
        let last = matching
            .iter()
            .flat_map(|s| s.failures.iter().map(|f| f.last).chain([s.first]))
            .max_by_key(order);
        finding.evidence.first = first.map(|w| self.occurrence(&w));
        finding.evidence.last = last.map(|w| self.occurrence(&w));
        finding.evidence.calls = matching.iter().map(|s| s.calls).sum();
        finding.evidence.errors = Default::default();
        for failure in matching.iter().flat_map(|s| &s.failures) {
            *finding
                .evidence
                .errors
                .entry(errno_name(self.db, failure.errno))
                .or_default() += failure.count;
        }
        let mut comms: Vec<String> = matching.iter().map(|s| s.comm.clone()).collect();
        comms.sort();
        comms.dedup();
        finding.evidence.executables = comms;
    }

    /// A finding for a runsc message, or `None` when it only adds to one the profile
    /// analysis already made (its count goes into that finding's detail).
    fn event(&self, event: &EventStat, existing: &mut [Finding]) -> Option<Finding> {
        let evidence = Evidence {
            syscall: None,
            args: Vec::new(),
            calls: event.count,
            errors: Default::default(),
            first: Some(self.occurrence(&event.first)),
            last: Some(self.occurrence(&event.last)),
            executables: Vec::new(),
            detail: vec![event.sample.clone()],
        };
        let gvisor_source = |path: &str| DbReference {
            entry: String::new(),
            revision: dbref::upstream_revision(self.db, Runtime::Gvisor, &[]),
            paths: vec![path.to_owned()],
        };
        let finding = |severity,
                       category,
                       title: String,
                       effect: &str,
                       remediations,
                       entry: &str,
                       path: &str| {
            let mut reference = gvisor_source(path);
            reference.entry = entry.to_owned();
            Finding {
                runtime: Runtime::Gvisor,
                severity,
                category,
                title,
                effect: effect.to_owned(),
                evidence: evidence.clone(),
                remediations,
                reference,
                observation: None,
            }
        };
        let needs = |id: &str| -> (Severity, Vec<RemediationRef>) {
            match self.db.remediation(id) {
                Some(r)
                    if r.kind == syscall_db::RemediationKind::RunscFlag
                        && r.flag.as_deref().is_some_and(|f| self.flags.satisfies(f)) =>
                {
                    (Severity::Info, vec![dbref::remediation_ref(r)])
                }
                Some(r) => (Severity::NeedsConfig, vec![dbref::remediation_ref(r)]),
                None => (Severity::NeedsConfig, Vec::new()),
            }
        };
        Some(match &event.kind {
            EventKind::UnsupportedSyscall { syscall, key_args } => {
                return self.unsupported(syscall, key_args, event, evidence, existing);
            }
            EventKind::RawSocket(RawSocketFix::NetRaw) => {
                let (severity, remediations) = needs("runsc.net-raw");
                finding(
                    severity,
                    Category::Socket,
                    "raw socket refused: runsc runs without --net-raw".to_owned(),
                    "gVisor disables raw sockets (SOCK_RAW, AF_PACKET) unless runsc is started \
                     with --net-raw; socket() fails, so ping, packet capture and some network \
                     agents do not work.",
                    remediations,
                    "runsc.message.raw-socket-net-raw",
                    "pkg/sentry/socket/netstack/provider.go",
                )
            }
            EventKind::RawSocket(RawSocketFix::CapNetRaw) => finding(
                Severity::NeedsConfig,
                Category::Socket,
                "raw socket refused: the container lacks CAP_NET_RAW".to_owned(),
                "The process asked for a raw socket without CAP_NET_RAW in its capabilities; \
                 gVisor refuses it as Linux would. Add NET_RAW to the container's \
                 securityContext capabilities (and run runsc with --net-raw).",
                needs("runsc.net-raw").1,
                "runsc.message.raw-socket-cap-net-raw",
                "pkg/sentry/socket/netstack/provider.go",
            ),
            EventKind::Sockopt { level, option } => finding(
                Severity::Degraded,
                Category::Sockopt,
                format!(
                    "socket option {}{} not supported on that socket",
                    level
                        .as_deref()
                        .map(|l| format!("{l} "))
                        .unwrap_or_default(),
                    option.map_or_else(|| "?".to_owned(), |o| o.to_string())
                ),
                "gVisor's network stack refused a socket option on this kind of socket; the \
                 call failed and the application went on without the option.",
                Vec::new(),
                "runsc.message.sockopt",
                "pkg/sentry/socket/netstack/netstack.go",
            ),
            EventKind::Netfilter => finding(
                Severity::Degraded,
                Category::Sockopt,
                "iptables/nftables request refused or not understood".to_owned(),
                "gVisor implements a subset of netfilter (iptables tables, nftables); a rule \
                 or message outside it was rejected, so the firewall or NAT setup the \
                 workload expects is incomplete.",
                Vec::new(),
                "runsc.message.netfilter",
                "pkg/sentry/socket/netfilter/netfilter.go",
            ),
            EventKind::Netlink => finding(
                Severity::Degraded,
                Category::Socket,
                "netlink request not served".to_owned(),
                "gVisor serves only some netlink protocols and messages; this request got no \
                 useful answer.",
                Vec::new(),
                "runsc.message.netlink",
                "pkg/sentry/socket/netlink/rdma/protocol.go",
            ),
            EventKind::Keyctl(op) => finding(
                Severity::Degraded,
                Category::Keyctl,
                format!("keyctl operation {op} not implemented"),
                "gVisor implements only the basic session-keyring operations of keyctl; this \
                 one failed.",
                Vec::new(),
                "runsc.message.keyctl",
                "pkg/sentry/syscalls/linux/sys_key.go",
            ),
            EventKind::MountTypeIgnored(fstype) => finding(
                Severity::Breaks,
                Category::Mount,
                format!("mount of filesystem type {fstype:?} skipped"),
                "runsc does not know this filesystem type and skipped the mount: the \
                 container sees the directory underneath instead of the volume.",
                Vec::new(),
                "runsc.message.mount-type",
                "runsc/boot/vfs.go",
            ),
            EventKind::MountOptionIgnored(option) => finding(
                Severity::Degraded,
                Category::Mount,
                format!("mount option {option:?} ignored"),
                "runsc applies ro, noatime, noexec and nosuid (and bind); any other option is \
                 ignored, so the mount behaves without it.",
                Vec::new(),
                "runsc.message.mount-option",
                "runsc/boot/vfs.go",
            ),
            EventKind::Nvproxy(NvproxyProblem::Unsupported) => finding(
                Severity::Breaks,
                Category::Device,
                "GPU operation not supported by nvproxy".to_owned(),
                "nvproxy forwards only the NVIDIA ioctls, control commands and allocation \
                 classes it knows; this one failed with EINVAL, which CUDA usually reports \
                 as a fatal error.",
                Vec::new(),
                "runsc.message.nvproxy-unsupported",
                "pkg/sentry/devices/nvproxy/frontend.go",
            ),
            EventKind::Nvproxy(NvproxyProblem::MissingCapability) => finding(
                Severity::NeedsConfig,
                Category::Device,
                "GPU operation needs a driver capability the container did not get".to_owned(),
                "nvproxy allows only the NVIDIA driver capabilities the container requested \
                 and runsc allows (--nvproxy-allowed-driver-capabilities, default \
                 utility,compute); request the capability (NVIDIA_DRIVER_CAPABILITIES) and \
                 allow it.",
                Vec::new(),
                "runsc.message.nvproxy-capability",
                "pkg/sentry/devices/nvproxy/frontend.go",
            ),
            EventKind::Nvproxy(NvproxyProblem::UnsupportedDriver) => finding(
                Severity::NeedsConfig,
                Category::Device,
                "NVIDIA driver version not supported by nvproxy".to_owned(),
                "nvproxy knows the ioctl ABI of specific driver versions; install one it \
                 supports (runsc nvproxy list-supported-drivers) or pin \
                 --nvproxy-driver-version.",
                Vec::new(),
                "runsc.message.nvproxy-driver",
                "pkg/sentry/devices/nvproxy/nvproxy.go",
            ),
        })
    }

    /// runsc's unsupported-syscall report: judged by the argument rules on the
    /// arguments runsc keys it by, else by gVisor's table.
    fn unsupported(
        &self,
        syscall: &SyscallId,
        key_args: &[(u8, u64)],
        event: &EventStat,
        mut evidence: Evidence,
        existing: &mut [Finding],
    ) -> Option<Finding> {
        let name = self.name(syscall);
        let fields = self.fields(&name, key_args);
        let shown = args::shown_args(self.db, self.arch, &name, &fields, None);
        let note = format!("runsc reported it unsupported {} times", event.count);
        if let Some(found) = existing.iter_mut().find(|f| {
            f.evidence.syscall.as_deref() == Some(name.as_str())
                && shown.iter().all(|a| f.evidence.args.contains(a))
        }) {
            found.evidence.detail.push(note);
            return None;
        }
        evidence.syscall = Some(name.clone());
        evidence.args = shown.clone();
        let described = describe(&name, &shown);
        let category = gvisor::syscall_category(&name);
        if let Some(rule) = self
            .db
            .matching_rules(Runtime::Gvisor, self.arch, &name, &fields)
            .first()
        {
            let judged = outcome::judge(self.db, &rule.outcome, &rule.remediations, self.flags);
            let reported = |phrase: String| format!("{described} {phrase} (runsc reported it)");
            let (severity, title, effect) = match judged {
                // The log is evidence the rule does not cover this call: say so rather
                // than call it working.
                Judgement::Fine => (
                    Severity::Degraded,
                    format!(
                        "{described} was refused by runsc, though the database expects it \
                         to work"
                    ),
                    format!(
                        "runsc reported this call unsupported, while the database rule {} \
                         says it works: arguments the rule does not look at decide. {}",
                        rule.id, rule.note
                    ),
                ),
                Judgement::Finding(severity) => (
                    severity,
                    reported(outcome::phrase(&rule.outcome)),
                    rule.note.clone(),
                ),
                Judgement::Configured(_) => (
                    Severity::Info,
                    reported(outcome::phrase(&rule.outcome)),
                    rule.note.clone(),
                ),
            };
            return Some(Finding {
                runtime: Runtime::Gvisor,
                severity,
                category: dbref::category(&rule.category),
                title,
                effect,
                evidence,
                remediations: dbref::remediation_refs(self.db, &rule.remediations),
                reference: dbref::rule_reference(self.db, rule),
                observation: None,
            });
        }
        let entry = self.db.gvisor(self.arch, &name);
        let (severity, effect) = match entry.map(|e| e.status) {
            Some(GvisorStatus::Unimplemented) => (
                Severity::Breaks,
                format!("gVisor does not implement {name}; every call fails."),
            ),
            _ => (
                Severity::Degraded,
                format!(
                    "gVisor implements {name} only in part, and refused these arguments; \
                     the call failed."
                ),
            ),
        };
        let reference = match entry {
            Some(entry) => dbref::gvisor_reference(self.db, self.arch, entry),
            None => DbReference {
                entry: "runsc.message.unsupported-syscall".to_owned(),
                revision: dbref::upstream_revision(self.db, Runtime::Gvisor, &[]),
                paths: vec!["runsc/boot/compat.go".to_owned()],
            },
        };
        Some(Finding {
            runtime: Runtime::Gvisor,
            severity,
            category,
            title: format!("{described} is unsupported (runsc reported it)"),
            effect,
            evidence,
            remediations: dbref::other_runtime_refs(self.db, Runtime::Gvisor),
            reference,
            observation: None,
        })
    }

    /// runsc's key arguments as the capture spec's fields.
    fn fields(&self, syscall: &str, key_args: &[(u8, u64)]) -> FieldValues {
        let Some(capture) = self.db.capture(syscall) else {
            return FieldValues::new();
        };
        key_args
            .iter()
            .filter_map(|&(index, value)| {
                let field = capture
                    .fields
                    .iter()
                    .find(|f| f.kind == FieldKind::Arg && f.arg == u32::from(index))?;
                Some((field.name.clone(), FieldValue::Int(value)))
            })
            .collect()
    }

    /// Calls runsc refused (ENOSYS, EPERM, EOPNOTSUPP…) that no finding explains yet.
    fn refusals(&self, existing: &[Finding]) -> Vec<Finding> {
        let mut by_call: BTreeMap<(String, u16), Vec<&CallStat>> = BTreeMap::new();
        for stat in &self.facts.calls {
            for failure in &stat.failures {
                if crate::runsc_log::facts::is_refusal(failure.errno) {
                    by_call
                        .entry((self.name(&stat.syscall), failure.errno))
                        .or_default()
                        .push(stat);
                }
            }
        }
        by_call
            .into_iter()
            .filter(|((name, _), _)| {
                !existing
                    .iter()
                    .any(|f| f.evidence.syscall.as_deref() == Some(name.as_str()))
            })
            .map(|((name, errno), stats)| self.refusal(&name, errno, &stats))
            .collect()
    }

    fn refusal(&self, name: &str, errno: u16, stats: &[&CallStat]) -> Finding {
        let errno_text = errno_name(self.db, errno);
        let failures = stats
            .iter()
            .flat_map(|s| s.failures.iter().filter(|f| f.errno == errno));
        let count: u64 = failures.clone().map(|f| f.count).sum();
        let first = failures.clone().map(|f| f.first).min_by_key(order);
        let last = failures.map(|f| f.last).max_by_key(order);
        let mut comms: Vec<String> = stats.iter().map(|s| s.comm.clone()).collect();
        comms.sort();
        comms.dedup();
        let calls = stats.iter().map(|s| s.calls).sum();
        let entry = self.db.gvisor(self.arch, name);
        Finding {
            runtime: Runtime::Gvisor,
            severity: Severity::Degraded,
            category: gvisor::syscall_category(name),
            title: format!("{name} failed with {errno_text} under runsc"),
            effect: format!(
                "{count} of {calls} calls failed with {errno_text}, an errno that usually \
                 means the sandbox refused the request rather than the request being wrong; \
                 the database has no rule that predicts it."
            ),
            evidence: Evidence {
                syscall: Some(name.to_owned()),
                args: Vec::new(),
                calls,
                errors: [(errno_text.clone(), count)].into(),
                first: first.map(|w| self.occurrence(&w)),
                last: last.map(|w| self.occurrence(&w)),
                executables: comms,
                detail: Vec::new(),
            },
            remediations: Vec::new(),
            reference: match entry {
                Some(entry) => dbref::gvisor_reference(self.db, self.arch, entry),
                None => DbReference {
                    entry: "runsc.strace.refused".to_owned(),
                    revision: dbref::upstream_revision(self.db, Runtime::Gvisor, &[]),
                    paths: vec!["pkg/sentry/strace/strace.go".to_owned()],
                },
            },
            observation: None,
        }
    }

    /// A termination as a finding, its likely cause in the effect and the detail.
    fn termination(&self, t: &Termination) -> Finding {
        let comm = (!t.at.comm.is_empty()).then(|| t.at.comm.to_string_lossy());
        let (title, path) = match &t.kind {
            TerminationKind::ProcessExit { pid, code } => (
                format!("process {pid} exited with status {code}"),
                "pkg/sentry/strace/strace.go",
            ),
            TerminationKind::Signal { pid, signal } => (
                match pid {
                    Some(pid) => format!("process {pid} killed by signal {signal}"),
                    None => format!("a task was killed by signal {signal}"),
                },
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
            } => {
                let command = self
                    .facts
                    .files
                    .get(t.at.file as usize)
                    .and_then(|f| f.command.clone())
                    .unwrap_or_else(|| "command".to_owned());
                (
                    format!("runsc {command} {}", status_phrase(*status)),
                    "runsc/cli/cli.go",
                )
            }
            TerminationKind::FatalError => (
                format!("runsc failed: {}", first_line(&t.detail)),
                "runsc/cmd/util/util.go",
            ),
            TerminationKind::Panic => (
                format!("runsc panicked: {}", first_line(&t.detail)),
                "runsc/cli/cli.go",
            ),
            TerminationKind::GoFatal => (
                format!("runsc hit a Go runtime error: {}", first_line(&t.detail)),
                "runsc/cli/cli.go",
            ),
        };
        let title = match &comm {
            Some(comm) if matches!(t.kind, TerminationKind::ProcessExit { .. }) => {
                format!("{title} ({comm})")
            }
            _ => title,
        };
        let (effect, cause_syscall) = match &t.cause {
            Some(cause) => (
                format!("Likely cause: {}.", self.cause_phrase(cause)),
                Some(self.name(&cause.syscall)),
            ),
            None => (
                "No refused or unsupported call precedes it in the logs; run runsc with \
                 --strace (and --debug) to see the calls that led to it."
                    .to_owned(),
                None,
            ),
        };
        let mut detail = t.detail.clone();
        if let Some(cause) = &t.cause {
            detail.push(format!(
                "cause: {}({})",
                self.name(&cause.syscall),
                cause.args
            ));
        }
        Finding {
            runtime: Runtime::Gvisor,
            severity: Severity::Breaks,
            category: Category::Runtime,
            title,
            effect,
            evidence: Evidence {
                syscall: cause_syscall,
                args: Vec::new(),
                calls: 1,
                errors: Default::default(),
                first: t.cause.as_ref().map(|c| self.occurrence(&c.at)),
                last: Some(self.occurrence(&t.at)),
                executables: comm.into_iter().collect(),
                detail,
            },
            remediations: Vec::new(),
            reference: DbReference {
                entry: "runsc.termination".to_owned(),
                revision: dbref::upstream_revision(self.db, Runtime::Gvisor, &[]),
                paths: vec![path.to_owned()],
            },
            observation: None,
        }
    }

    fn cause_phrase(&self, cause: &Cause) -> String {
        let name = self.name(&cause.syscall);
        let what = match cause.kind {
            CauseKind::Failed(errno) => {
                format!("{name} failed with {}", errno_name(self.db, errno))
            }
            CauseKind::Unfinished => format!("the task died inside {name}"),
            CauseKind::Unsupported => format!("runsc reported {name} unsupported"),
        };
        let occurrence = self.occurrence(&cause.at);
        let place = format!(
            "{}:{}",
            occurrence.file.as_deref().unwrap_or("-"),
            cause.at.line
        );
        match (cause.at.pid, occurrence.executable) {
            (Some(pid), Some(comm)) => format!("{what} at {place} (pid {pid}, {comm})"),
            (Some(pid), None) => format!("{what} at {place} (pid {pid})"),
            _ => format!("{what} at {place}"),
        }
    }
}

/// A runsc command's exit status that only repeats the application's, logged just
/// before it in the same file (`boot` exits with the application's status).
fn repeats_application_exit(t: &Termination, all: &[Termination]) -> bool {
    matches!(
        t.kind,
        TerminationKind::Exit {
            scope: ExitScope::Command,
            ..
        }
    ) && all.iter().any(|other| {
        other.at.file == t.at.file
            && matches!(
                other.kind,
                TerminationKind::Exit {
                    scope: ExitScope::Application,
                    ..
                }
            )
    })
}

/// Log order: file, then line.
fn order(at: &Where) -> (u32, u64) {
    (at.file, at.line)
}

fn raw(value: &FieldValue) -> String {
    match value {
        FieldValue::Int(n) => n.to_string(),
        FieldValue::Str(s) => s.clone(),
    }
}

/// `ioctl(request=TCGETS)`.
fn describe(name: &str, shown: &[ShownArg]) -> String {
    if shown.is_empty() {
        return name.to_owned();
    }
    let args: Vec<String> = shown
        .iter()
        .map(|a| format!("{}={}", a.name, a.symbol.as_deref().unwrap_or(&a.raw)))
        .collect();
    format!("{name}({})", args.join(", "))
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

/// What limits the evidence: unparsed lines, cut-off calls, caps reached, syscalls the
/// profile could not hold, no strace at all.
fn caveats(facts: &LogFacts, profile: &LogProfile) -> Vec<String> {
    let mut out = Vec::new();
    for file in &facts.files {
        if file.unparsed > 0 {
            let samples: Vec<String> = file
                .unparsed_samples
                .iter()
                .map(|(line, why)| format!("line {line}: {why}"))
                .collect();
            out.push(format!(
                "{}: {} of {} lines could not be parsed ({}).",
                file.name,
                file.unparsed,
                file.lines,
                samples.join("; ")
            ));
        }
    }
    if facts.truncated_calls > 0 {
        out.push(format!(
            "{} strace exit lines were cut off before their result and are not counted.",
            facts.truncated_calls
        ));
    }
    if facts.unfinished_calls > 0 {
        out.push(format!(
            "{} syscalls were entered but had not returned when their log ended.",
            facts.unfinished_calls
        ));
    }
    let o = &facts.overflow;
    if o.calls + o.events + o.terminations + o.tasks > 0 {
        out.push(format!(
            "Memory caps reached: {} calls, {} messages, {} terminations and {} tasks were \
             counted but not itemised.",
            o.calls, o.events, o.terminations, o.tasks
        ));
    }
    if !profile.left_out.is_empty() {
        let listed: Vec<String> = profile
            .left_out
            .iter()
            .map(|(name, calls)| format!("{name} ({calls} calls)"))
            .collect();
        out.push(format!(
            "Syscalls the database has no number for in this arch were called: {}.",
            listed.join(", ")
        ));
    }
    if facts.files.iter().all(|f| f.strace_lines == 0) {
        out.push(
            "The logs hold no --strace lines: only runsc's own messages were judged. Run \
             runsc with --debug --strace for per-call evidence."
                .to_owned(),
        );
    }
    out
}
