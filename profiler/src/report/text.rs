//! Words and short phrases the human-readable renderers share: names of runtimes,
//! severities, verdicts and categories, and one-line forms of evidence, remediations
//! and capture stamps.

use std::fmt::Write as _;

use syscall_db::{RemediationKind, Runtime};

use crate::analysis::finding::{
    Category, Evidence, Finding, Occurrence, RemediationRef, Severity, ShownArg, VerdictStatus,
};
use crate::profile::{CaptureStamp, ExitStatus, Target};

/// The runtime's product name.
pub fn runtime_name(runtime: Runtime) -> &'static str {
    match runtime {
        Runtime::Gvisor => "gVisor",
        Runtime::Kata => "Kata Containers",
    }
}

/// The severity as written in reports and on the command line.
pub fn severity_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Breaks => "breaks",
        Severity::NeedsConfig => "needs-config",
        Severity::Degraded => "degraded",
        Severity::Info => "info",
    }
}

/// Every severity, worst first.
pub const SEVERITIES: [Severity; 4] = [
    Severity::Breaks,
    Severity::NeedsConfig,
    Severity::Degraded,
    Severity::Info,
];

/// The verdict in words.
pub fn status_name(status: VerdictStatus) -> &'static str {
    match status {
        VerdictStatus::Compatible => "compatible",
        VerdictStatus::CompatibleWithConfiguration => "compatible with configuration",
        VerdictStatus::LikelyToBreak => "likely to break",
        VerdictStatus::Incomplete => "incomplete",
        VerdictStatus::NoEvidence => "no evidence",
        VerdictStatus::NoFailureFound => "no failure found",
        VerdictStatus::Works => "works",
        VerdictStatus::WorksDegraded => "works, degraded",
        VerdictStatus::Breaks => "breaks",
    }
}

/// The category as a short label.
pub fn category_name(category: Category) -> &'static str {
    match category {
        Category::Syscall => "syscall",
        Category::ProcPath => "/proc path",
        Category::SysPath => "/sys path",
        Category::DevPath => "/dev path",
        Category::Socket => "socket",
        Category::Ioctl => "ioctl",
        Category::Sockopt => "sockopt",
        Category::Mount => "mount",
        Category::Ptrace => "ptrace",
        Category::Prctl => "prctl",
        Category::ArchPrctl => "arch_prctl",
        Category::Namespaces => "namespaces",
        Category::Binary32 => "32-bit binary",
        Category::Device => "device",
        Category::Bpf => "bpf",
        Category::Perf => "perf",
        Category::IoUring => "io_uring",
        Category::Keyctl => "keyctl",
        Category::Seccomp => "seccomp",
        Category::Madvise => "madvise",
        Category::Fcntl => "fcntl",
        Category::Personality => "personality",
        Category::Runtime => "runtime",
        Category::PodSpec => "pod spec",
        Category::Other => "other",
    }
}

/// `name=raw (SYMBOL)` for each argument, comma-separated.
pub fn args(args: &[ShownArg]) -> String {
    let mut out = String::new();
    for (i, arg) in args.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "{}={}", arg.name, arg.raw);
        if let Some(symbol) = &arg.symbol {
            let _ = write!(out, " ({symbol})");
        }
    }
    out
}

/// `12 calls, 3 failed under runc (EACCES×2, ENOENT×1)`, or `12 calls`.
pub fn counts(evidence: &Evidence) -> String {
    let plural = if evidence.calls == 1 { "call" } else { "calls" };
    let mut out = format!("{} {plural}", evidence.calls);
    let failed: u64 = evidence.errors.values().sum();
    if failed > 0 {
        let errnos: Vec<String> = evidence
            .errors
            .iter()
            .map(|(errno, n)| format!("{errno}×{n}"))
            .collect();
        let _ = write!(out, ", {failed} failed ({})", errnos.join(", "));
    }
    out
}

/// `pid 41 (/usr/bin/ss)`, with whatever parts are known.
pub fn occurrence(occurrence: &Occurrence) -> String {
    let mut parts = Vec::new();
    if let Some(pid) = occurrence.pid {
        parts.push(format!("pid {pid}"));
    }
    if let Some(tid) = occurrence.tid.filter(|&tid| Some(tid) != occurrence.pid) {
        parts.push(format!("tid {tid}"));
    }
    let place = match (&occurrence.file, occurrence.line) {
        (Some(file), Some(line)) => Some(match occurrence.source_line {
            Some(original) => format!("{file}:{line} (line {original} of the original log)"),
            None => format!("{file}:{line}"),
        }),
        (Some(file), None) => Some(file.clone()),
        _ => None,
    };
    let mut out = parts.join(" ");
    if let Some(exe) = &occurrence.executable {
        if out.is_empty() {
            out.clone_from(exe);
        } else {
            let _ = write!(out, " ({exe})");
        }
    }
    if let Some(time) = &occurrence.time {
        let _ = write!(out, " at {time}");
    }
    if let Some(place) = place {
        if out.is_empty() {
            out = place;
        } else {
            let _ = write!(out, ", {place}");
        }
    }
    out
}

/// What kind of remediation, in words.
pub fn remediation_kind(kind: RemediationKind) -> &'static str {
    match kind {
        RemediationKind::RunscFlag => "runsc flag",
        RemediationKind::Annotation => "pod annotation",
        RemediationKind::PodSpec => "pod spec",
        RemediationKind::NodeConfig => "node configuration",
        RemediationKind::CodeChange => "code change",
        RemediationKind::OtherRuntime => "other runtime",
    }
}

/// The thing to apply, when the remediation is one exact setting: the flag or annotation.
pub fn remediation_setting(remediation: &RemediationRef) -> Option<&str> {
    remediation
        .flag
        .as_deref()
        .or(remediation.annotation.as_deref())
}

/// `--net-raw (runsc flag): summary`, or `code change: summary`.
pub fn remediation(remediation: &RemediationRef) -> String {
    match remediation_setting(remediation) {
        Some(setting) => format!(
            "{setting} ({}): {}",
            remediation_kind(remediation.kind),
            remediation.summary
        ),
        None => format!(
            "{}: {}",
            remediation_kind(remediation.kind),
            remediation.summary
        ),
    }
}

/// The finding's first remediation, shortest form: the setting, or the kind.
pub fn first_fix(finding: &Finding) -> String {
    match finding.remediations.first() {
        Some(fix) => remediation_setting(fix)
            .map(str::to_owned)
            .unwrap_or_else(|| remediation_kind(fix.kind).to_owned()),
        None => String::new(),
    }
}

/// What was traced, in one line.
pub fn target(target: &Target) -> String {
    match target {
        Target::Command { argv, user, exit } => {
            let mut out = format!("command `{}`", argv.join(" "));
            if let Some(user) = user {
                let _ = write!(out, " as {user}");
            }
            match exit {
                Some(ExitStatus::Code(code)) => {
                    let _ = write!(out, ", exited with {code}");
                }
                Some(ExitStatus::Signal(signal)) => {
                    let _ = write!(out, ", killed by signal {signal}");
                }
                None => {}
            }
            out
        }
        Target::Pid { pid } => format!("process {pid} and descendants"),
        Target::Cgroup { path } => format!("cgroup {path}"),
        Target::Container { id, cgroup } => format!("container {id} (cgroup {cgroup})"),
        Target::RunscLog { files } => format!("runsc log {}", files.join(", ")),
    }
}

/// A duration in milliseconds as `1.5 s`, `2 min 3 s` or `1 h 2 min`.
pub fn duration(ms: u64) -> String {
    let secs = ms / 1000;
    if secs < 60 {
        format!("{}.{} s", secs, (ms % 1000) / 100)
    } else if secs < 3600 {
        format!("{} min {} s", secs / 60, secs % 60)
    } else {
        format!("{} h {} min", secs / 3600, (secs % 3600) / 60)
    }
}

/// One capture in one line: target, host, kernel, time span, duration, method.
pub fn capture(capture: &CaptureStamp) -> String {
    format!(
        "{} on {} (kernel {}), {} to {} ({}), via {}",
        target(&capture.target),
        capture.hostname,
        capture.kernel,
        capture.started_at,
        capture.ended_at,
        duration(capture.duration_ms),
        capture.method
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration(0), "0.0 s");
        assert_eq!(duration(1_560), "1.5 s");
        assert_eq!(duration(123_000), "2 min 3 s");
        assert_eq!(duration(3_720_000), "1 h 2 min");
    }

    #[test]
    fn occurrences() {
        let full = Occurrence {
            pid: Some(41),
            tid: Some(42),
            executable: Some("/usr/bin/ss".to_owned()),
            file: Some("a.log".to_owned()),
            line: Some(7),
            source_line: None,
            document: None,
            time: None,
        };
        assert_eq!(occurrence(&full), "pid 41 tid 42 (/usr/bin/ss), a.log:7");
        let pasted = Occurrence {
            file: Some("cat-n.txt".to_owned()),
            line: Some(2),
            source_line: Some(241),
            ..Occurrence::default()
        };
        assert_eq!(
            occurrence(&pasted),
            "cat-n.txt:2 (line 241 of the original log)"
        );
        let exe_only = Occurrence {
            executable: Some("ss".to_owned()),
            ..Occurrence::default()
        };
        assert_eq!(occurrence(&exe_only), "ss");
    }
}
