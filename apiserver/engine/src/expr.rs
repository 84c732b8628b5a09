//! Evaluation of Argo's expr-lang expressions: `{{= ... }}` tags, `retryStrategy.expression`,
//! DAG/steps output `valueFrom.expression` and lifecycle-hook `expression`s (ARGO-SEMANTICS §3.1).
//!
//! Argo evaluates them with [expr-lang](https://github.com/expr-lang/expr) over the workflow
//! variables as a nested map. The local engine cannot embed Go, so this module implements the
//! subset of expr-lang that workflows use, with its grammar, precedence and typing rules:
//!
//! - literals: integers (kept as `i64`; `_` separators), floats, `'…'`/`"…"` strings with
//!   backslash escapes, `` `raw` `` strings, `true`, `false`, `nil`, arrays `[1, 'a']` and maps
//!   `{a: 1, 'b-c': 2, 3: 'x', ('k' + 'ey'): nil}`;
//! - variables are the environment's top-level keys; `a.b`, `a?.b`, `a['b-c']`, `a[0]`, `a[-1]`
//!   (from the end); indexing a string gives a character. A missing key, an
//!   unknown variable and any access on `nil` give `nil` (Argo relies on
//!   `tasks.t.outputs.result ?? 'x'` for skipped tasks); a member of a non-map is an error;
//! - operators, loosest first: the ternary `c ? a : b`; `||`/`or`; `&&`/`and`; `==` `!=` `<` `>`
//!   `<=` `>=` `in` `matches` `contains` `startsWith` `endsWith` (the last five negatable, as in
//!   `not in`); `+` `-`; `*` `/` `%`; `**`/`^` (right-associative); `??`, which binds tightest
//!   and cannot be mixed with other binary operators without parentheses; then `.`, `[]` and
//!   calls. As in expr-lang, unary `!`/`not` takes an operand up to `*`-level operators
//!   (`!a == b` is `(!a) == b`) and unary `-`/`+` one up to `**` (`-2 ** 2` is `-4`);
//! - typing: `+` concatenates two strings or adds numbers (int + int stays an int; overflow is
//!   an error), `/` and `**` give floats, `%` needs ints; `==` compares ints with floats
//!   numerically and arrays/maps structurally, values of different types are unequal; ordering
//!   needs two numbers or two strings; `&&`, `||` (short-circuit), `!` and `?:` need booleans;
//!   `in` tests array membership or map keys (`x in nil` is false); `matches` uses the `regex`
//!   crate (RE2 syntax, like Go's `regexp`);
//! - functions: Argo's `asInt`, `asFloat`, `string`, `toJson` and `jsonpath(json, path)` (paths
//!   made of `$`, `.key`, `.*`, `['key']`, `[n]`, `[*]`), the expr-lang builtins in [`FUNCTIONS`]
//!   and the sprig functions in [`SPRIG_FUNCTIONS`], called as `sprig.name(...)` with sprig's
//!   argument order (subject last: `sprig.replace(old, new, s)`) and lenient conversions
//!   (`sprig.atoi('x')` is 0). String lengths and indexes count characters.
//!
//! Not supported, each rejected with an error: closures (`filter`, `map`, `all`, `#`, ...), the
//! pipe `|`, ranges `..`, slices `a[1:3]`, `let`, hexadecimal literals, chained comparisons
//! (`a < b < c` is `(a < b) < c`), method calls other than `sprig.*` and unlisted functions
//! (dates, crypto, base64, ...). Trees deeper than [`MAX_DEPTH`] are rejected, so no input can
//! overflow the stack.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt::Write as _;

use regex::Regex;
use serde_json::{Map, Number, Value};

/// Deepest expression tree (and parser recursion) accepted. Real expressions nest a few
/// levels; the parser needs up to about 7 KiB of stack per level in debug builds (2 KiB
/// optimized), so 128 levels stay under 1 MiB, well within a 2 MiB thread stack.
pub const MAX_DEPTH: usize = 128;

/// The functions callable by name (space-separated).
pub const FUNCTIONS: &str = "asInt asFloat string toJson jsonpath int float len lower upper \
    trim trimPrefix trimSuffix hasPrefix hasSuffix replace split join abs min max first last keys \
    values";
/// The functions callable as `sprig.<name>(...)` (space-separated).
pub const SPRIG_FUNCTIONS: &str = "upper lower trim trimAll trimPrefix trimSuffix replace \
    contains hasPrefix hasSuffix default empty coalesce ternary toString atoi int int64 float64 \
    add add1 sub mul div mod max min quote squote join splitList list first last toJson \
    fromJson regexMatch regexReplaceAll";
/// expr-lang builtins whose argument is a closure.
const CLOSURE_FUNCTIONS: &str = "all none any one filter map count find findIndex findLast \
    findLastIndex groupBy sortBy reduce";
/// Binary operators spelled as words (all comparisons, all negatable with `not`).
const WORD_OPERATORS: [&str; 5] = ["in", "matches", "contains", "startsWith", "endsWith"];

static NULL: Value = Value::Null;

/// Why an expression could not be evaluated; `pos` is a byte offset into `expr`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExprError {
    /// Not a valid expression (bad character, token, number or escape sequence).
    #[error("{message} at {pos} in '{expr}'")]
    Syntax {
        message: String,
        pos: usize,
        expr: String,
    },
    /// A call of a function this evaluator does not provide.
    #[error("unknown function '{name}' at {pos} in '{expr}'")]
    UnknownFunction {
        name: String,
        pos: usize,
        expr: String,
    },
    /// A closure or predicate (`filter(xs, {# > 1})`, ...).
    #[error("closures are not supported by the local engine: '{expr}' ('{construct}' at {pos})")]
    Closure {
        construct: String,
        pos: usize,
        expr: String,
    },
    /// Nesting deeper than [`MAX_DEPTH`].
    #[error("expression nested more than {limit} levels deep at {pos} in '{expr}'")]
    TooDeep {
        limit: usize,
        pos: usize,
        expr: String,
    },
    /// A run-time error: wrong operand types, bad function argument, index out of range, ...
    #[error("{message} at {pos} in '{expr}'")]
    Eval {
        message: String,
        pos: usize,
        expr: String,
    },
    /// [`evaluate_bool`] got something other than a boolean.
    #[error("expected a boolean, got {type_name} in '{expr}'")]
    NotBool {
        type_name: &'static str,
        expr: String,
    },
}

/// Evaluate `expr` against `env` (a JSON object whose keys are the top-level variables).
pub fn evaluate(expr: &str, env: &Value) -> Result<Value, ExprError> {
    let ast = parse(expr)?;
    Evaluator { env, src: expr }.eval(&ast).map(Cow::into_owned)
}

/// Evaluate and require a boolean (for retry and hook expressions).
pub fn evaluate_bool(expr: &str, env: &Value) -> Result<bool, ExprError> {
    match evaluate(expr, env)? {
        Value::Bool(b) => Ok(b),
        other => Err(ExprError::NotBool {
            type_name: type_name(&other),
            expr: expr.to_owned(),
        }),
    }
}

/// Check that `expr` parses and calls only known functions, without evaluating it.
pub fn validate(expr: &str) -> Result<(), ExprError> {
    parse(expr).map(drop)
}

/// Argo's rule for splicing a result into text (`fmt.Sprintf("%v", result)`): a string is
/// inserted as is, a bool as `true`/`false`, a number as Go prints it (`3`, `0.93`, `1e+06`).
/// Deliberate differences: `nil` gives `""` (Argo fails the node with `failed to evaluate
/// expression`; callers wanting that must check for `Value::Null` first), and arrays and maps
/// give compact JSON in the encoding of `toJson` (Go's `json.Marshal`: sorted keys, `<>&`
/// escaped) instead of Go's `[a b]` and `map[k:v]`.
pub fn to_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => go_string(other),
    }
}

fn listed(list: &str, name: &str) -> bool {
    list.split_whitespace().any(|f| f == name)
}

fn is_known_function(name: &str) -> bool {
    match name.strip_prefix("sprig.") {
        Some(f) => listed(SPRIG_FUNCTIONS, f),
        None => listed(FUNCTIONS, name),
    }
}

// ---------------------------------------------------------------------------------------------
// Tokenizer

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Int(i64),
    Float(f64),
    Str(String),
    Ident(String),
    Punct(&'static str),
    Eof,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    start: usize,
    end: usize,
}

/// Punctuation, two-character tokens first.
const PUNCTS: [&str; 29] = [
    "?.", "??", "==", "!=", "<=", ">=", "&&", "||", "**", "?", ":", ".", ",", "(", ")", "[", "]",
    "{", "}", "<", ">", "!", "+", "-", "*", "/", "%", "^", "#",
];

/// The tokens of `src`, or a message and the byte offset it refers to.
fn tokenize(src: &str) -> Result<Vec<Token>, (String, usize)> {
    let mut tokens = Vec::new();
    let mut pos = 0;
    while let Some(rest) = src.get(pos..) {
        let Some(c) = rest.chars().next() else { break };
        if c.is_whitespace() {
            pos += c.len_utf8();
            continue;
        }
        let (tok, len) = if c.is_ascii_digit() {
            lex_number(rest).map_err(|message| (message, pos))?
        } else if matches!(c, '\'' | '"' | '`') {
            lex_string(rest, c).map_err(|(message, at)| (message, pos + at))?
        } else if c.is_alphabetic() || c == '_' || c == '$' {
            let word = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
            let len = rest.find(|c| !word(c)).unwrap_or(rest.len());
            (Tok::Ident(rest[..len].to_owned()), len)
        } else if let Some(p) = PUNCTS.iter().find(|p| rest.starts_with(**p)) {
            (Tok::Punct(p), p.len())
        } else {
            return Err((format!("unexpected character '{c}'"), pos));
        };
        tokens.push(Token {
            tok,
            start: pos,
            end: pos + len,
        });
        pos += len;
    }
    Ok(tokens)
}

/// The number at the start of `rest` and its length.
fn lex_number(rest: &str) -> Result<(Tok, usize), String> {
    let b = rest.as_bytes();
    let digits = |mut i: usize| {
        while b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'_') {
            i += 1;
        }
        i
    };
    let (mut end, mut float) = (digits(0), false);
    if b.get(end) == Some(&b'.') && b.get(end + 1).is_some_and(u8::is_ascii_digit) {
        (end, float) = (digits(end + 1), true);
    }
    if matches!(b.get(end), Some(b'e' | b'E')) {
        let at = end + 1 + usize::from(matches!(b.get(end + 1), Some(b'+' | b'-')));
        if b.get(at).is_some_and(u8::is_ascii_digit) {
            (end, float) = (digits(at), true);
        }
    }
    let text = &rest[..end];
    let clean = text.replace('_', "");
    let tok = if float {
        clean
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(Tok::Float)
    } else {
        clean.parse().ok().map(Tok::Int)
    };
    tok.map(|t| (t, end))
        .ok_or_else(|| format!("invalid number '{text}'"))
}

/// The string literal opened by `quote` at the start of `rest` and its length; errors carry
/// an offset into `rest`.
fn lex_string(rest: &str, quote: char) -> Result<(Tok, usize), (String, usize)> {
    let mut out = String::new();
    let mut chars = rest.char_indices().skip(1);
    while let Some((at, c)) = chars.next() {
        if c == quote {
            return Ok((Tok::Str(out), at + 1));
        }
        if c != '\\' || quote == '`' {
            out.push(c);
            continue;
        }
        let Some((_, e)) = chars.next() else { break };
        let decoded = match e {
            'n' => Some('\n'),
            't' => Some('\t'),
            'r' => Some('\r'),
            '\\' | '\'' | '"' | '`' => Some(e),
            'x' => hex_escape(&mut chars, 2),
            'u' => hex_escape(&mut chars, 4),
            _ => None,
        };
        out.push(decoded.ok_or_else(|| (format!("invalid escape sequence '\\{e}'"), at))?);
    }
    Err(("unterminated string".to_owned(), 0))
}

fn hex_escape(chars: &mut impl Iterator<Item = (usize, char)>, digits: usize) -> Option<char> {
    let mut code = 0;
    for _ in 0..digits {
        code = code * 16 + chars.next()?.1.to_digit(16)?;
    }
    char::from_u32(code)
}

// ---------------------------------------------------------------------------------------------
// Syntax tree and parser

#[derive(Debug)]
struct Node {
    /// Byte offset of the token naming the node (operator, literal, `[`, function name, ...).
    pos: usize,
    /// Height of the subtree, checked against [`MAX_DEPTH`] when the node is built.
    depth: usize,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Lit(Value),
    Ident(String),
    Array(Vec<Node>),
    Map(Vec<(Node, Node)>),
    Member(Box<Node>, String),
    Index(Box<Node>, Box<Node>),
    Call(String, Vec<Node>),
    Unary(char, Box<Node>),
    Binary(&'static str, Box<Node>, Box<Node>),
    Cond(Box<Node>, Box<Node>, Box<Node>),
}

impl Kind {
    fn child_depth(&self) -> usize {
        let max = |nodes: &mut dyn Iterator<Item = &Node>| nodes.map(|n| n.depth).max();
        let depth = match self {
            Kind::Lit(_) | Kind::Ident(_) => None,
            Kind::Array(items) | Kind::Call(_, items) => max(&mut items.iter()),
            Kind::Map(pairs) => max(&mut pairs.iter().flat_map(|(k, v)| [k, v])),
            Kind::Member(a, _) | Kind::Unary(_, a) => Some(a.depth),
            Kind::Index(a, b) | Kind::Binary(_, a, b) => Some(a.depth.max(b.depth)),
            Kind::Cond(a, b, c) => Some(a.depth.max(b.depth).max(c.depth)),
        };
        depth.unwrap_or(0)
    }
}

/// A binary operator (canonical spelling), its precedence, whether it is negated (`not in`)
/// and how many tokens it spans.
type BinaryOp = (&'static str, u16, bool, usize);

/// expr-lang's precedence of binary operators; `**` is the only right-associative one.
fn precedence(op: &str) -> Option<u16> {
    match op {
        "||" => Some(10),
        "&&" => Some(15),
        "==" | "!=" | "<" | ">" | "<=" | ">=" => Some(20),
        _ if WORD_OPERATORS.contains(&op) => Some(20),
        "+" | "-" => Some(30),
        "*" | "/" | "%" => Some(60),
        "**" => Some(100),
        "??" => Some(500),
        _ => None,
    }
}

fn binary_op(tok: &Tok) -> Option<(&'static str, u16)> {
    let op = match tok {
        Tok::Punct("^") => "**",
        Tok::Punct(p) => *p,
        Tok::Ident(w) if w == "or" => "||",
        Tok::Ident(w) if w == "and" => "&&",
        Tok::Ident(w) => *WORD_OPERATORS.iter().find(|op| **op == w.as_str())?,
        _ => return None,
    };
    precedence(op).map(|prec| (op, prec))
}

type PResult<T> = Result<T, ExprError>;

fn parse(src: &str) -> PResult<Node> {
    let toks = tokenize(src).map_err(|(message, pos)| ExprError::Syntax {
        message,
        pos,
        expr: src.to_owned(),
    })?;
    let eof = Token {
        tok: Tok::Eof,
        start: src.len(),
        end: src.len(),
    };
    let mut parser = Parser {
        src,
        toks,
        pos: 0,
        depth: 0,
        eof,
    };
    let node = parser.expr(0)?;
    match parser.peek().tok {
        Tok::Eof => Ok(node),
        _ => Err(parser.unexpected(parser.pos)),
    }
}

/// A recursive-descent (precedence-climbing) parser. The functions on the recursive path are
/// kept small, cold work being in helpers, because their frames times [`MAX_DEPTH`] bound the
/// stack this module needs.
struct Parser<'s> {
    src: &'s str,
    toks: Vec<Token>,
    pos: usize,
    /// Current recursion depth of [`Parser::expr`].
    depth: usize,
    eof: Token,
}

impl Parser<'_> {
    fn token(&self, index: usize) -> &Token {
        self.toks.get(index).unwrap_or(&self.eof)
    }

    fn peek(&self) -> &Token {
        self.token(self.pos)
    }

    fn is(&self, punct: &str) -> bool {
        matches!(self.peek().tok, Tok::Punct(p) if p == punct)
    }

    fn eat(&mut self, punct: &str) -> bool {
        let found = self.is(punct);
        self.pos += usize::from(found);
        found
    }

    fn expect(&mut self, punct: &str) -> PResult<()> {
        if self.eat(punct) {
            Ok(())
        } else {
            Err(self.unexpected(self.pos))
        }
    }

    fn syntax(&self, message: impl Into<String>, pos: usize) -> ExprError {
        ExprError::Syntax {
            message: message.into(),
            pos,
            expr: self.src.to_owned(),
        }
    }

    /// An error for the unexpected token at `index`.
    fn unexpected(&self, index: usize) -> ExprError {
        let t = self.token(index);
        match t.tok {
            Tok::Eof => self.syntax("unexpected end of expression", t.start),
            _ => self.syntax(
                format!("unexpected token '{}'", &self.src[t.start..t.end]),
                t.start,
            ),
        }
    }

    fn closure(&self, construct: String, pos: usize) -> ExprError {
        ExprError::Closure {
            construct,
            pos,
            expr: self.src.to_owned(),
        }
    }

    fn node(&self, pos: usize, kind: Kind) -> PResult<Node> {
        let depth = kind.child_depth() + 1;
        if depth > MAX_DEPTH {
            return Err(ExprError::TooDeep {
                limit: MAX_DEPTH,
                pos,
                expr: self.src.to_owned(),
            });
        }
        Ok(Node { pos, depth, kind })
    }

    /// Parse an expression whose binary operators bind at least as tightly as `min`.
    fn expr(&mut self, min: u16) -> PResult<Node> {
        self.depth += 1;
        let result = if self.depth > MAX_DEPTH {
            let pos = self.peek().start;
            Err(ExprError::TooDeep {
                limit: MAX_DEPTH,
                pos,
                expr: self.src.to_owned(),
            })
        } else {
            self.binary(min)
        };
        self.depth -= 1;
        result
    }

    fn binary(&mut self, min: u16) -> PResult<Node> {
        let mut left = self.unary()?;
        let mut after_coalesce = false;
        while let Some(op) = self.peek_binary()? {
            if op.1 < min {
                break;
            }
            if after_coalesce && op.0 != "??" {
                return Err(self.mixed_coalesce(op.0));
            }
            left = self.infix(left, op)?;
            after_coalesce = op.0 == "??";
        }
        if min == 0 && self.is("?") {
            left = self.ternary(left)?;
        }
        Ok(left)
    }

    fn mixed_coalesce(&self, op: &str) -> ExprError {
        let message = format!(
            "operator '{op}' and coalesce expressions (??) cannot be mixed; wrap either in parentheses"
        );
        self.syntax(message, self.peek().start)
    }

    /// The binary operator at the cursor, if any; `not` must start `not in` and the like.
    fn peek_binary(&self) -> PResult<Option<BinaryOp>> {
        if !matches!(&self.peek().tok, Tok::Ident(w) if w == "not") {
            return Ok(binary_op(&self.peek().tok).map(|(op, prec)| (op, prec, false, 1)));
        }
        match binary_op(&self.token(self.pos + 1).tok) {
            Some((op, prec)) if WORD_OPERATORS.contains(&op) => Ok(Some((op, prec, true, 2))),
            _ => Err(self.unexpected(self.pos + 1)),
        }
    }

    /// `left <op> right`, the cursor being on the operator.
    fn infix(&mut self, left: Node, (op, prec, negate, width): BinaryOp) -> PResult<Node> {
        let pos = self.peek().start;
        self.pos += width;
        let right = self.expr(if op == "**" { prec } else { prec + 1 })?;
        let node = self.node(pos, Kind::Binary(op, Box::new(left), Box::new(right)))?;
        if negate {
            self.node(pos, Kind::Unary('!', Box::new(node)))
        } else {
            Ok(node)
        }
    }

    /// `cond ? then : otherwise`, the cursor being on `?`.
    fn ternary(&mut self, cond: Node) -> PResult<Node> {
        let pos = self.peek().start;
        self.pos += 1;
        let then = self.expr(0)?;
        self.expect(":")?;
        let otherwise = self.expr(0)?;
        self.node(
            pos,
            Kind::Cond(Box::new(cond), Box::new(then), Box::new(otherwise)),
        )
    }

    fn unary(&mut self) -> PResult<Node> {
        let Some((op, prec)) = self.peek_unary() else {
            let primary = self.primary()?;
            return self.postfix(primary);
        };
        let pos = self.peek().start;
        self.pos += 1;
        let operand = self.expr(prec)?;
        self.node(pos, Kind::Unary(op, Box::new(operand)))
    }

    /// The prefix operator at the cursor and the precedence its operand is parsed at.
    fn peek_unary(&self) -> Option<(char, u16)> {
        match &self.peek().tok {
            Tok::Punct("!") => Some(('!', 50)),
            Tok::Ident(w) if w == "not" => Some(('!', 50)),
            Tok::Punct("-") => Some(('-', 90)),
            Tok::Punct("+") => Some(('+', 90)),
            _ => None,
        }
    }

    fn primary(&mut self) -> PResult<Node> {
        let pos = self.peek().start;
        let tok = self.peek().tok.clone();
        self.pos += 1;
        match tok {
            Tok::Ident(name) => self.identifier(name, pos),
            Tok::Punct("(") => self.parenthesized(),
            Tok::Punct("[") => self.array_literal(pos),
            Tok::Punct("{") => self.map_literal(pos),
            Tok::Punct("#") => Err(self.closure("#".to_owned(), pos)),
            Tok::Int(i) => self.node(pos, Kind::Lit(Value::from(i))),
            Tok::Float(f) => self.node(
                pos,
                Kind::Lit(Number::from_f64(f).map_or(Value::Null, Value::Number)),
            ),
            Tok::Str(s) => self.node(pos, Kind::Lit(Value::String(s))),
            Tok::Punct(_) | Tok::Eof => Err(self.unexpected(self.pos - 1)),
        }
    }

    fn parenthesized(&mut self) -> PResult<Node> {
        let inner = self.expr(0)?;
        self.expect(")")?;
        Ok(inner)
    }

    fn array_literal(&mut self, pos: usize) -> PResult<Node> {
        let items = self.list("]")?;
        self.node(pos, Kind::Array(items))
    }

    fn identifier(&mut self, name: String, pos: usize) -> PResult<Node> {
        let kind = match name.as_str() {
            "true" | "false" => Kind::Lit(Value::Bool(name == "true")),
            "nil" => Kind::Lit(Value::Null),
            "and" | "or" | "not" | "let" => return Err(self.unexpected(self.pos - 1)),
            w if WORD_OPERATORS.contains(&w) => return Err(self.unexpected(self.pos - 1)),
            _ if self.is("(") => return self.call(name, pos),
            _ => Kind::Ident(name),
        };
        self.node(pos, kind)
    }

    /// A call of `name`, the cursor being on `(`.
    fn call(&mut self, name: String, pos: usize) -> PResult<Node> {
        if listed(CLOSURE_FUNCTIONS, &name) {
            return Err(self.closure(format!("{name}()"), pos));
        }
        if !is_known_function(&name) {
            return Err(ExprError::UnknownFunction {
                name,
                pos,
                expr: self.src.to_owned(),
            });
        }
        self.expect("(")?;
        let args = self.list(")")?;
        self.node(pos, Kind::Call(name, args))
    }

    /// Comma-separated expressions up to `close` (a trailing comma is allowed).
    fn list(&mut self, close: &str) -> PResult<Vec<Node>> {
        let mut items = Vec::new();
        while !self.eat(close) {
            if !items.is_empty() {
                self.expect(",")?;
                if self.eat(close) {
                    break;
                }
            }
            items.push(self.expr(0)?);
        }
        Ok(items)
    }

    fn map_literal(&mut self, pos: usize) -> PResult<Node> {
        let mut pairs = Vec::new();
        while !self.eat("}") {
            if !pairs.is_empty() {
                self.expect(",")?;
                if self.eat("}") {
                    break;
                }
            }
            let key = self.map_key()?;
            self.expect(":")?;
            pairs.push((key, self.expr(0)?));
        }
        self.node(pos, Kind::Map(pairs))
    }

    /// A map key: a name, a string, a number (as written) or a parenthesized expression.
    fn map_key(&mut self) -> PResult<Node> {
        let Token { tok, start, end } = self.peek().clone();
        let key = match tok {
            Tok::Punct("(") => return self.expr(0),
            Tok::Str(s) | Tok::Ident(s) => s,
            Tok::Int(_) | Tok::Float(_) => self.src[start..end].to_owned(),
            _ => {
                return Err(self.syntax(
                    "a map key must be a name, a string, a number or (expr)",
                    start,
                ));
            }
        };
        self.pos += 1;
        self.node(start, Kind::Lit(Value::String(key)))
    }

    /// Member access, indexing and `sprig.f(...)` calls after `node`.
    fn postfix(&mut self, mut node: Node) -> PResult<Node> {
        loop {
            let pos = self.peek().start;
            if self.is("?.") && self.token(self.pos + 1).tok == Tok::Punct("[") {
                self.pos += 1; // `a?.[k]` is `a[k]`: any access on nil gives nil anyway
            } else if self.eat(".") || self.eat("?.") {
                node = self.member(node)?;
            } else if self.eat("[") {
                node = self.index(node, pos)?;
            } else {
                return Ok(node);
            }
        }
    }

    /// `node.name` or a `node.name(...)` call, the cursor being after the `.`.
    fn member(&mut self, node: Node) -> PResult<Node> {
        let Token {
            tok: Tok::Ident(name),
            start,
            ..
        } = self.peek().clone()
        else {
            return Err(self.syntax("expected a property name", self.peek().start));
        };
        self.pos += 1;
        if !self.is("(") {
            return self.node(start, Kind::Member(Box::new(node), name));
        }
        match &node.kind {
            Kind::Ident(base) => self.call(format!("{base}.{name}"), node.pos),
            _ => self.call(format!(".{name}"), start),
        }
    }

    /// `node[index]`, the cursor being after the `[`.
    fn index(&mut self, node: Node, pos: usize) -> PResult<Node> {
        let index = self.expr(0)?;
        self.expect("]")?;
        self.node(pos, Kind::Index(Box::new(node), Box::new(index)))
    }
}

// ---------------------------------------------------------------------------------------------
// Evaluator

/// Values borrowed from the environment where possible (`tasks.t.outputs.result` does not copy
/// `tasks`).
type EvalResult<'e> = Result<Cow<'e, Value>, ExprError>;

struct Evaluator<'e, 's> {
    env: &'e Value,
    src: &'s str,
}

impl<'e> Evaluator<'e, '_> {
    fn fail(&self, pos: usize) -> impl Fn(String) -> ExprError + '_ {
        move |message| ExprError::Eval {
            message,
            pos,
            expr: self.src.to_owned(),
        }
    }

    /// A small dispatcher (each kind has its own function) to keep recursive frames small.
    fn eval(&self, node: &Node) -> EvalResult<'e> {
        let pos = node.pos;
        match &node.kind {
            Kind::Lit(v) => Ok(Cow::Owned(v.clone())),
            Kind::Ident(name) => Ok(Cow::Borrowed(self.env.get(name).unwrap_or(&NULL))),
            Kind::Array(items) => self.eval_all(items).map(|v| Cow::Owned(Value::Array(v))),
            Kind::Map(pairs) => self.eval_map(pairs),
            Kind::Member(obj, name) => self.eval_member(obj, name, pos),
            Kind::Index(obj, key) => self.eval_index(obj, key, pos),
            Kind::Call(name, args) => self.eval_call(name, args, pos),
            Kind::Unary(op, operand) => self.eval_unary(*op, operand, pos),
            Kind::Binary(op @ ("&&" | "||"), l, r) => self.eval_logical(op, l, r, pos),
            Kind::Binary("??", l, r) => self.eval_coalesce(l, r),
            Kind::Binary(op, l, r) => self.eval_binary(op, l, r, pos),
            Kind::Cond(cond, then, otherwise) => self.eval_cond(cond, then, otherwise),
        }
    }

    fn eval_all(&self, nodes: &[Node]) -> Result<Vec<Value>, ExprError> {
        nodes
            .iter()
            .map(|n| self.eval(n).map(Cow::into_owned))
            .collect()
    }

    fn eval_map(&self, pairs: &[(Node, Node)]) -> EvalResult<'e> {
        let mut map = Map::new();
        for (k, v) in pairs {
            let key = match self.eval(k)?.into_owned() {
                Value::String(s) => s,
                other => go_string(&other),
            };
            map.insert(key, self.eval(v)?.into_owned());
        }
        Ok(Cow::Owned(Value::Object(map)))
    }

    fn eval_member(&self, obj: &Node, name: &str, pos: usize) -> EvalResult<'e> {
        let obj = self.eval(obj)?;
        project(obj, |v| member(v, name)).map_err(self.fail(pos))
    }

    fn eval_index(&self, obj: &Node, key: &Node, pos: usize) -> EvalResult<'e> {
        let obj = self.eval(obj)?;
        let key = self.eval(key)?;
        project(obj, |v| index(v, &key)).map_err(self.fail(pos))
    }

    fn eval_call(&self, name: &str, args: &[Node], pos: usize) -> EvalResult<'e> {
        let args = self.eval_all(args)?;
        call_function(name, &args)
            .map(Cow::Owned)
            .map_err(self.fail(pos))
    }

    fn eval_unary(&self, op: char, operand: &Node, pos: usize) -> EvalResult<'e> {
        let v = self.eval(operand)?;
        unary(op, &v).map(Cow::Owned).map_err(self.fail(pos))
    }

    /// `&&` and `||`, short-circuiting.
    fn eval_logical(&self, op: &str, l: &Node, r: &Node, pos: usize) -> EvalResult<'e> {
        let decisive = op == "||"; // the left value that decides alone
        let value = if self.boolean(op, l, pos)? == decisive {
            decisive
        } else {
            self.boolean(op, r, pos)?
        };
        Ok(Cow::Owned(Value::Bool(value)))
    }

    fn boolean(&self, op: &str, node: &Node, pos: usize) -> Result<bool, ExprError> {
        match &*self.eval(node)? {
            Value::Bool(b) => Ok(*b),
            other => Err(self.fail(pos)(format!(
                "operator '{op}' requires booleans, got {}",
                type_name(other)
            ))),
        }
    }

    fn eval_coalesce(&self, l: &Node, r: &Node) -> EvalResult<'e> {
        let left = self.eval(l)?;
        if left.is_null() {
            self.eval(r)
        } else {
            Ok(left)
        }
    }

    fn eval_binary(&self, op: &str, l: &Node, r: &Node, pos: usize) -> EvalResult<'e> {
        let a = self.eval(l)?;
        let b = self.eval(r)?;
        binary(op, &a, &b).map(Cow::Owned).map_err(self.fail(pos))
    }

    fn eval_cond(&self, cond: &Node, then: &Node, otherwise: &Node) -> EvalResult<'e> {
        match &*self.eval(cond)? {
            Value::Bool(true) => self.eval(then),
            Value::Bool(false) => self.eval(otherwise),
            other => Err(self.fail(cond.pos)(format!(
                "ternary condition must be a boolean, got {}",
                type_name(other)
            ))),
        }
    }
}

/// Apply an access to a borrowed or owned value, keeping the result borrowed when possible.
fn project<'e>(
    obj: Cow<'e, Value>,
    access: impl for<'v> FnOnce(&'v Value) -> Result<Cow<'v, Value>, String>,
) -> Result<Cow<'e, Value>, String> {
    match obj {
        Cow::Borrowed(v) => access(v),
        Cow::Owned(v) => access(&v).map(|r| Cow::Owned(r.into_owned())),
    }
}

fn member<'v>(obj: &'v Value, name: &str) -> Result<Cow<'v, Value>, String> {
    match obj {
        Value::Null => Ok(Cow::Borrowed(&NULL)),
        Value::Object(map) => Ok(Cow::Borrowed(map.get(name).unwrap_or(&NULL))),
        other => Err(format!(
            "cannot access member '{name}' of {}",
            type_name(other)
        )),
    }
}

fn index<'v>(obj: &'v Value, key: &Value) -> Result<Cow<'v, Value>, String> {
    match (obj, key) {
        (Value::Null, _) => Ok(Cow::Borrowed(&NULL)),
        (Value::Object(map), Value::String(k)) => Ok(Cow::Borrowed(map.get(k).unwrap_or(&NULL))),
        (Value::Object(_), _) => Err(format!("cannot index a map with {}", type_name(key))),
        (Value::Array(items), _) => Ok(Cow::Borrowed(&items[position(key, items.len())?])),
        (Value::String(s), _) => {
            let c = s.chars().nth(position(key, s.chars().count())?);
            Ok(Cow::Owned(
                c.map_or(Value::Null, |c| Value::String(c.into())),
            ))
        }
        _ => Err(format!("cannot index {}", type_name(obj))),
    }
}

/// An integer index (integral floats accepted, as by expr-lang).
fn to_index(v: &Value) -> Result<i64, String> {
    match as_num(v) {
        Some(Num::Int(i)) => Ok(i),
        Some(Num::Float(f)) if f.fract() == 0.0 => Ok(f as i64),
        _ => Err(format!("index must be an integer, got {}", type_name(v))),
    }
}

/// Resolve a possibly negative index against `len`; the result is always `< len`.
fn position(key: &Value, len: usize) -> Result<usize, String> {
    let i = to_index(key)?;
    let resolved = if i < 0 {
        i.checked_add_unsigned(len as u64)
    } else {
        Some(i)
    };
    resolved
        .and_then(|r| usize::try_from(r).ok())
        .filter(|&r| r < len)
        .ok_or_else(|| format!("index {i} out of range (length {len})"))
}

fn unary(op: char, v: &Value) -> Result<Value, String> {
    match (op, v, as_num(v)) {
        ('!', Value::Bool(b), _) => Ok(Value::Bool(!b)),
        ('!', ..) => Err(format!(
            "operator '!' requires a boolean, got {}",
            type_name(v)
        )),
        ('-', _, Some(Num::Int(i))) => i.checked_neg().map(Value::from).ok_or_else(overflow),
        ('-', _, Some(Num::Float(f))) => float_value(-f),
        (_, _, Some(_)) => Ok(v.clone()),
        _ => Err(format!(
            "operator '{op}' requires a number, got {}",
            type_name(v)
        )),
    }
}

/// The binary operators other than `&&`, `||` and `??`.
fn binary(op: &str, a: &Value, b: &Value) -> Result<Value, String> {
    if let ("+", Value::String(x), Value::String(y)) = (op, a, b) {
        return Ok(Value::String(format!("{x}{y}")));
    }
    let truth = match op {
        "==" => values_equal(a, b),
        "!=" => !values_equal(a, b),
        "<" => compare(a, b)?.is_lt(),
        ">" => compare(a, b)?.is_gt(),
        "<=" => compare(a, b)?.is_le(),
        ">=" => compare(a, b)?.is_ge(),
        "in" => contains_value(a, b)?,
        "matches" | "contains" | "startsWith" | "endsWith" => string_test(op, a, b)?,
        _ => return arith(op, a, b),
    };
    Ok(Value::Bool(truth))
}

fn string_test(op: &str, a: &Value, b: &Value) -> Result<bool, String> {
    let (Value::String(s), Value::String(t)) = (a, b) else {
        let (ta, tb) = (type_name(a), type_name(b));
        return Err(format!(
            "operator '{op}' requires strings, got {ta} and {tb}"
        ));
    };
    Ok(match op {
        "matches" => Regex::new(t).map_err(|e| regex_error(t, &e))?.is_match(s),
        "contains" => s.contains(t.as_str()),
        "startsWith" => s.starts_with(t.as_str()),
        _ => s.ends_with(t.as_str()),
    })
}

fn regex_error(pattern: &str, e: &regex::Error) -> String {
    let detail = e.to_string().replace('\n', " ");
    format!("invalid regular expression '{pattern}': {detail}")
}

#[derive(Debug, Clone, Copy)]
enum Num {
    Int(i64),
    Float(f64),
}

impl Num {
    fn to_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }
    }
}

fn as_num(v: &Value) -> Option<Num> {
    let Value::Number(n) = v else { return None };
    Some(
        n.as_i64()
            .map_or_else(|| Num::Float(n.as_f64().unwrap_or(f64::NAN)), Num::Int),
    )
}

fn number(v: &Value) -> Result<Num, String> {
    as_num(v).ok_or_else(|| format!("expected a number, got {}", type_name(v)))
}

/// A float result; NaN and infinities have no JSON form and are errors.
fn float_value(f: f64) -> Result<Value, String> {
    let message = || format!("result {} is not a finite number", go_float(f));
    Number::from_f64(f).map(Value::Number).ok_or_else(message)
}

fn overflow() -> String {
    "integer overflow".to_owned()
}

fn arith(op: &str, a: &Value, b: &Value) -> Result<Value, String> {
    let (Some(x), Some(y)) = (as_num(a), as_num(b)) else {
        let (ta, tb) = (type_name(a), type_name(b));
        return Err(format!("cannot apply '{op}' to {ta} and {tb}"));
    };
    match (op, x, y) {
        ("+" | "-" | "*" | "%", Num::Int(x), Num::Int(y)) => int_arith(op, x, y),
        ("%", ..) => Err("operator '%' requires integers".to_owned()),
        ("/", _, y) if y.to_f64() == 0.0 => Err("division by zero".to_owned()),
        _ => {
            let (x, y) = (x.to_f64(), y.to_f64());
            float_value(match op {
                "+" => x + y,
                "-" => x - y,
                "*" => x * y,
                "/" => x / y,
                _ => x.powf(y),
            })
        }
    }
}

fn int_arith(op: &str, x: i64, y: i64) -> Result<Value, String> {
    let result = match op {
        "+" => x.checked_add(y),
        "-" => x.checked_sub(y),
        "*" => x.checked_mul(y),
        _ if y == 0 => return Err("integer divide by zero".to_owned()),
        _ => Some(x.wrapping_rem(y)),
    };
    result.map(Value::from).ok_or_else(overflow)
}

fn compare(a: &Value, b: &Value) -> Result<Ordering, String> {
    match (a, b, as_num(a), as_num(b)) {
        (Value::String(x), Value::String(y), _, _) => Ok(x.cmp(y)),
        (_, _, Some(Num::Int(x)), Some(Num::Int(y))) => Ok(x.cmp(&y)),
        (_, _, Some(x), Some(y)) => x
            .to_f64()
            .partial_cmp(&y.to_f64())
            .ok_or_else(|| "NaN".into()),
        _ => Err(format!(
            "cannot compare {} with {}",
            type_name(a),
            type_name(b)
        )),
    }
}

/// expr-lang's `==`: numbers compare numerically, containers structurally, the rest by value.
fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(_), Value::Number(_)) => match (as_num(a), as_num(b)) {
            (Some(Num::Int(x)), Some(Num::Int(y))) => x == y,
            (Some(x), Some(y)) => x.to_f64() == y.to_f64(),
            _ => false,
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| values_equal(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| values_equal(v, w)))
        }
        _ => a == b,
    }
}

fn contains_value(needle: &Value, haystack: &Value) -> Result<bool, String> {
    match haystack {
        Value::Array(items) => Ok(items.iter().any(|x| values_equal(needle, x))),
        Value::Object(map) => Ok(needle.as_str().is_some_and(|k| map.contains_key(k))),
        Value::Null => Ok(false),
        other => Err(format!(
            "operator 'in' is not defined on {}",
            type_name(other)
        )),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "nil",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "map",
    }
}

// ---------------------------------------------------------------------------------------------
// Functions

fn call_function(name: &str, args: &[Value]) -> Result<Value, String> {
    let result = match name.strip_prefix("sprig.") {
        Some(f) => sprig(f, args),
        None => builtin(name, args),
    };
    result.map_err(|e| format!("{name}(): {e}"))
}

fn arity<const N: usize>(args: &[Value]) -> Result<&[Value; N], String> {
    args.try_into()
        .map_err(|_| format!("expected {N} argument(s), got {}", args.len()))
}

fn one(args: &[Value]) -> Result<&Value, String> {
    arity::<1>(args).map(|[x]| x)
}

fn text(v: &Value) -> Result<&str, String> {
    v.as_str()
        .ok_or_else(|| format!("expected a string, got {}", type_name(v)))
}

fn builtin(name: &str, args: &[Value]) -> Result<Value, String> {
    match (name, args) {
        ("asInt" | "int", _) => to_int(one(args)?).map(Value::from),
        ("asFloat" | "float", _) => float_value(to_float(one(args)?)?),
        ("string", _) => Ok(Value::String(go_string(one(args)?))),
        ("toJson", _) => Ok(Value::String(go_json(one(args)?))),
        ("jsonpath", [doc, path]) => jsonpath(doc, text(path)?),
        ("len", [Value::String(s)]) => Ok(Value::from(s.chars().count())),
        ("len", [Value::Array(items)]) => Ok(Value::from(items.len())),
        ("len", [Value::Object(map)]) => Ok(Value::from(map.len())),
        ("lower", _) => Ok(Value::from(text(one(args)?)?.to_lowercase())),
        ("upper", _) => Ok(Value::from(text(one(args)?)?.to_uppercase())),
        ("trim", [s]) => Ok(Value::from(text(s)?.trim())),
        ("trim", [s, cut]) => {
            let cut = text(cut)?;
            Ok(Value::from(text(s)?.trim_matches(|c| cut.contains(c))))
        }
        ("trimPrefix", [s, p]) => Ok(Value::from(
            text(s)?.strip_prefix(text(p)?).unwrap_or(text(s)?),
        )),
        ("trimSuffix", [s, p]) => Ok(Value::from(
            text(s)?.strip_suffix(text(p)?).unwrap_or(text(s)?),
        )),
        ("hasPrefix", [s, p]) => Ok(Value::Bool(text(s)?.starts_with(text(p)?))),
        ("hasSuffix", [s, p]) => Ok(Value::Bool(text(s)?.ends_with(text(p)?))),
        ("replace", [s, old, new]) => Ok(Value::from(text(s)?.replace(text(old)?, text(new)?))),
        ("split", [s, sep]) => Ok(split(text(s)?, text(sep)?, -1)),
        ("split", [s, sep, n]) => Ok(split(text(s)?, text(sep)?, to_int(n)?)),
        ("join", [list]) => Ok(Value::from(string_list(list).concat())),
        ("join", [list, sep]) => Ok(Value::from(string_list(list).join(text(sep)?))),
        ("abs", _) => match number(one(args)?)? {
            Num::Int(i) => i.checked_abs().map(Value::from).ok_or_else(overflow),
            Num::Float(f) => float_value(f.abs()),
        },
        ("min" | "max", _) => extremum(name == "max", args),
        ("first", [Value::Array(items)]) => Ok(items.first().cloned().unwrap_or(Value::Null)),
        ("last", [Value::Array(items)]) => Ok(items.last().cloned().unwrap_or(Value::Null)),
        ("first" | "last", [Value::Null]) => Ok(Value::Null),
        ("keys", [Value::Object(map)]) => Ok(map.keys().map(|k| Value::from(k.as_str())).collect()),
        ("values", [Value::Object(map)]) => Ok(map.values().cloned().collect()),
        _ => Err(bad_arguments(name, args)),
    }
}

/// Why a known function rejected its arguments (or that the function is unknown).
fn bad_arguments(name: &str, args: &[Value]) -> String {
    if !listed(FUNCTIONS, name) && !listed(SPRIG_FUNCTIONS, name) {
        return format!("unknown function '{name}'");
    }
    let types: Vec<&str> = args.iter().map(type_name).collect();
    format!("unsupported arguments ({})", types.join(", "))
}

/// Argo's `asInt`/expr-lang's `int`: numbers (floats truncated) and strings holding an integer.
fn to_int(v: &Value) -> Result<i64, String> {
    match (v, as_num(v)) {
        (_, Some(Num::Int(i))) => Ok(i),
        (_, Some(Num::Float(f))) => Ok(f as i64),
        (Value::String(s), _) => s
            .parse()
            .map_err(|_| format!("cannot parse {s:?} as an integer")),
        _ => Err(format!("cannot convert {} to an integer", type_name(v))),
    }
}

/// Argo's `asFloat`/expr-lang's `float`: numbers and strings holding a number.
fn to_float(v: &Value) -> Result<f64, String> {
    match (v, as_num(v)) {
        (_, Some(n)) => Ok(n.to_f64()),
        (Value::String(s), _) => s
            .parse()
            .map_err(|_| format!("cannot parse {s:?} as a float")),
        _ => Err(format!("cannot convert {} to a float", type_name(v))),
    }
}

/// Go's `strings.SplitN` (`limit` < 0: no limit; an empty separator splits into characters).
fn split(s: &str, sep: &str, limit: i64) -> Value {
    match usize::try_from(limit) {
        Ok(0) => Value::Array(Vec::new()),
        _ if sep.is_empty() => s.chars().map(|c| Value::String(c.into())).collect(),
        Ok(n) => s.splitn(n, sep).map(Value::from).collect(),
        Err(_) => s.split(sep).map(Value::from).collect(),
    }
}

/// Sprig's `strslice`: an array's items as text, `nil` as no items, anything else as one item.
fn string_list(v: &Value) -> Vec<String> {
    match v {
        Value::Array(items) => items.iter().map(go_string).collect(),
        Value::Null => Vec::new(),
        other => vec![go_string(other)],
    }
}

fn extremum(want_max: bool, args: &[Value]) -> Result<Value, String> {
    let items = match args {
        [Value::Array(items)] => items.as_slice(),
        _ => args,
    };
    let mut best: Option<&Value> = None;
    for v in items {
        number(v)?;
        let better = match best {
            None => true,
            Some(b) => {
                compare(v, b)?
                    == if want_max {
                        Ordering::Greater
                    } else {
                        Ordering::Less
                    }
            }
        };
        best = if better { Some(v) } else { best };
    }
    best.cloned()
        .ok_or_else(|| "expected at least one number".to_owned())
}

/// Sprig's `empty`: nil, false, 0, "" and empty collections.
fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
    }
}

/// spf13/cast's `ToInt64` as sprig uses it: lenient, 0 for anything that is not a number.
fn cast_int(v: &Value) -> i64 {
    match (v, as_num(v)) {
        (_, Some(Num::Int(i))) => i,
        (_, Some(Num::Float(f))) => f as i64,
        (Value::Bool(b), _) => i64::from(*b),
        // cast drops a zero decimal part ("3.00" is 3); anything else unparsable is 0
        (Value::String(s), _) => match s.split_once('.') {
            Some((int, frac)) if !frac.is_empty() && frac.bytes().all(|b| b == b'0') => int,
            _ => s,
        }
        .parse()
        .unwrap_or(0),
        _ => 0,
    }
}

/// spf13/cast's `ToFloat64`: lenient, 0 for anything that is not a number.
fn cast_float(v: &Value) -> f64 {
    match (v, as_num(v)) {
        (_, Some(n)) => n.to_f64(),
        (Value::Bool(b), _) => f64::from(u8::from(*b)),
        (Value::String(s), _) => s.parse().unwrap_or(0.0),
        _ => 0.0,
    }
}

/// The supported sprig functions; the subject comes last, as in sprig.
fn sprig(name: &str, args: &[Value]) -> Result<Value, String> {
    let ints = || args.iter().map(cast_int);
    let swap = |[a, b]: &[Value; 2]| [b.clone(), a.clone()];
    match (name, args) {
        ("upper" | "lower" | "trim" | "toJson", [_]) => builtin(name, args),
        ("first" | "last", _) => builtin(name, args),
        ("trimAll", [cut, s]) => builtin("trim", &[s.clone(), cut.clone()]),
        ("trimPrefix" | "trimSuffix" | "hasPrefix" | "hasSuffix", _) => {
            builtin(name, &swap(arity(args)?))
        }
        ("contains", [sub, s]) => Ok(Value::Bool(text(s)?.contains(text(sub)?))),
        ("replace", [old, new, s]) => builtin(name, &[s.clone(), old.clone(), new.clone()]),
        ("default", [d]) => Ok(d.clone()),
        ("default", [d, v]) => Ok(if is_empty(v) { d } else { v }.clone()),
        ("empty", [v]) => Ok(Value::Bool(is_empty(v))),
        ("coalesce", _) => Ok(args
            .iter()
            .find(|v| !is_empty(v))
            .cloned()
            .unwrap_or(Value::Null)),
        ("ternary", [yes, no, Value::Bool(cond)]) => Ok(if *cond { yes } else { no }.clone()),
        ("toString", [v]) => Ok(Value::String(go_string(v))),
        ("atoi", [s]) => Ok(Value::from(text(s)?.parse::<i64>().unwrap_or(0))),
        ("int" | "int64", [v]) => Ok(Value::from(cast_int(v))),
        ("float64", [v]) => float_value(cast_float(v)),
        ("add", _) => Ok(Value::from(ints().fold(0_i64, i64::wrapping_add))),
        ("add1", [v]) => Ok(Value::from(cast_int(v).wrapping_add(1))),
        ("sub", [a, b]) => Ok(Value::from(cast_int(a).wrapping_sub(cast_int(b)))),
        ("mul", [_, ..]) => Ok(Value::from(ints().fold(1_i64, i64::wrapping_mul))),
        ("div" | "mod", [a, b]) => match (cast_int(a), cast_int(b)) {
            (_, 0) => Err("integer divide by zero".to_owned()),
            (a, b) if name == "div" => Ok(Value::from(a.wrapping_div(b))),
            (a, b) => Ok(Value::from(a.wrapping_rem(b))),
        },
        ("max", [_, ..]) => Ok(Value::from(ints().max().unwrap_or(0))),
        ("min", [_, ..]) => Ok(Value::from(ints().min().unwrap_or(0))),
        ("quote" | "squote", _) => {
            let quote = |s: String| match name {
                "quote" => serde_json::to_string(&s).unwrap_or(s),
                _ => format!("'{s}'"),
            };
            let parts: Vec<String> = args
                .iter()
                .filter(|v| !v.is_null())
                .map(|v| quote(go_string(v)))
                .collect();
            Ok(Value::from(parts.join(" ")))
        }
        ("join", [sep, list]) => Ok(Value::from(string_list(list).join(text(sep)?))),
        ("splitList", [sep, s]) => Ok(split(text(s)?, text(sep)?, -1)),
        ("list", _) => Ok(Value::Array(args.to_vec())),
        ("fromJson", [s]) => Ok(serde_json::from_str(text(s)?).unwrap_or(Value::Null)),
        ("regexMatch", [re, s]) => {
            let s = text(s)?;
            Ok(Value::Bool(
                Regex::new(text(re)?).is_ok_and(|re| re.is_match(s)),
            ))
        }
        ("regexReplaceAll", [re, s, with]) => {
            let pattern = text(re)?;
            let re = Regex::new(pattern).map_err(|e| regex_error(pattern, &e))?;
            Ok(Value::from(
                re.replace_all(text(s)?, text(with)?).into_owned(),
            ))
        }
        _ => Err(bad_arguments(name, args)),
    }
}

/// Argo's `jsonpath(json, path)` for paths made of `$`, `.key`, `.*`, `['key']`, `["key"]`,
/// `[n]` (negative from the end) and `[*]`. After a wildcard the result is an array and
/// missing keys are skipped; otherwise they are errors. `json` is JSON text (any other value
/// is used as the document itself).
fn jsonpath(doc: &Value, path: &str) -> Result<Value, String> {
    let parsed;
    let root = match doc {
        Value::String(json) => {
            parsed = serde_json::from_str(json).map_err(|e| format!("invalid JSON: {e}"))?;
            &parsed
        }
        other => other,
    };
    let mut rest = path
        .trim()
        .strip_prefix('$')
        .ok_or_else(|| format!("path '{path}' must start with '$'"))?;
    let (mut nodes, mut multi) = (vec![root], false);
    while !rest.is_empty() {
        let unsupported = || format!("unsupported path syntax at '{rest}'");
        let (step, tail) = path_step(rest).ok_or_else(unsupported)?;
        let mut next = Vec::new();
        for node in nodes {
            if !select(&step, node, &mut next) && !multi {
                return Err(match step {
                    PathStep::Key(k) => format!("key '{k}' not found"),
                    PathStep::Index(i) => format!("index {i} not found"),
                    PathStep::Wild => unsupported(),
                });
            }
        }
        multi |= matches!(step, PathStep::Wild);
        (nodes, rest) = (next, tail);
    }
    Ok(match nodes.first() {
        Some(first) if !multi => (*first).clone(),
        _ => Value::Array(nodes.into_iter().cloned().collect()),
    })
}

enum PathStep {
    Key(String),
    Index(i64),
    Wild,
}

/// Push what `step` selects from `node` onto `out`; false when a key or index is missing.
fn select<'v>(step: &PathStep, node: &'v Value, out: &mut Vec<&'v Value>) -> bool {
    let found = match (step, node) {
        (PathStep::Wild, Value::Array(items)) => {
            out.extend(items);
            return true;
        }
        (PathStep::Wild, Value::Object(map)) => {
            out.extend(map.values());
            return true;
        }
        (PathStep::Wild, _) => return true,
        (PathStep::Key(k), Value::Object(map)) => map.get(k),
        (PathStep::Index(i), Value::Array(items)) => position(&Value::from(*i), items.len())
            .ok()
            .and_then(|i| items.get(i)),
        _ => None,
    };
    out.extend(found);
    found.is_some()
}

/// The first step of a JSONPath suffix and what follows it.
fn path_step(rest: &str) -> Option<(PathStep, &str)> {
    if let Some(after) = rest.strip_prefix('.') {
        if let Some(tail) = after.strip_prefix('*') {
            return Some((PathStep::Wild, tail));
        }
        let (key, tail) = after.split_at(after.find(['.', '[']).unwrap_or(after.len()));
        return (!key.is_empty()).then(|| (PathStep::Key(key.to_owned()), tail));
    }
    let inner = rest.strip_prefix('[')?;
    if let Some(quote) = inner.chars().next().filter(|c| matches!(c, '\'' | '"')) {
        let (key, tail) = inner[1..].split_once(quote)?;
        return Some((PathStep::Key(key.to_owned()), tail.strip_prefix(']')?));
    }
    let (index, tail) = inner.split_once(']')?;
    let step = match index.trim() {
        "*" => PathStep::Wild,
        n => PathStep::Index(n.parse().ok()?),
    };
    Some((step, tail))
}

// ---------------------------------------------------------------------------------------------
// Go-compatible formatting

/// Go's `fmt.Sprintf("%v", v)` (Argo's `string()`), except that arrays and maps are JSON.
fn go_string(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".to_owned(),
        Value::Number(n) if n.is_f64() => go_float(n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => s.clone(),
        Value::Array(_) | Value::Object(_) => go_json(v),
        Value::Bool(_) | Value::Number(_) => v.to_string(),
    }
}

/// Go's `%v` for a float64 (`%g`, shortest precision): exponent form when the decimal exponent
/// is below -4 or at least 6 (`1e+06`, `1.5e-05`), plain digits otherwise (`0.93`, `3`).
fn go_float(f: f64) -> String {
    if !f.is_finite() {
        return if f.is_nan() {
            "NaN"
        } else if f > 0.0 {
            "+Inf"
        } else {
            "-Inf"
        }
        .to_owned();
    }
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..6).contains(&exp) {
        return format!("{f}");
    }
    format!(
        "{mantissa}e{}{:02}",
        if exp < 0 { '-' } else { '+' },
        exp.unsigned_abs()
    )
}

/// Go's `json.Marshal`, as Argo's `toJson`: compact, map keys sorted, integral floats without
/// `.0`, and `<`, `>`, `&`, U+2028, U+2029 escaped as `\u003c`...
fn go_json(v: &Value) -> String {
    let json = serde_json::to_string(&go_normalize(v)).unwrap_or_default();
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

/// Sort map keys and turn integral floats into ints, as Go's encoder prints them.
fn go_normalize(v: &Value) -> Value {
    match v {
        Value::Number(n) if n.is_f64() => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => Value::from(f as i64),
            _ => v.clone(),
        },
        Value::Array(items) => items.iter().map(go_normalize).collect(),
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by_key(|(k, _)| *k);
            entries
                .into_iter()
                .map(|(k, v)| (k.clone(), go_normalize(v)))
                .collect()
        }
        _ => v.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn env() -> Value {
        json!({
            "workflow": {"name": "wf-1", "status": "Succeeded", "parameters": {
                "json": r#"[{"name":"should-print","value":"true"}]"#, "should-print": "true"}},
            "inputs": {"parameters": {"should-print": "true", "n": "3"}},
            "tasks": {"train-model": {"status": "Succeeded",
                "outputs": {"result": "0.93", "parameters": {"acc": "0.93"}}}},
            "item": "a", "retries": "1",
            "lastRetry": {"exitCode": "2", "status": "Failed", "duration": "3",
                "message": "Error (exit code 2)"}
        })
    }

    fn ev(expr: &str) -> Value {
        evaluate(expr, &env()).unwrap_or_else(|e| panic!("{expr}: {e}"))
    }

    fn err(expr: &str) -> String {
        evaluate(expr, &env()).map_or_else(|e| e.to_string(), |v| panic!("{expr}: got {v}"))
    }

    /// Cases are `"<expression> => <expected>"`.
    fn split_case(case: &str) -> (&str, &str) {
        case.split_once(" => ")
            .unwrap_or_else(|| panic!("bad case {case}"))
    }

    /// Each expression must evaluate to the JSON after `=>`.
    fn check_values(cases: &[&str]) {
        for (expr, want) in cases.iter().map(|c| split_case(c)) {
            let want: Value = serde_json::from_str(want).unwrap_or_else(|e| panic!("{want}: {e}"));
            assert_eq!(ev(expr), want, "{expr}");
        }
    }

    /// Each expression must fail with a message containing the text after `=>`.
    fn check_errors(cases: &[&str]) {
        for (expr, needle) in cases.iter().map(|c| split_case(c)) {
            let message = err(expr);
            assert!(
                message.contains(needle),
                "{expr}: {message:?} lacks {needle:?}"
            );
        }
    }

    #[test]
    fn argo_examples() {
        check_values(&[
            r#"inputs.parameters["should-print"] == 'true' => true"#,
            "jsonpath(workflow.parameters.json, '$[0].value') == 'true' => true",
            r#"tasks['train-model'].outputs.result => "0.93""#,
            "asInt(lastRetry.exitCode) != 2 => false",
            r#"lastRetry.status == "Error" || asInt(retries) < 2 => true"#,
            r#"asFloat(tasks['train-model'].outputs.result) > 0.9 ? 'deploy' : 'skip' => "deploy""#,
            r#"tasks.missing.outputs.result ?? 'none' => "none""#,
            r#"toJson(inputs.parameters) => "{\"n\":\"3\",\"should-print\":\"true\"}""#,
            r#"string(1 + 2) => "3""#,
            r#"sprig.upper(item) => "A""#,
            "lastRetry.message matches 'exit code [12]' => true",
            "'a' in ['a','b'] => true",
            "len(workflow.name) > 2 => true",
            "!(1 < 2) and true or not false => true",
        ]);
    }

    #[test]
    fn evaluate_bool_requires_a_boolean() {
        assert_eq!(
            evaluate_bool("asInt(lastRetry.exitCode) != 2", &env()),
            Ok(false)
        );
        assert_eq!(
            evaluate_bool("workflow.status == 'Succeeded'", &env()),
            Ok(true)
        );
        let e = evaluate_bool("'true'", &env()).map_err(|e| e.to_string());
        assert_eq!(
            e,
            Err("expected a boolean, got string in ''true''".to_owned())
        );
        let e = evaluate_bool("nope", &env());
        assert!(matches!(
            e,
            Err(ExprError::NotBool {
                type_name: "nil",
                ..
            })
        ));
    }

    #[test]
    fn operators_precedence_and_typing() {
        check_values(&[
            "1 + 2 * 3 == 7 && (1 + 2) * 3 == 9 && 10 - 4 - 3 == 3 => true",
            "[2 ** 3 ** 2, 2 ^ 10, -2 ** 2, - -5 + +1] => [512.0, 1024.0, -4.0, 6]",
            "[true || false && false, (true || false) && false] => [true, false]",
            "[!true == false, not true == false, !(1 > 2) and true] => [true, true, true]",
            "[true ? 1 : 2 + 3, false ? 1 : 2 + 3, true ? false ? 1 : 2 : 3] => [1, 5, 2]",
            "1 in [1, 2] and 3 not in [1, 2] and 'x' not in {a: 1} => true",
            "'abc' not contains 'x' && 'abc' startsWith 'a' && 'abc' endsWith 'bc' => true",
            "'abc' not matches '^b' && not ('a' not startsWith 'a') => true",
            r#"[1 + nil ?? 2, (tasks.x.result ?? 'd') == 'd', nil ?? nil ?? 'z'] => [3, true, "z"]"#,
            "[7 / 2, 6 / 2, -7 % 3, 0.1 + 0.2] => [3.5, 3.0, -1, 0.30000000000000004]",
            r#"[1_000 + 1.5e3 + 2E-1, abs(-3), abs(-1.5), string(6 / 2)] => [2500.2, 3, 1.5, "3"]"#,
            "1 == 1.0 && 2 > 1.5 && 1 != 1.5 && '1' != 1 && 'a' != nil && nil == nil => true",
            "[1, 'a'] == [1.0, 'a'] && [1, 2] != [2, 1] && {a: [2], b: 1} == {b: 1, a: [2.0]} => true",
            "'abc' < 'abd' && 'b' >= 'a' && 2 <= 2 && 'should-print' in inputs.parameters => true",
            "['x' in nil, 1 in {a: 1}, false && 1 < 'a', true || 1 < 'a'] => [false, false, false, true]",
            r#"'x' ?? (1 < 'a') => "x""#,
        ]);
        assert!(ev("1 + 2").is_i64() && ev("2 * 3 - 1").is_i64() && ev("7 % 3").is_i64());
        assert!(ev("1 + 2.0").is_f64() && ev("6 / 2").is_f64() && ev("2 ** 2").is_f64());
    }

    #[test]
    fn type_and_arithmetic_errors() {
        check_errors(&[
            "7.5 % 2 => operator '%' requires integers",
            "5 % 0 => integer divide by zero",
            "1 / 0 => division by zero",
            "9223372036854775807 + 1 => integer overflow at 20",
            "-(-9223372036854775807 - 1) => integer overflow",
            "10.0 ** 400 => result +Inf is not a finite number",
            "'a' + 1 => cannot apply '+' to string and number at 4",
            "1 < 'a' => cannot compare number with string at 2 in '1 < 'a''",
            "nil > 1 => cannot compare nil with number",
            "1 in 'abc' => operator 'in' is not defined on string",
            "'a' contains 1 => operator 'contains' requires strings, got string and number",
            "'a' matches '(' => invalid regular expression '('",
            "1 && true => operator '&&' requires booleans, got number at 2",
            "false or 'x' => operator '||' requires booleans, got string",
            "!1 => operator '!' requires a boolean, got number",
            "-'a' => operator '-' requires a number, got string",
            "'yes' ? 1 : 2 => ternary condition must be a boolean, got string at 0",
        ]);
    }

    #[test]
    fn literals_nil_members_and_indexing() {
        check_values(&[
            r#"'it\'s' + ' ' + 'tab\there' + `raw\n` => "it's tab\thereraw\\n""#,
            r#""q\"\\\n\u00e9\x41" => "q\"\\\n\u00e9A""#,
            r#"[1, 'a', nil, true, 2.5,] => [1, "a", null, true, 2.5]"#,
            r#"{a: 1, 'b-c': 2, 3: 'x', ('k' + '1'): true,} => {"a": 1, "b-c": 2, "3": "x", "k1": true}"#,
            "[tasks.missing.outputs.result, nope, tasks?.missing?.outputs, nil[0]] => [null, null, null, null]",
            r#"[nil ?? 'x', '' ?? 'x', tasks?.['train-model']?.status] => ["x", "", "Succeeded"]"#,
            r#"tasks['train-model'].outputs.parameters.acc + {a: {b: [1, '2']}}.a.b[1] => "0.932""#,
            r#"'abc'[1] + 'abc'[-1] + 'héllo'[1] => "bcé""#,
            "[1, 2, 3][-1] + [1, 2, 3][1.0] => 5",
        ]);
        check_errors(&[
            "item.foo => cannot access member 'foo' of string at 5 in 'item.foo'",
            "[1].x => cannot access member 'x' of array",
            "inputs.parameters[0] => cannot index a map with number",
            "true[0] => cannot index bool",
            "[1, 2][2] => index 2 out of range (length 2)",
            "'ab'[-3] => index -3 out of range (length 2)",
            "[1][0.5] => index must be an integer, got number",
            "99999999999999999999 => invalid number '99999999999999999999' at 0",
        ]);
    }

    #[test]
    fn builtin_functions() {
        check_values(&[
            "asInt('42') + asInt(3.9) + asInt(-1) + int('7') => 51",
            "asFloat('1.5') + asFloat(1) + float(2) => 4.5",
            r#"string(nil) + string(true) + string(1.5) + string('s') => "<nil>true1.5s""#,
            r#"[string(1500000.0), string([1, 'a'])] => ["1.5e+06", "[1,\"a\"]"]"#,
            r#"toJson({b: 1.0, a: ['x<y&z'], c: nil}) => "{\"a\":[\"x\\u003cy\\u0026z\"],\"b\":1,\"c\":null}""#,
            "len('héllo') + len([1, 2]) + len({a: 1}) => 8",
            r#"lower('AbC') + upper('x') + trim('  y  ') + trim('xxzxx', 'x') => "abcXyz""#,
            r#"trimPrefix('v1.2', 'v') + trimSuffix('a.txt', '.txt') => "1.2a""#,
            "hasPrefix('abc', 'ab') && hasSuffix('abc', 'bc') => true",
            r#"replace('a-b-c', '-', '_') + join(['a', 'b'], '-') + join(['c', 1]) => "a_b_ca-bc1""#,
            r#"[split('a,b', ','), split('a,b,c', ',', 2), split('ab', '')] => [["a", "b"], ["a", "b,c"], ["a", "b"]]"#,
            "[min(3, 1.5, 2), max([1, 7, 3]), first([1, 2]), last([1, 2]), first([])] => [1.5, 7, 1, 2, null]",
            r#"[keys({a: 1, b: 2}), values({a: 1, b: 2})] => [["a", "b"], [1, 2]]"#,
        ]);
        check_errors(&[
            r#"asInt('abc') => asInt(): cannot parse "abc" as an integer at 0"#,
            r#"asInt('1.5') => cannot parse "1.5" as an integer"#,
            "asFloat(true) => asFloat(): cannot convert bool to a float",
            "asInt() => asInt(): expected 1 argument(s), got 0 at 0 in 'asInt()'",
            "len(1) => len(): unsupported arguments (number)",
            "min() => min(): expected at least one number",
        ]);
    }

    #[test]
    fn jsonpath_subset() {
        let doc = r#"'{"a": {"b c": [1, {"name": "x"}, {"name": "y"}]}, "n": 3}'"#;
        let jp = |path: &str, want: &str| format!("jsonpath({doc}, `{path}`) => {want}");
        check_values(&[
            &jp("$.n", "3"),
            &jp("$.a['b c'][1].name", r#""x""#),
            &jp(r#"$["a"]["b c"][-1].name"#, r#""y""#),
            &jp("$.a['b c'][*].name", r#"["x", "y"]"#),
            &jp("$.a.*", r#"[[1, {"name": "x"}, {"name": "y"}]]"#),
            "[jsonpath({k: [5]}, '$.k[0]'), jsonpath('[]', '$')] => [5, []]",
        ]);
        check_errors(&[
            &jp("$.missing", "jsonpath(): key 'missing' not found"),
            &jp("$.a['b c'][9]", "index 9 not found"),
            &jp("$..name", "unsupported path syntax at '..name'"),
            &jp("a", "must start with '$'"),
            "jsonpath('{', '$') => jsonpath(): invalid JSON",
        ]);
    }

    #[test]
    fn sprig_functions() {
        check_values(&[
            r#"sprig.replace('-', '_', 'a-b-c') + sprig.trimAll('-', '-y-') => "a_b_cy""#,
            "sprig.contains('b', 'abc') && sprig.hasPrefix('a', 'ab') && sprig.hasSuffix('c', 'c') => true",
            r#"sprig.trimPrefix('v', 'v1') + sprig.trimSuffix('!', 'x!') + sprig.lower('AB') => "1xab""#,
            r#"[sprig.default('d', ''), sprig.default('d', 'v'), sprig.default('d', nil)] => ["d", "v", "d"]"#,
            "[sprig.empty(''), sprig.empty(0), sprig.empty([]), sprig.empty('x')] => [true, true, true, false]",
            r#"[sprig.coalesce(nil, '', 'x'), sprig.ternary('yes', 'no', 1 > 2)] => ["x", "no"]"#,
            r#"sprig.toString(1.5) + sprig.toString(2) + sprig.toString(nil) + sprig.trim(' c ') => "1.52<nil>c""#,
            "[sprig.atoi('12'), sprig.atoi('x'), sprig.int('3.00'), sprig.int64(2.9), sprig.int(true)] => [12, 0, 3, 2, 1]",
            "sprig.float64('1.5') + sprig.float64('junk') => 1.5",
            "[sprig.add(1, '2', 3), sprig.add1(1), sprig.sub(5, 7), sprig.mul(2, 3, 4)] => [6, 2, -2, 24]",
            "[sprig.div(7, 2), sprig.mod(7, 2), sprig.max(1, '9', 3), sprig.min(4, 2)] => [3, 1, 9, 2]",
            r#"sprig.quote('a"b', 1, nil) + sprig.squote('c') => "\"a\\\"b\" \"1\"'c'""#,
            r#"[sprig.join(',', [1, 'b']), sprig.splitList('/', 'a/b'), sprig.list(1)] => ["1,b", ["a", "b"], [1]]"#,
            "[sprig.first([3, 4]), sprig.last([3, 4]), sprig.fromJson('[1]'), sprig.fromJson('{')] => [3, 4, [1], null]",
            r#"sprig.toJson({a: 1}) + sprig.regexReplaceAll('a(x*)b', '-ab-axxb-', '${1}W') => "{\"a\":1}-W-xxW-""#,
            "[sprig.regexMatch('^a.c$', 'abc'), sprig.regexMatch('(', 'abc')] => [true, false]",
        ]);
        check_errors(&[
            "sprig.div(1, 0) => sprig.div(): integer divide by zero",
            "sprig.ternary(1, 2, 'x') => sprig.ternary(): unsupported arguments (number, number, string)",
            "sprig.upper(1) => sprig.upper(): expected a string, got number",
        ]);
    }

    #[test]
    fn every_listed_function_is_dispatched() {
        let sprig = SPRIG_FUNCTIONS
            .split_whitespace()
            .map(|f| format!("sprig.{f}"));
        for name in FUNCTIONS.split_whitespace().map(str::to_owned).chain(sprig) {
            assert!(is_known_function(&name), "{name}");
            for args in [
                vec![],
                vec![json!("1")],
                vec![json!(1), json!(2)],
                vec![json!(1); 3],
            ] {
                if let Err(e) = call_function(&name, &args) {
                    assert!(!e.contains("unknown function"), "{name}: {e}");
                }
            }
        }
    }

    #[test]
    fn syntax_errors_say_what_and_where() {
        check_errors(&[
            "a == ) => unexpected token ')' at 5 in 'a == )'",
            "1 + => unexpected end of expression at 3 in '1 +'",
            "'abc => unterminated string at 0 in ''abc'",
            "a @ b => unexpected character '@' at 2 in 'a @ b'",
            r"'\q' => invalid escape sequence '\q' at 1 in ''\q''",
            "1 2 => unexpected token '2' at 2 in '1 2'",
            "a.1 => expected a property name at 2 in 'a.1'",
            "a not b => unexpected token 'b' at 6 in 'a not b'",
            "true ?: 1 => unexpected token ':' at 6 in 'true ?: 1'",
            "let x => unexpected token 'let' at 0 in 'let x'",
            "x | upper() => unexpected character '|' at 2 in 'x | upper()'",
            "[1, 2][1:] => unexpected token ':' at 8",
            "{[1]: 2} => a map key must be a name, a string, a number or (expr) at 1",
            "x ?? 'a' == 'a' => operator '==' and coalesce expressions (??) cannot be mixed",
            "foo(1) => unknown function 'foo' at 0 in 'foo(1)'",
            "sprig.nope(1) => unknown function 'sprig.nope' at 0",
            "workflow.name.upper() => unknown function '.upper' at 14",
            "item.foo() => unknown function 'item.foo'",
            "map([1], #) => closures are not supported by the local engine: 'map([1], #)' ('map()' at 0)",
            "abs(# * 2) => closures are not supported by the local engine: 'abs(# * 2)' ('#' at 4)",
            "filter([1], {# > 1}) => closures are not supported by the local engine: 'filter([1], {# > 1})'",
        ]);
        assert_eq!(err(""), "unexpected end of expression at 0 in ''");
        assert_eq!(
            validate("tasks.a.outputs.result ?? sprig.default('x', item)"),
            Ok(())
        );
        assert!(matches!(
            validate("nope()"),
            Err(ExprError::UnknownFunction { pos: 0, .. })
        ));
    }

    #[test]
    fn to_text_and_go_formatting() {
        assert_eq!(to_text(&json!("a \"b\"")), "a \"b\"");
        assert_eq!(to_text(&Value::Null), "");
        assert_eq!(to_text(&json!([true, 42, 0.93, 3.0])), "[true,42,0.93,3]");
        let map = json!({"b": 1, "a": "<\u{2028}\n"});
        assert_eq!(to_text(&map), r#"{"a":"\u003c\u2028\n","b":1}"#);
        let floats = [
            (0.93, "0.93"),
            (3.0, "3"),
            (1e6, "1e+06"),
            (1234567.5, "1.2345675e+06"),
        ];
        let more = [
            (123456.0, "123456"),
            (1e-4, "0.0001"),
            (1e-5, "1e-05"),
            (1e21, "1e+21"),
        ];
        for (f, want) in floats.into_iter().chain(more) {
            assert_eq!(to_text(&json!(f)), want);
        }
        assert_eq!(go_float(f64::NEG_INFINITY), "-Inf");
    }

    #[test]
    fn nesting_is_bounded() {
        let nested = |open: &str, inner: &str, close: &str, n: usize| {
            format!("{}{inner}{}", open.repeat(n), close.repeat(n))
        };
        let chain = |first: &str, link: &str, n: usize| format!("{first}{}", link.repeat(n));
        let (fits, half) = (MAX_DEPTH - 1, MAX_DEPTH / 2 - 1);
        let accepted = [
            nested("(", "1", ")", fits),
            nested("abs(", "1", ")", fits),
            nested("[", "1", "]", fits),
            nested("sprig.add(", "1", ")", fits),
            nested("(true ? ", "1", " : 1)", half),
            nested("[", "1", "]", half) + &"[0]".repeat(half),
            chain("1", " + 1", fits),
            chain("", "-", fits) + "1",
        ];
        for expr in &accepted {
            assert!(evaluate(expr, &env()).is_ok(), "{}...", &expr[..20]);
        }
        let rejected = [
            nested("(", "1", ")", MAX_DEPTH),
            chain("1", " + 1", MAX_DEPTH),
            nested("(", "1", ")", 100_000),
            chain("1", " + 1", 100_000),
            chain("a", ".b", 100_000),
            chain("a", "[0]", 100_000),
            chain("", "-", 100_000) + "1",
            chain("", "!", 100_000) + "true",
            chain("", "[", 100_000),
            chain("", "{a:", 100_000),
            chain("", "abs(", 100_000),
            chain("", "true ? ", 100_000),
            chain("", "2 ** ", 100_000),
            chain("", "1 == ", 100_000),
        ];
        for expr in &rejected {
            let result = evaluate(expr, &env());
            let too_deep = matches!(
                result,
                Err(ExprError::TooDeep {
                    limit: MAX_DEPTH,
                    ..
                })
            );
            assert!(too_deep, "{}...: {result:?}", &expr[..20]);
        }
    }

    const FRAGMENTS: &[&str] = &[
        "1",
        "2.5",
        "-",
        "+",
        "*",
        "/",
        "%",
        "**",
        "^",
        "(",
        ")",
        "[",
        "]",
        "{",
        "}",
        ",",
        ":",
        "?",
        "?.",
        "??",
        ".",
        "..",
        "!",
        "not",
        "in",
        "and",
        "or",
        "==",
        "!=",
        "<",
        ">=",
        "matches",
        "contains",
        "|",
        "#",
        "'s'",
        "\"t\"",
        "`r`",
        "nil",
        "true",
        "a",
        "item",
        "tasks",
        "x",
        "len(",
        "asInt(",
        "sprig.",
        "upper(",
        "jsonpath(",
        "'$[0]'",
        "\\",
        "'",
        "1e",
        "é",
        " ",
    ];

    proptest! {
        #[test]
        fn never_panics_on_token_soup(parts in prop::collection::vec(prop::sample::select(FRAGMENTS), 0..24)) {
            let _ = evaluate(&parts.concat(), &env());
            let _ = evaluate(&parts.join(" "), &env());
        }

        #[test]
        fn never_panics_on_arbitrary_text(expr in any::<String>()) {
            let _ = evaluate(&expr, &env());
        }

        #[test]
        fn never_panics_on_ascii_noise(expr in "[ -~]{0,40}") {
            let _ = evaluate(&expr, &env());
        }

        #[test]
        fn integer_arithmetic_matches_i64(a in -1_000_000_i64..1_000_000, b in 1_i64..1000) {
            prop_assert_eq!(ev(&format!("{a} + {b} * 2 - {b}")), json!(a + b));
            prop_assert_eq!(ev(&format!("{a} % {b}")), json!(a % b));
            prop_assert_eq!(ev(&format!("string({a}) == '{a}'")), json!(true));
        }
    }
}
