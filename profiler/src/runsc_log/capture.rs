//! Which strace arguments become profile fields: the database's capture spec (the same
//! one the eBPF tracer follows) read against strace's text forms. A field the tracer
//! reads from a register is an integer here too, written by runsc as a number or a
//! symbol; a user path is the path runsc printed; a socket address's family is read
//! from `{Family: AF_…}`. Paths are folded like the tracer folds them (numeric
//! components → `#`) and kept only under the same prefixes.

use rustc_hash::FxHashMap;
use syscall_db::{
    Arch, Capture, CaptureField, Database, FieldKind, FieldValue, FieldValues, Value,
};

use super::args::{self, Symbol};

/// How one field is read from strace text.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Reading {
    /// A number or symbolic value; symbols are resolved in `group` (an index into
    /// [`CaptureSpec::groups`]).
    Integer { group: Option<usize>, mask: u64 },
    /// A path, kept under [`syscall_db::USER_PATH_PREFIXES`].
    Path,
    /// A string, always kept.
    Text,
    /// The family of a socket address.
    SockaddrFamily { group: Option<usize> },
}

/// A field's value as the text gives it, borrowed: what [`CaptureSpec::read`] turns
/// into a [`FieldValue`] and [`CaptureSpec::read_key`] writes into a key, without
/// allocating.
enum Raw<'a> {
    Int(u64),
    /// A path under a kept prefix, not yet folded.
    Path(&'a str),
    Text(&'a str),
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Field {
    name: String,
    arg: usize,
    reading: Option<Reading>,
}

/// The capture spec, prepared for strace text.
#[derive(Debug, Default)]
pub struct CaptureSpec {
    /// Fields per syscall.
    by_syscall: FxHashMap<String, SyscallCapture>,
    /// Constants by group, then name (looked up by borrowed names, without allocating).
    /// Fields name their group by its index here, found once when the spec is built.
    groups: Vec<FxHashMap<String, u64>>,
    /// Indexes into `groups` by group name.
    group_ids: FxHashMap<String, usize>,
    /// Every constant by name alone; `None` when groups disagree on its value.
    by_name: FxHashMap<String, Option<u64>>,
    /// Every syscall name of the native arches: what a strace line with no header must
    /// name to be taken for one.
    syscall_names: rustc_hash::FxHashSet<String>,
}

/// One syscall's captured fields, as [`CaptureSpec::capture_of`] finds them.
#[derive(Debug)]
pub struct SyscallCapture {
    fields: Vec<Field>,
    /// The highest argument index the fields read.
    last_arg: usize,
}

/// What one call's arguments give.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Captured {
    /// Fields read.
    pub fields: FieldValues,
    /// Fields that could not be read from the text (cut off, unreadable, a symbol the
    /// database does not know, or a form strace does not print).
    pub incomplete: Vec<String>,
}

impl CaptureSpec {
    /// The spec for `arch` from the database.
    pub fn from_database(db: &Database, arch: Arch) -> Self {
        let mut spec = Self::default();
        for native in Arch::NATIVE {
            spec.syscall_names
                .extend(db.syscalls(native).iter().map(|s| s.name.clone()));
        }
        for capture in db.captures() {
            // Masks as the tracer applies them, so both sides record the same value.
            spec.add_masked(capture, |field| {
                db.capture_mask(field, arch).unwrap_or(u64::MAX)
            });
        }
        for group in db.constant_groups() {
            for constant in db.constants(group) {
                if constant.arches.is_empty() || constant.arches.contains(&arch) {
                    spec.add_constant(group, &constant.name, constant.value);
                }
            }
        }
        spec
    }

    /// Adds one syscall's capture with its numeric masks (tests build specs by hand).
    pub fn add(&mut self, capture: &Capture) {
        self.add_masked(capture, |field| match field.mask {
            Some(Value::Number(m)) => m,
            _ => u64::MAX,
        });
    }

    /// Adds one syscall's capture, each field's mask given by `mask`.
    fn add_masked(&mut self, capture: &Capture, mask: impl Fn(&CaptureField) -> u64) {
        let fields: Vec<Field> = capture
            .fields
            .iter()
            .map(|f| Field {
                name: f.name.clone(),
                arg: f.arg as usize,
                reading: match f.kind {
                    FieldKind::Arg => Some(Reading::Integer {
                        group: f.names.as_deref().map(|g| self.group_id(g)),
                        mask: mask(f),
                    }),
                    FieldKind::UserPath => Some(Reading::Path),
                    FieldKind::UserStr => Some(Reading::Text),
                    FieldKind::UserU16 if f.offset == 0 && f.name == "family" => {
                        Some(Reading::SockaddrFamily {
                            group: f.names.as_deref().map(|g| self.group_id(g)),
                        })
                    }
                    // strace prints no other structure fields in a form we can read.
                    FieldKind::UserU16 | FieldKind::UserU32 | FieldKind::UserU64 => None,
                },
            })
            .collect();
        let last_arg = fields.iter().map(|f| f.arg).max().unwrap_or(0);
        self.by_syscall
            .insert(capture.syscall.clone(), SyscallCapture { fields, last_arg });
    }

    /// The index of constant group `group`, added empty if new.
    fn group_id(&mut self, group: &str) -> usize {
        if let Some(&id) = self.group_ids.get(group) {
            return id;
        }
        self.groups.push(FxHashMap::default());
        self.group_ids
            .insert(group.to_owned(), self.groups.len() - 1);
        self.groups.len() - 1
    }

    /// Adds a constant (tests).
    pub fn add_constant(&mut self, group: &str, name: &str, value: u64) {
        let id = self.group_id(group);
        self.groups[id].insert(name.to_owned(), value);
        self.by_name
            .entry(name.to_owned())
            .and_modify(|v| {
                if *v != Some(value) {
                    *v = None;
                }
            })
            .or_insert(Some(value));
    }

    /// Adds a syscall name strace lines without a header may name (tests build specs by
    /// hand).
    pub fn add_syscall_name(&mut self, name: &str) {
        self.syscall_names.insert(name.to_owned());
    }

    /// Whether `name` is a syscall of a native arch.
    pub fn is_syscall(&self, name: &str) -> bool {
        self.syscall_names.contains(name)
    }

    /// The value of constant `name` of `group`.
    pub fn constant(&self, group: &str, name: &str) -> Option<u64> {
        self.groups[*self.group_ids.get(group)?].get(name).copied()
    }

    /// Whether `syscall` has captured fields.
    pub fn wants(&self, syscall: &str) -> bool {
        self.by_syscall.contains_key(syscall)
    }

    /// Reads `syscall`'s fields from its strace argument list; `None` if the syscall
    /// has none. An argument the list lacks (a line cut short) makes its field
    /// incomplete.
    pub fn read(&self, syscall: &str, arg_text: &[u8]) -> Option<Captured> {
        let capture = self.capture_of(syscall)?;
        let mut out = Captured::default();
        self.each_field(capture, arg_text, |field, value| match value {
            Ok(Some(raw)) => {
                let value = match raw {
                    Raw::Int(n) => FieldValue::Int(n),
                    Raw::Path(path) => FieldValue::Str(syscall_db::paths::fold_numbers(path)),
                    Raw::Text(text) => FieldValue::Str(text.to_owned()),
                };
                out.fields.insert(field.name.clone(), value);
            }
            // A path outside the kept prefixes: not recorded, like the tracer.
            Ok(None) => {}
            Err(()) => out.incomplete.push(field.name.clone()),
        });
        Some(out)
    }

    /// `syscall`'s captured fields, if it has any: found once per syscall name by the
    /// caller, then handed to [`Self::read_key`] for each of its lines.
    pub fn capture_of(&self, syscall: &str) -> Option<&SyscallCapture> {
        self.by_syscall.get(syscall)
    }

    /// Appends the values of a syscall's captured fields to `key` in a compact form:
    /// two argument lists append the same bytes exactly when [`Self::read`] gives them
    /// the same fields (the database names each field of a syscall once, and the
    /// fields come in the spec's order). Used to find a call's aggregate without
    /// building its fields (a map of owned strings) for every line.
    pub fn read_key(&self, capture: &SyscallCapture, arg_text: &[u8], key: &mut Vec<u8>) {
        self.each_field(capture, arg_text, |_, value| match value {
            Ok(Some(Raw::Int(n))) => {
                key.push(1);
                key.extend_from_slice(&n.to_le_bytes());
            }
            Ok(Some(Raw::Path(path))) => {
                // Folded as `read` folds it, written after its length.
                key.push(2);
                let len_at = key.len();
                key.extend_from_slice(&[0; 8]);
                syscall_db::paths::write_folded(path, |piece| {
                    key.extend_from_slice(piece.as_bytes());
                });
                let len = (key.len() - len_at - 8) as u64;
                key[len_at..len_at + 8].copy_from_slice(&len.to_le_bytes());
            }
            Ok(Some(Raw::Text(text))) => {
                key.push(2);
                key.extend_from_slice(&(text.len() as u64).to_le_bytes());
                key.extend_from_slice(text.as_bytes());
            }
            // Not among the fields, whether unread or outside the kept paths.
            Ok(None) | Err(()) => key.push(0),
        });
    }

    /// Reads each of a syscall's captured fields and hands it to `f` with its value:
    /// `Ok(None)` for a path outside the kept prefixes, `Err` for a field the text does
    /// not give.
    fn each_field<'t>(
        &self,
        capture: &SyscallCapture,
        arg_text: &'t [u8],
        mut f: impl FnMut(&Field, Result<Option<Raw<'t>>, ()>),
    ) {
        let mut list: [Option<&[u8]>; 6] = [None; 6];
        // Split only as far as the last field's argument: the rest may be a long
        // structure or buffer dump.
        for (slot, arg) in list
            .iter_mut()
            .zip(args::split(arg_text))
            .take(capture.last_arg + 1)
        {
            *slot = Some(arg);
        }
        for field in &capture.fields {
            let value = match (&field.reading, list.get(field.arg).copied().flatten()) {
                (Some(reading), Some(text)) => self.value(reading, text),
                _ => Err(()),
            };
            f(field, value);
        }
    }

    fn value<'t>(&self, reading: &Reading, text: &'t [u8]) -> Result<Option<Raw<'t>>, ()> {
        match *reading {
            Reading::Integer { group, mask } => self
                .integer(group, mask, text)
                .map(|n| Some(Raw::Int(n & mask))),
            Reading::SockaddrFamily { group } => {
                let family = args::sockaddr_family(text).ok_or(())?;
                self.integer(group, u64::MAX, family)
                    .map(|n| Some(Raw::Int(n)))
            }
            Reading::Path => {
                let path = args::path(text).ok_or(())?;
                let path = std::str::from_utf8(path).map_err(|_| ())?;
                Ok(syscall_db::paths::is_kept_path(path).then_some(Raw::Path(path)))
            }
            Reading::Text => {
                let text = args::path(text).unwrap_or(text);
                let text = std::str::from_utf8(text).map_err(|_| ())?;
                Ok(Some(Raw::Text(text.trim_matches('"'))))
            }
        }
    }

    /// A number, or a `|`-joined set of symbols and numbers. A symbol is looked up in
    /// `group`, else by its name alone (runsc names a socket protocol after its family,
    /// `NETLINK_SOCK_DIAG`, where the capture spec has one group for all families).
    /// For a masked field runsc writes the value then flags outside the mask
    /// (`SOCK_RAW|SOCK_CLOEXEC`), so names it cannot resolve after one it could are
    /// those flags, and are skipped.
    fn integer(&self, group: Option<usize>, mask: u64, text: &[u8]) -> Result<u64, ()> {
        if text.is_empty() {
            return Err(());
        }
        let group = group.and_then(|g| self.groups.get(g));
        let mut value = 0u64;
        let mut resolved_any = false;
        for part in args::symbol_parts(text) {
            let resolved = match part.ok_or(())? {
                Symbol::Number(n) => Some(n),
                Symbol::Name(name) => group
                    .and_then(|g| g.get(name).copied())
                    .or_else(|| self.by_name.get(name).copied().flatten()),
            };
            match resolved {
                Some(n) => {
                    value |= n;
                    resolved_any = true;
                }
                None if mask != u64::MAX && resolved_any => {}
                None => return Err(()),
            }
        }
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use syscall_db::CaptureField;

    use super::*;

    fn spec() -> CaptureSpec {
        let field = |name: &str, arg, kind, names: Option<&str>| CaptureField {
            name: name.to_owned(),
            arg,
            kind,
            offset: 0,
            mask: None,
            names: names.map(str::to_owned),
        };
        let mut spec = CaptureSpec::default();
        spec.add(&Capture {
            syscall: "socket".to_owned(),
            fields: vec![
                field("domain", 0, FieldKind::Arg, Some("socket_domain")),
                field("type", 1, FieldKind::Arg, Some("socket_type")),
                field("protocol", 2, FieldKind::Arg, None),
            ],
        });
        spec.add(&Capture {
            syscall: "openat".to_owned(),
            fields: vec![field("path", 1, FieldKind::UserPath, None)],
        });
        spec.add(&Capture {
            syscall: "connect".to_owned(),
            fields: vec![field(
                "family",
                1,
                FieldKind::UserU16,
                Some("socket_domain"),
            )],
        });
        spec.add_constant("socket_domain", "AF_NETLINK", 16);
        spec.add_constant("socket_type", "SOCK_RAW", 3);
        spec.add_constant("socket_type", "SOCK_CLOEXEC", 0o2000000);
        spec.add_constant("netlink_protocol", "NETLINK_SOCK_DIAG", 4);
        spec
    }

    #[test]
    fn reads_symbols_numbers_and_paths() {
        let spec = spec();
        let got = spec
            .read("socket", b"AF_NETLINK, SOCK_RAW|SOCK_CLOEXEC, 0x4")
            .unwrap();
        assert_eq!(
            got.fields,
            FieldValues::from([
                ("domain".to_owned(), FieldValue::Int(16)),
                ("type".to_owned(), FieldValue::Int(3 | 0o2000000)),
                ("protocol".to_owned(), FieldValue::Int(4)),
            ])
        );
        assert!(got.incomplete.is_empty());

        let got = spec
            .read(
                "openat",
                b"AT_FDCWD /, 0x7f00 /proc/1234/task/1235/stat, O_RDONLY, 0o0",
            )
            .unwrap();
        assert_eq!(
            got.fields,
            FieldValues::from([(
                "path".to_owned(),
                FieldValue::Str("/proc/#/task/#/stat".to_owned())
            )])
        );
        let got = spec
            .read("openat", b"AT_FDCWD /, 0x7f00 /etc/passwd, O_RDONLY, 0o0")
            .unwrap();
        assert_eq!(got, Captured::default());

        let got = spec
            .read(
                "connect",
                b"0x3 socket:[5], 0x7f00 {Family: AF_NETLINK, PortID: 0, Groups: 0}, 0xc",
            )
            .unwrap();
        assert_eq!(
            got.fields,
            FieldValues::from([("family".to_owned(), FieldValue::Int(16))])
        );
        assert_eq!(spec.read("getpid", b""), None);
    }

    #[test]
    fn masked_values_skip_the_flags_after_them_and_names_resolve_across_groups() {
        let mut spec = spec();
        let mut capture = Capture {
            syscall: "socket".to_owned(),
            fields: Vec::new(),
        };
        for (name, arg, mask, names) in [
            ("type", 1, Some(Value::Number(15)), "socket_type"),
            ("protocol", 2, None, "ipproto"),
        ] {
            capture.fields.push(syscall_db::CaptureField {
                name: name.to_owned(),
                arg,
                kind: FieldKind::Arg,
                offset: 0,
                mask,
                names: Some(names.to_owned()),
            });
        }
        spec.add(&capture);
        let got = spec
            .read(
                "socket",
                b"AF_NETLINK, SOCK_RAW|SOCK_NONBLOCK, NETLINK_SOCK_DIAG",
            )
            .unwrap();
        assert_eq!(
            got.fields,
            FieldValues::from([
                ("type".to_owned(), FieldValue::Int(3)),
                ("protocol".to_owned(), FieldValue::Int(4)),
            ])
        );
        assert!(got.incomplete.is_empty());
        let got = spec
            .read("socket", b"AF_NETLINK, SOCK_NONBLOCK|SOCK_RAW, 0x0")
            .unwrap();
        assert_eq!(got.incomplete, vec!["type".to_owned()]);
    }

    #[test]
    fn unreadable_fields_are_incomplete() {
        let spec = spec();
        let got = spec.read("socket", b"AF_WHATEVER, SOCK_RAW").unwrap();
        assert_eq!(
            got.fields,
            FieldValues::from([("type".to_owned(), FieldValue::Int(3))])
        );
        assert_eq!(
            got.incomplete,
            vec!["domain".to_owned(), "protocol".to_owned()]
        );
        let got = spec
            .read(
                "openat",
                b"AT_FDCWD /, 0x7f00 (error decoding path: bad address), 0x0, 0o0",
            )
            .unwrap();
        assert_eq!(got.incomplete, vec!["path".to_owned()]);
    }

    /// Keys are equal exactly when the fields read are.
    #[test]
    fn keys_match_exactly_when_fields_do() {
        let spec = spec();
        let lists: [(&str, &[u8]); 12] = [
            ("socket", b"AF_NETLINK, SOCK_RAW|SOCK_CLOEXEC, 0x4"),
            (
                "socket",
                b"AF_NETLINK, SOCK_RAW|SOCK_CLOEXEC, NETLINK_SOCK_DIAG",
            ),
            ("socket", b"AF_NETLINK, SOCK_RAW, 0x4"),
            ("socket", b"AF_WHATEVER, SOCK_RAW"),
            ("socket", b"AF_WHATEVER2, SOCK_RAW, 0x0"),
            ("openat", b"AT_FDCWD /, 0x7f00 /proc/1/stat, O_RDONLY, 0o0"),
            ("openat", b"AT_FDCWD /, 0x7f00 /proc/2/stat, O_RDONLY, 0o0"),
            ("openat", b"AT_FDCWD /, 0x7f00 /etc/passwd, O_RDONLY, 0o0"),
            ("openat", b"AT_FDCWD /, 0x7f00 /proc/#/stat, O_RDONLY, 0o0"),
            ("openat", b"AT_FDCWD /, 0x7f00 /proc/1/stat/, O_RDONLY, 0o0"),
            ("openat", b"AT_FDCWD /, 0x7f00 /proc, O_RDONLY, 0o0"),
            (
                "openat",
                b"AT_FDCWD /, 0x7f00 (error decoding path), 0x0, 0o0",
            ),
        ];
        let key = |syscall, args| {
            let mut key = Vec::new();
            spec.read_key(spec.capture_of(syscall).unwrap(), args, &mut key);
            key
        };
        for (a_syscall, a) in lists {
            for (b_syscall, b) in lists.into_iter().filter(|(s, _)| *s == a_syscall) {
                let same_fields = spec.read(a_syscall, a).unwrap().fields
                    == spec.read(b_syscall, b).unwrap().fields;
                assert_eq!(key(a_syscall, a) == key(b_syscall, b), same_fields);
            }
        }
        assert!(spec.capture_of("getpid").is_none());
    }

    #[test]
    fn folds_like_the_tracer() {
        let spec = spec();
        let path = |path: &str| {
            let args = format!("AT_FDCWD /, 0x7f00 {path}, O_RDONLY, 0o0");
            let got = spec.read("openat", args.as_bytes()).unwrap();
            assert!(got.incomplete.is_empty());
            got.fields.get("path").cloned()
        };
        let kept = |p: &str| Some(FieldValue::Str(p.to_owned()));
        assert_eq!(path("/proc/self/fd/12"), kept("/proc/self/fd/#"));
        assert_eq!(path("/proc/4242/task/##/stat"), kept("/proc/#/task/#/stat"));
        assert_eq!(path("/dev/nvidia0"), kept("/dev/nvidia0"));
        assert_eq!(path("/sys"), kept("/sys"));
        assert_eq!(path("/system/x"), None);
        assert_eq!(path("/tmp/1"), None);
    }
}
