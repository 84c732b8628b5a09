//! Retrying a finished run (`argo retry`, KFP's "retry run"): what of its previous status
//! is kept instead of run again.
//!
//! Node names, and with them IDs, pod names and artifact keys, are deterministic, so a node
//! of the retry is matched to its previous self by name. A Pod or Suspend node that
//! Succeeded is not run again: it is restored with its old status, and its outputs feed
//! later tasks as if it had just run. DAG, steps, group and Retry nodes are walked again
//! (cheaply, since what succeeded below them is restored), so `depends`, `when`, loops and
//! outputs are worked out by the usual code; one that Succeeded with nothing failed below
//! it keeps its old status, as Argo leaves such nodes untouched. Nothing of the workflow's
//! exit handler is kept: it always runs again.

use std::collections::{HashMap, HashSet};

use kfp::argo::{NodePhase, NodeStatus, NodeType, WorkflowPhase, WorkflowStatus};

/// Why a previous status cannot be retried.
#[derive(Debug, thiserror::Error)]
pub enum RetryError {
    /// As `argo retry`: a run still going (or one that succeeded) has nothing to retry.
    #[error("cannot retry a run in phase '{0}': only a Failed or Error run can be retried")]
    NotRetryable(WorkflowPhase),
    #[error(
        "a retry needs the previous run's name: pass RunOptions::name (the previous status has \
         no root node and the workflow no metadata.name)"
    )]
    NoName,
    /// The name becomes a directory under `runs/` that the retry reuses and partly clears.
    #[error("'{0}' cannot name a run directory")]
    BadName(String),
    /// Reusing another run's nodes would mix two runs' files and artifacts.
    #[error(
        "the previous status is not that of a run named '{name}': its node '{node_name}' has \
         ID '{node_id}'"
    )]
    OtherRun {
        name: String,
        node_name: String,
        node_id: String,
    },
}

/// The previous status of a run being retried, indexed for the lookups a retry makes.
#[derive(Debug, Default)]
pub struct Previous {
    /// Nodes that Succeeded, by name, outside the workflow's exit handler.
    succeeded: HashMap<String, NodeStatus>,
    /// Names of nodes at or above (by name) a node that did not finish well: these run
    /// again with a fresh status.
    tainted: HashSet<String>,
}

impl Previous {
    /// The name of the run a status belongs to: its root node's (the only node whose ID is
    /// its name).
    pub fn run_name(status: &WorkflowStatus) -> Option<&str> {
        status
            .nodes
            .values()
            .find(|n| n.id == n.name)
            .map(|n| n.name.as_str())
    }

    /// Index `status`, the previous status of the run `workflow`.
    pub fn new(workflow: &str, status: &WorkflowStatus) -> Result<Self, RetryError> {
        if workflow.is_empty()
            || workflow == "."
            || workflow == ".."
            || workflow.contains(['/', '\\', '\0'])
        {
            return Err(RetryError::BadName(workflow.to_owned()));
        }
        if !status.nodes.is_empty()
            && !matches!(status.phase, WorkflowPhase::Failed | WorkflowPhase::Error)
        {
            return Err(RetryError::NotRetryable(status.phase));
        }
        if let Some(node) = status
            .nodes
            .values()
            .find(|n| n.id != crate::naming::node_id(workflow, &n.name))
        {
            return Err(RetryError::OtherRun {
                name: workflow.to_owned(),
                node_name: node.name.clone(),
                node_id: node.id.clone(),
            });
        }
        let exit_handler = format!("{workflow}.onExit");
        let mut previous = Previous::default();
        for node in status.nodes.values() {
            if within(&node.name, &exit_handler) {
                continue;
            }
            match node.phase {
                NodePhase::Succeeded => {
                    previous.succeeded.insert(node.name.clone(), node.clone());
                }
                NodePhase::Skipped | NodePhase::Omitted => {}
                NodePhase::Failed | NodePhase::Error | NodePhase::Pending | NodePhase::Running => {
                    previous.tainted.insert(node.name.clone());
                    previous
                        .tainted
                        .extend(ancestors(&node.name).map(str::to_owned));
                }
            }
        }
        Ok(previous)
    }

    /// The Pod or Suspend node to restore instead of running the node `name` of `template`.
    pub fn leaf(&self, name: &str, template: &str, node_type: NodeType) -> Option<&NodeStatus> {
        self.succeeded
            .get(name)
            .filter(|n| n.node_type == node_type && n.template_name.as_deref() == Some(template))
    }

    /// The old status a DAG, steps, group or Retry node keeps while it is walked again: it
    /// Succeeded and nothing below it failed.
    pub fn kept(
        &self,
        name: &str,
        node_type: NodeType,
        template: Option<&str>,
    ) -> Option<&NodeStatus> {
        let composite = matches!(
            node_type,
            NodeType::Dag
                | NodeType::Steps
                | NodeType::StepGroup
                | NodeType::TaskGroup
                | NodeType::Retry
        );
        if !composite || self.tainted.contains(name) {
            return None;
        }
        self.succeeded
            .get(name)
            .filter(|n| n.node_type == node_type && n.template_name.as_deref() == template)
    }

    /// The attempt a Retry node resumes at: the one that succeeded (earlier, failed attempts
    /// are not run again, as `argo retry` drops them).
    pub fn succeeded_attempt(&self, name: &str, template: &str) -> Option<u32> {
        let retry = self
            .succeeded
            .get(name)
            .filter(|n| n.node_type == NodeType::Retry)?;
        (0..=retry.children.len()).rev().find_map(|k| {
            let attempt = self.succeeded.get(&format!("{name}({k})"))?;
            (attempt.template_name.as_deref() == Some(template))
                .then(|| u32::try_from(k).ok())
                .flatten()
        })
    }
}

/// Whether `name` is `root` or a node below it (by Argo's naming: `.`, `[` or `(` follow).
fn within(name: &str, root: &str) -> bool {
    name.strip_prefix(root)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[', '(']))
}

/// The names of the nodes above `name`: each prefix ending before a `.`, `[` or `(`
/// (prefixes inside a loop item's description name no node and do no harm).
fn ancestors(name: &str) -> impl Iterator<Item = &str> {
    name.char_indices()
        .filter(|&(i, c)| i > 0 && matches!(c, '.' | '[' | '('))
        .map(move |(i, _)| &name[..i])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::naming::node_id;

    fn node(wf: &str, name: &str, node_type: NodeType, phase: NodePhase) -> NodeStatus {
        NodeStatus {
            id: node_id(wf, name),
            name: name.to_owned(),
            display_name: name.rsplit('.').next().unwrap_or(name).to_owned(),
            node_type,
            template_name: Some("t".to_owned()),
            phase,
            ..NodeStatus::default()
        }
    }

    fn status(wf: &str, nodes: &[(&str, NodeType, NodePhase)]) -> WorkflowStatus {
        WorkflowStatus {
            phase: WorkflowPhase::Failed,
            nodes: nodes
                .iter()
                .map(|(name, t, p)| {
                    let n = node(wf, name, *t, *p);
                    (n.id.clone(), n)
                })
                .collect(),
            ..WorkflowStatus::default()
        }
    }

    #[test]
    fn ancestors_by_name() {
        let names: Vec<&str> = ancestors("wf.dag[0].A(1:x.y)").collect();
        assert_eq!(
            names,
            [
                "wf",
                "wf.dag",
                "wf.dag[0]",
                "wf.dag[0].A",
                "wf.dag[0].A(1:x"
            ]
        );
        assert!(within("wf.onExit", "wf.onExit"));
        assert!(within("wf.onExit.A", "wf.onExit"));
        assert!(!within("wf.onExitX", "wf.onExit"));
    }

    #[test]
    fn failures_taint_what_is_above_them() {
        use NodePhase::{Failed, Succeeded};
        use NodeType::{Dag, Pod, Retry};
        let s = status(
            "wf",
            &[
                ("wf", Dag, Failed),
                ("wf.A", Pod, Succeeded),
                ("wf.D", Dag, Succeeded),
                ("wf.D.x", Pod, Succeeded),
                ("wf.B", Retry, Succeeded),
                ("wf.B(0)", Pod, Failed),
                ("wf.B(1)", Pod, Succeeded),
                ("wf.C", Pod, Failed),
                ("wf.onExit", Pod, Succeeded),
            ],
        );
        let mut s = s;
        let attempts = vec![node_id("wf", "wf.B(0)"), node_id("wf", "wf.B(1)")];
        if let Some(b) = s.nodes.get_mut(&node_id("wf", "wf.B")) {
            b.children = attempts;
        }
        let p = Previous::new("wf", &s).expect("a failed run can be retried");
        assert!(p.leaf("wf.A", "t", Pod).is_some());
        assert!(p.leaf("wf.A", "other", Pod).is_none());
        assert!(p.leaf("wf.C", "t", Pod).is_none());
        assert!(p.leaf("wf.onExit", "t", Pod).is_none());
        assert!(p.kept("wf.D", Dag, Some("t")).is_some());
        assert!(p.kept("wf.B", Retry, Some("t")).is_none());
        assert!(p.kept("wf", Dag, Some("t")).is_none());
        assert_eq!(p.succeeded_attempt("wf.B", "t"), Some(1));
        assert_eq!(p.succeeded_attempt("wf.C", "t"), None);
    }

    #[test]
    fn refuses_what_argo_refuses() {
        let mut s = status("wf", &[("wf", NodeType::Dag, NodePhase::Running)]);
        s.phase = WorkflowPhase::Running;
        assert!(matches!(
            Previous::new("wf", &s),
            Err(RetryError::NotRetryable(WorkflowPhase::Running))
        ));
        s.phase = WorkflowPhase::Failed;
        assert!(matches!(
            Previous::new("other", &s),
            Err(RetryError::OtherRun { .. })
        ));
        assert!(matches!(
            Previous::new("..", &WorkflowStatus::default()),
            Err(RetryError::BadName(_))
        ));
        assert!(Previous::new("wf", &WorkflowStatus::default()).is_ok());
        assert_eq!(Previous::run_name(&s), Some("wf"));
    }
}
