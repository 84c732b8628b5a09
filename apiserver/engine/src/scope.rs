//! What `{{...}}` tags resolve to where a node is (ARGO-SEMANTICS §3.2, §3.3).

use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;

use kfp::argo::Artifact;
use serde_json::{Map, Value, json};

use crate::expr;
use crate::run::{NodeResult, Run};
use crate::substitute::{Substituted, is_checked_root, substitute_with};

/// A template's inputs once resolved (§2).
#[derive(Debug, Clone, Default)]
pub struct ResolvedInputs {
    pub parameters: Vec<(String, String)>,
    /// With the location to load from (`s3.key` in the store, or `raw`) and the template's
    /// declared `path`.
    pub artifacts: Vec<Artifact>,
}

impl ResolvedInputs {
    pub fn parameter(&self, name: &str) -> Option<&str> {
        self.parameters
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Results of the sibling tasks (DAG) or earlier steps (steps) a field may reference.
#[derive(Debug, Clone, Copy)]
pub struct Refs<'a> {
    /// `tasks` or `steps`.
    pub kind: &'static str,
    pub results: &'a HashMap<String, NodeResult>,
}

/// The variables visible to one field.
#[derive(Debug)]
pub struct Scope<'a> {
    pub run: &'a Run,
    pub node_name: &'a str,
    pub inputs: Option<&'a ResolvedInputs>,
    /// Flat variables of this node: `pod.name`, `retries`, `item`, `item.k`,
    /// `outputs.parameters.p.path`, `lastRetry.*`, ...
    pub locals: Vec<(String, String)>,
    /// The loop item as a value, for expressions (`item.a`).
    pub item: Option<&'a Value>,
    pub refs: Option<Refs<'a>>,
    env: OnceCell<Value>,
}

impl<'a> Scope<'a> {
    pub fn new(run: &'a Run, node_name: &'a str) -> Self {
        Scope {
            run,
            node_name,
            inputs: None,
            locals: Vec::new(),
            item: None,
            refs: None,
            env: OnceCell::new(),
        }
    }

    pub fn with_inputs(mut self, inputs: &'a ResolvedInputs) -> Self {
        self.inputs = Some(inputs);
        self
    }

    pub fn with_refs(mut self, refs: Refs<'a>) -> Self {
        self.refs = Some(refs);
        self
    }

    pub fn with_item(mut self, item: Option<&'a Value>) -> Self {
        if let Some(item) = item {
            self.locals.extend(crate::naming::item_variables(item));
        }
        self.item = item;
        self
    }

    pub fn local(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.locals.push((name.into(), value.into()));
        self
    }

    /// The value of a simple tag, if it resolves here.
    pub fn lookup(&self, name: &str) -> Option<String> {
        if let Some((_, v)) = self.locals.iter().find(|(k, _)| k == name) {
            return Some(v.clone());
        }
        if let Some(rest) = name.strip_prefix("workflow.") {
            return self.workflow_variable(rest);
        }
        if let Some(rest) = name.strip_prefix("inputs.") {
            return self.input_variable(rest);
        }
        if name == "node.name" {
            return Some(self.node_name.to_owned());
        }
        if let Some(refs) = self.refs
            && let Some(rest) = name
                .strip_prefix(refs.kind)
                .and_then(|r| r.strip_prefix('.'))
        {
            return reference(refs.results, rest);
        }
        None
    }

    fn input_variable(&self, rest: &str) -> Option<String> {
        let inputs = self.inputs?;
        if rest == "parameters" {
            let list: Vec<Value> = inputs
                .parameters
                .iter()
                .map(|(n, v)| json!({"name": n, "value": v}))
                .collect();
            return Some(Value::Array(list).to_string());
        }
        if let Some(p) = rest.strip_prefix("parameters.") {
            return inputs.parameter(p).map(str::to_owned);
        }
        let a = rest.strip_prefix("artifacts.")?;
        let (name, field) = a.rsplit_once('.')?;
        let artifact = inputs.artifacts.iter().find(|x| x.name == name)?;
        (field == "path").then(|| artifact.path.clone()).flatten()
    }

    fn workflow_variable(&self, rest: &str) -> Option<String> {
        let run = self.run;
        let meta = &run.workflow.metadata;
        Some(match rest {
            "name" => run.name.clone(),
            "namespace" => run.namespace.clone(),
            "uid" => run.uid.clone(),
            "serviceAccountName" => run
                .workflow
                .spec
                .service_account_name
                .clone()
                .unwrap_or_else(|| "default".to_owned()),
            "mainEntrypoint" => run.workflow.spec.entrypoint.clone(),
            "creationTimestamp" | "creationTimestamp.RFC3339" => run
                .creation_timestamp
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "duration" => format!("{:.6}", run.started.elapsed().as_secs_f64()),
            "parameters" | "parameters.json" => parameters_json(&run.parameters),
            "labels.json" => json_object(meta.labels.iter()),
            "annotations.json" => json_object(meta.annotations.iter()),
            "status" => run
                .globals()
                .status
                .clone()
                .unwrap_or_else(|| "Running".to_owned()),
            "failures" => run.globals().failures.clone()?,
            _ => {
                if let Some(p) = rest.strip_prefix("parameters.") {
                    return run
                        .parameters
                        .iter()
                        .find(|(n, _)| n == p)
                        .map(|(_, v)| v.clone());
                }
                if let Some(k) = rest.strip_prefix("labels.") {
                    return label(&run.name, &meta.labels, k);
                }
                if let Some(k) = rest.strip_prefix("annotations.") {
                    return meta.annotations.get(k).cloned();
                }
                if let Some(g) = rest.strip_prefix("outputs.parameters.") {
                    return run.globals().output_parameters.get(g).cloned();
                }
                if let Some(spec) = rest.strip_prefix("creationTimestamp.") {
                    let mut chars = spec.chars();
                    let (Some(c), None) = (chars.next(), chars.next()) else {
                        return None;
                    };
                    if !c.is_ascii_alphabetic() {
                        return None;
                    }
                    return Some(run.creation_timestamp.format(&format!("%{c}")).to_string());
                }
                return None;
            }
        })
    }

    /// Substitute every tag of `text` that resolves here; expression tags are evaluated.
    /// Tags that do not resolve stay literally (and are listed); an expression that fails
    /// is an error.
    pub fn render(&self, text: &str) -> Result<Substituted, String> {
        if !text.contains("{{") {
            return Ok(Substituted {
                text: text.to_owned(),
                ..Substituted::default()
            });
        }
        let failure: RefCell<Option<String>> = RefCell::new(None);
        let eval = |e: &str| match expr::evaluate(e, self.env()) {
            // Argo refuses to splice nil (`x ?? default` is how to allow a missing value).
            Ok(serde_json::Value::Null) => {
                failure.borrow_mut().get_or_insert_with(|| {
                    format!(
                        "failed to evaluate expression '{e}': it is nil (use ?? to give a default)"
                    )
                });
                None
            }
            Ok(v) => Some(expr::to_text(&v)),
            Err(err) => {
                failure
                    .borrow_mut()
                    .get_or_insert_with(|| format!("failed to evaluate expression '{e}': {err}"));
                None
            }
        };
        let out = substitute_with(text, &|n| self.lookup(n), &eval).map_err(|e| e.to_string())?;
        match failure.into_inner() {
            Some(err) => Err(err),
            None => Ok(out),
        }
    }

    /// [`Scope::render`], failing on a tag under a root Argo checks (`inputs.`, `tasks.`,
    /// `item`, ...) that does not resolve.
    pub fn render_strict(&self, text: &str) -> Result<String, String> {
        let out = self.render(text)?;
        if let Some(missing) = out.missing.iter().find(|m| is_checked_root(m)) {
            return Err(format!("unable to resolve {{{{{missing}}}}}"));
        }
        Ok(out.text)
    }

    /// [`Scope::render_strict`] over every string of a JSON value.
    pub fn render_value(&self, value: &mut Value) -> Result<(), String> {
        match value {
            Value::String(s) if s.contains("{{") => {
                *s = self.render_strict(s)?;
                Ok(())
            }
            Value::Array(list) => list.iter_mut().try_for_each(|v| self.render_value(v)),
            Value::Object(map) => map.values_mut().try_for_each(|v| self.render_value(v)),
            _ => Ok(()),
        }
    }

    /// Evaluate an expression (retry, hook, output `expression`) here.
    pub fn evaluate(&self, text: &str) -> Result<Value, String> {
        expr::evaluate(text, self.env()).map_err(|e| format!("expression '{text}': {e}"))
    }

    /// The variables as the nested map expressions see.
    fn env(&self) -> &Value {
        self.env.get_or_init(|| self.build_env())
    }

    fn build_env(&self) -> Value {
        let run = self.run;
        let mut workflow = Map::new();
        for key in [
            "name",
            "namespace",
            "uid",
            "serviceAccountName",
            "mainEntrypoint",
            "creationTimestamp",
            "duration",
            "status",
            "failures",
        ] {
            if let Some(v) = self.workflow_variable(key) {
                workflow.insert(key.to_owned(), Value::String(v));
            }
        }
        let mut params: Map<String, Value> = run
            .parameters
            .iter()
            .map(|(n, v)| (n.clone(), Value::String(v.clone())))
            .collect();
        params.insert(
            "json".into(),
            Value::String(parameters_json(&run.parameters)),
        );
        workflow.insert("parameters".into(), Value::Object(params));
        let meta = &run.workflow.metadata;
        workflow.insert("labels".into(), string_map(meta.labels.iter()));
        workflow.insert("annotations".into(), string_map(meta.annotations.iter()));
        let globals: Map<String, Value> = run
            .globals()
            .output_parameters
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        workflow.insert("outputs".into(), json!({"parameters": globals}));
        let mut env = Map::new();
        env.insert("workflow".into(), Value::Object(workflow));
        if let Some(inputs) = self.inputs {
            let params: Map<String, Value> = inputs
                .parameters
                .iter()
                .map(|(n, v)| (n.clone(), Value::String(v.clone())))
                .collect();
            let artifacts: Map<String, Value> = inputs
                .artifacts
                .iter()
                .map(|a| (a.name.clone(), json!({"path": a.path})))
                .collect();
            env.insert(
                "inputs".into(),
                json!({"parameters": params, "artifacts": artifacts}),
            );
        }
        if let Some(refs) = self.refs {
            let nodes: Map<String, Value> = refs
                .results
                .iter()
                .map(|(name, r)| (name.clone(), result_value(r)))
                .collect();
            env.insert(refs.kind.to_owned(), Value::Object(nodes));
        }
        for (key, value) in &self.locals {
            if key == "item" || key.starts_with("item.") {
                continue;
            }
            insert_path(&mut env, key, Value::String(value.clone()));
        }
        if let Some(item) = self.item {
            env.insert("item".into(), item.clone());
        }
        env.insert("node".into(), json!({"name": self.node_name}));
        Value::Object(env)
    }
}

/// `tasks.<T>.<rest>` / `steps.<S>.<rest>` (§3.3).
fn reference(results: &HashMap<String, NodeResult>, rest: &str) -> Option<String> {
    let (name, field) = rest.split_once('.')?;
    let r = results.get(name)?;
    Some(match field {
        "status" => r.phase.as_str().to_owned(),
        "id" => r.id.clone(),
        "startedAt" => r.started_at.clone()?,
        "finishedAt" => r.finished_at.clone()?,
        "exitCode" => r.outputs.exit_code.clone()?,
        "outputs.result" => r.outputs.result.clone()?,
        "outputs.parameters" => r.parameters_json.clone()?,
        _ => {
            let p = field.strip_prefix("outputs.parameters.")?;
            return r.outputs.parameter(p).map(str::to_owned);
        }
    })
}

fn result_value(r: &NodeResult) -> Value {
    let params: Map<String, Value> = r
        .outputs
        .parameters
        .iter()
        .filter_map(|p| Some((p.name.clone(), Value::String(p.value.clone()?))))
        .collect();
    let artifacts: Map<String, Value> = r
        .outputs
        .artifacts
        .iter()
        .map(|a| (a.name.clone(), json!({"name": a.name})))
        .collect();
    let mut outputs = Map::new();
    if let Some(result) = &r.outputs.result {
        outputs.insert("result".into(), Value::String(result.clone()));
    }
    outputs.insert("parameters".into(), Value::Object(params));
    outputs.insert("artifacts".into(), Value::Object(artifacts));
    let mut node = Map::new();
    node.insert("id".into(), Value::String(r.id.clone()));
    node.insert("status".into(), Value::String(r.phase.as_str().to_owned()));
    for (k, v) in [
        ("startedAt", &r.started_at),
        ("finishedAt", &r.finished_at),
        ("exitCode", &r.outputs.exit_code),
    ] {
        if let Some(v) = v {
            node.insert(k.into(), Value::String(v.clone()));
        }
    }
    node.insert("outputs".into(), Value::Object(outputs));
    Value::Object(node)
}

fn insert_path(env: &mut Map<String, Value>, key: &str, value: Value) {
    let mut parts: Vec<&str> = key.split('.').collect();
    let Some(last) = parts.pop() else { return };
    let mut map = env;
    for part in parts {
        let entry = map
            .entry(part.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        let Value::Object(next) = entry else { return };
        map = next;
    }
    map.insert(last.to_owned(), value);
}

/// `workflow.parameters.json`: the parameters as Argo's parameter objects.
fn parameters_json(params: &[(String, String)]) -> String {
    let list: Vec<Value> = params
        .iter()
        .map(|(n, v)| json!({"name": n, "value": v}))
        .collect();
    Value::Array(list).to_string()
}

fn string_map<'k>(entries: impl Iterator<Item = (&'k String, &'k String)>) -> Value {
    Value::Object(
        entries
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

fn json_object<'k>(entries: impl Iterator<Item = (&'k String, &'k String)>) -> String {
    string_map(entries).to_string()
}

/// A workflow label; Argo adds `workflows.argoproj.io/workflow` itself.
fn label(
    workflow: &str,
    labels: &std::collections::BTreeMap<String, String>,
    key: &str,
) -> Option<String> {
    labels
        .get(key)
        .cloned()
        .or_else(|| (key == "workflows.argoproj.io/workflow").then(|| workflow.to_owned()))
}
