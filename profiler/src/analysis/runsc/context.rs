//! What every part of the log analysis needs: the database, the arch, the facts, the
//! runsc flags and the message catalogue, and the pieces of a finding they make
//! (occurrences, syscall names, references to runsc's source).

use syscall_db::messages::MessageCatalogue;
use syscall_db::{Arch, Database, Runtime};

use crate::analysis::dbref;
use crate::analysis::finding::{DbReference, Occurrence, RemediationRef, Severity};
use crate::analysis::flags::RunscFlags;
use crate::runsc_log::capture::CaptureSpec;
use crate::runsc_log::facts::{LogFacts, SyscallId, Where};
use crate::runsc_log::names;
use syscall_db::messages::MessageEffect;

pub(super) struct Context<'a> {
    pub db: &'a Database,
    pub arch: Arch,
    pub facts: &'a LogFacts,
    pub flags: &'a RunscFlags,
    pub catalogue: &'static MessageCatalogue,
    /// Reads captured fields out of a suspect call's logged arguments.
    pub spec: CaptureSpec,
    /// The database at the newest release it knows, when the logs are judged at an
    /// older one: what upgrading runsc would change.
    pub newest: Option<Database>,
}

impl<'a> Context<'a> {
    pub fn new(db: &'a Database, arch: Arch, facts: &'a LogFacts, flags: &'a RunscFlags) -> Self {
        Context {
            db,
            arch,
            facts,
            flags,
            catalogue: MessageCatalogue::get(),
            spec: CaptureSpec::from_database(db, arch),
            newest: db
                .releases()
                .newest()
                .filter(|&newest| newest > db.release())
                .and_then(|newest| db.at(newest).ok()),
        }
    }

    /// The newest release, when a call the judged release fails works there: a rule of
    /// that release says it works, or (with no rule) its table implements the syscall
    /// in full.
    pub fn works_in_newest(
        &self,
        name: &str,
        fields: &syscall_db::FieldValues,
    ) -> Option<syscall_db::Release> {
        let newest = self.newest.as_ref()?;
        let works = match newest.best_matching_rule(Runtime::Gvisor, self.arch, name, fields) {
            Some(rule) => rule.outcome == syscall_db::Outcome::Works,
            None => newest
                .gvisor(self.arch, name)
                .is_some_and(|e| e.status == syscall_db::GvisorStatus::Full),
        };
        works.then(|| newest.release())
    }

    pub fn occurrence(&self, at: &Where) -> Occurrence {
        Occurrence {
            pid: at.pid,
            tid: at.tid,
            executable: (!at.comm.is_empty()).then(|| at.comm.to_string_lossy()),
            file: self.file_name(at.file),
            line: Some(at.line),
            source_line: at.source_line,
            document: None,
            time: (!at.time.is_empty()).then(|| at.time.to_string_lossy()),
        }
    }

    pub fn file_name(&self, file: u32) -> Option<String> {
        self.facts.files.get(file as usize).map(|f| f.name.clone())
    }

    /// `file:line`, with the original log's line when the input printed one.
    pub fn place(&self, at: &Where) -> String {
        let file = self.file_name(at.file).unwrap_or_else(|| "-".to_owned());
        match at.source_line {
            Some(original) => format!("{file}:{} (line {original} of the original log)", at.line),
            None => format!("{file}:{}", at.line),
        }
    }

    /// The runsc command that wrote a file (`boot`, `gofer`, `run`…).
    pub fn command(&self, file: u32) -> Option<&str> {
        self.facts
            .files
            .get(file as usize)
            .and_then(|f| f.command.as_deref())
    }

    /// The syscall's name in the database's table, falling back to how runsc wrote it.
    pub fn name(&self, syscall: &SyscallId) -> String {
        names::resolve(self.db, self.arch, syscall)
            .map_or_else(|| syscall.display(), |(name, _)| name)
    }

    /// `clone3 (435 on x86_64)` for a syscall runsc only numbered, else the name.
    pub fn described_name(&self, syscall: &SyscallId) -> String {
        match (syscall, names::resolve(self.db, self.arch, syscall)) {
            (SyscallId::Number(n), Some((name, _))) => format!("{name} ({n} on {})", self.arch),
            (SyscallId::Number(n), None) => format!("syscall {n} (unknown on {})", self.arch),
            (SyscallId::Named(_), _) => self.name(syscall),
        }
    }

    pub fn errno_name(&self, errno: u16) -> String {
        names::errno_name(self.db, errno)
    }

    /// A reference to runsc's own source (messages, terminations).
    pub fn source_reference(&self, entry: &str, paths: Vec<String>) -> DbReference {
        DbReference {
            entry: entry.to_owned(),
            revision: dbref::upstream_revision(self.db, Runtime::Gvisor, &[]),
            paths,
        }
    }

    /// The reference for a message of the catalogue.
    pub fn message_reference(&self, index: usize) -> DbReference {
        let message = &self.catalogue.messages()[index];
        let provenance = self.catalogue.provenance();
        DbReference {
            entry: format!("gvisor.message.{}", message.id),
            revision: format!("{}@{}", provenance.project, provenance.revision),
            paths: message.sources().into_iter().map(str::to_owned).collect(),
        }
    }

    /// A message's effect as a severity, and its remediations: a runsc flag among the
    /// assumed ones makes it configured (info).
    pub fn message_severity(
        &self,
        effect: MessageEffect,
        remediation_ids: &[String],
    ) -> (Severity, Vec<RemediationRef>) {
        let remediations = dbref::remediation_refs(self.db, remediation_ids);
        let configured =
            crate::analysis::outcome::configured_by(self.db, remediation_ids, self.flags).is_some();
        let severity = match effect {
            MessageEffect::Breaks => Severity::Breaks,
            MessageEffect::NeedsConfig if configured => Severity::Info,
            MessageEffect::NeedsConfig => Severity::NeedsConfig,
            MessageEffect::Degraded => Severity::Degraded,
            MessageEffect::Info => Severity::Info,
        };
        (severity, remediations)
    }
}
