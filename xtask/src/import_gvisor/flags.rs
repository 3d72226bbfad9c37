//! The flags runsc registers (`runsc/config/flags.go`): every `flagSet.<Kind>(name,
//! default, usage)` call, its name (a string literal or a constant of the same file),
//! its kind, and its default when that is a literal. Usage strings are not kept.

use std::collections::{BTreeMap, HashMap};

use anyhow::{bail, Context as _};

use super::go::{matching, split_args};
use super::lexer::{tokenize, Spanned, Token};

/// Where runsc registers its flags.
pub const PATH: &str = "runsc/config/flags.go";

/// One registered flag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flag {
    /// How it is declared: `bool`, `string`, `int`, `uint`, `duration`, `var` (a value
    /// type of runsc's own), …
    pub kind: String,
    /// The default when the source gives it as a literal (`false`, `-1`, `"ptrace"`).
    pub default: Option<String>,
}

/// The flags `source` registers, by name.
pub fn parse(source: &str) -> anyhow::Result<BTreeMap<String, Flag>> {
    let tokens = tokenize(source).with_context(|| format!("in {PATH}"))?;
    let constants = string_constants(&tokens);
    let mut flags = BTreeMap::new();
    for k in 0..tokens.len().saturating_sub(4) {
        let (Token::Ident(set), Token::Punct('.'), Token::Ident(method), Token::Punct('(')) = (
            &tokens[k].token,
            &tokens[k + 1].token,
            &tokens[k + 2].token,
            &tokens[k + 3].token,
        ) else {
            continue;
        };
        if set != "flagSet" || !is_registration(method) {
            continue;
        }
        let line = tokens[k].line;
        let close = matching(&tokens, k + 3)?;
        let args = split_args(&tokens[k + 4..close]);
        // `Var(value, name, usage)`; the others `Kind(name, default, usage)`.
        let (name_arg, default_arg) = match (method.as_str(), args.as_slice()) {
            ("Var", [_, name, _]) => (*name, None),
            (_, [name, default, _]) if method != "Var" => (*name, Some(*default)),
            _ => bail!(
                "line {line}: `flagSet.{method}` with {} arguments: teach the importer",
                args.len()
            ),
        };
        let name = match name_arg {
            [Spanned {
                token: Token::Str(name),
                ..
            }] => name.clone(),
            [Spanned {
                token: Token::Ident(constant),
                ..
            }] => constants.get(constant.as_str()).cloned().with_context(|| {
                format!("line {line}: flag name `{constant}` is not a string constant of {PATH}")
            })?,
            _ => bail!(
                "line {line}: flag name of `flagSet.{method}` is neither a string nor a constant"
            ),
        };
        let flag = Flag {
            kind: method.to_ascii_lowercase(),
            default: default_arg.and_then(literal),
        };
        if let Some(previous) = flags.insert(name.clone(), flag) {
            bail!(
                "line {line}: flag `{name}` registered twice (first as {})",
                previous.kind
            );
        }
    }
    if flags.is_empty() {
        bail!("no `flagSet.<Kind>(...)` registrations in {PATH}");
    }
    Ok(flags)
}

/// The `flag.FlagSet` methods that register a flag.
fn is_registration(method: &str) -> bool {
    matches!(
        method,
        "Bool" | "String" | "Int" | "Int64" | "Uint" | "Uint64" | "Float64" | "Duration" | "Var"
    )
}

/// `name = "value"` definitions (constants and variables) anywhere in the file.
fn string_constants(tokens: &[Spanned]) -> HashMap<&str, String> {
    tokens
        .windows(3)
        .filter_map(|w| match (&w[0].token, &w[1].token, &w[2].token) {
            (Token::Ident(name), Token::Punct('='), Token::Str(value)) => {
                Some((name.as_str(), value.clone()))
            }
            _ => None,
        })
        .collect()
}

/// A literal default as text: `true`, `-1`, `1024`, the string's value.
fn literal(arg: &[Spanned]) -> Option<String> {
    match arg {
        [Spanned {
            token: Token::Str(s),
            ..
        }] => Some(s.clone()),
        [Spanned {
            token: Token::Int(n),
            ..
        }] => Some(n.clone()),
        [Spanned {
            token: Token::Punct('-'),
            ..
        }, Spanned {
            token: Token::Int(n),
            ..
        }] => Some(format!("-{n}")),
        [Spanned {
            token: Token::Ident(b),
            ..
        }] if b == "true" || b == "false" => Some(b.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registrations_with_literal_and_constant_names() {
        let src = r#"
const (
	flagHostUDS = "host-uds"
)
func RegisterFlags(flagSet *flag.FlagSet) {
	flagSet.Bool("iouring", false, "TEST ONLY; something.")
	flagSet.Int("panic-signal", -1, "x")
	flagSet.String("platform", "ptrace", `y`)
	flagSet.Var(hostUDSPtr(HostUDSNone), flagHostUDS, "z")
	flagSet.Duration("gvisor-gro", 0, "w")
	if flagSet.Lookup("alsologtostderr") == nil {
		flagSet.Bool("alsologtostderr", false, "v")
	}
}
"#;
        let flags = parse(src).unwrap();
        let shown: Vec<(String, String, Option<String>)> = flags
            .into_iter()
            .map(|(name, f)| (name, f.kind, f.default))
            .collect();
        let s = |x: &str| x.to_owned();
        assert_eq!(
            shown,
            vec![
                (s("alsologtostderr"), s("bool"), Some(s("false"))),
                (s("gvisor-gro"), s("duration"), Some(s("0"))),
                (s("host-uds"), s("var"), None),
                (s("iouring"), s("bool"), Some(s("false"))),
                (s("panic-signal"), s("int"), Some(s("-1"))),
                (s("platform"), s("string"), Some(s("ptrace"))),
            ]
        );
    }

    #[test]
    fn unknown_names_are_errors() {
        let err = parse("func F() {\n flagSet.Bool(flagMissing, false, \"\")\n}\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 2: flag name `flagMissing` is not a string constant of runsc/config/flags.go"
        );
    }
}
