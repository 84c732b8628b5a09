//! What `kfp run` prints when the run has ended.
//!
//! The table is for a person: what happened, and where to look next (the failed pods'
//! logs first). JSON and YAML are for scripts, so they hold the status only, in the shape
//! `kubectl get workflow -o json` gives, so tools written for Argo can read it.

use std::fmt::Write;
use std::path::Path;

use chrono::Utc;
use kfp::argo::{NodeType, WorkflowPhase, WorkflowStatus};
use serde_json::json;

use super::OutputFormat;
use super::tree;

/// Where one run keeps its files.
#[derive(Debug, Clone)]
pub struct Places<'a> {
    pub name: &'a str,
    /// `<root>/runs/<name>`.
    pub run_dir: &'a Path,
    /// `<root>/artifacts/<name>`.
    pub artifacts: &'a Path,
}

/// The final output in `format`.
pub fn render(
    format: OutputFormat,
    places: &Places<'_>,
    status: &WorkflowStatus,
) -> anyhow::Result<String> {
    let document = || json!({"metadata": {"name": places.name}, "status": status});
    Ok(match format {
        OutputFormat::Table => table(places, status),
        OutputFormat::Json => serde_json::to_string_pretty(&document())? + "\n",
        OutputFormat::Yaml => serde_saphyr::to_string(&document())?,
    })
}

/// The tree, the outcome, the failed nodes with their logs, and where everything is.
fn table(places: &Places<'_>, status: &WorkflowStatus) -> String {
    let now = Utc::now();
    let rows = tree::rows(status);
    let mut out = tree::render(&rows, now, None);
    let took = tree::span(
        status.started_at.as_deref(),
        status.finished_at.as_deref(),
        now,
    )
    .map(tree::format_duration)
    .unwrap_or_else(|| "0s".to_owned());
    let _ = write!(out, "\nWorkflow {} {} in {took}", places.name, status.phase);
    match status.message.as_deref() {
        Some(message) if status.phase != WorkflowPhase::Succeeded => {
            let _ = writeln!(out, ": {message}");
        }
        _ => out.push('\n'),
    }
    let failed: Vec<&tree::Row<'_>> = rows
        .iter()
        .filter(|r| r.node.phase.is_failure() && is_leaf(r.node))
        .collect();
    if !failed.is_empty() {
        out.push_str("Failed:\n");
    }
    for row in failed {
        let message = row.node.message.as_deref().unwrap_or("");
        let _ = writeln!(out, "  {}  {}  {message}", row.path, row.node.phase);
        if row.node.node_type == NodeType::Pod {
            let template = row.node.template_name.as_deref().unwrap_or("");
            let pod = kfp_engine::pod_name(places.name, template, &row.node.name);
            let log = places.run_dir.join("nodes").join(pod).join("main.log");
            if log.exists() {
                let _ = writeln!(out, "    log: {}", log.display());
            } else {
                let _ = writeln!(
                    out,
                    "    no log: the step did not start ({})",
                    log.display()
                );
            }
        }
    }
    let _ = writeln!(
        out,
        "Logs: {}",
        places
            .run_dir
            .join("nodes")
            .join("<pod>")
            .join("main.log")
            .display()
    );
    let _ = writeln!(out, "Artifacts: {}", places.artifacts.display());
    out
}

/// A node that did the work itself: a failed DAG or retry is only failed because of
/// one of these, which are the ones worth reading about.
fn is_leaf(node: &kfp::argo::NodeStatus) -> bool {
    matches!(
        node.node_type,
        NodeType::Pod | NodeType::Suspend | NodeType::Http | NodeType::Plugin
    ) || node.children.is_empty()
}
