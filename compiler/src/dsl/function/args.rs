//! What a Rust-function component's runner receives ([`Args`]) and returns ([`Outputs`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{FunctionValue, KfpOutputs};
use crate::dsl::{InputPath, OutputPath};

/// The arguments of one run of a Rust-function component: input values as the text Argo
/// passed, file inputs as paths, and the paths its file outputs go to.
///
/// The command line is checked against the component's declared inputs before the runner
/// is called, so in a runner these lookups fail only if the runner asks for something the
/// component does not declare.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Args {
    inputs: BTreeMap<String, String>,
    output_paths: BTreeMap<String, PathBuf>,
}

impl Args {
    pub fn new() -> Self {
        Self::default()
    }
    /// Give the input `name` this text (a value, or a file's path).
    pub fn with_input(mut self, name: impl Into<String>, text: impl Into<String>) -> Self {
        self.inputs.insert(name.into(), text.into());
        self
    }
    /// Give the file output `name` the path to write it to.
    pub fn with_output_path(mut self, name: impl Into<String>, path: impl Into<PathBuf>) -> Self {
        self.output_paths.insert(name.into(), path.into());
        self
    }

    /// The text given for the input `name`, if any.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.inputs.get(name).map(String::as_str)
    }
    /// The required input `name`, read as a `T`.
    pub fn value<T: FunctionValue>(&self, name: &str) -> Result<T, String> {
        self.optional(name)?
            .ok_or_else(|| format!("the input `{name}` was not given"))
    }
    /// The optional input `name`, read as a `T` when given.
    pub fn optional<T: FunctionValue>(&self, name: &str) -> Result<Option<T>, String> {
        self.text(name)
            .map(|text| T::parse(text).map_err(|e| format!("input `{name}`: {e}")))
            .transpose()
    }
    /// The required file input `name`.
    pub fn input_path(&self, name: &str) -> Result<InputPath, String> {
        self.optional_input_path(name)?
            .ok_or_else(|| format!("the file input `{name}` was not given"))
    }
    /// The optional file input `name`.
    pub fn optional_input_path(&self, name: &str) -> Result<Option<InputPath>, String> {
        Ok(self.text(name).map(|p| InputPath(p.to_owned())))
    }
    /// The path to write the file output `name` to.
    pub fn output_path(&self, name: &str) -> Result<OutputPath, String> {
        self.output_paths
            .get(name)
            .map(|p| OutputPath(p.to_string_lossy().into_owned()))
            .ok_or_else(|| format!("no path was given for the file output `{name}`"))
    }

    pub(crate) fn output_path_buf(&self, name: &str) -> Option<&Path> {
        self.output_paths.get(name).map(PathBuf::as_path)
    }
}

/// The output values a runner returns, by output name, as the text written to each
/// output's file. (File outputs are written by the function itself, to the paths in
/// [`Args::output_path`].)
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outputs {
    values: BTreeMap<String, String>,
}

impl Outputs {
    pub fn new() -> Self {
        Self::default()
    }
    /// Every field of a [`KfpOutputs`] struct, each as the output of the same name.
    pub fn of<R: KfpOutputs>(result: R) -> Result<Self, String> {
        let mut outputs = Self::new();
        result.write(&mut outputs)?;
        Ok(outputs)
    }
    /// Record `value` as the output `name`.
    pub fn set<T: FunctionValue>(&mut self, name: &str, value: &T) -> Result<(), String> {
        let text = value
            .render()
            .map_err(|e| format!("output `{name}`: {e}"))?;
        self.values.insert(name.to_owned(), text);
        Ok(())
    }
    /// [`Outputs::set`], by value.
    pub fn with<T: FunctionValue>(mut self, name: &str, value: &T) -> Result<Self, String> {
        self.set(name, value)?;
        Ok(self)
    }
    /// The text recorded for the output `name`.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }
    /// The names recorded, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }
}

/// A file input is a path on the machine running the function.
impl AsRef<Path> for InputPath {
    fn as_ref(&self) -> &Path {
        Path::new(&self.0)
    }
}
/// A file output is the path the function writes to.
impl AsRef<Path> for OutputPath {
    fn as_ref(&self) -> &Path {
        Path::new(&self.0)
    }
}

impl InputPath {
    /// Inside a Rust function: where the file input is.
    pub fn path(&self) -> &Path {
        self.as_ref()
    }
}
impl OutputPath {
    /// Inside a Rust function: where to write the file output (its directory exists).
    pub fn path(&self) -> &Path {
        self.as_ref()
    }
}
