//! A read-only index over the workflow JSON: templates by name, their body kind, DAG
//! graphs, and which templates run as exit handlers. Every accessor tolerates
//! ill-typed input (the schema check reports that), so later checks never panic.

use super::Issues;
use super::dag::Dag;
use super::path::Loc;
use serde_json::{Map, Value};
use std::cell::RefCell;
use std::collections::HashMap;

/// `obj[key]`. Workflow objects are small, and for them a linear scan is much cheaper
/// than hashing the key (this runs several times per task of 10,000-task workflows).
pub(crate) fn field<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    if obj.len() <= 8 {
        obj.iter().find_map(|(k, v)| (k == key).then_some(v))
    } else {
        obj.get(key)
    }
}

/// Whether `obj[key]` is present and not null (a non-nil pointer for Go's decoder).
pub(crate) fn is_set(obj: &Map<String, Value>, key: &str) -> bool {
    field(obj, key).is_some_and(|v| !v.is_null())
}

/// The array under `key`, or an empty slice when absent or not an array.
pub(crate) fn list<'a>(obj: &'a Map<String, Value>, key: &str) -> &'a [Value] {
    field(obj, key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// The string under `key`, if it is one.
pub(crate) fn str_field<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    field(obj, key).and_then(Value::as_str)
}

/// The object under `key`, if it is one.
pub(crate) fn obj_field<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
) -> Option<&'a Map<String, Value>> {
    field(obj, key).and_then(Value::as_object)
}

/// `obj[a][b]` as an array (e.g. `inputs.parameters`).
pub(crate) fn list2<'a>(obj: &'a Map<String, Value>, a: &str, b: &str) -> &'a [Value] {
    obj_field(obj, a).map_or(&[], |o| list(o, b))
}

/// The entry named `name` of a list of `{name, ...}` objects.
pub(crate) fn find_named<'a>(items: &'a [Value], name: &str) -> Option<&'a Map<String, Value>> {
    items
        .iter()
        .filter_map(Value::as_object)
        .find(|o| name_of(o) == Some(name))
}

/// `o.name`. Writers put `name` first (ours, KFP's, Hera's, hand-written YAML), and the
/// map keeps document order, so looking at the first entry avoids hashing the key for
/// each element of long lists (a DAG part of a large pipeline declares hundreds of inputs).
fn name_of(o: &Map<String, Value>) -> Option<&str> {
    match o.iter().next() {
        Some((key, value)) if key == "name" => value.as_str(),
        _ => str_field(o, "name"),
    }
}

/// A list of the document, by address and length (see [`Model::find_named`]).
type ListKey = (usize, usize);

/// The body kinds of a template (ARGO-SEMANTICS.md §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Container,
    Script,
    Resource,
    Suspend,
    Dag,
    Steps,
    ContainerSet,
    Data,
    Http,
    Plugin,
}

impl Kind {
    pub(crate) const ALL: [Kind; 10] = [
        Kind::Container,
        Kind::Script,
        Kind::Resource,
        Kind::Suspend,
        Kind::Dag,
        Kind::Steps,
        Kind::ContainerSet,
        Kind::Data,
        Kind::Http,
        Kind::Plugin,
    ];

    /// The template field holding this body.
    pub(crate) fn key(self) -> &'static str {
        match self {
            Kind::Container => "container",
            Kind::Script => "script",
            Kind::Resource => "resource",
            Kind::Suspend => "suspend",
            Kind::Dag => "dag",
            Kind::Steps => "steps",
            Kind::ContainerSet => "containerSet",
            Kind::Data => "data",
            Kind::Http => "http",
            Kind::Plugin => "plugin",
        }
    }

    /// Leaf templates do work themselves (Argo's `IsLeaf`).
    pub(crate) fn is_leaf(self) -> bool {
        !matches!(self, Kind::Dag | Kind::Steps | Kind::Suspend)
    }

    /// Templates that run in a pod and so have `{{pod.name}}` (Argo's `IsPodType`).
    pub(crate) fn is_pod(self) -> bool {
        matches!(
            self,
            Kind::Container | Kind::Script | Kind::Resource | Kind::ContainerSet | Kind::Data
        )
    }

    /// Templates with `outputs.result`/`exitCode` (Argo's `HasOutput`).
    pub(crate) fn has_result(self) -> bool {
        matches!(
            self,
            Kind::Container
                | Kind::Script
                | Kind::ContainerSet
                | Kind::Data
                | Kind::Http
                | Kind::Plugin
        )
    }
}

/// One template (from `spec.templates` or an `inline:`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tmpl<'a> {
    pub obj: &'a Map<String, Value>,
    pub name: Option<&'a str>,
    /// The body kind when exactly one body is set.
    pub kind: Option<Kind>,
}

impl<'a> Tmpl<'a> {
    pub(crate) fn new(obj: &'a Map<String, Value>) -> Self {
        let bodies = bodies(obj);
        Tmpl {
            obj,
            name: str_field(obj, "name"),
            kind: if bodies.len() == 1 {
                Some(bodies[0])
            } else {
                None
            },
        }
    }

    pub(crate) fn input_params(&self) -> &'a [Value] {
        list2(self.obj, "inputs", "parameters")
    }

    pub(crate) fn input_artifacts(&self) -> &'a [Value] {
        list2(self.obj, "inputs", "artifacts")
    }

    pub(crate) fn output_params(&self) -> &'a [Value] {
        list2(self.obj, "outputs", "parameters")
    }

    pub(crate) fn output_artifacts(&self) -> &'a [Value] {
        list2(self.obj, "outputs", "artifacts")
    }

    pub(crate) fn is_leaf(&self) -> bool {
        self.kind.is_some_and(Kind::is_leaf)
    }

    /// The display name used in messages.
    pub(crate) fn label(&self) -> &'a str {
        self.name.unwrap_or("<unnamed>")
    }
}

/// The body fields present (non-null) on a template object.
pub(crate) fn bodies(obj: &Map<String, Value>) -> Vec<Kind> {
    Kind::ALL
        .into_iter()
        .filter(|k| is_set(obj, k.key()))
        .collect()
}

/// The indexed workflow.
#[derive(Debug)]
pub(crate) struct Model<'a> {
    pub root: &'a Value,
    pub spec: Option<&'a Map<String, Value>>,
    /// `spec.templates` as given (for locations).
    pub templates_v: &'a [Value],
    /// One entry per `spec.templates` element; `None` if it is not an object.
    pub templates: Vec<Option<Tmpl<'a>>>,
    /// First template of each name.
    pub by_name: HashMap<&'a str, usize>,
    /// The DAG graph of each DAG template.
    pub dags: Vec<Option<Dag<'a>>>,
    /// Templates reachable from an exit handler or hook, where `workflow.failures` exists.
    pub exit_scope: Vec<bool>,
    /// Name -> position indexes of long named lists, built on first lookup (see
    /// [`Model::find_named`]).
    names: RefCell<HashMap<ListKey, HashMap<Box<str>, usize>>>,
}

impl<'a> Model<'a> {
    /// Indexes `wf`, analysing DAG graphs (whose issues go to `issues`).
    pub(crate) fn new(wf: &'a Value, issues: &mut Issues) -> Self {
        let spec = wf.get("spec").and_then(Value::as_object);
        let templates_v = spec.map_or(&[][..], |s| list(s, "templates"));
        let templates: Vec<Option<Tmpl<'a>>> = templates_v
            .iter()
            .map(|v| v.as_object().map(Tmpl::new))
            .collect();
        let mut by_name = HashMap::with_capacity(templates.len());
        for (i, t) in templates.iter().enumerate() {
            if let Some(name) = t.and_then(|t| t.name) {
                by_name.entry(name).or_insert(i);
            }
        }
        let spec_l = Loc::ROOT.key("spec");
        let tl = spec_l.key("templates");
        let dags = templates
            .iter()
            .zip(templates_v)
            .enumerate()
            .map(|(i, (t, tv))| {
                let t = (*t)?;
                if t.kind != Some(Kind::Dag) {
                    return None;
                }
                let dag = obj_field(t.obj, "dag")?;
                let il = tl.index(i, tv);
                Some(Dag::analyze(dag, &il.key("dag"), issues))
            })
            .collect();
        let mut m = Model {
            root: wf,
            spec,
            templates_v,
            templates,
            by_name,
            dags,
            exit_scope: Vec::new(),
            names: RefCell::default(),
        };
        m.exit_scope = m.exit_reachable();
        m
    }

    /// [`find_named`] for lists of this document: long lists (a DAG part of a large
    /// pipeline declares hundreds of inputs) get a name index on first use, so each lookup
    /// is a hash probe instead of a scan. The index is keyed by the list's address, which is
    /// stable and unique while the document is borrowed by this model; only pass lists
    /// borrowed from the validated document.
    pub(crate) fn find_named<'v>(
        &self,
        items: &'v [Value],
        name: &str,
    ) -> Option<&'v Map<String, Value>> {
        const SCAN_BELOW: usize = 24;
        if items.len() < SCAN_BELOW {
            return find_named(items, name);
        }
        let key = (items.as_ptr() as usize, items.len());
        let mut names = self.names.borrow_mut();
        let index = names.entry(key).or_insert_with(|| {
            let mut index = HashMap::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                if let Some(n) = item.as_object().and_then(name_of) {
                    index.entry(n.into()).or_insert(i);
                }
            }
            index
        });
        index
            .get(name)
            .and_then(|&i| items.get(i))
            .and_then(Value::as_object)
    }

    /// The template named `name`.
    pub(crate) fn template(&self, name: &str) -> Option<Tmpl<'a>> {
        self.by_name.get(name).and_then(|&i| self.templates[i])
    }

    /// Marks templates reachable from `spec.onExit`, `spec.hooks` and any step/task
    /// hook or `onExit`.
    fn exit_reachable(&self) -> Vec<bool> {
        let mut seen = vec![false; self.templates.len()];
        let mut stack: Vec<usize> = Vec::new();
        let push = |name: Option<&str>, stack: &mut Vec<usize>| {
            if let Some(&i) = name.and_then(|n| self.by_name.get(n)) {
                stack.push(i);
            }
        };
        if let Some(spec) = self.spec {
            push(str_field(spec, "onExit"), &mut stack);
            for hook in obj_field(spec, "hooks")
                .into_iter()
                .flat_map(|h| h.values())
            {
                push(hook.get("template").and_then(Value::as_str), &mut stack);
            }
        }
        for t in self.templates.iter().flatten() {
            for_each_call(t.obj, &mut |call, is_hook| {
                if is_hook {
                    push(str_field(call, "template"), &mut stack);
                } else {
                    push(str_field(call, "onExit"), &mut stack);
                }
            });
        }
        while let Some(i) = stack.pop() {
            if std::mem::replace(&mut seen[i], true) {
                continue;
            }
            if let Some(t) = self.templates[i] {
                for_each_call(t.obj, &mut |call, _| {
                    push(str_field(call, "template"), &mut stack);
                    push(str_field(call, "onExit"), &mut stack);
                });
            }
        }
        seen
    }
}

/// Calls `f` for every invocation inside a template: each step and DAG task
/// (`is_hook = false`) and each of their `hooks` (`is_hook = true`).
pub(crate) fn for_each_call<'a>(
    tmpl: &'a Map<String, Value>,
    f: &mut dyn FnMut(&'a Map<String, Value>, bool),
) {
    let visit = |call: &'a Map<String, Value>, f: &mut dyn FnMut(&'a Map<String, Value>, bool)| {
        f(call, false);
        for hook in obj_field(call, "hooks")
            .into_iter()
            .flat_map(|h| h.values())
        {
            if let Some(h) = hook.as_object() {
                f(h, true);
            }
        }
    };
    if let Some(dag) = obj_field(tmpl, "dag") {
        for task in list(dag, "tasks").iter().filter_map(Value::as_object) {
            visit(task, f);
        }
    }
    for group in list(tmpl, "steps").iter().filter_map(Value::as_array) {
        for step in group.iter().filter_map(Value::as_object) {
            visit(step, f);
        }
    }
}
