//! Check 4: every `{{...}}` tag resolves in its scope (ARGO-SEMANTICS.md §3.1–§3.3).
//!
//! Every string (and object key) of every template is scanned the way Argo's
//! `fasttemplate` does: a tag runs from `{{` to the next `}}`. Simple tags whose root is
//! `inputs.`, `outputs.`, `workflow.`, `tasks.`, `steps.`, `item`, `pod.`, `retries` or
//! `lastRetry.` must resolve in the scope of the field they are in; any other root is
//! left literally by Argo and accepted. Expression tags (`{{= ...}}`) are only checked
//! for the task/step names they index (`tasks['x']`).
//!
//! Scopes are never materialised: a tag is resolved by looking at the template, the
//! DAG's ancestor sets or the step groups directly, so a 10,000-task workflow costs one
//! pass over its strings.

use super::Issues;
use super::dag::{Dag, is_loop};
use super::model::{Kind, Model, Tmpl, field, find_named, is_set, list, obj_field, str_field};
use super::path::Loc;
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};

/// Facts about the whole workflow that `workflow.*` tags depend on.
#[derive(Debug, Default)]
struct Globals<'a> {
    params: HashSet<&'a str>,
    labels: HashSet<&'a str>,
    annotations: HashSet<&'a str>,
    out_params: HashSet<&'a str>,
    out_artifacts: HashSet<&'a str>,
    /// Some `globalName` is itself a tag: any `workflow.outputs.parameters.*` may exist.
    any_out_param: bool,
    any_out_artifact: bool,
    priority: bool,
    /// Parameters may come from a referenced WorkflowTemplate.
    wt_ref: bool,
    /// `spec.retryStrategy` or `spec.templateDefaults.retryStrategy` is set.
    retry_everywhere: bool,
}

impl<'a> Globals<'a> {
    fn new(m: &Model<'a>) -> Self {
        let mut g = Globals::default();
        let Some(spec) = m.spec else { return g };
        if let Some(args) = obj_field(spec, "arguments") {
            g.params = list(args, "parameters")
                .iter()
                .filter_map(|p| p.get("name")?.as_str())
                .collect();
        }
        let meta = m.root.get("metadata").and_then(Value::as_object);
        let wf_meta = obj_field(spec, "workflowMetadata");
        for (set, sources) in [
            (
                &mut g.labels,
                [
                    (meta, "labels"),
                    (wf_meta, "labels"),
                    (wf_meta, "labelsFrom"),
                ],
            ),
            (
                &mut g.annotations,
                [(meta, "annotations"), (wf_meta, "annotations"), (None, "")],
            ),
        ] {
            for (obj, key) in sources {
                if let Some(map) = obj.and_then(|o| obj_field(o, key)) {
                    set.extend(map.keys().map(String::as_str));
                }
            }
        }
        for t in m.templates.iter().flatten() {
            for (items, set, any) in [
                (t.output_params(), &mut g.out_params, &mut g.any_out_param),
                (
                    t.output_artifacts(),
                    &mut g.out_artifacts,
                    &mut g.any_out_artifact,
                ),
            ] {
                for name in items.iter().filter_map(|p| p.get("globalName")?.as_str()) {
                    if name.contains("{{") {
                        *any = true;
                    } else {
                        set.insert(name);
                    }
                }
            }
        }
        g.priority = is_set(spec, "priority");
        g.wt_ref = spec
            .get("workflowTemplateRef")
            .is_some_and(|v| !v.is_null());
        g.retry_everywhere = spec.get("retryStrategy").is_some_and(|v| !v.is_null())
            || obj_field(spec, "templateDefaults")
                .is_some_and(|d| d.get("retryStrategy").is_some_and(|v| !v.is_null()));
        g
    }
}

/// The steps of one steps template, by name: (group index, step object).
type StepIndex<'a> = HashMap<&'a str, (usize, &'a Map<String, Value>)>;

/// Which node references are in scope.
#[derive(Clone, Copy)]
enum NodeScope<'a, 'm> {
    /// Neither `tasks.*` nor `steps.*`.
    None,
    /// A field of DAG task `idx`; `hook` when inside its hooks (the task itself is then
    /// in scope too).
    Task {
        dag: &'m Dag<'a>,
        idx: usize,
        hook: bool,
    },
    /// A DAG template's outputs: every task.
    DagOutputs(&'m Dag<'a>),
    /// A field of a step in group `group`.
    Step {
        steps: &'m StepIndex<'a>,
        group: usize,
        name: Option<&'a str>,
        hook: bool,
    },
    /// A steps template's outputs: every step.
    StepsOutputs(&'m StepIndex<'a>),
}

/// What `{{item...}}` may refer to.
#[derive(Clone, Copy)]
enum Items<'a> {
    None,
    /// `withParam`: unknown at validation time.
    Any,
    /// `withSequence`: plain values.
    Sequence,
    /// `withItems`: the literal list.
    List(&'a [Value]),
}

/// Everything a tag is resolved against.
#[derive(Clone, Copy)]
struct Ctx<'a, 'm> {
    m: &'m Model<'a>,
    g: &'m Globals<'a>,
    tmpl: Tmpl<'a>,
    /// The `inline:` template of the step/task being walked.
    inline: Option<Tmpl<'a>>,
    exit: bool,
    metrics: bool,
    node: NodeScope<'a, 'm>,
    items: Items<'a>,
}

/// Deepest nesting walked; deeper values are reported once.
const MAX_DEPTH: usize = 200;

/// Resolves every tag in every template.
pub(crate) fn check(m: &Model<'_>, issues: &mut Issues) {
    let g = Globals::new(m);
    let spec_l = Loc::ROOT.key("spec");
    let tl = spec_l.key("templates");
    for (i, tv) in m.templates_v.iter().enumerate() {
        let Some(t) = m.templates[i] else { continue };
        let l = tl.index(i, tv);
        let ctx = Ctx {
            m,
            g: &g,
            tmpl: t,
            inline: None,
            exit: m.exit_scope.get(i).copied().unwrap_or(false),
            metrics: false,
            node: NodeScope::None,
            items: Items::None,
        };
        walk_template(ctx, m.dags.get(i).and_then(Option::as_ref), &l, issues);
    }
}

fn walk_template(ctx: Ctx<'_, '_>, dag: Option<&Dag<'_>>, l: &Loc<'_>, issues: &mut Issues) {
    let kind = ctx.tmpl.kind;
    let steps_index: Option<StepIndex<'_>> = (kind == Some(Kind::Steps)).then(|| {
        let mut idx = HashMap::new();
        for (g, group) in list(ctx.tmpl.obj, "steps").iter().enumerate() {
            for step in group
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_object)
            {
                if let Some(name) = str_field(step, "name") {
                    idx.entry(name).or_insert((g, step));
                }
            }
        }
        idx
    });
    for (k, v) in ctx.tmpl.obj {
        let kl = l.key(k);
        scan_str(k, &kl, ctx, issues);
        match (k.as_str(), kind) {
            ("dag", Some(Kind::Dag)) => {
                let (Some(dag), Some(obj)) = (dag, v.as_object()) else {
                    walk(v, &kl, ctx, 1, issues);
                    continue;
                };
                for (dk, dv) in obj {
                    let dl = kl.key(dk);
                    if dk != "tasks" {
                        walk(dv, &dl, ctx, 2, issues);
                        continue;
                    }
                    for (i, tv) in dv.as_array().into_iter().flatten().enumerate() {
                        let node = NodeScope::Task {
                            dag,
                            idx: i,
                            hook: false,
                        };
                        walk_call(tv, &dl.index(i, tv), Ctx { node, ..ctx }, issues);
                    }
                }
            }
            ("steps", Some(Kind::Steps)) => {
                let Some(index) = &steps_index else { continue };
                for (g, gv) in v.as_array().into_iter().flatten().enumerate() {
                    let gl = kl.index(g, gv);
                    let Some(group) = gv.as_array() else {
                        walk(gv, &gl, ctx, 2, issues);
                        continue;
                    };
                    for (j, sv) in group.iter().enumerate() {
                        let node = NodeScope::Step {
                            steps: index,
                            group: g,
                            name: sv.get("name").and_then(Value::as_str),
                            hook: false,
                        };
                        walk_call(sv, &gl.index(j, sv), Ctx { node, ..ctx }, issues);
                    }
                }
            }
            ("outputs", Some(Kind::Dag)) => {
                let node = dag.map_or(NodeScope::None, NodeScope::DagOutputs);
                walk(v, &kl, Ctx { node, ..ctx }, 1, issues);
            }
            ("outputs", Some(Kind::Steps)) => {
                let node = steps_index
                    .as_ref()
                    .map_or(NodeScope::None, NodeScope::StepsOutputs);
                walk(v, &kl, Ctx { node, ..ctx }, 1, issues);
            }
            ("metrics", _) => walk(
                v,
                &kl,
                Ctx {
                    metrics: true,
                    ..ctx
                },
                1,
                issues,
            ),
            _ => walk(v, &kl, ctx, 1, issues),
        }
    }
}

/// Walks a step or task with its loop variables, hooks and inline template in scope.
fn walk_call(v: &Value, l: &Loc<'_>, ctx: Ctx<'_, '_>, issues: &mut Issues) {
    let Some(call) = v.as_object() else {
        walk(v, l, ctx, 3, issues);
        return;
    };
    let items = if let Some(list) = field(call, "withItems").and_then(Value::as_array) {
        Items::List(list)
    } else if str_field(call, "withParam").is_some_and(|s| !s.is_empty()) {
        Items::Any
    } else if is_loop(call) {
        Items::Sequence
    } else {
        Items::None
    };
    let ctx = Ctx { items, ..ctx };
    for (k, child) in call {
        let kl = l.key(k);
        scan_str(k, &kl, ctx, issues);
        match k.as_str() {
            "hooks" => {
                let node = match ctx.node {
                    NodeScope::Task { dag, idx, .. } => NodeScope::Task {
                        dag,
                        idx,
                        hook: true,
                    },
                    NodeScope::Step {
                        steps, group, name, ..
                    } => NodeScope::Step {
                        steps,
                        group,
                        name,
                        hook: true,
                    },
                    other => other,
                };
                walk(child, &kl, Ctx { node, ..ctx }, 4, issues);
            }
            "inline" => {
                let inline = child.as_object().map(Tmpl::new);
                walk(child, &kl, Ctx { inline, ..ctx }, 4, issues);
            }
            _ => walk(child, &kl, ctx, 4, issues),
        }
    }
}

/// Scans every string and key below `v`.
fn walk(v: &Value, l: &Loc<'_>, ctx: Ctx<'_, '_>, depth: usize, issues: &mut Issues) {
    if depth > MAX_DEPTH {
        issues.push(l, "value is nested too deeply to validate");
        return;
    }
    match v {
        Value::String(s) => scan_str(s, l, ctx, issues),
        Value::Object(map) => {
            for (k, child) in map {
                let kl = l.key(k);
                scan_str(k, &kl, ctx, issues);
                let ctx = if k == "metrics" {
                    Ctx {
                        metrics: true,
                        ..ctx
                    }
                } else {
                    ctx
                };
                walk(child, &kl, ctx, depth + 1, issues);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, &l.index(i, item), ctx, depth + 1, issues);
            }
        }
        _ => {}
    }
}

/// Roots Argo checks at submission (plus `item`, `retries` and `lastRetry.`).
fn is_checked_root(tag: &str) -> bool {
    match tag.split_once('.') {
        None => matches!(tag, "item" | "retries"),
        Some((root, _)) => matches!(
            root,
            "item" | "inputs" | "outputs" | "workflow" | "tasks" | "steps" | "pod" | "lastRetry"
        ),
    }
}

/// Finds the tags of one string and resolves them.
fn scan_str(s: &str, l: &Loc<'_>, ctx: Ctx<'_, '_>, issues: &mut Issues) {
    let mut rest = s;
    while let Some(open) = find_pair(rest, b'{') {
        let after = &rest[open + 2..];
        let Some(close) = find_pair(after, b'}') else {
            let t = after.trim_start();
            if t.starts_with('=') || is_checked_root(t) {
                issues.push(
                    l,
                    format!("unterminated tag `{{{{{}`: missing `}}}}`", clip(after)),
                );
            }
            return;
        };
        let tag = &after[..close];
        rest = &after[close + 2..];
        let trimmed = tag.trim();
        let result = if let Some(expr) = trimmed.strip_prefix('=') {
            check_expression(expr, ctx)
        } else if is_checked_root(trimmed) {
            resolve(trimmed, ctx)
        } else {
            Ok(())
        };
        if let Err(reason) = result {
            issues.push(l, format!("`{{{{{tag}}}}}` does not resolve: {reason}"));
        }
    }
}

/// Byte offset of the first `cc` in `s` (`{{` or `}}`); cheaper than a substring
/// search for such short needles.
fn find_pair(s: &str, c: u8) -> Option<usize> {
    let b = s.as_bytes();
    let mut from = 0;
    while let Some(p) = b.get(from..)?.iter().position(|&x| x == c) {
        let at = from + p;
        if b.get(at + 1) == Some(&c) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

fn clip(s: &str) -> &str {
    match s.char_indices().nth(40) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Resolves one simple tag; `Err` says why it does not.
fn resolve(tag: &str, ctx: Ctx<'_, '_>) -> Result<(), String> {
    if tag == "item" || tag.starts_with("item.") {
        return resolve_item(tag, ctx);
    }
    if tag == "retries" || tag.starts_with("lastRetry.") {
        let has = |t: &Tmpl<'_>| is_set(t.obj, "retryStrategy");
        return if ctx.g.retry_everywhere || has(&ctx.tmpl) || ctx.inline.as_ref().is_some_and(has) {
            Ok(())
        } else {
            Err(format!(
                "template `{}` has no `retryStrategy`",
                ctx.tmpl.label()
            ))
        };
    }
    let (root, rest) = tag.split_once('.').unwrap_or((tag, ""));
    match root {
        "inputs" => resolve_inputs(rest, ctx),
        "outputs" => resolve_outputs(rest, ctx),
        "workflow" => resolve_workflow(rest, ctx),
        "tasks" => resolve_tasks(rest, ctx),
        "steps" => resolve_steps(rest, ctx),
        "pod" => {
            let kind = ctx.inline.and_then(|t| t.kind).or(ctx.tmpl.kind);
            match (rest, kind) {
                ("name", Some(k)) if k.is_pod() => Ok(()),
                ("name", None) => Ok(()),
                ("name", Some(k)) => Err(format!(
                    "`pod.name` exists only in pod templates (container, script, resource, \
                     containerSet, data), not in a {} template",
                    k.key()
                )),
                _ => Err("the only pod variable is `pod.name`".into()),
            }
        }
        _ => Ok(()),
    }
}

/// The template whose inputs/outputs a tag refers to: the inline one, else the enclosing.
fn declaring<'a>(ctx: &Ctx<'a, '_>) -> [Option<Tmpl<'a>>; 2] {
    [ctx.inline, Some(ctx.tmpl)]
}

fn resolve_inputs(rest: &str, ctx: Ctx<'_, '_>) -> Result<(), String> {
    let label = ctx.inline.unwrap_or(ctx.tmpl).label();
    let decl = declaring(&ctx);
    if rest == "parameters" {
        return if decl.iter().flatten().any(|t| !t.input_params().is_empty()) {
            Ok(())
        } else {
            Err(format!("template `{label}` declares no input parameters"))
        };
    }
    if let Some(name) = rest.strip_prefix("parameters.") {
        return if decl
            .iter()
            .flatten()
            .any(|t| ctx.m.find_named(t.input_params(), name).is_some())
        {
            Ok(())
        } else {
            Err(format!(
                "template `{label}` has no input parameter `{name}`"
            ))
        };
    }
    if let Some(art) = rest.strip_prefix("artifacts.") {
        let (name, suffix) = art.split_once('.').unwrap_or((art, ""));
        let declared = decl
            .iter()
            .flatten()
            .find(|t| ctx.m.find_named(t.input_artifacts(), name).is_some());
        return match (declared, suffix) {
            (None, _) => Err(format!("template `{label}` has no input artifact `{name}`")),
            (Some(_), "") => Ok(()),
            (Some(t), "path") if t.is_leaf() || t.kind.is_none() => Ok(()),
            (Some(t), "path") => Err(format!(
                "`inputs.artifacts.{name}.path` exists only in leaf templates, not in template `{}`",
                t.label()
            )),
            (Some(_), other) => Err(format!(
                "unknown input artifact field `{other}` (only `path`)"
            )),
        };
    }
    Err("expected `inputs.parameters.<name>` or `inputs.artifacts.<name>.path`".into())
}

fn resolve_outputs(rest: &str, ctx: Ctx<'_, '_>) -> Result<(), String> {
    if ctx.metrics {
        return Ok(()); // metrics are emitted after the node finished: its outputs exist
    }
    let t = ctx.inline.unwrap_or(ctx.tmpl);
    let (section, name) = match rest.split_once('.') {
        Some((s, n)) => (s, n.strip_suffix(".path")),
        None => (rest, None),
    };
    let Some(name) = name.filter(|_| matches!(section, "parameters" | "artifacts")) else {
        return Err(
            "only `outputs.parameters.<name>.path` and `outputs.artifacts.<name>.path` \
             (or any output inside `metrics`) can be used in a template"
                .into(),
        );
    };
    if !(t.is_leaf() || t.kind.is_none()) {
        return Err(format!(
            "output paths exist only in leaf templates, not in template `{}`",
            t.label()
        ));
    }
    let found = if section == "parameters" {
        find_named(t.output_params(), name).is_some_and(|p| {
            obj_field(p, "valueFrom").is_some_and(|vf| str_field(vf, "path").is_some())
        })
    } else {
        find_named(t.output_artifacts(), name).is_some_and(|a| str_field(a, "path").is_some())
    };
    if found {
        Ok(())
    } else {
        let what = if section == "parameters" {
            "output parameter"
        } else {
            "output artifact"
        };
        Err(format!(
            "template `{}` has no {what} `{name}` with a `path`",
            t.label()
        ))
    }
}

fn resolve_workflow(rest: &str, ctx: Ctx<'_, '_>) -> Result<(), String> {
    let g = ctx.g;
    let ok = match rest {
        "name" | "namespace" | "uid" | "serviceAccountName" | "mainEntrypoint" | "duration"
        | "status" | "labels" | "labels.json" | "annotations" | "annotations.json" => true,
        "parameters" | "parameters.json" => !g.params.is_empty() || g.wt_ref,
        "priority" => g.priority,
        "failures" => {
            if ctx.exit {
                true
            } else {
                return Err("`workflow.failures` exists only in exit handlers and hooks".into());
            }
        }
        _ if rest.starts_with("creationTimestamp") || rest.starts_with("scheduledTime") => true,
        _ => {
            if let Some(p) = rest.strip_prefix("parameters.") {
                return if g.params.contains(p) || g.wt_ref {
                    Ok(())
                } else {
                    Err(format!(
                        "spec.arguments.parameters declares no parameter `{p}`"
                    ))
                };
            }
            if let Some(k) = rest.strip_prefix("labels.") {
                return if g.labels.contains(k) {
                    Ok(())
                } else {
                    Err(format!("the workflow has no label `{k}`"))
                };
            }
            if let Some(k) = rest.strip_prefix("annotations.") {
                return if g.annotations.contains(k) {
                    Ok(())
                } else {
                    Err(format!("the workflow has no annotation `{k}`"))
                };
            }
            if let Some(k) = rest.strip_prefix("outputs.parameters.") {
                return if g.out_params.contains(k) || g.any_out_param {
                    Ok(())
                } else {
                    Err(format!("no output parameter has `globalName: {k}`"))
                };
            }
            if let Some(k) = rest.strip_prefix("outputs.artifacts.") {
                return if g.out_artifacts.contains(k) || g.any_out_artifact {
                    Ok(())
                } else {
                    Err(format!("no output artifact has `globalName: {k}`"))
                };
            }
            return Err(format!("`workflow.{rest}` is not a workflow variable"));
        }
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`workflow.{rest}` is not defined for this workflow"
        ))
    }
}

/// The template a step or task invokes, when it can be known.
fn callee<'a>(m: &Model<'a>, call: &'a Map<String, Value>) -> Option<Tmpl<'a>> {
    if let Some(name) = str_field(call, "template") {
        return m.template(name);
    }
    obj_field(call, "inline").map(Tmpl::new)
}

/// Checks what follows `tasks.T.`/`steps.S.` against the node's template.
fn check_node_suffix(
    m: &Model<'_>,
    what: &str,
    name: &str,
    call: &Map<String, Value>,
    suffix: &str,
) -> Result<(), String> {
    match suffix {
        "status" | "id" | "startedAt" | "finishedAt" | "hostNodeName" | "ip" => return Ok(()),
        _ => {}
    }
    let looped = is_loop(call);
    let t = callee(m, call);
    let kind = t.and_then(|t| t.kind);
    match suffix {
        "exitCode" | "outputs.result" | "outputs.exitCode" => {
            return match kind {
                Some(k) if !k.has_result() => Err(format!(
                    "{what} `{name}` runs a {} template, which has no result or exit code",
                    k.key()
                )),
                _ => Ok(()),
            };
        }
        "outputs.parameters" => {
            return if looped {
                Ok(())
            } else {
                Err(format!(
                    "`outputs.parameters` as a whole exists only for looped {what}s; `{name}` does not loop"
                ))
            };
        }
        _ => {}
    }
    let (section, out) = match suffix
        .strip_prefix("outputs.")
        .and_then(|r| r.split_once('.'))
    {
        Some(x) => x,
        None => return Err(format!("unknown {what} variable `{suffix}`")),
    };
    let Some(t) = t else { return Ok(()) }; // templateRef: cannot be known
    let found = match section {
        "parameters" => m.find_named(t.output_params(), out).is_some(),
        "artifacts" => m.find_named(t.output_artifacts(), out).is_some(),
        _ => return Err(format!("unknown {what} variable `{suffix}`")),
    };
    if found {
        Ok(())
    } else {
        let kind = if section == "parameters" {
            "output parameter"
        } else {
            "output artifact"
        };
        Err(format!(
            "template `{}` (run by {what} `{name}`) has no {kind} `{out}`",
            t.label()
        ))
    }
}

fn resolve_tasks(rest: &str, ctx: Ctx<'_, '_>) -> Result<(), String> {
    let (name, suffix) = rest.split_once('.').unwrap_or((rest, ""));
    let (dag, me, hook) = match ctx.node {
        NodeScope::Task { dag, idx, hook } => (dag, Some(idx), hook),
        NodeScope::DagOutputs(dag) => (dag, None, false),
        _ => {
            return Err(
                "`tasks.*` exists only in the fields of a DAG task and in a DAG template's outputs"
                    .into(),
            );
        }
    };
    let Some(&t) = dag.by_name.get(name) else {
        if name == "name" {
            return Ok(()); // Argo accepts `{{tasks.name}}`
        }
        return Err(format!("no task `{name}` in this DAG"));
    };
    if let Some(me) = me {
        let me_name = dag.tasks[me].as_ref().and_then(|x| x.name).unwrap_or("?");
        if t == me && !hook {
            return Err(format!(
                "task `{name}` cannot refer to its own outputs (only its hooks can)"
            ));
        }
        if t != me && !dag.is_ancestor(t, me) {
            return Err(format!(
                "task `{name}` is not an ancestor of task `{me_name}`; add it to `depends`/`dependencies`"
            ));
        }
    }
    let Some(task) = dag.tasks[t].as_ref() else {
        return Ok(());
    };
    check_node_suffix(ctx.m, "task", name, task.obj, suffix)
}

fn resolve_steps(rest: &str, ctx: Ctx<'_, '_>) -> Result<(), String> {
    let (name, suffix) = rest.split_once('.').unwrap_or((rest, ""));
    let (steps, group, me, hook) = match ctx.node {
        NodeScope::Step {
            steps,
            group,
            name,
            hook,
        } => (steps, Some(group), name, hook),
        NodeScope::StepsOutputs(steps) => (steps, None, None, false),
        _ => {
            return Err(
                "`steps.*` exists only in the fields of a step and in a steps template's outputs"
                    .into(),
            );
        }
    };
    let Some(&(g, step)) = steps.get(name) else {
        if name == "name" {
            return Ok(()); // Argo accepts `{{steps.name}}`
        }
        return Err(format!("no step `{name}` in this steps template"));
    };
    if let Some(group) = group {
        let own = me == Some(name);
        if !(g < group || (own && hook)) {
            return Err(if own {
                format!("step `{name}` cannot refer to its own outputs (only its hooks can)")
            } else {
                format!(
                    "step `{name}` runs in group {g}, not before this step's group {group}; \
                     only earlier groups can be referenced"
                )
            });
        }
    }
    check_node_suffix(ctx.m, "step", name, step, suffix)
}

fn resolve_item(tag: &str, ctx: Ctx<'_, '_>) -> Result<(), String> {
    let key = tag.strip_prefix("item.");
    match (ctx.items, key) {
        (Items::None, _) => Err(
            "`item` exists only in a step or task that loops with withItems, withParam or withSequence"
                .into(),
        ),
        (_, None) | (Items::Any, _) => Ok(()),
        (Items::Sequence, Some(_)) => {
            Err("withSequence items are plain values: use `{{item}}`".into())
        }
        (Items::List(items), Some(key)) => {
            let found = items.iter().any(|it| match it {
                Value::Object(o) => field(o, key).is_some(),
                Value::Array(a) => key
                    .strip_prefix('[')
                    .and_then(|k| k.strip_suffix(']'))
                    .and_then(|k| k.parse::<usize>().ok())
                    .is_some_and(|i| i < a.len()),
                _ => false,
            });
            if found {
                Ok(())
            } else {
                Err(format!("no item of withItems has a key `{key}`"))
            }
        }
    }
}

/// Checks `tasks['x']`/`steps['x']` indexes in an expression tag.
fn check_expression(expr: &str, ctx: Ctx<'_, '_>) -> Result<(), String> {
    for (root, name) in indexed_names(expr) {
        match (root, ctx.node) {
            ("tasks", NodeScope::Task { dag, idx, hook }) => match dag.by_name.get(name) {
                None => return Err(format!("no task `{name}` in this DAG")),
                Some(&t) if t == idx && !hook => {
                    return Err(format!("task `{name}` cannot refer to itself"));
                }
                Some(&t) if t != idx && !dag.is_ancestor(t, idx) => {
                    return Err(format!(
                        "task `{name}` is not an ancestor of this task; add it to `depends`/`dependencies`"
                    ));
                }
                Some(_) => {}
            },
            ("tasks", NodeScope::DagOutputs(dag)) if !dag.by_name.contains_key(name) => {
                return Err(format!("no task `{name}` in this DAG"));
            }
            ("steps", NodeScope::Step { steps, .. } | NodeScope::StepsOutputs(steps))
                if !steps.contains_key(name) =>
            {
                return Err(format!("no step `{name}` in this steps template"));
            }
            _ => {}
        }
    }
    Ok(())
}

/// `("tasks", "x")` for every `tasks['x']` / `tasks["x"]` (and `steps[...]`) in `expr`.
fn indexed_names(expr: &str) -> Vec<(&'static str, &str)> {
    let mut out = Vec::new();
    for root in ["tasks", "steps"] {
        let mut rest = expr;
        while let Some(pos) = rest.find(root) {
            let before_ok = expr.len() - rest.len() + pos == 0
                || !rest[..pos]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.');
            let after = &rest[pos + root.len()..];
            rest = after;
            if !before_ok {
                continue;
            }
            let Some(inner) = after.strip_prefix('[') else {
                continue;
            };
            let inner = inner.trim_start();
            let Some(quote) = inner.chars().next().filter(|c| *c == '\'' || *c == '"') else {
                continue;
            };
            let body = &inner[1..];
            if let Some(end) = body.find(quote) {
                out.push((root, &body[..end]));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_indexed_names() {
        assert_eq!(
            indexed_names("tasks['a-b'].outputs.result + steps[\"c\"].x + mytasks['z']"),
            vec![("tasks", "a-b"), ("steps", "c")]
        );
        assert!(indexed_names("tasks.a.outputs").is_empty());
    }

    #[test]
    fn finds_pairs() {
        assert_eq!(find_pair("a{b{{c", b'{'), Some(3));
        assert_eq!(find_pair("{", b'{'), None);
        assert_eq!(find_pair("é}}", b'}'), Some(2));
        assert_eq!(find_pair("", b'}'), None);
    }

    #[test]
    fn checked_roots() {
        assert!(is_checked_root("item"));
        assert!(is_checked_root("inputs.parameters.x"));
        assert!(!is_checked_root("items"));
        assert!(!is_checked_root("input.x"));
        assert!(!is_checked_root("node.name"));
    }
}
