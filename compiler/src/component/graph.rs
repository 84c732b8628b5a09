//! Graph components (`implementation.graph`) as sub-pipelines.
//!
//! A graph component is a task factory like any other: `component.task().arg(..)` makes
//! a [`TaskSpec`], and [`Pipeline::task`] turns it into a sub-pipeline task (a DAG
//! template with the graph's outputs). The sub-pipeline is built for the inputs the task
//! supplies, because KFP drops the arguments of an optional input that is not given:
//! an optional graph input without a default that the task omits is simply not passed
//! to the inner tasks, exactly as for a container component's placeholders.
//!
//! Inside, the graph's inputs are the pipeline's parameters (named with
//! [`param_name`], since KFP input names may contain spaces), its tasks are added in
//! dependency order, `isEnabled` becomes a condition around the task, and
//! `outputValues` become the pipeline's outputs, typed as the graph declares them.
//! Built sub-pipelines are cached per set of supplied inputs, so every task of the
//! same component shares one DAG template.

mod model;
mod wrap;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::{Arc, Mutex};

use petgraph::algo::{tarjan_scc, toposort};
use petgraph::graph::DiGraph;

pub use model::*;
pub use wrap::*;

use super::{
    Component, ComponentSpec, Configure, Implementation, InputSpec, TaskConfig, TypeSpec, Usage,
};
use crate::compile::{CACHE_STALENESS_ANNOTATION, k8s_name, param_name};
use crate::dsl::{CmpOp, Cond, Op, Pipeline, Task, TaskSpec, Value, ValueKind};

/// Sub-pipelines built from one graph, by the set of inputs supplied. Shared by clones of
/// the component (an `Arc`), so tasks made from the same loaded component reuse them.
#[derive(Clone, Default)]
pub(crate) struct Specializations(Arc<Mutex<Vec<Specialization>>>);

/// The inputs a task supplies, and the sub-pipeline built for them.
type Specialization = (BTreeSet<String>, Arc<Pipeline>);

impl fmt::Debug for Specializations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.lock().map(|v| v.len()).unwrap_or_default();
        write!(f, "Specializations({n})")
    }
}

impl Specializations {
    fn get_or_build(
        &self,
        supplied: &BTreeSet<String>,
        build: impl FnOnce() -> Pipeline,
    ) -> Arc<Pipeline> {
        // A poisoned lock only means another thread panicked while building; the list
        // itself is always consistent, so keep using it.
        let mut built = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, p)) = built.iter().find(|(s, _)| s == supplied) {
            return Arc::clone(p);
        }
        let p = Arc::new(build());
        built.push((supplied.clone(), Arc::clone(&p)));
        p
    }
}

/// The parameter name of each input of `spec`: [`param_name`] of the input's name, made
/// unique. Pipeline parameters must be `[A-Za-z0-9_-]+`; KFP input names are free text.
pub fn input_param_names(spec: &ComponentSpec) -> BTreeMap<String, String> {
    let mut used = BTreeSet::new();
    let mut out = BTreeMap::new();
    for input in &spec.inputs {
        let base = param_name(&input.name);
        let mut name = base.clone();
        let mut n = 2;
        while !used.insert(name.clone()) {
            name = format!("{base}-{n}");
            n += 1;
        }
        out.insert(input.name.clone(), name);
    }
    out
}

/// The type of the pipeline parameter standing for `input`: the input's type, unless its
/// default is not a valid value of it (KFP's catalogue has `default: ''` on `Dict`
/// inputs, which KFP never checked); such a parameter is untyped rather than an error.
pub(crate) fn param_type(input: &InputSpec) -> Option<TypeSpec> {
    match (&input.type_spec, &input.default) {
        (Some(t), Some(d)) if t.check_constant(d).is_err() => None,
        (t, _) => t.clone(),
    }
}

/// The sub-pipeline a task of graph `component` runs when it supplies the inputs in
/// `supplied`; `None` if `component` is not a graph component.
pub fn graph_pipeline(component: &Component, supplied: &BTreeSet<String>) -> Option<Arc<Pipeline>> {
    let Implementation::Graph(graph) = &component.spec.implementation else {
        return None;
    };
    if component.config == TaskConfig::default() {
        Some(graph.built.get_or_build(supplied, || {
            build(component, graph, supplied, &TaskConfig::default())
        }))
    } else {
        Some(Arc::new(build(
            component,
            graph,
            supplied,
            &component.config,
        )))
    }
}

/// Called by [`Pipeline::task`] on every task: a task of a graph component becomes a
/// task of its sub-pipeline, with arguments renamed to the sub-pipeline's parameters.
/// Settings on the task (resources, retries, ...) apply to every task of the graph.
pub(crate) fn expand_graph_task(mut spec: TaskSpec) -> TaskSpec {
    let Op::Component(component) = &spec.op else {
        return spec;
    };
    if !matches!(component.spec.implementation, Implementation::Graph(_)) {
        return spec;
    }
    let component = Arc::clone(component);
    let supplied: BTreeSet<String> = spec
        .args
        .iter()
        .filter(|(name, _)| component.spec.input(name).is_some())
        .map(|(name, _)| name.clone())
        .collect();
    let settings = component.config.merged_with(&spec.config);
    let pipeline = if settings == TaskConfig::default() {
        graph_pipeline(&component, &supplied)
    } else {
        let mut configured = (*component).clone();
        configured.config = settings;
        graph_pipeline(&configured, &supplied)
    };
    let Some(pipeline) = pipeline else {
        return spec;
    };
    let names = input_param_names(&component.spec);
    for (name, _) in &mut spec.args {
        if let Some(param) = names.get(name.as_str()) {
            name.clone_from(param);
        }
    }
    spec.op = Op::Pipeline(pipeline);
    spec.config = TaskConfig::default();
    spec
}

/// Builds the sub-pipeline; mistakes are recorded on it and reported when compiling.
fn build(
    component: &Component,
    graph: &GraphImpl,
    supplied: &BTreeSet<String>,
    settings: &TaskConfig,
) -> Pipeline {
    let spec = &component.spec;
    let mut p = Pipeline::new(spec.name.clone());
    if let Some(d) = &spec.description {
        p.set_description(d.clone());
    }
    let names = input_param_names(spec);
    let mut inputs: BTreeMap<&str, Value> = BTreeMap::new();
    for input in &spec.inputs {
        let given = supplied.contains(&input.name) || input.default.is_some() || !input.optional;
        if !given {
            continue;
        }
        let value = p.param_value(
            names[&input.name].clone(),
            param_type(input),
            input.default.clone(),
            input.description.clone(),
        );
        inputs.insert(input.name.as_str(), value);
    }
    let order = match task_order(graph) {
        Ok(order) => order,
        Err(e) => {
            p.errors.push(e.to_string());
            return p;
        }
    };
    let mut tasks: BTreeMap<&str, Task> = BTreeMap::new();
    let mut task_names = BTreeSet::new();
    for id in order {
        let task = &graph.tasks[id];
        let Some(child) = &task.component_ref.spec else {
            p.errors.push(format!(
                "task {id:?}: its componentRef was not resolved to a spec (load the graph \
                 with `ComponentLoader` to resolve names and URLs)"
            ));
            continue;
        };
        let base = k8s_name(id, "task");
        let mut name = base.clone();
        let mut n = 2;
        while !task_names.insert(name.clone()) {
            name = format!("{base}-{n}");
            n += 1;
        }
        let mut ts = Component::from_spec((**child).clone()).task().name(name);
        ts.config = settings.clone();
        for (input, arg) in &task.arguments {
            match resolve(arg, &inputs, &tasks) {
                Ok(Some(value)) => ts = ts.arg(input.clone(), value),
                Ok(None) => {}
                Err(e) => p
                    .errors
                    .push(format!("task {id:?}, argument {input:?}: {e}")),
            }
        }
        if let Some(options) = &task.execution_options {
            if let Some(retry) = &options.retry_strategy {
                ts = ts.retries(retry.max_retries);
            }
            match options
                .caching_strategy
                .as_ref()
                .and_then(|c| c.max_cache_staleness.as_deref())
            {
                Some("P0D") => ts = ts.caching(false),
                Some(staleness) => ts = ts.pod_annotation(CACHE_STALENESS_ANNOTATION, staleness),
                None => {}
            }
        }
        let ts = expand_graph_task(ts);
        mark_file_params(&mut p, &ts);
        let handle = match &task.is_enabled {
            None => p.task(ts),
            Some(pred) => match condition(pred, &inputs, &tasks) {
                Ok(cond) => p.when(cond, |p| p.task(ts)),
                Err(e) => {
                    p.errors.push(format!("task {id:?}, isEnabled: {e}"));
                    p.task(ts)
                }
            },
        };
        tasks.insert(id.as_str(), handle);
    }
    for (name, arg) in &graph.output_values {
        let declared = spec.output(name).and_then(|o| o.type_spec.clone());
        match resolve(arg, &inputs, &tasks) {
            Ok(Some(value)) => {
                let ty = declared.or_else(|| value.type_spec().cloned());
                p.output(name.clone(), value.with_type(ty));
            }
            Ok(None) => p.errors.push(format!(
                "output {name:?} forwards an optional input that this task does not supply"
            )),
            Err(e) => p.errors.push(format!("output {name:?}: {e}")),
        }
    }
    p
}

/// Records the parameters of `p` that task `ts` reads as files: the sub-pipeline's DAG
/// template then takes them as input artifacts, so a parent can pass a task's file.
fn mark_file_params(p: &mut Pipeline, ts: &TaskSpec) {
    for (arg, value) in &ts.args {
        let ValueKind::Param { pipeline, name } = &value.kind else {
            continue;
        };
        if *pipeline != p.id {
            continue;
        }
        let as_file = match &ts.op {
            Op::Component(c) => {
                let mut found = false;
                c.spec.visit_usages(|u| found |= u == Usage::InputPath(arg));
                found
            }
            Op::Pipeline(sub) => sub.file_params.contains(arg),
        };
        if as_file {
            p.file_params.insert(name.clone());
        }
    }
}

/// The value an argument stands for; `None` for an optional graph input not supplied.
fn resolve(
    arg: &GraphArgument,
    inputs: &BTreeMap<&str, Value>,
    tasks: &BTreeMap<&str, Task>,
) -> Result<Option<Value>, String> {
    Ok(match arg {
        GraphArgument::Constant(text) => Some(Value::constant(text.clone())),
        GraphArgument::GraphInput(r) => {
            inputs
                .get(r.input_name.as_str())
                .map(|v| match &r.type_spec {
                    Some(t) => v.clone().with_type(Some(t.clone())),
                    None => v.clone(),
                })
        }
        GraphArgument::TaskOutput(r) => {
            let task = tasks
                .get(r.task_id.as_str())
                .ok_or_else(|| format!("there is no task {:?}", r.task_id))?;
            let value = task.output(&r.output_name);
            Some(match &r.type_spec {
                Some(t) => value.with_type(Some(t.clone())),
                None => value,
            })
        }
    })
}

/// `isEnabled` as a condition of the DSL.
fn condition(
    pred: &GraphPredicate,
    inputs: &BTreeMap<&str, Value>,
    tasks: &BTreeMap<&str, Task>,
) -> Result<Cond, String> {
    let value = |arg: &GraphArgument| -> Result<Value, String> {
        resolve(arg, inputs, tasks)?.ok_or_else(|| {
            "the condition uses an optional input that this task does not supply".to_owned()
        })
    };
    Ok(match pred {
        GraphPredicate::Compare { op, lhs, rhs } => {
            let op = match op {
                CompareOp::Eq => CmpOp::Eq,
                CompareOp::Ne => CmpOp::Ne,
                CompareOp::Gt => CmpOp::Gt,
                CompareOp::Ge => CmpOp::Ge,
                CompareOp::Lt => CmpOp::Lt,
                CompareOp::Le => CmpOp::Le,
            };
            Cond::compare(value(lhs)?, op, value(rhs)?)
        }
        GraphPredicate::And(a, b) => condition(a, inputs, tasks)?.and(condition(b, inputs, tasks)?),
        GraphPredicate::Or(a, b) => condition(a, inputs, tasks)?.or(condition(b, inputs, tasks)?),
        GraphPredicate::Not(a) => !condition(a, inputs, tasks)?,
        GraphPredicate::Value(arg) => Cond::compare(value(arg)?, CmpOp::Eq, "true"),
    })
}

/// Why the tasks of a graph cannot be ordered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphOrderError {
    #[error("tasks {} depend on each other in a cycle", .0.join(", "))]
    Cycle(Vec<String>),
    #[error(
        "task {task:?} uses an output of task {missing:?}, which does not exist; the tasks are: {known}"
    )]
    UnknownTask {
        task: String,
        missing: String,
        known: String,
    },
}

/// The tasks that `task` reads outputs of (in its arguments and its condition).
pub fn task_dependencies(task: &GraphTask) -> BTreeSet<&str> {
    let mut deps = BTreeSet::new();
    for arg in task.arguments.values() {
        if let GraphArgument::TaskOutput(r) = arg {
            deps.insert(r.task_id.as_str());
        }
    }
    if let Some(pred) = &task.is_enabled {
        predicate_tasks(pred, &mut deps);
    }
    deps
}

fn predicate_tasks<'a>(pred: &'a GraphPredicate, out: &mut BTreeSet<&'a str>) {
    let arg = |a: &'a GraphArgument, out: &mut BTreeSet<&'a str>| {
        if let GraphArgument::TaskOutput(r) = a {
            out.insert(r.task_id.as_str());
        }
    };
    match pred {
        GraphPredicate::Compare { lhs, rhs, .. } => {
            arg(lhs, out);
            arg(rhs, out);
        }
        GraphPredicate::And(a, b) | GraphPredicate::Or(a, b) => {
            predicate_tasks(a, out);
            predicate_tasks(b, out);
        }
        GraphPredicate::Not(a) => predicate_tasks(a, out),
        GraphPredicate::Value(a) => arg(a, out),
    }
}

/// The task ids of `graph` in an order where each comes after the tasks it reads from.
pub fn task_order(graph: &GraphImpl) -> Result<Vec<&String>, GraphOrderError> {
    let mut g = DiGraph::<&String, ()>::with_capacity(graph.tasks.len(), graph.tasks.len());
    let index: BTreeMap<&str, _> = graph
        .tasks
        .keys()
        .map(|id| (id.as_str(), g.add_node(id)))
        .collect();
    for (id, task) in &graph.tasks {
        for dep in task_dependencies(task) {
            let Some(&from) = index.get(dep) else {
                return Err(GraphOrderError::UnknownTask {
                    task: id.clone(),
                    missing: dep.to_owned(),
                    known: graph.tasks.keys().cloned().collect::<Vec<_>>().join(", "),
                });
            };
            g.add_edge(from, index[id.as_str()], ());
        }
    }
    match toposort(&g, None) {
        Ok(order) => Ok(order.into_iter().map(|i| g[i]).collect()),
        Err(_) => {
            let mut cycle: Vec<String> = tarjan_scc(&g)
                .into_iter()
                .find(|scc| scc.len() > 1 || scc.iter().any(|&n| g.contains_edge(n, n)))
                .unwrap_or_default()
                .into_iter()
                .map(|i| g[i].clone())
                .collect();
            cycle.sort();
            Err(GraphOrderError::Cycle(cycle))
        }
    }
}
