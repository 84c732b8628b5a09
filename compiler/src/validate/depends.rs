//! Parser for DAG `depends` expressions (ARGO-SEMANTICS.md §4.1):
//! task names (which may contain `-`), optionally followed by a result such as
//! `.Succeeded`, combined with `&&`, `||`, `!` and parentheses. Nothing else.

use std::fmt;

/// Results a dependency can be tested for.
pub(crate) const RESULTS: [&str; 8] = [
    "Succeeded",
    "Failed",
    "Errored",
    "Skipped",
    "Omitted",
    "Daemoned",
    "AnySucceeded",
    "AllFailed",
];

/// One task named in an expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Operand<'a> {
    /// The task name.
    pub name: &'a str,
    /// The result tested (`.Failed`), if any.
    pub result: Option<&'a str>,
}

impl Operand<'_> {
    /// Whether the result needs a looped task (`.AnySucceeded`, `.AllFailed`).
    pub(crate) fn needs_items(&self) -> bool {
        matches!(self.result, Some("AnySucceeded" | "AllFailed"))
    }
}

/// Why a `depends` expression does not parse; `at` is a 1-based character column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (at column {at})")]
pub(crate) struct ParseError {
    pub at: usize,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok<'a> {
    Name(&'a str),
    Dot,
    And,
    Or,
    Not,
    Open,
    Close,
}

impl fmt::Display for Tok<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Name(n) => write!(f, "`{n}`"),
            Tok::Dot => f.write_str("`.`"),
            Tok::And => f.write_str("`&&`"),
            Tok::Or => f.write_str("`||`"),
            Tok::Not => f.write_str("`!`"),
            Tok::Open => f.write_str("`(`"),
            Tok::Close => f.write_str("`)`"),
        }
    }
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// 1-based character column of byte offset `at`.
fn column(src: &str, at: usize) -> usize {
    src.get(..at).map_or(at, |s| s.chars().count()) + 1
}

/// Splits the expression into tokens with their byte offsets.
fn lex(src: &str) -> Result<Vec<(Tok<'_>, usize)>, ParseError> {
    let bytes = src.as_bytes();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let col = i;
        let b = bytes[i];
        match b {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'(' => toks.push((Tok::Open, col)),
            b')' => toks.push((Tok::Close, col)),
            b'.' => toks.push((Tok::Dot, col)),
            b'!' => toks.push((Tok::Not, col)),
            b'&' | b'|' => {
                if bytes.get(i + 1) != Some(&b) {
                    return Err(ParseError {
                        at: column(src, col),
                        message: format!("expected `{0}{0}`", b as char),
                    });
                }
                toks.push((if b == b'&' { Tok::And } else { Tok::Or }, col));
                i += 2;
                continue;
            }
            _ if is_name_byte(b) => {
                let start = i;
                while i < bytes.len() && is_name_byte(bytes[i]) {
                    i += 1;
                }
                toks.push((Tok::Name(&src[start..i]), col));
                continue;
            }
            _ => {
                let ch = src[i..].chars().next().unwrap_or('?');
                return Err(ParseError {
                    at: column(src, col),
                    message: format!("unexpected character `{ch}`"),
                });
            }
        }
        i += 1;
    }
    Ok(toks)
}

struct Parser<'a> {
    src: &'a str,
    toks: Vec<(Tok<'a>, usize)>,
    pos: usize,
    operands: Vec<Operand<'a>>,
    depth: usize,
}

/// Nesting beyond this is refused rather than recursed into.
const MAX_NESTING: usize = 100;

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<Tok<'a>> {
        self.toks.get(self.pos).map(|t| t.0)
    }

    fn col(&self) -> usize {
        column(
            self.src,
            self.toks.get(self.pos).map_or(self.src.len(), |t| t.1),
        )
    }

    fn err<T>(&self, message: String) -> Result<T, ParseError> {
        Err(ParseError {
            at: self.col(),
            message,
        })
    }

    fn found(&self) -> String {
        match self.peek() {
            Some(t) => t.to_string(),
            None => "end of expression".into(),
        }
    }

    fn or(&mut self) -> Result<(), ParseError> {
        self.and()?;
        while self.peek() == Some(Tok::Or) {
            self.pos += 1;
            self.and()?;
        }
        Ok(())
    }

    fn and(&mut self) -> Result<(), ParseError> {
        self.unary()?;
        while self.peek() == Some(Tok::And) {
            self.pos += 1;
            self.unary()?;
        }
        Ok(())
    }

    fn unary(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return self.err("expression is nested too deeply".into());
        }
        let r = match self.peek() {
            Some(Tok::Not) => {
                self.pos += 1;
                self.unary()
            }
            Some(Tok::Open) => {
                self.pos += 1;
                self.or()?;
                if self.peek() != Some(Tok::Close) {
                    return self.err(format!("expected `)`, found {}", self.found()));
                }
                self.pos += 1;
                Ok(())
            }
            Some(Tok::Name(name)) => {
                self.pos += 1;
                let mut result = None;
                if self.peek() == Some(Tok::Dot) {
                    self.pos += 1;
                    match self.peek() {
                        Some(Tok::Name(r)) if RESULTS.contains(&r) => {
                            result = Some(r);
                            self.pos += 1;
                        }
                        Some(Tok::Name(r)) => {
                            return self.err(format!(
                                "unknown task result `.{r}`; expected one of .{}",
                                RESULTS.join(", .")
                            ));
                        }
                        _ => {
                            return self.err(format!(
                                "expected a task result after `.`, found {}",
                                self.found()
                            ));
                        }
                    }
                }
                self.operands.push(Operand { name, result });
                Ok(())
            }
            _ => self.err(format!("expected a task name, found {}", self.found())),
        };
        self.depth -= 1;
        r
    }
}

/// Parses a `depends` expression, returning the tasks it names in order.
pub(crate) fn parse(src: &str) -> Result<Vec<Operand<'_>>, ParseError> {
    let toks = lex(src)?;
    let mut p = Parser {
        src,
        toks,
        pos: 0,
        operands: Vec::new(),
        depth: 0,
    };
    if p.toks.is_empty() {
        return p.err("empty expression".into());
    }
    p.or()?;
    if p.pos < p.toks.len() {
        return p.err(format!(
            "expected `&&`, `||` or end of expression, found {}",
            p.found()
        ));
    }
    Ok(p.operands)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(src: &str) -> Vec<(&str, Option<&str>)> {
        match parse(src) {
            Ok(ops) => ops.into_iter().map(|o| (o.name, o.result)).collect(),
            Err(e) => panic!("{src}: {e}"),
        }
    }

    #[test]
    fn parses_the_documented_forms() {
        assert_eq!(names("A"), vec![("A", None)]);
        assert_eq!(
            names("A && (C.Succeeded || C.Failed)"),
            vec![("A", None), ("C", Some("Succeeded")), ("C", Some("Failed"))]
        );
        assert_eq!(
            names("should-execute-2.Succeeded || should-not-execute"),
            vec![
                ("should-execute-2", Some("Succeeded")),
                ("should-not-execute", None)
            ]
        );
        assert_eq!(
            names("!a-b.Errored&&c"),
            vec![("a-b", Some("Errored")), ("c", None)]
        );
        assert_eq!(names("x.AnySucceeded || y.AllFailed").len(), 2);
    }

    #[test]
    fn rejects_bad_syntax() {
        for (src, frag) in [
            ("", "empty"),
            ("A &&", "expected a task name"),
            ("A & B", "expected `&&`"),
            ("A B", "expected `&&`, `||`"),
            ("(A || B", "expected `)`"),
            ("A.Done", "unknown task result `.Done`"),
            ("A.", "expected a task result"),
            ("A == B", "unexpected character `=`"),
            ("A)", "found `)`"),
        ] {
            match parse(src) {
                Ok(_) => panic!("{src:?} parsed"),
                Err(e) => assert!(e.to_string().contains(frag), "{src:?}: {e}"),
            }
        }
        let deep = format!("{}A{}", "(".repeat(500), ")".repeat(500));
        assert!(parse(&deep).is_err());
    }

    #[test]
    fn reports_columns() {
        let e = parse("a && b.Nope").err();
        assert_eq!(e.map(|e| e.at), Some(8));
    }
}
