//! Any bytes as a runsc log: each line through the locator, the envelope, task-prefix,
//! strace, argument and message parsers on its own, then the whole input through the
//! reader, the facts and the analysis. Nothing a log contains may panic.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sandprof::analysis::runsc::analyze_logs;
use sandprof::analysis::RunscFlags;
use sandprof::runsc_log::capture::CaptureSpec;
use sandprof::runsc_log::facts::FactsBuilder;
use sandprof::runsc_log::read::read_one;
use sandprof::runsc_log::{args, envelope, locate, message, strace, task, LogEvidence};
use syscall_db::messages::MessageCatalogue;
use syscall_db::{Arch, Database};

fn spec() -> &'static CaptureSpec {
    static SPEC: OnceLock<CaptureSpec> = OnceLock::new();
    SPEC.get_or_init(|| CaptureSpec::from_database(Database::get(), Arch::X86_64))
}

fn each_parser(line: &[u8]) {
    let catalogue = MessageCatalogue::get();
    let line = locate::locate(line).content;
    let _ = message::runtime_line(line);
    let _ = message::classify(line, false, catalogue);
    let message = match envelope::parse_text(line) {
        Some(env) => env.message.into_owned(),
        None => match envelope::parse_json(line) {
            Ok(envelope::JsonRecord::Runsc(env)) => env.message.into_owned(),
            Ok(envelope::JsonRecord::Wrapped { text, .. }) => text.into_owned(),
            Err(_) => line.to_vec(),
        },
    };
    let (rest, task) = match task::parse_prefix(&message) {
        Some((_, rest)) => (rest, true),
        None => (&message[..], false),
    };
    let _ = message::classify(rest, task, catalogue);
    if let Some(call) = strace::parse(rest) {
        for arg in args::split(call.args) {
            let _ = args::integer(arg);
            let _ = args::symbols(arg);
            let _ = args::path(arg);
            let _ = args::user_path(arg);
            let _ = args::quoted(arg);
            let _ = args::sockaddr_family(arg);
        }
        if let Some(name) = call.name.as_str() {
            let _ = spec().read(name, call.args);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    for line in data.split(|&b| b == b'\n') {
        each_parser(line);
    }
    let mut builder = FactsBuilder::new(spec());
    // A file that is not a log is an error, not a panic; either way nothing more to check.
    if read_one(&mut builder, "fuzz.boot.txt".to_owned(), None, data).is_err() {
        return;
    }
    let facts = builder.finish();
    let db = Database::get();
    let evidence = LogEvidence::new(facts, db, Arch::X86_64, vec!["fuzz.boot.txt".to_owned()]);
    let _ = analyze_logs(db, &evidence, &RunscFlags::none());
});
