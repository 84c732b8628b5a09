use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::{
    Cond, IntoTask, Item, Items, LoopSource, Op, OutputSource, OutputSourceData, Param, Task,
    TaskId, TaskSpec, Value, ValueKind, WorkflowVar,
};
use crate::component::{KfpType, TypeSpec};

/// Identifies a pipeline being built, so values from another pipeline are caught.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PipelineId(u64);

impl PipelineId {
    fn next() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Self(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// Identifies a group (the pipeline itself, a condition, a loop, an exit handler's body).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupId(pub(crate) usize);

/// A pipeline: typed parameters, tasks, and the groups that condition, repeat or guard
/// them. Build it with [`Pipeline::new`], then compile it with [`crate::compile()`].
#[derive(Debug, Clone)]
pub struct Pipeline {
    pub(crate) id: PipelineId,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) params: Vec<PipelineParam>,
    pub(crate) tasks: Vec<TaskNode>,
    pub(crate) groups: Vec<Group>,
    current: GroupId,
    pub(crate) outputs: Vec<(String, Value)>,
    pub(crate) settings: PipelineSettings,
    pub(crate) errors: Vec<String>,
    /// Parameters that are files (input artifacts of the DAG template) when this pipeline
    /// runs as a task of another: set for graph components whose tasks read an input with
    /// `inputPath` (see `component::graph`). Every other parameter is a value.
    pub(crate) file_params: std::collections::BTreeSet<String>,
}

/// A declared pipeline parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineParam {
    pub name: String,
    pub type_spec: Option<TypeSpec>,
    pub default: Option<String>,
    pub description: Option<String>,
    /// Allowed values, if restricted.
    pub choices: Vec<String>,
}

/// Workflow-wide settings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PipelineSettings {
    pub parallelism: Option<u32>,
    pub timeout: Option<Duration>,
    pub ttl_after_finished: Option<Duration>,
    pub service_account: Option<String>,
    pub image_pull_secrets: Vec<String>,
    pub pod_gc: Option<PodGcStrategy>,
    pub namespace: Option<String>,
    pub labels: Vec<(String, String)>,
    pub annotations: Vec<(String, String)>,
    /// The image Rust-function tasks run in (see `dsl::FunctionComponent`).
    pub function_image: Option<String>,
    /// The pipeline binary's path in that image.
    pub function_binary: Option<String>,
}

/// When pods are deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PodGcStrategy {
    OnPodCompletion,
    OnPodSuccess,
    OnWorkflowCompletion,
    OnWorkflowSuccess,
}

impl PodGcStrategy {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::OnPodCompletion => "OnPodCompletion",
            Self::OnPodSuccess => "OnPodSuccess",
            Self::OnWorkflowCompletion => "OnWorkflowCompletion",
            Self::OnWorkflowSuccess => "OnWorkflowSuccess",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct TaskNode {
    pub(crate) spec: TaskSpec,
    /// Exit tasks run after their group, outside the DAG.
    pub(crate) exit_of: Option<GroupId>,
}

#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub(crate) kind: GroupKind,
    pub(crate) members: Vec<Member>,
}

#[derive(Debug, Clone)]
pub(crate) enum GroupKind {
    Root,
    Condition(Cond),
    Loop {
        source: LoopSource,
        parallelism: Option<u32>,
    },
    ExitHandler {
        exit_task: usize,
    },
}

/// A member of a group, in the order it was added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Member {
    Task(usize),
    Group(GroupId),
}

impl Pipeline {
    /// A new pipeline; `name` becomes the workflow's name prefix.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            id: PipelineId::next(),
            name: name.into(),
            description: None,
            params: Vec::new(),
            tasks: Vec::new(),
            groups: vec![Group {
                kind: GroupKind::Root,
                members: Vec::new(),
            }],
            current: GroupId(0),
            outputs: Vec::new(),
            settings: PipelineSettings::default(),
            errors: Vec::new(),
            file_params: std::collections::BTreeSet::new(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }
    pub fn set_description(&mut self, text: impl Into<String>) {
        self.description = Some(text.into());
    }

    /// Workflow-wide settings (parallelism, timeout, TTL, service account, ...).
    pub fn settings_mut(&mut self) -> &mut PipelineSettings {
        &mut self.settings
    }

    /// Declare a typed parameter without a default (the run must supply it).
    pub fn param<T: KfpType>(&mut self, name: impl Into<String>) -> Param<T> {
        Param::from_value(self.param_value(name, Some(T::type_spec()), None, None))
    }

    /// Declare a typed parameter with a default value.
    pub fn param_with_default<T: KfpType>(
        &mut self,
        name: impl Into<String>,
        default: T,
    ) -> Param<T> {
        let text = default.to_param_text();
        Param::from_value(self.param_value(name, Some(T::type_spec()), Some(text), None))
    }

    /// Declare a parameter with full control (untyped builder form).
    pub fn param_value(
        &mut self,
        name: impl Into<String>,
        type_spec: Option<TypeSpec>,
        default: Option<String>,
        description: Option<String>,
    ) -> Value {
        let name = name.into();
        if self.params.iter().any(|p| p.name == name) {
            self.errors
                .push(format!("parameter {name:?} is declared twice"));
        }
        // Runs pass parameters by these exact names, so they are not rewritten.
        let valid = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !valid {
            self.errors.push(format!(
                "parameter name {name:?} is not valid: use letters, digits, `-` and `_` only"
            ));
        }
        if let (Some(t), Some(d)) = (&type_spec, &default)
            && let Err(e) = t.check_constant(d)
        {
            self.errors.push(format!("parameter {name:?}: default {e}"));
        }
        self.params.push(PipelineParam {
            name: name.clone(),
            type_spec: type_spec.clone(),
            default,
            description,
            choices: Vec::new(),
        });
        Value {
            kind: ValueKind::Param {
                pipeline: self.id,
                name,
            },
            type_spec,
        }
    }

    /// Restrict a declared parameter to a set of values (Argo `enum`).
    pub fn param_choices(&mut self, name: &str, choices: impl IntoIterator<Item = impl ToString>) {
        match self.params.iter_mut().find(|p| p.name == name) {
            Some(p) => p.choices = choices.into_iter().map(|c| c.to_string()).collect(),
            None => self
                .errors
                .push(format!("`param_choices`: no parameter {name:?}")),
        }
    }

    /// Add a task to the current group.
    pub fn task<T: IntoTask>(&mut self, task: T) -> Task<T::Outputs> {
        let (spec, make_outputs) = task.into_task();
        // A graph component's task runs as a sub-pipeline built for its arguments.
        let spec = crate::component::expand_graph_task(spec);
        let index = self.tasks.len();
        let id = TaskId {
            pipeline: self.id,
            index,
        };
        let source = OutputSource {
            task: id,
            specs: spec.op.outputs(),
        };
        let outputs = make_outputs(&source);
        self.tasks.push(TaskNode {
            spec,
            exit_of: None,
        });
        self.groups[self.current.0]
            .members
            .push(Member::Task(index));
        Task {
            id,
            outputs_src: Arc::new(OutputSourceData {
                specs: source.specs,
            }),
            outputs,
        }
    }

    /// Run `body`'s tasks only when `cond` holds (an Argo `when` on a DAG group).
    pub fn when<R>(&mut self, cond: Cond, body: impl FnOnce(&mut Self) -> R) -> R {
        self.in_group(GroupKind::Condition(cond), body)
    }

    /// Run `body` once per item, iterations in parallel (bounded by the items'
    /// `parallelism`). Values produced inside the loop and used after it are the JSON
    /// list of every iteration's value.
    pub fn parallel_for<T, R>(
        &mut self,
        items: impl Into<Items<T>>,
        body: impl FnOnce(&mut Self, Item<T>) -> R,
    ) -> R {
        let items = items.into();
        let kind = GroupKind::Loop {
            source: items.source,
            parallelism: items.parallelism,
        };
        let pipeline = self.id;
        let group = GroupId(self.groups.len());
        self.in_group(kind, |p| {
            let item = Item::new(Value {
                kind: ValueKind::Item {
                    pipeline,
                    group,
                    field: None,
                },
                type_spec: None,
            });
            body(p, item)
        })
    }

    /// Run `exit_task` after every task of `body` has finished, whatever their outcome
    /// (an Argo exit handler). At the top level of a pipeline it is the workflow's
    /// `onExit`; anywhere else (inside a condition or loop, or a second one) it is an exit
    /// hook on the body, so it runs exactly where it is written.
    pub fn exit_handler<T: IntoTask, R>(
        &mut self,
        exit_task: T,
        body: impl FnOnce(&mut Self) -> R,
    ) -> (Task<T::Outputs>, R) {
        let (spec, make_outputs) = exit_task.into_task();
        let spec = crate::component::expand_graph_task(spec);
        let index = self.tasks.len();
        let id = TaskId {
            pipeline: self.id,
            index,
        };
        let source = OutputSource {
            task: id,
            specs: spec.op.outputs(),
        };
        let outputs = make_outputs(&source);
        let group = GroupId(self.groups.len());
        self.tasks.push(TaskNode {
            spec,
            exit_of: Some(group),
        });
        let result = self.in_group(GroupKind::ExitHandler { exit_task: index }, body);
        let task = Task {
            id,
            outputs_src: Arc::new(OutputSourceData {
                specs: source.specs,
            }),
            outputs,
        };
        (task, result)
    }

    /// Declare an output of this pipeline (used when it runs as a task of another).
    pub fn output(&mut self, name: impl Into<String>, value: impl Into<Value>) {
        let name = name.into();
        if self.outputs.iter().any(|(n, _)| *n == name) {
            self.errors
                .push(format!("output {name:?} is declared twice"));
        }
        self.outputs.push((name, value.into()));
    }

    /// The run's status, for an exit handler: `Succeeded`, `Failed` or `Error`.
    pub fn workflow_status(&self) -> Param<String> {
        Param::from_value(Value::workflow(WorkflowVar::Status))
    }
    /// The failed steps as a JSON list, for an exit handler.
    pub fn workflow_failures(&self) -> Param<Vec<serde_json::Value>> {
        Param::from_value(Value::workflow(WorkflowVar::Failures))
    }
    /// The run's name.
    pub fn workflow_name(&self) -> Param<String> {
        Param::from_value(Value::workflow(WorkflowVar::Name))
    }
    /// The run's unique id.
    pub fn workflow_uid(&self) -> Param<String> {
        Param::from_value(Value::workflow(WorkflowVar::Uid))
    }

    /// Use this pipeline as one step of another.
    pub fn into_task(self) -> TaskSpec {
        TaskSpec::new(Op::Pipeline(Arc::new(self)))
    }

    fn in_group<R>(&mut self, kind: GroupKind, body: impl FnOnce(&mut Self) -> R) -> R {
        let id = GroupId(self.groups.len());
        self.groups.push(Group {
            kind,
            members: Vec::new(),
        });
        self.groups[self.current.0].members.push(Member::Group(id));
        let outer = self.current;
        self.current = id;
        let result = body(self);
        self.current = outer;
        result
    }
}

impl PipelineSettings {
    /// At most `n` pods at once in the whole run.
    pub fn parallelism(&mut self, n: u32) -> &mut Self {
        self.parallelism = Some(n);
        self
    }
    /// Fail the run if it takes longer than this.
    pub fn timeout(&mut self, d: Duration) -> &mut Self {
        self.timeout = Some(d);
        self
    }
    /// Delete the finished workflow object after this long.
    pub fn ttl_after_finished(&mut self, d: Duration) -> &mut Self {
        self.ttl_after_finished = Some(d);
        self
    }
    pub fn service_account(&mut self, name: impl Into<String>) -> &mut Self {
        self.service_account = Some(name.into());
        self
    }
    pub fn image_pull_secret(&mut self, name: impl Into<String>) -> &mut Self {
        self.image_pull_secrets.push(name.into());
        self
    }
    pub fn pod_gc(&mut self, strategy: PodGcStrategy) -> &mut Self {
        self.pod_gc = Some(strategy);
        self
    }
    pub fn label(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Self {
        self.labels.push((key.into(), value.into()));
        self
    }
    pub fn annotation(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Self {
        self.annotations.push((key.into(), value.into()));
        self
    }
}
