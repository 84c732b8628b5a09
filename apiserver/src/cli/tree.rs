//! The nodes of a status as a tree, and its text: shared by the live view, the plain
//! progress lines and the final table, so all three name and order nodes alike.
//!
//! The hierarchy comes from node names, not `children`: Argo's `children` link a DAG task
//! to the tasks that depend on it (a graph, not a tree), while names nest exactly as
//! templates do (`wf.sub.A`, `wf.B(1)`, `wf[0].step`).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use kfp::argo::{NodePhase, NodeStatus, NodeType, WorkflowStatus};

/// One node in display order.
#[derive(Debug, Clone)]
pub struct Row<'a> {
    pub node: &'a NodeStatus,
    /// Box-drawing characters before the node (empty for a root).
    pub prefix: String,
    /// Display names from below the root down to this node, joined by `/` (the root's
    /// own display name for the root): how a plain line names a node.
    pub path: String,
}

/// The rows of every node, depth first; siblings by start time, then name.
/// StepGroup nodes (`[0]`, `[1]`, ...) are left out and their steps shown in their place:
/// the order of the groups already says which steps ran together.
pub fn rows(status: &WorkflowStatus) -> Vec<Row<'_>> {
    let by_name: HashMap<&str, &NodeStatus> = status
        .nodes
        .values()
        .map(|n| (n.name.as_str(), n))
        .collect();
    let mut children: HashMap<&str, Vec<&NodeStatus>> = HashMap::new();
    let mut roots = Vec::new();
    for node in status.nodes.values() {
        match parent(&node.name, &by_name) {
            Some(p) => children.entry(p.id.as_str()).or_default().push(node),
            None => roots.push(node),
        }
    }
    for list in children.values_mut() {
        list.sort_by(|a, b| order(a).cmp(&order(b)));
    }
    roots.sort_by(|a, b| order(a).cmp(&order(b)));
    let mut out = Vec::new();
    for root in roots {
        out.push(Row {
            node: root,
            prefix: String::new(),
            path: root.display_name.clone(),
        });
        walk(root, "", "", &children, &mut out);
    }
    out
}

/// The existing node whose name is the longest proper prefix of `name` followed by `.`,
/// `(` or `[`.
fn parent<'a>(name: &str, by_name: &HashMap<&str, &'a NodeStatus>) -> Option<&'a NodeStatus> {
    name.char_indices()
        .rev()
        .filter(|(_, c)| matches!(c, '.' | '(' | '['))
        .find_map(|(i, _)| by_name.get(&name[..i]).copied())
}

fn order(node: &NodeStatus) -> (bool, Option<&str>, &str) {
    (
        node.started_at.is_none(),
        node.started_at.as_deref(),
        node.name.as_str(),
    )
}

/// Children of `id` with StepGroups replaced by their own children.
fn visible<'a>(id: &str, children: &HashMap<&str, Vec<&'a NodeStatus>>) -> Vec<&'a NodeStatus> {
    let mut out = Vec::new();
    for child in children.get(id).into_iter().flatten() {
        if child.node_type == NodeType::StepGroup {
            out.extend(visible(&child.id, children));
        } else {
            out.push(child);
        }
    }
    out
}

fn walk<'a>(
    node: &'a NodeStatus,
    indent: &str,
    path: &str,
    children: &HashMap<&str, Vec<&'a NodeStatus>>,
    out: &mut Vec<Row<'a>>,
) {
    let kids = visible(&node.id, children);
    let count = kids.len();
    for (i, child) in kids.into_iter().enumerate() {
        let last = i + 1 == count;
        let child_path = if path.is_empty() {
            child.display_name.clone()
        } else {
            format!("{path}/{}", child.display_name)
        };
        out.push(Row {
            node: child,
            prefix: format!("{indent}{}", if last { "└─ " } else { "├─ " }),
            path: child_path.clone(),
        });
        let deeper = format!("{indent}{}", if last { "   " } else { "│  " });
        walk(child, &deeper, &child_path, children, out);
    }
}

/// The symbol of a phase, so a failure stands out in a long tree.
pub fn symbol(phase: NodePhase) -> char {
    match phase {
        NodePhase::Succeeded => '✔',
        NodePhase::Failed => '✖',
        NodePhase::Error => '⚠',
        NodePhase::Running => '●',
        NodePhase::Pending => '◷',
        NodePhase::Skipped | NodePhase::Omitted => '○',
    }
}

/// The text of `rows`, one line each: `symbol name  phase  duration  [message]`, the
/// message only for failed nodes. With `cap`, at most that many lines: the first row
/// (the workflow) and the most recently active nodes, in tree order, then a line saying
/// how many were left out.
pub fn render(rows: &[Row<'_>], now: DateTime<Utc>, cap: Option<usize>) -> String {
    let shown = select(rows, cap);
    let left: Vec<String> = shown
        .iter()
        .map(|r| {
            format!(
                "{}{} {}",
                r.prefix,
                symbol(r.node.phase),
                r.node.display_name
            )
        })
        .collect();
    let width = left.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let mut text = String::new();
    for (row, left) in shown.iter().zip(&left) {
        let pad = width - left.chars().count();
        let line = format!(
            "{left}{:pad$}  {:<9}  {}",
            "",
            row.node.phase.as_str(),
            node_duration(row.node, now)
                .map(format_duration)
                .unwrap_or_default()
        );
        text.push_str(line.trim_end());
        if row.node.phase.is_failure()
            && let Some(message) = &row.node.message
        {
            text.push_str("  ");
            text.push_str(message);
        }
        text.push('\n');
    }
    if shown.len() < rows.len() {
        text.push_str(&format!(
            "… {} more nodes not shown\n",
            rows.len() - shown.len()
        ));
    }
    text
}

fn select<'r, 'a>(rows: &'r [Row<'a>], cap: Option<usize>) -> Vec<&'r Row<'a>> {
    let Some(cap) = cap.filter(|&c| rows.len() > c) else {
        return rows.iter().collect();
    };
    // Running nodes are the most recent of all; otherwise the latest stamp wins, and
    // later rows win ties.
    fn recency<'a>(r: &Row<'a>) -> (bool, &'a str) {
        let stamp = r
            .node
            .finished_at
            .as_deref()
            .or(r.node.started_at.as_deref());
        (r.node.phase == NodePhase::Running, stamp.unwrap_or(""))
    }
    let mut ranked: Vec<usize> = (1..rows.len()).collect();
    ranked.sort_by(|&a, &b| recency(&rows[b]).cmp(&recency(&rows[a])).then(b.cmp(&a)));
    let mut keep: Vec<usize> = ranked.into_iter().take(cap.saturating_sub(2)).collect();
    keep.push(0);
    keep.sort_unstable();
    keep.into_iter().map(|i| &rows[i]).collect()
}

/// From `startedAt` to `finishedAt`, or to `now` while it runs.
pub fn node_duration(node: &NodeStatus, now: DateTime<Utc>) -> Option<chrono::Duration> {
    span(node.started_at.as_deref(), node.finished_at.as_deref(), now)
}

/// The time between two RFC 3339 stamps, the end being `now` when missing.
pub fn span(
    start: Option<&str>,
    end: Option<&str>,
    now: DateTime<Utc>,
) -> Option<chrono::Duration> {
    let start = DateTime::parse_from_rfc3339(start?).ok()?;
    let end = match end {
        Some(end) => DateTime::parse_from_rfc3339(end).ok()?.with_timezone(&Utc),
        None => now,
    };
    Some((end - start.with_timezone(&Utc)).max(chrono::Duration::zero()))
}

/// `45s`, `2m5s`, `1h2m3s`: whole seconds, as Argo's CLI shows them.
pub fn format_duration(d: chrono::Duration) -> String {
    let secs = d.num_seconds().max(0);
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m{s}s"),
        _ => format!("{h}h{m}m{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, node_type: NodeType, phase: NodePhase, started: &str) -> NodeStatus {
        let display = name.rsplit(['.']).next().unwrap_or(name).to_owned();
        NodeStatus {
            id: format!("id-{name}"),
            name: name.to_owned(),
            display_name: display,
            node_type,
            phase,
            started_at: Some(started.to_owned()),
            ..NodeStatus::default()
        }
    }

    fn status(nodes: Vec<NodeStatus>) -> WorkflowStatus {
        WorkflowStatus {
            nodes: nodes.into_iter().map(|n| (n.id.clone(), n)).collect(),
            ..WorkflowStatus::default()
        }
    }

    const T0: &str = "2024-01-01T00:00:00Z";
    const T1: &str = "2024-01-01T00:00:01Z";
    const T2: &str = "2024-01-01T00:00:02Z";

    #[test]
    fn nests_by_name_and_orders_by_start_then_name() {
        let s = status(vec![
            node("wf", NodeType::Dag, NodePhase::Running, T0),
            node("wf.b", NodeType::Pod, NodePhase::Running, T1),
            node("wf.a", NodeType::Retry, NodePhase::Running, T2),
            node("wf.a(0)", NodeType::Pod, NodePhase::Failed, T2),
            node("wf.c", NodeType::Pod, NodePhase::Succeeded, T1),
        ]);
        let rows = rows(&s);
        let names: Vec<(&str, &str)> = rows
            .iter()
            .map(|r| (r.prefix.as_str(), r.path.as_str()))
            .collect();
        assert_eq!(
            names,
            vec![
                ("", "wf"),
                ("├─ ", "b"),
                ("├─ ", "c"),
                ("└─ ", "a"),
                ("   └─ ", "a/a(0)"),
            ]
        );
    }

    #[test]
    fn step_groups_are_replaced_by_their_steps() {
        let s = status(vec![
            node("wf", NodeType::Steps, NodePhase::Running, T0),
            node("wf[0]", NodeType::StepGroup, NodePhase::Succeeded, T0),
            node("wf[0].one", NodeType::Pod, NodePhase::Succeeded, T0),
            node("wf[1]", NodeType::StepGroup, NodePhase::Running, T1),
            node("wf[1].two", NodeType::Pod, NodePhase::Running, T1),
        ]);
        let paths: Vec<String> = rows(&s).into_iter().map(|r| r.path).collect();
        assert_eq!(paths, vec!["wf", "one", "two"]);
    }

    #[test]
    fn renders_columns_and_the_message_of_failures() {
        let mut failed = node("wf.bad", NodeType::Pod, NodePhase::Failed, T0);
        failed.finished_at = Some(T2.to_owned());
        failed.message = Some("Error (exit code 3)".to_owned());
        let s = status(vec![
            node("wf", NodeType::Dag, NodePhase::Running, T0),
            failed,
        ]);
        let now = DateTime::parse_from_rfc3339("2024-01-01T00:01:05Z")
            .expect("time")
            .with_timezone(&Utc);
        let text = render(&rows(&s), now, None);
        assert_eq!(
            text,
            "● wf      Running    1m5s\n└─ ✖ bad  Failed     2s  Error (exit code 3)\n"
        );
    }

    #[test]
    fn a_cap_keeps_the_workflow_and_the_latest_nodes() {
        let mut nodes = vec![node("wf", NodeType::Dag, NodePhase::Running, T0)];
        for i in 0..10 {
            let mut n = node(&format!("wf.t{i}"), NodeType::Pod, NodePhase::Succeeded, T0);
            n.finished_at = Some(format!("2024-01-01T00:00:{:02}Z", 10 + i));
            nodes.push(n);
        }
        let s = status(nodes);
        let text = render(&rows(&s), Utc::now(), Some(5));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5, "{text}");
        assert!(lines[0].contains("wf"));
        assert!(lines[1].contains("t7") && lines[3].contains("t9"), "{text}");
        assert_eq!(lines[4], "… 7 more nodes not shown");
    }

    #[test]
    fn durations_read_like_argo() {
        assert_eq!(format_duration(chrono::Duration::seconds(0)), "0s");
        assert_eq!(format_duration(chrono::Duration::seconds(125)), "2m5s");
        assert_eq!(format_duration(chrono::Duration::seconds(3723)), "1h2m3s");
    }
}
