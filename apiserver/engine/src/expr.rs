//! Evaluation of Argo's expr-lang expressions (ARGO-SEMANTICS §3.1, retry and hook expressions).
//!
//! Argo evaluates `{{= expr }}` tags, `retryStrategy.expression`, DAG/steps output
//! `valueFrom.expression` and lifecycle-hook `expression`s with
//! [expr-lang](https://github.com/expr-lang/expr), over the workflow variables as a nested map.
//! The local engine cannot embed Go, so this module implements the subset of the language that
//! workflows use, with expr-lang's grammar, precedence and typing rules:
//!
//! - **Literals**: integers (decimal, `0x`/`0o`/`0b`, `_` separators; kept as `i64`), floats,
//!   `'single'`/`"double"`-quoted strings with backslash escapes, `` `raw` `` strings, `true`,
//!   `false`, `nil`, arrays `[1, 'a']` and maps `{a: 1, 'b': 2, 3: 'x', ('k' + 'ey'): true}`.
//! - **Variables**: the top-level keys of the environment, `a.b`, `a?.b`, `a['b-c']`, `a[0]`,
//!   `a[-1]` (from the end), slices `a[1:3]`. Indexing a string gives a character (Unicode
//!   scalar, not a byte). A missing key, an unknown variable and any access on `nil` give `nil`
//!   (Argo relies on `tasks.t.outputs.result ?? 'x'` for skipped tasks); a member of a string,
//!   number, bool or array is an error.
//! - **Operators**, loosest first: `|` (pipe: `x | f(y)` is `f(x, y)`), the ternary `c ? a : b`,
//!   `||`/`or`, `&&`/`and`, comparisons (`==` `!=` `<` `>` `<=` `>=` `in` `matches` `contains`
//!   `startsWith` `endsWith`, the last five negatable as `not in` ...; chains like `a < b < c`
//!   mean `a < b && b < c`), `..` (integer range), `+` `-`, `*` `/` `%`, `**`/`^` (power, right
//!   associative), `??` (nil-coalescing, which binds tighter than any other binary operator and
//!   cannot be mixed with them without parentheses), then member/index/call. As in expr-lang,
//!   unary `!`/`not` takes an operand up to `*`-level operators (`!a == b` is `(!a) == b`) and
//!   unary `-`/`+` one up to `**` (`-2 ** 2` is `-4`).
//! - **Typing**: `+` concatenates two strings or adds numbers (int + int stays an int, overflow is
//!   an error), `/` and `**` always give floats, `%` needs ints. `==` compares ints and floats
//!   numerically and arrays/maps structurally; values of different types are unequal. Ordering
//!   needs two numbers or two strings. `&&`, `||`, `!` and the ternary need booleans (`&&`/`||`
//!   short-circuit). `in` tests array membership or map-key presence (`x in nil` is false).
//!   `matches` uses the `regex` crate (RE2 syntax, like Go's `regexp`).
//! - **Functions**: Argo's `asInt`, `asFloat`, `string`, `toJson`, `jsonpath(json, path)` (path:
//!   `$`, `.key`, `.*`, `['key']`, `[n]`, `[*]`); expr-lang's `int`, `float`, `len`, `lower`,
//!   `upper`, `trim`, `trimPrefix`, `trimSuffix`, `hasPrefix`, `hasSuffix`, `replace`, `repeat`,
//!   `split`, `join`, `abs`, `ceil`, `floor`, `round`, `min`, `max`, `sum`, `mean`, `first`,
//!   `last`, `keys`, `values`, `reverse`, `type`, `fromJSON`; and the sprig functions listed in
//!   [`SPRIG_FUNCTIONS`] as `sprig.name(...)`, with sprig's argument order (subject last) and
//!   lenient conversions (`sprig.atoi('x')` is 0).
//!
//! Not supported, with a clear error: closures and predicates (`filter`, `map`, `all`, `#`, ...),
//! `let`, method calls other than `sprig.*`, the Elvis operator `?:`, and functions not listed
//! above (date, crypto and base64 helpers among them). Length of strings counts characters.
//! Nesting deeper than [`MAX_DEPTH`] is rejected, so no input can overflow the stack.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt::Write as _;

use regex::Regex;
use serde_json::{Map, Number, Value};

/// Deepest expression tree (and deepest parser recursion) accepted.
pub const MAX_DEPTH: usize = 256;
/// Largest string (bytes) or array (elements) that `repeat` or `..` may build.
const MAX_BUILT: usize = 1 << 20;

/// The functions callable by name.
pub const FUNCTIONS: &[&str] = &[
    "asInt", "asFloat", "string", "int", "float", "toJson", "fromJSON", "jsonpath", "len", "lower",
    "upper", "trim", "trimPrefix", "trimSuffix", "hasPrefix", "hasSuffix", "replace", "repeat",
    "split", "join", "abs", "ceil", "floor", "round", "min", "max", "sum", "mean", "first", "last",
    "keys", "values", "reverse", "type",
];
/// The functions callable as `sprig.<name>(...)`.
pub const SPRIG_FUNCTIONS: &[&str] = &[
    "upper", "lower", "trim", "trimAll", "trimPrefix", "trimSuffix", "replace", "contains",
    "hasPrefix", "hasSuffix", "default", "empty", "coalesce", "ternary", "toString", "atoi", "int",
    "int64", "float64", "add", "add1", "sub", "mul", "div", "mod", "max", "min", "addf", "subf",
    "mulf", "divf", "quote", "squote", "cat", "join", "splitList", "repeat", "substr", "trunc",
    "list", "first", "last", "toJson", "fromJson", "regexMatch", "regexReplaceAll",
];
/// expr-lang builtins that take a predicate (closure) argument.
const CLOSURE_FUNCTIONS: &[&str] = &[
    "all", "none", "any", "one", "filter", "map", "count", "find", "findIndex", "findLast",
    "findLastIndex", "groupBy", "sortBy", "reduce",
];

static NULL: Value = Value::Null;

/// Why an expression could not be evaluated. Positions are byte offsets into `expr`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExprError {
    /// The text is not a valid expression (bad character, token, literal or escape).
    #[error("{message} at {pos} in '{expr}'")]
    Syntax { message: String, pos: usize, expr: String },
    /// A call to a function this evaluator does not provide.
    #[error("unknown function '{name}' at {pos} in '{expr}'")]
    UnknownFunction { name: String, pos: usize, expr: String },
    /// A closure/predicate construct (`filter(xs, {# > 1})`, ...).
    #[error("closures are not supported by the local engine: '{expr}' ('{construct}' at {pos})")]
    Closure { construct: String, pos: usize, expr: String },
    /// Nesting deeper than [`MAX_DEPTH`].
    #[error("expression is nested too deeply (more than {limit} levels) at {pos} in '{expr}'")]
    TooDeep { limit: usize, pos: usize, expr: String },
    /// A run-time error: wrong types, bad function argument, index out of range, ...
    #[error("{message} at {pos} in '{expr}'")]
    Eval { message: String, pos: usize, expr: String },
    /// [`evaluate_bool`] got a value that is not a boolean.
    #[error("expected a boolean, got {type_name} in '{expr}'")]
    NotBool { type_name: &'static str, expr: String },
}

/// Evaluate `expr` against `env` (a JSON object whose keys are the top-level variables).
pub fn evaluate(expr: &str, env: &Value) -> Result<Value, ExprError> {
    let ast = parse(expr)?;
    let evaluator = Evaluator { env, src: expr };
    evaluator.eval(&ast).map(Cow::into_owned)
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
/// give compact JSON in [`toJson`'s encoding](self) (sorted keys, HTML-safe escapes) instead of
/// Go's `[a b]` / `map[k:v]`.
pub fn to_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => go_string(other),
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

/// Punctuation, longest first so that `??` wins over `?`.
const PUNCTS: &[&str] = &[
    "?.", "??", "..", "==", "!=", "<=", ">=", "&&", "||", "**", "?", ":", ".", ",", "(", ")", "[",
    "]", "{", "}", "<", ">", "!", "+", "-", "*", "/", "%", "^", "|", "#",
];

/// A message and the byte offset it refers to.
type Located<T> = Result<T, (String, usize)>;

fn tokenize(src: &str) -> Located<Vec<Token>> {
    let mut tokens = Vec::new();
    let mut pos = 0;
    while let Some(rest) = src.get(pos..) {
        let Some(c) = rest.chars().next() else { break };
        if c.is_whitespace() {
            pos += c.len_utf8();
            continue;
        }
        let (tok, end) = if c.is_ascii_digit() {
            lex_number(rest, pos)?
        } else if matches!(c, '\'' | '"' | '`') {
            let (s, end) = lex_string(rest, pos, c)?;
            (Tok::Str(s), end)
        } else if c.is_alphabetic() || c == '_' || c == '$' {
            let len = rest
                .find(|ch: char| !(ch.is_alphanumeric() || ch == '_' || ch == '$'))
                .unwrap_or(rest.len());
            (Tok::Ident(rest.get(..len).unwrap_or_default().to_owned()), pos + len)
        } else if let Some(p) = PUNCTS.iter().find(|p| rest.starts_with(**p)) {
            (Tok::Punct(p), pos + p.len())
        } else {
            return Err((format!("unexpected character '{c}'"), pos));
        };
        tokens.push(Token { tok, start: pos, end });
        pos = end;
    }
    Ok(tokens)
}

/// Lex the number at the start of `rest` (which begins at byte `start` of the source).
fn lex_number(rest: &str, start: usize) -> Located<(Tok, usize)> {
    let b = rest.as_bytes();
    let scan = |mut i: usize, ok: fn(&u8) -> bool| {
        while b.get(i).is_some_and(|c| ok(c) || *c == b'_') {
            i += 1;
        }
        i
    };
    let invalid = |len: usize| (format!("invalid number '{}'", rest.get(..len).unwrap_or(rest)), start);
    let radix = match (b.first(), b.get(1)) {
        (Some(b'0'), Some(b'x' | b'X')) => 16,
        (Some(b'0'), Some(b'o' | b'O')) => 8,
        (Some(b'0'), Some(b'b' | b'B')) => 2,
        _ => 10,
    };
    if radix != 10 {
        let end = scan(2, u8::is_ascii_alphanumeric);
        let digits: String = rest.get(2..end).unwrap_or_default().replace('_', "");
        return i64::from_str_radix(&digits, radix)
            .map(|n| (Tok::Int(n), start + end))
            .map_err(|_| invalid(end));
    }
    let mut end = scan(0, u8::is_ascii_digit);
    let mut is_float = false;
    if b.get(end) == Some(&b'.') && b.get(end + 1).is_some_and(u8::is_ascii_digit) {
        is_float = true;
        end = scan(end + 1, u8::is_ascii_digit);
    }
    if matches!(b.get(end), Some(b'e' | b'E')) {
        let digits_at = end + 1 + usize::from(matches!(b.get(end + 1), Some(b'+' | b'-')));
        if b.get(digits_at).is_some_and(u8::is_ascii_digit) {
            is_float = true;
            end = scan(digits_at, u8::is_ascii_digit);
        }
    }
    let text = rest.get(..end).unwrap_or_default().replace('_', "");
    let tok = if is_float {
        text.parse::<f64>().ok().filter(|f| f.is_finite()).map(Tok::Float)
    } else {
        text.parse::<i64>().ok().map(Tok::Int)
    };
    tok.map(|t| (t, start + end)).ok_or_else(|| invalid(end))
}

/// Lex the string literal opening with `quote` at the start of `rest` (byte `start`).
fn lex_string(rest: &str, start: usize, quote: char) -> Located<(String, usize)> {
    let mut out = String::new();
    let mut chars = rest.char_indices().skip(1).map(|(i, c)| (start + i, c));
    while let Some((at, c)) = chars.next() {
        if c == quote {
            return Ok((out, at + 1));
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
            'a' => Some('\x07'),
            'b' => Some('\x08'),
            'f' => Some('\x0c'),
            'v' => Some('\x0b'),
            '\\' | '\'' | '"' | '`' => Some(e),
            'x' => read_code(&mut chars, 0, 2, 16),
            'u' => read_code(&mut chars, 0, 4, 16),
            'U' => read_code(&mut chars, 0, 8, 16),
            '0'..='7' => read_code(&mut chars, e.to_digit(8).unwrap_or(0), 2, 8),
            _ => None,
        };
        match decoded {
            Some(ch) => out.push(ch),
            None => return Err((format!("invalid escape sequence '\\{e}'"), at)),
        }
    }
    Err(("unterminated string".to_owned(), start))
}

fn read_code(chars: &mut impl Iterator<Item = (usize, char)>, first: u32, n: usize, radix: u32) -> Option<char> {
    let mut code = first;
    for _ in 0..n {
        let digit = chars.next()?.1.to_digit(radix)?;
        code = code.checked_mul(radix)?.checked_add(digit)?;
    }
    char::from_u32(code)
}

// ---------------------------------------------------------------------------------------------
// Syntax tree and parser

#[derive(Debug, Clone)]
struct Node {
    /// Byte offset of the token that names the node (operator, literal, `[`, ...).
    pos: usize,
    /// Height of the subtree, checked against [`MAX_DEPTH`] when the node is built.
    depth: usize,
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    Lit(Value),
    Ident(String),
    Array(Vec<Node>),
    Map(Vec<(Node, Node)>),
    Member(Box<Node>, String),
    Index(Box<Node>, Box<Node>),
    Slice(Box<Node>, Option<Box<Node>>, Option<Box<Node>>),
    Call(String, Vec<Node>),
    Unary(UnOp, Box<Node>),
    Binary(BinOp, Box<Node>, Box<Node>),
    Cond(Box<Node>, Box<Node>, Box<Node>),
}

fn max_depth<'a>(nodes: impl IntoIterator<Item = &'a Node>) -> usize {
    nodes.into_iter().map(|n| n.depth).max().unwrap_or(0)
}

impl Kind {
    fn child_depth(&self) -> usize {
        match self {
            Kind::Lit(_) | Kind::Ident(_) => 0,
            Kind::Array(items) | Kind::Call(_, items) => max_depth(items),
            Kind::Map(pairs) => max_depth(pairs.iter().flat_map(|(k, v)| [k, v])),
            Kind::Member(a, _) | Kind::Unary(_, a) => a.depth,
            Kind::Index(a, b) | Kind::Binary(_, a, b) => a.depth.max(b.depth),
            Kind::Slice(a, b, c) => max_depth([Some(a), b.as_ref(), c.as_ref()].into_iter().flatten().map(|n| &**n)),
            Kind::Cond(a, b, c) => max_depth([&**a, &**b, &**c]),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UnOp {
    Not,
    Neg,
    Plus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BinOp {
    Pipe,
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    In,
    Matches,
    Contains,
    StartsWith,
    EndsWith,
    Range,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Coalesce,
}

impl BinOp {
    const ALL: [(BinOp, &'static str); 22] = [
        (BinOp::Pipe, "|"),
        (BinOp::Or, "||"),
        (BinOp::And, "&&"),
        (BinOp::Eq, "=="),
        (BinOp::Ne, "!="),
        (BinOp::Lt, "<"),
        (BinOp::Gt, ">"),
        (BinOp::Le, "<="),
        (BinOp::Ge, ">="),
        (BinOp::In, "in"),
        (BinOp::Matches, "matches"),
        (BinOp::Contains, "contains"),
        (BinOp::StartsWith, "startsWith"),
        (BinOp::EndsWith, "endsWith"),
        (BinOp::Range, ".."),
        (BinOp::Add, "+"),
        (BinOp::Sub, "-"),
        (BinOp::Mul, "*"),
        (BinOp::Div, "/"),
        (BinOp::Mod, "%"),
        (BinOp::Pow, "**"),
        (BinOp::Coalesce, "??"),
    ];

    fn from_tok(tok: &Tok) -> Option<BinOp> {
        let text = match tok {
            Tok::Punct(p) => *p,
            Tok::Ident(word) => match word.as_str() {
                "or" => "||",
                "and" => "&&",
                other => other,
            },
            _ => return None,
        };
        let text = if text == "^" { "**" } else { text };
        Self::ALL.iter().find(|(_, s)| *s == text).map(|(op, _)| *op)
    }

    fn symbol(self) -> &'static str {
        Self::ALL.iter().find(|(op, _)| *op == self).map_or("?", |(_, s)| s)
    }

    /// expr-lang's precedence and whether the operator is right-associative.
    fn precedence(self) -> (u8, bool) {
        match self {
            BinOp::Pipe => (0, false),
            BinOp::Or => (10, false),
            BinOp::And => (15, false),
            BinOp::Range => (25, false),
            BinOp::Add | BinOp::Sub => (30, false),
            BinOp::Mul | BinOp::Div | BinOp::Mod => (60, false),
            BinOp::Pow => (100, true),
            BinOp::Coalesce => (250, false),
            _ => (20, false),
        }
    }

    fn is_comparison(self) -> bool {
        self.precedence().0 == 20
    }

    fn negatable(self) -> bool {
        matches!(self, BinOp::In | BinOp::Matches | BinOp::Contains | BinOp::StartsWith | BinOp::EndsWith)
    }
}

type PResult<T> = Result<T, ExprError>;

fn parse(src: &str) -> PResult<Node> {
    let toks = tokenize(src).map_err(|(message, pos)| ExprError::Syntax {
        message,
        pos,
        expr: src.to_owned(),
    })?;
    let eof = Token { tok: Tok::Eof, start: src.len(), end: src.len() };
    let mut parser = Parser { src, toks, pos: 0, depth: 0, eof };
    let node = parser.expr(0)?;
    match parser.peek().tok {
        Tok::Eof => Ok(node),
        _ => Err(parser.unexpected(parser.pos)),
    }
}

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
        if found {
            self.pos += 1;
        }
        found
    }

    fn expect(&mut self, punct: &str) -> PResult<()> {
        if self.eat(punct) { Ok(()) } else { Err(self.unexpected(self.pos)) }
    }

    fn syntax(&self, message: String, pos: usize) -> ExprError {
        ExprError::Syntax { message, pos, expr: self.src.to_owned() }
    }

    /// "unexpected token" error for the token at `index`.
    fn unexpected(&self, index: usize) -> ExprError {
        let t = self.token(index);
        let message = match t.tok {
            Tok::Eof => "unexpected end of expression".to_owned(),
            _ => format!("unexpected token '{}'", self.src.get(t.start..t.end).unwrap_or_default()),
        };
        self.syntax(message, t.start)
    }

    fn node(&self, pos: usize, kind: Kind) -> PResult<Node> {
        let depth = kind.child_depth() + 1;
        if depth > MAX_DEPTH {
            return Err(ExprError::TooDeep { limit: MAX_DEPTH, pos, expr: self.src.to_owned() });
        }
        Ok(Node { pos, depth, kind })
    }

    /// Parse an expression whose binary operators bind at least as tightly as `min`.
    fn expr(&mut self, min: u8) -> PResult<Node> {
        self.depth += 1;
        let result = if self.depth > MAX_DEPTH {
            let pos = self.peek().start;
            Err(ExprError::TooDeep { limit: MAX_DEPTH, pos, expr: self.src.to_owned() })
        } else {
            self.binary(min)
        };
        self.depth -= 1;
        result
    }

    fn binary(&mut self, min: u8) -> PResult<Node> {
        let mut left = self.unary()?;
        let mut after_coalesce = false;
        while let Some((op, negate, width)) = self.peek_binary()? {
            let (prec, right_assoc) = op.precedence();
            if prec < min {
                break;
            }
            let pos = self.peek().start;
            if after_coalesce && op != BinOp::Coalesce {
                let message = format!(
                    "operator '{}' and coalesce expressions (??) cannot be mixed; wrap either in parentheses",
                    op.symbol()
                );
                return Err(self.syntax(message, pos));
            }
            self.pos += width;
            left = if op == BinOp::Pipe {
                self.pipe(left)?
            } else if op.is_comparison() {
                self.comparison(left, op, negate, pos)?
            } else {
                let right = self.expr(if right_assoc { prec } else { prec + 1 })?;
                self.node(pos, Kind::Binary(op, Box::new(left), Box::new(right)))?
            };
            after_coalesce = op == BinOp::Coalesce;
        }
        if min == 0 && self.is("?") {
            let pos = self.peek().start;
            self.pos += 1;
            let then = self.expr(0)?;
            self.expect(":")?;
            let otherwise = self.expr(0)?;
            left = self.node(pos, Kind::Cond(Box::new(left), Box::new(then), Box::new(otherwise)))?;
        }
        Ok(left)
    }

    /// The binary operator at the cursor, whether it is negated (`not in`), and its token count.
    fn peek_binary(&self) -> PResult<Option<(BinOp, bool, usize)>> {
        if matches!(&self.peek().tok, Tok::Ident(w) if w == "not") {
            return match BinOp::from_tok(&self.token(self.pos + 1).tok) {
                Some(op) if op.negatable() => Ok(Some((op, true, 2))),
                _ => Err(self.unexpected(self.pos + 1)),
            };
        }
        Ok(BinOp::from_tok(&self.peek().tok).map(|op| (op, false, 1)))
    }

    /// A comparison and any comparisons chained after it (`a < b < c`: `a < b && b < c`).
    fn comparison(&mut self, mut left: Node, mut op: BinOp, mut negate: bool, mut pos: usize) -> PResult<Node> {
        let mut root: Option<Node> = None;
        loop {
            let right = self.expr(21)?;
            let next = self.peek_binary()?.filter(|(next, _, _)| next.is_comparison());
            let carried = next.map(|_| right.clone());
            let mut cmp = self.node(pos, Kind::Binary(op, Box::new(left), Box::new(right)))?;
            if negate {
                cmp = self.node(pos, Kind::Unary(UnOp::Not, Box::new(cmp)))?;
            }
            root = Some(match root {
                None => cmp,
                Some(r) => self.node(pos, Kind::Binary(BinOp::And, Box::new(r), Box::new(cmp)))?,
            });
            let (Some((next_op, next_negate, width)), Some(carried)) = (next, carried) else {
                break;
            };
            pos = self.peek().start;
            self.pos += width;
            (left, op, negate) = (carried, next_op, next_negate);
        }
        root.ok_or_else(|| self.unexpected(self.pos))
    }

    /// `x | f(args)`: a call of `f` with `x` as its first argument.
    fn pipe(&mut self, left: Node) -> PResult<Node> {
        let t = self.peek().clone();
        let Tok::Ident(name) = t.tok else {
            return Err(self.syntax("expected a function name after '|'".to_owned(), t.start));
        };
        self.pos += 1;
        self.call(name, t.start, vec![left])
    }

    fn unary(&mut self) -> PResult<Node> {
        let start = self.peek().start;
        let op = match &self.peek().tok {
            Tok::Punct("!") => Some((UnOp::Not, 50)),
            Tok::Ident(w) if w == "not" => Some((UnOp::Not, 50)),
            Tok::Punct("-") => Some((UnOp::Neg, 90)),
            Tok::Punct("+") => Some((UnOp::Plus, 90)),
            _ => None,
        };
        let Some((op, prec)) = op else {
            let primary = self.primary()?;
            return self.postfix(primary);
        };
        self.pos += 1;
        let operand = self.expr(prec)?;
        self.node(start, Kind::Unary(op, Box::new(operand)))
    }

    fn primary(&mut self) -> PResult<Node> {
        let t = self.peek().clone();
        self.pos += 1;
        let kind = match t.tok {
            Tok::Int(i) => Kind::Lit(Value::from(i)),
            Tok::Float(f) => Kind::Lit(Number::from_f64(f).map_or(Value::Null, Value::Number)),
            Tok::Str(s) => Kind::Lit(Value::String(s)),
            Tok::Ident(name) => return self.identifier(name, t.start),
            Tok::Punct("(") => {
                let inner = self.expr(0)?;
                self.expect(")")?;
                return Ok(inner);
            }
            Tok::Punct("[") => Kind::Array(self.list("]")?),
            Tok::Punct("{") => return self.map_literal(t.start),
            Tok::Punct("#") => return Err(self.closure("#", t.start)),
            _ => return Err(self.unexpected(self.pos - 1)),
        };
        self.node(t.start, kind)
    }

    fn identifier(&mut self, name: String, pos: usize) -> PResult<Node> {
        let kind = match name.as_str() {
            "true" => Kind::Lit(Value::Bool(true)),
            "false" => Kind::Lit(Value::Bool(false)),
            "nil" => Kind::Lit(Value::Null),
            "and" | "or" | "not" | "in" | "matches" | "contains" | "startsWith" | "endsWith" | "let" => {
                return Err(self.unexpected(self.pos - 1));
            }
            _ if self.is("(") => return self.call(name, pos, Vec::new()),
            _ => Kind::Ident(name),
        };
        self.node(pos, kind)
    }

    fn closure(&self, construct: &str, pos: usize) -> ExprError {
        ExprError::Closure { construct: construct.to_owned(), pos, expr: self.src.to_owned() }
    }

    /// A call of `name` at the `(`; `args` holds a piped first argument, if any.
    fn call(&mut self, name: String, pos: usize, mut args: Vec<Node>) -> PResult<Node> {
        if CLOSURE_FUNCTIONS.contains(&name.as_str()) {
            return Err(self.closure(&format!("{name}()"), pos));
        }
        if !is_known_function(&name) {
            return Err(ExprError::UnknownFunction { name, pos, expr: self.src.to_owned() });
        }
        self.expect("(")?;
        args.extend(self.list(")")?);
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
            let t = self.peek().clone();
            let key = match &t.tok {
                Tok::Punct("(") => self.expr(0)?,
                Tok::Str(s) | Tok::Ident(s) => self.key_node(s.clone(), t.start)?,
                Tok::Int(_) | Tok::Float(_) => {
                    self.key_node(self.src.get(t.start..t.end).unwrap_or_default().to_owned(), t.start)?
                }
                _ => {
                    let message = "a map key must be a string, a number, an identifier or a parenthesized expression";
                    return Err(self.syntax(message.to_owned(), t.start));
                }
            };
            self.expect(":")?;
            pairs.push((key, self.expr(0)?));
        }
        self.node(pos, Kind::Map(pairs))
    }

    fn key_node(&mut self, key: String, pos: usize) -> PResult<Node> {
        self.pos += 1;
        self.node(pos, Kind::Lit(Value::String(key)))
    }

    /// Member access, indexing, slicing and `sprig.f(...)` calls after `node`.
    fn postfix(&mut self, mut node: Node) -> PResult<Node> {
        loop {
            let start = self.peek().start;
            if self.is("?.") && matches!(self.token(self.pos + 1).tok, Tok::Punct("[")) {
                self.pos += 1; // `a?.[k]` is `a[k]`: access on nil is nil anyway
            } else if self.eat(".") || self.eat("?.") {
                let t = self.peek().clone();
                let Tok::Ident(name) = t.tok else {
                    return Err(self.syntax("expected a property name".to_owned(), t.start));
                };
                self.pos += 1;
                node = if self.is("(") {
                    let full = match &node.kind {
                        Kind::Ident(base) => format!("{base}.{name}"),
                        _ => format!(".{name}"),
                    };
                    self.call(full, node.pos, Vec::new())?
                } else {
                    self.node(t.start, Kind::Member(Box::new(node), name))?
                };
            } else if self.eat("[") {
                node = self.index_or_slice(node, start)?;
            } else {
                return Ok(node);
            }
        }
    }

    fn index_or_slice(&mut self, node: Node, pos: usize) -> PResult<Node> {
        let from = if self.is(":") { None } else { Some(self.expr(0)?) };
        if self.eat(":") {
            let to = if self.is("]") { None } else { Some(self.expr(0)?) };
            self.expect("]")?;
            return self.node(pos, Kind::Slice(Box::new(node), from.map(Box::new), to.map(Box::new)));
        }
        self.expect("]")?;
        match from {
            Some(index) => self.node(pos, Kind::Index(Box::new(node), Box::new(index))),
            None => Err(self.unexpected(self.pos)),
        }
    }
}

fn is_known_function(name: &str) -> bool {
    match name.strip_prefix("sprig.") {
        Some(f) => SPRIG_FUNCTIONS.contains(&f),
        None => FUNCTIONS.contains(&name),
    }
}

// ---------------------------------------------------------------------------------------------
// Evaluator

/// Values borrowed from the environment where possible, so `tasks.t.outputs.result` does not
/// copy `tasks`.
type EvalResult<'e> = Result<Cow<'e, Value>, ExprError>;

struct Evaluator<'e, 's> {
    env: &'e Value,
    src: &'s str,
}

impl<'e> Evaluator<'e, '_> {
    fn fail(&self, pos: usize, message: String) -> ExprError {
        ExprError::Eval { message, pos, expr: self.src.to_owned() }
    }

    fn eval(&self, node: &Node) -> EvalResult<'e> {
        let at = |message: String| self.fail(node.pos, message);
        match &node.kind {
            Kind::Lit(v) => Ok(Cow::Owned(v.clone())),
            Kind::Ident(name) => Ok(Cow::Borrowed(self.env.get(name).unwrap_or(&NULL))),
            Kind::Array(items) => Ok(Cow::Owned(Value::Array(self.eval_all(items)?))),
            Kind::Map(pairs) => {
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
            Kind::Member(obj, name) => project(self.eval(obj)?, |v| member(v, name)).map_err(at),
            Kind::Index(obj, key) => {
                let obj = self.eval(obj)?;
                let key = self.eval(key)?;
                project(obj, |v| index(v, &key)).map_err(at)
            }
            Kind::Slice(obj, from, to) => {
                let obj = self.eval(obj)?;
                let bound = |n: &Option<Box<Node>>| match n {
                    None => Ok(None),
                    Some(n) => to_index(&*self.eval(n)?).map(Some).map_err(at),
                };
                slice(&obj, bound(from)?, bound(to)?).map(Cow::Owned).map_err(at)
            }
            Kind::Call(name, args) => call_function(name, &self.eval_all(args)?).map(Cow::Owned).map_err(at),
            Kind::Unary(op, operand) => unary(*op, &*self.eval(operand)?).map(Cow::Owned).map_err(at),
            Kind::Binary(op, l, r) => self.binary(*op, l, r, node.pos),
            Kind::Cond(cond, then, otherwise) => match &*self.eval(cond)? {
                Value::Bool(true) => self.eval(then),
                Value::Bool(false) => self.eval(otherwise),
                other => Err(at(format!("ternary condition must be a boolean, got {}", type_name(other)))),
            },
        }
    }

    fn eval_all(&self, nodes: &[Node]) -> Result<Vec<Value>, ExprError> {
        nodes.iter().map(|n| self.eval(n).map(Cow::into_owned)).collect()
    }

    fn binary(&self, op: BinOp, l: &Node, r: &Node, pos: usize) -> EvalResult<'e> {
        match op {
            BinOp::And | BinOp::Or => {
                let decisive = op == BinOp::Or;
                if self.boolean(op, l, pos)? == decisive {
                    return Ok(Cow::Owned(Value::Bool(decisive)));
                }
                Ok(Cow::Owned(Value::Bool(self.boolean(op, r, pos)?)))
            }
            BinOp::Coalesce => {
                let left = self.eval(l)?;
                if left.is_null() { self.eval(r) } else { Ok(left) }
            }
            _ => {
                let (a, b) = (self.eval(l)?, self.eval(r)?);
                binary(op, &a, &b).map(Cow::Owned).map_err(|m| self.fail(pos, m))
            }
        }
    }

    fn boolean(&self, op: BinOp, node: &Node, pos: usize) -> Result<bool, ExprError> {
        match &*self.eval(node)? {
            Value::Bool(b) => Ok(*b),
            other => {
                let message = format!("operator '{}' requires booleans, got {}", op.symbol(), type_name(other));
                Err(self.fail(pos, message))
            }
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
        other => Err(format!("cannot access member '{name}' of {}", type_name(other))),
    }
}

fn index<'v>(obj: &'v Value, key: &Value) -> Result<Cow<'v, Value>, String> {
    match (obj, key) {
        (Value::Null, _) => Ok(Cow::Borrowed(&NULL)),
        (Value::Object(map), Value::String(k)) => Ok(Cow::Borrowed(map.get(k).unwrap_or(&NULL))),
        (Value::Object(_), other) => Err(format!("cannot index a map with {}", type_name(other))),
        (Value::Array(items), _) => Ok(Cow::Borrowed(&items[position(key, items.len())?])),
        (Value::String(s), _) => {
            let i = position(key, s.chars().count())?;
            Ok(Cow::Owned(s.chars().nth(i).map_or(Value::Null, |c| Value::String(c.into()))))
        }
        (other, _) => Err(format!("cannot index {}", type_name(other))),
    }
}

/// An integer index (integral floats accepted), as expr-lang's `ToInt`.
fn to_index(v: &Value) -> Result<i64, String> {
    match as_num(v) {
        Some(Num::Int(i)) => Ok(i),
        Some(Num::Float(f)) if f.fract() == 0.0 => Ok(f as i64),
        _ => Err(format!("index must be an integer, got {}", type_name(v))),
    }
}

/// Resolve a possibly negative index against `len`; out of range is an error.
fn position(key: &Value, len: usize) -> Result<usize, String> {
    let i = to_index(key)?;
    let resolved = if i < 0 { i.checked_add_unsigned(len as u64) } else { Some(i) };
    resolved
        .and_then(|r| usize::try_from(r).ok())
        .filter(|&r| r < len)
        .ok_or_else(|| format!("index {i} out of range (length {len})"))
}

fn slice(v: &Value, from: Option<i64>, to: Option<i64>) -> Result<Value, String> {
    let bounds = |len: usize| {
        let clamp = |i: i64| {
            let i = if i < 0 { i.saturating_add_unsigned(len as u64) } else { i };
            usize::try_from(i).map_or(0, |i| i.min(len))
        };
        let a = from.map_or(0, clamp);
        (a, to.map_or(len, clamp).max(a))
    };
    match v {
        Value::Null => Ok(Value::Null),
        Value::Array(items) => {
            let (a, b) = bounds(items.len());
            Ok(Value::Array(items.get(a..b).unwrap_or_default().to_vec()))
        }
        Value::String(s) => {
            let chars: Vec<char> = s.chars().collect();
            let (a, b) = bounds(chars.len());
            Ok(Value::String(chars.get(a..b).unwrap_or_default().iter().collect()))
        }
        other => Err(format!("cannot slice {}", type_name(other))),
    }
}

fn unary(op: UnOp, v: &Value) -> Result<Value, String> {
    match (op, v, as_num(v)) {
        (UnOp::Not, Value::Bool(b), _) => Ok(Value::Bool(!b)),
        (UnOp::Not, other, _) => Err(format!("operator '!' requires a boolean, got {}", type_name(other))),
        (UnOp::Neg, _, Some(Num::Int(i))) => i.checked_neg().map(Value::from).ok_or_else(overflow),
        (UnOp::Neg, _, Some(Num::Float(f))) => float_value(-f),
        (UnOp::Plus, _, Some(_)) => Ok(v.clone()),
        (_, other, _) => Err(format!("unary operator requires a number, got {}", type_name(other))),
    }
}

fn binary(op: BinOp, a: &Value, b: &Value) -> Result<Value, String> {
    let strings = || match (a, b) {
        (Value::String(x), Value::String(y)) => Ok((x.as_str(), y.as_str())),
        _ => Err(format!("operator '{}' requires strings, got {} and {}", op.symbol(), type_name(a), type_name(b))),
    };
    Ok(Value::Bool(match op {
        BinOp::Eq => values_equal(a, b),
        BinOp::Ne => !values_equal(a, b),
        BinOp::Lt => compare(a, b)?.is_lt(),
        BinOp::Gt => compare(a, b)?.is_gt(),
        BinOp::Le => compare(a, b)?.is_le(),
        BinOp::Ge => compare(a, b)?.is_ge(),
        BinOp::In => contains_value(a, b)?,
        BinOp::Matches => {
            let (s, pattern) = strings()?;
            Regex::new(pattern).map_err(|e| regex_error(pattern, &e))?.is_match(s)
        }
        BinOp::Contains => strings().map(|(s, t)| s.contains(t))?,
        BinOp::StartsWith => strings().map(|(s, t)| s.starts_with(t))?,
        BinOp::EndsWith => strings().map(|(s, t)| s.ends_with(t))?,
        BinOp::Range => return range(a, b),
        BinOp::Add => match (a, b) {
            (Value::String(x), Value::String(y)) => return Ok(Value::String(format!("{x}{y}"))),
            _ => return arith(op, a, b),
        },
        BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod | BinOp::Pow => return arith(op, a, b),
        BinOp::Pipe | BinOp::Or | BinOp::And | BinOp::Coalesce => {
            return Err(format!("operator '{}' cannot be applied to values", op.symbol()));
        }
    }))
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

    fn into_value(self) -> Result<Value, String> {
        match self {
            Num::Int(i) => Ok(Value::from(i)),
            Num::Float(f) => float_value(f),
        }
    }
}

fn as_num(v: &Value) -> Option<Num> {
    let Value::Number(n) = v else { return None };
    Some(match n.as_i64() {
        Some(i) => Num::Int(i),
        None => Num::Float(n.as_f64().unwrap_or(f64::NAN)),
    })
}

fn number(v: &Value) -> Result<Num, String> {
    as_num(v).ok_or_else(|| format!("expected a number, got {}", type_name(v)))
}

/// A float result; NaN and infinities cannot be represented in JSON and are errors.
fn float_value(f: f64) -> Result<Value, String> {
    Number::from_f64(f)
        .map(Value::Number)
        .ok_or_else(|| format!("result {} is not a finite number", go_float(f)))
}

fn overflow() -> String {
    "integer overflow".to_owned()
}

fn arith(op: BinOp, a: &Value, b: &Value) -> Result<Value, String> {
    let (Some(x), Some(y)) = (as_num(a), as_num(b)) else {
        return Err(format!("cannot apply '{}' to {} and {}", op.symbol(), type_name(a), type_name(b)));
    };
    match (op, x, y) {
        (BinOp::Mod, Num::Int(_), Num::Int(0)) => Err("integer divide by zero".to_owned()),
        (BinOp::Mod, Num::Int(x), Num::Int(y)) => Ok(Value::from(x.checked_rem(y).unwrap_or(0))),
        (BinOp::Mod, ..) => Err("operator '%' requires integers".to_owned()),
        (BinOp::Add, Num::Int(x), Num::Int(y)) => x.checked_add(y).map(Value::from).ok_or_else(overflow),
        (BinOp::Sub, Num::Int(x), Num::Int(y)) => x.checked_sub(y).map(Value::from).ok_or_else(overflow),
        (BinOp::Mul, Num::Int(x), Num::Int(y)) => x.checked_mul(y).map(Value::from).ok_or_else(overflow),
        (BinOp::Div, _, y) if y.to_f64() == 0.0 => Err("division by zero".to_owned()),
        _ => {
            let (x, y) = (x.to_f64(), y.to_f64());
            float_value(match op {
                BinOp::Add => x + y,
                BinOp::Sub => x - y,
                BinOp::Mul => x * y,
                BinOp::Div => x / y,
                _ => x.powf(y),
            })
        }
    }
}

/// `a..b`: the integers from `a` to `b` inclusive (empty when `b < a`).
fn range(a: &Value, b: &Value) -> Result<Value, String> {
    let (Some(Num::Int(from)), Some(Num::Int(to))) = (as_num(a), as_num(b)) else {
        return Err(format!("operator '..' requires integers, got {} and {}", type_name(a), type_name(b)));
    };
    if to.saturating_sub(from) >= MAX_BUILT as i64 {
        return Err(format!("range {from}..{to} has more than {MAX_BUILT} elements"));
    }
    Ok(Value::Array((from..=to).map(Value::from).collect()))
}

fn compare(a: &Value, b: &Value) -> Result<Ordering, String> {
    match (a, b, as_num(a), as_num(b)) {
        (Value::String(x), Value::String(y), _, _) => Ok(x.cmp(y)),
        (_, _, Some(Num::Int(x)), Some(Num::Int(y))) => Ok(x.cmp(&y)),
        (_, _, Some(x), Some(y)) => x.to_f64().partial_cmp(&y.to_f64()).ok_or_else(|| "cannot compare NaN".to_owned()),
        _ => Err(format!("cannot compare {} with {}", type_name(a), type_name(b))),
    }
}

/// expr-lang's `==`: numbers compare numerically, containers structurally, other types by value.
fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(_), Value::Number(_)) => match (as_num(a), as_num(b)) {
            (Some(Num::Int(x)), Some(Num::Int(y))) => x == y,
            (Some(x), Some(y)) => x.to_f64() == y.to_f64(),
            _ => false,
        },
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| values_equal(p, q)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| values_equal(v, w)))
        }
        _ => a == b,
    }
}

fn contains_value(needle: &Value, haystack: &Value) -> Result<bool, String> {
    match haystack {
        Value::Array(items) => Ok(items.iter().any(|x| values_equal(needle, x))),
        Value::Object(map) => Ok(needle.as_str().is_some_and(|k| map.contains_key(k))),
        Value::Null => Ok(false),
        other => Err(format!("operator 'in' is not defined on {}", type_name(other))),
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
    args.try_into().map_err(|_| format!("expected {N} argument(s), got {}", args.len()))
}

fn one(args: &[Value]) -> Result<&Value, String> {
    arity::<1>(args).map(|[x]| x)
}

fn text(v: &Value) -> Result<&str, String> {
    v.as_str().ok_or_else(|| format!("expected a string, got {}", type_name(v)))
}

fn str_value(s: &str) -> Value {
    Value::String(s.to_owned())
}

fn builtin(name: &str, args: &[Value]) -> Result<Value, String> {
    match name {
        "asInt" | "int" => to_int(one(args)?).map(Value::from),
        "asFloat" | "float" => float_value(to_float(one(args)?)?),
        "string" => Ok(Value::String(go_string(one(args)?))),
        "toJson" => Ok(Value::String(go_json(one(args)?))),
        "fromJSON" => serde_json::from_str(text(one(args)?)?).map_err(|e| format!("invalid JSON: {e}")),
        "jsonpath" => {
            let [doc, path] = arity(args)?;
            jsonpath(doc, text(path)?)
        }
        "len" => match one(args)? {
            Value::String(s) => Ok(Value::from(s.chars().count())),
            Value::Array(items) => Ok(Value::from(items.len())),
            Value::Object(map) => Ok(Value::from(map.len())),
            other => Err(format!("not defined on {}", type_name(other))),
        },
        "lower" => Ok(Value::String(text(one(args)?)?.to_lowercase())),
        "upper" => Ok(Value::String(text(one(args)?)?.to_uppercase())),
        "trim" => match args {
            [s] => Ok(str_value(text(s)?.trim())),
            [s, cut] => {
                let cut = text(cut)?;
                Ok(str_value(text(s)?.trim_matches(|c| cut.contains(c))))
            }
            _ => Err(format!("expected 1 or 2 arguments, got {}", args.len())),
        },
        "trimPrefix" | "trimSuffix" | "hasPrefix" | "hasSuffix" => {
            let [s, affix] = arity(args)?;
            let (s, affix) = (text(s)?, text(affix)?);
            Ok(match name {
                "trimPrefix" => str_value(s.strip_prefix(affix).unwrap_or(s)),
                "trimSuffix" => str_value(s.strip_suffix(affix).unwrap_or(s)),
                "hasPrefix" => Value::Bool(s.starts_with(affix)),
                _ => Value::Bool(s.ends_with(affix)),
            })
        }
        "replace" => {
            let [s, old, new] = arity(args)?;
            Ok(Value::String(text(s)?.replace(text(old)?, text(new)?)))
        }
        "repeat" => {
            let [s, n] = arity(args)?;
            repeat(text(s)?, to_int(n)?)
        }
        "split" => match args {
            [s, sep] => Ok(split(text(s)?, text(sep)?, -1)),
            [s, sep, n] => Ok(split(text(s)?, text(sep)?, to_int(n)?)),
            _ => Err(format!("expected 2 or 3 arguments, got {}", args.len())),
        },
        "join" => match args {
            [list] => Ok(Value::String(string_list(list).concat())),
            [list, sep] => Ok(Value::String(string_list(list).join(text(sep)?))),
            _ => Err(format!("expected 1 or 2 arguments, got {}", args.len())),
        },
        "abs" => match number(one(args)?)? {
            Num::Int(i) => i.checked_abs().map(Value::from).ok_or_else(overflow),
            Num::Float(f) => float_value(f.abs()),
        },
        "ceil" => float_value(number(one(args)?)?.to_f64().ceil()),
        "floor" => float_value(number(one(args)?)?.to_f64().floor()),
        "round" => float_value(number(one(args)?)?.to_f64().round()),
        "min" | "max" => extremum(name == "max", args),
        "sum" => sum(array(one(args)?)?)?.into_value(),
        "mean" => {
            let items = array(one(args)?)?;
            let total = sum(items)?.to_f64();
            float_value(if items.is_empty() { 0.0 } else { total / items.len() as f64 })
        }
        "first" | "last" => match one(args)? {
            Value::Array(items) => {
                let item = if name == "first" { items.first() } else { items.last() };
                Ok(item.cloned().unwrap_or(Value::Null))
            }
            Value::Null => Ok(Value::Null),
            other => Err(format!("expected an array, got {}", type_name(other))),
        },
        "keys" | "values" => match one(args)? {
            Value::Object(map) if name == "keys" => Ok(Value::Array(map.keys().map(|k| str_value(k)).collect())),
            Value::Object(map) => Ok(Value::Array(map.values().cloned().collect())),
            other => Err(format!("expected a map, got {}", type_name(other))),
        },
        "reverse" => Ok(Value::Array(array(one(args)?)?.iter().rev().cloned().collect())),
        "type" => Ok(str_value(match one(args)? {
            Value::Number(n) if n.is_f64() => "float",
            Value::Number(_) => "int",
            other => type_name(other),
        })),
        _ => Err(format!("unknown function '{name}'")),
    }
}

fn array(v: &Value) -> Result<&[Value], String> {
    match v {
        Value::Array(items) => Ok(items),
        other => Err(format!("expected an array, got {}", type_name(other))),
    }
}

/// Argo's `asInt`/expr-lang's `int`: numbers (floats truncated) and strings holding an integer.
fn to_int(v: &Value) -> Result<i64, String> {
    match (v, as_num(v)) {
        (_, Some(Num::Int(i))) => Ok(i),
        (_, Some(Num::Float(f))) => Ok(f as i64),
        (Value::String(s), _) => s.parse().map_err(|_| format!("cannot parse {s:?} as an integer")),
        (other, _) => Err(format!("cannot convert {} to an integer", type_name(other))),
    }
}

/// Argo's `asFloat`/expr-lang's `float`: numbers and strings holding a number.
fn to_float(v: &Value) -> Result<f64, String> {
    match (v, as_num(v)) {
        (_, Some(n)) => Ok(n.to_f64()),
        (Value::String(s), _) => s.parse().map_err(|_| format!("cannot parse {s:?} as a float")),
        (other, _) => Err(format!("cannot convert {} to a float", type_name(other))),
    }
}

fn repeat(s: &str, n: i64) -> Result<Value, String> {
    let n = usize::try_from(n).map_err(|_| format!("negative repeat count {n}"))?;
    if s.len().saturating_mul(n) > MAX_BUILT {
        return Err(format!("result would be longer than {MAX_BUILT} bytes"));
    }
    Ok(Value::String(s.repeat(n)))
}

/// Go's `strings.SplitN` (`limit` < 0: no limit; an empty separator splits into characters).
fn split(s: &str, sep: &str, limit: i64) -> Value {
    let parts: Vec<Value> = match usize::try_from(limit) {
        Ok(0) => Vec::new(),
        _ if sep.is_empty() => s.chars().map(|c| Value::String(c.into())).collect(),
        Ok(n) => s.splitn(n, sep).map(str_value).collect(),
        Err(_) => s.split(sep).map(str_value).collect(),
    };
    Value::Array(parts)
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
            Some(b) if want_max => compare(v, b)?.is_gt(),
            Some(b) => compare(v, b)?.is_lt(),
        };
        if better {
            best = Some(v);
        }
    }
    best.cloned().ok_or_else(|| "expected at least one number".to_owned())
}

fn sum(items: &[Value]) -> Result<Num, String> {
    items.iter().try_fold(Num::Int(0), |acc, v| match (acc, number(v)?) {
        (Num::Int(a), Num::Int(b)) => a.checked_add(b).map(Num::Int).ok_or_else(overflow),
        (a, b) => Ok(Num::Float(a.to_f64() + b.to_f64())),
    })
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

/// spf13/cast's `ToInt64` as sprig uses it: lenient, 0 when the value is not a number.
fn cast_int(v: &Value) -> i64 {
    match (v, as_num(v)) {
        (_, Some(n)) => to_int(&Value::Null).unwrap_or(match n {
            Num::Int(i) => i,
            Num::Float(f) => f as i64,
        }),
        (Value::Bool(b), _) => i64::from(*b),
        (Value::String(s), _) => parse_go_int(s).unwrap_or(0),
        _ => 0,
    }
}

/// Go's `strconv.ParseInt(s, 0, 64)` after cast's removal of a zero decimal part (`"3.00"`).
fn parse_go_int(s: &str) -> Option<i64> {
    let s = match s.split_once('.') {
        Some((int, frac)) if !frac.is_empty() && frac.bytes().all(|b| b == b'0') => int,
        _ => s,
    };
    let (negative, body) = match s.as_bytes().first() {
        Some(b'-') => (true, s.get(1..)?),
        Some(b'+') => (false, s.get(1..)?),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = match lower.get(..2) {
        Some("0x") => (16, lower.get(2..)?),
        Some("0o") => (8, lower.get(2..)?),
        Some("0b") => (2, lower.get(2..)?),
        _ if lower.len() > 1 && lower.starts_with('0') => (8, lower.get(1..)?),
        _ => (10, lower.as_str()),
    };
    if digits.starts_with(['+', '-']) {
        return None;
    }
    let magnitude = i64::from_str_radix(&digits.replace('_', ""), radix).ok()?;
    Some(if negative { -magnitude } else { magnitude })
}

/// spf13/cast's `ToFloat64`: lenient, 0 when the value is not a number.
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
    match name {
        "upper" | "lower" | "trim" | "toJson" => builtin(name, std::slice::from_ref(one(args)?)),
        "first" | "last" => builtin(name, args),
        "trimAll" => {
            let [cut, s] = arity(args)?;
            builtin("trim", &[s.clone(), cut.clone()])
        }
        "trimPrefix" | "trimSuffix" | "hasPrefix" | "hasSuffix" => {
            let [affix, s] = arity(args)?;
            builtin(name, &[s.clone(), affix.clone()])
        }
        "contains" => {
            let [sub, s] = arity(args)?;
            Ok(Value::Bool(text(s)?.contains(text(sub)?)))
        }
        "replace" => {
            let [old, new, s] = arity(args)?;
            builtin("replace", &[s.clone(), old.clone(), new.clone()])
        }
        "default" => match args {
            [d] => Ok(d.clone()),
            [d, v] => Ok(if is_empty(v) { d } else { v }.clone()),
            _ => Err(format!("expected 1 or 2 arguments, got {}", args.len())),
        },
        "empty" => Ok(Value::Bool(is_empty(one(args)?))),
        "coalesce" => Ok(args.iter().find(|v| !is_empty(v)).cloned().unwrap_or(Value::Null)),
        "ternary" => match arity(args)? {
            [yes, no, Value::Bool(cond)] => Ok(if *cond { yes } else { no }.clone()),
            [_, _, other] => Err(format!("condition must be a boolean, got {}", type_name(other))),
        },
        "toString" => Ok(Value::String(go_string(one(args)?))),
        "atoi" => Ok(Value::from(text(one(args)?)?.parse::<i64>().unwrap_or(0))),
        "int" | "int64" => Ok(Value::from(cast_int(one(args)?))),
        "float64" => float_value(cast_float(one(args)?)),
        "add" => Ok(Value::from(ints().fold(0_i64, i64::wrapping_add))),
        "add1" => Ok(Value::from(cast_int(one(args)?).wrapping_add(1))),
        "sub" => {
            let [a, b] = arity(args)?;
            Ok(Value::from(cast_int(a).wrapping_sub(cast_int(b))))
        }
        "mul" if !args.is_empty() => Ok(Value::from(ints().fold(1_i64, i64::wrapping_mul))),
        "div" | "mod" => {
            let [a, b] = arity(args)?;
            match (cast_int(a), cast_int(b)) {
                (_, 0) => Err("integer divide by zero".to_owned()),
                (a, b) if name == "div" => Ok(Value::from(a.wrapping_div(b))),
                (a, b) => Ok(Value::from(a.wrapping_rem(b))),
            }
        }
        "max" if !args.is_empty() => Ok(Value::from(ints().max().unwrap_or(0))),
        "min" if !args.is_empty() => Ok(Value::from(ints().min().unwrap_or(0))),
        "addf" | "subf" | "mulf" | "divf" => float_fold(name, args),
        "quote" | "squote" | "cat" => {
            let parts = args.iter().filter(|v| !v.is_null()).map(|v| match name {
                "quote" => go_quote(&go_string(v)),
                "squote" => format!("'{}'", go_string(v)),
                _ => go_string(v),
            });
            Ok(Value::String(parts.collect::<Vec<_>>().join(" ")))
        }
        "join" => {
            let [sep, list] = arity(args)?;
            Ok(Value::String(string_list(list).join(text(sep)?)))
        }
        "splitList" => {
            let [sep, s] = arity(args)?;
            Ok(split(text(s)?, text(sep)?, -1))
        }
        "repeat" => {
            let [n, s] = arity(args)?;
            repeat(text(s)?, cast_int(n))
        }
        "substr" => {
            let [start, end, s] = arity(args)?;
            Ok(Value::String(substr(text(s)?, cast_int(start), cast_int(end))))
        }
        "trunc" => {
            let [n, s] = arity(args)?;
            let (n, len) = (cast_int(n), text(s)?.chars().count() as i64);
            let (from, to) = if n < 0 { ((len + n).max(0), len) } else { (0, n.min(len)) };
            Ok(Value::String(substr(text(s)?, from, to)))
        }
        "list" => Ok(Value::Array(args.to_vec())),
        "fromJson" => Ok(serde_json::from_str(text(one(args)?)?).unwrap_or(Value::Null)),
        "regexMatch" => {
            let [re, s] = arity(args)?;
            let s = text(s)?;
            Ok(Value::Bool(Regex::new(text(re)?).is_ok_and(|re| re.is_match(s))))
        }
        "regexReplaceAll" => {
            let [re, s, replacement] = arity(args)?;
            let pattern = text(re)?;
            let re = Regex::new(pattern).map_err(|e| regex_error(pattern, &e))?;
            Ok(Value::String(re.replace_all(text(s)?, text(replacement)?).into_owned()))
        }
        "mul" | "max" | "min" => Err("expected at least 1 argument".to_owned()),
        _ => Err(format!("unknown function 'sprig.{name}'")),
    }
}

/// Sprig's `substr(start, end, s)` on characters, clamped instead of panicking.
fn substr(s: &str, start: i64, end: i64) -> String {
    let len = s.chars().count();
    let clamp = |i: i64| usize::try_from(i).map_or(0, |i| i.min(len));
    let from = clamp(start);
    let to = if start >= 0 && (end < 0 || clamp(end) == len) { len } else { clamp(end) };
    s.chars().skip(from).take(to.saturating_sub(from)).collect()
}

fn float_fold(name: &str, args: &[Value]) -> Result<Value, String> {
    let mut nums = args.iter().map(cast_float);
    let mut acc = nums.next().ok_or_else(|| "expected at least 1 argument".to_owned())?;
    for x in nums {
        acc = match name {
            "addf" => acc + x,
            "subf" => acc - x,
            "mulf" => acc * x,
            _ if x == 0.0 => return Err("division by zero".to_owned()),
            _ => acc / x,
        };
    }
    float_value(acc)
}

/// Argo's `jsonpath(json, path)` for the common paths: `$`, `.key`, `.*`, `['key']`,
/// `["key"]`, `[n]` (negative from the end) and `[*]`. After a wildcard the result is an array
/// and missing keys/indexes are skipped; otherwise they are errors. `json` is JSON text (a
/// non-string value is used as the document directly).
fn jsonpath(doc: &Value, path: &str) -> Result<Value, String> {
    let parsed;
    let root = match doc {
        Value::String(json) => {
            parsed = serde_json::from_str::<Value>(json).map_err(|e| format!("invalid JSON: {e}"))?;
            &parsed
        }
        other => other,
    };
    let mut rest = path.trim().strip_prefix('$').ok_or_else(|| format!("path '{path}' must start with '$'"))?;
    let mut nodes = vec![root];
    let mut multi = false;
    while !rest.is_empty() {
        let (step, tail) = path_step(rest).ok_or_else(|| {
            format!("unsupported path syntax at '{rest}' (supported: $, .key, .*, ['key'], [n], [*])")
        })?;
        rest = tail;
        let mut next = Vec::new();
        for node in nodes {
            let found = match (&step, node) {
                (PathStep::Wild, Value::Array(items)) => {
                    next.extend(items);
                    continue;
                }
                (PathStep::Wild, Value::Object(map)) => {
                    next.extend(map.values());
                    continue;
                }
                (PathStep::Wild, _) => continue,
                (PathStep::Key(k), Value::Object(map)) => map.get(k),
                (PathStep::Index(i), Value::Array(items)) => {
                    position(&Value::from(*i), items.len()).ok().and_then(|i| items.get(i))
                }
                _ => None,
            };
            match found {
                Some(v) => next.push(v),
                None if multi => {}
                None => return Err(format!("{} not found", step.describe())),
            }
        }
        multi |= matches!(step, PathStep::Wild);
        nodes = next;
    }
    Ok(match (multi, nodes.first()) {
        (true, _) => Value::Array(nodes.into_iter().cloned().collect()),
        (false, first) => first.map_or(Value::Null, |v| (*v).clone()),
    })
}

enum PathStep {
    Key(String),
    Index(i64),
    Wild,
}

impl PathStep {
    fn describe(&self) -> String {
        match self {
            PathStep::Key(k) => format!("key '{k}'"),
            PathStep::Index(i) => format!("index {i}"),
            PathStep::Wild => "*".to_owned(),
        }
    }
}

/// The first step of a JSONPath suffix and what follows it.
fn path_step(rest: &str) -> Option<(PathStep, &str)> {
    if let Some(after) = rest.strip_prefix('.') {
        if let Some(tail) = after.strip_prefix('*') {
            return Some((PathStep::Wild, tail));
        }
        let end = after.find(['.', '[']).unwrap_or(after.len());
        let (key, tail) = after.split_at_checked(end)?;
        return (!key.is_empty()).then(|| (PathStep::Key(key.to_owned()), tail));
    }
    let inner = rest.strip_prefix('[')?;
    if let Some(quote) = inner.chars().next().filter(|c| matches!(c, '\'' | '"')) {
        let body = inner.get(1..)?;
        let (key, tail) = body.split_once(quote)?;
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

/// Go's `fmt.Sprintf("%v", v)` (Argo's `string()` and splicing), except that arrays and maps
/// are rendered as JSON (see [`to_text`]).
fn go_string(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) if n.is_f64() => go_float(n.as_f64().unwrap_or(f64::NAN)),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(_) | Value::Object(_) => go_json(v),
    }
}

/// Go's `%v` for a float64: shortest digits, exponent form below 1e-4 and from 1e21... no:
/// from 1e6 on? Go uses `%g` with the shortest precision, i.e. exponent form when the decimal
/// exponent is < -4 or >= 21 for `%v`.
fn go_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.to_owned();
    }
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..21).contains(&exp) {
        format!("{f}")
    } else {
        format!("{mantissa}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.unsigned_abs())
    }
}

/// Go's `json.Marshal`, as Argo's `toJson`: compact, map keys sorted, `<`, `>`, `&`, U+2028
/// and U+2029 escaped, floats without a trailing `.0`.
fn go_json(v: &Value) -> String {
    let mut out = String::new();
    write_json(&mut out, v);
    out
}

fn write_json(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) if n.is_f64() => out.push_str(&go_json_float(n.as_f64().unwrap_or(0.0))),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_json_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (k, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(out, k);
                out.push(':');
                write_json(out, item);
            }
            out.push('}');
        }
    }
}

fn write_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' | '\0'..='\x1f' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Go's JSON float encoding: `'f'` format, or `'e'` (`1e+21`, `1e-7`) outside [1e-6, 1e21).
fn go_json_float(f: f64) -> String {
    let abs = f.abs();
    if abs == 0.0 || (1e-6..1e21).contains(&abs) {
        return format!("{f}");
    }
    let sci = format!("{f:e}");
    match sci.split_once('e') {
        Some((mantissa, exp)) if exp.starts_with('-') => format!("{mantissa}e{exp}"),
        Some((mantissa, exp)) => format!("{mantissa}e+{exp:0>2}"),
        None => sci,
    }
}

/// Go's `%q` (sprig's `quote`).
fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x0b' => out.push_str("\\v"),
            c if u32::from(c) < 0x80 && c.is_control() => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
