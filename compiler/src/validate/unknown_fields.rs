//! Check 2: object keys the schema does not declare.
//!
//! The published schema never sets `additionalProperties: false`, so a misspelled
//! `dependecies:` passes it; Argo, however, decodes strictly (`argo lint`/`submit`) and
//! rejects it. This walks the instance alongside the schema and reports keys missing
//! from the `properties` of their definition. Objects whose schema declares no
//! `properties` (free maps such as `labels`, or open objects) are not checked.
//!
//! The schema is flattened once into an arena of nodes with hashed property sets,
//! so the walk is a single linear pass over the instance.

use super::path::Loc;
use super::schema::{SCHEMA, WORKFLOW_DEF};
use super::{Issue, Issues};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::LazyLock;

/// FNV-1a, for the property tables. Their keys come from the embedded schema, so a
/// crafted document cannot degrade them; hashing short keys is the walk's main cost.
#[derive(Debug, Clone, Copy)]
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// Property name -> node.
type Props = HashMap<String, NodeId, BuildHasherDefault<Fnv>>;

/// Index of a node in [`Arena::nodes`].
type NodeId = usize;

/// The node that checks nothing (leaves, free-form values).
const ANY: NodeId = 0;

/// What the walker needs to know about one schema.
#[derive(Debug, Default)]
struct Node {
    /// Declared properties; `None` when the object's keys are not checked.
    props: Option<Props>,
    /// Schema of the values of a free map.
    additional: Option<NodeId>,
    /// Schema of array items.
    items: Option<NodeId>,
}

/// The flattened schema.
#[derive(Debug)]
struct Arena {
    nodes: Vec<Node>,
    root: NodeId,
}

static ARENA: LazyLock<Result<Arena, String>> = LazyLock::new(|| {
    let schema = SCHEMA.as_ref().map_err(Clone::clone)?;
    let defs = schema
        .get("definitions")
        .and_then(Value::as_object)
        .ok_or("embedded Argo schema has no definitions")?;
    let mut b = Builder {
        defs,
        nodes: vec![Node::default()],
        by_def: HashMap::new(),
    };
    let root = b.def(WORKFLOW_DEF);
    Ok(Arena {
        nodes: b.nodes,
        root,
    })
});

struct Builder<'s> {
    defs: &'s Map<String, Value>,
    nodes: Vec<Node>,
    by_def: HashMap<&'s str, NodeId>,
}

impl<'s> Builder<'s> {
    /// The node of a named definition (memoized, so recursive definitions terminate).
    fn def(&mut self, name: &'s str) -> NodeId {
        if let Some(&id) = self.by_def.get(name) {
            return id;
        }
        let Some(schema) = self.defs.get(name) else {
            return ANY;
        };
        if let Some(target) = ref_target(schema) {
            // A pure alias: a self-referential chain ends at ANY.
            self.by_def.insert(name, ANY);
            let id = self.def(target);
            self.by_def.insert(name, id);
            return id;
        }
        let id = self.nodes.len();
        self.nodes.push(Node::default());
        self.by_def.insert(name, id);
        let node = self.build(schema);
        self.nodes[id] = node;
        id
    }

    /// The node of an inline schema (or of the definition it refers to).
    fn node(&mut self, schema: &'s Value) -> NodeId {
        if let Some(target) = ref_target(schema) {
            return self.def(target);
        }
        let node = self.build(schema);
        if node.props.is_none() && node.additional.is_none() && node.items.is_none() {
            return ANY;
        }
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    /// The node of a schema that is not a `$ref`.
    fn build(&mut self, schema: &'s Value) -> Node {
        let open = schema
            .get("x-kubernetes-preserve-unknown-fields")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let mut node = Node::default();
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            let mut map = Props::with_capacity_and_hasher(props.len(), Default::default());
            for (k, v) in props {
                let id = self.node(v);
                map.insert(k.clone(), id);
            }
            if !open {
                node.props = Some(map);
            }
        }
        if let Some(add) = schema.get("additionalProperties").filter(|a| a.is_object()) {
            node.additional = Some(self.node(add));
        }
        if let Some(items) = schema.get("items").filter(|a| a.is_object()) {
            node.items = Some(self.node(items));
        }
        node
    }
}

fn ref_target(schema: &Value) -> Option<&str> {
    schema.get("$ref")?.as_str()?.strip_prefix("#/definitions/")
}

/// Deepest nesting the walker follows; deeper documents are reported, not recursed.
const MAX_DEPTH: usize = 200;

impl Arena {
    fn walk(&self, id: NodeId, v: &Value, loc: &Loc<'_>, depth: usize, issues: &mut Issues) {
        if id == ANY {
            return;
        }
        if depth > MAX_DEPTH {
            issues.push(loc, "document is nested too deeply to validate");
            return;
        }
        let node = &self.nodes[id];
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    let child_id = match node.props.as_ref().and_then(|p| p.get(k)) {
                        Some(&c) => c,
                        None => match (node.additional, &node.props) {
                            (Some(a), _) => a,
                            (None, Some(props)) => {
                                issues.push_raw(Issue {
                                    path: loc.key(k).render(),
                                    message: unknown_message(k, props),
                                });
                                continue;
                            }
                            (None, None) => continue,
                        },
                    };
                    self.walk(child_id, child, &loc.key(k), depth + 1, issues);
                }
            }
            Value::Array(items) => {
                if let Some(item_id) = node.items {
                    for (i, item) in items.iter().enumerate() {
                        self.walk(item_id, item, &loc.index(i, item), depth + 1, issues);
                    }
                }
            }
            _ => {}
        }
    }
}

/// "unknown field `dependecies` (did you mean `dependencies`?)".
fn unknown_message(key: &str, props: &Props) -> String {
    let best = props
        .keys()
        .map(|p| (strsim::levenshtein(key, p), p))
        .filter(|(d, p)| *d <= 2.max(p.len() / 4))
        .min();
    match best {
        Some((_, p)) => format!("unknown field `{key}` (did you mean `{p}`?)"),
        None => format!("unknown field `{key}`"),
    }
}

/// Reports every key of `wf` that its schema definition does not declare.
pub(crate) fn check(wf: &Value, issues: &mut Issues) {
    match ARENA.as_ref() {
        Ok(arena) => arena.walk(arena.root, wf, &Loc::ROOT, 0, issues),
        Err(e) => issues.push_raw(Issue {
            path: String::new(),
            message: e.clone(),
        }),
    }
}
