use std::sync::Arc;

use super::{Param, Pipeline, PipelineId, Value, ValueKind};
use crate::component::{Component, Configure, KfpType, OutputSpec, TaskConfig};

/// Identifies a task within its pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId {
    pub(crate) pipeline: PipelineId,
    pub(crate) index: usize,
}

/// What a task runs: a component, or a whole pipeline used as one step.
#[derive(Debug, Clone)]
pub enum Op {
    Component(Arc<Component>),
    Pipeline(Arc<Pipeline>),
}

impl Op {
    pub(crate) fn name(&self) -> &str {
        match self {
            Op::Component(c) => &c.spec.name,
            Op::Pipeline(p) => p.name(),
        }
    }
    pub(crate) fn outputs(&self) -> Vec<OutputSpec> {
        match self {
            Op::Component(c) => c.spec.outputs.clone(),
            Op::Pipeline(p) => p
                .outputs
                .iter()
                .map(|(name, v)| OutputSpec::new(name.clone(), v.type_spec.clone()))
                .collect(),
        }
    }
}

/// A task before it is added to a pipeline: what to run, with which arguments and settings.
#[derive(Debug, Clone)]
pub struct TaskSpec {
    pub(crate) op: Op,
    pub(crate) args: Vec<(String, Value)>,
    pub(crate) after: Vec<TaskId>,
    pub(crate) config: TaskConfig,
    pub(crate) name: Option<String>,
    pub(crate) display_name: Option<String>,
}

impl TaskSpec {
    pub fn new(op: Op) -> Self {
        Self {
            op,
            args: Vec::new(),
            after: Vec::new(),
            config: TaskConfig::default(),
            name: None,
            display_name: None,
        }
    }
    /// Pass `value` to the input `input`.
    pub fn arg(mut self, input: impl Into<String>, value: impl Into<Value>) -> Self {
        let input = input.into();
        self.args.retain(|(n, _)| *n != input);
        self.args.push((input, value.into()));
        self
    }
    /// Run only after `task` has finished (beyond the order data passing implies).
    pub fn after<O>(mut self, task: &Task<O>) -> Self {
        // Duplicates are harmless (dependencies are a set when compiled); not checking
        // keeps a task after 10,000 others linear to build.
        self.after.push(task.id);
        self
    }
    /// The task's name in the workflow (unique, Kubernetes-style); derived from the
    /// component's name when not given.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
    /// A human-friendly name for UIs.
    pub fn display_name(mut self, name: impl Into<String>) -> Self {
        self.display_name = Some(name.into());
        self
    }
}

impl Configure for TaskSpec {
    fn config_mut(&mut self) -> &mut TaskConfig {
        &mut self.config
    }
}

impl Component {
    /// A task running this component; supply its inputs with [`TaskSpec::arg`].
    pub fn task(&self) -> TaskSpec {
        TaskSpec::new(Op::Component(Arc::new(self.clone())))
    }
}

impl From<Component> for TaskSpec {
    fn from(c: Component) -> Self {
        TaskSpec::new(Op::Component(Arc::new(c)))
    }
}
impl From<Arc<Component>> for TaskSpec {
    fn from(c: Arc<Component>) -> Self {
        TaskSpec::new(Op::Component(c))
    }
}

/// A typed task: its spec plus typed handles on its outputs (what `#[component]` returns).
#[derive(Debug)]
pub struct TypedTaskSpec<O> {
    pub spec: TaskSpec,
    make_outputs: fn(&OutputSource) -> O,
}

impl<O> TypedTaskSpec<O> {
    pub fn new(spec: TaskSpec, make_outputs: fn(&OutputSource) -> O) -> Self {
        Self { spec, make_outputs }
    }
    /// Adjust the untyped spec (settings, name, `after`...).
    pub fn map(mut self, f: impl FnOnce(TaskSpec) -> TaskSpec) -> Self {
        self.spec = f(self.spec);
        self
    }
    pub fn after<P>(self, task: &Task<P>) -> Self {
        self.map(|s| s.after(task))
    }
    pub fn name(self, name: impl Into<String>) -> Self {
        self.map(|s| s.name(name))
    }
    pub fn display_name(self, name: impl Into<String>) -> Self {
        self.map(|s| s.display_name(name))
    }
}

impl<O> Configure for TypedTaskSpec<O> {
    fn config_mut(&mut self) -> &mut TaskConfig {
        &mut self.spec.config
    }
}

/// Anything that can be added to a pipeline as a task.
pub trait IntoTask {
    type Outputs;
    fn into_task(self) -> (TaskSpec, fn(&OutputSource) -> Self::Outputs);
}

impl IntoTask for TaskSpec {
    type Outputs = ();
    fn into_task(self) -> (TaskSpec, fn(&OutputSource)) {
        (self, |_| ())
    }
}

impl<O> IntoTask for TypedTaskSpec<O> {
    type Outputs = O;
    fn into_task(self) -> (TaskSpec, fn(&OutputSource) -> O) {
        (self.spec, self.make_outputs)
    }
}

/// Where a task's outputs come from; hands out typed output values.
#[derive(Debug)]
pub struct OutputSource {
    pub(crate) task: TaskId,
    pub(crate) specs: Vec<OutputSpec>,
}

impl OutputSource {
    /// The output `name`, untyped.
    pub fn value(&self, name: &str) -> Value {
        output_value(self.task, &self.specs, name)
    }
    /// The output `name`, typed.
    pub fn param<T: KfpType>(&self, name: &str) -> Param<T> {
        Param::from_value(self.value(name))
    }
}

/// A task added to a pipeline: a handle to order other tasks after it and to read its
/// outputs.
#[derive(Debug, Clone)]
pub struct Task<O = ()> {
    pub(crate) id: TaskId,
    pub(crate) outputs_src: Arc<OutputSourceData>,
    /// Typed outputs (for tasks made by `#[component]` functions).
    pub outputs: O,
}

#[derive(Debug)]
pub(crate) struct OutputSourceData {
    pub(crate) specs: Vec<OutputSpec>,
}

impl<O> Task<O> {
    /// The output `name`, untyped (unknown names are reported when compiling).
    pub fn output(&self, name: &str) -> Value {
        output_value(self.id, &self.outputs_src.specs, name)
    }
    /// The output `name`, typed.
    pub fn output_param<T: KfpType>(&self, name: &str) -> Param<T> {
        Param::from_value(self.output(name))
    }
}

fn output_value(task: TaskId, specs: &[OutputSpec], name: &str) -> Value {
    match specs.iter().find(|o| o.name == name) {
        Some(spec) => Value {
            kind: ValueKind::Output {
                task,
                name: name.to_owned(),
            },
            type_spec: spec.type_spec.clone(),
        },
        None => Value::invalid(format!(
            "there is no output {name:?}; the outputs are: {}",
            if specs.is_empty() {
                "(none)".to_owned()
            } else {
                specs
                    .iter()
                    .map(|o| o.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        )),
    }
}
