//! A DAG task or a step: `when`, loop expansion, arguments, hooks (§4, §5, §10).
//!
//! Everything that reads sibling results happens synchronously in [`prepare`] (so the
//! caller lends its result map without copying it); [`execute`] then runs what was
//! decided.

use std::collections::{BTreeMap, HashMap};

use kfp::argo::{
    Arguments, Artifact, DagTask, LifecycleHook, NodeFlag, NodeOutputs, NodePhase, NodeType,
    Parameter, Sequence, Template, WorkflowStep,
};
use serde_json::Value;

use super::{Call, default_outputs, fulfilled_node, invoke, parallelism_permit};
use crate::naming::{expand_sequence, loop_node_name};
use crate::run::{Ctx, NodeResult};
use crate::scope::{Refs, ResolvedInputs, Scope};
use crate::tracker::NewNode;
use crate::when::evaluate_when;

/// The fields DAG tasks and steps share.
#[derive(Debug, Clone, Copy)]
pub struct TaskView<'a> {
    pub name: &'a str,
    pub template: Option<&'a str>,
    pub has_template_ref: bool,
    pub arguments: &'a Arguments,
    pub when: Option<&'a str>,
    pub with_items: Option<&'a [Value]>,
    pub with_param: Option<&'a str>,
    pub with_sequence: Option<&'a Sequence>,
    pub hooks: &'a BTreeMap<String, LifecycleHook>,
    pub on_exit: Option<&'a str>,
}

impl<'a> From<&'a DagTask> for TaskView<'a> {
    fn from(t: &'a DagTask) -> Self {
        TaskView {
            name: &t.name,
            template: t.template.as_deref(),
            has_template_ref: t.template_ref.is_some(),
            arguments: &t.arguments,
            when: t.when.as_deref(),
            with_items: t.with_items.as_deref(),
            with_param: t.with_param.as_deref(),
            with_sequence: t.with_sequence.as_deref(),
            hooks: &t.hooks,
            on_exit: t.on_exit.as_deref(),
        }
    }
}

impl<'a> From<&'a WorkflowStep> for TaskView<'a> {
    fn from(t: &'a WorkflowStep) -> Self {
        TaskView {
            name: &t.name,
            template: t.template.as_deref(),
            has_template_ref: t.template_ref.is_some(),
            arguments: &t.arguments,
            when: t.when.as_deref(),
            with_items: t.with_items.as_deref(),
            with_param: t.with_param.as_deref(),
            with_sequence: t.with_sequence.as_ref(),
            hooks: &t.hooks,
            on_exit: t.on_exit.as_deref(),
        }
    }
}

impl TaskView<'_> {
    fn is_loop(&self) -> bool {
        self.with_items.is_some() || self.with_param.is_some() || self.with_sequence.is_some()
    }
}

/// Where the task sits.
#[derive(Debug, Clone, Copy)]
pub struct Place<'a> {
    /// Full node name of the task (before loop expansion).
    pub node_name: &'a str,
    pub display_name: &'a str,
    /// Nodes that get an edge to this task's node(s) (§12.4).
    pub parents: &'a [String],
    /// DAG loops get a TaskGroup node; steps loops do not.
    pub task_group: bool,
}

/// What [`prepare`] decided.
#[derive(Debug)]
pub struct Prepared {
    task_name: String,
    /// Results known without running (skipped, errored), by iteration index.
    done: Vec<(usize, NodeResult)>,
    units: Vec<(usize, Unit)>,
    looped: Option<Loop>,
    /// The plain node's ID when the task is not a loop.
    id: String,
}

#[derive(Debug)]
struct Loop {
    group_id: Option<String>,
    count: usize,
}

#[derive(Debug)]
struct Unit {
    call: Call,
    hooks: Option<HookScope>,
}

/// What a task's hooks may reference once the task is done.
#[derive(Debug, Clone)]
struct HookScope {
    kind: &'static str,
    task_name: String,
    hooks: Vec<(String, LifecycleHook)>,
    inputs: ResolvedInputs,
    results: HashMap<String, NodeResult>,
    item: Option<Value>,
}

/// Decide what a ready task does, creating the nodes that need no running.
pub fn prepare(
    ctx: &Ctx,
    view: TaskView<'_>,
    place: Place<'_>,
    inputs: &ResolvedInputs,
    refs: Refs<'_>,
) -> Prepared {
    let run = &ctx.run;
    let id = crate::naming::node_id(&run.name, place.node_name);
    let mut prepared = Prepared {
        task_name: view.name.to_owned(),
        done: Vec::new(),
        units: Vec::new(),
        looped: None,
        id: id.clone(),
    };
    let base_call = |name: String, display: String| Call {
        name,
        display_name: display,
        template: view.template.unwrap_or_default().to_owned(),
        arguments: Arguments::default(),
        hooked: false,
    };
    let fail = |prepared: &mut Prepared, message: String| {
        let call = base_call(place.node_name.to_owned(), place.display_name.to_owned());
        link(ctx, place.parents, &id);
        let r = fulfilled_node(
            ctx,
            &call,
            NodeType::Skipped,
            NodePhase::Error,
            message,
            None,
        );
        prepared.done.push((0, r));
    };
    if view.has_template_ref || view.template.is_none() {
        fail(
            &mut prepared,
            format!(
                "task '{}' uses templateRef: WorkflowTemplates live in a cluster, so this needs \
                 the Kubernetes backend",
                view.name
            ),
        );
        return prepared;
    }
    let template = run.template(view.template.unwrap_or_default());
    if !view.is_loop() {
        match decide(ctx, view, inputs, refs, None, template) {
            Decision::Run(arguments) => {
                link(ctx, place.parents, &id);
                let mut call = base_call(place.node_name.to_owned(), place.display_name.to_owned());
                call.arguments = arguments;
                let hooks = hook_scope(view, inputs, refs, None);
                prepared.units.push((0, Unit { call, hooks }));
            }
            Decision::Skip(node_type, phase, message) => {
                link(ctx, place.parents, &id);
                let call = base_call(place.node_name.to_owned(), place.display_name.to_owned());
                let outputs = default_outputs(template);
                let r = fulfilled_node(ctx, &call, node_type, phase, message, Some(outputs));
                prepared.done.push((0, r));
            }
        }
        return prepared;
    }
    let scope = Scope::new(run, place.node_name)
        .with_inputs(inputs)
        .with_refs(refs);
    let items = match loop_items(&scope, view) {
        Ok(items) => items,
        Err(message) => {
            fail(&mut prepared, message);
            return prepared;
        }
    };
    if items.is_empty() {
        link(ctx, place.parents, &id);
        let call = base_call(place.node_name.to_owned(), place.display_name.to_owned());
        let r = fulfilled_node(
            ctx,
            &call,
            NodeType::Skipped,
            NodePhase::Skipped,
            "Skipped, empty params".to_owned(),
            None,
        );
        prepared.done.push((0, r));
        return prepared;
    }
    let group_id = if place.task_group {
        link(ctx, place.parents, &id);
        let group = run.tracker.create(
            &run.name,
            NewNode {
                name: place.node_name,
                display_name: place.display_name,
                node_type: NodeType::TaskGroup,
                template_name: view.template,
                boundary_id: ctx.boundary_id.as_deref(),
                phase: NodePhase::Running,
                message: None,
                inputs: None,
                flag: None,
            },
        );
        Some(group)
    } else {
        None
    };
    let item_parents = group_id.clone().map(|g| vec![g]);
    let item_parents: &[String] = item_parents.as_deref().unwrap_or(place.parents);
    prepared.looped = Some(Loop {
        group_id,
        count: items.len(),
    });
    for (index, item) in items.iter().enumerate() {
        let name = loop_node_name(place.node_name, index, item);
        let display = loop_node_name(place.display_name, index, item);
        let item_id = crate::naming::node_id(&run.name, &name);
        link(ctx, item_parents, &item_id);
        let mut call = base_call(name, display);
        match decide(ctx, view, inputs, refs, Some(item), template) {
            Decision::Run(arguments) => {
                call.arguments = arguments;
                let hooks = hook_scope(view, inputs, refs, Some(item));
                prepared.units.push((index, Unit { call, hooks }));
            }
            Decision::Skip(node_type, phase, message) => {
                let outputs = default_outputs(template);
                let r = fulfilled_node(ctx, &call, node_type, phase, message, Some(outputs));
                prepared.done.push((index, r));
            }
        }
    }
    prepared
}

enum Decision {
    Run(Arguments),
    Skip(NodeType, NodePhase, String),
}

/// `when` and arguments of one (possibly expanded) task.
fn decide(
    ctx: &Ctx,
    view: TaskView<'_>,
    inputs: &ResolvedInputs,
    refs: Refs<'_>,
    item: Option<&Value>,
    template: Option<&Template>,
) -> Decision {
    let scope = Scope::new(&ctx.run, view.name)
        .with_inputs(inputs)
        .with_refs(refs)
        .with_item(item);
    if let Some(when) = view.when {
        let rendered = match scope.render(when) {
            Ok(r) => r.text,
            Err(e) => {
                return Decision::Skip(
                    NodeType::Skipped,
                    NodePhase::Error,
                    format!("Invalid 'when' expression '{when}': {e}"),
                );
            }
        };
        match evaluate_when(&rendered) {
            Ok(true) => {}
            Ok(false) => {
                return Decision::Skip(
                    NodeType::Skipped,
                    NodePhase::Skipped,
                    format!("when '{rendered}' evaluated false"),
                );
            }
            Err(e) => {
                return Decision::Skip(
                    NodeType::Skipped,
                    NodePhase::Error,
                    format!("Invalid 'when' expression '{rendered}': {e}"),
                );
            }
        }
    }
    if template.is_none() {
        return Decision::Skip(
            NodeType::Skipped,
            NodePhase::Error,
            format!(
                "template '{}' not found in the workflow",
                view.template.unwrap_or_default()
            ),
        );
    }
    match render_arguments(&scope, view.arguments) {
        Ok(arguments) => Decision::Run(arguments),
        Err(message) => Decision::Skip(NodeType::Skipped, NodePhase::Error, message),
    }
}

/// Arguments in the caller's scope. An argument that is exactly a reference to an output
/// that does not exist (its producer was skipped) is dropped, so the input's default
/// applies (§3.3).
pub fn render_arguments(scope: &Scope<'_>, arguments: &Arguments) -> Result<Arguments, String> {
    let mut out = Arguments::default();
    for p in &arguments.parameters {
        let Some(value) = &p.value else {
            if let Some(default) = p.value_from.as_ref().and_then(|v| v.default.clone()) {
                out.parameters
                    .push(Parameter::with_value(p.name.clone(), default));
            }
            continue;
        };
        if let Some(tag) = whole_tag(value)
            && (tag.starts_with("tasks.") || tag.starts_with("steps."))
            && scope.lookup(tag).is_none()
            && producer_did_not_run(scope, tag)
        {
            continue;
        }
        let value = scope
            .render_strict(value)
            .map_err(|e| format!("arguments.parameters.{}: {e}", p.name))?;
        out.parameters
            .push(Parameter::with_value(p.name.clone(), value));
    }
    for a in &arguments.artifacts {
        let mut artifact = Artifact {
            name: a.name.clone(),
            mode: a.mode,
            ..Artifact::default()
        };
        if let Some(from) = &a.from {
            match resolve_artifact(scope, from)? {
                Some(found) => {
                    artifact.s3 = found.s3;
                    artifact.raw = found.raw;
                }
                None => continue,
            }
        } else if let Some(raw) = &a.raw {
            let data = scope
                .render_strict(&raw.data)
                .map_err(|e| format!("arguments.artifacts.{}: {e}", a.name))?;
            artifact.raw = Some(kfp::argo::RawArtifact { data });
        } else if a.s3.is_some() {
            artifact.s3 = a.s3.clone();
        } else if !a.other_locations.is_empty() {
            artifact.other_locations = a.other_locations.clone();
        } else {
            continue;
        }
        out.artifacts.push(artifact);
    }
    Ok(out)
}

/// `{{x}}` as the whole text: `x`.
fn whole_tag(text: &str) -> Option<&str> {
    let inner = text.trim().strip_prefix("{{")?.strip_suffix("}}")?;
    (!inner.contains("{{") && !inner.contains("}}") && !inner.trim_start().starts_with('='))
        .then(|| inner.trim())
}

/// Whether `tag` reads an output of a task that was skipped or omitted (or of a loop,
/// whose skipped iterations leave no value): such an absent value drops the argument.
fn producer_did_not_run(scope: &Scope<'_>, tag: &str) -> bool {
    let Some(refs) = scope.refs else { return false };
    let Some(rest) = tag
        .strip_prefix(refs.kind)
        .and_then(|r| r.strip_prefix('.'))
    else {
        return false;
    };
    let name = rest.split('.').next().unwrap_or_default();
    refs.results.get(name).is_some_and(|r| {
        matches!(r.phase, NodePhase::Skipped | NodePhase::Omitted) || r.iterations.is_some()
    })
}

/// The artifact a `from: "{{...}}"` names; `None` when its producer did not make it.
fn resolve_artifact(scope: &Scope<'_>, from: &str) -> Result<Option<Artifact>, String> {
    let Some(tag) = whole_tag(from) else {
        return Err(format!(
            "artifact reference '{from}' is not a single {{{{...}}}} tag"
        ));
    };
    if let Some(name) = tag.strip_prefix("inputs.artifacts.") {
        return Ok(scope
            .inputs
            .and_then(|i| i.artifacts.iter().find(|a| a.name == name))
            .cloned());
    }
    if let Some(name) = tag.strip_prefix("workflow.outputs.artifacts.") {
        return Ok(scope.run.globals().output_artifacts.get(name).cloned());
    }
    if let Some(refs) = scope.refs
        && let Some(rest) = tag
            .strip_prefix(refs.kind)
            .and_then(|r| r.strip_prefix('.'))
        && let Some((task, artifact)) = rest.split_once(".outputs.artifacts.")
    {
        let Some(result) = refs.results.get(task) else {
            return Err(format!(
                "unable to resolve {{{{{tag}}}}}: '{task}' has not run"
            ));
        };
        return Ok(result
            .outputs
            .artifacts
            .iter()
            .find(|a| a.name == artifact)
            .cloned());
    }
    Err(format!("unable to resolve artifact {{{{{tag}}}}}"))
}

fn loop_items(scope: &Scope<'_>, view: TaskView<'_>) -> Result<Vec<Value>, String> {
    if let Some(items) = view.with_items {
        return items
            .iter()
            .map(|item| {
                let mut item = item.clone();
                scope.render_value(&mut item).map(|()| item)
            })
            .collect();
    }
    if let Some(param) = view.with_param {
        let text = scope.render_strict(param)?;
        return match serde_json::from_str::<Value>(&text) {
            Ok(Value::Array(items)) => Ok(items),
            Ok(_) | Err(_) => Err(format!(
                "withParam value could not be parsed as a JSON list: {}",
                text.trim()
            )),
        };
    }
    if let Some(seq) = view.with_sequence {
        let mut rendered = seq.clone();
        for v in [
            &mut rendered.start,
            &mut rendered.end,
            &mut rendered.count,
            &mut rendered.format,
        ]
        .into_iter()
        .flatten()
        {
            *v = scope.render_strict(v)?;
        }
        return expand_sequence(&rendered)
            .map(|items| items.into_iter().map(Value::String).collect())
            .map_err(|e| e.to_string());
    }
    Ok(Vec::new())
}

fn hook_scope(
    view: TaskView<'_>,
    inputs: &ResolvedInputs,
    refs: Refs<'_>,
    item: Option<&Value>,
) -> Option<HookScope> {
    let mut hooks: Vec<(String, LifecycleHook)> = view
        .hooks
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if let Some(t) = view.on_exit
        && !view.hooks.contains_key("exit")
    {
        hooks.push((
            "exit".to_owned(),
            LifecycleHook {
                template: Some(t.to_owned()),
                ..LifecycleHook::default()
            },
        ));
    }
    if hooks.is_empty() {
        return None;
    }
    Some(HookScope {
        kind: refs.kind,
        task_name: view.name.to_owned(),
        hooks,
        inputs: inputs.clone(),
        results: refs.results.clone(),
        item: item.cloned(),
    })
}

/// Draw edges from each parent to `child`.
fn link(ctx: &Ctx, parents: &[String], child: &str) {
    for p in parents {
        ctx.run.tracker.add_child(p, child);
    }
}

/// Run what [`prepare`] decided; the result is the task's (a loop's is aggregated).
pub async fn execute(ctx: Ctx, prepared: Prepared) -> NodeResult {
    let Prepared {
        task_name,
        mut done,
        units,
        looped,
        id,
    } = prepared;
    let mut running = tokio::task::JoinSet::new();
    for (index, unit) in units {
        let ctx = ctx.clone();
        running.spawn(async move {
            let permit = parallelism_permit(&ctx).await;
            let result = invoke(ctx.clone(), unit.call.clone()).await;
            drop(permit);
            if let Some(hooks) = unit.hooks {
                run_hooks(&ctx, &hooks, &unit.call.name, &result).await;
            }
            (index, result)
        });
    }
    while let Some(joined) = running.join_next().await {
        match joined {
            Ok(r) => done.push(r),
            Err(e) => done.push((
                usize::MAX,
                NodeResult {
                    id: id.clone(),
                    phase: NodePhase::Error,
                    message: Some(format!("internal error running task '{task_name}': {e}")),
                    ..NodeResult::default()
                },
            )),
        }
    }
    done.sort_by_key(|(i, _)| *i);
    match looped {
        None => done.pop().map(|(_, r)| r).unwrap_or_else(|| NodeResult {
            id,
            phase: NodePhase::Error,
            message: Some(format!("task '{task_name}' produced no node")),
            ..NodeResult::default()
        }),
        Some(l) => aggregate(&ctx, id, l, done),
    }
}

/// A loop's result from its iterations (§5.3).
fn aggregate(ctx: &Ctx, id: String, l: Loop, done: Vec<(usize, NodeResult)>) -> NodeResult {
    let mut phase = NodePhase::Succeeded;
    let mut message = None;
    let mut failed_id = None;
    let mut outbound = Vec::new();
    let mut iterations = Vec::with_capacity(l.count);
    let mut results = Vec::new();
    let mut params: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut per_iteration = Vec::new();
    for (_, r) in &done {
        iterations.push(r.phase);
        outbound.extend(r.outbound.iter().cloned());
        if r.phase.is_failure() {
            phase = r.phase;
            message = r.message.clone();
            failed_id = Some(r.id.clone());
        }
        if r.phase != NodePhase::Succeeded {
            continue;
        }
        if let Some(result) = &r.outputs.result {
            results.push(
                serde_json::from_str(result).unwrap_or_else(|_| Value::String(result.clone())),
            );
        }
        let mut object = serde_json::Map::new();
        for p in &r.outputs.parameters {
            if let Some(v) = &p.value {
                params.entry(p.name.clone()).or_default().push(v.clone());
                object.insert(p.name.clone(), Value::String(v.clone()));
            }
        }
        per_iteration.push(Value::Object(object));
    }
    let mut outputs = NodeOutputs {
        result: Some(Value::Array(results).to_string()),
        ..NodeOutputs::default()
    };
    for (name, values) in params {
        let parsed: Option<Vec<Value>> = values
            .iter()
            .map(|v| {
                serde_json::from_str::<Value>(v)
                    .ok()
                    .filter(|j| j.is_object() || j.is_array())
            })
            .collect();
        let list = match parsed {
            Some(list) => Value::Array(list),
            None => Value::Array(values.into_iter().map(Value::String).collect()),
        };
        outputs
            .parameters
            .push(Parameter::with_value(name, list.to_string()));
    }
    let (started_at, finished_at) = match &l.group_id {
        Some(group) => {
            ctx.run
                .tracker
                .finish(group, phase, message.clone(), None, Vec::new());
            ctx.run.tracker.read(|s| {
                s.nodes
                    .get(group)
                    .map(|n| (n.started_at.clone(), n.finished_at.clone()))
                    .unwrap_or_default()
            })
        }
        None => (
            done.first().and_then(|(_, r)| r.started_at.clone()),
            done.last().and_then(|(_, r)| r.finished_at.clone()),
        ),
    };
    // Without a TaskGroup (steps), the loop has no node of its own: a failure names the
    // iteration that failed.
    let id = l.group_id.or(failed_id).unwrap_or(id);
    NodeResult {
        id,
        phase,
        message,
        outputs,
        outbound,
        started_at,
        finished_at,
        iterations: Some(iterations),
        parameters_json: Some(Value::Array(per_iteration).to_string()),
    }
}

/// Run a task's exit hook (when it completed) and the hooks whose expression holds.
async fn run_hooks(ctx: &Ctx, hooks: &HookScope, node_name: &str, result: &NodeResult) {
    let mut results = hooks.results.clone();
    results.insert(hooks.task_name.clone(), result.clone());
    let completed = matches!(
        result.phase,
        NodePhase::Succeeded | NodePhase::Failed | NodePhase::Error
    );
    for (key, hook) in &hooks.hooks {
        let Some(template) = &hook.template else {
            continue;
        };
        let refs = Refs {
            kind: hooks.kind,
            results: &results,
        };
        let scope = Scope::new(&ctx.run, node_name)
            .with_inputs(&hooks.inputs)
            .with_refs(refs)
            .with_item(hooks.item.as_ref());
        let (hook_name, display_suffix) = if key == "exit" {
            if !completed {
                continue;
            }
            (format!("{node_name}.onExit"), "onExit".to_owned())
        } else {
            let Some(expression) = &hook.expression else {
                continue;
            };
            match scope.evaluate(expression) {
                Ok(Value::Bool(true)) => {}
                _ => continue,
            }
            (format!("{node_name}.hooks.{key}"), format!("hooks.{key}"))
        };
        let arguments = render_arguments(&scope, &hook.arguments);
        let display = format!(
            "{}.{display_suffix}",
            node_name.rsplit('.').next().unwrap_or(node_name)
        );
        let call = Call {
            name: hook_name,
            display_name: display,
            template: template.clone(),
            arguments: Arguments::default(),
            hooked: true,
        };
        ctx.run.tracker.add_child(
            &result.id,
            &crate::naming::node_id(&ctx.run.name, &call.name),
        );
        match arguments {
            Ok(arguments) => {
                run_hook_call(ctx.clone(), Call { arguments, ..call }).await;
            }
            Err(message) => {
                fulfilled_node(ctx, &call, NodeType::Pod, NodePhase::Error, message, None);
            }
        }
    }
}

/// Run a hook node (flagged `hooked`).
pub async fn run_hook_call(ctx: Ctx, call: Call) -> NodeResult {
    let id = crate::naming::node_id(&ctx.run.name, &call.name);
    let run = ctx.run.clone();
    let result = invoke(ctx, call).await;
    run.tracker.modify(|s| {
        if let Some(node) = s.nodes.get_mut(&id) {
            node.node_flag.get_or_insert_with(NodeFlag::default).hooked = true;
        }
    });
    result
}
