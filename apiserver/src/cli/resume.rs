//! Resuming suspended nodes from the terminal while `kfp run` follows a run.
//!
//! A `suspend: {}` node waits for someone to resume it (Argo: `argo resume`). Locally the
//! person running `kfp run` is that someone: each line typed on stdin resumes every
//! suspended node, its `NAME=VALUE` words supplying output parameters declared
//! `valueFrom.supplied`. stdin is read on a plain thread (a tokio stdin read would keep
//! the runtime from shutting down while it waits), and only for workflows that suspend.

use std::collections::BTreeSet;
use std::io::BufRead;

use kfp::argo::{NodePhase, NodeType, Workflow, WorkflowStatus};
use tokio::sync::mpsc;

/// Lines typed on stdin, when the workflow has a suspend template.
pub fn lines(workflow: &Workflow) -> Option<mpsc::UnboundedReceiver<String>> {
    if !workflow.spec.templates.iter().any(|t| t.suspend.is_some()) {
        return None;
    }
    let (tx, rx) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    Some(rx)
}

/// `NAME=VALUE` words of a typed line (other words are ignored).
pub fn supplied(line: &str) -> Vec<(String, String)> {
    line.split_whitespace()
        .filter_map(|word| word.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// Suspend nodes now waiting that were not announced yet (they are added to `announced`).
pub fn newly_waiting(status: &WorkflowStatus, announced: &mut BTreeSet<String>) -> Vec<String> {
    status
        .nodes
        .values()
        .filter(|n| n.node_type == NodeType::Suspend && n.phase == NodePhase::Running)
        .filter(|n| announced.insert(n.id.clone()))
        .map(|n| n.display_name.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supplied_values_are_name_value_words() {
        assert_eq!(
            supplied("ok choice=yes  n=3 ="),
            [
                ("choice".to_owned(), "yes".to_owned()),
                ("n".to_owned(), "3".to_owned()),
                (String::new(), String::new())
            ]
        );
        assert!(supplied("").is_empty());
    }
}
