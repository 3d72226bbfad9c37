//! Reading gVisor's syscall tables (`var X = &kernel.SyscallTable{ ... }`) out of Go
//! source: each `Table` entry's number, constructor and arguments, and what the table's
//! `Missing` fallback does.
//!
//! The constructors and what they mean (`pkg/sentry/syscalls/syscalls.go`):
//! - `Supported`, `SupportedPoint`: implemented;
//! - `PartiallySupported`, `PartiallySupportedPoint`: implemented with gaps;
//! - `Error(name, err, …)`: returns `err`, no event;
//! - `ErrorWithEvent(name, err, …)`: returns `err` and emits an unimplemented-syscall event;
//! - `CapError(name, cap, …)`: EPERM without `cap`; with it, an event and ENOSYS.

use anyhow::{anyhow, bail, Context as _};
use syscall_db::files::{GvisorEntry, GvisorFallback};
use syscall_db::GvisorStatus;

use super::go::{matching, selector, split_args, string};
use super::lexer::{tokenize, Spanned, Token};

/// One `kernel.SyscallTable` variable.
#[derive(Debug, PartialEq, Eq)]
pub struct GoTable {
    /// Go variable name, e.g. `AMD64`.
    pub var: String,
    /// Entries, sorted by number.
    pub entries: Vec<GvisorEntry>,
    /// What numbers absent from `entries` do.
    pub fallback: GvisorFallback,
}

/// Every syscall table defined in `src`, in source order.
pub fn parse_tables(src: &str) -> anyhow::Result<Vec<GoTable>> {
    let tokens = tokenize(src)?;
    let mut tables = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if let Some((var, open)) = table_start(&tokens, i) {
            let close = matching(&tokens, open)?;
            let table = parse_table(&var, &tokens[open..=close])
                .with_context(|| format!("in table `{var}` (line {})", tokens[i].line))?;
            tables.push(table);
            i = close + 1;
        } else {
            i += 1;
        }
    }
    if tables.is_empty() {
        bail!("no `var <name> = &kernel.SyscallTable{{...}}` found");
    }
    Ok(tables)
}

/// `var NAME = &kernel.SyscallTable{` at `i`: the name and the index of `{`.
fn table_start(tokens: &[Spanned], i: usize) -> Option<(String, usize)> {
    let window = tokens.get(i..i + 8)?;
    let ident = |k: usize, s: &str| matches!(&window[k].token, Token::Ident(x) if x == s);
    let punct = |k: usize, c: char| window[k].token == Token::Punct(c);
    let Token::Ident(var) = &window[1].token else {
        return None;
    };
    (ident(0, "var")
        && punct(2, '=')
        && punct(3, '&')
        && ident(4, "kernel")
        && punct(5, '.')
        && ident(6, "SyscallTable")
        && punct(7, '{'))
    .then(|| (var.clone(), i + 7))
}

/// The composite literal of one table, braces included.
fn parse_table(var: &str, body: &[Spanned]) -> anyhow::Result<GoTable> {
    let mut entries = None;
    let mut fallback = None;
    let inner = &body[1..body.len() - 1];
    for field in split_args(inner) {
        let (name, value) = match field {
            [Spanned {
                token: Token::Ident(name),
                ..
            }, Spanned {
                token: Token::Punct(':'),
                ..
            }, value @ ..] => (name.as_str(), value),
            _ => continue,
        };
        if name != "Table" && name != "Missing" {
            continue;
        }
        let open = value
            .iter()
            .position(|t| t.token == Token::Punct('{'))
            .ok_or_else(|| anyhow!("field `{name}` has no `{{`"))?;
        let close = matching(value, open)?;
        let block = &value[open + 1..close];
        if name == "Table" {
            entries = Some(parse_entries(block)?);
        } else {
            fallback = Some(parse_missing(block)?);
        }
    }
    let mut entries = entries.ok_or_else(|| anyhow!("no `Table` field"))?;
    entries.sort_by_key(|e| e.number);
    for pair in entries.windows(2) {
        if pair[0].number == pair[1].number {
            bail!("number {} appears twice", pair[0].number);
        }
    }
    Ok(GoTable {
        var: var.to_owned(),
        entries,
        fallback: fallback.ok_or_else(|| anyhow!("no `Missing` field"))?,
    })
}

/// `N: pkg.Ctor(args),` entries.
fn parse_entries(tokens: &[Spanned]) -> anyhow::Result<Vec<GvisorEntry>> {
    let mut entries = Vec::new();
    let mut k = 0;
    while k < tokens.len() {
        let line = tokens[k].line;
        let number = match &tokens[k].token {
            Token::Int(n) => {
                parse_int(n).with_context(|| format!("line {line}: bad syscall number `{n}`"))?
            }
            Token::Punct(',') => {
                k += 1;
                continue;
            }
            other => bail!("line {line}: expected a syscall number, found {other:?}"),
        };
        let shape = tokens.get(k + 1..k + 6).map(|w| {
            (
                &w[0].token,
                &w[1].token,
                &w[2].token,
                &w[3].token,
                &w[4].token,
            )
        });
        let Some((
            Token::Punct(':'),
            Token::Ident(_),
            Token::Punct('.'),
            Token::Ident(ctor),
            Token::Punct('('),
        )) = shape
        else {
            bail!("line {line}: expected `{number}: syscalls.<Constructor>(...)`");
        };
        let open = k + 5;
        let close = matching(tokens, open)?;
        let args = split_args(&tokens[open + 1..close]);
        let entry =
            entry(number, ctor, &args).with_context(|| format!("line {line}: entry {number}"))?;
        entries.push(entry);
        k = close + 1;
    }
    Ok(entries)
}

fn entry(number: u32, ctor: &str, args: &[&[Spanned]]) -> anyhow::Result<GvisorEntry> {
    let arity = |n: usize| -> anyhow::Result<()> {
        if args.len() == n {
            Ok(())
        } else {
            bail!("`{ctor}` takes {n} arguments, found {}", args.len())
        }
    };
    let name = string(args.first().copied().unwrap_or(&[]))
        .with_context(|| format!("first argument of `{ctor}` must be the syscall name"))?;
    let mut e = GvisorEntry {
        number,
        name,
        status: GvisorStatus::Full,
        errno: None,
        event: false,
        capability: None,
        issues: Vec::new(),
        first: None,
        last: None,
    };
    match ctor {
        "Supported" => arity(2)?,
        "SupportedPoint" => arity(3)?,
        "PartiallySupported" | "PartiallySupportedPoint" => {
            arity(if ctor == "PartiallySupported" { 4 } else { 5 })?;
            e.status = GvisorStatus::Partial;
            e.issues = urls(args[args.len() - 1])?;
        }
        "Error" | "ErrorWithEvent" => {
            arity(4)?;
            e.status = GvisorStatus::Unimplemented;
            e.errno = Some(errno(args[1])?);
            e.event = ctor == "ErrorWithEvent";
            e.issues = urls(args[3])?;
        }
        "CapError" => {
            arity(4)?;
            e.status = GvisorStatus::NeedsCapability;
            e.errno = Some("EPERM".to_owned());
            e.event = true;
            let capability =
                selector(args[1]).context("second argument of `CapError` must be `linux.CAP_*`")?;
            if !capability.starts_with("CAP_") {
                bail!("`{capability}` is not a capability");
            }
            e.capability = Some(capability);
            e.issues = urls(args[3])?;
        }
        other => bail!("unknown constructor `{other}`: teach the importer what it means"),
    }
    Ok(e)
}

/// What the `Missing` function does: which errno it returns and whether it emits an event.
fn parse_missing(body: &[Spanned]) -> anyhow::Result<GvisorFallback> {
    let event = body
        .iter()
        .any(|t| matches!(&t.token, Token::Ident(x) if x == "EmitUnimplementedEvent"));
    let errnos: Vec<String> = body
        .windows(3)
        .filter_map(|w| match (&w[0].token, &w[1].token, &w[2].token) {
            (Token::Ident(pkg), Token::Punct('.'), Token::Ident(e)) if pkg == "linuxerr" => {
                Some(e.clone())
            }
            _ => None,
        })
        .collect();
    match errnos.as_slice() {
        [errno] => Ok(GvisorFallback {
            errno: errno.clone(),
            event,
        }),
        [] => bail!("`Missing` returns no `linuxerr.E*`"),
        many => bail!("`Missing` may return several errnos {many:?}: teach the importer"),
    }
}

fn errno(arg: &[Spanned]) -> anyhow::Result<String> {
    let name = selector(arg).context("errno argument must be `linuxerr.E*`")?;
    if !name.starts_with('E') {
        bail!("`{name}` is not an errno");
    }
    Ok(name)
}

/// `nil` or `[]string{"a", "b"}`.
fn urls(arg: &[Spanned]) -> anyhow::Result<Vec<String>> {
    match arg {
        [Spanned {
            token: Token::Ident(nil),
            ..
        }] if nil == "nil" => Ok(Vec::new()),
        [Spanned {
            token: Token::Punct('['),
            ..
        }, Spanned {
            token: Token::Punct(']'),
            ..
        }, Spanned {
            token: Token::Ident(ty),
            ..
        }, Spanned {
            token: Token::Punct('{'),
            ..
        }, items @ .., Spanned {
            token: Token::Punct('}'),
            ..
        }] if ty == "string" => split_args(items).into_iter().map(string).collect(),
        _ => bail!("expected `nil` or `[]string{{...}}` for the issue links"),
    }
}

fn parse_int(s: &str) -> anyhow::Result<u32> {
    let s = s.replace('_', "");
    Ok(
        match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
            Some(hex) => u32::from_str_radix(hex, 16)?,
            None => s.parse()?,
        },
    )
}
