use std::fmt;
use std::marker::PhantomData;

use crate::component::{CmdArg, KfpType, TypeSpec};

use super::{GroupId, PipelineId, TaskId};

/// A value flowing through a pipeline, untyped: what the builder API passes around.
///
/// Typed code uses [`Param<T>`], which wraps one of these.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    pub(crate) kind: ValueKind,
    pub(crate) type_spec: Option<TypeSpec>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ValueKind {
    /// A constant known when the pipeline is built.
    Const(String),
    /// A parameter of a pipeline (the root one, or a sub-pipeline's).
    Param { pipeline: PipelineId, name: String },
    /// An output of a task.
    Output { task: TaskId, name: String },
    /// The current item of a loop, or one field of it.
    Item {
        pipeline: PipelineId,
        group: GroupId,
        field: Option<String>,
    },
    /// A workflow-wide variable.
    Workflow(WorkflowVar),
    /// An input of a component, inside that component's command line.
    Placeholder(String),
    /// A mistake made while building (e.g. asking for an output that does not exist).
    Invalid(String),
}

/// Workflow-wide variables a task may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkflowVar {
    /// The run's name.
    Name,
    /// The run's unique id.
    Uid,
    /// The namespace it runs in.
    Namespace,
    /// `Succeeded`, `Failed` or `Error`: meaningful in the top-level exit handler.
    Status,
    /// JSON list of the failed steps: meaningful in the top-level exit handler.
    Failures,
}

impl WorkflowVar {
    pub(crate) fn tag(self) -> &'static str {
        match self {
            Self::Name => "{{workflow.name}}",
            Self::Uid => "{{workflow.uid}}",
            Self::Namespace => "{{workflow.namespace}}",
            Self::Status => "{{workflow.status}}",
            Self::Failures => "{{workflow.failures}}",
        }
    }
}

impl Value {
    /// A constant text value.
    pub fn constant(text: impl Into<String>) -> Self {
        Self {
            kind: ValueKind::Const(text.into()),
            type_spec: None,
        }
    }
    /// A constant with a KFP type (checked against the input it is passed to).
    pub fn typed_constant(text: impl Into<String>, type_spec: TypeSpec) -> Self {
        Self {
            kind: ValueKind::Const(text.into()),
            type_spec: Some(type_spec),
        }
    }
    /// A workflow variable such as the run's status (for exit handlers).
    pub fn workflow(var: WorkflowVar) -> Self {
        let type_spec = match var {
            WorkflowVar::Failures => Some(TypeSpec::json_array()),
            _ => Some(TypeSpec::string()),
        };
        Self {
            kind: ValueKind::Workflow(var),
            type_spec,
        }
    }
    /// The input `name` of the component being defined, for use on its command line.
    pub fn placeholder(name: impl Into<String>, type_spec: Option<TypeSpec>) -> Self {
        Self {
            kind: ValueKind::Placeholder(name.into()),
            type_spec,
        }
    }
    pub(crate) fn invalid(message: String) -> Self {
        Self {
            kind: ValueKind::Invalid(message),
            type_spec: None,
        }
    }

    /// The KFP type of this value, if known.
    pub fn type_spec(&self) -> Option<&TypeSpec> {
        self.type_spec.as_ref()
    }

    /// The same value seen with another type (e.g. a loop's outputs as a JSON list).
    pub fn with_type(mut self, type_spec: Option<TypeSpec>) -> Self {
        self.type_spec = type_spec;
        self
    }

    /// One field of a loop item that is a map (`{{item.<field>}}`).
    pub fn field(&self, field: &str) -> Value {
        match &self.kind {
            ValueKind::Item {
                pipeline,
                group,
                field: None,
            } => Value {
                kind: ValueKind::Item {
                    pipeline: *pipeline,
                    group: *group,
                    field: Some(field.to_owned()),
                },
                type_spec: None,
            },
            _ => Value::invalid(format!(
                "`.field({field:?})` is only available on a loop item whose items are maps"
            )),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::constant(s)
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::constant(s)
    }
}
impl From<&Value> for Value {
    fn from(v: &Value) -> Self {
        v.clone()
    }
}

/// A typed value: a pipeline parameter, a task output, a loop item or a constant.
///
/// The type parameter is checked by rustc where the typed DSL wires tasks together, and by
/// the compiler (against KFP types) everywhere else.
pub struct Param<T> {
    pub(crate) value: Value,
    _type: PhantomData<fn() -> T>,
}

impl<T> Param<T> {
    /// Wrap an untyped value, trusting it carries a `T`.
    pub fn from_value(value: Value) -> Self {
        Self {
            value,
            _type: PhantomData,
        }
    }
    /// The untyped value.
    pub fn value(&self) -> &Value {
        &self.value
    }
    pub fn into_value(self) -> Value {
        self.value
    }
}

impl<T: KfpType> Param<T> {
    /// A constant of this type.
    pub fn constant(value: T) -> Self {
        Self::from_value(Value::typed_constant(value.to_param_text(), T::type_spec()))
    }
    /// The component input `name`, inside a component's command line.
    pub fn placeholder(name: impl Into<String>) -> Self {
        Self::from_value(Value::placeholder(name, Some(T::type_spec())))
    }
    /// All iterations' values of a task inside a loop, used after the loop (fan-in).
    pub fn collect(&self) -> Param<Vec<T>> {
        Param::from_value(self.value.clone().with_type(Some(TypeSpec::json_array())))
    }
}

impl<T> Clone for Param<T> {
    fn clone(&self) -> Self {
        Self::from_value(self.value.clone())
    }
}

impl<T> fmt::Debug for Param<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Param").field(&self.value).finish()
    }
}

impl<T: KfpType> From<T> for Param<T> {
    fn from(value: T) -> Self {
        Self::constant(value)
    }
}
impl From<&str> for Param<String> {
    fn from(s: &str) -> Self {
        Self::constant(s.to_owned())
    }
}
impl<T> From<&Param<T>> for Param<T> {
    fn from(p: &Param<T>) -> Self {
        p.clone()
    }
}
impl<T> From<Param<T>> for Value {
    fn from(p: Param<T>) -> Self {
        p.value
    }
}
impl<T> From<&Param<T>> for Value {
    fn from(p: &Param<T>) -> Self {
        p.value.clone()
    }
}

/// Inside a component, an input becomes its `inputValue` placeholder; a constant becomes
/// literal text. Anything else has no meaning on a command line and is reported.
impl From<&Value> for CmdArg {
    fn from(v: &Value) -> Self {
        match &v.kind {
            ValueKind::Placeholder(name) => CmdArg::InputValue {
                input: name.clone(),
            },
            ValueKind::Const(text) => CmdArg::Literal(text.clone()),
            other => CmdArg::Invalid(format!(
                "{other:?} is not an input of this component: only a component's own inputs \
                 and constants can appear on its command line (pass the value as an argument)"
            )),
        }
    }
}
impl From<Value> for CmdArg {
    fn from(v: Value) -> Self {
        CmdArg::from(&v)
    }
}
impl<T> From<&Param<T>> for CmdArg {
    fn from(p: &Param<T>) -> Self {
        CmdArg::from(&p.value)
    }
}
impl<T> From<Param<T>> for CmdArg {
    fn from(p: Param<T>) -> Self {
        CmdArg::from(&p.value)
    }
}

/// A component's file input, inside its command line: the path it is placed at.
#[derive(Debug, Clone, PartialEq)]
pub struct InputPath(pub String);

/// A component's file output, inside its command line: the path to write it to.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputPath(pub String);

impl From<&InputPath> for CmdArg {
    fn from(p: &InputPath) -> Self {
        CmdArg::InputPath { input: p.0.clone() }
    }
}
impl From<InputPath> for CmdArg {
    fn from(p: InputPath) -> Self {
        CmdArg::InputPath { input: p.0 }
    }
}
impl From<&OutputPath> for CmdArg {
    fn from(p: &OutputPath) -> Self {
        CmdArg::OutputPath {
            output: p.0.clone(),
        }
    }
}
impl From<OutputPath> for CmdArg {
    fn from(p: OutputPath) -> Self {
        CmdArg::OutputPath { output: p.0 }
    }
}

/// A file or directory produced by one task and consumed by another (a KFP artifact).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Artifact;

impl KfpType for Artifact {
    fn type_spec() -> TypeSpec {
        TypeSpec::Name(ARTIFACT_TYPE.into())
    }
    fn to_param_text(&self) -> String {
        String::new()
    }
}

/// The generic artifact type: compatible with every non-parameter type.
pub const ARTIFACT_TYPE: &str = "Artifact";
