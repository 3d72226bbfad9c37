//! Helpers over Go tokens shared by the importers: matching brackets, splitting
//! arguments, reading literals and selectors, and finding a function's body.

use anyhow::{anyhow, bail};

use super::lexer::{Spanned, Token};

/// Index of the bracket closing the one at `open`.
pub fn matching(tokens: &[Spanned], open: usize) -> anyhow::Result<usize> {
    let mut depth = 0usize;
    for (k, t) in tokens.iter().enumerate().skip(open) {
        match t.token {
            Token::Punct('{' | '(' | '[') => depth += 1,
            Token::Punct('}' | ')' | ']') => {
                depth -= 1;
                if depth == 0 {
                    return Ok(k);
                }
            }
            _ => {}
        }
    }
    bail!("line {}: bracket never closed", tokens[open].line)
}

pub fn split_args(tokens: &[Spanned]) -> Vec<&[Spanned]> {
    let mut args = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (k, t) in tokens.iter().enumerate() {
        match t.token {
            Token::Punct('{' | '(' | '[') => depth += 1,
            Token::Punct('}' | ')' | ']') => depth = depth.saturating_sub(1),
            Token::Punct(',') if depth == 0 => {
                args.push(&tokens[start..k]);
                start = k + 1;
            }
            _ => {}
        }
    }
    if start < tokens.len() {
        args.push(&tokens[start..]);
    }
    args
}

pub fn string(arg: &[Spanned]) -> anyhow::Result<String> {
    match arg {
        [Spanned {
            token: Token::Str(s),
            ..
        }] => Ok(s.clone()),
        _ => bail!("expected a string literal"),
    }
}

/// `pkg.NAME` → `NAME`.
pub fn selector(arg: &[Spanned]) -> anyhow::Result<String> {
    match arg {
        [Spanned {
            token: Token::Ident(_),
            ..
        }, Spanned {
            token: Token::Punct('.'),
            ..
        }, Spanned {
            token: Token::Ident(name),
            ..
        }] => Ok(name.clone()),
        _ => bail!("expected `package.NAME`"),
    }
}

/// The body of function `name` (a plain function or a method), braces excluded.
pub fn function_body<'t>(tokens: &'t [Spanned], name: &str) -> anyhow::Result<&'t [Spanned]> {
    let ident = |k: usize, s: &str| matches!(&tokens[k].token, Token::Ident(x) if x == s);
    for k in 0..tokens.len() {
        if !ident(k, "func") {
            continue;
        }
        let mut i = k + 1;
        // A method's receiver: `(fs *filesystem)`.
        if tokens.get(i).is_some_and(|t| t.token == Token::Punct('(')) {
            i = matching(tokens, i)? + 1;
        }
        if i >= tokens.len() || !ident(i, name) {
            continue;
        }
        // The body is the first `{` after the signature that is not inside its
        // parentheses (parameter and result lists may hold `map[...]T{}` types only as
        // types, never literals).
        let mut depth = 0usize;
        for j in i + 1..tokens.len() {
            match tokens[j].token {
                Token::Punct('(' | '[') => depth += 1,
                Token::Punct(')' | ']') => depth = depth.saturating_sub(1),
                Token::Punct('{') if depth == 0 => {
                    let close = matching(tokens, j)?;
                    return Ok(&tokens[j + 1..close]);
                }
                _ => {}
            }
        }
        bail!("line {}: function `{name}` has no body", tokens[k].line);
    }
    Err(anyhow!("no function `{name}`"))
}
