//! State shared by every node of one run.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use kfp::argo::{Artifact, NodeOutputs, NodePhase, Template, Workflow};
use tokio::sync::{Semaphore, watch};

use crate::artifacts::ArtifactStore;
use crate::tracker::Tracker;

/// Why a run stops starting new work and kills what runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Halt {
    /// `spec.activeDeadlineSeconds` passed; the exit handler still runs.
    Deadline,
    /// Stopped by a user; the exit handler still runs (`argo stop`, KFP's terminate).
    Stop,
    /// Terminated by a user; nothing more runs, exit handler included (`argo terminate`).
    Terminate,
}

impl Halt {
    /// The message Argo gives nodes it fails for this reason.
    pub fn message(self) -> &'static str {
        match self {
            Halt::Deadline => "Step exceeded its deadline",
            Halt::Stop => "Stopped with strategy 'Stop'",
            Halt::Terminate => "Stopped with strategy 'Terminate'",
        }
    }
}

/// A request to resume suspended nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resume {
    /// Node name, display name or ID; `None` resumes every suspended node.
    pub node: Option<String>,
    /// Values for output parameters declared `valueFrom.supplied`.
    pub parameters: Vec<(String, String)>,
}

/// Values every node can see (`workflow.*`).
#[derive(Debug, Default)]
pub struct Globals {
    pub output_parameters: HashMap<String, String>,
    pub output_artifacts: HashMap<String, Artifact>,
    /// Set before the exit handler runs.
    pub status: Option<String>,
    pub failures: Option<String>,
}

/// Local settings of a run.
#[derive(Debug, Clone)]
pub struct RunSettings {
    pub run_dir: PathBuf,
    pub function_binary: Option<PathBuf>,
    pub inherit_env: bool,
    pub env: Vec<(String, String)>,
    pub kill_grace: std::time::Duration,
}

/// One run: the workflow, its status, and what its nodes share.
#[derive(Debug)]
pub struct Run {
    pub name: String,
    pub uid: String,
    pub namespace: String,
    pub creation_timestamp: chrono::DateTime<chrono::Utc>,
    pub started: Instant,
    pub workflow: Workflow,
    templates: HashMap<String, usize>,
    /// `workflow.parameters`, in declaration order, with submitted values applied.
    pub parameters: Vec<(String, String)>,
    pub globals: Mutex<Globals>,
    pub tracker: Tracker,
    pub halt: watch::Sender<Option<Halt>>,
    pub resume: watch::Sender<Vec<Resume>>,
    /// `spec.parallelism`: pods of this workflow at once.
    pub pod_slots: Option<Arc<Semaphore>>,
    /// The engine's limit on processes across all runs.
    pub engine_slots: Arc<Semaphore>,
    pub store: ArtifactStore,
    pub settings: RunSettings,
}

impl Run {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        name: String,
        uid: String,
        workflow: Workflow,
        parameters: Vec<(String, String)>,
        tracker: Tracker,
        engine_slots: Arc<Semaphore>,
        store: ArtifactStore,
        settings: RunSettings,
    ) -> Self {
        let templates = workflow
            .spec
            .templates
            .iter()
            .enumerate()
            .map(|(i, t)| (t.name.clone(), i))
            .collect();
        let pod_slots = workflow.spec.parallelism.filter(|n| *n > 0).map(|n| {
            Arc::new(Semaphore::new(
                usize::try_from(n).unwrap_or(usize::MAX >> 4),
            ))
        });
        Run {
            namespace: workflow
                .metadata
                .namespace
                .clone()
                .unwrap_or_else(|| "default".to_owned()),
            name,
            uid,
            creation_timestamp: chrono::Utc::now(),
            started: Instant::now(),
            templates,
            parameters,
            globals: Mutex::new(Globals::default()),
            tracker,
            halt: watch::Sender::new(None),
            resume: watch::Sender::new(Vec::new()),
            pod_slots,
            engine_slots,
            store,
            settings,
            workflow,
        }
    }

    /// The template named `name`.
    pub fn template(&self, name: &str) -> Option<&Template> {
        self.templates
            .get(name)
            .and_then(|i| self.workflow.spec.templates.get(*i))
    }

    /// Halt the run for `reason` (the first reason wins, except that Terminate overrides).
    pub fn halt(&self, reason: Halt) {
        self.halt.send_if_modified(|h| match h {
            None => {
                *h = Some(reason);
                true
            }
            Some(current) if reason == Halt::Terminate && *current != Halt::Terminate => {
                *h = Some(reason);
                true
            }
            _ => false,
        });
    }

    /// The halt that applies to nodes of an exit handler (`exit`) or of the main graph.
    pub fn halted(&self, exit_handler: bool) -> Option<Halt> {
        applies(*self.halt.borrow(), exit_handler)
    }

    /// Resolves when a halt applies.
    pub async fn wait_halted(&self, exit_handler: bool) -> Halt {
        let mut rx = self.halt.subscribe();
        loop {
            if let Some(h) = applies(*rx.borrow_and_update(), exit_handler) {
                return h;
            }
            if rx.changed().await.is_err() {
                // The run is gone; nothing will ever halt it.
                std::future::pending::<()>().await;
            }
        }
    }

    /// Lock the globals, surviving a panicked holder (they hold plain data).
    pub fn globals(&self) -> std::sync::MutexGuard<'_, Globals> {
        self.globals
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Record a template's `globalName` outputs.
    pub fn export_globals(&self, template: &Template, outputs: &NodeOutputs) {
        let mut exported_params = Vec::new();
        let mut exported_artifacts = Vec::new();
        for declared in &template.outputs.parameters {
            if let (Some(global), Some(value)) =
                (&declared.global_name, outputs.parameter(&declared.name))
            {
                exported_params.push((global.clone(), value.to_owned()));
            }
        }
        for declared in &template.outputs.artifacts {
            if let (Some(global), Some(artifact)) = (
                &declared.global_name,
                outputs.artifacts.iter().find(|a| a.name == declared.name),
            ) {
                let mut artifact = artifact.clone();
                artifact.name = global.clone();
                exported_artifacts.push(artifact);
            }
        }
        if exported_params.is_empty() && exported_artifacts.is_empty() {
            return;
        }
        {
            let mut globals = self.globals();
            for (k, v) in &exported_params {
                globals.output_parameters.insert(k.clone(), v.clone());
            }
            for a in &exported_artifacts {
                globals.output_artifacts.insert(a.name.clone(), a.clone());
            }
        }
        self.tracker.modify(|s| {
            let out = s.outputs.get_or_insert_with(NodeOutputs::default);
            for (k, v) in exported_params {
                out.parameters.retain(|p| p.name != k);
                out.parameters.push(kfp::argo::Parameter::with_value(k, v));
            }
            for a in exported_artifacts {
                out.artifacts.retain(|x| x.name != a.name);
                out.artifacts.push(a);
            }
        });
    }
}

fn applies(halt: Option<Halt>, exit_handler: bool) -> Option<Halt> {
    match halt {
        Some(Halt::Terminate) => Some(Halt::Terminate),
        Some(h) if !exit_handler => Some(h),
        _ => None,
    }
}

/// What a finished node hands its parent.
#[derive(Debug, Clone, Default)]
pub struct NodeResult {
    pub id: String,
    pub phase: NodePhase,
    pub message: Option<String>,
    pub outputs: NodeOutputs,
    /// Nodes through which the graph leaves this one (§12.4).
    pub outbound: Vec<String>,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    /// Loops: the phases of the iterations (for `AnySucceeded`/`AllFailed`).
    pub iterations: Option<Vec<NodePhase>>,
    /// Loops: `outputs.parameters` as a JSON array of per-iteration objects.
    pub parameters_json: Option<String>,
}

/// Where a node runs in the graph.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub run: Arc<Run>,
    /// ID of the enclosing DAG/Steps node.
    pub boundary_id: Option<String>,
    /// The enclosing template's `parallelism`.
    pub parallelism: Option<Arc<Semaphore>>,
    /// Inside the workflow's exit handler (which runs despite deadlines and stops).
    pub exit_handler: bool,
}
