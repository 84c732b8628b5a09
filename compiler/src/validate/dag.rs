//! The dependency graph of one DAG template: `depends`/`dependencies` resolution,
//! cycle detection, `target` names, and the ancestor relation that decides which
//! `{{tasks.X...}}` a task may use (ARGO-SEMANTICS.md §3.3, §4.1).

use super::Issues;
use super::depends;
use super::model::{is_set, list, str_field};
use super::path::Loc;
use petgraph::algo::{tarjan_scc, toposort};
use petgraph::graph::{DiGraph, NodeIndex};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// One task of a DAG.
#[derive(Debug)]
pub(crate) struct Task<'a> {
    pub obj: &'a Map<String, Value>,
    pub name: Option<&'a str>,
    /// Indices of the tasks it depends on (existing ones only).
    pub deps: Vec<usize>,
}

impl Task<'_> {
    /// Whether the task is expanded by `withItems`/`withParam`/`withSequence`.
    pub(crate) fn is_loop(&self) -> bool {
        is_loop(self.obj)
    }
}

/// Whether a step or task object loops.
pub(crate) fn is_loop(obj: &Map<String, Value>) -> bool {
    is_set(obj, "withItems")
        || str_field(obj, "withParam").is_some_and(|s| !s.is_empty())
        || is_set(obj, "withSequence")
}

/// Above this many tasks, ancestry is answered by search instead of bitsets.
const BITSET_LIMIT: usize = 8192;

/// Ancestor sets of every task.
#[derive(Debug)]
enum Ancestry {
    /// `words` u64 per task, task `t`'s set at `t * words`.
    Bits { words: usize, bits: Vec<u64> },
    /// Graph too big for bitsets: search on demand.
    Search,
}

/// A DAG template's tasks and their graph.
#[derive(Debug)]
pub(crate) struct Dag<'a> {
    /// Tasks in document order; `None` for entries that are not objects.
    pub tasks: Vec<Option<Task<'a>>>,
    /// First task of each name.
    pub by_name: HashMap<&'a str, usize>,
    /// `None` when the graph has a cycle (ancestry is then not checked).
    ancestry: Option<Ancestry>,
}

impl<'a> Dag<'a> {
    /// Builds the graph of the DAG in `dag` (the template's `dag` object), reporting
    /// unknown or unparsable dependencies, mixed `depends`/`dependencies`, cycles
    /// and bad targets.
    pub(crate) fn analyze(dag: &'a Map<String, Value>, loc: &Loc<'_>, issues: &mut Issues) -> Self {
        let tasks_v = list(dag, "tasks");
        let tasks_loc = loc.key("tasks");
        let mut tasks: Vec<Option<Task<'a>>> = tasks_v
            .iter()
            .map(|v| {
                v.as_object().map(|obj| Task {
                    obj,
                    name: str_field(obj, "name"),
                    deps: Vec::new(),
                })
            })
            .collect();
        let mut by_name = HashMap::with_capacity(tasks.len());
        for (i, t) in tasks.iter().enumerate() {
            if let Some(name) = t.as_ref().and_then(|t| t.name) {
                by_name.entry(name).or_insert(i);
            }
        }
        let uses_depends = tasks
            .iter()
            .flatten()
            .any(|t| str_field(t.obj, "depends").is_some_and(|d| !d.trim().is_empty()));
        let uses_dependencies = tasks
            .iter()
            .flatten()
            .any(|t| !list(t.obj, "dependencies").is_empty());

        for (i, tv) in tasks_v.iter().enumerate() {
            let Some(task) = tasks[i].as_ref() else {
                continue;
            };
            let obj = task.obj;
            let tl = tasks_loc.index(i, tv);
            let mut deps = Vec::new();
            let dependencies = list(obj, "dependencies");
            if uses_depends && !dependencies.is_empty() {
                issues.push(
                    &tl.key("dependencies"),
                    "this DAG uses `depends`; a DAG template may use either `depends` or \
                     `dependencies` in its tasks, not both",
                );
            }
            if uses_depends && is_set(obj, "continueOn") {
                issues.push(
                    &tl.key("continueOn"),
                    "`continueOn` cannot be used in a DAG that uses `depends`; \
                     write `<task>.Failed`/`<task>.Errored` in the expression instead",
                );
            }
            if (uses_depends || uses_dependencies)
                && task
                    .name
                    .is_some_and(|n| n.starts_with(|c: char| c.is_ascii_digit()))
            {
                issues.push(
                    &tl.key("name"),
                    "task names may not start with a digit in a DAG that uses \
                     `depends` or `dependencies`",
                );
            }
            let dl = tl.key("dependencies");
            for (j, d) in dependencies.iter().enumerate() {
                let Some(name) = d.as_str() else { continue };
                match by_name.get(name) {
                    Some(&k) => deps.push(k),
                    None => issues.push(
                        &dl.index(j, d),
                        format!("dependency `{name}` is not a task of this DAG"),
                    ),
                }
            }
            if let Some(expr) = str_field(obj, "depends").filter(|d| !d.trim().is_empty()) {
                let el = tl.key("depends");
                match depends::parse(expr) {
                    Err(e) => issues.push(&el, format!("cannot parse `depends: {expr}`: {e}")),
                    Ok(ops) => {
                        for op in ops {
                            match by_name.get(op.name) {
                                None => issues.push(
                                    &el,
                                    format!(
                                        "`depends` names `{}`, which is not a task of this DAG",
                                        op.name
                                    ),
                                ),
                                Some(&k) => {
                                    if op.needs_items()
                                        && !tasks[k].as_ref().is_some_and(Task::is_loop)
                                    {
                                        issues.push(
                                            &el,
                                            format!(
                                                "`{}.{}` needs `{}` to loop (withItems/withParam/withSequence)",
                                                op.name,
                                                op.result.unwrap_or_default(),
                                                op.name
                                            ),
                                        );
                                    }
                                    deps.push(k);
                                }
                            }
                        }
                    }
                }
            }
            deps.sort_unstable();
            deps.dedup();
            if let Some(t) = tasks[i].as_mut() {
                t.deps = deps;
            }
        }

        if let Some(target) = str_field(dag, "target") {
            for name in target.split_whitespace() {
                if !name.contains("{{") && !by_name.contains_key(name) {
                    issues.push(
                        &loc.key("target"),
                        format!("target `{name}` is not a task of this DAG"),
                    );
                }
            }
        }

        let mut dag = Dag {
            tasks,
            by_name,
            ancestry: None,
        };
        dag.ancestry = dag.graph_checks(tasks_v, &tasks_loc, issues);
        dag
    }

    /// Reports cycles; returns the ancestor sets when there are none.
    fn graph_checks(
        &self,
        tasks_v: &'a [Value],
        tasks_loc: &Loc<'_>,
        issues: &mut Issues,
    ) -> Option<Ancestry> {
        let n = self.tasks.len();
        let mut g: DiGraph<(), ()> = DiGraph::with_capacity(n, n);
        for _ in 0..n {
            g.add_node(());
        }
        for (i, t) in self.tasks.iter().enumerate() {
            for &d in t.iter().flat_map(|t| &t.deps) {
                g.add_edge(NodeIndex::new(d), NodeIndex::new(i), ());
            }
        }
        let order = match toposort(&g, None) {
            Ok(order) => order,
            Err(_) => {
                for scc in tarjan_scc(&g) {
                    let first = scc.iter().map(|n| n.index()).min().unwrap_or_default();
                    let self_loop = scc.len() == 1 && g.contains_edge(scc[0], scc[0]);
                    if scc.len() < 2 && !self_loop {
                        continue;
                    }
                    let cycle = self.cycle_from(first, &scc);
                    if let Some(tv) = tasks_v.get(first) {
                        issues.push(
                            &tasks_loc.index(first, tv),
                            format!(
                                "dependency cycle: {} (each task depends on the next)",
                                cycle.join(" -> ")
                            ),
                        );
                    }
                }
                return None;
            }
        };
        if n > BITSET_LIMIT {
            return Some(Ancestry::Search);
        }
        let words = n.div_ceil(64);
        let mut bits = vec![0u64; words * n];
        for node in order {
            let t = node.index();
            let Some(task) = &self.tasks[t] else { continue };
            for &d in &task.deps {
                // anc[t] |= anc[d] | {d}; d precedes t in topological order.
                for w in 0..words {
                    let v = bits[d * words + w];
                    bits[t * words + w] |= v;
                }
                bits[t * words + d / 64] |= 1 << (d % 64);
            }
        }
        Some(Ancestry::Bits { words, bits })
    }

    /// Names along one cycle inside the strongly connected component `scc`, starting
    /// at `start` and following dependencies.
    fn cycle_from(&self, start: usize, scc: &[NodeIndex]) -> Vec<String> {
        let in_scc = |i: usize| scc.iter().any(|n| n.index() == i);
        let mut seen: Vec<usize> = vec![start];
        let mut cur = start;
        loop {
            let next = self.tasks[cur]
                .as_ref()
                .and_then(|t| t.deps.iter().copied().find(|&d| in_scc(d)));
            let Some(next) = next else { break };
            if let Some(pos) = seen.iter().position(|&s| s == next) {
                seen.drain(..pos);
                seen.push(next);
                break;
            }
            seen.push(next);
            cur = next;
        }
        seen.iter().map(|&i| self.display_name(i)).collect()
    }

    fn display_name(&self, i: usize) -> String {
        self.tasks[i]
            .as_ref()
            .and_then(|t| t.name)
            .map_or_else(|| format!("#{i}"), str::to_string)
    }

    /// Whether task `anc` is a (transitive) dependency of task `of`. Answers `true`
    /// when the graph has a cycle, which is reported separately.
    pub(crate) fn is_ancestor(&self, anc: usize, of: usize) -> bool {
        match &self.ancestry {
            None => true,
            Some(Ancestry::Bits { words, bits }) => bits
                .get(of * words + anc / 64)
                .is_some_and(|w| w & (1 << (anc % 64)) != 0),
            Some(Ancestry::Search) => {
                let mut seen = vec![false; self.tasks.len()];
                let mut stack = vec![of];
                while let Some(t) = stack.pop() {
                    for &d in self.tasks[t].iter().flat_map(|t| &t.deps) {
                        if d == anc {
                            return true;
                        }
                        if !seen[d] {
                            seen[d] = true;
                            stack.push(d);
                        }
                    }
                }
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn analyze(dag: &Value) -> (Vec<String>, Vec<(usize, usize, bool)>) {
        let mut issues = Issues::default();
        let obj = dag.as_object().cloned().unwrap_or_default();
        let d = Dag::analyze(&obj, &Loc::ROOT.key("dag"), &mut issues);
        let n = d.tasks.len();
        let mut rel = Vec::new();
        for a in 0..n {
            for b in 0..n {
                rel.push((a, b, d.is_ancestor(a, b)));
            }
        }
        (
            issues
                .into_vec()
                .into_iter()
                .map(|i| format!("{}: {}", i.path, i.message))
                .collect(),
            rel,
        )
    }

    #[test]
    fn ancestry_is_transitive() {
        let (issues, rel) = analyze(&json!({"tasks": [
            {"name": "a"}, {"name": "b", "depends": "a"}, {"name": "c", "dependencies": []},
            {"name": "d", "depends": "b.Succeeded || c"}
        ]}));
        assert!(issues.is_empty(), "{issues:?}");
        assert!(rel.contains(&(0, 3, true)));
        assert!(rel.contains(&(1, 3, true)));
        assert!(rel.contains(&(2, 3, true)));
        assert!(rel.contains(&(2, 1, false)));
        assert!(rel.contains(&(3, 0, false)));
    }

    #[test]
    fn reports_cycles_and_unknown_names() {
        let (issues, _) = analyze(&json!({"tasks": [
            {"name": "a", "depends": "b"}, {"name": "b", "depends": "a && zz"}
        ]}));
        assert!(issues.iter().any(|i| i.contains("zz")), "{issues:?}");
        assert!(
            issues
                .iter()
                .any(|i| i.starts_with("dag.tasks[0](name=a): dependency cycle: a -> b -> a")),
            "{issues:?}"
        );
        let (issues, _) = analyze(&json!({"tasks": [{"name": "a", "dependencies": ["a"]}]}));
        assert!(
            issues.iter().any(|i| i.contains("cycle: a -> a")),
            "{issues:?}"
        );
    }

    #[test]
    fn reports_mixed_styles_and_targets() {
        let (issues, _) = analyze(&json!({"target": "a nope", "tasks": [
            {"name": "a"}, {"name": "b", "depends": "a"},
            {"name": "c", "dependencies": ["a"], "continueOn": {"failed": true}},
            {"name": "d", "depends": "a.AnySucceeded"}
        ]}));
        let all = issues.join("\n");
        assert!(all.contains("target `nope`"), "{all}");
        assert!(all.contains("either `depends` or"), "{all}");
        assert!(all.contains("`continueOn` cannot"), "{all}");
        assert!(all.contains("needs `a` to loop"), "{all}");
    }
}
