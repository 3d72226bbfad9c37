//! Any bytes as a profile file: the loader either refuses them with an error or hands
//! back a profile, which must then survive everything a profile goes through — the
//! analysis and every renderer, the summary, a merge with itself, a diff against
//! itself. Nothing a profile file contains may panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sandprof::analysis::{analyze, AnalysisOptions};
use sandprof::profile::summary::Summary;
use sandprof::profile::{diff, io, merge, ToolStamp};
use sandprof::report::{render, Format};
use syscall_db::Database;

fuzz_target!(|data: &[u8]| {
    let Ok(profile) = io::parse(data) else {
        return;
    };
    let mut text = Vec::new();
    let _ = Summary::of(&profile).write(&mut text, "fuzz");
    let _ = diff::diff(&profile, &profile);
    let named = [
        ("a.sandprof.json".to_owned(), profile.clone()),
        ("b.sandprof.json".to_owned(), profile),
    ];
    // Twice the counts may not fit: an error, not a panic.
    let _ = merge::merge(&named, ToolStamp::current());
    let Ok(report) = analyze(Database::get(), &named[..1], &AnalysisOptions::default()) else {
        return;
    };
    for format in [Format::Table, Format::Markdown, Format::Json] {
        text.clear();
        let _ = render(&report, format, &mut text, true);
    }
});
