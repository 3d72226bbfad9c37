//! Syscall counts of one run, read from a sandprof profile or from `strace -f -c`, and
//! the exact-count check between them.
//!
//! `strace -f -c` is the independent reference: for every syscall, sandprof must report
//! the same number of calls and of failed calls. Two kinds of difference are expected
//! and accounted for, nothing else is tolerated:
//! - `exit` and `exit_group` never return, and `strace -c` leaves them out of its table;
//! - a loop workload runs fewer iterations under strace (it is three orders of magnitude
//!   slower), so its per-iteration syscalls are scaled to the iteration count.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context as _};
use serde::Deserialize;

/// Calls and failed calls of one syscall.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CallCount {
    /// Calls, successful or not.
    pub calls: u64,
    /// Calls that returned an error.
    pub errors: u64,
}

/// Calls per syscall name.
pub type SyscallCounts = BTreeMap<String, CallCount>;

/// Syscalls that do not return: `strace -c` does not count them.
const NEVER_RETURN: [&str; 2] = ["exit", "exit_group"];

/// The part of a `*.sandprof.json` profile the check reads.
#[derive(Deserialize)]
struct Profile {
    syscalls: Vec<ProfileRow>,
    lost: BTreeMap<String, u64>,
}

#[derive(Deserialize)]
struct ProfileRow {
    name: String,
    calls: u64,
    #[serde(default)]
    errors: BTreeMap<String, u64>,
}

/// Reads a profile's syscall counts, summed over executables. Fails if the profile
/// records any lost event: then its counts are not exact by its own account.
pub fn from_profile(path: &Path) -> anyhow::Result<SyscallCounts> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("failed to read {}", path.display()))?;
    let profile: Profile = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a sandprof profile", path.display()))?;
    let lost: Vec<String> = profile
        .lost
        .iter()
        .filter(|(_, &n)| n > 0)
        .map(|(cause, n)| format!("{cause} = {n}"))
        .collect();
    if !lost.is_empty() {
        bail!(
            "{} records lost events ({}): its counts are not exact",
            path.display(),
            lost.join(", ")
        );
    }
    let mut counts = SyscallCounts::new();
    for row in profile.syscalls {
        let count = counts.entry(row.name).or_default();
        count.calls += row.calls;
        count.errors += row.errors.values().sum::<u64>();
    }
    Ok(counts)
}

/// Parses the summary table that `strace -c -o FILE` writes.
///
/// Rows read `% time, seconds, usecs/call, calls, [errors,] syscall`, between a dashed
/// rule under the header and a dashed rule above the `total` row.
pub fn from_strace_summary(text: &str, origin: &Path) -> anyhow::Result<SyscallCounts> {
    let mut counts = SyscallCounts::new();
    let mut rules = 0;
    for (index, line) in text.lines().enumerate() {
        let line_no = index + 1;
        if line.starts_with("------") {
            rules += 1;
            continue;
        }
        if rules != 1 || line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        let number = |i: usize| {
            fields[i].parse::<u64>().with_context(|| {
                format!(
                    "{}:{line_no}: `{}` is not a call count in `{line}`",
                    origin.display(),
                    fields[i]
                )
            })
        };
        let (calls, errors) = match fields.len() {
            5 => (number(3)?, 0),
            6 => (number(3)?, number(4)?),
            _ => bail!(
                "{}:{line_no}: expected 5 or 6 columns in strace's summary, found `{line}`",
                origin.display()
            ),
        };
        let name = fields[fields.len() - 1].to_owned();
        if counts.insert(name, CallCount { calls, errors }).is_some() {
            bail!(
                "{}:{line_no}: syscall `{}` appears twice",
                origin.display(),
                fields[fields.len() - 1]
            );
        }
    }
    if rules < 2 {
        bail!(
            "{}: no strace summary table (expected a header, a dashed rule, rows, a dashed \
             rule and a total)",
            origin.display()
        );
    }
    Ok(counts)
}

/// What sandprof must report for a run of `iterations`, given strace's counts for a run
/// of `strace_iterations` and the syscalls each iteration makes once.
pub fn expected(
    strace: &SyscallCounts,
    strace_iterations: u64,
    iterations: u64,
    per_iteration: &[&str],
) -> anyhow::Result<SyscallCounts> {
    let mut expected = strace.clone();
    for &name in per_iteration {
        let count = expected.entry(name.to_owned()).or_default();
        let calls = count
            .calls
            .checked_sub(strace_iterations)
            .with_context(|| {
                format!(
                    "strace counted {} calls of `{name}`, fewer than its {strace_iterations} \
                     iterations",
                    count.calls
                )
            })?;
        count.calls = calls + iterations;
    }
    Ok(expected)
}

/// Every syscall whose counts differ, as `name: sandprof …, expected …` lines; empty
/// when the counts are exact.
pub fn differences(sandprof: &SyscallCounts, expected: &SyscallCounts) -> Vec<String> {
    let names: std::collections::BTreeSet<&String> = sandprof
        .keys()
        .chain(expected.keys())
        .filter(|name| !NEVER_RETURN.contains(&name.as_str()))
        .collect();
    let show = |c: Option<&CallCount>| match c {
        Some(c) => format!("{} calls ({} failed)", c.calls, c.errors),
        None => "none".to_owned(),
    };
    names
        .into_iter()
        .filter(|&name| sandprof.get(name) != expected.get(name))
        .map(|name| {
            format!(
                "{name}: sandprof {}, expected {}",
                show(sandprof.get(name)),
                show(expected.get(name))
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUMMARY: &str = "\
% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ------------------
 95.98    0.001912           1      1000           getppid
  2.56    0.000051          51         1           write
  0.00    0.000000           0        34        13 openat
------ ----------- ----------- --------- --------- ------------------
100.00    0.001992           1      1035        13 total
";

    fn count(calls: u64, errors: u64) -> CallCount {
        CallCount { calls, errors }
    }

    fn counts(rows: &[(&str, u64, u64)]) -> SyscallCounts {
        rows.iter()
            .map(|&(name, calls, errors)| (name.to_owned(), count(calls, errors)))
            .collect()
    }

    #[test]
    fn strace_summary_rows_with_and_without_errors() {
        let parsed = from_strace_summary(SUMMARY, Path::new("s.txt")).unwrap();
        assert_eq!(
            parsed,
            counts(&[("getppid", 1000, 0), ("openat", 34, 13), ("write", 1, 0)])
        );
    }

    #[test]
    fn strace_summary_bad_count_names_file_and_line() {
        let text = SUMMARY.replace("      1000  ", "      1x00  ");
        let err = from_strace_summary(&text, Path::new("s.txt")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "s.txt:3: `1x00` is not a call count in ` 95.98    0.001912           1      \
             1x00           getppid`"
        );
    }

    #[test]
    fn strace_summary_missing_table_is_an_error() {
        let err = from_strace_summary("strace: exec failed\n", Path::new("s.txt")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "s.txt: no strace summary table (expected a header, a dashed rule, rows, a dashed \
             rule and a total)"
        );
    }

    #[test]
    fn expected_scales_per_iteration_syscalls() {
        let strace = counts(&[("openat", 1034, 13), ("read", 1008, 0), ("close", 1021, 0)]);
        let want = expected(&strace, 1000, 200_000, &["openat", "read"]).unwrap();
        assert_eq!(
            want,
            counts(&[
                ("openat", 200_034, 13),
                ("read", 200_008, 0),
                ("close", 1021, 0)
            ])
        );
    }

    #[test]
    fn expected_rejects_fewer_calls_than_iterations() {
        let strace = counts(&[("getppid", 10, 0)]);
        let err = expected(&strace, 1000, 5000, &["getppid"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "strace counted 10 calls of `getppid`, fewer than its 1000 iterations"
        );
    }

    #[test]
    fn differences_ignore_calls_that_never_return() {
        let sandprof = counts(&[("exit_group", 1, 0), ("read", 8, 0), ("openat", 34, 12)]);
        let strace = counts(&[("read", 8, 0), ("openat", 34, 13), ("close", 2, 0)]);
        assert_eq!(
            differences(&sandprof, &strace),
            [
                "close: sandprof none, expected 2 calls (0 failed)",
                "openat: sandprof 34 calls (12 failed), expected 34 calls (13 failed)",
            ]
        );
        assert!(differences(&strace, &strace).is_empty());
    }
}
