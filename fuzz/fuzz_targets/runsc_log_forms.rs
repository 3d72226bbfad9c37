//! Any bytes as a runsc log in every form it reaches an engineer in: as it is, behind
//! `cat -n` line numbers (also glued), `grep -n` and `grep -Hn`, `kubectl logs --prefix
//! --timestamps`, Cloud Logging's text columns, and wrapped in Cloud Logging JSON (one
//! entry per line, and a pretty-printed array), read through the reader, the facts and
//! the analysis. The first byte picks the form; nothing may panic.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sandprof::analysis::runsc::analyze_logs;
use sandprof::analysis::RunscFlags;
use sandprof::runsc_log::capture::CaptureSpec;
use sandprof::runsc_log::facts::FactsBuilder;
use sandprof::runsc_log::read::read_one;
use sandprof::runsc_log::LogEvidence;
use syscall_db::{Arch, Database};

fn spec() -> &'static CaptureSpec {
    static SPEC: OnceLock<CaptureSpec> = OnceLock::new();
    SPEC.get_or_init(|| CaptureSpec::from_database(Database::get(), Arch::X86_64))
}

/// A JSON string's body for `line` (escaping what JSON requires).
fn json_string(line: &[u8]) -> String {
    let text = String::from_utf8_lossy(line);
    serde_json_escape(&text)
}

fn serde_json_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

fn in_form(form: u8, data: &[u8]) -> Vec<u8> {
    let lines = data.split(|&b| b == b'\n').enumerate();
    let mut out = Vec::with_capacity(data.len() * 2);
    match form % 8 {
        0 => out.extend_from_slice(data),
        1 => lines.for_each(|(i, l)| {
            out.extend_from_slice(format!("{:6}\t", i + 1).as_bytes());
            out.extend_from_slice(l);
            out.push(b'\n');
        }),
        2 => lines.for_each(|(i, l)| {
            out.extend_from_slice(format!("{}", i + 1).as_bytes());
            out.extend_from_slice(l);
            out.push(b'\n');
        }),
        3 => lines.for_each(|(i, l)| {
            out.extend_from_slice(format!("runsc.log.boot.txt:{}:", i + 1).as_bytes());
            out.extend_from_slice(l);
            out.push(b'\n');
        }),
        4 => lines.for_each(|(i, l)| {
            out.extend_from_slice(
                format!("[pod/p-{}/c] 2026-12-01T22:20:16.{:09}Z ", i % 2, i).as_bytes(),
            );
            out.extend_from_slice(l);
            out.push(b'\n');
        }),
        5 => lines.for_each(|(_, l)| {
            out.extend_from_slice(b"2026-12-01 22:20:16.046 UTC\tsvc-00001-abc\t");
            out.extend_from_slice(l);
            out.push(b'\n');
        }),
        6 => lines.for_each(|(_, l)| {
            out.extend_from_slice(
                format!(
                    "{{\"textPayload\": \"{}\", \"timestamp\": \"t\"}}\n",
                    json_string(l)
                )
                .as_bytes(),
            );
        }),
        _ => {
            out.extend_from_slice(b"[\n");
            for (i, l) in lines {
                if i > 0 {
                    out.extend_from_slice(b",\n");
                }
                out.extend_from_slice(
                    format!(
                        "  {{\n    \"jsonPayload\": {{\"message\": \"{}\"}},\n    \"resource\": {{\"labels\": {{\"pod_name\": \"p\", \"container_name\": \"c\"}}}}\n  }}",
                        json_string(l)
                    )
                    .as_bytes(),
                );
            }
            out.extend_from_slice(b"\n]\n");
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&form, body)) = data.split_first() else {
        return;
    };
    let input = in_form(form, body);
    let mut builder = FactsBuilder::new(spec());
    if read_one(&mut builder, "fuzz.boot.txt".to_owned(), None, &input[..]).is_err() {
        return;
    }
    let facts = builder.finish();
    let file = &facts.files[0];
    assert_eq!(file.recognised + file.unparsed, file.nonblank);
    let db = Database::get();
    let evidence = LogEvidence::new(facts, db, Arch::X86_64, vec!["fuzz.boot.txt".to_owned()]);
    let _ = analyze_logs(db, &evidence, &RunscFlags::none());
});
