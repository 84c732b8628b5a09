//! The serde model of `implementation.graph` (KFP v1 `GraphSpec`).
//!
//! Arguments and predicates are unions in KFP (a constant, `graphInput`, `taskOutput`;
//! comparisons and logic); their deserializers are hand-written so a mistake is named
//! precisely instead of "did not match any variant".

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

use super::Specializations;
use crate::component::de::{ScalarText, did_you_mean, flow, opt_type_spec};
use crate::component::{ComponentSpec, TypeSpec};

/// `implementation.graph`: tasks running other components, and where the graph's
/// outputs come from.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GraphImpl {
    /// Task id -> task. Tasks run in dependency order; ids only name them.
    pub tasks: BTreeMap<String, GraphTask>,
    /// Output name -> the task output (or graph input) it forwards.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub output_values: BTreeMap<String, GraphArgument>,
    /// Sub-pipelines already built from this graph, shared by clones (not part of the
    /// spec: two graphs with the same tasks are equal whatever their caches hold).
    #[serde(skip)]
    pub(crate) built: Specializations,
}

impl PartialEq for GraphImpl {
    fn eq(&self, other: &Self) -> bool {
        self.tasks == other.tasks && self.output_values == other.output_values
    }
}

/// One task of a graph: a component (by reference) and its arguments.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GraphTask {
    pub component_ref: ComponentRef,
    /// Input name of the task's component -> value.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub arguments: BTreeMap<String, GraphArgument>,
    /// Run the task only when this holds (a condition around it in the sub-pipeline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_enabled: Option<GraphPredicate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_options: Option<ExecutionOptions>,
    /// Free-form; kept, not interpreted.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, serde_json::Value>,
}

/// Where a task's component comes from. The loader resolves every reference to an
/// inline `spec` (see [`crate::component::ComponentLoader`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<Box<ComponentSpec>>,
}

/// `executionOptions` of a graph task.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExecutionOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_strategy: Option<RetryStrategySpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caching_strategy: Option<CachingStrategySpec>,
}

/// `retryStrategy: {maxRetries: n}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RetryStrategySpec {
    pub max_retries: u32,
}

/// `cachingStrategy: {maxCacheStaleness: P30D}` (an ISO 8601 duration; `P0D` disables
/// reuse).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CachingStrategySpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_cache_staleness: Option<String>,
}

/// The value of a task argument or graph output.
#[derive(Debug, Clone, PartialEq)]
pub enum GraphArgument {
    /// A constant (numbers and booleans are kept as text, as KFP does).
    Constant(String),
    /// `{graphInput: {inputName: x}}`: an input of the graph component.
    GraphInput(GraphInputRef),
    /// `{taskOutput: {taskId: t, outputName: o}}`: an output of a sibling task.
    TaskOutput(TaskOutputRef),
}

/// `graphInput`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GraphInputRef {
    pub input_name: String,
    /// Overrides the type the value is checked as.
    #[serde(
        default,
        rename = "type",
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_type_spec"
    )]
    pub type_spec: Option<TypeSpec>,
}

/// `taskOutput`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TaskOutputRef {
    pub task_id: String,
    pub output_name: String,
    /// Overrides the type the value is checked as.
    #[serde(
        default,
        rename = "type",
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_type_spec"
    )]
    pub type_spec: Option<TypeSpec>,
}

/// `isEnabled`: a comparison of arguments, logic over predicates, or one argument that
/// must be `true`.
#[derive(Debug, Clone, PartialEq)]
pub enum GraphPredicate {
    Compare {
        op: CompareOp,
        lhs: GraphArgument,
        rhs: GraphArgument,
    },
    And(Box<GraphPredicate>, Box<GraphPredicate>),
    Or(Box<GraphPredicate>, Box<GraphPredicate>),
    Not(Box<GraphPredicate>),
    /// A bare argument: enabled when it is `true`.
    Value(GraphArgument),
}

/// A comparison operator of [`GraphPredicate::Compare`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    const ALL: [(&'static str, CompareOp); 6] = [
        ("==", CompareOp::Eq),
        ("!=", CompareOp::Ne),
        (">", CompareOp::Gt),
        (">=", CompareOp::Ge),
        ("<", CompareOp::Lt),
        ("<=", CompareOp::Le),
    ];

    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, op)| *op == self)
            .map_or("==", |(s, _)| s)
    }

    fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().find(|(t, _)| *t == s).map(|(_, op)| *op)
    }
}

const ARGUMENT_EXPECTED: &str = "a constant, {graphInput: {inputName: ..}} or \
     {taskOutput: {taskId: .., outputName: ..}}";

const ARGUMENT_KEYS: [&str; 2] = ["graphInput", "taskOutput"];

const PREDICATE_KEYS: [&str; 11] = [
    "==",
    "!=",
    ">",
    ">=",
    "<",
    "<=",
    "and",
    "or",
    "not",
    "graphInput",
    "taskOutput",
];

impl Serialize for GraphArgument {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Constant(text) => s.serialize_str(text),
            Self::GraphInput(r) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("graphInput", r)?;
                m.end()
            }
            Self::TaskOutput(r) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("taskOutput", r)?;
                m.end()
            }
        }
    }
}

/// `graphInput: x` (KFP's first format) or `graphInput: {inputName: x}`.
#[derive(Deserialize)]
#[serde(untagged)]
enum GraphInputForm {
    Name(String),
    Full(GraphInputRef),
}

/// Reads the value of a `graphInput`/`taskOutput` key of an argument map.
fn argument_value<'de, A: MapAccess<'de>>(
    key: &str,
    map: &mut A,
) -> Result<GraphArgument, A::Error> {
    match key {
        "graphInput" => {
            let value: serde_json::Value = map.next_value()?;
            match serde_json::from_value::<GraphInputForm>(value.clone()) {
                Ok(GraphInputForm::Name(input_name)) => {
                    Ok(GraphArgument::GraphInput(GraphInputRef {
                        input_name,
                        type_spec: None,
                    }))
                }
                Ok(GraphInputForm::Full(r)) => Ok(GraphArgument::GraphInput(r)),
                Err(_) => Err(de::Error::custom(format!(
                    "graphInput must be {{inputName: name}} (optionally with type), found {}",
                    flow(&value)
                ))),
            }
        }
        _ => {
            let value: serde_json::Value = map.next_value()?;
            serde_json::from_value::<TaskOutputRef>(value.clone())
                .map(GraphArgument::TaskOutput)
                .map_err(|e| {
                    de::Error::custom(format!(
                        "taskOutput must be {{taskId: task, outputName: output}} (optionally with \
                         type), found {}: {e}",
                        flow(&value)
                    ))
                })
        }
    }
}

fn no_more_keys<'de, A: MapAccess<'de>>(key: &str, map: &mut A) -> Result<(), A::Error> {
    match map.next_key::<String>()? {
        Some(extra) => Err(de::Error::custom(format!(
            "expected exactly one key, but found `{key}` and `{extra}`"
        ))),
        None => Ok(()),
    }
}

struct ArgumentVisitor;

impl<'de> Visitor<'de> for ArgumentVisitor {
    type Value = GraphArgument;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(ARGUMENT_EXPECTED)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<GraphArgument, E> {
        Ok(GraphArgument::Constant(v.to_owned()))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<GraphArgument, E> {
        ScalarText("").visit_bool(v).map(GraphArgument::Constant)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<GraphArgument, E> {
        ScalarText("").visit_i64(v).map(GraphArgument::Constant)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<GraphArgument, E> {
        ScalarText("").visit_u64(v).map(GraphArgument::Constant)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<GraphArgument, E> {
        ScalarText("").visit_f64(v).map(GraphArgument::Constant)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<GraphArgument, A::Error> {
        let Some(key) = map.next_key::<String>()? else {
            return Err(de::Error::custom(format!(
                "an empty map is not an argument; expected {ARGUMENT_EXPECTED}"
            )));
        };
        if !ARGUMENT_KEYS.contains(&key.as_str()) {
            let value: serde_json::Value = map.next_value()?;
            return Err(de::Error::custom(format!(
                "unknown argument {}; expected {ARGUMENT_EXPECTED}{}",
                flow(&serde_json::json!({ key.as_str(): value })),
                did_you_mean(&key, &ARGUMENT_KEYS)
            )));
        }
        let arg = argument_value(&key, &mut map)?;
        no_more_keys(&key, &mut map)?;
        Ok(arg)
    }
}

impl<'de> Deserialize<'de> for GraphArgument {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ArgumentVisitor)
    }
}

/// `{op1: .., op2: ..}` of a binary predicate.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Operands<T> {
    op1: T,
    op2: T,
}

impl Serialize for GraphPredicate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if let Self::Value(arg) = self {
            return arg.serialize(s);
        }
        let mut m = s.serialize_map(Some(1))?;
        match self {
            Self::Compare { op, lhs, rhs } => {
                m.serialize_entry(op.as_str(), &Operands { op1: lhs, op2: rhs })?;
            }
            Self::And(a, b) => m.serialize_entry("and", &Operands { op1: a, op2: b })?,
            Self::Or(a, b) => m.serialize_entry("or", &Operands { op1: a, op2: b })?,
            Self::Not(p) => m.serialize_entry("not", p)?,
            Self::Value(_) => {}
        }
        m.end()
    }
}

struct PredicateVisitor;

impl<'de> Visitor<'de> for PredicateVisitor {
    type Value = GraphPredicate;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a predicate: {==: {op1, op2}} (or !=, <, <=, >, >=), {and: {op1, op2}}, {or: {op1, op2}}, {not: ..} or an argument")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<GraphPredicate, E> {
        ArgumentVisitor.visit_str(v).map(GraphPredicate::Value)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<GraphPredicate, E> {
        ArgumentVisitor.visit_bool(v).map(GraphPredicate::Value)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<GraphPredicate, A::Error> {
        let Some(key) = map.next_key::<String>()? else {
            return Err(de::Error::custom("an empty map is not a predicate"));
        };
        let pred = if let Some(op) = CompareOp::parse(&key) {
            let o: Operands<GraphArgument> = map.next_value()?;
            GraphPredicate::Compare {
                op,
                lhs: o.op1,
                rhs: o.op2,
            }
        } else {
            match key.as_str() {
                "and" => {
                    let o: Operands<GraphPredicate> = map.next_value()?;
                    GraphPredicate::And(Box::new(o.op1), Box::new(o.op2))
                }
                "or" => {
                    let o: Operands<GraphPredicate> = map.next_value()?;
                    GraphPredicate::Or(Box::new(o.op1), Box::new(o.op2))
                }
                "not" => GraphPredicate::Not(Box::new(map.next_value()?)),
                "graphInput" | "taskOutput" => {
                    GraphPredicate::Value(argument_value(&key, &mut map)?)
                }
                other => {
                    let value: serde_json::Value = map.next_value()?;
                    return Err(de::Error::custom(format!(
                        "unknown predicate {}; expected one of {}{}",
                        flow(&serde_json::json!({ other: value })),
                        PREDICATE_KEYS.join(", "),
                        did_you_mean(other, &PREDICATE_KEYS)
                    )));
                }
            }
        };
        no_more_keys(&key, &mut map)?;
        Ok(pred)
    }
}

impl<'de> Deserialize<'de> for GraphPredicate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(PredicateVisitor)
    }
}
