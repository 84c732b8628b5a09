//! `retryStrategy` (§11.1): a Retry node whose children are the attempts.

use std::time::{Duration, Instant};

use kfp::argo::{NodePhase, NodeType, RetryStrategy, Template};

use super::{Attempt, Call, run_body};
use crate::run::{Ctx, NodeResult};
use crate::scope::{ResolvedInputs, Scope};
use crate::time::{format_duration, parse_duration};

pub async fn run(ctx: Ctx, call: Call, template: Template, inputs: ResolvedInputs) -> NodeResult {
    let run = ctx.run.clone();
    let strategy = template.retry_strategy.clone().unwrap_or_default();
    let id = super::open_node(&ctx, &call, NodeType::Retry, &inputs);
    let policy = match Policy::of(&strategy) {
        Ok(p) => p,
        Err(message) => return end(&ctx, &id, NodePhase::Error, Some(message), None),
    };
    let first_start = Instant::now();
    let mut last: Vec<(String, String)> = Vec::new();
    // A retry of the run resumes at the attempt that succeeded (it is restored, not run).
    let mut attempt_index: u32 = run
        .tracker
        .previous()
        .and_then(|p| p.succeeded_attempt(&call.name, &call.template))
        .unwrap_or(0);
    loop {
        let attempt_call = Call {
            name: format!("{}({attempt_index})", call.name),
            display_name: format!("{}({attempt_index})", call.display_name),
            hooked: false,
            ..call.clone()
        };
        let attempt_id = crate::naming::node_id(&run.name, &attempt_call.name);
        run.tracker.add_child(&id, &attempt_id);
        let started = Instant::now();
        let result = run_body(
            ctx.clone(),
            attempt_call,
            template.clone(),
            inputs.clone(),
            Attempt {
                index: Some(attempt_index),
                last: last.clone(),
                retried: true,
            },
        )
        .await;
        if result.phase == NodePhase::Succeeded {
            return end(&ctx, &id, NodePhase::Succeeded, None, Some(result));
        }
        let message = result.message.clone();
        if run.halted(ctx.exit_handler).is_some()
            || !policy.allows(result.phase, message.as_deref())
        {
            return end(&ctx, &id, result.phase, message, Some(result));
        }
        if policy.limit.is_some_and(|limit| attempt_index >= limit) {
            return end(
                &ctx,
                &id,
                result.phase,
                Some("No more retries left".into()),
                Some(result),
            );
        }
        last = vec![
            (
                "lastRetry.exitCode".into(),
                result.outputs.exit_code.clone().unwrap_or_default(),
            ),
            ("lastRetry.status".into(), result.phase.as_str().into()),
            (
                "lastRetry.duration".into(),
                started.elapsed().as_secs().to_string(),
            ),
            (
                "lastRetry.message".into(),
                message.clone().unwrap_or_default(),
            ),
        ];
        if let Some(expression) = &strategy.expression {
            let scope = Scope::new(&run, &call.name)
                .with_inputs(&inputs)
                .local("retries", attempt_index.to_string());
            let scope = last
                .iter()
                .fold(scope, |s, (k, v)| s.local(k.clone(), v.clone()));
            match scope.evaluate(expression) {
                Ok(serde_json::Value::Bool(true)) => {}
                Ok(_) => return end(&ctx, &id, result.phase, message, Some(result)),
                Err(e) => return end(&ctx, &id, NodePhase::Error, Some(e), Some(result)),
            }
        }
        if let Some(wait) = policy.backoff(attempt_index + 1) {
            if let Some(max) = policy.max_duration {
                if first_start.elapsed() >= max {
                    return end(
                        &ctx,
                        &id,
                        result.phase,
                        Some("Max duration limit exceeded".into()),
                        Some(result),
                    );
                }
                if first_start.elapsed() + wait > max {
                    return end(
                        &ctx,
                        &id,
                        result.phase,
                        Some("Backoff would exceed max duration limit".into()),
                        Some(result),
                    );
                }
            }
            run.tracker
                .set_message(&id, Some(format!("Backoff for {}", format_duration(wait))));
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                halt = run.wait_halted(ctx.exit_handler) => {
                    return end(&ctx, &id, result.phase, Some(halt.message().into()), Some(result));
                }
            }
            run.tracker.set_message(&id, None);
        }
        attempt_index += 1;
    }
}

/// End the Retry node with the last attempt's outputs and outbound nodes (§12.4).
fn end(
    ctx: &Ctx,
    id: &str,
    phase: NodePhase,
    message: Option<String>,
    last: Option<NodeResult>,
) -> NodeResult {
    let last = last.unwrap_or_default();
    super::close_node(ctx, id, phase, message, last.outputs, last.outbound)
}

/// A parsed retry strategy.
struct Policy {
    on_failed: bool,
    on_error: bool,
    transient_only: bool,
    /// Retries allowed (attempts = limit + 1); `None` retries forever.
    limit: Option<u32>,
    duration: Option<Duration>,
    factor: f64,
    cap: Option<Duration>,
    max_duration: Option<Duration>,
}

impl Policy {
    fn of(s: &RetryStrategy) -> Result<Self, String> {
        let policy = match (s.retry_policy.as_deref(), s.expression.is_some()) {
            (Some(p), _) => p,
            (None, true) => "Always",
            (None, false) => "OnFailure",
        };
        let (on_failed, on_error, transient_only) = match policy {
            "Always" => (true, true, false),
            "OnFailure" => (true, false, false),
            "OnError" => (false, true, false),
            "OnTransientError" => (true, true, true),
            other => {
                return Err(format!(
                    "retryStrategy.retryPolicy '{other}' is not one of Always, OnFailure, OnError, OnTransientError"
                ));
            }
        };
        let limit = s
            .limit
            .as_deref()
            .map(|l| {
                l.trim()
                    .parse::<u32>()
                    .map_err(|_| format!("retryStrategy.limit '{l}' is not a number"))
            })
            .transpose()?;
        let backoff = s.backoff.clone().unwrap_or_default();
        let dur = |field: &str, v: &Option<String>| {
            v.as_deref()
                .map(|t| {
                    parse_duration(t).map_err(|e| format!("retryStrategy.backoff.{field}: {e}"))
                })
                .transpose()
        };
        let factor = backoff
            .factor
            .as_deref()
            .map(|f| {
                f.trim()
                    .parse::<f64>()
                    .map_err(|_| format!("retryStrategy.backoff.factor '{f}' is not a number"))
            })
            .transpose()?
            .unwrap_or(1.0);
        Ok(Policy {
            on_failed,
            on_error,
            transient_only,
            limit,
            duration: dur("duration", &backoff.duration)?,
            factor,
            cap: dur("cap", &backoff.cap)?,
            max_duration: dur("maxDuration", &backoff.max_duration)?,
        })
    }

    fn allows(&self, phase: NodePhase, message: Option<&str>) -> bool {
        let by_phase = match phase {
            NodePhase::Failed => self.on_failed,
            NodePhase::Error => self.on_error,
            _ => false,
        };
        if !by_phase {
            return false;
        }
        if self.transient_only {
            let m = message.unwrap_or_default().to_ascii_lowercase();
            return [
                "transient",
                "timeout",
                "connection reset",
                "connection refused",
                "temporarily",
            ]
            .iter()
            .any(|w| m.contains(w));
        }
        true
    }

    /// Wait before attempt `n` (n >= 1): `duration × factor^(n−1)`, capped.
    fn backoff(&self, n: u32) -> Option<Duration> {
        let base = self.duration?;
        let exp = i32::try_from(n.saturating_sub(1)).unwrap_or(i32::MAX);
        let secs = base.as_secs_f64() * self.factor.powi(exp);
        let wait =
            Duration::try_from_secs_f64(secs).unwrap_or(Duration::from_secs(u64::from(u32::MAX)));
        Some(match self.cap {
            Some(cap) => wait.min(cap),
            None => wait,
        })
    }
}
