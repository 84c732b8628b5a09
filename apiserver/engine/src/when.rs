//! Evaluation of a task's `when` condition with Argo's govaluate rules (ARGO-SEMANTICS §5.1).
//!
//! Argo parses the already-substituted text as a govaluate expression and turns every bare
//! word (a govaluate "variable") into a string literal, so `Succeeded == Succeeded` is true.
//! This module reproduces that: a small tokenizer, a precedence-climbing parser and an
//! evaluator over numbers, strings and booleans. Not supported (rejected with an error, as an
//! unknown token): `in`, `??`, the ternary and bitwise operators.

use regex::Regex;
use std::fmt;

/// Why a `when` expression could not be evaluated; the message is the one Argo puts on the
/// Skipped/Error node: `Invalid 'when' expression '<expr>': <reason>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid 'when' expression '{expr}': {reason}")]
pub struct WhenError {
    /// The substituted expression as given.
    pub expr: String,
    /// What went wrong (parse error, type error, non-boolean result).
    pub reason: String,
}

/// Evaluate a substituted `when` expression. `Ok(false)` means the node is Skipped.
pub fn evaluate_when(expr: &str) -> Result<bool, WhenError> {
    let err = |reason: String| WhenError {
        expr: expr.to_owned(),
        reason,
    };
    let tokens = tokenize(expr).map_err(err)?;
    let mut parser = Parser { tokens, pos: 0 };
    let ast = parser.parse_expr(0).map_err(err)?;
    if let Some(tok) = parser.tokens.get(parser.pos) {
        return Err(err(format!("unexpected token '{tok}'")));
    }
    match eval(&ast).map_err(err)? {
        Value::Bool(b) => Ok(b),
        other => Err(err(format!("expected boolean evaluation, got {other}"))),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Value {
    Num(f64),
    Str(String),
    Bool(bool),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Num(n) => write!(f, "{n}"),
            Value::Str(s) => f.write_str(s),
            Value::Bool(b) => write!(f, "{b}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Lit(Value),
    Op(&'static str),
    LParen,
    RParen,
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Lit(v) => write!(f, "{v}"),
            Token::Op(op) => f.write_str(op),
            Token::LParen => f.write_str("("),
            Token::RParen => f.write_str(")"),
        }
    }
}

const OPERATORS: [&str; 17] = [
    "==", "!=", ">=", "<=", "=~", "!~", "&&", "||", ">", "<", "!", "+", "-", "*", "/", "%", "=",
];

fn tokenize(s: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        if c.is_whitespace() {
            i += 1;
        } else if c == '(' {
            out.push(Token::LParen);
            i += 1;
        } else if c == ')' {
            out.push(Token::RParen);
            i += 1;
        } else if c == '\'' || c == '"' {
            let start = i + 1;
            let end = (start..chars.len())
                .find(|&j| chars.get(j) == Some(&c))
                .ok_or_else(|| "unclosed string literal".to_owned())?;
            out.push(Token::Lit(Value::Str(chars[start..end].iter().collect())));
            i = end + 1;
        } else if c == '[' {
            // govaluate's bracketed variable `[name with spaces]`: a bare word, so a string.
            let start = i + 1;
            let end = (start..chars.len())
                .find(|&j| chars.get(j) == Some(&']'))
                .ok_or_else(|| "unclosed '['".to_owned())?;
            out.push(Token::Lit(Value::Str(chars[start..end].iter().collect())));
            i = end + 1;
        } else if c.is_ascii_digit() {
            let start = i;
            while chars
                .get(i)
                .is_some_and(|ch| ch.is_ascii_digit() || *ch == '.')
            {
                i += 1;
            }
            let text: String = chars[start..i].iter().collect();
            let n: f64 = text
                .parse()
                .map_err(|_| format!("invalid number '{text}'"))?;
            out.push(Token::Lit(Value::Num(n)));
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while chars
                .get(i)
                .is_some_and(|ch| ch.is_alphanumeric() || *ch == '_' || *ch == '.')
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            out.push(Token::Lit(match word.as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                "in" => return Err("operator 'in' is not supported".to_owned()),
                _ => Value::Str(word),
            }));
        } else {
            let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
            let op = OPERATORS
                .iter()
                .find(|op| rest.starts_with(**op))
                .ok_or_else(|| format!("Invalid token: '{c}'"))?;
            if *op == "=" {
                return Err("Invalid token: '='".to_owned());
            }
            out.push(Token::Op(op));
            i += op.chars().count();
        }
    }
    Ok(out)
}

#[derive(Debug)]
enum Ast {
    Lit(Value),
    Not(Box<Ast>),
    Neg(Box<Ast>),
    Bin(&'static str, Box<Ast>, Box<Ast>),
}

/// Binding power of a binary operator (govaluate: `||` < `&&` < comparators < `+ -` < `* / %`).
fn precedence(op: &str) -> Option<u8> {
    Some(match op {
        "||" => 1,
        "&&" => 2,
        "==" | "!=" | ">" | ">=" | "<" | "<=" | "=~" | "!~" => 3,
        "+" | "-" => 4,
        "*" | "/" | "%" => 5,
        _ => return None,
    })
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn parse_expr(&mut self, min: u8) -> Result<Ast, String> {
        let mut lhs = self.parse_unary()?;
        while let Some(Token::Op(op)) = self.tokens.get(self.pos) {
            let op = *op;
            let Some(prec) = precedence(op) else {
                return Err(format!("unexpected operator '{op}'"));
            };
            if prec <= min {
                break;
            }
            self.pos += 1;
            let rhs = self.parse_expr(prec)?;
            lhs = Ast::Bin(op, Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn parse_unary(&mut self) -> Result<Ast, String> {
        match self.next() {
            Some(Token::Lit(v)) => Ok(Ast::Lit(v)),
            Some(Token::Op("!")) => Ok(Ast::Not(Box::new(self.parse_unary()?))),
            Some(Token::Op("-")) => Ok(Ast::Neg(Box::new(self.parse_unary()?))),
            Some(Token::LParen) => {
                let inner = self.parse_expr(0)?;
                match self.next() {
                    Some(Token::RParen) => Ok(inner),
                    _ => Err("unbalanced parenthesis".to_owned()),
                }
            }
            Some(tok) => Err(format!("unexpected token '{tok}'")),
            None => Err("unexpected end of expression".to_owned()),
        }
    }
}

fn eval(ast: &Ast) -> Result<Value, String> {
    match ast {
        Ast::Lit(v) => Ok(v.clone()),
        Ast::Not(inner) => match eval(inner)? {
            Value::Bool(b) => Ok(Value::Bool(!b)),
            other => Err(format!(
                "Value '{other}' cannot be used with the modifier '!', it is not a bool"
            )),
        },
        Ast::Neg(inner) => match eval(inner)? {
            Value::Num(n) => Ok(Value::Num(-n)),
            other => Err(format!(
                "Value '{other}' cannot be used with the modifier '-', it is not a number"
            )),
        },
        Ast::Bin(op @ ("&&" | "||"), l, r) => {
            let as_bool = |v: Value| match v {
                Value::Bool(b) => Ok(b),
                other => Err(format!(
                    "Value '{other}' cannot be used with the logical operator '{op}', it is not a bool"
                )),
            };
            let left = as_bool(eval(l)?)?;
            // govaluate short-circuits both operators.
            if (*op == "&&" && !left) || (*op == "||" && left) {
                return Ok(Value::Bool(left));
            }
            Ok(Value::Bool(as_bool(eval(r)?)?))
        }
        Ast::Bin(op, l, r) => binary(op, eval(l)?, eval(r)?),
    }
}

fn binary(op: &str, l: Value, r: Value) -> Result<Value, String> {
    use Value::{Bool, Num, Str};
    Ok(match (op, &l, &r) {
        ("==", ..) => Bool(l == r),
        ("!=", ..) => Bool(l != r),
        (">" | ">=" | "<" | "<=", Num(a), Num(b)) => Bool(compare(op, a.partial_cmp(b))),
        (">" | ">=" | "<" | "<=", Str(a), Str(b)) => Bool(compare(op, Some(a.cmp(b)))),
        (">" | ">=" | "<" | "<=", ..) => {
            let bad = if matches!(l, Num(_)) { &r } else { &l };
            return Err(format!(
                "Value '{bad}' cannot be used with the comparator '{op}', it is not a number"
            ));
        }
        ("=~" | "!~", Str(s), Str(pattern)) => {
            let re = Regex::new(pattern)
                .map_err(|e| format!("Unable to compile regexp pattern '{pattern}': {e}"))?;
            Bool(re.is_match(s) == (op == "=~"))
        }
        ("=~" | "!~", ..) => {
            return Err(format!(
                "Value '{l}' or '{r}' cannot be used with the comparator '{op}', it is not a string"
            ));
        }
        ("+", Num(a), Num(b)) => Num(a + b),
        ("+", Str(_), _) | ("+", _, Str(_)) => Str(format!("{l}{r}")),
        ("-", Num(a), Num(b)) => Num(a - b),
        ("*", Num(a), Num(b)) => Num(a * b),
        ("/", Num(a), Num(b)) => Num(a / b),
        ("%", Num(a), Num(b)) => Num(a % b),
        _ => {
            let bad = if matches!(l, Num(_)) { &r } else { &l };
            return Err(format!(
                "Value '{bad}' cannot be used with the modifier '{op}', it is not a number"
            ));
        }
    })
}

fn compare(op: &str, ord: Option<std::cmp::Ordering>) -> bool {
    use std::cmp::Ordering::{Equal, Greater, Less};
    matches!(
        (op, ord),
        (">", Some(Greater))
            | (">=", Some(Greater | Equal))
            | ("<", Some(Less))
            | ("<=", Some(Less | Equal))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(expr: &str) -> bool {
        match evaluate_when(expr) {
            Ok(b) => b,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn bare_words_are_strings() {
        assert!(t("Succeeded == Succeeded"));
        assert!(t("Failed != Succeeded"));
        assert!(t("heads == 'heads'"));
        assert!(t("\"tails\" == tails"));
        assert!(!t("a == b"));
    }

    #[test]
    fn numbers_compare_numerically() {
        assert!(t("1.0 == 1"));
        assert!(t("10 > 9"));
        assert!(t("5 >= 5 && 4 <= 4.5"));
        assert!(!t("'1' == 1"));
        assert!(t("-3 < 0"));
        assert!(t("2 + 3 * 2 == 8"));
    }

    #[test]
    fn strings_compare_lexicographically() {
        assert!(t("'b' > 'a'"));
        assert!(t("'10' < '9'"));
    }

    #[test]
    fn logic_and_parentheses() {
        assert!(t("true && (false || !false)"));
        assert!(!t("!(1 == 1)"));
        assert!(t("a == b || c == c"));
        assert!(!t("false && 'x'"), "&& short-circuits");
    }

    #[test]
    fn regex_operators() {
        assert!(t("'hello-world' =~ '^hello'"));
        assert!(t("abc !~ 'z+'"));
    }

    #[test]
    fn errors() {
        let e = evaluate_when("1 > abc").err();
        assert!(e.is_some_and(|e| {
            e.to_string()
                .starts_with("Invalid 'when' expression '1 > abc': ")
        }));
        assert!(evaluate_when("1 + 1").is_err(), "non-boolean result");
        assert!(evaluate_when("hello").is_err());
        assert!(evaluate_when("(a == a").is_err());
        assert!(evaluate_when("a = a").is_err());
        assert!(evaluate_when("'open == a").is_err());
        assert!(evaluate_when("").is_err());
        // `my-run == x` parses as `my - run == x`: a string in `-` is an error.
        assert!(evaluate_when("my-run == x").is_err());
        assert!(evaluate_when("true && 1").is_err());
    }
}
