//! The catalogue of runsc's own log messages (`data/gvisor/messages.toml`): how each
//! message is worded, what it does to the workload, and what to do about it, so that
//! teaching `sandprof runsc-log` a new message is adding data.
//!
//! [`MessageCatalogue::get`] is the embedded catalogue, validated against the embedded
//! database (remediation ids, categories, wordings). [`MessageCatalogue::recognise`]
//! matches a message's text against the wordings of the messages recognised by wording,
//! returning the message and its captures; [`Message::judged`] applies the message's
//! cases to the captures.

mod matcher;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Problem};
use crate::model::Provenance;
use crate::Database;

pub use matcher::Captures;

/// Path of the catalogue in `data/`.
pub const PATH: &str = "gvisor/messages.toml";

const EMBEDDED: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data/gvisor/messages.toml"
));

/// What a message does to the workload.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MessageEffect {
    /// The workload fails or misbehaves.
    Breaks,
    /// It works once runsc or the pod is configured as the remediation says.
    NeedsConfig,
    /// It works with reduced function.
    Degraded,
    /// Worth knowing; nothing to do.
    Info,
}

/// How sandprof recognises a message.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Recognised {
    /// By the catalogue's wordings.
    Wording,
    /// By sandprof's own parser (the message carries facts: a syscall, an exit, a
    /// signal); its wordings here document it.
    Code,
}

/// Whether a message had a task prefix (`[ pid: tid] `): a task logged it, rather than
/// runsc itself.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TaskPrefix {
    /// Either.
    #[default]
    Any,
    /// Only with a task prefix.
    Present,
    /// Only without one.
    Absent,
}

/// One wording of a message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Wording {
    /// The text, with `{name}` captures.
    pub text: String,
    /// The upstream file that writes it.
    pub source: String,
    /// The commit that introduced this wording, when an older one exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// The commit that replaced it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}

/// A refinement of a message by the values it captured.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageCase {
    /// Capture name → values, each exact or ending in `*` for a prefix; every capture
    /// named must match one of its values.
    pub when: BTreeMap<String, Vec<String>>,
    /// Overrides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effect: Option<MessageEffect>,
    /// Overrides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Overrides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
}

/// A message family.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Message {
    /// Stable id, e.g. `mount.unknown-filesystem-type`.
    pub id: String,
    /// How it is recognised.
    pub recognised: Recognised,
    /// Which task prefix the wordings apply to.
    #[serde(default)]
    pub task: TaskPrefix,
    /// Every wording it has had.
    pub wordings: Vec<Wording>,
    /// What it does to the workload.
    pub effect: MessageEffect,
    /// A findings category name (`mount`, `socket`, `device`…).
    pub category: String,
    /// One line; `{name}` is replaced by the capture.
    pub title: String,
    /// What happens to the workload and why.
    pub explanation: String,
    /// Remediation ids, best first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remediations: Vec<String>,
    /// It explains a failure that follows it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cause: bool,
    /// Refinements by captured value.
    #[serde(default, rename = "case", skip_serializing_if = "Vec::is_empty")]
    pub cases: Vec<MessageCase>,
}

/// A message as judged for one occurrence's captures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Judged<'a> {
    /// The message.
    pub message: &'a Message,
    /// Its effect, after the matching case.
    pub effect: MessageEffect,
    /// Its title, captures filled in.
    pub title: String,
    /// Its explanation, captures filled in.
    pub explanation: String,
}

impl Message {
    /// The message's effect, title and explanation for these captures: the first case
    /// whose conditions all hold overrides the fields it sets.
    pub fn judged(&self, captures: &Captures) -> Judged<'_> {
        let case = self.cases.iter().find(|c| {
            c.when.iter().all(|(name, values)| {
                captures
                    .get(name)
                    .is_some_and(|v| values.iter().any(|want| value_matches(want, v)))
            })
        });
        let title = case.and_then(|c| c.title.as_deref()).unwrap_or(&self.title);
        let explanation = case
            .and_then(|c| c.explanation.as_deref())
            .unwrap_or(&self.explanation);
        Judged {
            message: self,
            effect: case.and_then(|c| c.effect).unwrap_or(self.effect),
            title: captures.fill(title),
            explanation: captures.fill(explanation),
        }
    }

    /// The upstream files of its wordings, each once, in order.
    pub fn sources(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for w in &self.wordings {
            if !out.contains(&w.source.as_str()) {
                out.push(&w.source);
            }
        }
        out
    }
}

fn value_matches(want: &str, value: &str) -> bool {
    match want.strip_suffix('*') {
        Some(prefix) => value.starts_with(prefix),
        None => want == value,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MessagesFile {
    provenance: Provenance,
    #[serde(rename = "message")]
    messages: Vec<Message>,
}

/// The catalogue: every message, and a matcher over the wordings of those recognised
/// by wording.
#[derive(Debug)]
pub struct MessageCatalogue {
    provenance: Provenance,
    messages: Vec<Message>,
    matcher: matcher::Matcher,
}

static EMBEDDED_CATALOGUE: OnceLock<MessageCatalogue> = OnceLock::new();

impl MessageCatalogue {
    /// The catalogue compiled into this build, validated against the embedded database.
    pub fn get() -> &'static MessageCatalogue {
        EMBEDDED_CATALOGUE.get_or_init(|| {
            MessageCatalogue::from_toml(EMBEDDED, Database::get()).expect(
                "embedded message catalogue is valid: the `message_catalogue_loads` test guards it",
            )
        })
    }

    /// Parses and validates a catalogue: remediations must exist in `db`, ids be unique,
    /// every wording start with a literal and name its captures once.
    pub fn from_toml(text: &str, db: &Database) -> Result<MessageCatalogue, Error> {
        let file: MessagesFile = toml::from_str(text).map_err(|source| Error::Parse {
            file: PATH.to_owned(),
            source,
        })?;
        let mut problems = Vec::new();
        validate(&file.messages, db, &mut problems);
        let matcher = matcher::Matcher::new(&file.messages, &mut problems);
        if !problems.is_empty() {
            return Err(Error::Invalid { problems });
        }
        Ok(MessageCatalogue {
            provenance: file.provenance,
            messages: file.messages,
            matcher,
        })
    }

    /// Where the catalogue comes from.
    pub fn provenance(&self) -> &Provenance {
        &self.provenance
    }

    /// Every message, in file order.
    pub fn messages(&self) -> &[Message] {
        &self.messages
    }

    /// The message with this id.
    pub fn message(&self, id: &str) -> Option<&Message> {
        self.messages.iter().find(|m| m.id == id)
    }

    /// The index of the message with this id (stable for one catalogue).
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.messages.iter().position(|m| m.id == id)
    }

    /// The message recognised by wording that `text` is, with its captures; `task` says
    /// whether the line had a task prefix. The first wording (in file order) that
    /// matches wins.
    pub fn recognise(&self, text: &[u8], task: bool) -> Option<(usize, Captures)> {
        self.matcher.recognise(text, task)
    }
}

fn validate(messages: &[Message], db: &Database, problems: &mut Vec<Problem>) {
    let mut seen: BTreeMap<&str, ()> = BTreeMap::new();
    for message in messages {
        let item = format!("message `{}`", message.id);
        let mut report = |what: String| {
            problems.push(Problem {
                file: PATH.to_owned(),
                item: item.clone(),
                message: what,
            })
        };
        if seen.insert(&message.id, ()).is_some() {
            report("id used twice".to_owned());
        }
        if message.wordings.is_empty() {
            report("no wordings".to_owned());
        }
        for id in &message.remediations {
            if db.remediation(id).is_none() {
                report(format!("unknown remediation `{id}`"));
            }
        }
        for case in &message.cases {
            if case.when.is_empty() {
                report("a case with no condition".to_owned());
            }
            for name in case.when.keys() {
                let named = message
                    .wordings
                    .iter()
                    .any(|w| w.text.contains(&format!("{{{name}}}")));
                if !named {
                    report(format!("a case tests `{name}`, which no wording captures"));
                }
            }
        }
        if message.title.trim().is_empty() || message.explanation.trim().is_empty() {
            report("empty title or explanation".to_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_wordings_and_applies_cases() {
        let catalogue = MessageCatalogue::get();
        let (index, captures) = catalogue
            .recognise(br#"ignoring unknown filesystem type "mqueue""#, false)
            .unwrap();
        let message = &catalogue.messages()[index];
        assert_eq!(message.id, "mount.unknown-filesystem-type");
        let judged = message.judged(&captures);
        assert_eq!(judged.effect, MessageEffect::Info);
        assert_eq!(
            judged.title,
            r#"the /dev/mqueue mount (type "mqueue") is skipped"#
        );
        let (_, captures) = catalogue
            .recognise(br#"ignoring unknown filesystem type "nfs4""#, false)
            .unwrap();
        let judged = message.judged(&captures);
        assert_eq!(judged.effect, MessageEffect::Breaks);
        assert_eq!(judged.title, r#"mount of filesystem type "nfs4" skipped"#);
    }

    #[test]
    fn the_task_prefix_tells_an_entrypoint_from_an_exec() {
        let catalogue = MessageCatalogue::get();
        let text = b"Error opening /no/such/program: no such file or directory";
        let (entry, captures) = catalogue.recognise(text, false).unwrap();
        let judged = catalogue.messages()[entry].judged(&captures);
        assert_eq!(
            judged.title,
            "the entrypoint /no/such/program does not exist in the container"
        );
        assert_eq!(judged.effect, MessageEffect::Breaks);
        let (exec, _) = catalogue.recognise(text, true).unwrap();
        assert_eq!(catalogue.messages()[exec].id, "exec.not-loadable");
    }

    #[test]
    fn code_recognised_messages_are_not_matched_by_wording() {
        let catalogue = MessageCatalogue::get();
        assert_eq!(
            catalogue.recognise(b"FATAL ERROR: running container: boom", false),
            None
        );
        assert_eq!(
            catalogue.recognise(b"Unsupported syscall rseq(0x0)", false),
            None
        );
    }

    #[test]
    fn invalid_catalogues_name_the_problem() {
        let text = r#"
[provenance]
table = "t"
project = "google/gvisor"
revision = "r"
paths = []
date = "2026-01-01"
maintained = "curated"

[[message]]
id = "x.y"
recognised = "wording"
wordings = [{ text = "{a} starts with a capture", source = "f.go" }]
effect = "info"
category = "other"
title = "t"
explanation = "e"
remediations = ["no.such"]
"#;
        let err = MessageCatalogue::from_toml(text, Database::get()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid data: 2 problem(s)\n  `gvisor/messages.toml`: message `x.y`: unknown \
             remediation `no.such`\n  `gvisor/messages.toml`: message `x.y`: wording \
             \"{a} starts with a capture\" does not start with literal text"
        );
    }
}
