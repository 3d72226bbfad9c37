//! The short human summary `sandprof profile` prints when it stops: what ran, the
//! busiest syscalls, the /proc, /sys and /dev paths and sockets seen, and anything lost.

use std::collections::BTreeMap;
use std::io::{self, Write};

use syscall_db::FieldValue;

use super::model::{Abi, BinaryFormat, SyscallProfile};

/// Rows shown per section.
const TOP: usize = 10;

/// Aggregates of a profile for people.
#[derive(Debug, PartialEq, Eq)]
pub struct Summary {
    /// Processes seen.
    pub processes: usize,
    /// Executables as (path, note), e.g. "32-bit ELF".
    pub executables: Vec<(String, String)>,
    /// Total calls.
    pub calls: u64,
    /// Failed calls.
    pub failures: u64,
    /// Busiest syscalls (name, calls), native and compat apart.
    pub top: Vec<(String, u64)>,
    /// Distinct paths captured.
    pub paths: Vec<String>,
    /// Distinct sockets (domain/type/protocol).
    pub sockets: Vec<String>,
    /// Lost events in total.
    pub lost: u64,
}

impl Summary {
    /// Summarises a profile.
    pub fn of(profile: &SyscallProfile) -> Summary {
        let mut per_syscall: BTreeMap<String, u64> = BTreeMap::new();
        let mut calls = 0;
        let mut failures = 0;
        for row in &profile.syscalls {
            let name = match row.abi {
                Abi::Native => row.name.clone(),
                Abi::Compat => format!("{} (32-bit)", row.name),
            };
            *per_syscall.entry(name).or_default() += row.calls;
            calls += row.calls;
            failures += row.errors.values().sum::<u64>();
        }
        let mut top: Vec<(String, u64)> = per_syscall.into_iter().collect();
        top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        top.truncate(TOP);
        let mut paths = Vec::new();
        let mut sockets = Vec::new();
        for sig in &profile.signatures {
            for (name, value) in &sig.fields {
                if let FieldValue::Str(s) = value {
                    if name == "path" && !paths.contains(s) {
                        paths.push(s.clone());
                    }
                }
            }
            if sig.syscall == "socket" || sig.syscall == "socketpair" {
                let field = |n: &str| match sig.fields.get(n) {
                    Some(FieldValue::Int(v)) => v.to_string(),
                    Some(FieldValue::Str(s)) => s.clone(),
                    None => "?".to_owned(),
                };
                let text = format!(
                    "{}/{}/{}",
                    field("domain"),
                    field("type"),
                    field("protocol")
                );
                if !sockets.contains(&text) {
                    sockets.push(text);
                }
            }
        }
        paths.sort();
        sockets.sort();
        let executables = profile
            .executables
            .iter()
            .map(|e| {
                let note = match &e.format {
                    BinaryFormat::Elf {
                        bits,
                        machine,
                        is_static,
                    } => format!(
                        "{bits}-bit ELF {machine}{}",
                        if *is_static { ", static" } else { "" }
                    ),
                    BinaryFormat::Script { interpreter } => format!("script ({interpreter})"),
                    BinaryFormat::Unknown { reason } => format!("unknown: {reason}"),
                };
                (e.path.clone(), note)
            })
            .collect();
        Summary {
            processes: profile.processes.len(),
            executables,
            calls,
            failures,
            top,
            paths,
            sockets,
            lost: profile.lost.total(),
        }
    }

    /// Writes the summary; `stopped_by` says why the capture ended.
    pub fn write(&self, out: &mut dyn Write, stopped_by: &str) -> io::Result<()> {
        writeln!(
            out,
            "sandprof: {} calls ({} failed) by {} processes; stopped: {stopped_by}",
            self.calls, self.failures, self.processes
        )?;
        writeln!(out, "executables:")?;
        for (path, note) in &self.executables {
            writeln!(out, "  {path}  [{note}]")?;
        }
        writeln!(out, "top syscalls:")?;
        for (name, calls) in &self.top {
            writeln!(out, "  {calls:>10}  {name}")?;
        }
        if !self.paths.is_empty() {
            writeln!(out, "/proc, /sys, /dev paths ({}):", self.paths.len())?;
            // Paths are what decide sandbox compatibility most often, so they get twice
            // the rows of the other sections; the profile has them all.
            for path in self.paths.iter().take(TOP * 2) {
                writeln!(out, "  {path}")?;
            }
            if self.paths.len() > TOP * 2 {
                writeln!(
                    out,
                    "  … and {} more in the profile",
                    self.paths.len() - TOP * 2
                )?;
            }
        }
        if !self.sockets.is_empty() {
            writeln!(
                out,
                "sockets (domain/type/protocol): {}",
                self.sockets.join(", ")
            )?;
        }
        if self.lost > 0 {
            writeln!(
                out,
                "WARNING: {} events could not be recorded; see `lost` in the profile",
                self.lost
            )?;
        }
        Ok(())
    }
}
