//! What the facts builder remembers about each live process while the lines stream
//! past, so that when a process ends badly the calls that failed in it shortly before
//! can be named: the calls each thread has in flight, and per process a bounded window
//! of its recent failed calls (in log order, whatever the thread), what it wrote to its
//! standard error, and a signal it sent itself. Keyed by stream and id: process ids are
//! only unique within one runsc process's log.
//!
//! Memory is bounded per process (fixed-size entries, a fixed number of each) and by the
//! number of processes tracked; past that cap, processes are counted, not tracked.

use std::collections::VecDeque;

use rustc_hash::FxHashMap;

use super::model::{
    Inline, Naming, SelfSignal, Suspect, SuspectKind, SyscallId, Where, MAX_SAMPLE,
};
use crate::runsc_log::names;

/// Most processes tracked at once.
pub const MAX_PROCESSES: usize = 1 << 14;
/// Most threads with a call in flight tracked at once.
pub const MAX_THREADS: usize = 1 << 16;
/// Failed calls remembered per process.
const RECENT_FAILURES: usize = 16;
/// Of those, at most this many ordinary failures (ENOENT on a file that is not the
/// kernel's, EAGAIN, EINTR…): programs make many, and they must not push the telling
/// ones out.
const RECENT_ORDINARY: usize = 4;
/// Writes to standard error remembered per process.
const RECENT_OUTPUT: usize = 6;

/// A key for a process or thread: its stream and its id.
pub fn key(stream: u32, id: u32) -> u64 {
    (u64::from(stream) << 32) | u64::from(id)
}

/// A call entered and not yet returned.
#[derive(Clone, Debug)]
pub struct InFlight {
    /// Interned syscall name.
    pub name_id: u32,
    /// Arguments, cut to a fixed size.
    pub args: Inline<120>,
    /// Where it was entered.
    pub at: Where,
}

#[derive(Clone, Debug)]
struct Failure {
    name_id: u32,
    kind: SuspectKind,
    errno_text: Inline<40>,
    args: Inline<160>,
    path: Inline<120>,
    at: Where,
    /// The process's call count when it failed.
    call: u64,
    /// Its place among the process's failures and writes.
    seq: u64,
    ordinary: bool,
    succeeded_later: bool,
}

#[derive(Clone, Debug)]
struct Output {
    text: Inline<200>,
    seq: u64,
}

/// What is remembered about one process.
#[derive(Clone, Debug, Default)]
pub struct ProcessState {
    calls: u64,
    seq: u64,
    /// The task name of its latest call (a signal's message does not name it).
    pub comm: Inline<32>,
    failures: VecDeque<Failure>,
    output: VecDeque<Output>,
    self_signal: Option<SelfSignal>,
}

/// A failed call to remember.
pub struct FailedCall<'a> {
    /// Interned syscall name.
    pub name_id: u32,
    /// How it failed.
    pub kind: SuspectKind,
    /// strace's text for the errno.
    pub errno_text: &'a [u8],
    /// Its arguments as logged.
    pub args: &'a [u8],
    /// The first path among them.
    pub path: Option<&'a [u8]>,
    /// Where.
    pub at: Where,
    /// Whether it is an ordinary outcome rather than a refusal.
    pub ordinary: bool,
}

impl ProcessState {
    /// Counts a call that returned; a success marks the process's earlier failures of
    /// the same syscall as followed by a success.
    pub fn returned(&mut self, name_id: u32, succeeded: bool) {
        self.calls += 1;
        if succeeded {
            for failure in self.failures.iter_mut().filter(|f| f.name_id == name_id) {
                failure.succeeded_later = true;
            }
        }
    }

    /// Remembers a failed call, forgetting the oldest ones past the bounds.
    pub fn failed(&mut self, call: FailedCall<'_>) {
        if call.ordinary {
            let ordinary = self.failures.iter().filter(|f| f.ordinary).count();
            if ordinary >= RECENT_ORDINARY {
                if let Some(i) = self.failures.iter().position(|f| f.ordinary) {
                    self.failures.remove(i);
                }
            }
        }
        if self.failures.len() >= RECENT_FAILURES {
            self.failures.pop_front();
        }
        self.seq += 1;
        self.failures.push_back(Failure {
            name_id: call.name_id,
            kind: call.kind,
            errno_text: Inline::new(call.errno_text),
            args: Inline::new(call.args),
            path: Inline::new(call.path.unwrap_or(b"")),
            at: call.at,
            call: self.calls,
            seq: self.seq,
            ordinary: call.ordinary,
            succeeded_later: false,
        });
    }

    /// Remembers what the process wrote to its standard error.
    pub fn wrote_error_output(&mut self, text: &[u8]) {
        if text.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        if self.output.len() >= RECENT_OUTPUT {
            self.output.pop_front();
        }
        self.seq += 1;
        self.output.push_back(Output {
            text: Inline::new(text),
            seq: self.seq,
        });
    }

    /// Remembers a signal the process sent itself.
    pub fn signalled_itself(&mut self, signal: SelfSignal) {
        self.self_signal = Some(signal);
    }

    /// The signal it sent itself, if it is `signal`.
    pub fn self_signal(&self, signal: u32) -> Option<SelfSignal> {
        self.self_signal.clone().filter(|s| s.signal == signal)
    }

    /// The failed calls as suspects, in log order, with what the process's error output
    /// said about each. `name` turns an interned id back into the syscall.
    pub fn suspects(&self, name: impl Fn(u32) -> SyscallId) -> Vec<Suspect> {
        self.failures
            .iter()
            .map(|f| {
                let syscall = name(f.name_id);
                let path = (!f.path.is_empty()).then(|| f.path.to_string_lossy());
                Suspect {
                    named_in_output: self.naming(f, &syscall),
                    syscall,
                    kind: f.kind,
                    errno_text: f.errno_text.to_string_lossy(),
                    args: f.args.to_string_lossy(),
                    path,
                    at: f.at,
                    calls_after: self.calls - f.call,
                    succeeded_later: f.succeeded_later,
                }
            })
            .collect()
    }

    /// What the process wrote to standard error after `failure` that names the call
    /// (its path, its syscall as a word) or, failing that, reports its error (the
    /// errno's text as strace or glibc words it).
    fn naming(&self, failure: &Failure, syscall: &SyscallId) -> Option<Naming> {
        // Compared case-insensitively: programs capitalise what strace does not.
        let after = || {
            self.output
                .iter()
                .filter(|o| o.seq > failure.seq)
                .map(|o| (o, o.text.as_bytes().to_ascii_lowercase()))
        };
        let path = failure.path.as_bytes().to_ascii_lowercase();
        let name = match syscall {
            SyscallId::Named(n) => n.as_bytes().to_vec(),
            SyscallId::Number(_) => Vec::new(),
        };
        let names_call = |text: &[u8]| {
            (path.len() > 1 && memchr::memmem::find(text, &path).is_some())
                || (!name.is_empty() && contains_word(text, &name))
        };
        if let Some((o, _)) = after().find(|(_, lower)| names_call(lower)) {
            return Some(Naming {
                text: shown(o.text.as_bytes()),
                names_call: true,
            });
        }
        let SuspectKind::Failed(errno) = failure.kind else {
            return None;
        };
        let strace_text = failure.errno_text.as_bytes().to_ascii_lowercase();
        let glibc_text = names::strerror(errno).map(|t| t.to_ascii_lowercase());
        let reports = |text: &[u8]| {
            (strace_text.len() > 3 && memchr::memmem::find(text, &strace_text).is_some())
                || glibc_text
                    .as_ref()
                    .is_some_and(|g| memchr::memmem::find(text, g.as_bytes()).is_some())
        };
        after()
            .find(|(_, lower)| reports(lower))
            .map(|(o, _)| Naming {
                text: shown(o.text.as_bytes()),
                names_call: false,
            })
    }
}

/// Output as a report quotes it: without the line break strace escapes as `\\n`.
fn shown(text: &[u8]) -> String {
    let text = text.strip_suffix(b"\\n").unwrap_or(text);
    crate::runsc_log::facts::model::sample_of(text, MAX_SAMPLE)
}

/// Whether `word` occurs in `text` with no letter, digit or `_` on either side.
fn contains_word(text: &[u8], word: &[u8]) -> bool {
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    memchr::memmem::find_iter(text, word).any(|at| {
        let before = at.checked_sub(1).map(|i| text[i]);
        let after = text.get(at + word.len()).copied();
        !before.is_some_and(is_word) && !after.is_some_and(is_word)
    })
}

/// Live threads and processes.
#[derive(Debug, Default)]
pub struct Tasks {
    /// Calls in flight, by thread key.
    pub in_flight: FxHashMap<u64, InFlight>,
    processes: FxHashMap<u64, ProcessState>,
}

impl Tasks {
    /// The state of a process, created if new; `None` when the cap is reached.
    pub fn process(&mut self, key: u64) -> Option<&mut ProcessState> {
        let full = self.processes.len() >= MAX_PROCESSES;
        match self.processes.entry(key) {
            std::collections::hash_map::Entry::Occupied(e) => Some(e.into_mut()),
            std::collections::hash_map::Entry::Vacant(_) if full => None,
            std::collections::hash_map::Entry::Vacant(e) => Some(e.insert(ProcessState::default())),
        }
    }

    /// The state of a process, if tracked.
    pub fn existing(&self, key: u64) -> Option<&ProcessState> {
        self.processes.get(&key)
    }

    /// Forgets a process that ended.
    pub fn remove(&mut self, key: u64) -> Option<ProcessState> {
        self.processes.remove(&key)
    }

    /// Forgets everything (at the end of a file); returns how many calls were still
    /// in flight.
    pub fn clear(&mut self) -> usize {
        let in_flight = self.in_flight.len();
        self.in_flight.clear();
        self.processes.clear();
        in_flight
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: u64) -> Where {
        Where {
            file: 0,
            line,
            source_line: None,
            stream: 0,
            time: Inline::EMPTY,
            pid: Some(1),
            tid: Some(1),
            comm: Inline::EMPTY,
        }
    }

    fn fail(state: &mut ProcessState, name_id: u32, errno: u16, path: &str, ordinary: bool) {
        state.failed(FailedCall {
            name_id,
            kind: SuspectKind::Failed(errno),
            errno_text: b"no such file or directory",
            args: path.as_bytes(),
            path: Some(path.as_bytes()),
            at: at(u64::from(name_id)),
            ordinary,
        });
    }

    #[test]
    fn ordinary_failures_do_not_push_out_telling_ones() {
        let mut state = ProcessState::default();
        fail(&mut state, 1, 2, "/sys/dev/block", false);
        for i in 0..20 {
            fail(&mut state, 100 + i, 2, "/usr/share/locale/x", true);
        }
        let names = |id: u32| SyscallId::Named(format!("n{id}"));
        let suspects = state.suspects(names);
        let ids: Vec<String> = suspects.iter().map(|s| s.syscall.display()).collect();
        assert_eq!(ids, vec!["n1", "n116", "n117", "n118", "n119"]);
    }

    #[test]
    fn error_output_names_the_call_or_its_error() {
        let mut state = ProcessState::default();
        fail(&mut state, 1, 2, "/sys/dev/block", false);
        state.returned(7, true);
        state.wrote_error_output(b"lsblk: failed to access sysfs directory: /sys/dev/block");
        fail(&mut state, 2, 2, "/etc/other", true);
        state.wrote_error_output(b": No such file or directory\\n");
        let names =
            |id: u32| SyscallId::Named(if id == 1 { "access" } else { "openat" }.to_owned());
        let suspects = state.suspects(names);
        assert_eq!(
            suspects[0].named_in_output,
            Some(Naming {
                text: "lsblk: failed to access sysfs directory: /sys/dev/block".to_owned(),
                names_call: true
            })
        );
        assert_eq!(suspects[0].calls_after, 1);
        // The later failure is only reported by its errno's text.
        assert_eq!(
            suspects[1].named_in_output,
            Some(Naming {
                text: ": No such file or directory".to_owned(),
                names_call: false
            })
        );
        assert!(contains_word(b"ioprio_set failed", b"ioprio_set"));
        assert!(!contains_word(b"already", b"read"));
    }
}
