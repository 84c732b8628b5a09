//! Suspend templates (§8.2): wait for a resume or a duration.

use kfp::argo::{NodeOutputs, NodePhase, NodeType, Parameter, Template};

use super::Call;
use crate::run::{Ctx, NodeResult, Resume};
use crate::scope::{ResolvedInputs, Scope};
use crate::time::parse_duration;

pub async fn run(ctx: Ctx, call: Call, template: Template, inputs: ResolvedInputs) -> NodeResult {
    let run = ctx.run.clone();
    let id = super::open_node(&ctx, &call, NodeType::Suspend, &inputs);
    let scope = Scope::new(&run, &call.name).with_inputs(&inputs);
    let duration = match template
        .suspend
        .as_ref()
        .and_then(|s| s.duration.as_deref())
    {
        None => None,
        Some(text) => match scope.render_strict(text).and_then(|t| parse_duration(&t)) {
            Ok(d) => Some(d),
            Err(e) => {
                return end(
                    &ctx,
                    &id,
                    NodePhase::Error,
                    Some(format!("suspend.duration: {e}")),
                    NodeOutputs::default(),
                );
            }
        },
    };
    let mut resumes = run.resume.subscribe();
    let matches = |r: &Resume| {
        r.node
            .as_deref()
            .is_none_or(|n| n == call.name || n == call.display_name || n == id)
    };
    let timer = async {
        match duration {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(timer);
    let supplied: Option<Vec<(String, String)>> = loop {
        if let Some(r) = resumes.borrow_and_update().iter().find(|r| matches(r)) {
            break Some(r.parameters.clone());
        }
        tokio::select! {
            changed = resumes.changed() => {
                if changed.is_err() {
                    break None;
                }
            }
            () = &mut timer => break None,
            halt = run.wait_halted(ctx.exit_handler) => {
                return end(&ctx, &id, NodePhase::Failed, Some(halt.message().into()), NodeOutputs::default());
            }
        }
    };
    let mut outputs = NodeOutputs::default();
    for p in &template.outputs.parameters {
        let given = supplied
            .as_ref()
            .and_then(|s| s.iter().find(|(n, _)| *n == p.name))
            .map(|(_, v)| v.clone());
        let value = given
            .or_else(|| p.value.clone())
            .or_else(|| p.value_from.as_ref().and_then(|v| v.default.clone()));
        match value {
            Some(v) => outputs
                .parameters
                .push(Parameter::with_value(p.name.clone(), v)),
            None => {
                let message = format!(
                    "outputs.parameters.{} was not supplied when resuming",
                    p.name
                );
                return end(&ctx, &id, NodePhase::Error, Some(message), outputs);
            }
        }
    }
    run.export_globals(&template, &outputs);
    end(&ctx, &id, NodePhase::Succeeded, None, outputs)
}

fn end(
    ctx: &Ctx,
    id: &str,
    phase: NodePhase,
    message: Option<String>,
    outputs: NodeOutputs,
) -> NodeResult {
    super::close_node(ctx, id, phase, message, outputs, Vec::new())
}
