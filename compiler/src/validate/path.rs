//! Locations inside a workflow, rendered the way a user searches for them:
//! `spec.templates[3](name=train).dag.tasks[2](name=b).depends`.
//!
//! A [`Loc`] is a linked list living on the walker's stack, so descending into the
//! document allocates nothing; the text is only built when an issue is reported.

use serde_json::Value;
use std::fmt::Write as _;

/// One step of a location: an object key, or an array index with the element's `name`.
#[derive(Debug, Clone, Copy)]
enum Seg<'a> {
    Root,
    Key(&'a str),
    Index(usize, Option<&'a str>),
}

/// A location in the document, borrowed from the walker's stack frames.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Loc<'a> {
    parent: Option<&'a Loc<'a>>,
    seg: Seg<'a>,
}

impl<'a> Loc<'a> {
    /// The document itself.
    pub(crate) const ROOT: Loc<'static> = Loc {
        parent: None,
        seg: Seg::Root,
    };

    /// The value under `key` of the object at `self`.
    pub(crate) fn key(&'a self, key: &'a str) -> Loc<'a> {
        Loc {
            parent: Some(self),
            seg: Seg::Key(key),
        }
    }

    /// Element `index` of the array at `self`; `elem` supplies its `name`, if any.
    pub(crate) fn index(&'a self, index: usize, elem: &'a Value) -> Loc<'a> {
        Loc {
            parent: Some(self),
            seg: Seg::Index(index, name_of(elem)),
        }
    }

    /// Renders the location as text (`""` for the document root).
    pub(crate) fn render(&self) -> String {
        let mut segs = Vec::new();
        let mut cur = Some(self);
        while let Some(loc) = cur {
            segs.push(loc.seg);
            cur = loc.parent;
        }
        let mut out = String::new();
        for seg in segs.iter().rev() {
            match *seg {
                Seg::Root => {}
                Seg::Key(k) => push_key(&mut out, k),
                Seg::Index(i, name) => {
                    let _ = write!(out, "[{i}]");
                    if let Some(n) = name {
                        let _ = write!(out, "(name={n})");
                    }
                }
            }
        }
        out
    }
}

/// The `name` of an array element, shown next to its index.
fn name_of(elem: &Value) -> Option<&str> {
    elem.as_object()?.get("name")?.as_str()
}

/// Appends `.key`, or `["key"]` when the key is not a plain identifier.
fn push_key(out: &mut String, key: &str) {
    let plain = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'$');
    if plain {
        if !out.is_empty() {
            out.push('.');
        }
        out.push_str(key);
    } else {
        let _ = write!(out, "[{key:?}]");
    }
}

/// Renders a JSON pointer (as reported by the schema validator) in [`Loc`] style,
/// naming array elements from the instance.
pub(crate) fn render_pointer<'a>(
    root: &'a Value,
    segments: impl Iterator<Item = PointerSeg<'a>>,
) -> String {
    let mut out = String::new();
    let mut cur = Some(root);
    for seg in segments {
        match seg {
            PointerSeg::Key(k) => {
                push_key(&mut out, &k);
                cur = cur.and_then(|v| v.get(k.as_ref()));
            }
            PointerSeg::Index(i) => {
                let elem = cur.and_then(|v| v.get(i));
                let _ = write!(out, "[{i}]");
                if let Some(n) = elem.and_then(name_of) {
                    let _ = write!(out, "(name={n})");
                }
                cur = elem;
            }
        }
    }
    out
}

/// One segment of a JSON pointer.
#[derive(Debug)]
pub(crate) enum PointerSeg<'a> {
    Key(std::borrow::Cow<'a, str>),
    Index(usize),
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_names_and_odd_keys() {
        let task = json!({"name": "b"});
        let root = Loc::ROOT;
        let spec = root.key("spec");
        let t = spec.key("templates");
        let tmpl_v = json!({"name": "train"});
        let t3 = t.index(3, &tmpl_v);
        let dag = t3.key("dag");
        let tasks = dag.key("tasks");
        let t2 = tasks.index(2, &task);
        let dep = t2.key("depends");
        assert_eq!(
            dep.render(),
            "spec.templates[3](name=train).dag.tasks[2](name=b).depends"
        );
        let ann = root.key("metadata");
        let ann = ann.key("annotations");
        let odd = ann.key("a.b/c");
        assert_eq!(odd.render(), "metadata.annotations[\"a.b/c\"]");
        assert_eq!(Loc::ROOT.render(), "");
    }

    #[test]
    fn renders_pointers() {
        let v = json!({"spec": {"templates": [{"name": "x", "steps": [[{"name": "s"}]]}]}});
        let segs = vec![
            PointerSeg::Key("spec".into()),
            PointerSeg::Key("templates".into()),
            PointerSeg::Index(0),
            PointerSeg::Key("steps".into()),
            PointerSeg::Index(0),
            PointerSeg::Index(0),
        ];
        assert_eq!(
            render_pointer(&v, segs.into_iter()),
            "spec.templates[0](name=x).steps[0][0](name=s)"
        );
    }
}
