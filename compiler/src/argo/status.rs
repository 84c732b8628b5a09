//! `status` of a Workflow, in the shape Argo's controller writes it (ARGO-SEMANTICS §12).
//!
//! Both backends report this shape: the local engine produces it, and the Kubernetes
//! backend reads it from the cluster, so the server, the UI and the metadata recorder read
//! one model whichever backend ran the workflow. It lives in the light `kfp` crate (serde
//! only) because those readers should not need the engine to understand a status.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::{Artifact, Parameter};

/// Phase of a whole workflow; `Unknown` is Argo's empty phase (not yet seen).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum WorkflowPhase {
    #[default]
    #[serde(rename = "")]
    Unknown,
    Pending,
    Running,
    Succeeded,
    Failed,
    Error,
}

impl WorkflowPhase {
    /// Argo's spelling (`""` for [`WorkflowPhase::Unknown`]).
    pub fn as_str(self) -> &'static str {
        match self {
            WorkflowPhase::Unknown => "",
            WorkflowPhase::Pending => "Pending",
            WorkflowPhase::Running => "Running",
            WorkflowPhase::Succeeded => "Succeeded",
            WorkflowPhase::Failed => "Failed",
            WorkflowPhase::Error => "Error",
        }
    }

    /// Whether the workflow has ended.
    pub fn is_completed(self) -> bool {
        matches!(
            self,
            WorkflowPhase::Succeeded | WorkflowPhase::Failed | WorkflowPhase::Error
        )
    }
}

impl fmt::Display for WorkflowPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Phase of one node (§12.2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NodePhase {
    #[default]
    Pending,
    Running,
    Succeeded,
    Failed,
    Error,
    Skipped,
    Omitted,
}

impl NodePhase {
    /// Argo's spelling of the phase.
    pub fn as_str(self) -> &'static str {
        match self {
            NodePhase::Pending => "Pending",
            NodePhase::Running => "Running",
            NodePhase::Succeeded => "Succeeded",
            NodePhase::Failed => "Failed",
            NodePhase::Error => "Error",
            NodePhase::Skipped => "Skipped",
            NodePhase::Omitted => "Omitted",
        }
    }

    /// Whether the node has finished (any phase but Pending/Running).
    pub fn is_fulfilled(self) -> bool {
        !matches!(self, NodePhase::Pending | NodePhase::Running)
    }

    /// Failed or Error: the phases that fail a parent unless tolerated.
    pub fn is_failure(self) -> bool {
        matches!(self, NodePhase::Failed | NodePhase::Error)
    }
}

impl fmt::Display for NodePhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Kind of node (§12.2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NodeType {
    #[default]
    Pod,
    Container,
    #[serde(rename = "DAG")]
    Dag,
    Steps,
    StepGroup,
    TaskGroup,
    Retry,
    Skipped,
    Suspend,
    #[serde(rename = "HTTP")]
    Http,
    Plugin,
}

impl NodeType {
    /// Argo's spelling of the type.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeType::Pod => "Pod",
            NodeType::Container => "Container",
            NodeType::Dag => "DAG",
            NodeType::Steps => "Steps",
            NodeType::StepGroup => "StepGroup",
            NodeType::TaskGroup => "TaskGroup",
            NodeType::Retry => "Retry",
            NodeType::Skipped => "Skipped",
            NodeType::Suspend => "Suspend",
            NodeType::Http => "HTTP",
            NodeType::Plugin => "Plugin",
        }
    }
}

impl fmt::Display for NodeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `status` of a Workflow.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowStatus {
    #[serde(default)]
    pub phase: WorkflowPhase,
    /// RFC 3339, UTC, second precision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    /// `completed pods/all pods`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Keyed by node ID.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub nodes: BTreeMap<String, NodeStatus>,
    /// Global outputs (`globalName`), §6.4.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outputs: Option<NodeOutputs>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}

impl WorkflowStatus {
    /// The node with this full name, if any.
    pub fn node_named(&self, name: &str) -> Option<&NodeStatus> {
        self.nodes.values().find(|n| n.name == name)
    }
}

/// A workflow condition (`PodRunning`, `Completed`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Condition {
    #[serde(rename = "type")]
    pub condition_type: String,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// One entry of `status.nodes`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeStatus {
    pub id: String,
    pub name: String,
    pub display_name: String,
    #[serde(rename = "type")]
    pub node_type: NodeType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_scope: Option<String>,
    #[serde(default)]
    pub phase: NodePhase,
    #[serde(
        default,
        rename = "boundaryID",
        skip_serializing_if = "Option::is_none"
    )]
    pub boundary_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outbound_nodes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inputs: Option<NodeInputs>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outputs: Option<NodeOutputs>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_node_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_flag: Option<NodeFlag>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources_duration: Option<BTreeMap<String, i64>>,
}

/// Resolved inputs of a node.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeInputs {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<Parameter>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub artifacts: Vec<Artifact>,
}

/// Outputs of a node (§6.3), or the workflow's global outputs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeOutputs {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<Parameter>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub artifacts: Vec<Artifact>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<String>,
}

impl NodeOutputs {
    /// Whether nothing was produced.
    pub fn is_empty(&self) -> bool {
        self.parameters.is_empty()
            && self.artifacts.is_empty()
            && self.result.is_none()
            && self.exit_code.is_none()
    }

    /// The value of an output parameter.
    pub fn parameter(&self, name: &str) -> Option<&str> {
        self.parameters
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| p.value.as_deref())
    }
}

/// Why a node exists beyond the graph: a hook, or an attempt of a retried node.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeFlag {
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hooked: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub retried: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_worked_example_of_the_semantics() {
        let json = r#"{"phase":"Succeeded","nodes":{
            "diamond-x7k2p-4111054565":{"id":"diamond-x7k2p-4111054565","name":"diamond-x7k2p.B(0)",
              "displayName":"B(0)","type":"Pod","phase":"Failed","message":"Error (exit code 1)",
              "boundaryID":"diamond-x7k2p","nodeFlag":{"retried":true}},
            "diamond-x7k2p":{"id":"diamond-x7k2p","name":"diamond-x7k2p","displayName":"diamond-x7k2p",
              "type":"DAG","templateName":"main","phase":"Succeeded",
              "children":["diamond-x7k2p-3240103891"],"outboundNodes":["diamond-x7k2p-3909870232"]}}}"#;
        let status: WorkflowStatus = serde_json::from_str(json).expect("parses");
        assert_eq!(status.phase, WorkflowPhase::Succeeded);
        let attempt = status.node_named("diamond-x7k2p.B(0)").expect("attempt");
        assert_eq!(attempt.phase, NodePhase::Failed);
        assert_eq!(attempt.boundary_id.as_deref(), Some("diamond-x7k2p"));
        assert!(attempt.node_flag.as_ref().is_some_and(|f| f.retried));
        let root = &status.nodes["diamond-x7k2p"];
        assert_eq!(root.node_type, NodeType::Dag);
        let back = serde_json::to_value(&status).expect("serializes");
        assert_eq!(back["nodes"]["diamond-x7k2p"]["type"], "DAG");
        assert_eq!(
            back["nodes"]["diamond-x7k2p-4111054565"]["boundaryID"],
            "diamond-x7k2p"
        );
    }

    #[test]
    fn empty_phase_is_unknown() {
        let status: WorkflowStatus = serde_json::from_str(r#"{"phase":""}"#).expect("parses");
        assert_eq!(status.phase, WorkflowPhase::Unknown);
        assert!(!status.phase.is_completed());
    }
}
