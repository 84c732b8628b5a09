//! Container and script templates (§2, §6, §7, §11.2) as host processes.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kfp::argo::{
    Artifact, Container, EnvVar, NodeFlag, NodeOutputs, NodePhase, NodeType, Parameter, S3Location,
    Template,
};

use super::{Attempt, Call, node_inputs};
use crate::artifacts::{Archive, ArtifactError, ArtifactStore, write_raw};
use crate::naming::pod_name;
use crate::process::{self, ProcessError, ProcessSpec};
use crate::remap::Remap;
use crate::run::{Ctx, NodeResult, Run};
use crate::scope::{ResolvedInputs, Scope};
use crate::time::parse_duration;
use crate::tracker::NewNode;

/// Annotation of templates that run a Rust function of the pipeline binary.
const RUST_FUNCTION: &str = kfp::dsl::RUST_FUNCTION_ANNOTATION;

pub async fn run(
    ctx: Ctx,
    call: Call,
    template: Template,
    inputs: ResolvedInputs,
    attempt: Attempt,
) -> NodeResult {
    let run = ctx.run.clone();
    // `spec.parallelism` counts pods: a blocked pod has no node yet (§11.3).
    let _workflow_slot = match &run.pod_slots {
        Some(slots) => slots.clone().acquire_owned().await.ok(),
        None => None,
    };
    let pod = pod_name(&run.name, &template.name, &call.name);
    let flag = (call.hooked || attempt.retried).then_some(NodeFlag {
        hooked: call.hooked,
        retried: attempt.retried,
    });
    let id = run.tracker.create(
        &run.name,
        NewNode {
            name: &call.name,
            display_name: &call.display_name,
            node_type: NodeType::Pod,
            template_name: Some(&call.template),
            boundary_id: ctx.boundary_id.as_deref(),
            phase: NodePhase::Pending,
            message: None,
            inputs: Some(node_inputs(&inputs)),
            flag,
        },
    );
    let mut node = LeafNode {
        ctx: &ctx,
        id: &id,
        outputs: NodeOutputs::default(),
    };
    if let Some(halt) = run.halted(ctx.exit_handler) {
        return node.end(NodePhase::Failed, Some(halt.message().into()));
    }
    // A retry of the run reruns the pod under its old name: its last log and files go.
    let node_dir = run.settings.run_dir.join("nodes").join(&pod);
    match tokio::fs::remove_dir_all(&node_dir).await {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            let message = format!("cannot clear {} for a new run: {e}", node_dir.display());
            return node.end(NodePhase::Error, Some(message));
        }
    }
    let prepared = match prepare(&run, &call, &template, &inputs, &attempt, &pod) {
        Ok(p) => p,
        Err(message) => return node.end(NodePhase::Error, Some(message)),
    };
    if let Err(message) = place_inputs(&run.store, &prepared).await {
        return node.end(NodePhase::Error, Some(message));
    }
    let _engine_slot = run.engine_slots.clone().acquire_owned().await.ok();
    if let Some(halt) = run.halted(ctx.exit_handler) {
        return node.end(NodePhase::Failed, Some(halt.message().into()));
    }
    run.tracker.set_phase(&id, NodePhase::Running, None);
    let stop_reason: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
    let stop = {
        let run = run.clone();
        let reason = stop_reason.clone();
        let limit = prepared.deadline;
        let exit_handler = ctx.exit_handler;
        async move {
            let deadline = async {
                match limit {
                    Some(d) => tokio::time::sleep(d).await,
                    None => std::future::pending().await,
                }
            };
            let why = tokio::select! {
                halt = run.wait_halted(exit_handler) => halt.message().to_owned(),
                () = deadline => "Pod was active on the node longer than the specified deadline".to_owned(),
            };
            if let Ok(mut r) = reason.lock() {
                *r = Some(why);
            }
        }
    };
    let outcome = match process::run(&prepared.spec, stop).await {
        Ok(outcome) => outcome,
        Err(e) => {
            let message = match &e {
                ProcessError::NotFound { program } => format!(
                    "command '{program}' not found on this machine: the local engine runs commands on the \
                     host and does not pull the image '{}'; install it or put it on PATH",
                    prepared.image
                ),
                other => match std::error::Error::source(other) {
                    Some(source) => format!("{other}: {source}"),
                    None => other.to_string(),
                },
            };
            return node.end(NodePhase::Error, Some(message));
        }
    };
    let mut result = outcome.stdout.clone();
    if result.ends_with('\n') {
        result.pop();
    }
    node.outputs.result = Some(result);
    node.outputs.exit_code = Some(outcome.exit_code().to_string());
    let collected = collect_outputs(&run.store, &prepared, &template, &mut node.outputs).await;
    let stopped = stop_reason.lock().ok().and_then(|r| r.clone());
    if outcome.stopped {
        return node.end(
            NodePhase::Failed,
            stopped.or_else(|| Some("stopped".into())),
        );
    }
    if !outcome.success() {
        let tail = last_lines(&outcome.log_tail, 5);
        let message = if tail.is_empty() {
            format!("Error (exit code {})", outcome.exit_code())
        } else {
            format!("Error (exit code {}): {tail}", outcome.exit_code())
        };
        return node.end(NodePhase::Failed, Some(message));
    }
    if let Err(message) = collected {
        return node.end(NodePhase::Error, Some(message));
    }
    run.export_globals(&template, &node.outputs);
    node.end(NodePhase::Succeeded, None)
}

struct LeafNode<'a> {
    ctx: &'a Ctx,
    id: &'a str,
    outputs: NodeOutputs,
}

impl LeafNode<'_> {
    fn end(&mut self, phase: NodePhase, message: Option<String>) -> NodeResult {
        let outputs = std::mem::take(&mut self.outputs);
        super::close_node(self.ctx, self.id, phase, message, outputs, Vec::new())
    }
}

/// Everything decided before the process starts.
struct Prepared {
    spec: ProcessSpec,
    image: String,
    remap: Remap,
    /// Input artifacts: (local destination, location, mode).
    inputs: Vec<(PathBuf, Artifact)>,
    workflow: String,
    pod: String,
    deadline: Option<Duration>,
}

fn prepare(
    run: &Run,
    call: &Call,
    template: &Template,
    inputs: &ResolvedInputs,
    attempt: &Attempt,
    pod: &str,
) -> Result<Prepared, String> {
    let mut scope = Scope::new(run, &call.name)
        .with_inputs(inputs)
        .local("pod.name", pod);
    if let Some(i) = attempt.index {
        scope = scope.local("retries", i.to_string());
    }
    for (k, v) in &attempt.last {
        scope = scope.local(k.clone(), v.clone());
    }
    for p in &template.outputs.parameters {
        if let Some(path) = p.value_from.as_ref().and_then(|v| v.path.clone()) {
            scope = scope.local(format!("outputs.parameters.{}.path", p.name), path);
        }
    }
    for a in &template.outputs.artifacts {
        if let Some(path) = &a.path {
            scope = scope.local(format!("outputs.artifacts.{}.path", a.name), path.clone());
        }
    }
    let (mut container, source) = match (&template.container, &template.script) {
        (Some(c), _) => (c.clone(), None),
        (None, Some(s)) => (s.container.clone(), Some(s.source.clone())),
        (None, None) => return Err("template has neither container nor script".into()),
    };
    let mut value = serde_json::to_value(&container).map_err(|e| e.to_string())?;
    scope.render_value(&mut value)?;
    container = serde_json::from_value(value).map_err(|e| e.to_string())?;
    let source = source.map(|s| scope.render_strict(&s)).transpose()?;

    let node_dir = run.settings.run_dir.join("nodes").join(pod);
    let mut remap = Remap::new(&node_dir);
    let mut dirs = vec![node_dir.clone()];
    for mount in &container.volume_mounts {
        let mut local = run.settings.run_dir.join("volumes").join(&mount.name);
        if let Some(sub) = mount.sub_path.as_deref().filter(|s| !s.is_empty()) {
            local = local.join(sub);
        }
        dirs.push(local.clone());
        remap.mount(&mount.mount_path, local);
    }
    // The working directory is the node's directory (a pod's would be the image's).
    if let Some(dir) = container
        .working_dir
        .as_deref()
        .filter(|d| d.starts_with('/'))
    {
        remap.mount(dir, node_dir.clone());
    }
    let mut declared: Vec<(String, Option<&Artifact>)> = Vec::new();
    for a in &inputs.artifacts {
        let Some(path) = &a.path else {
            return Err(format!("inputs.artifacts.{} has no path", a.name));
        };
        declared.push((scope.render_strict(path)?, Some(a)));
    }
    for path in declared_output_paths(template) {
        declared.push((scope.render_strict(&path)?, None));
    }
    // Shorter first, so a path below a declared directory stays inside it.
    declared.sort_by_key(|(path, _)| path.trim_end_matches('/').len());
    let mut placed = Vec::new();
    for (path, input) in declared {
        let local = remap.declare(&path);
        if let Some(artifact) = input {
            placed.push((local, artifact.clone()));
        }
    }
    let cwd = match &container.working_dir {
        Some(dir) if !dir.starts_with('/') => node_dir.join(dir),
        _ => node_dir.clone(),
    };
    dirs.push(cwd.clone());
    for dir in &dirs {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }

    let mut argv: Vec<String> = container
        .command
        .iter()
        .chain(&container.args)
        .map(|a| remap.apply(a))
        .collect();
    if let Some(source) = source {
        let script = node_dir.join(".script");
        std::fs::write(&script, remap.apply(&source))
            .map_err(|e| format!("cannot write {}: {e}", script.display()))?;
        argv.push(script.to_string_lossy().into_owned());
    }
    if container.command.is_empty() {
        return Err(format!(
            "the container of template '{}' has no command: a pod would run the image's entrypoint, \
             which the local engine cannot read from '{}'; give the container a command",
            template.name, container.image
        ));
    }
    if template.metadata.annotations.contains_key(RUST_FUNCTION)
        && let Some(binary) = &run.settings.function_binary
        && let Some(first) = argv.first_mut()
    {
        *first = binary.to_string_lossy().into_owned();
    }
    let mut argv = argv.into_iter();
    let program = argv.next().unwrap_or_default();
    let env = environment(run, &container, pod, &remap)?;
    let deadline = [
        template
            .active_deadline_seconds
            .as_deref()
            .map(|s| scope.render_strict(s).and_then(|s| parse_duration(&s)))
            .transpose()
            .map_err(|e| format!("activeDeadlineSeconds: {e}"))?,
        template
            .timeout
            .as_deref()
            .map(|s| scope.render_strict(s).and_then(|s| parse_duration(&s)))
            .transpose()
            .map_err(|e| format!("timeout: {e}"))?,
    ]
    .into_iter()
    .flatten()
    .min();
    Ok(Prepared {
        spec: ProcessSpec {
            program,
            args: argv.collect(),
            env,
            inherit_env: run.settings.inherit_env,
            cwd,
            log_path: node_dir.join("main.log"),
            grace: run.settings.kill_grace,
        },
        image: container.image.clone(),
        remap,
        inputs: placed,
        workflow: run.name.clone(),
        pod: pod.to_owned(),
        deadline,
    })
}

fn declared_output_paths(template: &Template) -> Vec<String> {
    let params = template
        .outputs
        .parameters
        .iter()
        .filter_map(|p| p.value_from.as_ref().and_then(|v| v.path.clone()));
    let artifacts = template
        .outputs
        .artifacts
        .iter()
        .filter_map(|a| a.path.clone());
    params.chain(artifacts).collect()
}

/// The container's environment. Values from Secrets and ConfigMaps cannot be read
/// locally: they come from the engine's environment under the same variable name.
fn environment(
    run: &Run,
    container: &Container,
    pod: &str,
    remap: &Remap,
) -> Result<Vec<(String, String)>, String> {
    let mut env = run.settings.env.clone();
    let configured = |name: &str| {
        run.settings
            .env
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    for EnvVar {
        name,
        value,
        value_from,
    } in &container.env
    {
        if let Some(v) = value {
            env.push((name.clone(), remap.apply(v)));
            continue;
        }
        let Some(source) = value_from else {
            env.push((name.clone(), String::new()));
            continue;
        };
        if let Some(field) = source
            .field_ref
            .as_ref()
            .and_then(|f| f.get("fieldPath"))
            .and_then(|f| f.as_str())
        {
            env.push((name.clone(), field_value(run, pod, field)));
            continue;
        }
        let (kind, selector) = match (&source.secret_key_ref, &source.config_map_key_ref) {
            (Some(s), _) => ("Secret", s),
            (None, Some(c)) => ("ConfigMap", c),
            (None, None) => continue,
        };
        match configured(name).map_or_else(|| std::env::var(name), Ok) {
            Ok(v) => env.push((name.clone(), v)),
            Err(_) if selector.optional == Some(true) => {}
            Err(_) => {
                return Err(format!(
                    "env {name} comes from {kind} '{}' key '{}', which the local engine cannot read: \
                     set {name} in the environment of the engine (or of `kfp run`)",
                    selector.name, selector.key
                ));
            }
        }
    }
    Ok(env)
}

/// The Downward API fields workflows use (KFP's SDK sets `KFP_POD_NAME` etc. from them).
fn field_value(run: &Run, pod: &str, field: &str) -> String {
    match field {
        "metadata.name" => pod.to_owned(),
        "metadata.namespace" => run.namespace.clone(),
        "metadata.uid" => format!("{}-{}", run.uid, crate::naming::fnv32a(pod)),
        "spec.nodeName" => "localhost".to_owned(),
        "spec.serviceAccountName" => run
            .workflow
            .spec
            .service_account_name
            .clone()
            .unwrap_or_else(|| "default".to_owned()),
        "status.podIP" | "status.hostIP" => "127.0.0.1".to_owned(),
        other => {
            let label = other
                .strip_prefix("metadata.labels['")
                .and_then(|l| l.strip_suffix("']"));
            match label {
                Some("workflows.argoproj.io/workflow") => run.name.clone(),
                Some(key) => run
                    .workflow
                    .metadata
                    .labels
                    .get(key)
                    .cloned()
                    .unwrap_or_default(),
                None => String::new(),
            }
        }
    }
}

async fn place_inputs(store: &ArtifactStore, prepared: &Prepared) -> Result<(), String> {
    if prepared.inputs.is_empty() {
        return Ok(());
    }
    let store = store.clone();
    let inputs = prepared.inputs.clone();
    tokio::task::spawn_blocking(move || {
        for (dest, artifact) in inputs {
            let mode = artifact.mode.and_then(|m| u32::try_from(m).ok());
            let placed = if let Some(raw) = &artifact.raw {
                write_raw(&dest, &raw.data, mode)
            } else if let Some(key) = artifact.s3.as_ref().and_then(|s| s.key.as_deref()) {
                store.load(key, &dest, mode)
            } else {
                continue;
            };
            placed.map_err(|e| format!("inputs.artifacts.{}: {e}", artifact.name))?;
        }
        Ok(())
    })
    .await
    .map_err(|e| format!("placing input artifacts failed: {e}"))?
}

/// Output parameters and artifacts (§6.1, §7); collected for failed processes too when
/// the files exist. The error is the first output that should exist and does not.
async fn collect_outputs(
    store: &ArtifactStore,
    prepared: &Prepared,
    template: &Template,
    outputs: &mut NodeOutputs,
) -> Result<(), String> {
    let mut first_error: Option<String> = None;
    for p in &template.outputs.parameters {
        let from = p.value_from.as_deref();
        if let Some(path) = from.and_then(|v| v.path.as_deref()) {
            let local = prepared.remap.local(path);
            match std::fs::read(&local) {
                Ok(bytes) => {
                    let mut text = String::from_utf8_lossy(&bytes).into_owned();
                    if text.ends_with('\n') {
                        text.pop();
                    }
                    outputs.parameters.push(Parameter {
                        value_from: p.value_from.clone(),
                        ..Parameter::with_value(p.name.clone(), text)
                    });
                }
                Err(_) => match from.and_then(|v| v.default.clone()) {
                    Some(default) => outputs
                        .parameters
                        .push(Parameter::with_value(p.name.clone(), default)),
                    None => {
                        first_error.get_or_insert_with(|| {
                            format!(
                                "outputs.parameters.{}: the file {path} was not written",
                                p.name
                            )
                        });
                    }
                },
            }
        } else if let Some(value) = &p.value {
            outputs
                .parameters
                .push(Parameter::with_value(p.name.clone(), value.clone()));
        } else if let Some(default) = from.and_then(|v| v.default.clone()) {
            outputs
                .parameters
                .push(Parameter::with_value(p.name.clone(), default));
        }
    }
    let mut to_save = Vec::new();
    for a in &template.outputs.artifacts {
        let Some(path) = &a.path else { continue };
        let archive = match Archive::from_spec(a.archive.as_ref()) {
            Ok(archive) => archive,
            Err(e) => {
                first_error.get_or_insert_with(|| format!("outputs.artifacts.{}: {e}", a.name));
                continue;
            }
        };
        let key = ArtifactStore::key_for(&prepared.workflow, &prepared.pod, &a.name, archive);
        to_save.push((
            a.clone(),
            path.clone(),
            prepared.remap.local(path),
            key,
            archive,
        ));
    }
    if !to_save.is_empty() {
        let store = store.clone();
        let saved = tokio::task::spawn_blocking(move || {
            to_save
                .into_iter()
                .map(|(a, path, local, key, archive)| {
                    let r = store.save(&key, &local, archive);
                    (a, path, key, r)
                })
                .collect::<Vec<_>>()
        })
        .await
        .map_err(|e| format!("saving output artifacts failed: {e}"))?;
        for (a, path, key, r) in saved {
            match r {
                Ok(_) => outputs.artifacts.push(Artifact {
                    name: a.name.clone(),
                    path: Some(path),
                    s3: Some(S3Location {
                        key: Some(key),
                        ..S3Location::default()
                    }),
                    ..Artifact::default()
                }),
                Err(ArtifactError::Missing { .. }) if a.optional == Some(true) => {}
                Err(e) => {
                    first_error.get_or_insert_with(|| format!("outputs.artifacts.{}: {e}", a.name));
                }
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// The last `n` non-empty lines of a log tail, joined by " | ".
fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty())
        .collect();
    let start = lines.len().saturating_sub(n);
    let joined = lines[start..].join(" | ");
    if joined.len() > 600 {
        let mut cut = joined.len() - 600;
        while !joined.is_char_boundary(cut) {
            cut += 1;
        }
        format!("...{}", &joined[cut..])
    } else {
        joined
    }
}
