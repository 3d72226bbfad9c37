//! The files and directories gVisor's /proc registers, read from the Sentry's procfs
//! sources: the system-wide entries (`tasks.go`, with /proc/sys from `tasks_sys.go`)
//! and the per-process ones (`task.go`, with the network files of `task_net.go`).
//!
//! Those sources build each directory as a Go map literal (`map[string]kernfs.Inode{
//! "name": constructor, … }`), sometimes held in a variable and completed by
//! `contents["name"] = …` statements, and a directory's entry may be another such
//! literal, a variable holding one, or a call of a function of the same sources that
//! builds one. Entries added inside an `if` or a loop depend on the sandbox's
//! configuration (an IPv6 stack, cgroups, thread group leaders) and are kept as
//! `conditional`. Entries with computed names (`--override-procs` stubs) and
//! directories filled at run time (fd, task) have no listed children.
//!
//! Per-process paths are written with the pid folded to `#`, as the tracer keeps them:
//! `/proc/#/status`.

use std::collections::{BTreeMap, HashSet};

use anyhow::{anyhow, bail, Context as _};

use super::go::{function_body, matching, split_args};
use super::lexer::{tokenize, Spanned, Token};

/// The procfs sources read.
pub const PATHS: [&str; 4] = [
    "pkg/sentry/fsimpl/proc/tasks.go",
    "pkg/sentry/fsimpl/proc/tasks_sys.go",
    "pkg/sentry/fsimpl/proc/task.go",
    "pkg/sentry/fsimpl/proc/task_net.go",
];

/// Where each tree starts: its path, and the function building its directory.
const ROOTS: [(&str, &str); 2] = [("/proc", "newTasksInode"), ("/proc/#", "newTaskInode")];

/// The variable a function's directory is built in, when it uses one.
const CONTENTS: &str = "contents";

/// How deep directory-building functions may call each other.
const MAX_DEPTH: usize = 8;

/// One registered path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Registered only under some configuration of the sandbox.
    pub conditional: bool,
}

/// Every path the sources register, with `sources` holding the text of each of
/// [`PATHS`] (in that order).
pub fn parse(sources: &[String]) -> anyhow::Result<BTreeMap<String, Entry>> {
    let files: Vec<Vec<Spanned>> = PATHS
        .iter()
        .zip(sources)
        .map(|(path, text)| tokenize(text).with_context(|| format!("in {path}")))
        .collect::<anyhow::Result<_>>()?;
    let reader = Reader { files: &files };
    let mut out = BTreeMap::new();
    for (root, function) in ROOTS {
        let children = reader
            .function_dir(function, 0)?
            .ok_or_else(|| anyhow!("`{function}` builds no directory: teach the importer"))?;
        reader.collect(root, children, false, 0, &mut out)?;
    }
    Ok(out)
}

struct Reader<'a> {
    files: &'a [Vec<Spanned>],
}

/// A directory's entries as found: name, the tokens of its value, and whether it was
/// added conditionally; with the function body the value is read in.
struct Dir<'t> {
    body: &'t [Spanned],
    entries: Vec<(String, &'t [Spanned], bool)>,
}

impl<'t> Reader<'t> {
    /// The body of `function` in any of the sources.
    fn body(&self, function: &str) -> Option<&'t [Spanned]> {
        self.files
            .iter()
            .find_map(|tokens| function_body(tokens, function).ok())
    }

    /// The directory `function` builds: its `contents` variable when it has one, else its
    /// first map literal. None when it builds none.
    fn function_dir(&self, function: &str, depth: usize) -> anyhow::Result<Option<Dir<'t>>> {
        if depth > MAX_DEPTH {
            bail!("`{function}`: directory functions nest more than {MAX_DEPTH} deep");
        }
        let Some(body) = self.body(function) else {
            return Ok(None);
        };
        if local_maps(body).contains(CONTENTS) {
            return variable_dir(body, CONTENTS).map(Some);
        }
        match map_literals(body).first() {
            Some(&open) => literal_dir(body, open).map(Some),
            None => Ok(None),
        }
    }

    /// Adds `dir`'s entries under `path` to `out`, and their children recursively.
    fn collect(
        &self,
        path: &str,
        dir: Dir<'t>,
        conditional: bool,
        depth: usize,
        out: &mut BTreeMap<String, Entry>,
    ) -> anyhow::Result<()> {
        for (name, value, added_conditionally) in dir.entries {
            let child = format!("{path}/{name}");
            let conditional = conditional || added_conditionally;
            out.entry(child.clone())
                .and_modify(|e: &mut Entry| e.conditional &= conditional)
                .or_insert(Entry { conditional });
            if let Some(children) = self.value_dir(dir.body, value, depth)? {
                self.collect(&child, children, conditional, depth + 1, out)?;
            }
        }
        Ok(())
    }

    /// The directory an entry's value builds, if it builds one: a map literal in it, a
    /// variable of the enclosing function holding one, or a call of a function that
    /// builds one.
    fn value_dir(
        &self,
        body: &'t [Spanned],
        value: &'t [Spanned],
        depth: usize,
    ) -> anyhow::Result<Option<Dir<'t>>> {
        if let Some(&open) = map_literals(value).first() {
            return literal_dir(value, open).map(|mut dir| {
                dir.body = body;
                Some(dir)
            });
        }
        let locals = local_maps(body);
        for token in value {
            if let Token::Ident(name) = &token.token {
                if locals.contains(name.as_str()) {
                    return variable_dir(body, name).map(Some);
                }
            }
        }
        // `fs.newX(...)` or `newX(...)`: the first call of the value.
        let called = value
            .windows(2)
            .find_map(|w| match (&w[0].token, &w[1].token) {
                (Token::Ident(name), Token::Punct('(')) => Some(name.as_str()),
                _ => None,
            });
        match called {
            Some(function) => self.function_dir(function, depth + 1),
            None => Ok(None),
        }
    }
}

/// Positions of `{` opening each `map[string]kernfs.Inode{...}` literal in `tokens`.
fn map_literals(tokens: &[Spanned]) -> Vec<usize> {
    let shape = [
        Token::Ident("map".into()),
        Token::Punct('['),
        Token::Ident("string".into()),
        Token::Punct(']'),
        Token::Ident("kernfs".into()),
        Token::Punct('.'),
        Token::Ident("Inode".into()),
        Token::Punct('{'),
    ];
    tokens
        .windows(shape.len())
        .enumerate()
        .filter(|(_, w)| w.iter().map(|t| &t.token).eq(shape.iter()))
        .map(|(k, _)| k + shape.len() - 1)
        .collect()
}

/// Names of the variables `body` assigns a directory map to (`x := map[…]{…}`, `x =
/// map[…]{…}`, `x := make(map[…])`, `var x map[…]`).
fn local_maps(body: &[Spanned]) -> HashSet<&str> {
    let mut names = HashSet::new();
    for (k, t) in body.iter().enumerate() {
        let Token::Ident(name) = &t.token else {
            continue;
        };
        let rest = &body[k + 1..];
        let assigned = match rest {
            [Spanned {
                token: Token::Punct(':'),
                ..
            }, Spanned {
                token: Token::Punct('='),
                ..
            }, value @ ..]
            | [Spanned {
                token: Token::Punct('='),
                ..
            }, value @ ..] => Some(value),
            _ => None,
        };
        let declared = k > 0 && body[k - 1].token == Token::Ident("var".into());
        let value = if declared { Some(rest) } else { assigned };
        let Some(value) = value else {
            continue;
        };
        let head: Vec<&Token> = value.iter().take(8).map(|t| &t.token).collect();
        let is_map = |from: usize| {
            head.get(from) == Some(&&Token::Ident("map".into()))
                && head.get(from + 4) == Some(&&Token::Ident("kernfs".into()))
        };
        if is_map(0) || (head.first() == Some(&&Token::Ident("make".into())) && is_map(2)) {
            names.insert(name.as_str());
        }
    }
    names
}

/// The entries of the map literal whose `{` is at `open` in `tokens`.
fn literal_dir(tokens: &[Spanned], open: usize) -> anyhow::Result<Dir<'_>> {
    let close = matching(tokens, open)?;
    let mut entries = Vec::new();
    for field in split_args(&tokens[open + 1..close]) {
        match field {
            [] => {}
            [Spanned {
                token: Token::Str(name),
                ..
            }, Spanned {
                token: Token::Punct(':'),
                ..
            }, value @ ..] => {
                entries.push((name.clone(), value, false));
            }
            [first, ..] => bail!(
                "line {}: a directory entry whose name is not a string literal: teach the importer",
                first.line
            ),
        }
    }
    Ok(Dir {
        body: tokens,
        entries,
    })
}

/// The entries of variable `name` of `body`: its map literal (when assigned one), and
/// each `name["entry"] = value` statement, conditional when inside a block nested deeper
/// than the literal's assignment.
fn variable_dir<'t>(body: &'t [Spanned], name: &str) -> anyhow::Result<Dir<'t>> {
    let is_name = |k: usize| matches!(&body[k].token, Token::Ident(n) if n == name);
    let mut entries = Vec::new();
    let mut depth = 0usize;
    // The block depth of the assignment of the variable's literal.
    let mut base = 0usize;
    let mut k = 0;
    while k < body.len() {
        match body[k].token {
            Token::Punct('{') => depth += 1,
            Token::Punct('}') => depth = depth.saturating_sub(1),
            _ => {}
        }
        if !is_name(k) {
            k += 1;
            continue;
        }
        let rest = &body[k + 1..];
        // `name := map[…]{…}` or `name = map[…]{…}`: the literal's entries.
        let literal = match rest {
            [Spanned {
                token: Token::Punct(':'),
                ..
            }, Spanned {
                token: Token::Punct('='),
                ..
            }, ..] => Some(k + 3),
            [Spanned {
                token: Token::Punct('='),
                ..
            }, Spanned {
                token: Token::Ident(m),
                ..
            }, ..]
                if m == "map" =>
            {
                Some(k + 2)
            }
            _ => None,
        };
        // Only a literal right after the assignment: `x := make(…)` has none.
        let open = literal.and_then(|start| {
            let head = body.get(start..(start + 8).min(body.len()))?;
            map_literals(head).first().map(|&o| o + start)
        });
        if let Some(open) = open {
            let literal_end = matching(body, open)?;
            entries.extend(literal_dir(body, open)?.entries);
            // Statements in the same block as the literal are as certain as it is.
            base = depth;
            k = literal_end + 1;
            continue;
        }
        // `name["entry"] = value`, the value running to the end of its statement.
        if let [Spanned {
            token: Token::Punct('['),
            ..
        }, Spanned {
            token: Token::Str(entry),
            ..
        }, Spanned {
            token: Token::Punct(']'),
            ..
        }, Spanned {
            token: Token::Punct('='),
            ..
        }, ..] = rest
        {
            let start = k + 5;
            let end = statement_end(body, start);
            entries.push((entry.clone(), &body[start..end], depth > base));
            k = end;
            continue;
        }
        k += 1;
    }
    Ok(Dir { body, entries })
}

/// Where the statement starting at `start` ends: at the first token on a later line
/// outside any bracket (Go ends statements at such line breaks).
fn statement_end(tokens: &[Spanned], start: usize) -> usize {
    let mut depth = 0usize;
    for k in start..tokens.len() {
        match tokens[k].token {
            Token::Punct('(' | '[' | '{') => depth += 1,
            Token::Punct(')' | ']' | '}') => {
                if depth == 0 {
                    return k;
                }
                depth -= 1;
            }
            _ => {}
        }
        if depth == 0
            && tokens
                .get(k + 1)
                .is_some_and(|next| next.line > tokens[k].line)
        {
            return k + 1;
        }
    }
    tokens.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(sources: [&str; 4]) -> Vec<(String, bool)> {
        let sources: Vec<String> = sources.iter().map(|s| (*s).to_owned()).collect();
        parse(&sources)
            .unwrap()
            .into_iter()
            .map(|(path, entry)| (path, entry.conditional))
            .collect()
    }

    #[test]
    fn literals_variables_calls_and_conditions() {
        let tasks = r#"
func (fs *filesystem) newTasksInode(ctx context.Context) *tasksInode {
	contents := map[string]kernfs.Inode{
		"cpuinfo": fs.newInode(ctx, root, 0444, &cpuInfo{}),
		"sys":     fs.newSysDir(ctx, root, k),
	}
	if cgroups {
		contents["cgroups"] = fs.newInode(ctx, root, 0444,
			&cgroupsData{})
	}
	for _, name := range overrides {
		contents[name] = fs.newInode(ctx, root, 0444, newStaticFile(""))
	}
	contents["version"] = fs.newInode(ctx, root, 0444, &versionData{})
	return nil
}
"#;
        let tasks_sys = r#"
func (fs *filesystem) newSysDir(ctx context.Context) kernfs.Inode {
	return fs.newStaticDir(ctx, root, map[string]kernfs.Inode{
		"kernel": fs.newStaticDir(ctx, root, map[string]kernfs.Inode{
			"ostype": fs.newInode(ctx, root, 0444, newStaticFile("Linux")),
		}),
		"net": fs.newSysNetDir(ctx, root, k),
	})
}
func (fs *filesystem) newSysNetDir(ctx context.Context) kernfs.Inode {
	var contents map[string]kernfs.Inode
	if stack != nil {
		contents = map[string]kernfs.Inode{
			"core": fs.newStaticDir(ctx, root, map[string]kernfs.Inode{}),
		}
	}
	return fs.newStaticDir(ctx, root, contents)
}
"#;
        let task = r#"
func (fs *filesystem) newTaskInode(ctx context.Context) (kernfs.Inode, error) {
	nsEntries := map[string]kernfs.Inode{
		"net": fs.newNamespaceSymlink(ctx, task, fs.NextIno(), linux.CLONE_NEWNET),
	}
	if mounted {
		nsEntries["cgroup"] = fs.newNamespaceSymlink(ctx, task, fs.NextIno(), linux.CLONE_NEWCGROUP)
	}
	contents := map[string]kernfs.Inode{
		"ns":     fs.newTaskOwnedDir(ctx, task, fs.NextIno(), 0511, nsEntries),
		"net":    fs.newTaskNetDir(ctx, task),
		"fd":     fs.newFDDirInode(ctx, task),
	}
	return nil, nil
}
"#;
        let task_net = r#"
func (fs *filesystem) newTaskNetDir(ctx context.Context, task *kernel.Task) kernfs.Inode {
	var contents map[string]kernfs.Inode
	if stack != nil {
		contents = map[string]kernfs.Inode{
			"dev": fs.newInode(ctx, root, 0444, &netDevData{stack: stack}),
		}
		if stack.SupportsIPv6() {
			contents["tcp6"] = fs.newInode(ctx, root, 0444, &netTCP6Data{kernel: k})
		}
	}
	return fs.newTaskOwnedDir(ctx, task, fs.NextIno(), 0555, contents)
}
"#;
        let s = |p: &str, c: bool| (p.to_owned(), c);
        assert_eq!(
            tree([tasks, tasks_sys, task, task_net]),
            vec![
                s("/proc/#/fd", false),
                s("/proc/#/net", false),
                s("/proc/#/net/dev", false),
                s("/proc/#/net/tcp6", true),
                s("/proc/#/ns", false),
                s("/proc/#/ns/cgroup", true),
                s("/proc/#/ns/net", false),
                s("/proc/cgroups", true),
                s("/proc/cpuinfo", false),
                s("/proc/sys", false),
                s("/proc/sys/kernel", false),
                s("/proc/sys/kernel/ostype", false),
                s("/proc/sys/net", false),
                s("/proc/sys/net/core", false),
                s("/proc/version", false),
            ]
        );
    }

    #[test]
    fn a_missing_root_function_is_an_error() {
        let sources: Vec<String> = vec![String::new(); 4];
        assert_eq!(
            parse(&sources).unwrap_err().to_string(),
            "`newTasksInode` builds no directory: teach the importer"
        );
    }
}
