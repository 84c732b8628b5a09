//! Where runs execute. The server talks to a [`Backend`]; [`LocalBackend`] is the embedded
//! engine. The Argo-on-Kubernetes backend (another milestone) implements the same trait,
//! so handlers and the status sync do not change.

use std::collections::HashMap;
use std::fmt::Debug;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use kfp::argo::{Workflow, WorkflowStatus};
use kfp_engine::{Engine, RunHandle, RunOptions};
use tokio::sync::watch;

/// A run to start.
#[derive(Debug, Clone)]
pub struct Submission {
    /// The workflow, `metadata.name` set to the run's unique name.
    pub workflow: Workflow,
    pub parameters: Vec<(String, String)>,
    /// Run again what did not succeed in this earlier status of the same workflow (a
    /// retry, or a run resumed after a restart); what succeeded is kept, not rerun.
    pub retry_of: Option<WorkflowStatus>,
}

/// Why a backend could not act.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// The workflow or its parameters were refused before anything ran.
    #[error("{0}")]
    Rejected(String),
    #[error("run {0} is not running on this server")]
    NotRunning(String),
    #[error("{0}")]
    Failed(String),
}

/// Something that runs workflows and reports their status.
pub trait Backend: Send + Sync + Debug {
    /// `local`, `argo`: stored with each run.
    fn name(&self) -> &'static str;
    /// Start a run; the receiver sees every status change until it completes.
    fn submit(
        &self,
        submission: Submission,
    ) -> Result<watch::Receiver<WorkflowStatus>, BackendError>;
    /// Stop a running workflow (exit handlers still run, as KFP's terminate does).
    fn terminate(&self, run_name: &str) -> Result<(), BackendError>;
    /// The log file of a pod of a run, kept after the run ends.
    fn log_path(&self, run_name: &str, pod_name: &str) -> PathBuf;
    /// Forget a finished run's handle (its files stay).
    fn finished(&self, run_name: &str);
    /// The stored file of an output artifact, by its key in the status.
    fn artifact_path(&self, key: &str) -> Option<PathBuf>;
    /// Delete everything a finished run left behind (logs, outputs, artifacts), when the
    /// run itself is deleted.
    fn purge(&self, run_name: &str) -> Result<(), BackendError>;
}

/// The embedded engine as a backend.
#[derive(Debug)]
pub struct LocalBackend {
    engine: Engine,
    /// The pipeline binary that Rust-function steps of every run call (the image's
    /// `/usr/local/bin/pipelines` does not exist on this machine); `None` leaves their
    /// argv as compiled, so such steps fail naming the missing program.
    function_binary: Option<PathBuf>,
    running: Mutex<HashMap<String, Arc<RunHandle>>>,
}

impl LocalBackend {
    pub fn new(engine: Engine) -> Self {
        LocalBackend {
            engine,
            function_binary: None,
            running: Mutex::new(HashMap::new()),
        }
    }

    /// Run the Rust-function steps of every run with `binary` (`kfp server
    /// --function-binary`, or the samples' binary `--demo` builds). It should be absolute:
    /// each step runs in its own directory.
    pub fn with_function_binary(mut self, binary: PathBuf) -> Self {
        self.function_binary = Some(binary);
        self
    }

    fn running(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<RunHandle>>> {
        self.running
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Backend for LocalBackend {
    fn name(&self) -> &'static str {
        "local"
    }

    fn submit(
        &self,
        submission: Submission,
    ) -> Result<watch::Receiver<WorkflowStatus>, BackendError> {
        let options = RunOptions {
            parameters: submission.parameters,
            function_binary: self.function_binary.clone(),
            name: submission
                .retry_of
                .is_some()
                .then(|| submission.workflow.metadata.name.clone())
                .flatten(),
            retry_of: submission.retry_of,
        };
        let handle = self
            .engine
            .start(submission.workflow, options)
            .map_err(|e| BackendError::Rejected(e.to_string()))?;
        let status = handle.subscribe();
        self.running()
            .insert(handle.name().to_owned(), Arc::new(handle));
        Ok(status)
    }

    fn terminate(&self, run_name: &str) -> Result<(), BackendError> {
        let handle = self.running().get(run_name).cloned();
        match handle {
            Some(handle) => {
                handle.stop();
                Ok(())
            }
            None => Err(BackendError::NotRunning(run_name.to_owned())),
        }
    }

    fn log_path(&self, run_name: &str, pod_name: &str) -> PathBuf {
        self.engine
            .config()
            .root
            .join("runs")
            .join(run_name)
            .join("nodes")
            .join(pod_name)
            .join("main.log")
    }

    fn finished(&self, run_name: &str) {
        let mut running = self.running();
        // A retry reuses the name: keep its handle if it started before the previous
        // attempt's follower got here.
        if running
            .get(run_name)
            .is_some_and(|handle| handle.status().phase.is_completed())
        {
            running.remove(run_name);
        }
    }

    fn artifact_path(&self, key: &str) -> Option<PathBuf> {
        self.engine.artifact_store().path_of(key).ok()
    }

    fn purge(&self, run_name: &str) -> Result<(), BackendError> {
        // The name comes from a stored manifest: it must stay one path component.
        if run_name.is_empty()
            || run_name == "."
            || run_name == ".."
            || run_name.contains(['/', '\\', '\0'])
        {
            return Err(BackendError::Failed(format!(
                "'{run_name}' is not a run name whose files can be deleted"
            )));
        }
        let run_dir = self.engine.config().root.join("runs").join(run_name);
        match std::fs::remove_dir_all(&run_dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(BackendError::Failed(format!(
                    "cannot delete {}: {e}",
                    run_dir.display()
                )));
            }
            _ => {}
        }
        self.engine
            .artifact_store()
            .delete_workflow(run_name)
            .map_err(|e| BackendError::Failed(e.to_string()))
    }
}
