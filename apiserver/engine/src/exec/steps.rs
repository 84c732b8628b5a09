//! Steps templates (§9): groups in order, the steps of a group in parallel.

use std::collections::HashMap;
use std::sync::Arc;

use kfp::argo::{NodeOutputs, NodePhase, NodeType, Parameter, Template};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::task::{self, Place, TaskView};
use super::{Call, close_node};
use crate::run::{Ctx, NodeResult};
use crate::scope::{Refs, ResolvedInputs, Scope};
use crate::tracker::NewNode;

pub async fn run(ctx: Ctx, call: Call, template: Template, inputs: ResolvedInputs) -> NodeResult {
    let run = ctx.run.clone();
    let id = super::open_node(&ctx, &call, NodeType::Steps, &inputs);
    let groups = template.steps.clone().unwrap_or_default();
    let inner = Ctx {
        run: run.clone(),
        boundary_id: Some(id.clone()),
        parallelism: template
            .parallelism
            .filter(|n| *n > 0)
            .map(|n| Arc::new(Semaphore::new(usize::try_from(n).unwrap_or(1 << 20)))),
        exit_handler: ctx.exit_handler,
    };
    let fail_fast = template.fail_fast == Some(true);
    let mut results: HashMap<String, NodeResult> = HashMap::new();
    let mut previous_outbound: Vec<String> = vec![id.clone()];
    for (g, group) in groups.iter().enumerate() {
        if let Some(halt) = run.halted(ctx.exit_handler) {
            return close_node(
                &ctx,
                &id,
                NodePhase::Failed,
                Some(halt.message().into()),
                NodeOutputs::default(),
                previous_outbound,
            );
        }
        let group_name = format!("{}[{g}]", call.name);
        let group_id = run.tracker.create(
            &run.name,
            NewNode {
                name: &group_name,
                display_name: &format!("[{g}]"),
                node_type: NodeType::StepGroup,
                // Argo creates step groups from an empty WorkflowStep: no templateName.
                template_name: None,
                boundary_id: Some(&id),
                phase: NodePhase::Running,
                message: None,
                inputs: None,
                flag: None,
            },
        );
        for p in &previous_outbound {
            run.tracker.add_child(p, &group_id);
        }
        let mut running = JoinSet::new();
        for (s, step) in group.iter().enumerate() {
            let node_name = format!("{group_name}.{}", step.name);
            let parents = vec![group_id.clone()];
            let place = Place {
                node_name: &node_name,
                display_name: &step.name,
                parents: &parents,
                task_group: false,
            };
            let refs = Refs {
                kind: "steps",
                results: &results,
            };
            let prepared = task::prepare(&inner, TaskView::from(step), place, &inputs, refs);
            let inner = inner.clone();
            running.spawn(async move { (s, task::execute(inner, prepared).await) });
        }
        let mut done: Vec<(usize, NodeResult)> = Vec::new();
        while let Some(joined) = running.join_next().await {
            match joined {
                Ok(r) => done.push(r),
                Err(e) => {
                    let message = format!("internal error in steps '{}': {e}", call.name);
                    return close_node(
                        &ctx,
                        &id,
                        NodePhase::Error,
                        Some(message),
                        NodeOutputs::default(),
                        Vec::new(),
                    );
                }
            }
        }
        done.sort_by_key(|(s, _)| *s);
        let mut failure: Option<String> = None;
        let mut outbound = Vec::new();
        for (s, r) in done {
            let step = &group[s];
            outbound.extend(r.outbound.iter().cloned());
            if r.phase.is_failure() {
                let tolerated = step.continue_on.as_ref().is_some_and(|c| match r.phase {
                    NodePhase::Failed => c.failed == Some(true),
                    _ => c.error == Some(true),
                });
                if (!tolerated || fail_fast) && failure.is_none() {
                    let message = match &r.message {
                        Some(m) => format!("child '{}' failed: {m}", r.id),
                        None => format!("child '{}' failed", r.id),
                    };
                    failure = Some(message);
                }
            }
            results.insert(step.name.clone(), r);
        }
        // §9, as Argo's executeSteps: a Failed or Error child fails the group and the steps
        // node, both Failed (never Error) with the message of the first failed child.
        let group_phase = match failure {
            Some(_) => NodePhase::Failed,
            None => NodePhase::Succeeded,
        };
        run.tracker
            .finish(&group_id, group_phase, failure.clone(), None, Vec::new());
        if outbound.is_empty() {
            outbound.push(group_id.clone());
        }
        previous_outbound = outbound;
        if let Some(message) = failure {
            return close_node(
                &ctx,
                &id,
                NodePhase::Failed,
                Some(message),
                NodeOutputs::default(),
                previous_outbound,
            );
        }
    }
    let scope = Scope::new(&run, &call.name)
        .with_inputs(&inputs)
        .with_refs(Refs {
            kind: "steps",
            results: &results,
        });
    match template_outputs(&scope, &template) {
        Ok(outputs) => {
            run.export_globals(&template, &outputs);
            close_node(
                &ctx,
                &id,
                NodePhase::Succeeded,
                None,
                outputs,
                previous_outbound,
            )
        }
        Err(message) => close_node(
            &ctx,
            &id,
            NodePhase::Error,
            Some(message),
            NodeOutputs::default(),
            previous_outbound,
        ),
    }
}

/// Outputs of a DAG or steps template from its children (§4.3): `valueFrom.parameter`,
/// `valueFrom.expression`, a literal `value`, or `valueFrom.default`; artifacts by `from`.
pub fn template_outputs(scope: &Scope<'_>, template: &Template) -> Result<NodeOutputs, String> {
    let mut outputs = NodeOutputs::default();
    for p in &template.outputs.parameters {
        let from = p.value_from.as_deref();
        let value = if let Some(reference) = from.and_then(|v| v.parameter.as_deref()) {
            let rendered = scope.render(reference)?;
            if rendered.missing.is_empty() {
                Some(rendered.text)
            } else {
                None
            }
        } else if let Some(expression) = from.and_then(|v| v.expression.as_deref()) {
            match scope.evaluate(expression)? {
                serde_json::Value::Null => None,
                v => Some(crate::expr::to_text(&v)),
            }
        } else if let Some(value) = &p.value {
            Some(scope.render_strict(value)?)
        } else {
            None
        };
        let value = value.or_else(|| from.and_then(|v| v.default.clone()));
        let Some(value) = value else {
            return Err(format!(
                "outputs.parameters.{}: {} did not resolve",
                p.name,
                from.and_then(|v| v.parameter.clone().or(v.expression.clone()))
                    .unwrap_or_else(|| "no value".into())
            ));
        };
        outputs
            .parameters
            .push(Parameter::with_value(p.name.clone(), value));
    }
    for a in &template.outputs.artifacts {
        let Some(from) = &a.from else { continue };
        let tag = from
            .trim()
            .trim_start_matches("{{")
            .trim_end_matches("}}")
            .trim();
        let found = if let Some(name) = tag.strip_prefix("inputs.artifacts.") {
            scope
                .inputs
                .and_then(|i| i.artifacts.iter().find(|x| x.name == name))
                .cloned()
        } else if let Some(refs) = scope.refs
            && let Some(rest) = tag
                .strip_prefix(refs.kind)
                .and_then(|r| r.strip_prefix('.'))
            && let Some((task, name)) = rest.split_once(".outputs.artifacts.")
        {
            refs.results
                .get(task)
                .and_then(|r| r.outputs.artifacts.iter().find(|x| x.name == name))
                .cloned()
        } else {
            None
        };
        match found {
            Some(mut artifact) => {
                artifact.name = a.name.clone();
                artifact.path = None;
                outputs.artifacts.push(artifact);
            }
            None if a.optional == Some(true) => {}
            None => {
                return Err(format!(
                    "outputs.artifacts.{}: {from} did not resolve",
                    a.name
                ));
            }
        }
    }
    Ok(outputs)
}
