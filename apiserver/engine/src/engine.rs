//! The engine: starts runs, and the handle to follow, stop and resume one.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use kfp::argo::{Arguments, NodePhase, Workflow, WorkflowPhase, WorkflowStatus};
use serde_json::json;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;

use crate::artifacts::ArtifactStore;
use crate::exec::{Call, invoke, run_hook_call};
use crate::previous::{Previous, RetryError};
use crate::run::{Ctx, Halt, Resume, Run, RunSettings};
use crate::time::now;
use crate::tracker::{Tracker, fill_progress};

/// Why a workflow could not be started (nothing ran).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The workflow is not one Argo would accept.
    #[error("{0}")]
    Invalid(#[from] kfp::validate::ValidationError),
    /// Valid YAML and schema, but not our model of a Workflow.
    #[error("{source_name}: not a Workflow the engine can read: {message}")]
    Model {
        source_name: String,
        message: String,
    },
    /// A submitted parameter is unknown or not allowed.
    #[error("{0}")]
    Parameter(String),
    #[error(
        "a run named '{0}' already exists in {1}; use metadata.generateName or remove that directory"
    )]
    Exists(String, PathBuf),
    #[error("cannot prepare the run directory {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the engine must be started from within a tokio runtime")]
    NoRuntime,
    /// [`RunOptions::retry_of`] holds a status that cannot be retried under this name.
    #[error("{0}")]
    Retry(#[from] RetryError),
}

/// Engine-wide settings.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Where runs (`runs/<name>/`) and artifacts (`artifacts/<name>/...`) are kept.
    pub root: PathBuf,
    /// Processes at once across every run (default: the number of cores).
    pub max_parallel_pods: usize,
    /// Between SIGTERM and SIGKILL when a process is stopped.
    pub kill_grace: Duration,
    /// Processes start from the engine's environment plus the container's `env`.
    pub inherit_env: bool,
    /// Set for every process before the container's own `env` (values for Secrets,
    /// a PATH with tools the images would have had).
    pub env: Vec<(String, String)>,
}

impl EngineConfig {
    /// Defaults under `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        EngineConfig {
            root: root.into(),
            max_parallel_pods: std::thread::available_parallelism().map_or(2, usize::from),
            kill_grace: Duration::from_secs(5),
            inherit_env: true,
            env: Vec::new(),
        }
    }
}

/// Per-run choices.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Values for `spec.arguments.parameters` (must be declared).
    pub parameters: Vec<(String, String)>,
    /// The pipeline binary that Rust-function components call (`kfp-rs/rust-function`).
    pub function_binary: Option<PathBuf>,
    /// A name for the run instead of `metadata.name`/`generateName`.
    pub name: Option<String>,
    /// Retry a finished (Failed or Error) run, as `argo retry` does: this is its last
    /// status. The run keeps its name (`name`, else the previous status's root node, else
    /// `metadata.name`) and its directory; nodes that succeeded keep their status and
    /// outputs without running again, the rest (and the exit handler) runs again. The
    /// previous run must have ended (its [`RunHandle::wait`] returned).
    pub retry_of: Option<WorkflowStatus>,
}

/// Runs workflows on this machine; cheap to clone, shared by every run it starts.
#[derive(Debug, Clone)]
pub struct Engine {
    config: Arc<EngineConfig>,
    slots: Arc<Semaphore>,
}

impl Engine {
    pub fn new(config: EngineConfig) -> Self {
        let slots = Arc::new(Semaphore::new(config.max_parallel_pods.max(1)));
        Engine {
            config: Arc::new(config),
            slots,
        }
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Where artifacts are stored.
    pub fn artifact_store(&self) -> ArtifactStore {
        ArtifactStore::new(self.config.root.join("artifacts"))
    }

    /// Parse and validate a workflow (the compiler's validator), naming `source_name` in
    /// errors.
    pub fn load_yaml(text: &str, source_name: &str) -> Result<Workflow, EngineError> {
        let value = kfp::validate::validate_workflow_yaml(text, Some(source_name))?;
        serde_json::from_value(value).map_err(|e| EngineError::Model {
            source_name: source_name.to_owned(),
            message: e.to_string(),
        })
    }

    /// Start `workflow` in the background; the handle follows it.
    pub fn start(&self, workflow: Workflow, options: RunOptions) -> Result<RunHandle, EngineError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| EngineError::NoRuntime)?;
        let parameters = submitted_parameters(&workflow.spec.arguments, &options.parameters)?;
        let name = match &options.retry_of {
            Some(previous) => options
                .name
                .clone()
                .or_else(|| Previous::run_name(previous).map(str::to_owned))
                .or_else(|| workflow.metadata.name.clone())
                .ok_or(RetryError::NoName)?,
            None => options
                .name
                .clone()
                .or_else(|| workflow.metadata.name.clone())
                .unwrap_or_else(|| {
                    let prefix = workflow
                        .metadata
                        .generate_name
                        .clone()
                        .unwrap_or_else(|| "workflow-".into());
                    format!("{prefix}{}", random_suffix())
                }),
        };
        let previous = options
            .retry_of
            .as_ref()
            .map(|status| Previous::new(&name, status))
            .transpose()?;
        let run_dir = self.config.root.join("runs").join(&name);
        // A retry reuses the directory: the logs of the nodes it keeps are there.
        if previous.is_none() && run_dir.exists() {
            return Err(EngineError::Exists(name, run_dir));
        }
        std::fs::create_dir_all(run_dir.join("nodes")).map_err(|source| EngineError::Io {
            path: run_dir.clone(),
            source,
        })?;
        let status = WorkflowStatus {
            phase: WorkflowPhase::Pending,
            ..WorkflowStatus::default()
        };
        let run = Arc::new(Run::new(
            name,
            uuid_like(),
            workflow,
            parameters,
            Tracker::new(status).retrying(previous),
            self.slots.clone(),
            self.artifact_store(),
            RunSettings {
                run_dir: run_dir.clone(),
                function_binary: options.function_binary,
                inherit_env: self.config.inherit_env,
                env: self.config.env.clone(),
                kill_grace: self.config.kill_grace,
            },
        ));
        let status = run.tracker.subscribe();
        let task = runtime.spawn(execute(run.clone()));
        Ok(RunHandle {
            run,
            status,
            task: Some(task),
            run_dir,
        })
    }
}

/// A started run.
#[derive(Debug)]
pub struct RunHandle {
    run: Arc<Run>,
    status: watch::Receiver<WorkflowStatus>,
    task: Option<JoinHandle<WorkflowStatus>>,
    run_dir: PathBuf,
}

impl RunHandle {
    pub fn name(&self) -> &str {
        &self.run.name
    }

    /// `runs/<name>/` under the engine root: `nodes/<pod>/main.log` holds each log.
    pub fn run_dir(&self) -> &Path {
        &self.run_dir
    }

    /// The log file of a pod node.
    pub fn log_path(&self, pod_name: &str) -> PathBuf {
        self.run_dir.join("nodes").join(pod_name).join("main.log")
    }

    /// A copy of the status now.
    pub fn status(&self) -> WorkflowStatus {
        self.status.borrow().clone()
    }

    /// A receiver that wakes on every change.
    pub fn subscribe(&self) -> watch::Receiver<WorkflowStatus> {
        self.status.clone()
    }

    /// Stop: kill what runs, start nothing new, then run the exit handler.
    pub fn stop(&self) {
        self.run.halt(Halt::Stop);
    }

    /// Terminate: kill what runs and skip the exit handler.
    pub fn terminate(&self) {
        self.run.halt(Halt::Terminate);
    }

    /// Resume suspended nodes (all when `node` is `None`) with supplied output values.
    pub fn resume(&self, node: Option<String>, parameters: Vec<(String, String)>) {
        self.run
            .resume
            .send_modify(|r| r.push(Resume { node, parameters }));
    }

    /// Wait for the end; every process has been reaped when this returns.
    pub async fn wait(mut self) -> WorkflowStatus {
        match self.task.take() {
            Some(task) => match task.await {
                Ok(status) => status,
                Err(e) => {
                    let mut status = self.run.tracker.snapshot();
                    status.phase = WorkflowPhase::Error;
                    status.message = Some(format!("the engine stopped unexpectedly: {e}"));
                    status
                }
            },
            None => self.run.tracker.snapshot(),
        }
    }
}

async fn execute(run: Arc<Run>) -> WorkflowStatus {
    let started = now();
    run.tracker.modify(|s| {
        s.phase = WorkflowPhase::Running;
        s.started_at = Some(started);
    });
    let deadline = run
        .workflow
        .spec
        .active_deadline_seconds
        .map(|s| Duration::from_secs(u64::try_from(s).unwrap_or(0)));
    let timer = deadline.map(|d| {
        let run = run.clone();
        tokio::spawn(async move {
            tokio::time::sleep(d).await;
            run.halt(Halt::Deadline);
        })
    });
    let root_ctx = Ctx {
        run: run.clone(),
        boundary_id: None,
        parallelism: None,
        exit_handler: false,
    };
    let arguments = Arguments {
        parameters: run
            .parameters
            .iter()
            .map(|(n, v)| kfp::argo::Parameter::with_value(n.clone(), v.clone()))
            .collect(),
        artifacts: run.workflow.spec.arguments.artifacts.clone(),
    };
    let root = invoke(
        root_ctx.clone(),
        Call {
            name: run.name.clone(),
            display_name: run.name.clone(),
            template: run.workflow.spec.entrypoint.clone(),
            arguments: arguments.clone(),
            hooked: false,
        },
    )
    .await;
    let mut phase = match root.phase {
        NodePhase::Succeeded | NodePhase::Skipped | NodePhase::Omitted => WorkflowPhase::Succeeded,
        NodePhase::Error => WorkflowPhase::Error,
        _ => WorkflowPhase::Failed,
    };
    let mut message = root
        .message
        .clone()
        .filter(|_| phase != WorkflowPhase::Succeeded);
    if let Some(halt) = run.halted(false)
        && phase == WorkflowPhase::Succeeded
    {
        phase = WorkflowPhase::Failed;
        message = Some(halt.message().to_owned());
    }
    let exit_hook = run.workflow.spec.hooks.get("exit").cloned().or_else(|| {
        run.workflow
            .spec
            .on_exit
            .clone()
            .map(|t| kfp::argo::LifecycleHook {
                template: Some(t),
                ..Default::default()
            })
    });
    if let Some(hook) = exit_hook.filter(|_| run.halted(true).is_none())
        && let Some(template) = hook.template
    {
        {
            let failures = failures_json(&run.name, &run.tracker.snapshot());
            let mut globals = run.globals();
            globals.status = Some(phase.as_str().to_owned());
            globals.failures = Some(failures);
        }
        let ctx = Ctx {
            exit_handler: true,
            ..root_ctx
        };
        let hook_args = if hook.arguments.is_empty() {
            arguments
        } else {
            hook.arguments.clone()
        };
        let scope = crate::scope::Scope::new(&run, &run.name);
        let rendered = crate::exec::render_hook_arguments(&scope, &hook_args);
        let name = format!("{}.onExit", run.name);
        let handler = match rendered {
            Ok(arguments) => {
                run_hook_call(
                    ctx,
                    Call {
                        name: name.clone(),
                        display_name: name,
                        template,
                        arguments,
                        hooked: true,
                    },
                )
                .await
            }
            Err(e) => crate::exec::error_node(
                &ctx,
                &Call {
                    name: name.clone(),
                    display_name: name,
                    template,
                    arguments: Arguments::default(),
                    hooked: true,
                },
                kfp::argo::NodeType::Pod,
                e,
            ),
        };
        if phase == WorkflowPhase::Succeeded && handler.phase.is_failure() {
            phase = if handler.phase == NodePhase::Error {
                WorkflowPhase::Error
            } else {
                WorkflowPhase::Failed
            };
            message = handler.message.clone();
        }
    }
    if let Some(timer) = timer {
        timer.abort();
    }
    let finished = now();
    run.tracker.modify(|s| {
        s.phase = phase;
        s.message = message;
        s.finished_at = Some(finished);
        fill_progress(s);
        s.conditions = vec![
            kfp::argo::Condition {
                condition_type: "PodRunning".into(),
                status: "False".into(),
                message: None,
            },
            kfp::argo::Condition {
                condition_type: "Completed".into(),
                status: "True".into(),
                message: None,
            },
        ];
    });
    run.tracker.snapshot()
}

/// `workflow.failures` (§10): one object per Failed/Error node.
fn failures_json(workflow: &str, status: &WorkflowStatus) -> String {
    let list: Vec<serde_json::Value> = status
        .nodes
        .values()
        .filter(|n| n.phase.is_failure())
        .map(|n| {
            let pod = crate::naming::pod_name(
                workflow,
                n.template_name.as_deref().unwrap_or_default(),
                &n.name,
            );
            json!({
                "displayName": n.display_name,
                "message": n.message.clone().unwrap_or_default(),
                "templateName": n.template_name.clone().unwrap_or_default(),
                "phase": n.phase.as_str(),
                "podName": pod,
                "finishedAt": n.finished_at.clone().unwrap_or_default(),
            })
        })
        .collect();
    serde_json::Value::Array(list).to_string()
}

/// Workflow parameters with submitted values applied; unknown names and values outside
/// an `enum` are refused before anything runs.
fn submitted_parameters(
    declared: &Arguments,
    given: &[(String, String)],
) -> Result<Vec<(String, String)>, EngineError> {
    for (name, _) in given {
        if !declared.parameters.iter().any(|p| p.name == *name) {
            let known: Vec<&str> = declared
                .parameters
                .iter()
                .map(|p| p.name.as_str())
                .collect();
            return Err(EngineError::Parameter(if known.is_empty() {
                format!("unknown parameter '{name}': the workflow declares no parameters")
            } else {
                format!(
                    "unknown parameter '{name}': the workflow declares {}",
                    known.join(", ")
                )
            }));
        }
    }
    let mut out = Vec::new();
    for p in &declared.parameters {
        let value = given
            .iter()
            .rev()
            .find(|(n, _)| *n == p.name)
            .map(|(_, v)| v.clone())
            .or_else(|| p.value.clone())
            .or_else(|| p.default.clone());
        let Some(value) = value else {
            return Err(EngineError::Parameter(format!(
                "parameter '{}' has no value: pass it with -p {}=VALUE",
                p.name, p.name
            )));
        };
        if !p.enum_values.is_empty() && !p.enum_values.contains(&value) {
            return Err(EngineError::Parameter(format!(
                "parameter '{}': '{value}' is not one of {}",
                p.name,
                p.enum_values.join(", ")
            )));
        }
        out.push((p.name.clone(), value));
    }
    Ok(out)
}

/// Five characters as Kubernetes' generateName adds (consonants and digits).
fn random_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut n = seed();
    (0..5)
        .map(|_| {
            let c = ALPHABET[(n % ALPHABET.len() as u64) as usize];
            n /= ALPHABET.len() as u64;
            c as char
        })
        .collect()
}

fn uuid_like() -> String {
    let (a, b) = (seed(), seed());
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        b >> 52,
        b & 0xffff_ffff_ffff
    )
}

/// A random 64-bit number from the standard library's randomly keyed hasher (no RNG
/// crate needed for names).
fn seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish()
}
