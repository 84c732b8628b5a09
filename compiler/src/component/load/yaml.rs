//! YAML text to a JSON value plus the line and column of every node.
//!
//! The model is deserialized from the JSON value (so errors carry a field path), and
//! the positions recorded here turn that path back into a place in the file. One parse
//! does both: each node is read as saphyr's `Spanned`, which knows where it starts.

use std::collections::HashMap;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use serde_saphyr::Spanned;

use super::error::{Issue, Position};

/// One step of a path into a document.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
}

/// A parsed document and where each of its nodes is.
#[derive(Debug)]
pub(crate) struct Document {
    pub(crate) value: Value,
    /// Where each value starts.
    positions: HashMap<Vec<Seg>, Position>,
    /// Where each map key is (path includes the key), for "unknown field" errors.
    keys: HashMap<Vec<Seg>, Position>,
}

impl Document {
    /// Where the node at `path` (or its nearest recorded ancestor) starts.
    pub(crate) fn position(&self, path: &[Seg]) -> Option<Position> {
        (0..=path.len())
            .rev()
            .find_map(|n| self.positions.get(&path[..n]).copied())
    }

    /// Where the key ending `path` is written, if it is a map key.
    pub(crate) fn key_position(&self, path: &[Seg]) -> Option<Position> {
        self.keys.get(path).copied()
    }
}

/// `implementation.container.args[3]`; keys that are not plain words are quoted:
/// `implementation.graph.tasks["Train model"]`.
pub(crate) fn render_path(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
            Seg::Key(k) => {
                let plain = !k.is_empty()
                    && k.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                if !plain {
                    out.push_str(&format!("[{}]", Value::String(k.clone())));
                } else {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(k);
                }
            }
        }
    }
    out
}

/// Parses `text`. A syntax error is one issue with saphyr's line and column.
pub(crate) fn parse(text: &str) -> Result<Document, Issue> {
    let root: Spanned<Node> = serde_saphyr::from_str(text).map_err(|e| {
        let position = e.location().map(|l| Position {
            line: l.line(),
            column: l.column(),
        });
        Issue {
            position,
            path: String::new(),
            message: format!(
                "YAML syntax error: {}",
                yaml_message(&e.without_snippet().to_string())
            ),
        }
    })?;
    let mut maps = Positions::default();
    let mut path = Vec::new();
    let value = convert(root, &mut path, &mut maps)?;
    Ok(Document {
        value,
        positions: maps.values,
        keys: maps.keys,
    })
}

/// saphyr's message without the position (reported separately) or API advice.
fn yaml_message(detail: &str) -> String {
    let mut msg = detail.lines().next().unwrap_or(detail).trim();
    if let Some(i) = msg.rfind(" at line ") {
        msg = &msg[..i];
    }
    for advice in [", set DuplicateKeyPolicy", "; use from_str_multiple"] {
        if let Some(i) = msg.find(advice) {
            msg = &msg[..i];
        }
    }
    msg.to_owned()
}

#[derive(Default)]
struct Positions {
    values: HashMap<Vec<Seg>, Position>,
    keys: HashMap<Vec<Seg>, Position>,
}

fn position(at: serde_saphyr::Location) -> Option<Position> {
    (at.line() > 0).then(|| Position {
        line: at.line(),
        column: at.column(),
    })
}

fn convert(
    node: Spanned<Node>,
    path: &mut Vec<Seg>,
    positions: &mut Positions,
) -> Result<Value, Issue> {
    if let Some(p) = position(node.referenced) {
        positions.values.insert(path.clone(), p);
    }
    Ok(match node.value {
        Node::Null => Value::Null,
        Node::Bool(b) => Value::Bool(b),
        Node::Int(i) => Value::Number(i.into()),
        Node::UInt(u) => Value::Number(u.into()),
        Node::Float(f) => {
            Number::from_f64(f).map_or_else(|| Value::String(f.to_string()), Value::Number)
        }
        Node::Str(s) => Value::String(s),
        Node::Seq(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                path.push(Seg::Index(i));
                let v = convert(item, path, positions);
                path.pop();
                out.push(v?);
            }
            Value::Array(out)
        }
        Node::Map(entries) => {
            let mut out = Map::with_capacity(entries.len());
            for (key, value) in entries {
                let key_at = key.referenced;
                let key = match key.value {
                    Node::Str(s) => s,
                    Node::Int(i) => i.to_string(),
                    Node::UInt(u) => u.to_string(),
                    Node::Float(f) => crate::component::de::float_text(f),
                    Node::Bool(b) => b.to_string(),
                    Node::Null => "null".to_owned(),
                    Node::Seq(_) | Node::Map(_) => {
                        return Err(Issue {
                            position: position(key_at),
                            path: render_path(path),
                            message: "a map key must be text, not a list or a map".into(),
                        });
                    }
                };
                path.push(Seg::Key(key.clone()));
                if let Some(p) = position(key_at) {
                    positions.keys.insert(path.clone(), p);
                }
                let v = convert(value, path, positions);
                path.pop();
                out.insert(key, v?);
            }
            Value::Object(out)
        }
    })
}

/// A YAML node as saphyr reports it, children with their positions.
#[derive(Debug)]
enum Node {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<Node>>),
    Map(Vec<(Spanned<Node>, Spanned<Node>)>),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        Ok(Node::UInt(v))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Node, E> {
        Ok(Node::Str(v.to_string()))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Node, E> {
        Ok(Node::Str(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Node, E> {
        Ok(Node::Str(v))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Node, E> {
        Ok(Node::Str(String::from_utf8_lossy(v).into_owned()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Node>>()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<Node>>()? {
            let value = map.next_value::<Spanned<Node>>()?;
            entries.push((key, value));
        }
        Ok(Node::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_follow_the_nodes() {
        let doc = parse("name: x\nimplementation:\n  container:\n    args: [a, {inputValue: b}]\n")
            .expect("parses");
        let args = [
            Seg::Key("implementation".into()),
            Seg::Key("container".into()),
            Seg::Key("args".into()),
            Seg::Index(1),
        ];
        let p = doc.position(&args).expect("known");
        assert_eq!((p.line, p.column), (4, 15));
        assert_eq!(render_path(&args), "implementation.container.args[1]");
        assert_eq!(
            doc.value["implementation"]["container"]["args"][1]["inputValue"],
            "b"
        );
    }

    #[test]
    fn syntax_errors_have_a_position() {
        let e = parse("name: [x\n").expect_err("unclosed");
        assert!(e.position.is_some(), "{e:?}");
        assert!(e.message.starts_with("YAML syntax error"), "{e:?}");
        let e = parse("a: 1\na: 2\n").expect_err("duplicate");
        assert!(e.message.contains("duplicate"), "{e:?}");
    }

    #[test]
    fn odd_keys_are_quoted_in_paths() {
        let p = [
            Seg::Key("tasks".into()),
            Seg::Key("Train model".into()),
            Seg::Key("arguments".into()),
        ];
        assert_eq!(render_path(&p), "tasks[\"Train model\"].arguments");
    }
}
