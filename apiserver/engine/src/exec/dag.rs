//! DAG templates (§4): scheduling by `depends`, omission, phase by target branches,
//! outputs.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use kfp::argo::{DagTask, NodeOutputs, NodePhase, NodeType, Template};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::task::{self, Place, TaskView};
use super::{Call, close_node, default_outputs, fulfilled_node};
use crate::depends::{DepState, Depends};
use crate::run::{Ctx, NodeResult};
use crate::scope::{Refs, ResolvedInputs, Scope};

pub async fn run(ctx: Ctx, call: Call, template: Template, inputs: ResolvedInputs) -> NodeResult {
    let run = ctx.run.clone();
    let id = super::open_node(&ctx, &call, NodeType::Dag, &inputs);
    let Some(dag) = template.dag.as_ref() else {
        return close_node(
            &ctx,
            &id,
            NodePhase::Error,
            Some("not a DAG template".into()),
            NodeOutputs::default(),
            Vec::new(),
        );
    };
    let inner = Ctx {
        run: run.clone(),
        boundary_id: Some(id.clone()),
        parallelism: template
            .parallelism
            .filter(|n| *n > 0)
            .map(|n| Arc::new(Semaphore::new(usize::try_from(n).unwrap_or(1 << 20)))),
        exit_handler: ctx.exit_handler,
    };
    let graph = match Graph::new(&dag.tasks, dag.target.as_deref()) {
        Ok(g) => g,
        Err(message) => {
            return close_node(
                &ctx,
                &id,
                NodePhase::Error,
                Some(message),
                NodeOutputs::default(),
                Vec::new(),
            );
        }
    };
    let fail_fast = template.fail_fast == Some(true);
    let mut results: HashMap<String, NodeResult> = HashMap::new();
    let mut remaining = graph.waiting.clone();
    let mut ready: VecDeque<usize> = (0..dag.tasks.len())
        .filter(|&i| graph.needed[i] && remaining[i] == 0)
        .collect();
    let mut running = JoinSet::new();
    let mut stopped_by: Option<String> = None;
    loop {
        while let Some(i) = ready.pop_front() {
            let t = &dag.tasks[i];
            if let Some(halt) = run.halted(ctx.exit_handler) {
                stopped_by.get_or_insert_with(|| halt.message().to_owned());
                continue;
            }
            if stopped_by.is_some() {
                continue;
            }
            let parents = parents_of(&graph, i, &dag.tasks, &results, &id);
            let node_name = format!("{}.{}", call.name, t.name);
            let place = Place {
                node_name: &node_name,
                display_name: &t.name,
                parents: &parents,
                task_group: true,
            };
            let proceed = graph.depends[i]
                .as_ref()
                .is_none_or(|d| d.evaluate(&|name: &str| dep_state(&dag.tasks, &results, name)));
            if !proceed {
                let call = Call {
                    name: node_name.clone(),
                    display_name: t.name.clone(),
                    template: t.template.clone().unwrap_or_default(),
                    arguments: Default::default(),
                    hooked: false,
                };
                for p in &parents {
                    run.tracker
                        .add_child(p, &crate::naming::node_id(&run.name, &node_name));
                }
                let outputs = default_outputs(t.template.as_deref().and_then(|n| run.template(n)));
                let r = fulfilled_node(
                    &inner,
                    &call,
                    NodeType::Skipped,
                    NodePhase::Omitted,
                    "omitted: depends condition not met".into(),
                    Some(outputs),
                );
                complete(
                    i,
                    r,
                    &graph,
                    &dag.tasks,
                    &mut results,
                    &mut remaining,
                    &mut ready,
                );
                continue;
            }
            let refs = Refs {
                kind: "tasks",
                results: &results,
            };
            let prepared = task::prepare(&inner, TaskView::from(t), place, &inputs, refs);
            let inner = inner.clone();
            running.spawn(async move { (i, task::execute(inner, prepared).await) });
        }
        let Some(joined) = running.join_next().await else {
            break;
        };
        let (i, r) = match joined {
            Ok(done) => done,
            Err(e) => {
                let message = format!("internal error in DAG '{}': {e}", call.name);
                return close_node(
                    &ctx,
                    &id,
                    NodePhase::Error,
                    Some(message),
                    NodeOutputs::default(),
                    Vec::new(),
                );
            }
        };
        if fail_fast && r.phase.is_failure() && stopped_by.is_none() {
            stopped_by =
                Some("template has failed or errored children and failFast enabled".into());
        }
        complete(
            i,
            r,
            &graph,
            &dag.tasks,
            &mut results,
            &mut remaining,
            &mut ready,
        );
    }
    let outbound: Vec<String> = graph
        .targets
        .iter()
        .filter_map(|&i| results.get(&dag.tasks[i].name))
        .flat_map(|r| r.outbound.iter().cloned())
        .collect();
    let all_ran =
        (0..dag.tasks.len()).all(|i| !graph.needed[i] || results.contains_key(&dag.tasks[i].name));
    if let Some((phase, message)) = failed_branch(&graph, &dag.tasks, &results) {
        return close_node(
            &ctx,
            &id,
            phase,
            Some(message),
            NodeOutputs::default(),
            outbound,
        );
    }
    if !all_ran {
        let message = stopped_by.unwrap_or_else(|| "not every task of the DAG could run".into());
        return close_node(
            &ctx,
            &id,
            NodePhase::Failed,
            Some(message),
            NodeOutputs::default(),
            outbound,
        );
    }
    let scope = Scope::new(&run, &call.name)
        .with_inputs(&inputs)
        .with_refs(Refs {
            kind: "tasks",
            results: &results,
        });
    match super::steps::template_outputs(&scope, &template) {
        Ok(outputs) => {
            run.export_globals(&template, &outputs);
            close_node(&ctx, &id, NodePhase::Succeeded, None, outputs, outbound)
        }
        Err(message) => close_node(
            &ctx,
            &id,
            NodePhase::Error,
            Some(message),
            NodeOutputs::default(),
            outbound,
        ),
    }
}

/// Dependencies, dependents and targets of a DAG's tasks.
struct Graph {
    depends: Vec<Option<Depends>>,
    /// Names each task's expression mentions, as indexes.
    deps: Vec<Vec<usize>>,
    dependents: Vec<Vec<usize>>,
    /// How many distinct dependencies are not yet fulfilled.
    waiting: Vec<usize>,
    targets: Vec<usize>,
    /// Targets and their ancestors: the only tasks that run.
    needed: Vec<bool>,
}

impl Graph {
    fn new(tasks: &[DagTask], target: Option<&str>) -> Result<Self, String> {
        let index: HashMap<&str, usize> = tasks
            .iter()
            .enumerate()
            .map(|(i, t)| (t.name.as_str(), i))
            .collect();
        let mut depends = Vec::with_capacity(tasks.len());
        let mut deps = Vec::with_capacity(tasks.len());
        for t in tasks {
            let parsed = match (&t.depends, t.dependencies.is_empty()) {
                (Some(expr), _) => Some(
                    Depends::parse(expr)
                        .map_err(|e| format!("task '{}': depends '{expr}': {e}", t.name))?,
                ),
                (None, false) => Some(Depends::from_dependencies(&t.dependencies)),
                (None, true) => None,
            };
            let mut names: Vec<usize> = Vec::new();
            if let Some(d) = &parsed {
                for name in d.names() {
                    let Some(&j) = index.get(name) else {
                        return Err(format!(
                            "task '{}' depends on '{name}', which is not a task of this DAG",
                            t.name
                        ));
                    };
                    if !names.contains(&j) {
                        names.push(j);
                    }
                }
            }
            depends.push(parsed);
            deps.push(names);
        }
        let mut dependents = vec![Vec::new(); tasks.len()];
        for (i, ds) in deps.iter().enumerate() {
            for &d in ds {
                dependents[d].push(i);
            }
        }
        let targets: Vec<usize> = match target.map(str::trim).filter(|t| !t.is_empty()) {
            Some(list) => list
                .split_whitespace()
                .map(|name| {
                    index
                        .get(name)
                        .copied()
                        .ok_or_else(|| format!("target '{name}' is not a task of this DAG"))
                })
                .collect::<Result<_, _>>()?,
            None => (0..tasks.len())
                .filter(|&i| dependents[i].is_empty())
                .collect(),
        };
        let mut needed = vec![false; tasks.len()];
        let mut stack = targets.clone();
        while let Some(i) = stack.pop() {
            if !needed[i] {
                needed[i] = true;
                stack.extend(deps[i].iter().copied());
            }
        }
        if has_cycle(&deps) {
            return Err("the DAG's dependencies form a cycle".into());
        }
        let waiting = deps.iter().map(Vec::len).collect();
        Ok(Graph {
            depends,
            deps,
            dependents,
            waiting,
            targets,
            needed,
        })
    }
}

fn has_cycle(deps: &[Vec<usize>]) -> bool {
    let mut indegree: Vec<usize> = deps.iter().map(Vec::len).collect();
    let mut dependents = vec![Vec::new(); deps.len()];
    for (i, ds) in deps.iter().enumerate() {
        for &d in ds {
            dependents[d].push(i);
        }
    }
    let mut queue: Vec<usize> = (0..deps.len()).filter(|&i| indegree[i] == 0).collect();
    let mut seen = 0;
    while let Some(i) = queue.pop() {
        seen += 1;
        for &j in &dependents[i] {
            indegree[j] -= 1;
            if indegree[j] == 0 {
                queue.push(j);
            }
        }
    }
    seen != deps.len()
}

fn complete(
    i: usize,
    r: NodeResult,
    graph: &Graph,
    tasks: &[DagTask],
    results: &mut HashMap<String, NodeResult>,
    remaining: &mut [usize],
    ready: &mut VecDeque<usize>,
) {
    results.insert(tasks[i].name.clone(), r);
    for &j in &graph.dependents[i] {
        remaining[j] = remaining[j].saturating_sub(1);
        if remaining[j] == 0 && graph.needed[j] {
            ready.push_back(j);
        }
    }
}

fn dep_state(tasks: &[DagTask], results: &HashMap<String, NodeResult>, name: &str) -> DepState {
    let Some(r) = results.get(name) else {
        return DepState::new(NodePhase::Pending);
    };
    let continue_on = tasks
        .iter()
        .find(|t| t.name == name)
        .and_then(|t| t.continue_on.as_ref());
    DepState {
        phase: r.phase,
        daemoned: false,
        continue_on_error: continue_on.and_then(|c| c.error) == Some(true),
        continue_on_failed: continue_on.and_then(|c| c.failed) == Some(true),
        loop_children: r.iterations.clone(),
    }
}

/// Edges into task `i`: the DAG node for a root task, else the outbound nodes of each
/// dependency.
fn parents_of(
    graph: &Graph,
    i: usize,
    tasks: &[DagTask],
    results: &HashMap<String, NodeResult>,
    dag_id: &str,
) -> Vec<String> {
    if graph.deps[i].is_empty() {
        return vec![dag_id.to_owned()];
    }
    let mut parents = Vec::new();
    for &d in &graph.deps[i] {
        if let Some(r) = results.get(&tasks[d].name) {
            for o in &r.outbound {
                if !parents.contains(o) {
                    parents.push(o.clone());
                }
            }
        }
    }
    parents
}

/// Argo's assessment (§4.2): a target's branch phase is its own phase when it completed,
/// else the failure (if any) of the branches leading to it. A failed branch fails the
/// DAG unless the target continues on that phase.
fn failed_branch(
    graph: &Graph,
    tasks: &[DagTask],
    results: &HashMap<String, NodeResult>,
) -> Option<(NodePhase, String)> {
    let mut memo: HashMap<usize, NodePhase> = HashMap::new();
    let mut seen = HashSet::new();
    let mut failure = None;
    for &t in &graph.targets {
        let Some(r) = results.get(&tasks[t].name) else {
            continue;
        };
        let phase = branch_phase(t, graph, tasks, results, &mut memo, &mut seen);
        if !phase.is_failure() {
            continue;
        }
        let continues = tasks[t].continue_on.as_ref().is_some_and(|c| match phase {
            NodePhase::Failed => c.failed == Some(true),
            _ => c.error == Some(true),
        });
        if !continues {
            let message = r
                .message
                .clone()
                .filter(|_| r.phase.is_failure())
                .map(|m| format!("child '{}' failed: {m}", r.id))
                .unwrap_or_else(|| format!("child '{}' failed", r.id));
            failure = Some((phase, message));
        }
    }
    failure
}

fn branch_phase(
    i: usize,
    graph: &Graph,
    tasks: &[DagTask],
    results: &HashMap<String, NodeResult>,
    memo: &mut HashMap<usize, NodePhase>,
    seen: &mut HashSet<usize>,
) -> NodePhase {
    if let Some(p) = memo.get(&i) {
        return *p;
    }
    let own = results.get(&tasks[i].name).map(|r| r.phase);
    let phase = match own {
        Some(p @ (NodePhase::Succeeded | NodePhase::Failed | NodePhase::Error)) => p,
        _ => {
            let mut inherited = NodePhase::Succeeded;
            if seen.insert(i) {
                for &d in &graph.deps[i] {
                    let p = branch_phase(d, graph, tasks, results, memo, seen);
                    if p.is_failure() {
                        inherited = p;
                    }
                }
            }
            inherited
        }
    };
    memo.insert(i, phase);
    phase
}
