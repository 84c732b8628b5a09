//! `depends` / `dependencies` of a DAG task (ARGO-SEMANTICS §4.1).
//!
//! The expression is parsed once into a small tree; the scheduler evaluates it when every
//! named task is fulfilled, passing each dependency's [`DepState`]. A bare name expands to
//! `Succeeded || Skipped || Daemoned` (plus `Errored`/`Failed` under `continueOn`), which is
//! why omission cascades while a skipped task lets plain dependents run.

/// Phase of a node (§12.2); the status model's enum, named for brevity here.
pub use kfp::argo::NodePhase as Phase;

/// What a depends expression may know about one dependency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepState {
    pub phase: Phase,
    /// A daemon template that is up (`.Daemoned`).
    pub daemoned: bool,
    /// `continueOn: {error: true}` on the dependency.
    pub continue_on_error: bool,
    /// `continueOn: {failed: true}` on the dependency.
    pub continue_on_failed: bool,
    /// For a looped task (TaskGroup): the phases of its iterations; `None` otherwise.
    pub loop_children: Option<Vec<Phase>>,
}

impl DepState {
    /// A plain (non-loop, non-daemon) dependency in `phase`.
    pub fn new(phase: Phase) -> Self {
        DepState {
            phase,
            daemoned: false,
            continue_on_error: false,
            continue_on_failed: false,
            loop_children: None,
        }
    }
}

/// A predicate applied to a dependency (`A.Succeeded`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Predicate {
    Succeeded,
    Failed,
    Errored,
    Skipped,
    Omitted,
    Daemoned,
    AnySucceeded,
    AllFailed,
}

impl Predicate {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "Succeeded" => Predicate::Succeeded,
            "Failed" => Predicate::Failed,
            "Errored" => Predicate::Errored,
            "Skipped" => Predicate::Skipped,
            "Omitted" => Predicate::Omitted,
            "Daemoned" => Predicate::Daemoned,
            "AnySucceeded" => Predicate::AnySucceeded,
            "AllFailed" => Predicate::AllFailed,
            _ => return None,
        })
    }

    fn holds(self, s: &DepState) -> bool {
        match self {
            Predicate::Succeeded => s.phase == Phase::Succeeded,
            Predicate::Failed => s.phase == Phase::Failed,
            Predicate::Errored => s.phase == Phase::Error,
            Predicate::Skipped => s.phase == Phase::Skipped,
            Predicate::Omitted => s.phase == Phase::Omitted,
            Predicate::Daemoned => s.daemoned && s.phase != Phase::Pending,
            Predicate::AnySucceeded => s
                .loop_children
                .as_ref()
                .is_some_and(|c| c.contains(&Phase::Succeeded)),
            Predicate::AllFailed => s
                .loop_children
                .as_ref()
                .is_some_and(|c| !c.is_empty() && c.iter().all(|p| *p == Phase::Failed)),
        }
    }
}

/// Why a depends expression was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DependsError {
    #[error("invalid depends expression '{expr}': {reason}")]
    Syntax { expr: String, reason: String },
    #[error("invalid depends expression '{expr}': unknown predicate '.{predicate}' on '{task}'")]
    UnknownPredicate {
        expr: String,
        task: String,
        predicate: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    /// A task name with an optional predicate; `None` = the bare-name default.
    Dep(String, Option<Predicate>),
    Not(Box<Node>),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
}

/// A parsed `depends` expression; `Depends::default()` (no dependencies) is always true.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Depends {
    root: Option<Node>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Word(String),
    And,
    Or,
    Not,
    LParen,
    RParen,
}

impl Depends {
    /// Parse a `depends` string. An empty or blank string means no dependencies.
    pub fn parse(expr: &str) -> Result<Self, DependsError> {
        let syntax = |reason: String| DependsError::Syntax {
            expr: expr.to_owned(),
            reason,
        };
        let tokens = lex(expr).map_err(syntax)?;
        if tokens.is_empty() {
            return Ok(Depends::default());
        }
        let mut p = DepParser {
            expr,
            tokens,
            pos: 0,
        };
        let root = p.or()?;
        if let Some(t) = p.tokens.get(p.pos) {
            return Err(syntax(format!("unexpected {t:?}")));
        }
        Ok(Depends { root: Some(root) })
    }

    /// `dependencies: [A, B]`, which is `A && B`.
    pub fn from_dependencies(deps: &[String]) -> Self {
        let root = deps
            .iter()
            .map(|d| Node::Dep(d.clone(), None))
            .reduce(|a, b| Node::And(Box::new(a), Box::new(b)));
        Depends { root }
    }

    /// Every task named, in order of first appearance, without duplicates.
    pub fn names(&self) -> Vec<&str> {
        fn walk<'a>(n: &'a Node, out: &mut Vec<&'a str>) {
            match n {
                Node::Dep(name, _) => {
                    if !out.contains(&name.as_str()) {
                        out.push(name);
                    }
                }
                Node::Not(a) => walk(a, out),
                Node::And(a, b) | Node::Or(a, b) => {
                    walk(a, out);
                    walk(b, out);
                }
            }
        }
        let mut out = Vec::new();
        if let Some(r) = &self.root {
            walk(r, &mut out);
        }
        out
    }

    /// Evaluate with each named task's state; call only once all of them are fulfilled.
    pub fn evaluate(&self, state: &dyn Fn(&str) -> DepState) -> bool {
        fn eval(n: &Node, state: &dyn Fn(&str) -> DepState) -> bool {
            match n {
                Node::Dep(name, Some(p)) => p.holds(&state(name)),
                Node::Dep(name, None) => {
                    let s = state(name);
                    matches!(s.phase, Phase::Succeeded | Phase::Skipped)
                        || Predicate::Daemoned.holds(&s)
                        || (s.continue_on_error && s.phase == Phase::Error)
                        || (s.continue_on_failed && s.phase == Phase::Failed)
                }
                Node::Not(a) => !eval(a, state),
                Node::And(a, b) => eval(a, state) && eval(b, state),
                Node::Or(a, b) => eval(a, state) || eval(b, state),
            }
        }
        self.root.as_ref().is_none_or(|r| eval(r, state))
    }
}

fn lex(s: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '(' => out.push(Tok::LParen),
            ')' => out.push(Tok::RParen),
            '!' => out.push(Tok::Not),
            '&' | '|' => {
                if chars.next().map(|(_, n)| n) != Some(c) {
                    return Err(format!("expected '{c}{c}' at offset {i}"));
                }
                out.push(if c == '&' { Tok::And } else { Tok::Or });
            }
            c if c.is_alphanumeric() || c == '_' || c == '-' || c == '.' => {
                let mut w = String::from(c);
                while let Some(&(_, n)) = chars.peek() {
                    if n.is_alphanumeric() || n == '_' || n == '-' || n == '.' {
                        w.push(n);
                        chars.next();
                    } else {
                        break;
                    }
                }
                out.push(Tok::Word(w));
            }
            other => return Err(format!("unexpected character '{other}' at offset {i}")),
        }
    }
    Ok(out)
}

struct DepParser<'a> {
    expr: &'a str,
    tokens: Vec<Tok>,
    pos: usize,
}

impl DepParser<'_> {
    fn err(&self, reason: &str) -> DependsError {
        DependsError::Syntax {
            expr: self.expr.to_owned(),
            reason: reason.to_owned(),
        }
    }

    fn or(&mut self) -> Result<Node, DependsError> {
        let mut lhs = self.and()?;
        while self.tokens.get(self.pos) == Some(&Tok::Or) {
            self.pos += 1;
            lhs = Node::Or(Box::new(lhs), Box::new(self.and()?));
        }
        Ok(lhs)
    }

    fn and(&mut self) -> Result<Node, DependsError> {
        let mut lhs = self.unary()?;
        while self.tokens.get(self.pos) == Some(&Tok::And) {
            self.pos += 1;
            lhs = Node::And(Box::new(lhs), Box::new(self.unary()?));
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Node, DependsError> {
        let tok = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        match tok {
            Some(Tok::Not) => Ok(Node::Not(Box::new(self.unary()?))),
            Some(Tok::LParen) => {
                let inner = self.or()?;
                if self.tokens.get(self.pos) != Some(&Tok::RParen) {
                    return Err(self.err("unbalanced parenthesis"));
                }
                self.pos += 1;
                Ok(inner)
            }
            Some(Tok::Word(w)) => {
                let (name, pred) = match w.split_once('.') {
                    None => (w.as_str(), None),
                    Some((name, pred)) => {
                        let p = Predicate::parse(pred).ok_or_else(|| {
                            DependsError::UnknownPredicate {
                                expr: self.expr.to_owned(),
                                task: name.to_owned(),
                                predicate: pred.to_owned(),
                            }
                        })?;
                        (name, Some(p))
                    }
                };
                if name.is_empty() {
                    return Err(self.err("missing task name before '.'"));
                }
                Ok(Node::Dep(name.to_owned(), pred))
            }
            Some(t) => Err(self.err(&format!("unexpected {t:?}"))),
            None => Err(self.err("unexpected end of expression")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn parse(s: &str) -> Depends {
        match Depends::parse(s) {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        }
    }

    fn eval(d: &Depends, states: &[(&str, DepState)]) -> bool {
        let map: HashMap<&str, DepState> = states.iter().cloned().collect();
        d.evaluate(&|n| {
            map.get(n)
                .cloned()
                .unwrap_or_else(|| DepState::new(Phase::Omitted))
        })
    }

    #[test]
    fn bare_name_default() {
        let d = parse("extract");
        assert!(eval(&d, &[("extract", DepState::new(Phase::Succeeded))]));
        assert!(eval(&d, &[("extract", DepState::new(Phase::Skipped))]));
        assert!(!eval(&d, &[("extract", DepState::new(Phase::Omitted))]));
        assert!(!eval(&d, &[("extract", DepState::new(Phase::Failed))]));
        let mut s = DepState::new(Phase::Failed);
        s.continue_on_failed = true;
        assert!(eval(&d, &[("extract", s)]));
        let mut s = DepState::new(Phase::Error);
        s.continue_on_error = true;
        assert!(eval(&d, &[("extract", s)]));
        let mut s = DepState::new(Phase::Running);
        s.daemoned = true;
        assert!(eval(&d, &[("extract", s)]));
    }

    #[test]
    fn predicates_and_operators() {
        let d = parse("train.Succeeded || train.Failed");
        assert!(eval(&d, &[("train", DepState::new(Phase::Failed))]));
        assert!(!eval(&d, &[("train", DepState::new(Phase::Error))]));
        let d = parse("extract && !train-model.Errored");
        assert_eq!(d.names(), ["extract", "train-model"]);
        assert!(eval(
            &d,
            &[
                ("extract", DepState::new(Phase::Succeeded)),
                ("train-model", DepState::new(Phase::Failed))
            ]
        ));
        let d = parse("(a.Omitted || b.Skipped) && !(a.Succeeded)");
        assert_eq!(d.names(), ["a", "b"]);
        assert!(eval(&d, &[("a", DepState::new(Phase::Omitted))]));
    }

    #[test]
    fn loop_predicates() {
        let mut s = DepState::new(Phase::Failed);
        s.loop_children = Some(vec![Phase::Failed, Phase::Succeeded]);
        assert!(eval(&parse("t.AnySucceeded"), &[("t", s.clone())]));
        assert!(!eval(&parse("t.AllFailed"), &[("t", s)]));
        let mut s = DepState::new(Phase::Failed);
        s.loop_children = Some(vec![Phase::Failed, Phase::Failed]);
        assert!(eval(&parse("t.AllFailed"), &[("t", s)]));
        let mut s = DepState::new(Phase::Succeeded);
        s.loop_children = Some(vec![]);
        assert!(!eval(&parse("t.AllFailed"), &[("t", s)]));
    }

    #[test]
    fn dependencies_sugar_and_empty() {
        let d = Depends::from_dependencies(&["a".into(), "b".into()]);
        assert_eq!(d, parse("a && b"));
        assert!(
            Depends::parse("  ").is_ok_and(
                |d| d.names().is_empty() && d.evaluate(&|_| DepState::new(Phase::Failed))
            )
        );
    }

    #[test]
    fn errors() {
        assert!(matches!(
            Depends::parse("a.Done"),
            Err(DependsError::UnknownPredicate { .. })
        ));
        assert!(Depends::parse("a &").is_err());
        assert!(Depends::parse("a && (b").is_err());
        assert!(Depends::parse("a b").is_err());
        assert!(Depends::parse("a ||").is_err());
        assert!(Depends::parse("a == b").is_err());
    }
}
