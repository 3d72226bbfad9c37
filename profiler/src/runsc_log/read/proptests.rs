//! The reader on any bytes (no panic, every line accounted for) and on generated
//! strace lines (parsed back to what went in).

use proptest::prelude::*;

use super::*;

fn read_bytes(bytes: &[u8]) -> anyhow::Result<LogFacts> {
    let spec = CaptureSpec::default();
    let mut builder = FactsBuilder::new(&spec);
    read_one(&mut builder, "p.boot.txt".to_owned(), None, bytes)?;
    Ok(builder.finish())
}

/// A runsc header line first, so the file is never refused as foreign and every
/// later line goes through the parsers.
const HEADER: &[u8] = b"I1122 15:04:05.000001       1 cli.go:276] Version release-1, go1, amd64\n";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Any bytes: no panic, and every line is accounted for as recognised,
    /// unparsed or blank.
    #[test]
    fn any_bytes_are_read_without_panicking(body in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let mut input = HEADER.to_vec();
        input.extend_from_slice(&body);
        let facts = read_bytes(&input).unwrap();
        let file = &facts.files[0];
        let text = input.strip_suffix(b"\n").unwrap_or(&input);
        let blank = text
            .split(|&b| b == b'\n')
            .filter(|line| line.iter().all(u8::is_ascii_whitespace))
            .count() as u64;
        prop_assert_eq!(file.recognised + file.unparsed + blank, file.lines);
        prop_assert_eq!(file.recognised + file.unparsed, file.nonblank);
    }

    /// Lines built from runsc's formats, with any task name and arguments, parse
    /// back to what went in.
    #[test]
    fn generated_strace_exits_parse_back(
        pid in 1u32..4_000_000,
        tid in 1u32..4_000_000,
        comm in "[ -~]{0,15}",
        name in "[a-z][a-z0-9_]{0,20}",
        args in "[ -~]{0,200}",
        errno in proptest::option::of(1u16..4096),
        generation in 0usize..3,
    ) {
        let result = match (errno, generation) {
            (None, 0) => "0x3 (1.2µs)".to_owned(),
            (None, _) => "3 (0x3) (1.2µs)".to_owned(),
            (Some(e), 0) => format!("0x0 errno={e} (some error) (1µs)"),
            (Some(e), 1) => format!("0 (0x0) errno={e} (some error) (1µs)"),
            (Some(e), _) => format!("-1 errno={e} (some error) (1µs)"),
        };
        let line = format!(
            "I1122 15:04:05.000002       1 strace.go:605] [{pid:4}:{tid:4}] {comm} X {name}({args}) = {result}\n"
        );
        let mut input = HEADER.to_vec();
        input.extend_from_slice(line.as_bytes());
        let facts = read_bytes(&input).unwrap();
        prop_assert_eq!(facts.files[0].strace_lines, 1);
        prop_assert_eq!(facts.calls.len(), 1);
        let call = &facts.calls[0];
        prop_assert_eq!((call.first.pid, call.first.tid), (Some(pid), Some(tid)));
        let failures: Vec<u16> = call.failures.iter().map(|f| f.errno).collect();
        prop_assert_eq!(failures, errno.into_iter().collect::<Vec<_>>());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Any bytes on their own, also behind a JSON array's opening: an error (not a runsc
    /// log) or facts with every line accounted for; never a panic.
    #[test]
    fn any_bytes_alone_are_an_error_or_accounted_for(
        body in proptest::collection::vec(any::<u8>(), 0..2048),
        array in any::<bool>(),
    ) {
        let mut input = if array { b"[{".to_vec() } else { Vec::new() };
        input.extend_from_slice(&body);
        if let Ok(facts) = read_bytes(&input) {
            let file = &facts.files[0];
            prop_assert_eq!(file.recognised + file.unparsed, file.nonblank);
        }
    }
}
