//! Building [`LogFacts`] line by line, in memory bounded by the number of distinct
//! things seen (and by hard caps on those, whose overflow is counted), never by the
//! number of lines:
//!
//! - strace exit lines → [`CallStat`] per (syscall, task name, captured arguments);
//! - runsc messages → [`EventStat`] per kind;
//! - a process exiting non-zero or killed, the application or a runsc command failing,
//!   a panic, a fatal error → [`Termination`], with the calls that failed in that
//!   process shortly before (see [`super::process`]), or in the sandbox for the sandbox.

use std::collections::VecDeque;

use rustc_hash::FxHashMap;
use syscall_db::messages::MessageCatalogue;
use syscall_db::FieldValues;

use super::model::{
    is_refusal, CallStat, EventKind, Failures, Inline, LogFacts, SelfSignal, SourceFile, Stream,
    SuspectKind, SyscallId, Termination, TerminationKind, Where,
};
use super::process::{key, FailedCall, InFlight, Tasks, MAX_THREADS};
use crate::runsc_log::capture::{CaptureSpec, SyscallCapture};
use crate::runsc_log::strace::{Outcome, Phase, StraceLine, SyscallName};
use crate::runsc_log::task::TaskIds;
mod messages;

use crate::runsc_log::args;

/// Most distinct call aggregates kept; further ones are counted in
/// [`super::Overflow::calls`].
pub const MAX_CALL_STATS: usize = 1 << 18;
/// Most distinct message aggregates kept.
pub const MAX_EVENT_STATS: usize = 1 << 14;
/// Most terminations kept.
pub const MAX_TERMINATIONS: usize = 1 << 10;
/// Most streams (runsc processes) told apart.
pub const MAX_STREAMS: usize = 1 << 12;
/// Stack or detail lines kept per termination.
pub const MAX_DETAIL_LINES: usize = 40;
/// Lines within which a second report of the same signal is the same death.
pub(super) const SIGNAL_REPEAT_LINES: u64 = 16;
/// Refusals and unsupported reports remembered per stream, for failures of the sandbox
/// as a whole.
const SANDBOX_SUSPECTS: usize = 8;

/// A refused call or unsupported report, for failures of the sandbox as a whole.
#[derive(Clone, Debug)]
struct SandboxFailure {
    name_id: u32,
    kind: SuspectKind,
    errno_text: Inline<40>,
    args: Inline<160>,
    at: Where,
}

/// Builds [`LogFacts`] line by line.
pub struct FactsBuilder<'s> {
    spec: &'s CaptureSpec,
    catalogue: &'static MessageCatalogue,
    facts: LogFacts,
    /// Interned syscall names (as `name` or `sys_N`) and task names, so the per-line
    /// lookup borrows the line's bytes instead of allocating a key.
    names: FxHashMap<Box<[u8]>, u32>,
    /// `names` by id.
    name_list: Vec<SyscallId>,
    /// The captured fields of each name, by id: looked up once per name, not per line.
    name_captures: Vec<Option<&'s SyscallCapture>>,
    comms: FxHashMap<Box<[u8]>, u32>,
    /// Call aggregates by syscall name id, task name id and captured values, as
    /// bytes ([`CaptureSpec::read_key`]).
    call_index: FxHashMap<Box<[u8]>, usize>,
    /// The key of the line being read, kept to reuse its allocation.
    call_key: Vec<u8>,
    event_index: FxHashMap<EventKind, usize>,
    /// Streams by (file, hash of the tag, runsc pid).
    stream_index: FxHashMap<(u32, u64, u32), u32>,
    tasks: Tasks,
    /// Per stream: the latest refused calls and unsupported reports anywhere in it,
    /// kept fixed-size (refusals can be frequent) and made suspects only when needed.
    sandbox: FxHashMap<u32, VecDeque<SandboxFailure>>,
    /// Index of the termination that bare stack lines are attached to.
    open_block: Option<usize>,
}

impl<'s> FactsBuilder<'s> {
    /// A builder reading arguments as `spec` says.
    pub fn new(spec: &'s CaptureSpec) -> Self {
        Self {
            spec,
            catalogue: MessageCatalogue::get(),
            facts: LogFacts::default(),
            names: FxHashMap::default(),
            name_list: Vec::new(),
            name_captures: Vec::new(),
            comms: FxHashMap::default(),
            call_index: FxHashMap::default(),
            call_key: Vec::new(),
            event_index: FxHashMap::default(),
            stream_index: FxHashMap::default(),
            tasks: Tasks::default(),
            sandbox: FxHashMap::default(),
            open_block: None,
        }
    }

    /// The capture spec.
    pub fn spec(&self) -> &'s CaptureSpec {
        self.spec
    }

    /// The message catalogue.
    pub fn catalogue(&self) -> &'static MessageCatalogue {
        self.catalogue
    }

    /// Starts a new input file; returns its index.
    pub fn begin_file(&mut self, name: String, command: Option<String>) -> u32 {
        self.facts.files.push(SourceFile {
            name,
            command,
            ..SourceFile::default()
        });
        self.open_block = None;
        u32::try_from(self.facts.files.len() - 1).unwrap_or(u32::MAX)
    }

    /// The current file's record.
    pub fn file_mut(&mut self) -> Option<&mut SourceFile> {
        self.facts.files.last_mut()
    }

    /// Ends the current file: calls still in flight never returned.
    pub fn end_file(&mut self) {
        self.facts.unfinished_calls += self.tasks.clear() as u64;
        self.open_block = None;
    }

    /// The stream of `file` a line with this tag and runsc pid belongs to.
    pub fn stream(&mut self, file: u32, tag: Option<&[u8]>, runsc_pid: Option<u32>) -> u32 {
        let hash = tag.map_or(0, |t| {
            use std::hash::BuildHasher as _;
            // Never 0, which stands for "no tag".
            rustc_hash::FxBuildHasher.hash_one(t) | 1
        });
        let index_key = (file, hash, runsc_pid.unwrap_or(u32::MAX));
        if let Some(&id) = self.stream_index.get(&index_key) {
            return id;
        }
        if self.facts.streams.len() >= MAX_STREAMS {
            // Past the cap, lines share the file's last stream.
            return u32::try_from(self.facts.streams.len() - 1).unwrap_or(0);
        }
        let id = u32::try_from(self.facts.streams.len()).unwrap_or(u32::MAX);
        self.facts.streams.push(Stream {
            file,
            tag: tag.map(|t| String::from_utf8_lossy(t).into_owned()),
            runsc_pid,
        });
        self.stream_index.insert(index_key, id);
        id
    }

    /// Notes a line's timestamp (the first and last are kept).
    pub fn note_time(&mut self, time: &[u8]) {
        if time.is_empty() {
            return;
        }
        let time = Inline::new(time);
        if self.facts.first_time.is_none() {
            self.facts.first_time = Some(time);
        }
        self.facts.last_time = Some(time);
    }

    /// Records a strace line.
    pub fn strace(&mut self, ids: TaskIds, line: &StraceLine<'_>, at: Where) {
        match line.phase {
            Phase::Enter => self.enter(ids, line, at),
            Phase::Exit => self.exit(ids, line, at),
        }
    }

    fn enter(&mut self, ids: TaskIds, line: &StraceLine<'_>, at: Where) {
        let thread = key(at.stream, ids.tid);
        if let (SyscallName::Named(b"exit_group" | b"exit"), Some(pid)) = (line.name, ids.pid) {
            // exit/exit_group never return: the entry line carries the status.
            self.tasks.in_flight.remove(&thread);
            let code = args::nth(line.args, 0).and_then(args::integer);
            if line.name == SyscallName::Named(b"exit") {
                return;
            }
            let state = self.tasks.remove(key(at.stream, pid));
            let code = code.map_or(0, |c| (c & 0xff) as u32);
            if code != 0 {
                let suspects = state
                    .map(|s| s.suspects(|id| self.name_list[id as usize].clone()))
                    .unwrap_or_default();
                self.terminate(Termination {
                    kind: TerminationKind::ProcessExit { pid, code },
                    at,
                    application: false,
                    detail: vec![format!("exit_group({code})")],
                    suspects,
                    self_signal: None,
                });
            }
            return;
        }
        if line.name == SyscallName::Named(b"write") {
            self.error_output(ids, line, at);
        }
        if self.tasks.in_flight.len() >= MAX_THREADS && !self.tasks.in_flight.contains_key(&thread)
        {
            self.facts.overflow.tasks += 1;
            return;
        }
        let Some(name_id) = self.name_id(line.name) else {
            self.facts.overflow.tasks += 1;
            return;
        };
        self.tasks.in_flight.insert(
            thread,
            InFlight {
                name_id,
                args: Inline::new(line.args),
                at,
            },
        );
    }

    /// A write to standard error: what the program says went wrong.
    fn error_output(&mut self, ids: TaskIds, line: &StraceLine<'_>, at: Where) {
        let mut list = args::split(line.args);
        let fd = list.next().and_then(|a| {
            let end = memchr::memchr(b' ', a).unwrap_or(a.len());
            args::integer(&a[..end])
        });
        if fd != Some(2) {
            return;
        }
        let Some(text) = list.next().and_then(args::quoted) else {
            return;
        };
        let Some(pid) = ids.pid else {
            return;
        };
        match self.tasks.process(key(at.stream, pid)) {
            Some(state) => state.wrote_error_output(text),
            None => self.facts.overflow.tasks += 1,
        }
    }

    /// The interned id of a syscall name; `None` when the table is full.
    fn name_id(&mut self, name: SyscallName<'_>) -> Option<u32> {
        let mut number_name = [0u8; 16];
        let bytes: &[u8] = match name {
            SyscallName::Named(n) => n,
            SyscallName::Number(n) => {
                use std::io::Write as _;
                let mut cursor = std::io::Cursor::new(&mut number_name[..]);
                // 16 bytes hold `sys_` and any u32.
                let _ = write!(cursor, "sys_{n}");
                let len = cursor.position() as usize;
                &number_name[..len]
            }
        };
        if let Some(&id) = self.names.get(bytes) {
            return Some(id);
        }
        let id = intern(&mut self.names, bytes)?;
        self.name_list.push(SyscallId::from_name(name));
        self.name_captures
            .push(name.as_str().and_then(|name| self.spec.capture_of(name)));
        Some(id)
    }

    fn exit(&mut self, ids: TaskIds, line: &StraceLine<'_>, at: Where) {
        self.tasks.in_flight.remove(&key(at.stream, ids.tid));
        let Some(outcome) = line.outcome else {
            self.facts.truncated_calls += 1;
            return;
        };
        let (Some(name_id), Some(comm_id)) =
            (self.name_id(line.name), intern(&mut self.comms, line.comm))
        else {
            self.facts.overflow.calls += 1;
            return;
        };
        let mut call_key = std::mem::take(&mut self.call_key);
        call_key.clear();
        call_key.extend_from_slice(&name_id.to_le_bytes());
        call_key.extend_from_slice(&comm_id.to_le_bytes());
        if let Some(capture) = self.name_captures[name_id as usize] {
            self.spec.read_key(capture, line.args, &mut call_key);
        }
        let index = match self.call_index.get(call_key.as_slice()) {
            Some(&i) => Some(i),
            None => {
                let captured = line
                    .name
                    .as_str()
                    .and_then(|name| self.spec.read(name, line.args));
                let (fields, incomplete) = match captured {
                    Some(c) => (c.fields, c.incomplete),
                    None => (FieldValues::new(), Vec::new()),
                };
                let syscall = SyscallId::from_name(line.name);
                let index = self.new_call(syscall, line.comm, fields, incomplete, at);
                if let Some(i) = index {
                    self.call_index.insert(Box::from(call_key.as_slice()), i);
                }
                index
            }
        };
        self.call_key = call_key;
        let Some(index) = index else {
            self.facts.overflow.calls += 1;
            return;
        };
        let stat = &mut self.facts.calls[index];
        stat.calls += 1;
        if let Outcome::Failed(errno) = outcome {
            match stat.failures.iter_mut().find(|f| f.errno == errno) {
                Some(f) => {
                    f.count += 1;
                    f.last = at;
                }
                None => stat.failures.push(Failures {
                    errno,
                    count: 1,
                    first: at,
                    last: at,
                }),
            }
        }
        let Some(pid) = ids.pid else {
            return;
        };
        let process = key(at.stream, pid);
        match outcome {
            Outcome::Returned(_) => {
                if let Some(state) = self.tasks.process(process) {
                    state.returned(name_id, true);
                    state.comm = at.comm;
                }
                self.note_self_signal(ids, line, at);
            }
            Outcome::Failed(errno) => self.failed(process, name_id, errno, line, at),
        }
    }

    /// Remembers a failed call for its process, and a refused one for its sandbox.
    fn failed(&mut self, process: u64, name_id: u32, errno: u16, line: &StraceLine<'_>, at: Where) {
        // Paths are written `0x7f… /path`: only then split the arguments to find one.
        let path = memchr::memmem::find(line.args, b" /")
            .and_then(|_| args::split(line.args).find_map(args::user_path));
        let kernel_path =
            path.is_some_and(|p| std::str::from_utf8(p).is_ok_and(syscall_db::paths::is_kept_path));
        let refusal = is_refusal(errno);
        match self.tasks.process(process) {
            Some(state) => {
                state.returned(name_id, false);
                state.comm = at.comm;
                state.failed(FailedCall {
                    name_id,
                    kind: SuspectKind::Failed(errno),
                    errno_text: line.errno_text,
                    args: line.args,
                    path,
                    at,
                    ordinary: !refusal && !kernel_path,
                });
            }
            None => self.facts.overflow.tasks += 1,
        }
        if refusal {
            self.sandbox_failure(
                at.stream,
                SandboxFailure {
                    name_id,
                    kind: SuspectKind::Failed(errno),
                    errno_text: Inline::new(line.errno_text),
                    args: Inline::new(line.args),
                    at,
                },
            );
        }
    }

    /// A successful kill, tgkill or tkill of the caller's own process (or group).
    fn note_self_signal(&mut self, ids: TaskIds, line: &StraceLine<'_>, at: Where) {
        let SyscallName::Named(name @ (b"kill" | b"tgkill" | b"tkill")) = line.name else {
            return;
        };
        let mut list = args::split(line.args);
        let mut next_int = || list.next().and_then(args::integer);
        let (own_pid, own_tid) = match ids.namespaced {
            Some((pid, tid)) => (Some(pid), tid),
            None => (ids.pid, ids.tid),
        };
        let target_is_self = match name {
            b"kill" => next_int().is_some_and(|p| p == 0 || Some(p) == own_pid.map(u64::from)),
            b"tgkill" => {
                let tgid = next_int();
                let _tid = next_int();
                tgid.is_some_and(|p| Some(p) == own_pid.map(u64::from))
            }
            _ => next_int() == Some(u64::from(own_tid)),
        };
        if !target_is_self {
            return;
        }
        let Some(signal) = args::split(line.args).last().and_then(|s| {
            args::integer(s).or_else(|| {
                std::str::from_utf8(s)
                    .ok()
                    .and_then(|name| self.spec.constant("signal", name))
            })
        }) else {
            return;
        };
        let Some(pid) = ids.pid else {
            return;
        };
        if let Some(state) = self.tasks.process(key(at.stream, pid)) {
            state.signalled_itself(SelfSignal {
                syscall: String::from_utf8_lossy(name).into_owned(),
                signal: u32::try_from(signal).unwrap_or(u32::MAX),
                at,
            });
        }
    }

    fn sandbox_failure(&mut self, stream: u32, failure: SandboxFailure) {
        let list = self.sandbox.entry(stream).or_default();
        if list.len() >= SANDBOX_SUSPECTS {
            list.pop_front();
        }
        list.push_back(failure);
    }

    fn new_call(
        &mut self,
        syscall: SyscallId,
        comm: &[u8],
        fields: FieldValues,
        incomplete: Vec<String>,
        at: Where,
    ) -> Option<usize> {
        if self.facts.calls.len() >= MAX_CALL_STATS {
            return None;
        }
        self.facts.calls.push(CallStat {
            syscall,
            comm: String::from_utf8_lossy(comm).into_owned(),
            fields,
            incomplete,
            calls: 0,
            first: at,
            failures: Vec::new(),
        });
        Some(self.facts.calls.len() - 1)
    }

    fn terminate(&mut self, termination: Termination) {
        if self.facts.terminations.len() >= MAX_TERMINATIONS {
            self.facts.overflow.terminations += 1;
            return;
        }
        self.facts.terminations.push(termination);
    }

    /// The facts gathered.
    pub fn finish(mut self) -> LogFacts {
        self.end_file();
        self.facts
    }
}

/// The id of `bytes` in `map`, adding it if new; `None` when the map is full.
fn intern(map: &mut FxHashMap<Box<[u8]>, u32>, bytes: &[u8]) -> Option<u32> {
    if let Some(&id) = map.get(bytes) {
        return Some(id);
    }
    if map.len() >= MAX_CALL_STATS {
        return None;
    }
    let id = u32::try_from(map.len()).ok()?;
    map.insert(Box::from(bytes), id);
    Some(id)
}
