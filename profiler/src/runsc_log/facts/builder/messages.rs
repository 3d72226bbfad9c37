//! The builder's side for runsc's messages: unsupported-syscall reports and catalogued
//! messages counted as events; killing signals, exits, fatal errors and Go crashes as
//! terminations with the suspects of their process or sandbox; the header's release,
//! arch, platform and network; and the detail lines of multi-line dumps.

use super::super::model::{
    sample, EventKind, EventStat, Inline, Suspect, SuspectKind, SyscallId, Termination,
    TerminationKind, Where,
};
use super::super::process::key;
use super::{
    FactsBuilder, SandboxFailure, MAX_DETAIL_LINES, MAX_EVENT_STATS, MAX_TERMINATIONS,
    SIGNAL_REPEAT_LINES,
};
use crate::runsc_log::args;
use crate::runsc_log::message::{ExitScope, ExitStatus, Message, ShownArgs};
use crate::runsc_log::strace::SyscallName;
use crate::runsc_log::task::TaskIds;

impl FactsBuilder<'_> {
    /// Records a runsc message. `ids` is the task prefix, if the message had one;
    /// `text` the whole message, for samples.
    pub fn message(&mut self, ids: Option<TaskIds>, message: Message<'_>, text: &[u8], at: Where) {
        self.open_block = None;
        match message {
            Message::UnsupportedSyscall { name, args } => self.unsupported(name, args, text, at),
            Message::Catalogued { message, captures } => {
                self.count_event(EventKind::Catalogued { message, captures }, text, at, None);
            }
            Message::Signal { signal, pid, tid } => {
                let pid = pid.or(ids.and_then(|i| i.pid));
                let tid = tid.or(ids.map(|i| i.tid));
                self.signal(signal, pid, tid, text, at);
            }
            Message::Exit { status, scope } => self.exit_message(status, scope, text, at),
            Message::FatalError => self.runtime_failure(TerminationKind::FatalError, text, at),
            Message::Args { command } => {
                if let (Some(command), Some(file)) = (command, self.facts.files.last_mut()) {
                    if file.command.is_none() {
                        file.command = Some(String::from_utf8_lossy(command).into_owned());
                    }
                }
            }
            Message::Version { version, goarch } => {
                if self.facts.runsc_version.is_none() {
                    let version = String::from_utf8_lossy(version).into_owned();
                    self.facts.gvisor_release =
                        syscall_db::Release::parse(&version).ok().map(|r| r.tag());
                    self.facts.runsc_version = Some(version);
                }
                if let Some(goarch) = goarch {
                    self.goarch(goarch);
                }
            }
            Message::Goarch(goarch) => self.goarch(goarch),
            Message::Platform(platform) => {
                if self.facts.platform.is_none() {
                    self.facts.platform = Some(String::from_utf8_lossy(platform).into_owned());
                }
            }
            Message::Network(network) => {
                if self.facts.network.is_none() {
                    self.facts.network = Some(String::from_utf8_lossy(network).into_owned());
                }
            }
        }
    }

    fn goarch(&mut self, goarch: &[u8]) {
        let arch = String::from_utf8_lossy(goarch).trim().to_owned();
        if !arch.is_empty() && !self.facts.goarches.contains(&arch) {
            self.facts.goarches.push(arch);
        }
    }

    fn unsupported(&mut self, name: SyscallName<'_>, args: ShownArgs, text: &[u8], at: Where) {
        let syscall = SyscallId::from_name(name);
        let key_args = key_args(&syscall, &args);
        let shown = (args.count > 0).then_some(args.values);
        if let Some(name_id) = self.name_id(name) {
            self.sandbox_failure(
                at.stream,
                SandboxFailure {
                    name_id,
                    kind: SuspectKind::Unsupported,
                    errno_text: Inline::EMPTY,
                    args: Inline::new(format_args_shown(&args).as_bytes()),
                    at,
                },
            );
        }
        self.count_event(
            EventKind::UnsupportedSyscall { syscall, key_args },
            text,
            at,
            shown,
        );
    }

    fn signal(&mut self, signal: u32, pid: Option<u32>, tid: Option<u32>, text: &[u8], at: Where) {
        // Until 2023 runsc logged a killing signal twice: the task's debug line and the
        // uncaught-signal event. One death, one termination. The older task line names
        // no pid; the event that repeats it does.
        if let Some(last) = self.facts.terminations.last_mut() {
            if let TerminationKind::Signal {
                pid: last_pid,
                signal: last_signal,
            } = &mut last.kind
            {
                let same_pid = last_pid.is_none() || pid.is_none() || *last_pid == pid;
                if *last_signal == signal
                    && same_pid
                    && last.at.file == at.file
                    && at.line.saturating_sub(last.at.line) <= SIGNAL_REPEAT_LINES
                {
                    *last_pid = last_pid.or(pid);
                    return;
                }
            }
        }
        let unfinished = tid
            .and_then(|t| self.tasks.in_flight.remove(&key(at.stream, t)))
            .map(|f| Suspect {
                syscall: self.name_list[f.name_id as usize].clone(),
                kind: SuspectKind::Unfinished,
                errno_text: String::new(),
                args: f.args.to_string_lossy(),
                path: None,
                at: f.at,
                calls_after: 0,
                named_in_output: None,
                succeeded_later: false,
            });
        let state = pid.and_then(|p| self.tasks.remove(key(at.stream, p)));
        let self_signal = state.as_ref().and_then(|s| s.self_signal(signal));
        // runsc's signal message names no task: the process's last call does.
        let mut at = at;
        if at.comm.is_empty() {
            if let Some(dying) = &unfinished {
                at.comm = dying.at.comm;
            } else if let Some(state) = &state {
                at.comm = state.comm;
            }
        }
        let mut suspects = state
            .map(|s| s.suspects(|id| self.name_list[id as usize].clone()))
            .unwrap_or_default();
        suspects.extend(unfinished);
        self.terminate(Termination {
            kind: TerminationKind::Signal { pid, signal },
            at,
            application: false,
            detail: vec![sample(text)],
            suspects,
            self_signal,
        });
    }

    /// `application exiting with …` is the init process's end when the logs hold it
    /// (its exit_group or killing signal, just before): that termination is then marked
    /// as the application's. Otherwise it is a termination of its own.
    fn exit_message(&mut self, status: ExitStatus, scope: ExitScope, text: &[u8], at: Where) {
        if scope == ExitScope::Application && self.facts.application_exits.len() < MAX_TERMINATIONS
        {
            self.facts.application_exits.push((status, at));
        }
        if !status.is_failure() {
            return;
        }
        if scope == ExitScope::Application {
            let same = self.facts.terminations.iter_mut().rev().take(64).find(|t| {
                t.at.file == at.file
                    && !t.application
                    && match (t.kind.clone(), status) {
                        (TerminationKind::ProcessExit { code, .. }, ExitStatus::Code(c)) => {
                            code == c
                        }
                        (
                            TerminationKind::Signal { signal, .. },
                            ExitStatus::Signal { signal: s, .. },
                        ) => signal == s,
                        _ => false,
                    }
            });
            if let Some(termination) = same {
                termination.application = true;
                termination.detail.push(sample(text));
                return;
            }
        }
        let suspects = self.sandbox_suspects(at.stream);
        self.terminate(Termination {
            kind: TerminationKind::Exit { scope, status },
            at,
            application: scope == ExitScope::Application,
            detail: vec![sample(text)],
            suspects,
            self_signal: None,
        });
    }

    fn sandbox_suspects(&self, stream: u32) -> Vec<Suspect> {
        let Some(list) = self.sandbox.get(&stream) else {
            return Vec::new();
        };
        list.iter()
            .map(|f| Suspect {
                syscall: self.name_list[f.name_id as usize].clone(),
                kind: f.kind,
                errno_text: f.errno_text.to_string_lossy(),
                args: f.args.to_string_lossy(),
                path: args::split(f.args.as_bytes())
                    .find_map(args::user_path)
                    .map(|p| String::from_utf8_lossy(p).into_owned()),
                at: f.at,
                calls_after: 0,
                named_in_output: None,
                succeeded_later: false,
            })
            .collect()
    }

    /// Records a Go runtime panic or fatal error line; the lines that follow attach to
    /// it.
    pub fn runtime_failure(&mut self, kind: TerminationKind, text: &[u8], at: Where) {
        let suspects = self.sandbox_suspects(at.stream);
        self.terminate(Termination {
            kind,
            at,
            application: false,
            detail: vec![sample(text)],
            suspects,
            self_signal: None,
        });
        self.open_block = self.facts.terminations.len().checked_sub(1);
    }

    /// Whether a block (a panic's or fatal error's dump) is open.
    pub fn in_block(&self) -> bool {
        self.open_block.is_some()
    }

    /// Records a stack or detail line; returns whether a termination took it.
    pub fn detail_line(&mut self, text: &[u8]) -> bool {
        let Some(termination) = self
            .open_block
            .and_then(|i| self.facts.terminations.get_mut(i))
        else {
            return false;
        };
        if termination.detail.len() < MAX_DETAIL_LINES {
            termination.detail.push(sample(text));
        }
        true
    }

    /// Ends a multi-line block: following bare lines are no longer its detail.
    pub fn close_block(&mut self) {
        self.open_block = None;
    }

    fn count_event(&mut self, kind: EventKind, text: &[u8], at: Where, args: Option<[u64; 6]>) {
        if let Some(&i) = self.event_index.get(&kind) {
            let stat = &mut self.facts.events[i];
            stat.count += 1;
            stat.last = at;
            return;
        }
        if self.facts.events.len() >= MAX_EVENT_STATS {
            self.facts.overflow.events += 1;
            return;
        }
        self.event_index
            .insert(kind.clone(), self.facts.events.len());
        self.facts.events.push(EventStat {
            kind,
            count: 1,
            first: at,
            last: at,
            sample: sample(text),
            args,
        });
    }
}

/// The arguments runsc keys its own reports by (`runsc/boot/compat.go`,
/// `compat_amd64.go`, `compat_arm64.go`), as far as the report showed them.
fn key_args(syscall: &SyscallId, args: &ShownArgs) -> Vec<(u8, u64)> {
    let indexes: &[u8] = match syscall {
        SyscallId::Named(name) => match name.as_str() {
            "prctl" | "arch_prctl" => &[0],
            "ioctl" | "epoll_ctl" | "shmctl" | "futex" | "fallocate" => &[1],
            "getsockopt" | "setsockopt" => &[1, 2],
            "semctl" => &[2],
            _ => &[],
        },
        SyscallId::Number(_) => &[],
    };
    indexes
        .iter()
        .filter_map(|&i| Some((i, args.get(usize::from(i))?)))
        .collect()
}

fn format_args_shown(args: &ShownArgs) -> String {
    args.values[..usize::from(args.count)]
        .iter()
        .map(|a| format!("{a:#x}"))
        .collect::<Vec<_>>()
        .join(", ")
}
