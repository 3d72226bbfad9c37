//! The report's account of a trial (`sandprof try`): how the workload was run, how
//! each run ended, and how their results compare — exit status, then output, exactly
//! and after normalising what legitimately differs between two runs (process ids,
//! timings, clock times, addresses), with the first differing lines.

use serde::{Deserialize, Serialize};

use super::finding::VerdictStatus;
use crate::sandbox::{Ending, RunOutcome, TrialSetup};

/// Bytes of each stream the report keeps (the trial itself kept more, to compare).
pub const REPORTED_BYTES: usize = 16 * 1024;
/// Differing lines the report shows per stream.
const SHOWN_DIFFERENCES: usize = 3;

/// How a run ended, as the report says it.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunEnding {
    /// Exit status (runsc reports a death by signal N as 128 + N).
    Exited(i32),
    /// Killed by this signal.
    Signaled(i32),
    /// Killed at the timeout.
    TimedOut,
}

impl RunEnding {
    /// `exit 0`, `signal 9`, `timed out`.
    pub fn describe(self) -> String {
        match self {
            RunEnding::Exited(code) => format!("exit {code}"),
            RunEnding::Signaled(signal) => format!("signal {signal}"),
            RunEnding::TimedOut => "timed out".to_owned(),
        }
    }

    fn shell_status(self) -> Option<i32> {
        match self {
            RunEnding::Exited(code) => Some(code),
            RunEnding::Signaled(signal) => Some(128 + signal),
            RunEnding::TimedOut => None,
        }
    }
}

/// One stream of one run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamReport {
    /// Bytes written.
    pub bytes: u64,
    /// The first [`REPORTED_BYTES`] of them (lossy UTF-8).
    pub text: String,
    /// Whether `text` is only the beginning.
    pub truncated: bool,
}

/// One run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunReport {
    /// `runc` or `runsc`.
    pub runtime: String,
    /// How it ended.
    pub ending: RunEnding,
    /// From `start` to exit, in milliseconds.
    pub wall_ms: u64,
    /// Peak memory of the container's cgroup (for runsc: the sandbox, gofer and
    /// application together), when the kernel reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_memory_bytes: Option<u64>,
    /// Standard output.
    pub stdout: StreamReport,
    /// Standard error.
    pub stderr: StreamReport,
}

/// How two streams compare.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Match {
    /// Byte for byte.
    Identical,
    /// The same once process ids, timings, clock times and addresses are masked.
    SameAfterNormalising,
    /// Different.
    Different,
}

/// A line that differs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineDifference {
    /// Line number, 1-based.
    pub line: usize,
    /// The line under runc (absent: runc's output ended before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runc: Option<String>,
    /// The line under runsc.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runsc: Option<String>,
}

/// One stream compared.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamComparison {
    /// How they compare.
    pub matched: Match,
    /// The first lines that differ after normalising.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub differences: Vec<LineDifference>,
}

/// The two runs compared.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comparison {
    /// Same exit status (a signal and 128 + it count as the same).
    pub same_exit: bool,
    /// Standard output.
    pub stdout: StreamComparison,
    /// Standard error.
    pub stderr: StreamComparison,
}

impl Comparison {
    /// Whether the workload reached the same result: same exit status and the same
    /// standard output (after normalising), neither run timed out.
    pub fn same_result(&self) -> bool {
        self.same_exit && self.stdout.matched != Match::Different
    }
}

/// What the report says about a trial.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrialReport {
    /// The command.
    pub command: Vec<String>,
    /// The root file system.
    pub rootfs: String,
    /// runsc's version.
    pub runsc_version: String,
    /// runsc's platform.
    pub platform: String,
    /// The network (`loopback`, `none`).
    pub network: String,
    /// The timeout, in seconds.
    pub timeout_s: u64,
    /// runsc's logs, when kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_dir: Option<String>,
    /// The runc run, then the runsc run.
    pub runs: Vec<RunReport>,
    /// The comparison.
    pub comparison: Comparison,
    /// What the database predicted before the run, and why.
    pub predicted: VerdictStatus,
    /// The prediction's summary.
    pub predicted_summary: String,
    /// Calls that failed under runsc and not under runc, `syscall(args): ERRNO`,
    /// sorted: the observed difference in behaviour.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed_calls: Vec<String>,
    /// The likely cause of a breakage, when one is found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// Time sandprof spent beyond the two runs (set-up, tracer, logs, cleanup), ms.
    pub overhead_ms: u64,
}

fn ending(ending: Ending) -> RunEnding {
    match ending {
        Ending::Exited(code) => RunEnding::Exited(code),
        Ending::Signaled(signal) => RunEnding::Signaled(signal),
        Ending::TimedOut => RunEnding::TimedOut,
        // The trial resolves it from runsc's log before it reports.
        Ending::Unreported => RunEnding::TimedOut,
    }
}

fn stream(captured: &crate::sandbox::output::Captured) -> StreamReport {
    let text = captured.text();
    let mut cut = text.len().min(REPORTED_BYTES);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    StreamReport {
        bytes: captured.total,
        truncated: captured.total > cut as u64,
        text: text[..cut].to_owned(),
    }
}

/// The report of one run.
pub fn run_report(runtime: &str, run: &RunOutcome) -> RunReport {
    RunReport {
        runtime: runtime.to_owned(),
        ending: ending(run.ending),
        wall_ms: u64::try_from(run.wall.as_millis()).unwrap_or(u64::MAX),
        peak_memory_bytes: run.peak_memory,
        stdout: stream(&run.stdout),
        stderr: stream(&run.stderr),
    }
}

/// Compares the runs.
pub fn compare(runc: &RunOutcome, runsc: &RunOutcome) -> Comparison {
    let (a, b) = (ending(runc.ending), ending(runsc.ending));
    Comparison {
        same_exit: a.shell_status().is_some() && a.shell_status() == b.shell_status(),
        stdout: compare_stream(&runc.stdout, &runsc.stdout),
        stderr: compare_stream(&runc.stderr, &runsc.stderr),
    }
}

fn compare_stream(
    runc: &crate::sandbox::output::Captured,
    runsc: &crate::sandbox::output::Captured,
) -> StreamComparison {
    if runc.total == runsc.total && runc.hash == runsc.hash && runc.head == runsc.head {
        return StreamComparison {
            matched: Match::Identical,
            differences: Vec::new(),
        };
    }
    let (a, b) = (runc.text(), runsc.text());
    let a_lines: Vec<&str> = a.lines().collect();
    let b_lines: Vec<&str> = b.lines().collect();
    let mut differences = Vec::new();
    for i in 0..a_lines.len().max(b_lines.len()) {
        let (x, y) = (a_lines.get(i), b_lines.get(i));
        let same = match (x, y) {
            (Some(x), Some(y)) => normalise(x) == normalise(y),
            _ => false,
        };
        if !same {
            differences.push(LineDifference {
                line: i + 1,
                runc: x.map(|s| (*s).to_owned()),
                runsc: y.map(|s| (*s).to_owned()),
            });
            if differences.len() == SHOWN_DIFFERENCES {
                break;
            }
        }
    }
    // Output beyond what was kept cannot be normalised: equal only if the kept parts
    // are and the totals agree.
    let beyond_kept = runc.truncated() || runsc.truncated();
    let matched = if differences.is_empty() && !(beyond_kept && runc.total != runsc.total) {
        Match::SameAfterNormalising
    } else {
        Match::Different
    };
    StreamComparison {
        matched,
        differences,
    }
}

/// A line with what differs between two runs of the same program masked: hex
/// addresses (`0x7f…`, or 8 and more hex digits) → `ADDR`; numbers with a fraction
/// (timings, rates) → `NUM`; clock times → `TIME`; numbers right after `pid`, `PID`,
/// `[` or `:`-free `#` → `PID`. Integers elsewhere are kept: they are usually the
/// result.
pub fn normalise(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let starts_token = i == 0 || !chars[i - 1].is_ascii_alphanumeric();
        if c == ' ' || c == '\t' {
            // Column alignment follows the widest value (a pid_max, a terminal width):
            // runs of blanks are one separator.
            if !out.is_empty() && !out.ends_with(' ') {
                out.push(' ');
            }
            i += 1;
            continue;
        }
        if starts_token && c.is_ascii_hexdigit() {
            let end = (i..chars.len())
                .find(|&j| {
                    !(chars[j].is_ascii_alphanumeric() || matches!(chars[j], '.' | ':' | 'x'))
                })
                .unwrap_or(chars.len());
            let token: String = chars[i..end].iter().collect();
            match mask(&token, &out) {
                Some(mask) => out.push_str(mask),
                None => out.push_str(&token),
            }
            i = end;
            continue;
        }
        out.push(c);
        i += 1;
    }
    out.trim_end().to_owned()
}

/// What a token is masked as, if it is one of the masked kinds.
fn mask(token: &str, before: &str) -> Option<&'static str> {
    let token = token.trim_end_matches(['.', ':']);
    if token.is_empty() {
        return None;
    }
    if let Some(hex) = token.strip_prefix("0x") {
        return (!hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit())).then_some("ADDR");
    }
    let digits = token.chars().filter(char::is_ascii_digit).count();
    if token.len() >= 8
        && token.chars().all(|c| c.is_ascii_hexdigit())
        && digits > 0
        && digits < token.len()
    {
        return Some("ADDR");
    }
    if token.contains(':')
        && token
            .split(':')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit() || c == '.'))
    {
        return Some("TIME");
    }
    if !token.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    if token.contains('.') && token.split('.').count() == 2 {
        return Some("NUM");
    }
    let lower = before.to_ascii_lowercase();
    let context = lower.trim_end();
    if ["pid", "pid=", "process", "[", "#"]
        .iter()
        .any(|word| context.ends_with(word))
    {
        return Some("PID");
    }
    None
}

/// Builds the trial section from the sandbox's setup and the runs.
pub fn trial_report(
    setup: &TrialSetup,
    runc: &RunOutcome,
    runsc: &RunOutcome,
    overhead_ms: u64,
) -> TrialReport {
    TrialReport {
        command: setup.command.clone(),
        rootfs: setup.rootfs.clone(),
        runsc_version: setup.runsc_version.clone(),
        platform: setup.platform.clone(),
        network: match setup.net {
            crate::sandbox::Net::Loopback => "loopback".to_owned(),
            crate::sandbox::Net::None => "none".to_owned(),
        },
        timeout_s: setup.timeout.as_secs(),
        log_dir: setup.log_dir.as_ref().map(|d| d.display().to_string()),
        runs: vec![run_report("runc", runc), run_report("runsc", runsc)],
        comparison: compare(runc, runsc),
        predicted: VerdictStatus::NoEvidence,
        predicted_summary: String::new(),
        failed_calls: Vec::new(),
        cause: None,
        overhead_ms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalising_masks_what_differs_between_runs() {
        assert_eq!(normalise("mapped at 0x7f3a12bc0000"), "mapped at ADDR");
        assert_eq!(normalise("took 0.123 s"), "took NUM s");
        assert_eq!(normalise("12:34:56 started"), "TIME started");
        assert_eq!(normalise("worker pid 4242 ready"), "worker pid PID ready");
        assert_eq!(normalise("[1234] ready"), "[PID] ready");
        assert_eq!(
            normalise("[Inferior 1 (process 9) exited]"),
            "[Inferior 1 (process PID) exited]"
        );
        assert_eq!(normalise("    PID COMMAND"), "PID COMMAND");
        assert_eq!(normalise("      1 ps"), "1 ps");
        assert_eq!(normalise("3 lines"), "3 lines");
        assert_eq!(normalise("id deadbeef00"), "id ADDR");
        assert_eq!(normalise("version 1.2.3"), "version 1.2.3");
    }
}
