//! Pipelines to DAG templates.
//!
//! A pipeline is a tree of groups (the pipeline itself, conditions, loops, exit-handler
//! bodies, and the parts a large DAG is split into); each group becomes one DAG template.
//! A value used in a group other than the one producing it is threaded through the
//! templates in between: exported as a DAG output on the way up, imported as a DAG input
//! on the way down. The DAG edges come from those references plus explicit `.after(..)`.

use std::collections::{BTreeMap, BTreeSet};

// FxHash: the compiler hashes many small keys and needs no DoS resistance.
use rustc_hash::FxHashMap as HashMap;
use std::rc::Rc;
use std::sync::Arc;

use petgraph::algo::{tarjan_scc, toposort};
use petgraph::graph::DiGraph;

use super::leaf::{self, dag_io, dag_outputs};
use super::names::{NameSet, k8s_name, param_name};
use super::registry::Registry;
use crate::argo::{
    Arguments, Artifact, DagTask, DagTemplate, LifecycleHook, Parameter, RawArtifact, Template,
};
use crate::component::{Passing, TypeSpec};
use crate::dsl::{
    ARTIFACT_TYPE, Cond, GroupId, GroupKind, LoopSource, Member, Op, Pipeline, PipelineParam,
    TaskId, Value, ValueKind, WorkflowVar,
};

/// A member of a compiled group: a task, or a nested group invoked as one DAG task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Node {
    Task(usize),
    Group(usize),
}

#[derive(Debug, Clone)]
enum Kind {
    Root,
    Condition(GroupId),
    Loop(GroupId),
    /// Wraps a loop to bound how many iterations run at once.
    Limiter(u32),
    ExitBody {
        exit_task: usize,
    },
    /// A slice of a DAG too large for one template.
    Part,
}

/// What a value is, for the per-group caches of imports and exports.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Param(usize),
    Item(usize, Option<String>),
    Output(usize, usize),
}

#[derive(Debug)]
struct Group {
    kind: Kind,
    parent: Option<usize>,
    members: Vec<Node>,
    /// Name of the DAG task invoking this group in its parent.
    name: String,
    template: String,
    in_params: Vec<(String, String)>,
    in_artifacts: Vec<(String, ArtifactSource)>,
    out_params: Vec<(String, String)>,
    out_artifacts: Vec<(String, String)>,
    imports: HashMap<(Key, Passing), String>,
    exports: HashMap<(Key, Passing), String>,
    io_names: NameSet,
    out_names: NameSet,
    when: Option<String>,
    with_items: Option<Vec<serde_json::Value>>,
    with_param: Option<String>,
    hook: Option<LifecycleHook>,
}

#[derive(Debug, Clone)]
enum ArtifactSource {
    From(String),
    Raw(String),
}

impl ArtifactSource {
    fn into_artifact(self, name: String) -> Artifact {
        match self {
            Self::From(from) => Artifact {
                name,
                from: Some(from),
                ..Artifact::default()
            },
            Self::Raw(data) => Artifact {
                name,
                raw: Some(RawArtifact { data }),
                ..Artifact::default()
            },
        }
    }
}

/// Compiles one pipeline (the root, or a sub-pipeline) into DAG templates.
pub(crate) struct GraphCompiler<'a> {
    reg: &'a mut Registry,
    p: &'a Pipeline,
    /// The root pipeline's parameters are workflow parameters; a sub-pipeline's are the
    /// inputs of its DAG template.
    is_root: bool,
    groups: Vec<Group>,
    /// DSL group -> compiled group (for loops: the loop, not its limiter).
    of_dsl: Vec<usize>,
    task_group: Vec<usize>,
    task_names: Vec<String>,
    task_templates: Vec<String>,
    task_args: Vec<Arguments>,
    deps: BTreeMap<Node, BTreeSet<Node>>,
    /// Where the workflow's `onExit` points, when this is the root pipeline.
    pub(crate) on_exit: Option<String>,
    max_tasks: usize,
    /// Task and group names of this pipeline (one namespace: they share the DAGs).
    names: NameSet,
    /// Set while resolving an exit task's arguments.
    exit_mode: Option<ExitMode>,
    /// Leaf templates already made for a component (by identity) and set of supplied
    /// inputs, for tasks without settings of their own: most tasks of a large pipeline.
    leaf_cache: HashMap<LeafKey, (String, Rc<leaf::InputUse>)>,
    /// How the consumers of each task output read it (see [`GraphCompiler::collect_needs`]).
    needs: HashMap<(usize, usize), leaf::Needs>,
}

type LeafKey = (
    *const crate::component::Component,
    BTreeSet<String>,
    BTreeMap<String, String>,
    Option<String>,
    Vec<leaf::Needs>,
);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ExitMode {
    /// The workflow's `onExit`: only workflow-wide values are in scope.
    Workflow,
    /// An exit hook on a group: values of the enclosing group are in scope.
    Hook,
}

type Res<T> = Result<T, String>;

impl<'a> GraphCompiler<'a> {
    pub(crate) fn new(
        reg: &'a mut Registry,
        p: &'a Pipeline,
        is_root: bool,
        max_tasks: usize,
    ) -> Self {
        Self {
            reg,
            p,
            is_root,
            groups: Vec::new(),
            of_dsl: vec![usize::MAX; p.groups.len()],
            task_group: vec![0; p.tasks.len()],
            task_names: vec![String::new(); p.tasks.len()],
            task_templates: vec![String::new(); p.tasks.len()],
            task_args: vec![Arguments::default(); p.tasks.len()],
            deps: BTreeMap::new(),
            on_exit: None,
            max_tasks: max_tasks.max(2),
            names: NameSet::default(),
            exit_mode: None,
            leaf_cache: HashMap::default(),
            needs: HashMap::default(),
        }
    }

    fn problem(&mut self, task: Option<usize>, field: Option<String>, message: impl Into<String>) {
        let task = task.map(|t| self.display_task(t));
        self.reg.problem(task, field, message.into());
    }

    fn display_task(&self, t: usize) -> String {
        let name = if self.task_names[t].is_empty() {
            self.p.tasks[t].spec.op.name().to_owned()
        } else {
            self.task_names[t].clone()
        };
        if self.is_root {
            name
        } else {
            format!("{}/{}", self.p.name, name)
        }
    }

    /// Compile the pipeline; returns the name of its top DAG template.
    pub(crate) fn compile(mut self) -> String {
        for message in &self.p.errors {
            self.reg
                .problem(None, None, format!("{}: {message}", self.p.name));
        }
        self.build_tree();
        self.name_everything();
        for g in 0..self.groups.len() {
            self.split(g);
        }
        self.allocate_templates();
        self.collect_needs();
        self.resolve();
        self.check_cycles();
        self.emit()
    }

    // ----- the tree -------------------------------------------------------------------

    fn new_group(&mut self, kind: Kind, parent: Option<usize>) -> usize {
        let id = self.groups.len();
        self.groups.push(Group {
            kind,
            parent,
            members: Vec::new(),
            name: String::new(),
            template: String::new(),
            in_params: Vec::new(),
            in_artifacts: Vec::new(),
            out_params: Vec::new(),
            out_artifacts: Vec::new(),
            imports: HashMap::default(),
            exports: HashMap::default(),
            io_names: NameSet::default(),
            out_names: NameSet::default(),
            when: None,
            with_items: None,
            with_param: None,
            hook: None,
        });
        if let Some(parent) = parent {
            self.groups[parent].members.push(Node::Group(id));
        }
        id
    }

    fn build_tree(&mut self) {
        let root = self.new_group(Kind::Root, None);
        self.of_dsl[0] = root;
        self.build_members(GroupId(0), root);
    }

    fn build_members(&mut self, dsl: GroupId, into: usize) {
        let members = self.p.groups[dsl.0].members.clone();
        for member in members {
            match member {
                Member::Task(t) => {
                    self.task_group[t] = into;
                    if self.p.tasks[t].exit_of.is_none() {
                        self.groups[into].members.push(Node::Task(t));
                    }
                }
                Member::Group(g) => {
                    let target = match &self.p.groups[g.0].kind {
                        GroupKind::Root => into,
                        GroupKind::Condition(_) => self.new_group(Kind::Condition(g), Some(into)),
                        GroupKind::Loop {
                            parallelism: Some(n),
                            ..
                        } => {
                            let limiter = self.new_group(Kind::Limiter(*n), Some(into));
                            self.new_group(Kind::Loop(g), Some(limiter))
                        }
                        GroupKind::Loop {
                            parallelism: None, ..
                        } => self.new_group(Kind::Loop(g), Some(into)),
                        GroupKind::ExitHandler { exit_task } => {
                            // The exit task is not a DAG member, but its values are seen
                            // from the group the handler is written in.
                            let exit_task = *exit_task;
                            self.task_group[exit_task] = into;
                            self.new_group(Kind::ExitBody { exit_task }, Some(into))
                        }
                    };
                    self.of_dsl[g.0] = target;
                    self.build_members(g, target);
                }
            }
        }
    }

    /// Task and group names: explicit names first (duplicates are errors), then derived
    /// ones in the order things were added, so output is stable.
    fn name_everything(&mut self) {
        let mut names = NameSet::default();
        for (t, task) in self.p.tasks.iter().enumerate() {
            if let Some(explicit) = &task.spec.name {
                let name = k8s_name(explicit, "task");
                if &name != explicit {
                    self.problem(
                        None,
                        Some("name".into()),
                        format!(
                            "task name {explicit:?} is not a valid Kubernetes name; try {name:?}"
                        ),
                    );
                }
                if !names.reserve(&name) {
                    self.problem(
                        None,
                        Some("name".into()),
                        format!("two tasks are named {name:?}"),
                    );
                }
                self.task_names[t] = name;
            }
        }
        let mut counters: HashMap<&'static str, usize> = HashMap::default();
        let mut order = Vec::new();
        self.walk(0, &mut order);
        for node in order {
            match node {
                Node::Task(t) => {
                    if self.task_names[t].is_empty() {
                        let base = k8s_name(self.p.tasks[t].spec.op.name(), "task");
                        self.task_names[t] = names.unique(&base);
                    }
                }
                Node::Group(g) => {
                    let prefix = match self.groups[g].kind {
                        Kind::Root => continue,
                        Kind::Condition(_) => "condition",
                        Kind::Loop(_) | Kind::Limiter(_) => "for-loop",
                        Kind::ExitBody { .. } => "exit-handler",
                        Kind::Part => "part",
                    };
                    if matches!(self.groups[g].kind, Kind::Loop(_))
                        && self.groups[g]
                            .parent
                            .is_some_and(|p| matches!(self.groups[p].kind, Kind::Limiter(_)))
                    {
                        let parent = self.groups[g].parent.unwrap_or_default();
                        let base = format!("{}-iteration", self.groups[parent].name);
                        self.groups[g].name = names.unique(&base);
                        continue;
                    }
                    let n = counters.entry(prefix).or_insert(0);
                    *n += 1;
                    let base = format!("{prefix}-{n}");
                    self.groups[g].name = names.unique(&base);
                }
            }
        }
        // Exit tasks are not DAG members but still need names.
        for t in 0..self.p.tasks.len() {
            if self.task_names[t].is_empty() {
                let base = k8s_name(self.p.tasks[t].spec.op.name(), "task");
                self.task_names[t] = names.unique(&base);
            }
        }
        self.groups[0].name = k8s_name(&self.p.name, "pipeline");
        self.names = names;
    }

    fn walk(&self, g: usize, out: &mut Vec<Node>) {
        for &m in &self.groups[g].members {
            out.push(m);
            if let Node::Group(c) = m {
                self.walk(c, out);
            }
        }
    }
}

// ----- how outputs travel -----------------------------------------------------------------

impl GraphCompiler<'_> {
    /// Record, for every task output, whether its consumers read it as a value, as a file,
    /// or both. As KFP v1 does, this (not the output's type) decides whether an output is
    /// an Argo parameter, an artifact or both: a `component.yaml` output typed `GCSPath`
    /// may feed an `inputValue`, and an untyped one may feed an `inputPath`.
    fn collect_needs(&mut self) {
        let p = self.p;
        for task in &p.tasks {
            for (input, value) in &task.spec.args {
                let need = match &task.spec.op {
                    Op::Component(c) => input_needs(c, input),
                    Op::Pipeline(sub) if sub.file_params.contains(input) => leaf::Needs::FILE,
                    Op::Pipeline(_) => leaf::Needs::VALUE,
                };
                self.need(value, need);
            }
        }
        for group in &p.groups {
            match &group.kind {
                GroupKind::Condition(cond) => {
                    for v in cond.values() {
                        self.need(v, leaf::Needs::VALUE);
                    }
                }
                GroupKind::Loop {
                    source: LoopSource::Dynamic(v),
                    ..
                } => {
                    self.need(v, leaf::Needs::VALUE);
                }
                _ => {}
            }
        }
        for (_, value) in &p.outputs {
            let need = match TypeSpec::passing(value.type_spec.as_ref()) {
                Passing::Parameter => leaf::Needs::VALUE,
                Passing::Artifact => leaf::Needs::FILE,
            };
            self.need(value, need);
        }
    }

    fn need(&mut self, value: &Value, need: leaf::Needs) {
        if let ValueKind::Output { task, name } = &value.kind
            && task.pipeline == self.p.id
        {
            let output = self.output_index(task.index, name);
            let entry = self.needs.entry((task.index, output)).or_default();
            entry.value |= need.value;
            entry.file |= need.file;
        }
    }

    /// How output `name` of task `t` travels: as its consumers need it; an output nobody
    /// consumes follows its type. Outputs of sub-pipelines always follow their type.
    fn output_needs(&self, t: usize, name: &str, type_spec: Option<&TypeSpec>) -> leaf::Needs {
        let by_type = match TypeSpec::passing(type_spec) {
            Passing::Parameter => leaf::Needs::VALUE,
            Passing::Artifact => leaf::Needs::FILE,
        };
        if matches!(self.p.tasks[t].spec.op, Op::Pipeline(_)) {
            return by_type;
        }
        match self.needs.get(&(t, self.output_index(t, name))) {
            Some(n) if n.value || n.file => *n,
            _ => by_type,
        }
    }

    /// The needs of every output of component task `t`, in the component's output order.
    fn outputs_needs(&self, t: usize) -> Vec<leaf::Needs> {
        match &self.p.tasks[t].spec.op {
            Op::Component(c) => c
                .spec
                .outputs
                .iter()
                .map(|o| self.output_needs(t, &o.name, o.type_spec.as_ref()))
                .collect(),
            Op::Pipeline(_) => Vec::new(),
        }
    }
}

/// How component `c` reads its input `input`.
fn input_needs(c: &crate::component::Component, input: &str) -> leaf::Needs {
    if matches!(
        c.spec.implementation,
        crate::component::Implementation::Resource(_)
    ) {
        return leaf::Needs::VALUE;
    }
    let mut needs = leaf::Needs::default();
    c.spec.visit_usages(|usage| match usage {
        crate::component::Usage::InputValue(n) if n == input => needs.value = true,
        crate::component::Usage::InputPath(n) if n == input => needs.file = true,
        _ => {}
    });
    needs
}

// ----- splitting large DAGs ---------------------------------------------------------------

impl GraphCompiler<'_> {
    /// The member of `g` that contains task `t`, if `t` is inside `g` at all.
    fn rep_in(&self, g: usize, t: usize) -> Option<Node> {
        let mut c = self.task_group[t];
        if c == g {
            return Some(Node::Task(t));
        }
        while let Some(parent) = self.groups[c].parent {
            if parent == g {
                return Some(Node::Group(c));
            }
            c = parent;
        }
        None
    }

    /// Tasks referenced (by data or `.after`) anywhere inside `node`.
    fn referenced_tasks(&self, node: Node, out: &mut Vec<usize>) {
        let push_value = |v: &Value, out: &mut Vec<usize>| {
            if let ValueKind::Output { task, .. } = &v.kind
                && task.pipeline == self.p.id
            {
                out.push(task.index);
            }
        };
        match node {
            Node::Task(t) => {
                let spec = &self.p.tasks[t].spec;
                spec.args.iter().for_each(|(_, v)| push_value(v, out));
                out.extend(
                    spec.after
                        .iter()
                        .filter(|a| a.pipeline == self.p.id)
                        .map(|a| a.index),
                );
            }
            Node::Group(g) => {
                match &self.groups[g].kind {
                    Kind::Condition(d) => {
                        if let GroupKind::Condition(cond) = &self.p.groups[d.0].kind {
                            cond.values().into_iter().for_each(|v| push_value(v, out));
                        }
                    }
                    Kind::Loop(d) => {
                        if let GroupKind::Loop {
                            source: LoopSource::Dynamic(v),
                            ..
                        } = &self.p.groups[d.0].kind
                        {
                            push_value(v, out);
                        }
                    }
                    _ => {}
                }
                for &m in &self.groups[g].members {
                    self.referenced_tasks(m, out);
                }
            }
        }
    }

    /// Members of `g` in an order where every member comes after those it depends on
    /// (ties keep the order of addition).
    fn topo_order(&self, g: usize) -> Vec<Node> {
        let members = &self.groups[g].members;
        let position: HashMap<Node, usize> =
            members.iter().enumerate().map(|(i, m)| (*m, i)).collect();
        let mut preds: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); members.len()];
        let mut succs: Vec<Vec<usize>> = vec![Vec::new(); members.len()];
        let mut refs = Vec::new();
        for (i, &m) in members.iter().enumerate() {
            refs.clear();
            self.referenced_tasks(m, &mut refs);
            for &t in &refs {
                if let Some(rep) = self.rep_in(g, t)
                    && let Some(&j) = position.get(&rep)
                    && j != i
                    && preds[i].insert(j)
                {
                    succs[j].push(i);
                }
            }
        }
        let mut ready: BTreeSet<usize> = (0..members.len())
            .filter(|&i| preds[i].is_empty())
            .collect();
        let mut remaining: Vec<usize> = preds.iter().map(BTreeSet::len).collect();
        let mut order = Vec::with_capacity(members.len());
        let mut placed = vec![false; members.len()];
        while let Some(i) = ready.pop_first() {
            order.push(members[i]);
            placed[i] = true;
            for &s in &succs[i] {
                remaining[s] -= 1;
                if remaining[s] == 0 {
                    ready.insert(s);
                }
            }
        }
        // Members on a cycle keep their order; the cycle is reported later.
        order.extend(
            members
                .iter()
                .enumerate()
                .filter(|(i, _)| !placed[*i])
                .map(|(_, m)| *m),
        );
        order
    }

    /// Split `g` into nested parts of at most `max_tasks` members each (Argo's CRD caps a
    /// DAG template at 200 tasks). Parts follow a topological order, so they never
    /// depend on a later part and no cycle can appear between them.
    fn split(&mut self, g: usize) {
        while self.groups[g].members.len() > self.max_tasks {
            let order = self.topo_order(g);
            self.groups[g].members.clear();
            for chunk in order.chunks(self.max_tasks) {
                let part = self.new_group(Kind::Part, Some(g));
                let base = format!("{}-part", self.groups[g].name);
                self.groups[part].name = self.names.unique(&base);
                for &m in chunk {
                    self.groups[part].members.push(m);
                    match m {
                        Node::Task(t) => self.task_group[t] = part,
                        Node::Group(c) => {
                            self.groups[c].parent = Some(part);
                            if let Kind::ExitBody { exit_task } = self.groups[c].kind {
                                self.task_group[exit_task] = part;
                            }
                        }
                    }
                }
            }
        }
    }

    fn allocate_templates(&mut self) {
        for g in 0..self.groups.len() {
            let base = self.groups[g].name.clone();
            self.groups[g].template = self.reg.unique_template(&base);
        }
    }
}

// ----- resolving references ---------------------------------------------------------------

impl GraphCompiler<'_> {
    fn resolve(&mut self) {
        let mut order = Vec::new();
        self.walk(0, &mut order);
        for node in order {
            match node {
                Node::Task(t) => self.resolve_task(t),
                Node::Group(g) => self.resolve_group(g),
            }
        }
        if !self.is_root {
            let outputs = self.p.outputs.clone();
            for (name, value) in outputs {
                let field = Some(format!("output {name:?}"));
                let argo_name = param_name(&name);
                match self.passing_of(&value) {
                    Passing::Parameter => match self.param_text(0, None, &value) {
                        Ok(text) => self.groups[0].out_params.push((argo_name, text)),
                        Err(e) => self.problem(None, field, format!("{}: {e}", self.p.name)),
                    },
                    Passing::Artifact => match self.artifact_source(0, None, &value) {
                        Ok(ArtifactSource::From(from)) => {
                            self.groups[0].out_artifacts.push((argo_name, from))
                        }
                        Ok(ArtifactSource::Raw(_)) | Err(_) => self.problem(
                            None,
                            field,
                            format!(
                                "{}: a pipeline's file output must come from a task",
                                self.p.name
                            ),
                        ),
                    },
                }
            }
        }
    }

    fn resolve_group(&mut self, g: usize) {
        let Some(parent) = self.groups[g].parent else {
            return;
        };
        let site = Some(Node::Group(g));
        match self.groups[g].kind.clone() {
            Kind::Condition(d) => {
                if let GroupKind::Condition(cond) = &self.p.groups[d.0].kind {
                    match self.render_cond(parent, site, cond) {
                        Ok(text) => self.groups[g].when = Some(text),
                        Err(e) => {
                            let name = self.groups[g].name.clone();
                            self.problem(None, Some(format!("condition {name:?}")), e);
                        }
                    }
                }
            }
            Kind::Loop(d) => match &self.p.groups[d.0].kind {
                GroupKind::Loop {
                    source: LoopSource::Static(items),
                    ..
                } => {
                    if items.is_empty() {
                        let name = self.groups[g].name.clone();
                        self.problem(
                            None,
                            Some(format!("loop {name:?}")),
                            "the list of items is empty",
                        );
                    }
                    self.groups[g].with_items = Some(items.clone());
                }
                GroupKind::Loop {
                    source: LoopSource::Dynamic(v),
                    ..
                } => match self.param_text(parent, site, v) {
                    Ok(text) => self.groups[g].with_param = Some(text),
                    Err(e) => {
                        let name = self.groups[g].name.clone();
                        self.problem(None, Some(format!("loop {name:?} items")), e);
                    }
                },
                _ => {}
            },
            Kind::ExitBody { exit_task } => {
                let global = parent == 0 && self.is_root && self.on_exit.is_none();
                self.exit_mode = Some(if global {
                    ExitMode::Workflow
                } else {
                    ExitMode::Hook
                });
                self.resolve_task(exit_task);
                self.exit_mode = None;
                let template = self.task_templates[exit_task].clone();
                let arguments = self.task_args[exit_task].clone();
                if global {
                    let name = self
                        .reg
                        .unique_template(&format!("{}-exit", self.task_names[exit_task]));
                    self.reg.push(Template {
                        name: name.clone(),
                        dag: Some(DagTemplate {
                            tasks: vec![DagTask {
                                name: self.task_names[exit_task].clone(),
                                template: Some(template),
                                arguments,
                                ..DagTask::default()
                            }],
                            ..DagTemplate::default()
                        }),
                        ..Template::default()
                    });
                    self.on_exit = Some(name);
                } else {
                    self.groups[g].hook = Some(LifecycleHook {
                        template: Some(template),
                        arguments,
                        expression: None,
                    });
                }
            }
            Kind::Root | Kind::Limiter(_) | Kind::Part => {}
        }
    }

    fn resolve_task(&mut self, t: usize) {
        let g = self.task_group[t];
        let site = if self.exit_mode.is_some() {
            None
        } else {
            Some(Node::Task(t))
        };
        let pipeline = self.p;
        let spec = &pipeline.tasks[t].spec;
        for after in &spec.after {
            self.order_after(g, site, t, *after);
        }
        match &spec.op {
            Op::Component(component) => {
                let inputs = &component.spec.inputs;
                let mut supplied = BTreeSet::new();
                for (name, _) in &spec.args {
                    if inputs.iter().any(|i| &i.name == name) {
                        supplied.insert(name.clone());
                    } else {
                        let known = inputs.iter().map(|i| i.name.as_str()).collect::<Vec<_>>();
                        self.problem(
                            Some(t),
                            Some(format!("input {name:?}")),
                            format!(
                                "component {:?} has no such input; its inputs are: {}",
                                component.spec.name,
                                if known.is_empty() {
                                    "(none)".into()
                                } else {
                                    known.join(", ")
                                }
                            ),
                        );
                    }
                }
                for input in inputs {
                    if !supplied.contains(&input.name) && input.default.is_none() && !input.optional
                    {
                        self.problem(Some(t), Some(format!("input {:?}", input.name)),
                            "is required but not given (pass it with `.arg(..)`, or give the input a default)");
                    }
                }
                let cacheable = spec.config == crate::component::TaskConfig::default();
                // Constants given to inputs that decide an `if` (`cond: {inputValue: x}`).
                let deciding = component.spec.condition_inputs();
                let decided: BTreeMap<String, String> = spec
                    .args
                    .iter()
                    .filter(|(name, _)| deciding.contains(name.as_str()))
                    .filter_map(|(name, value)| match &value.kind {
                        ValueKind::Const(text) => Some((name.clone(), text.clone())),
                        _ => None,
                    })
                    .collect();
                let outputs_needs = self.outputs_needs(t);
                let key: LeafKey = (
                    Arc::as_ptr(component),
                    supplied.clone(),
                    decided.clone(),
                    spec.display_name.clone(),
                    outputs_needs.clone(),
                );
                let usage = match self.leaf_cache.get(&key).filter(|_| cacheable) {
                    Some((name, usage)) => {
                        self.task_templates[t] = name.clone();
                        Rc::clone(usage)
                    }
                    None => {
                        let (template, usage) = match leaf::leaf_template(
                            component,
                            &spec.config,
                            &supplied,
                            &decided,
                            &outputs_needs,
                            spec.display_name.as_deref(),
                        ) {
                            Ok(ok) => ok,
                            Err(errors) => {
                                for e in errors {
                                    self.problem(Some(t), None, e);
                                }
                                return;
                            }
                        };
                        let base = k8s_name(&component.spec.name, "component");
                        let name = self.reg.leaf(template, &base);
                        self.task_templates[t] = name.clone();
                        let usage = Rc::new(usage);
                        if cacheable {
                            self.leaf_cache.insert(key, (name, Rc::clone(&usage)));
                        }
                        usage
                    }
                };
                let mut args = Arguments::default();
                for (name, value) in &spec.args {
                    let Some(input) = inputs.iter().find(|i| &i.name == name) else {
                        continue;
                    };
                    let field = || Some(format!("input {name:?}"));
                    if !self.check_type(t, g, name, input.type_spec.as_ref(), value) {
                        continue;
                    }
                    if let Some(argo) = usage.values.get(name) {
                        match self.param_text(g, site, value) {
                            Ok(text) => args
                                .parameters
                                .push(Parameter::with_value(argo.clone(), text)),
                            Err(e) => self.problem(Some(t), field(), e),
                        }
                    }
                    if let Some(argo) = usage.paths.get(name) {
                        match self.artifact_source(g, site, value) {
                            Ok(src) => args.artifacts.push(src.into_artifact(argo.clone())),
                            Err(e) => self.problem(Some(t), field(), e),
                        }
                    }
                }
                self.task_args[t] = args;
            }
            Op::Pipeline(sub) => {
                let template = self.reg.sub_pipeline(sub);
                self.task_templates[t] = template;
                let mut args = Arguments::default();
                for (name, value) in &spec.args {
                    let field = Some(format!("input {name:?}"));
                    let Some(param) = sub.params.iter().find(|p| &p.name == name) else {
                        self.problem(
                            Some(t),
                            field,
                            format!("pipeline {:?} has no parameter {name:?}", sub.name),
                        );
                        continue;
                    };
                    if !self.check_type(t, g, name, param.type_spec.as_ref(), value) {
                        continue;
                    }
                    // A file parameter (a graph component's input its tasks read with
                    // `inputPath`) is an input artifact of the sub-pipeline's DAG template.
                    if sub.file_params.contains(name) {
                        match self.artifact_source(g, site, value) {
                            Ok(src) => args.artifacts.push(src.into_artifact(name.clone())),
                            Err(e) => self.problem(Some(t), field, e),
                        }
                        continue;
                    }
                    match self.param_text(g, site, value) {
                        Ok(text) => args
                            .parameters
                            .push(Parameter::with_value(name.clone(), text)),
                        Err(e) => self.problem(Some(t), field, e),
                    }
                }
                for param in &sub.params {
                    if param.default.is_none() && !spec.args.iter().any(|(n, _)| *n == param.name) {
                        self.problem(
                            Some(t),
                            Some(format!("input {:?}", param.name)),
                            format!(
                                "parameter of pipeline {:?} is required but not given",
                                sub.name
                            ),
                        );
                    }
                }
                self.task_args[t] = args;
            }
        }
    }

    /// Record that the task at `site` (in group `g`) runs after task `after`.
    fn order_after(&mut self, g: usize, site: Option<Node>, t: usize, after: TaskId) {
        if after.pipeline != self.p.id {
            self.problem(
                Some(t),
                Some("after".into()),
                "`.after(..)` names a task of another pipeline",
            );
            return;
        }
        if self.p.tasks[after.index].exit_of.is_some() {
            self.problem(
                Some(t),
                Some("after".into()),
                "an exit task runs last; nothing can run after it",
            );
            return;
        }
        let Some(mut site_node) = site else {
            self.problem(
                Some(t),
                Some("after".into()),
                "an exit task cannot wait for other tasks",
            );
            return;
        };
        let mut cur = g;
        loop {
            if let Some(rep) = self.rep_in(cur, after.index) {
                self.add_dep(Some(site_node), rep);
                return;
            }
            site_node = Node::Group(cur);
            match self.groups[cur].parent {
                Some(p) => cur = p,
                None => return,
            }
        }
    }

    fn add_dep(&mut self, site: Option<Node>, on: Node) {
        if let Some(site) = site
            && site != on
        {
            self.deps.entry(site).or_default().insert(on);
        }
    }

    /// Loops around `producer` that the consumer in group `g` is outside of.
    fn loops_left(&self, producer: usize, g: usize) -> bool {
        let mut c = Some(self.task_group[producer]);
        while let Some(x) = c {
            if self.is_within(g, x) {
                return false;
            }
            if matches!(self.groups[x].kind, Kind::Loop(_)) {
                return true;
            }
            c = self.groups[x].parent;
        }
        false
    }

    /// Check a value against the type an input expects; reports and returns false on a
    /// mismatch.
    fn check_type(
        &mut self,
        t: usize,
        g: usize,
        input: &str,
        expected: Option<&TypeSpec>,
        value: &Value,
    ) -> bool {
        let field = || Some(format!("input {input:?}"));
        if let (ValueKind::Const(text), Some(expected)) = (&value.kind, expected)
            && let Err(e) = expected.check_constant(text)
        {
            self.problem(Some(t), field(), e);
            return false;
        }
        let mut given = value.type_spec.clone();
        let mut aggregated = false;
        if let ValueKind::Output { task, .. } = &value.kind
            && task.pipeline == self.p.id
            && self.loops_left(task.index, g)
        {
            if TypeSpec::passing(value.type_spec.as_ref()) == Passing::Artifact {
                self.problem(
                    Some(t),
                    field(),
                    "a file produced inside a loop cannot be used \
                         after the loop (only values are collected across iterations)",
                );
                return false;
            }
            aggregated = true;
            given = Some(TypeSpec::json_array());
        }
        if !compatible(given.as_ref(), expected) {
            let given_text = given.map_or("untyped".to_owned(), |t| t.to_string());
            let expected_text = expected.map_or("untyped".to_owned(), |t| t.to_string());
            let why = if aggregated {
                " (a value produced inside a loop is, after the loop, the JSON list of every \
                 iteration's value)"
            } else {
                ""
            };
            self.problem(Some(t), field(), format!(
                "type mismatch: the value given is {given_text} but the input expects {expected_text}{why}"
            ));
            return false;
        }
        true
    }

    /// How a pipeline output travels to the parent pipeline: by its type, as the parent sees
    /// only the declared output (`collect_needs` made the producer declare that form).
    fn passing_of(&self, value: &Value) -> Passing {
        match &value.kind {
            ValueKind::Output { .. } => TypeSpec::passing(value.type_spec.as_ref()),
            _ => Passing::Parameter,
        }
    }

    /// The text a parameter argument carries for `value`, as seen from group `g`.
    fn param_text(&mut self, g: usize, site: Option<Node>, value: &Value) -> Res<String> {
        match &value.kind {
            ValueKind::Const(text) => Ok(text.clone()),
            ValueKind::Workflow(var) => {
                let status_like = matches!(var, WorkflowVar::Status | WorkflowVar::Failures);
                if status_like && self.exit_mode != Some(ExitMode::Workflow) {
                    return Err(
                        "the run's status and failures are only known to the pipeline's \
                         top-level exit handler"
                            .into(),
                    );
                }
                Ok(var.tag().to_owned())
            }
            ValueKind::Param { pipeline, name } => {
                if *pipeline != self.p.id {
                    return Err(format!("parameter {name:?} belongs to another pipeline"));
                }
                if self.is_root {
                    return Ok(format!("{{{{workflow.parameters.{name}}}}}"));
                }
                if self.p.file_params.contains(name) {
                    return Err(format!(
                        "parameter {name:?} of pipeline {:?} is a file (another task reads it \
                         with inputPath); a task cannot also read it as a value",
                        self.p.name
                    ));
                }
                if g == 0 {
                    return Ok(format!("{{{{inputs.parameters.{name}}}}}"));
                }
                self.import_param(g, Key::Param(self.param_index(name)), value)
            }
            ValueKind::Item {
                pipeline,
                group,
                field,
            } => {
                if *pipeline != self.p.id {
                    return Err("a loop item of another pipeline is used here".into());
                }
                let loop_group = self.of_dsl[group.0];
                if !self.is_within(g, loop_group) {
                    return Err("a loop item is used outside its loop".into());
                }
                if self.exit_mode == Some(ExitMode::Workflow) {
                    return Err("the top-level exit handler cannot use loop items".into());
                }
                self.import_param(g, Key::Item(loop_group, field.clone()), value)
            }
            ValueKind::Output { task, name } => {
                let producer = self.output_producer(*task)?;
                if !self
                    .output_needs(producer, name, value.type_spec.as_ref())
                    .value
                {
                    return Err(format!(
                        "output {name:?} of task {:?} is a file ({}) and can only be passed to \
                         an input the component reads as a file (inputPath)",
                        self.task_names[producer],
                        value
                            .type_spec
                            .as_ref()
                            .map(ToString::to_string)
                            .unwrap_or_default()
                    ));
                }
                match self.rep_in(g, producer) {
                    Some(Node::Task(p)) => {
                        self.add_dep(site, Node::Task(p));
                        let argo = self.output_argo_name(p, name);
                        Ok(format!(
                            "{{{{tasks.{}.outputs.parameters.{argo}}}}}",
                            self.task_names[p]
                        ))
                    }
                    Some(Node::Group(c)) => {
                        let exported = self.export(
                            c,
                            Key::Output(producer, self.output_index(producer, name)),
                            value,
                            Passing::Parameter,
                        )?;
                        self.add_dep(site, Node::Group(c));
                        Ok(format!(
                            "{{{{tasks.{}.outputs.parameters.{exported}}}}}",
                            self.groups[c].name
                        ))
                    }
                    None => self.import_param(
                        g,
                        Key::Output(producer, self.output_index(producer, name)),
                        value,
                    ),
                }
            }
            ValueKind::Placeholder(name) => Err(format!(
                "{name:?} is a component input placeholder; it only means something on that \
                 component's command line"
            )),
            ValueKind::Invalid(message) => Err(message.clone()),
        }
    }

    /// Where an artifact argument for `value` comes from, as seen from group `g`.
    fn artifact_source(
        &mut self,
        g: usize,
        site: Option<Node>,
        value: &Value,
    ) -> Res<ArtifactSource> {
        if let ValueKind::Param { pipeline, name } = &value.kind
            && *pipeline == self.p.id
            && !self.is_root
            && self.p.file_params.contains(name)
        {
            let name = if g == 0 {
                name.clone()
            } else {
                self.import_artifact(g, Key::Param(self.param_index(name)), value)?
            };
            return Ok(ArtifactSource::From(format!(
                "{{{{inputs.artifacts.{name}}}}}"
            )));
        }
        let ValueKind::Output { task, name } = &value.kind else {
            return self.param_text(g, site, value).map(ArtifactSource::Raw);
        };
        let producer = self.output_producer(*task)?;
        if !self
            .output_needs(producer, name, value.type_spec.as_ref())
            .file
        {
            return self.param_text(g, site, value).map(ArtifactSource::Raw);
        }
        match self.rep_in(g, producer) {
            Some(Node::Task(p)) => {
                self.add_dep(site, Node::Task(p));
                let argo = self.output_argo_name(p, name);
                Ok(ArtifactSource::From(format!(
                    "{{{{tasks.{}.outputs.artifacts.{argo}}}}}",
                    self.task_names[p]
                )))
            }
            Some(Node::Group(c)) => {
                let exported = self.export(
                    c,
                    Key::Output(producer, self.output_index(producer, name)),
                    value,
                    Passing::Artifact,
                )?;
                self.add_dep(site, Node::Group(c));
                Ok(ArtifactSource::From(format!(
                    "{{{{tasks.{}.outputs.artifacts.{exported}}}}}",
                    self.groups[c].name
                )))
            }
            None => {
                let imported = self.import_artifact(
                    g,
                    Key::Output(producer, self.output_index(producer, name)),
                    value,
                )?;
                Ok(ArtifactSource::From(format!(
                    "{{{{inputs.artifacts.{imported}}}}}"
                )))
            }
        }
    }

    fn output_producer(&self, task: TaskId) -> Res<usize> {
        if task.pipeline != self.p.id {
            return Err("this output belongs to a task of another pipeline".into());
        }
        if self.p.tasks[task.index].exit_of.is_some() {
            return Err(
                "the outputs of an exit task cannot be used: it runs after everything else".into(),
            );
        }
        if self.exit_mode.is_some() {
            return Err(
                "an exit task can only use constants, parameters, loop items and \
                 workflow variables, not other tasks' outputs"
                    .into(),
            );
        }
        Ok(task.index)
    }

    fn is_within(&self, g: usize, ancestor: usize) -> bool {
        let mut c = Some(g);
        while let Some(x) = c {
            if x == ancestor {
                return true;
            }
            c = self.groups[x].parent;
        }
        false
    }

    /// Make `value` an input parameter of group `g`, passed in by its invoking task.
    fn import_param(&mut self, g: usize, key: Key, value: &Value) -> Res<String> {
        if let Some(name) = self.groups[g]
            .imports
            .get(&(key.clone(), Passing::Parameter))
        {
            return Ok(format!("{{{{inputs.parameters.{name}}}}}"));
        }
        let outer = match (&key, self.groups[g].kind.clone()) {
            (Key::Item(l, field), _) if *l == g => match field {
                Some(f) => format!("{{{{item.{f}}}}}"),
                None => "{{item}}".to_owned(),
            },
            _ => {
                let parent = self.groups[g]
                    .parent
                    .ok_or("this value is not available here")?;
                self.param_text(parent, Some(Node::Group(g)), value)?
            }
        };
        let base = self.import_name(&key);
        let name = self.groups[g].io_names.unique(&base);
        self.groups[g].in_params.push((name.clone(), outer));
        self.groups[g]
            .imports
            .insert((key, Passing::Parameter), name.clone());
        Ok(format!("{{{{inputs.parameters.{name}}}}}"))
    }

    fn import_artifact(&mut self, g: usize, key: Key, value: &Value) -> Res<String> {
        if let Some(name) = self.groups[g]
            .imports
            .get(&(key.clone(), Passing::Artifact))
        {
            return Ok(name.clone());
        }
        let parent = self.groups[g]
            .parent
            .ok_or("this file is not available here")?;
        let outer = self.artifact_source(parent, Some(Node::Group(g)), value)?;
        let base = self.import_name(&key);
        let name = self.groups[g].io_names.unique(&base);
        self.groups[g].in_artifacts.push((name.clone(), outer));
        self.groups[g]
            .imports
            .insert((key, Passing::Artifact), name.clone());
        Ok(name)
    }

    /// Make a value produced inside group `c` an output of `c`'s template.
    fn export(&mut self, c: usize, key: Key, value: &Value, passing: Passing) -> Res<String> {
        if let Some(name) = self.groups[c].exports.get(&(key.clone(), passing)) {
            return Ok(name.clone());
        }
        if passing == Passing::Artifact
            && matches!(self.groups[c].kind, Kind::Loop(_) | Kind::Limiter(_))
        {
            return Err(
                "a file produced inside a loop cannot be used after the loop (only \
                 values are collected across iterations)"
                    .into(),
            );
        }
        let base = self.import_name(&key);
        let name = self.groups[c].out_names.unique(&base);
        match passing {
            Passing::Parameter => {
                let inner = self.param_text(c, None, value)?;
                self.groups[c].out_params.push((name.clone(), inner));
            }
            Passing::Artifact => match self.artifact_source(c, None, value)? {
                ArtifactSource::From(inner) => {
                    self.groups[c].out_artifacts.push((name.clone(), inner))
                }
                ArtifactSource::Raw(_) => {
                    return Err("internal: a file output has no producer".into());
                }
            },
        }
        self.groups[c].exports.insert((key, passing), name.clone());
        Ok(name)
    }

    fn import_name(&self, key: &Key) -> String {
        match key {
            Key::Param(i) => self
                .p
                .params
                .get(*i)
                .map(|p| p.name.clone())
                .unwrap_or_default(),
            Key::Item(g, None) => format!("{}-item", self.groups[*g].name),
            Key::Item(g, Some(f)) => format!("{}-item-{}", self.groups[*g].name, param_name(f)),
            Key::Output(t, i) => {
                let output = self.output_names(*t).get(*i).copied().unwrap_or_default();
                format!("{}-{}", self.task_names[*t], param_name(output))
            }
        }
    }

    fn render_cond(&mut self, g: usize, site: Option<Node>, cond: &Cond) -> Res<String> {
        Ok(match cond {
            Cond::Compare { lhs, op, rhs } => {
                let numeric = is_numeric(lhs) && is_numeric(rhs);
                let l = self.param_text(g, site, lhs)?;
                let r = self.param_text(g, site, rhs)?;
                if numeric {
                    format!("{l} {} {r}", op.as_str())
                } else {
                    format!("{} {} {}", quote(&l), op.as_str(), quote(&r))
                }
            }
            Cond::And(a, b) => format!(
                "({}) && ({})",
                self.render_cond(g, site, a)?,
                self.render_cond(g, site, b)?
            ),
            Cond::Or(a, b) => format!(
                "({}) || ({})",
                self.render_cond(g, site, a)?,
                self.render_cond(g, site, b)?
            ),
            Cond::Not(c) => format!("!({})", self.render_cond(g, site, c)?),
        })
    }

    fn node_name(&self, node: Node) -> &str {
        match node {
            Node::Task(t) => &self.task_names[t],
            Node::Group(g) => &self.groups[g].name,
        }
    }

    fn check_cycles(&mut self) {
        for g in 0..self.groups.len() {
            let members = self.groups[g].members.clone();
            let mut graph = DiGraph::<Node, ()>::with_capacity(members.len(), members.len());
            let index: HashMap<Node, _> =
                members.iter().map(|m| (*m, graph.add_node(*m))).collect();
            for m in &members {
                for d in self.deps.get(m).into_iter().flatten() {
                    if let (Some(&from), Some(&to)) = (index.get(d), index.get(m)) {
                        graph.add_edge(from, to, ());
                    }
                }
            }
            if toposort(&graph, None).is_ok() {
                continue;
            }
            for scc in tarjan_scc(&graph) {
                if scc.len() < 2 {
                    continue;
                }
                let mut names: Vec<&str> = scc.iter().map(|i| self.node_name(graph[*i])).collect();
                names.sort_unstable();
                let message = format!(
                    "these tasks depend on each other in a cycle: {} (a group depends on \
                     everything inside it)",
                    names.join(" -> ")
                );
                self.problem(None, None, message);
            }
        }
    }
}

fn is_numeric(v: &Value) -> bool {
    match (&v.kind, &v.type_spec) {
        (_, Some(t)) if t.is_numeric() => true,
        (ValueKind::Const(text), None) => text.trim().parse::<f64>().is_ok(),
        _ => false,
    }
}

/// A string operand of a `when` expression (govaluate literal).
fn quote(text: &str) -> String {
    if text.contains('\'') {
        format!("\"{text}\"")
    } else {
        format!("'{text}'")
    }
}

fn compatible(given: Option<&TypeSpec>, expected: Option<&TypeSpec>) -> bool {
    let generic = |t: &TypeSpec| matches!(t, TypeSpec::Name(n) if n == ARTIFACT_TYPE);
    match (given, expected) {
        (Some(g), Some(e)) if generic(g) || generic(e) => {
            g.scalar_kind().is_none() && e.scalar_kind().is_none()
        }
        _ => TypeSpec::compatible(given, expected),
    }
}

impl GraphCompiler<'_> {
    /// Names of the outputs of task `t`'s component or pipeline, in declaration order.
    fn output_names(&self, t: usize) -> Vec<&str> {
        match &self.p.tasks[t].spec.op {
            Op::Component(c) => c.spec.outputs.iter().map(|o| o.name.as_str()).collect(),
            Op::Pipeline(p) => p.outputs.iter().map(|(n, _)| n.as_str()).collect(),
        }
    }

    /// Cache keys use indices rather than names: no allocation per lookup.
    fn output_index(&self, t: usize, name: &str) -> usize {
        match &self.p.tasks[t].spec.op {
            Op::Component(c) => c.spec.outputs.iter().position(|o| o.name == name),
            Op::Pipeline(p) => p.outputs.iter().position(|(n, _)| n == name),
        }
        .unwrap_or(usize::MAX)
    }

    fn param_index(&self, name: &str) -> usize {
        self.p
            .params
            .iter()
            .position(|p| p.name == name)
            .unwrap_or(usize::MAX)
    }

    /// The Argo name of output `name` of task `t`, made unique the way its template does.
    fn output_argo_name(&self, t: usize, name: &str) -> String {
        let outputs = self.output_names(t);
        let argo = param_name(name);
        // Common case: no other output sanitises to the same name.
        if outputs.iter().filter(|o| param_name(o) == argo).count() == 1 {
            return argo;
        }
        let mut used = NameSet::default();
        for output in outputs {
            let argo = used.unique(&param_name(output));
            if output == name {
                return argo;
            }
        }
        param_name(name)
    }
}

// ----- emitting templates -----------------------------------------------------------------

impl GraphCompiler<'_> {
    fn emit(mut self) -> String {
        let mut templates = Vec::with_capacity(self.groups.len());
        // Each task's arguments go to exactly one DAG: move them instead of copying.
        let mut task_args = std::mem::take(&mut self.task_args);
        for g in 0..self.groups.len() {
            let group = &self.groups[g];
            let position: HashMap<Node, usize> = group
                .members
                .iter()
                .enumerate()
                .map(|(i, m)| (*m, i))
                .collect();
            let tasks = group
                .members
                .iter()
                .map(|&m| {
                    let mut deps: Vec<Node> =
                        self.deps.get(&m).into_iter().flatten().copied().collect();
                    deps.sort_by_key(|d| position.get(d).copied().unwrap_or(usize::MAX));
                    let depends = (!deps.is_empty()).then(|| {
                        deps.iter()
                            .map(|d| self.node_name(*d))
                            .collect::<Vec<_>>()
                            .join(" && ")
                    });
                    match m {
                        Node::Task(t) => DagTask {
                            name: self.task_names[t].clone(),
                            template: Some(self.task_templates[t].clone()),
                            arguments: std::mem::take(&mut task_args[t]),
                            depends,
                            ..DagTask::default()
                        },
                        Node::Group(c) => {
                            let child = &self.groups[c];
                            DagTask {
                                name: child.name.clone(),
                                template: Some(child.template.clone()),
                                arguments: Arguments {
                                    parameters: child
                                        .in_params
                                        .iter()
                                        .map(|(n, v)| Parameter::with_value(n.clone(), v.clone()))
                                        .collect(),
                                    artifacts: child
                                        .in_artifacts
                                        .iter()
                                        .map(|(n, src)| src.clone().into_artifact(n.clone()))
                                        .collect(),
                                },
                                depends,
                                when: child.when.clone(),
                                with_items: child.with_items.clone(),
                                with_param: child.with_param.clone(),
                                hooks: child
                                    .hook
                                    .clone()
                                    .map(|h| BTreeMap::from([("exit".to_owned(), h)]))
                                    .unwrap_or_default(),
                                ..DagTask::default()
                            }
                        }
                    }
                })
                .collect();
            let in_params: Vec<String> = group.in_params.iter().map(|(n, _)| n.clone()).collect();
            let in_artifacts: Vec<String> =
                group.in_artifacts.iter().map(|(n, _)| n.clone()).collect();
            let mut inputs = dag_io(&in_params, &in_artifacts);
            if g == 0 && !self.is_root {
                let is_file = |p: &&PipelineParam| self.p.file_params.contains(&p.name);
                inputs.parameters = self
                    .p
                    .params
                    .iter()
                    .filter(|p| !is_file(p))
                    .map(|p| Parameter {
                        name: p.name.clone(),
                        default: p.default.clone(),
                        ..Parameter::default()
                    })
                    .collect();
                inputs.artifacts = self
                    .p
                    .params
                    .iter()
                    .filter(is_file)
                    .map(|p| Artifact {
                        name: p.name.clone(),
                        raw: p.default.clone().map(|data| RawArtifact { data }),
                        ..Artifact::default()
                    })
                    .collect();
            }
            templates.push(Template {
                name: group.template.clone(),
                inputs,
                outputs: dag_outputs(&group.out_params, &group.out_artifacts),
                dag: Some(DagTemplate {
                    tasks,
                    ..DagTemplate::default()
                }),
                parallelism: match group.kind {
                    Kind::Limiter(n) => Some(i64::from(n)),
                    _ => None,
                },
                ..Template::default()
            });
        }
        let top = templates
            .first()
            .map(|t| t.name.clone())
            .unwrap_or_default();
        for t in templates {
            self.reg.push(t);
        }
        if let Some(on_exit) = self.on_exit.take() {
            self.reg.on_exit = Some(on_exit);
        }
        top
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::component::{Component, OutputSpec, output_path};

    /// The builder cannot express a cycle (handles only point backwards), but graph
    /// components and future front ends can: the check must name the tasks.
    #[test]
    fn cycles_are_reported_with_their_tasks() {
        let c = Component::container("step", "alpine:3.20")
            .output(OutputSpec::string("out"))
            .command(["sh", "-c", "echo > \"$0\""])
            .arg(output_path("out"));
        let mut p = Pipeline::new("loop");
        p.task(c.task().name("a"));
        p.task(c.task().name("b"));
        let mut reg = Registry::new(200);
        let mut g = GraphCompiler::new(&mut reg, &p, true, 200);
        g.build_tree();
        g.name_everything();
        g.add_dep(Some(Node::Task(0)), Node::Task(1));
        g.add_dep(Some(Node::Task(1)), Node::Task(0));
        g.check_cycles();
        let messages: Vec<String> = reg.problems.iter().map(ToString::to_string).collect();
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert!(messages[0].contains("cycle: a -> b"), "{messages:?}");
    }
}
