//! The live status of one run: Argo's status shape behind a `watch` channel.
//!
//! The sender owns the only copy; every change goes through [`Tracker::modify`], which
//! edits in place and wakes subscribers. A subscriber (the CLI's progress view, the API
//! server's persister) reads a borrow or a clone whenever it likes, so a thousand quick
//! updates cost a thousand small edits, not a thousand copies of the node map.

use kfp::argo::{
    NodeFlag, NodeInputs, NodeOutputs, NodePhase, NodeStatus, NodeType, WorkflowStatus,
};
use tokio::sync::watch;

use crate::previous::Previous;
use crate::time::now;

/// Writes the status of one run.
#[derive(Debug)]
pub struct Tracker {
    tx: watch::Sender<WorkflowStatus>,
    /// Pods created and pods finished, for the live `status.progress`.
    pods: std::sync::Mutex<(u32, u32)>,
    /// The status this run retries, if it is a retry.
    previous: Option<Previous>,
    /// IDs of nodes that kept their previous status and keep it when they end Succeeded.
    kept: std::sync::Mutex<std::collections::HashSet<String>>,
}

/// What a new node is.
#[derive(Debug, Clone)]
pub struct NewNode<'a> {
    pub name: &'a str,
    pub display_name: &'a str,
    pub node_type: NodeType,
    pub template_name: Option<&'a str>,
    pub boundary_id: Option<&'a str>,
    pub phase: NodePhase,
    pub message: Option<String>,
    pub inputs: Option<NodeInputs>,
    pub flag: Option<NodeFlag>,
}

impl Tracker {
    pub fn new(status: WorkflowStatus) -> Self {
        Tracker {
            tx: watch::Sender::new(status),
            pods: std::sync::Mutex::new((0, 0)),
            previous: None,
            kept: std::sync::Mutex::new(std::collections::HashSet::new()),
        }
    }

    /// Track a retry of the run whose status was `previous`.
    pub fn retrying(mut self, previous: Option<Previous>) -> Self {
        self.previous = previous;
        self
    }

    /// The status this run retries, if it is a retry.
    pub fn previous(&self) -> Option<&Previous> {
        self.previous.as_ref()
    }

    /// Put back a node of the previous status that is not run again; its edges are drawn
    /// anew by this run.
    pub fn restore(&self, old: &NodeStatus) -> String {
        let progress = (old.node_type == NodeType::Pod).then(|| self.count_pod(1, 1));
        self.insert_previous(old.clone());
        if progress.is_some() {
            self.modify(|s| s.progress = progress);
        }
        old.id.clone()
    }

    fn insert_previous(&self, mut node: NodeStatus) {
        self.modify(|s| {
            node.children = s
                .nodes
                .get(&node.id)
                .map(|n| n.children.clone())
                .unwrap_or_default();
            s.nodes.insert(node.id.clone(), node);
        });
    }

    fn kept(&self) -> std::sync::MutexGuard<'_, std::collections::HashSet<String>> {
        self.kept
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A receiver that sees every later change.
    pub fn subscribe(&self) -> watch::Receiver<WorkflowStatus> {
        self.tx.subscribe()
    }

    /// A copy of the current status.
    pub fn snapshot(&self) -> WorkflowStatus {
        self.tx.borrow().clone()
    }

    /// Edit the status in place and notify subscribers.
    pub fn modify(&self, edit: impl FnOnce(&mut WorkflowStatus)) {
        self.tx.send_modify(edit);
    }

    /// Read the status without copying it.
    pub fn read<T>(&self, read: impl FnOnce(&WorkflowStatus) -> T) -> T {
        read(&self.tx.borrow())
    }

    /// Add a node; a fulfilled phase also stamps `finishedAt`. In a retry, a DAG, steps,
    /// group or Retry node that succeeded with nothing failed below it comes back with its
    /// previous status instead.
    pub fn create(&self, workflow: &str, new: NewNode<'_>) -> String {
        let id = crate::naming::node_id(workflow, new.name);
        if let Some(old) = self
            .previous
            .as_ref()
            .and_then(|p| p.kept(new.name, new.node_type, new.template_name))
        {
            self.kept().insert(id.clone());
            self.insert_previous(old.clone());
            return id;
        }
        let started = now();
        let node = NodeStatus {
            id: id.clone(),
            name: new.name.to_owned(),
            display_name: new.display_name.to_owned(),
            node_type: new.node_type,
            template_name: new.template_name.map(str::to_owned),
            template_scope: new.template_name.map(|_| format!("local/{workflow}")),
            phase: new.phase,
            boundary_id: new.boundary_id.map(str::to_owned),
            message: new.message,
            finished_at: new.phase.is_fulfilled().then(|| started.clone()),
            started_at: Some(started),
            progress: (new.node_type == NodeType::Pod).then(|| "0/1".to_owned()),
            inputs: new
                .inputs
                .filter(|i| !i.parameters.is_empty() || !i.artifacts.is_empty()),
            node_flag: new.flag,
            ..NodeStatus::default()
        };
        let progress = (new.node_type == NodeType::Pod)
            .then(|| self.count_pod(u32::from(new.phase.is_fulfilled()), 1));
        self.modify(|s| {
            s.nodes.insert(id.clone(), node);
            if progress.is_some() {
                s.progress = progress;
            }
        });
        id
    }

    /// Set a node's phase (and message when given).
    pub fn set_phase(&self, id: &str, phase: NodePhase, message: Option<String>) {
        self.modify(|s| {
            if let Some(node) = s.nodes.get_mut(id) {
                node.phase = phase;
                if message.is_some() {
                    node.message = message;
                }
            }
        });
    }

    /// Set or clear a node's message.
    pub fn set_message(&self, id: &str, message: Option<String>) {
        self.modify(|s| {
            if let Some(node) = s.nodes.get_mut(id) {
                node.message = message;
            }
        });
    }

    /// End a node: phase, message, outputs, `finishedAt`, and for a pod its progress.
    pub fn finish(
        &self,
        id: &str,
        phase: NodePhase,
        message: Option<String>,
        outputs: Option<NodeOutputs>,
        outbound: Vec<String>,
    ) {
        if phase == NodePhase::Succeeded && self.kept().contains(id) {
            return;
        }
        self.kept().remove(id);
        let finished = now();
        let is_pod = self.read(|s| {
            s.nodes
                .get(id)
                .is_some_and(|n| n.node_type == NodeType::Pod)
        });
        let progress = is_pod.then(|| self.count_pod(1, 0));
        self.modify(|s| {
            if progress.is_some() {
                s.progress = progress;
            }
            if let Some(node) = s.nodes.get_mut(id) {
                node.phase = phase;
                node.message = message;
                node.outputs = outputs.filter(|o| !o.is_empty());
                node.finished_at = Some(finished);
                if node.node_type == NodeType::Pod {
                    node.progress = Some("1/1".to_owned());
                }
                if matches!(node.node_type, NodeType::Dag | NodeType::Steps) {
                    node.outbound_nodes = outbound;
                }
            }
        });
    }

    /// Count pods created/finished; returns the new `done/all`.
    fn count_pod(&self, done: u32, created: u32) -> String {
        let mut pods = self
            .pods
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        pods.0 += done;
        pods.1 += created;
        format!("{}/{}", pods.0, pods.1)
    }

    /// Draw an edge `parent -> child` (§12.4), once.
    pub fn add_child(&self, parent: &str, child: &str) {
        self.modify(|s| {
            if let Some(node) = s.nodes.get_mut(parent)
                && !node.children.iter().any(|c| c == child)
            {
                node.children.push(child.to_owned());
            }
        });
    }
}

/// `progress` of every node and of the workflow: completed pods / pods, summed over the
/// nodes each one contains (by `boundaryID`, and the retry/loop parents in between).
pub fn fill_progress(status: &mut WorkflowStatus) {
    use std::collections::HashMap;
    let mut sums: HashMap<String, (u32, u32)> = HashMap::new();
    let mut total = (0, 0);
    for node in status.nodes.values() {
        if node.node_type != NodeType::Pod {
            continue;
        }
        let done = u32::from(node.phase.is_fulfilled());
        total.0 += done;
        total.1 += 1;
        let mut boundary = node.boundary_id.clone();
        let mut guard = 0;
        while let Some(b) = boundary {
            let entry = sums.entry(b.clone()).or_default();
            entry.0 += done;
            entry.1 += 1;
            boundary = status.nodes.get(&b).and_then(|n| n.boundary_id.clone());
            guard += 1;
            if guard > 10_000 {
                break;
            }
        }
    }
    for (id, node) in status.nodes.iter_mut() {
        if let Some((done, all)) = sums.get(id) {
            node.progress = Some(format!("{done}/{all}"));
        }
    }
    status.progress = Some(format!("{}/{}", total.0, total.1));
}
