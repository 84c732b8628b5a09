//! One component as a whole pipeline: what `dsl-compile --component` compiles.

use std::collections::BTreeSet;

use super::{input_param_names, param_type};
use crate::component::Component;
use crate::dsl::Pipeline;

/// Choices for [`single_task_pipeline`].
#[derive(Debug, Clone, Default)]
pub struct WrapOptions {
    /// Optional inputs without a default to expose as (required) pipeline parameters.
    pub with_inputs: Vec<String>,
    /// Inputs fixed to a constant when compiling (not parameters).
    pub set: Vec<(String, String)>,
}

/// How an input of the component appears in the wrapping pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WrappedInput {
    /// A pipeline parameter with this name (KFP input names may contain spaces).
    Param(String),
    /// Fixed to this constant.
    Constant(String),
    /// Not passed: an optional input without a default (its `isPresent` branches drop).
    Omitted,
}

/// A component's inputs are wrong for the options given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("component {component:?} has no input {input:?}; its inputs are: {known}")]
pub struct WrapError {
    pub component: String,
    pub input: String,
    pub known: String,
}

/// A one-task pipeline running `component`, whose parameters are the component's inputs:
/// the quickest way to try a component.
///
/// - an input with a default becomes a parameter with that default;
/// - a required input becomes a parameter the run must supply;
/// - an optional input without a default is left out, so the task omits it and its
///   `if: {cond: {isPresent: ..}}` flags drop, as in KFP; name it in
///   [`WrapOptions::with_inputs`] to make it a parameter the run must supply instead;
/// - an input in [`WrapOptions::set`] is fixed to that constant;
/// - an input whose value picks command-line branches (`if: {cond: {inputValue: x}}`) is
///   fixed to its default, since KFP chooses the branch when compiling (use `set` to
///   choose another value).
///
/// Types, defaults and descriptions carry over (a default that is not a valid value of
/// its type, like the catalogue's `default: ''` on `Dict` inputs, makes the parameter
/// untyped rather than an error, since KFP never checked it); parameter names are the input names made safe for
/// Argo (`Training data` -> `training-data`), listed in the returned plan.
pub fn single_task_pipeline(
    component: &Component,
    options: &WrapOptions,
) -> Result<(Pipeline, Vec<(String, WrappedInput)>), WrapError> {
    let spec = &component.spec;
    let unknown = |input: &str| WrapError {
        component: spec.name.clone(),
        input: input.to_owned(),
        known: if spec.inputs.is_empty() {
            "(none)".to_owned()
        } else {
            spec.inputs
                .iter()
                .map(|i| i.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        },
    };
    for name in options
        .with_inputs
        .iter()
        .chain(options.set.iter().map(|(n, _)| n))
    {
        if spec.input(name).is_none() {
            return Err(unknown(name));
        }
    }
    let deciding = spec.condition_inputs();
    let exposed: BTreeSet<&str> = options.with_inputs.iter().map(String::as_str).collect();
    let names = input_param_names(spec);
    let mut p = Pipeline::new(spec.name.clone());
    if let Some(d) = &spec.description {
        p.set_description(d.clone());
    }
    let mut task = component.task();
    let mut plan = Vec::new();
    for input in &spec.inputs {
        if let Some((_, value)) = options.set.iter().rev().find(|(n, _)| *n == input.name) {
            task = task.arg(input.name.clone(), value.clone());
            plan.push((input.name.clone(), WrappedInput::Constant(value.clone())));
            continue;
        }
        if deciding.contains(input.name.as_str())
            && let Some(default) = &input.default
        {
            // Its value picks command-line branches when compiling: not a run-time value.
            task = task.arg(input.name.clone(), default.clone());
            plan.push((input.name.clone(), WrappedInput::Constant(default.clone())));
            continue;
        }
        let omitted =
            input.optional && input.default.is_none() && !exposed.contains(input.name.as_str());
        if omitted {
            plan.push((input.name.clone(), WrappedInput::Omitted));
            continue;
        }
        let param = names[&input.name].clone();
        let value = p.param_value(
            param.clone(),
            param_type(input),
            input.default.clone(),
            input.description.clone(),
        );
        task = task.arg(input.name.clone(), value);
        plan.push((input.name.clone(), WrappedInput::Param(param)));
    }
    p.task(task);
    Ok((p, plan))
}
