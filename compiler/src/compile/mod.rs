//! Pipelines to Argo Workflows.
//!
//! [`compile`] turns a [`Pipeline`] into a [`Workflow`]: one template per distinct
//! component use, one DAG template per group (the pipeline, each condition, loop,
//! exit-handler body and sub-pipeline, and the parts of DAGs too large for Argo), then
//! checks it with [`crate::validate`]. Output is deterministic: the same pipeline always
//! gives byte-identical YAML.

mod error;
mod graph;
mod leaf;
mod names;
mod registry;

use std::path::Path;

use serde_json::json;

pub use error::{CompileError, Problem};
pub use leaf::{
    CACHE_LABEL, CACHE_STALENESS_ANNOTATION, COMPONENT_SPEC_ANNOTATION, DISPLAY_NAME_ANNOTATION,
    input_file, output_file,
};
pub use names::{k8s_name, param_name};

use crate::argo::{
    API_VERSION, Arguments, KIND, LocalObjectReference, ObjectMeta, Parameter, PodGc, TtlStrategy,
    Workflow, WorkflowSpec,
};
use crate::dsl::Pipeline;
use graph::GraphCompiler;
use registry::Registry;

/// KFP v1 annotation holding the pipeline's name, description and parameters; KFP's API
/// server reads the parameters from it.
pub const PIPELINE_SPEC_ANNOTATION: &str = "pipelines.kubeflow.org/pipeline_spec";
/// Which compiler produced the workflow.
pub const COMPILER_ANNOTATION: &str = "pipelines.kubeflow.org/kfp_sdk_version";
/// Argo's CRD limit on tasks in one DAG template and on templates in one workflow.
pub const ARGO_MAX_ITEMS: usize = 200;

/// Knobs of the compiler.
#[derive(Debug, Clone)]
pub struct CompileOptions {
    /// Largest DAG template before it is split into nested parts.
    pub max_dag_tasks: usize,
    /// Check the result against Argo's schema and rules (on by default).
    pub validate: bool,
}

impl Default for CompileOptions {
    fn default() -> Self {
        Self {
            max_dag_tasks: ARGO_MAX_ITEMS,
            validate: true,
        }
    }
}

/// Compile and validate a pipeline.
pub fn compile(pipeline: &Pipeline) -> Result<Workflow, CompileError> {
    compile_with(pipeline, &CompileOptions::default())
}

/// Compile with explicit options.
pub fn compile_with(
    pipeline: &Pipeline,
    options: &CompileOptions,
) -> Result<Workflow, CompileError> {
    // Rust-function tasks take the image and binary the pipeline sets.
    let resolved = crate::dsl::resolve_function_images(pipeline);
    let pipeline: &Pipeline = &resolved;
    let mut reg = Registry::new(options.max_dag_tasks);
    let entry = GraphCompiler::new(&mut reg, pipeline, true, options.max_dag_tasks).compile();
    if !reg.problems.is_empty() {
        return Err(CompileError::Pipeline {
            pipeline: pipeline.name.clone(),
            problems: reg.problems,
        });
    }
    let mut templates = reg.templates;
    if let Some(pos) = templates.iter().position(|t| t.name == entry) {
        let top = templates.remove(pos);
        templates.insert(0, top);
    }
    if templates.len() > ARGO_MAX_ITEMS {
        return Err(CompileError::Pipeline {
            pipeline: pipeline.name.clone(),
            problems: vec![Problem {
                task: None,
                field: None,
                message: format!(
                    "the workflow needs {} templates but Argo allows at most {ARGO_MAX_ITEMS}: \
                     use fewer distinct components (or settings that differ per task), or \
                     split the pipeline into several",
                    templates.len()
                ),
            }],
        });
    }
    let workflow = Workflow {
        api_version: API_VERSION.into(),
        kind: KIND.into(),
        metadata: metadata(pipeline),
        spec: WorkflowSpec {
            entrypoint: entry,
            arguments: Arguments {
                parameters: pipeline
                    .params
                    .iter()
                    .map(|p| Parameter {
                        name: p.name.clone(),
                        value: p.default.clone(),
                        enum_values: p.choices.clone(),
                        description: p.description.clone(),
                        ..Parameter::default()
                    })
                    .collect(),
                artifacts: Vec::new(),
            },
            on_exit: reg.on_exit,
            parallelism: pipeline.settings.parallelism.map(i64::from),
            active_deadline_seconds: pipeline.settings.timeout.map(|d| secs(d.as_secs())),
            ttl_strategy: pipeline.settings.ttl_after_finished.map(|d| TtlStrategy {
                seconds_after_completion: Some(secs(d.as_secs())),
                ..TtlStrategy::default()
            }),
            pod_gc: pipeline.settings.pod_gc.map(|s| PodGc {
                strategy: s.as_str().into(),
            }),
            service_account_name: pipeline.settings.service_account.clone(),
            image_pull_secrets: pipeline
                .settings
                .image_pull_secrets
                .iter()
                .map(|n| LocalObjectReference { name: n.clone() })
                .collect(),
            templates,
            ..WorkflowSpec::default()
        },
    };
    let mut workflow = workflow;
    if options.validate {
        let value = to_json(&mut workflow).map_err(|e| CompileError::Yaml(e.to_string()))?;
        crate::validate::validate_workflow(&value).map_err(|source| CompileError::Invalid {
            pipeline: pipeline.name.clone(),
            source,
        })?;
    }
    Ok(workflow)
}

/// The workflow as JSON for the validator. Templates are converted on two threads (a
/// large pipeline has tens of thousands of small objects); the result is identical to
/// `serde_json::to_value`.
fn to_json(workflow: &mut Workflow) -> Result<serde_json::Value, serde_json::Error> {
    let templates = std::mem::take(&mut workflow.spec.templates);
    let root = serde_json::to_value(&*workflow);
    let (first, second) = templates.split_at(templates.len() / 2);
    let (a, b) = std::thread::scope(|scope| {
        let a = scope.spawn(|| serde_json::to_value(first));
        let b = serde_json::to_value(second);
        (a.join(), b)
    });
    let a = match a {
        Ok(result) => result,
        Err(_) => serde_json::to_value(first),
    };
    let joined = (|| {
        let mut root = root?;
        let mut list = match a? {
            serde_json::Value::Array(list) => list,
            _ => Vec::new(),
        };
        if let serde_json::Value::Array(rest) = b? {
            list.extend(rest);
        }
        if let Some(spec) = root
            .get_mut("spec")
            .and_then(serde_json::Value::as_object_mut)
        {
            spec.insert("templates".into(), serde_json::Value::Array(list));
        }
        Ok(root)
    })();
    workflow.spec.templates = templates;
    joined
}

fn secs(s: u64) -> i64 {
    i64::try_from(s).unwrap_or(i64::MAX)
}

fn metadata(pipeline: &Pipeline) -> ObjectMeta {
    let mut base = k8s_name(&pipeline.name, "pipeline");
    base.truncate(57);
    let base = base.trim_end_matches('-');
    let inputs: Vec<serde_json::Value> = pipeline
        .params
        .iter()
        .map(|p| {
            let mut input = serde_json::Map::new();
            input.insert("name".into(), json!(p.name));
            if let Some(t) = &p.type_spec {
                input.insert("type".into(), json!(t));
            }
            if let Some(d) = &p.default {
                input.insert("default".into(), json!(d));
                input.insert("optional".into(), json!(true));
            }
            if let Some(d) = &p.description {
                input.insert("description".into(), json!(d));
            }
            serde_json::Value::Object(input)
        })
        .collect();
    let mut spec = serde_json::Map::new();
    spec.insert("name".into(), json!(pipeline.name));
    if let Some(d) = &pipeline.description {
        spec.insert("description".into(), json!(d));
    }
    spec.insert("inputs".into(), json!(inputs));
    let mut meta = ObjectMeta {
        generate_name: Some(format!("{base}-")),
        namespace: pipeline.settings.namespace.clone(),
        ..ObjectMeta::default()
    };
    meta.annotations.insert(
        PIPELINE_SPEC_ANNOTATION.into(),
        serde_json::Value::Object(spec).to_string(),
    );
    meta.annotations.insert(
        COMPILER_ANNOTATION.into(),
        format!("kfp-rs {}", env!("CARGO_PKG_VERSION")),
    );
    for (k, v) in &pipeline.settings.labels {
        meta.labels.insert(k.clone(), v.clone());
    }
    for (k, v) in &pipeline.settings.annotations {
        meta.annotations.insert(k.clone(), v.clone());
    }
    meta
}

/// The workflow as YAML (deterministic).
pub fn to_yaml(workflow: &Workflow) -> Result<String, CompileError> {
    // Long one-line strings (shell scripts, conditions) stay on one line instead of being
    // folded at 80 columns: easier to read and to diff. Multi-line strings still use `|`.
    let mut options = serde_saphyr::SerializerOptions::default();
    options.folded_wrap_chars = usize::MAX / 2;
    serde_saphyr::to_string_with_options(workflow, options)
        .map_err(|e| CompileError::Yaml(e.to_string()))
}

/// Compile, validate and render as YAML.
pub fn compile_to_yaml(pipeline: &Pipeline) -> Result<String, CompileError> {
    to_yaml(&compile(pipeline)?)
}

/// Compile, validate and write to `path`. Nothing is written unless all of it succeeds.
pub fn compile_to_file(pipeline: &Pipeline, path: &Path) -> Result<(), CompileError> {
    let yaml = compile_to_yaml(pipeline)?;
    std::fs::write(path, yaml).map_err(|source| CompileError::Write {
        path: path.to_owned(),
        source,
    })
}
