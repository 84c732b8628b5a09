//! Executing templates: invocation, input resolution, retries, and dispatch to the body.
//!
//! Every node is an async function of its [`Call`] that creates its status node, runs,
//! ends the node and returns a [`NodeResult`] to its parent. DAG and steps templates run
//! their children concurrently (a `FuturesUnordered`-style set inside one task), so a run
//! is one tokio task plus one child process per running container.

mod dag;
mod leaf;
mod retry;
mod steps;
mod suspend;
mod task;

use std::future::Future;
use std::pin::Pin;

use kfp::argo::{
    Arguments, NodeFlag, NodeInputs, NodeOutputs, NodePhase, NodeType, Parameter, Template,
};

use crate::run::{Ctx, NodeResult};
use crate::scope::ResolvedInputs;
use crate::tracker::NewNode;

pub use task::run_hook_call;

/// A boxed node future (templates recurse: DAG -> task -> DAG ...).
pub type NodeFuture = Pin<Box<dyn Future<Output = NodeResult> + Send>>;

/// One invocation of a template.
#[derive(Debug, Clone)]
pub struct Call {
    /// Full node name (§12.3).
    pub name: String,
    pub display_name: String,
    pub template: String,
    /// Arguments already substituted in the caller's scope; artifacts carry their
    /// location (`s3.key` or `raw`).
    pub arguments: Arguments,
    /// Hook nodes (`onExit`, `hooks.*`) are flagged `hooked`.
    pub hooked: bool,
}

/// Run `call` and everything under it.
pub fn invoke(ctx: Ctx, call: Call) -> NodeFuture {
    Box::pin(async move {
        let Some(template) = ctx.run.template(&call.template).cloned() else {
            let message = format!("template '{}' not found in the workflow", call.template);
            return error_node(&ctx, &call, NodeType::Skipped, message);
        };
        let inputs = match resolve_inputs(&template, &call.arguments) {
            Ok(inputs) => inputs,
            Err(message) => return error_node(&ctx, &call, node_type_of(&template), message),
        };
        if template.retry_strategy.is_some() {
            retry::run(ctx, call, template, inputs).await
        } else {
            run_body(ctx, call, template, inputs, Attempt::default()).await
        }
    })
}

/// Which attempt of a retried node this is.
#[derive(Debug, Clone, Default)]
pub struct Attempt {
    /// `{{retries}}`: the attempt index, when the template has a retry strategy.
    pub index: Option<u32>,
    /// `lastRetry.*` of the previous attempt.
    pub last: Vec<(String, String)>,
    /// Set on attempts of a Retry node.
    pub retried: bool,
}

/// Run the template's body as the node `call.name`.
pub async fn run_body(
    ctx: Ctx,
    call: Call,
    template: Template,
    inputs: ResolvedInputs,
    attempt: Attempt,
) -> NodeResult {
    if let Some(restored) = restore(&ctx, &call, &template) {
        return restored;
    }
    if template.container.is_some() || template.script.is_some() {
        leaf::run(ctx, call, template, inputs, attempt).await
    } else if template.dag.is_some() {
        dag::run(ctx, call, template, inputs).await
    } else if template.steps.is_some() {
        steps::run(ctx, call, template, inputs).await
    } else if template.suspend.is_some() {
        suspend::run(ctx, call, template, inputs).await
    } else if template.resource.is_some() {
        let message = format!(
            "template '{}' is a resource template: it creates Kubernetes objects, which needs \
             the Kubernetes backend (submit the run to a server with an Argo cluster); the local \
             engine runs processes only",
            template.name
        );
        error_node(&ctx, &call, NodeType::Pod, message)
    } else {
        let message = format!(
            "template '{}' has no body the local engine can run (container, script, dag, steps, \
             suspend)",
            template.name
        );
        error_node(&ctx, &call, NodeType::Pod, message)
    }
}

/// In a retry, a Pod or Suspend node that succeeded last time: its old status is put back
/// and its outputs are handed on (and exported) as if it had just run, without running it.
fn restore(ctx: &Ctx, call: &Call, template: &Template) -> Option<NodeResult> {
    let node_type = if template.container.is_some() || template.script.is_some() {
        NodeType::Pod
    } else if template.suspend.is_some() {
        NodeType::Suspend
    } else {
        return None;
    };
    let run = &ctx.run;
    let old = run
        .tracker
        .previous()?
        .leaf(&call.name, &call.template, node_type)?
        .clone();
    let id = run.tracker.restore(&old);
    let outputs = old.outputs.unwrap_or_default();
    run.export_globals(template, &outputs);
    Some(NodeResult {
        outbound: vec![id.clone()],
        id,
        phase: old.phase,
        message: old.message,
        outputs,
        started_at: old.started_at,
        finished_at: old.finished_at,
        ..NodeResult::default()
    })
}

/// The node type a template's node gets.
pub fn node_type_of(template: &Template) -> NodeType {
    if template.dag.is_some() {
        NodeType::Dag
    } else if template.steps.is_some() {
        NodeType::Steps
    } else if template.suspend.is_some() {
        NodeType::Suspend
    } else {
        NodeType::Pod
    }
}

/// A node that failed before running: created in phase Error and returned.
pub fn error_node(ctx: &Ctx, call: &Call, node_type: NodeType, message: String) -> NodeResult {
    fulfilled_node(ctx, call, node_type, NodePhase::Error, message, None)
}

/// Create a node that is fulfilled at creation (skipped, omitted, errored).
pub fn fulfilled_node(
    ctx: &Ctx,
    call: &Call,
    node_type: NodeType,
    phase: NodePhase,
    message: String,
    outputs: Option<NodeOutputs>,
) -> NodeResult {
    let run = &ctx.run;
    let id = run.tracker.create(
        &run.name,
        NewNode {
            name: &call.name,
            display_name: &call.display_name,
            node_type,
            template_name: Some(&call.template),
            boundary_id: ctx.boundary_id.as_deref(),
            phase,
            message: Some(message.clone()),
            inputs: None,
            flag: hook_flag(call.hooked),
        },
    );
    if let Some(outputs) = &outputs {
        run.tracker.modify(|s| {
            if let Some(node) = s.nodes.get_mut(&id) {
                node.outputs = Some(outputs.clone()).filter(|o| !o.is_empty());
            }
        });
    }
    let now = run
        .tracker
        .read(|s| s.nodes.get(&id).and_then(|n| n.started_at.clone()));
    NodeResult {
        outbound: vec![id.clone()],
        id,
        phase,
        message: Some(message),
        outputs: outputs.unwrap_or_default(),
        started_at: now.clone(),
        finished_at: now,
        ..NodeResult::default()
    }
}

/// Inputs of `template` from the caller's `arguments` (§2).
pub fn resolve_inputs(
    template: &Template,
    arguments: &Arguments,
) -> Result<ResolvedInputs, String> {
    let mut inputs = ResolvedInputs::default();
    for declared in &template.inputs.parameters {
        let given = arguments
            .parameters
            .iter()
            .find(|a| a.name == declared.name);
        let value = given
            .and_then(|a| a.value.clone())
            .or_else(|| declared.value.clone())
            .or_else(|| declared.default.clone())
            .or_else(|| declared.value_from.as_ref().and_then(|v| v.default.clone()));
        let Some(value) = value else {
            return Err(format!(
                "inputs.parameters.{} was not supplied",
                declared.name
            ));
        };
        if !declared.enum_values.is_empty() && !declared.enum_values.contains(&value) {
            return Err(format!(
                "inputs.parameters.{}: value '{value}' is not one of {:?}",
                declared.name, declared.enum_values
            ));
        }
        inputs.parameters.push((declared.name.clone(), value));
    }
    for declared in &template.inputs.artifacts {
        let given = arguments.artifacts.iter().find(|a| a.name == declared.name);
        let mut artifact = declared.clone();
        match given {
            Some(g) if g.s3.is_some() || g.raw.is_some() => {
                artifact.s3 = g.s3.clone();
                artifact.raw = g.raw.clone();
                if g.mode.is_some() {
                    artifact.mode = g.mode;
                }
            }
            Some(g) if !g.other_locations.is_empty() => {
                return Err(unsupported_location(&declared.name, &g.other_locations));
            }
            _ if declared.raw.is_some() || declared.s3.is_some() => {}
            _ if !declared.other_locations.is_empty() => {
                return Err(unsupported_location(
                    &declared.name,
                    &declared.other_locations,
                ));
            }
            _ if declared.optional == Some(true) => continue,
            _ => {
                return Err(format!(
                    "inputs.artifacts.{} was not supplied",
                    declared.name
                ));
            }
        }
        inputs.artifacts.push(artifact);
    }
    Ok(inputs)
}

fn unsupported_location(
    name: &str,
    locations: &std::collections::BTreeMap<String, serde_json::Value>,
) -> String {
    let kinds: Vec<&str> = locations.keys().map(String::as_str).collect();
    format!(
        "inputs.artifacts.{name}: the local engine reads artifacts passed between tasks and raw \
         artifacts; '{}' locations need the Kubernetes backend",
        kinds.join(", ")
    )
}

/// The inputs as a node reports them.
pub fn node_inputs(inputs: &ResolvedInputs) -> NodeInputs {
    NodeInputs {
        parameters: inputs
            .parameters
            .iter()
            .map(|(n, v)| Parameter::with_value(n.clone(), v.clone()))
            .collect(),
        artifacts: inputs.artifacts.clone(),
    }
}

/// Outputs of a template whose node never ran: only parameters declaring a
/// `valueFrom.default` have a value (§3.3).
pub fn default_outputs(template: Option<&Template>) -> NodeOutputs {
    let mut outputs = NodeOutputs::default();
    if let Some(template) = template {
        for p in &template.outputs.parameters {
            if let Some(default) = p.value_from.as_ref().and_then(|v| v.default.clone()) {
                outputs
                    .parameters
                    .push(Parameter::with_value(p.name.clone(), default));
            }
        }
    }
    outputs
}

/// Give a permit of the enclosing template's `parallelism` (held while the child runs).
pub async fn parallelism_permit(ctx: &Ctx) -> Option<tokio::sync::OwnedSemaphorePermit> {
    match &ctx.parallelism {
        Some(sem) => sem.clone().acquire_owned().await.ok(),
        None => None,
    }
}

/// Arguments of a workflow-level hook, in the workflow's scope.
pub fn render_hook_arguments(
    scope: &crate::scope::Scope<'_>,
    arguments: &Arguments,
) -> Result<Arguments, String> {
    task::render_arguments(scope, arguments)
}

/// `nodeFlag` of a hook node (`None` for others).
pub fn hook_flag(hooked: bool) -> Option<NodeFlag> {
    hooked.then_some(NodeFlag {
        hooked: true,
        retried: false,
    })
}

/// Create the Running node of a DAG, steps, Retry or Suspend invocation; returns its ID.
pub fn open_node(ctx: &Ctx, call: &Call, node_type: NodeType, inputs: &ResolvedInputs) -> String {
    let run = &ctx.run;
    run.tracker.create(
        &run.name,
        NewNode {
            name: &call.name,
            display_name: &call.display_name,
            node_type,
            template_name: Some(&call.template),
            boundary_id: ctx.boundary_id.as_deref(),
            phase: NodePhase::Running,
            message: None,
            inputs: Some(node_inputs(inputs)),
            flag: hook_flag(call.hooked),
        },
    )
}

/// End a node and build the result its parent sees (a node without outbound nodes of
/// its own is its own outbound node).
pub fn close_node(
    ctx: &Ctx,
    id: &str,
    phase: NodePhase,
    message: Option<String>,
    outputs: NodeOutputs,
    outbound: Vec<String>,
) -> NodeResult {
    let run = &ctx.run;
    run.tracker.finish(
        id,
        phase,
        message.clone(),
        Some(outputs.clone()),
        outbound.clone(),
    );
    let (started_at, finished_at) = run.tracker.read(|s| {
        s.nodes
            .get(id)
            .map(|n| (n.started_at.clone(), n.finished_at.clone()))
            .unwrap_or_default()
    });
    NodeResult {
        id: id.to_owned(),
        phase,
        message,
        outputs,
        outbound: if outbound.is_empty() {
            vec![id.to_owned()]
        } else {
            outbound
        },
        started_at,
        finished_at,
        ..NodeResult::default()
    }
}
