//! Reading inputs: each file line by line (or entry by entry, for a JSON array export)
//! through [`super::line`] into the facts builder, with every line accounted for as
//! recognised, blank or unparsed. A line no parser accepts is counted and sampled, never
//! fatal; a file that has lines but none of them runsc's is an error that shows the
//! first lines it tried, since it is not a runsc log at all. An empty input is no error:
//! the analysis says there was no evidence.

use std::io::{BufRead as _, BufReader, Read};

use anyhow::{bail, Context as _};

use super::capture::CaptureSpec;
use super::facts::{sample_of, FactsBuilder, LogFacts};
use super::input::{self, Input};
use super::json_array::{self, ArrayReader, Entry};
use super::line::{LineReader, Outcome};
use super::scan::{Line, LineScanner, MAX_LINE};

/// Unparsed lines sampled per file.
const UNPARSED_SAMPLES: usize = 5;
/// Non-blank lines kept to show what a file that is not a runsc log holds.
const FIRST_LINES: usize = 5;

/// Reads every input into one set of facts.
pub fn read_inputs(inputs: &[Input], spec: &CaptureSpec) -> anyhow::Result<LogFacts> {
    let mut builder = FactsBuilder::new(spec);
    for input in inputs {
        let reader = input::open(input)?;
        read_one(
            &mut builder,
            input.name(),
            input.command_from_name(),
            reader,
        )?;
    }
    Ok(builder.finish())
}

/// Reads one log into `builder`.
pub fn read_one(
    builder: &mut FactsBuilder<'_>,
    name: String,
    command: Option<String>,
    reader: impl Read,
) -> anyhow::Result<()> {
    let file = builder.begin_file(name.clone(), command);
    let mut lines = LineReader::new(file);
    let mut buffered = BufReader::with_capacity(1 << 16, reader);
    let head = buffered
        .fill_buf()
        .with_context(|| format!("cannot read {name}"))?;
    if json_array::starts_array(head) {
        let mut entries = ArrayReader::new(buffered, MAX_LINE);
        while let Some(entry) = entries
            .next_entry()
            .with_context(|| format!("cannot read {name}"))?
        {
            match entry {
                Entry::Object(number, bytes) => {
                    let outcome = lines.json_entry(builder, number, bytes);
                    account(builder, number, bytes, outcome);
                }
                Entry::TooLong(number) => account_unparsed(
                    builder,
                    number,
                    b"",
                    format!("an entry longer than {} MiB", MAX_LINE >> 20),
                ),
                Entry::NotAnObject(number) => {
                    account_unparsed(builder, number, b"", "not a log entry".to_owned())
                }
            }
        }
        if let Some(stats) = builder.file_mut() {
            stats.lines = entries.lines();
        }
    } else {
        let mut scanner = LineScanner::new(buffered);
        while let Some((number, line)) = scanner
            .next_line()
            .with_context(|| format!("cannot read {name}"))?
        {
            if let Some(stats) = builder.file_mut() {
                stats.lines += 1;
            }
            let text = match line {
                Line::Text(text) => text,
                Line::TooLong => {
                    let reason = format!("longer than {} MiB", MAX_LINE >> 20);
                    account_unparsed(builder, number, b"", reason);
                    continue;
                }
            };
            if text.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let outcome = lines.line(builder, number, text);
            account(builder, number, text, outcome);
        }
    }
    refuse_foreign(builder, &name)?;
    builder.end_file();
    Ok(())
}

/// Counts a non-blank line (or entry) as recognised or unparsed.
fn account(builder: &mut FactsBuilder<'_>, number: u64, text: &[u8], outcome: Outcome) {
    match outcome {
        Outcome::Recognised(encoding) => {
            let Some(stats) = builder.file_mut() else {
                return;
            };
            note_first(stats, number, text);
            stats.recognised += 1;
            if let Some(encoding) = encoding {
                if !stats.encodings.contains(&encoding) {
                    stats.encodings.push(encoding);
                }
            }
        }
        Outcome::Unparsed(reason) => account_unparsed(builder, number, text, reason),
    }
}

fn account_unparsed(builder: &mut FactsBuilder<'_>, number: u64, text: &[u8], reason: String) {
    let Some(stats) = builder.file_mut() else {
        return;
    };
    note_first(stats, number, text);
    stats.unparsed += 1;
    if stats.unparsed_samples.len() < UNPARSED_SAMPLES {
        stats.unparsed_samples.push((number, reason));
    }
}

fn note_first(stats: &mut super::facts::SourceFile, number: u64, text: &[u8]) {
    stats.nonblank += 1;
    if stats.first_lines.len() < FIRST_LINES {
        stats.first_lines.push((number, sample_of(text, 120)));
    }
}

/// Refuses a file that has lines but none of them runsc's.
fn refuse_foreign(builder: &mut FactsBuilder<'_>, name: &str) -> anyhow::Result<()> {
    let Some(stats) = builder.file_mut() else {
        return Ok(());
    };
    if stats.recognised > 0 || stats.nonblank == 0 {
        return Ok(());
    }
    let tried: Vec<String> = stats
        .first_lines
        .iter()
        .map(|(line, text)| format!("  line {line}: {text:?}"))
        .collect();
    bail!(
        "{name}: no evidence: {} lines, none a runsc log line (runsc's text, json or json-k8s \
         format, with or without a line-number, grep, kubectl or Cloud Logging prefix, or Go \
         runtime output); the first lines tried:\n{}",
        stats.lines,
        tried.join("\n")
    );
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod proptests;
