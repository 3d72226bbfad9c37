//! Strace argument lists: splitting `a, {b, c}, "d, e"` into top-level arguments and
//! reading the forms gVisor's strace writes for them (`pkg/sentry/strace/strace.go`,
//! `socket.go`, `pkg/abi/flag.go`): hex numbers `0x1f`, octal modes `0o755`, decimal
//! numbers, symbols and flag sets `SOCK_RAW|SOCK_CLOEXEC|0x800`, paths written as the
//! address then the path (`0x7f00 /proc/self/status`), file descriptors written as the
//! number then the path (`0x3 /dev/null`, `AT_FDCWD /`), and socket addresses
//! `0x7f00 {Family: AF_INET, …}`.

/// Splits an argument list at top-level `, `, outside quotes, brackets and braces.
/// Quoted strings honour `\` escapes; an unterminated quote or bracket (a truncated
/// line) runs to the end.
pub fn split(args: &[u8]) -> ArgIter<'_> {
    ArgIter { rest: Some(args) }
}

/// Iterator returned by [`split`].
pub struct ArgIter<'a> {
    rest: Option<&'a [u8]>,
}

/// Bytes the splitter acts on outside quotes; it skips everything else in one pass
/// (strace's structure dumps run to hundreds of bytes inside braces).
const SPECIAL: [bool; 256] = {
    let mut table = [false; 256];
    let bytes = b"\"{[(}]),";
    let mut i = 0;
    while i < bytes.len() {
        table[bytes[i] as usize] = true;
        i += 1;
    }
    table
};

impl<'a> Iterator for ArgIter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let s = self.rest?;
        if s.is_empty() {
            self.rest = None;
            return None;
        }
        let mut depth: u32 = 0;
        let mut i = 0;
        while let Some(offset) = s[i..].iter().position(|&b| SPECIAL[usize::from(b)]) {
            let at = i + offset;
            i = at + 1;
            match s[at] {
                b'"' => i = after_quote(s, i),
                b'{' | b'[' | b'(' => depth += 1,
                b'}' | b']' | b')' => depth = depth.saturating_sub(1),
                // b','
                _ => {
                    if depth == 0 && s.get(i) == Some(&b' ') {
                        self.rest = Some(&s[at + 2..]);
                        return Some(&s[..at]);
                    }
                }
            }
        }
        self.rest = None;
        Some(s)
    }
}

/// The index just after the `"` that closes a string whose text starts at `from`,
/// honouring `\` escapes; the end of `s` when the string is not closed (a cut line).
fn after_quote(s: &[u8], mut from: usize) -> usize {
    while let Some(offset) = memchr::memchr2(b'"', b'\\', &s[from..]) {
        let at = from + offset;
        if s[at] == b'"' {
            return at + 1;
        }
        // Skip the escaped byte, which may be a quote.
        from = (at + 2).min(s.len());
    }
    s.len()
}

/// The `n`th argument (0-based), if the list has it.
pub fn nth(args: &[u8], n: usize) -> Option<&[u8]> {
    split(args).nth(n)
}

/// An integer argument: `0x1f`, `0o755`, `-1`, `12`.
pub fn integer(arg: &[u8]) -> Option<u64> {
    if let Some(h) = arg.strip_prefix(b"0x") {
        return super::strace::hex(h);
    }
    if let Some(o) = arg.strip_prefix(b"0o") {
        if o.is_empty() || o.len() > 22 {
            return None;
        }
        return o.iter().try_fold(0u64, |n, &b| {
            (b'0'..=b'7')
                .contains(&b)
                .then(|| n.checked_mul(8).map(|n| n | u64::from(b - b'0')))
                .flatten()
        });
    }
    let (negative, digits) = match arg.strip_prefix(b"-") {
        Some(d) => (true, d),
        None => (false, arg),
    };
    if digits.is_empty() || digits.len() > 20 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = digits.iter().try_fold(0u64, |n, &b| {
        n.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    })?;
    Some(if negative { n.wrapping_neg() } else { n })
}

/// A symbolic value or flag set: its `|`-separated parts, each a name or a number.
pub fn symbols(arg: &[u8]) -> Option<Vec<Symbol<'_>>> {
    if arg.is_empty() {
        return None;
    }
    symbol_parts(arg).collect()
}

/// The parts of a symbolic value one by one, each `None` when it is neither a name nor
/// a number (no allocation: the capture reads one per captured integer of every line).
pub fn symbol_parts(arg: &[u8]) -> impl Iterator<Item = Option<Symbol<'_>>> {
    arg.split(|&b| b == b'|').map(|part| {
        if let Some(n) = integer(part) {
            return Some(Symbol::Number(n));
        }
        let ok = !part.is_empty()
            && part[0].is_ascii_uppercase()
            && part
                .iter()
                .all(|&b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
        // Checked ASCII just above.
        ok.then(|| std::str::from_utf8(part).ok().map(Symbol::Name))
            .flatten()
    })
}

/// One part of a symbolic argument.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Symbol<'a> {
    /// A constant's name, e.g. `AF_NETLINK`.
    Name(&'a str),
    /// A number runsc had no name for.
    Number(u64),
}

/// The path of a `Path` argument (`0x7f00 /proc/self/status`) or of an `FD` argument
/// (`0x3 /dev/null`, `AT_FDCWD /`); `None` when runsc could not read it.
pub fn path(arg: &[u8]) -> Option<&[u8]> {
    let space = memchr::memchr(b' ', arg)?;
    let (head, path) = (&arg[..space], &arg[space + 1..]);
    if !(head.starts_with(b"0x") || head == b"AT_FDCWD") || path.first() == Some(&b'(') {
        return None;
    }
    Some(path)
}

/// The text of a buffer argument, `0x7f00 "text"` (escapes left as written); `None`
/// when the argument shows no string. A string cut by `--strace-log-size` (`"abc"...`)
/// gives what is shown.
pub fn quoted(arg: &[u8]) -> Option<&[u8]> {
    let open = memchr::memchr(b'"', arg)? + 1;
    let mut escaped = false;
    for (i, &b) in arg[open..].iter().enumerate() {
        match (escaped, b) {
            (true, _) => escaped = false,
            (false, b'\\') => escaped = true,
            (false, b'"') => return Some(&arg[open..open + i]),
            _ => {}
        }
    }
    Some(&arg[open..])
}

/// The path of a `Path` argument only (`0x7f00 /proc/self/status`): the head must be a
/// user address, at or above the lowest address Linux maps by default (0x10000), which
/// tells it from a file descriptor's number (`0x3 /dev/null`) and from `AT_FDCWD /`.
pub fn user_path(arg: &[u8]) -> Option<&[u8]> {
    let space = memchr::memchr(b' ', arg)?;
    let address = integer(&arg[..space]).filter(|&a| a >= 0x10000)?;
    let _ = address;
    path(arg).filter(|p| p.first() == Some(&b'/'))
}

/// The family of a socket address argument: `0x7f00 {Family: AF_INET, …}`.
pub fn sockaddr_family(arg: &[u8]) -> Option<&[u8]> {
    let at = memchr::memmem::find(arg, b"{Family: ")? + "{Family: ".len();
    let rest = &arg[at..];
    let end = rest
        .iter()
        .position(|&b| b == b',' || b == b'}')
        .unwrap_or(rest.len());
    Some(&rest[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(s: &str) -> Vec<&str> {
        split(s.as_bytes())
            .map(|p| std::str::from_utf8(p).unwrap())
            .collect()
    }

    #[test]
    fn splits_at_top_level_only() {
        assert_eq!(
            parts(r#"0x3 /dev/null, 0x7f00 {dev=1, ino=2}, 0x7f01 "a, \"b\", c", [1, 2], 0x0"#),
            vec![
                "0x3 /dev/null",
                "0x7f00 {dev=1, ino=2}",
                r#"0x7f01 "a, \"b\", c""#,
                "[1, 2]",
                "0x0"
            ]
        );
        assert_eq!(parts(""), Vec::<&str>::new());
        assert_eq!(
            parts(r#"0x1, 0x7f00 "unterminated, still"#),
            vec!["0x1", r#"0x7f00 "unterminated, still"#]
        );
    }

    #[test]
    fn escapes_and_cut_strings() {
        assert_eq!(
            parts(r#"0x1 "a\"", 0x2 "b\\", 0x3 "\"#),
            vec![r#"0x1 "a\"""#, r#"0x2 "b\\""#, r#"0x3 "\"#]
        );
        assert_eq!(parts("{a, (b, c)}), d, e"), vec!["{a, (b, c)})", "d", "e"]);
    }

    /// The splitter as a byte-at-a-time state machine: the definition the fast one
    /// must agree with.
    fn reference_split(mut s: &[u8]) -> Vec<&[u8]> {
        let mut out = Vec::new();
        'args: while !s.is_empty() {
            let (mut depth, mut in_quote, mut escaped) = (0u32, false, false);
            for (i, &b) in s.iter().enumerate() {
                if in_quote {
                    match (escaped, b) {
                        (true, _) => escaped = false,
                        (false, b'\\') => escaped = true,
                        (false, b'"') => in_quote = false,
                        _ => {}
                    }
                    continue;
                }
                match b {
                    b'"' => in_quote = true,
                    b'{' | b'[' | b'(' => depth += 1,
                    b'}' | b']' | b')' => depth = depth.saturating_sub(1),
                    b',' if depth == 0 && s.get(i + 1) == Some(&b' ') => {
                        out.push(&s[..i]);
                        s = &s[i + 2..];
                        continue 'args;
                    }
                    _ => {}
                }
            }
            out.push(s);
            break;
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn split_agrees_with_the_state_machine(
            s in proptest::collection::vec(proptest::sample::select(b"\"\\{}[](), ax".to_vec()), 0..64)
        ) {
            proptest::prop_assert_eq!(split(&s).collect::<Vec<_>>(), reference_split(&s));
        }
    }

    #[test]
    fn integers() {
        assert_eq!(integer(b"0x5413"), Some(0x5413));
        assert_eq!(integer(b"0o755"), Some(0o755));
        assert_eq!(integer(b"42"), Some(42));
        assert_eq!(integer(b"-1"), Some(u64::MAX));
        assert_eq!(integer(b"0o8"), None);
        assert_eq!(integer(b"AF_INET"), None);
    }

    #[test]
    fn symbol_sets() {
        assert_eq!(
            symbols(b"SOCK_RAW|SOCK_CLOEXEC|0x40000"),
            Some(vec![
                Symbol::Name("SOCK_RAW"),
                Symbol::Name("SOCK_CLOEXEC"),
                Symbol::Number(0x40000)
            ])
        );
        assert_eq!(symbols(b"0x10"), Some(vec![Symbol::Number(0x10)]));
        assert_eq!(symbols(b"0x7f00 /proc"), None);
    }

    #[test]
    fn quoted_buffers() {
        assert_eq!(
            quoted(br#"0x7f00 "cannot stat /proc/x: \"y\"", 0x5"#),
            Some(&br#"cannot stat /proc/x: \"y\""#[..])
        );
        assert_eq!(quoted(br#"0x7f00 "cut"#), Some(&b"cut"[..]));
        assert_eq!(quoted(b"0x7f00"), None);
    }

    #[test]
    fn paths_and_families() {
        assert_eq!(
            path(b"0x7f00 /proc/self/status"),
            Some(&b"/proc/self/status"[..])
        );
        assert_eq!(path(b"AT_FDCWD /"), Some(&b"/"[..]));
        assert_eq!(path(b"0x7f00 (error decoding path: bad address)"), None);
        assert_eq!(path(b"0x3"), None);
        assert_eq!(
            user_path(b"0x563d281acbb0 /proc/sys/kernel/ostype"),
            Some(&b"/proc/sys/kernel/ostype"[..])
        );
        assert_eq!(user_path(b"AT_FDCWD /"), None);
        assert_eq!(user_path(b"0x3 /etc/ld.so.cache"), None);
        assert_eq!(
            sockaddr_family(b"0x7f00 {Family: AF_NETLINK, PortID: 0, Groups: 0}"),
            Some(&b"AF_NETLINK"[..])
        );
    }
}
