//! Failed calls as candidate causes: what each is (its path or named arguments), and
//! its score from the evidence (see [`super::causes`]): the process's error output, the
//! database's rules and gVisor's table, what a normal Linux would not fail, and whether
//! the program recovered.

use syscall_db::{GvisorStatus, Outcome, Runtime};

use super::causes::Candidate;
use super::context::Context;
use crate::analysis::dbref;
use crate::runsc_log::facts::{is_refusal, Suspect, SuspectKind};

impl Context<'_> {
    /// A failed call as a candidate, scored; `None` for an ordinary failure its process
    /// did not complain about.
    pub(super) fn suspect(&self, s: &Suspect) -> Option<Candidate> {
        let name = self.name(&s.syscall);
        let shown_name = self.described_name(&s.syscall);
        let fields = self
            .spec
            .read(&name, s.args.as_bytes())
            .map(|captured| captured.fields)
            .unwrap_or_default();
        let named_args =
            crate::analysis::args::shown_args(self.db, self.arch, &name, &fields, None);
        let shown = match (&s.path, named_args.is_empty()) {
            (Some(path), _) => format!("{shown_name}({path})"),
            (None, false) => {
                let args: Vec<String> = named_args
                    .iter()
                    .map(|a| format!("{}={}", a.name, a.symbol.as_deref().unwrap_or(&a.raw)))
                    .collect();
                format!("{shown_name}({})", args.join(", "))
            }
            (None, true) => format!("{shown_name}({})", short_args(&s.args)),
        };
        let (what, errno) = match s.kind {
            SuspectKind::Failed(errno) => (
                format!("{shown} failed with {}", self.errno_name(errno)),
                Some(errno),
            ),
            SuspectKind::Unfinished => (format!("the task died inside {shown}"), None),
            SuspectKind::Unsupported => (
                format!(
                    "runsc reported {} unsupported",
                    self.described_name(&s.syscall)
                ),
                None,
            ),
        };
        let kernel_path = s
            .path
            .as_deref()
            .is_some_and(syscall_db::paths::is_kept_path);
        let ordinary = errno.is_some_and(|e| !is_refusal(e)) && !kernel_path;
        if ordinary && s.named_in_output.is_none() {
            return None;
        }
        let mut c = self.candidate(what, s.at, Some(name.clone()));
        match s.kind {
            SuspectKind::Unfinished => c.plus(6, "the task died inside it"),
            SuspectKind::Unsupported => c.plus(2, "runsc reported it unsupported"),
            SuspectKind::Failed(_) => {}
        }
        if let Some(naming) = &s.named_in_output {
            if naming.names_call {
                c.plus(
                    8,
                    format!("its error output names it ({:?})", naming.text.trim()),
                );
            } else {
                c.plus(
                    3,
                    format!(
                        "its error output reports that error ({:?})",
                        naming.text.trim()
                    ),
                );
            }
        }
        self.judge_suspect(&mut c, s, &name, errno);
        if s.succeeded_later {
            c.plus(
                -4,
                "the same call succeeded later, so the program recovered",
            );
        }
        Some(c)
    }

    /// What the database says of a failed call: a rule on its arguments, else gVisor's
    /// table; and whether a normal Linux would fail it.
    fn judge_suspect(&self, c: &mut Candidate, s: &Suspect, name: &str, errno: Option<u16>) {
        let fields = self
            .spec
            .read(name, s.args.as_bytes())
            .map(|captured| captured.fields)
            .unwrap_or_default();
        let rule = self
            .db
            .best_matching_rule(Runtime::Gvisor, self.arch, name, &fields);
        let on_path = rule.is_some() && s.path.is_some();
        match rule.map(|r| (r, &r.outcome)) {
            Some((rule, Outcome::Fails { .. } | Outcome::NeedsConfig { .. })) => {
                c.plus(
                    4,
                    format!(
                        "the database marks it failing in gVisor {} ({})",
                        self.db.release(),
                        rule.id
                    ),
                );
                c.remediations = dbref::remediation_refs(self.db, &rule.remediations);
                c.reference = Some(dbref::rule_reference(self.db, rule));
                c.note = Some(rule.note.clone());
                self.upgrade_fixes(c, name, &fields);
            }
            Some((rule, Outcome::Degraded | Outcome::Ignored)) => {
                c.plus(
                    2,
                    format!("the database marks it degraded in gVisor ({})", rule.id),
                );
                c.remediations = dbref::remediation_refs(self.db, &rule.remediations);
                c.reference = Some(dbref::rule_reference(self.db, rule));
                c.note = Some(rule.note.clone());
            }
            Some((rule, Outcome::Works)) if on_path && errno == Some(ENOENT) => {
                c.reference = Some(dbref::rule_reference(self.db, rule));
                if self.database_is_newer() {
                    c.remediations =
                        dbref::remediation_refs(self.db, &["runsc.upgrade".to_owned()]);
                    c.note = Some(format!(
                        "The database's gVisor ({}) provides this file (rule {}); runsc{} did \
                         not, so a newer runsc may run the workload.",
                        self.db.gvisor_revision(),
                        rule.id,
                        self.release_phrase(" ")
                    ));
                }
            }
            _ => self.judge_by_table(c, name, errno),
        }
        if errno == Some(ENOENT) && on_path {
            c.plus(2, "a normal Linux kernel provides that file");
        }
        if errno == Some(ENOSYS) && self.db.syscall_by_name(self.arch, name).is_some() {
            c.plus(
                2,
                format!("Linux implements {name}, so it would not fail with ENOSYS there"),
            );
        }
    }

    /// A call that works in the newest release: upgrading runsc is the first
    /// remediation.
    fn upgrade_fixes(&self, c: &mut Candidate, name: &str, fields: &syscall_db::FieldValues) {
        let Some(newest) = self.works_in_newest(name, fields) else {
            return;
        };
        let mut upgrade = dbref::remediation_refs(self.db, &["runsc.upgrade".to_owned()]);
        upgrade.append(&mut c.remediations);
        c.remediations = upgrade;
        let note = format!(" gVisor {newest}, the newest release the database knows, supports it.");
        match &mut c.note {
            Some(text) => text.push_str(&note),
            None => c.note = Some(note.trim_start().to_owned()),
        }
    }

    fn judge_by_table(&self, c: &mut Candidate, name: &str, errno: Option<u16>) {
        let Some(entry) = self.db.gvisor(self.arch, name) else {
            return;
        };
        match entry.status {
            GvisorStatus::Unimplemented => {
                c.plus(
                    4,
                    format!("gVisor {} does not implement {name}", self.db.release()),
                );
                c.reference = Some(dbref::gvisor_reference(self.db, self.arch, entry));
                self.upgrade_fixes(c, name, &syscall_db::FieldValues::new());
            }
            GvisorStatus::Partial => {
                c.plus(
                    2,
                    format!(
                        "gVisor {} implements {name} only in part",
                        self.db.release()
                    ),
                );
                c.reference = Some(dbref::gvisor_reference(self.db, self.arch, entry));
            }
            GvisorStatus::NeedsCapability if errno == Some(EPERM) => {
                let capability = entry.capability.as_deref().unwrap_or("a capability");
                c.plus(
                    2,
                    format!("gVisor {} requires {capability} for it", self.db.release()),
                );
                c.reference = Some(dbref::gvisor_reference(self.db, self.arch, entry));
                self.upgrade_fixes(c, name, &syscall_db::FieldValues::new());
            }
            GvisorStatus::Full if errno == Some(ENOSYS) && self.database_is_newer() => {
                c.remediations = dbref::remediation_refs(self.db, &["runsc.upgrade".to_owned()]);
                c.note = Some(format!(
                    "The database's gVisor ({}) implements {name}; runsc{} did not.",
                    self.db.gvisor_revision(),
                    self.release_phrase(" ")
                ));
            }
            _ => {}
        }
    }
}

const EPERM: u16 = 1;
const ENOENT: u16 = 2;
const ENOSYS: u16 = 38;

/// The arguments as logged, cut short for a title.
fn short_args(args: &str) -> String {
    const MAX: usize = 60;
    if args.len() <= MAX {
        return args.to_owned();
    }
    let mut end = MAX;
    while !args.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &args[..end])
}
