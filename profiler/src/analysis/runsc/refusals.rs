//! Calls runsc refused (ENOSYS, EPERM, EOPNOTSUPP…) that no other finding explains: the
//! log's own evidence of something the database does not predict.

use std::collections::BTreeMap;

use syscall_db::Runtime;

use super::context::Context;
use crate::analysis::finding::{Evidence, Finding, Severity};
use crate::analysis::{dbref, gvisor};
use crate::runsc_log::facts::{is_refusal, CallStat};

impl Context<'_> {
    /// A finding per (syscall, refusing errno) that no finding in `existing` is about.
    pub(super) fn refusals(&self, existing: &[Finding]) -> Vec<Finding> {
        let mut by_call: BTreeMap<(String, u16), Vec<&CallStat>> = BTreeMap::new();
        for stat in &self.facts.calls {
            for failure in &stat.failures {
                if is_refusal(failure.errno) {
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
        let errno_text = self.errno_name(errno);
        let failures = stats
            .iter()
            .flat_map(|s| s.failures.iter().filter(|f| f.errno == errno));
        let count: u64 = failures.clone().map(|f| f.count).sum();
        let first = failures.clone().map(|f| f.first).min_by_key(|w| w.order());
        let last = failures.map(|f| f.last).max_by_key(|w| w.order());
        let mut comms: Vec<String> = stats.iter().map(|s| s.comm.clone()).collect();
        comms.sort();
        comms.dedup();
        let calls = stats.iter().map(|s| s.calls).sum();
        let entry = self.db.gvisor(self.arch, name);
        Finding {
            runtime: Runtime::Gvisor,
            severity: Severity::Degraded,
            category: gvisor::syscall_category(name),
            title: format!(
                "{name} failed with {errno_text} under runsc{}",
                self.release_phrase(" ")
            ),
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
                None => self.source_reference(
                    "runsc.strace.refused",
                    vec!["pkg/sentry/strace/strace.go".to_owned()],
                ),
            },
            observation: None,
        }
    }
}
