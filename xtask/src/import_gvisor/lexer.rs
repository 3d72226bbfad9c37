//! A lexer for the subset of Go that gVisor's syscall tables are written in: identifiers,
//! integers, interpreted and raw strings, punctuation; comments are skipped. Each token
//! keeps its line for error messages.

use anyhow::bail;

/// A Go token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Token {
    /// An identifier or keyword.
    Ident(String),
    /// An integer literal (decimal or hex), as written.
    Int(String),
    /// A string literal, unquoted.
    Str(String),
    /// Any other single character.
    Punct(char),
}

/// A token and the line it starts on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spanned {
    /// The token.
    pub token: Token,
    /// 1-based line.
    pub line: usize,
}

/// Splits Go source into tokens.
pub fn tokenize(src: &str) -> anyhow::Result<Vec<Spanned>> {
    let chars: Vec<char> = src.chars().collect();
    let mut tokens = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start_line = line;
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c == '/' && chars.get(i + 1) == Some(&'/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && chars.get(i + 1) == Some(&'*') {
            i += 2;
            loop {
                match chars.get(i) {
                    None => bail!("line {start_line}: unterminated comment"),
                    Some('*') if chars.get(i + 1) == Some(&'/') => break,
                    Some('\n') => line += 1,
                    Some(_) => {}
                }
                i += 1;
            }
            i += 2;
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let ident = chars[start..i].iter().collect();
            tokens.push(Spanned {
                token: Token::Ident(ident),
                line: start_line,
            });
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let int = chars[start..i].iter().collect();
            tokens.push(Spanned {
                token: Token::Int(int),
                line: start_line,
            });
        } else if c == '"' {
            let mut value = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None | Some('\n') => bail!("line {start_line}: unterminated string"),
                    Some('"') => break,
                    Some('\\') => {
                        let escaped = match chars.get(i + 1) {
                            Some('n') => '\n',
                            Some('t') => '\t',
                            Some(&e @ ('"' | '\\' | '\'')) => e,
                            other => bail!(
                                "line {start_line}: unsupported escape `\\{}`",
                                other.map_or(String::new(), |c| c.to_string())
                            ),
                        };
                        value.push(escaped);
                        i += 1;
                    }
                    Some(&other) => value.push(other),
                }
                i += 1;
            }
            i += 1;
            tokens.push(Spanned {
                token: Token::Str(value),
                line: start_line,
            });
        } else if c == '`' {
            let start = i + 1;
            i += 1;
            while i < chars.len() && chars[i] != '`' {
                if chars[i] == '\n' {
                    line += 1;
                }
                i += 1;
            }
            if i == chars.len() {
                bail!("line {start_line}: unterminated raw string");
            }
            let value = chars[start..i].iter().collect();
            i += 1;
            tokens.push(Spanned {
                token: Token::Str(value),
                line: start_line,
            });
        } else {
            tokens.push(Spanned {
                token: Token::Punct(c),
                line: start_line,
            });
            i += 1;
        }
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_with_lines() {
        let tokens = tokenize("a.B(\"x\\\"y\", 0x10) // c\n/* d\n e */ `raw`").unwrap();
        let kinds: Vec<(Token, usize)> = tokens.into_iter().map(|t| (t.token, t.line)).collect();
        assert_eq!(
            kinds,
            vec![
                (Token::Ident("a".into()), 1),
                (Token::Punct('.'), 1),
                (Token::Ident("B".into()), 1),
                (Token::Punct('('), 1),
                (Token::Str("x\"y".into()), 1),
                (Token::Punct(','), 1),
                (Token::Int("0x10".into()), 1),
                (Token::Punct(')'), 1),
                (Token::Str("raw".into()), 3),
            ]
        );
    }

    #[test]
    fn unterminated_string_names_its_line() {
        let err = tokenize("\n\"abc\n").unwrap_err();
        assert_eq!(err.to_string(), "line 2: unterminated string");
    }
}
