//! Rust functions as components: the function runs inside the pipeline's own binary.
//!
//! A [`FunctionComponent`] is a name, typed inputs and outputs, and a runner (a plain
//! `fn(&Args) -> Result<Outputs, String>`). As a task it is an ordinary container
//! component whose command is the pipeline binary itself:
//!
//! ```text
//! command: [/usr/local/bin/<crate>, component, <name>]
//! args:    [--rows, '{{inputs.parameters.rows}}', --data, /tmp/inputs/data/data,
//!           --output-output, /tmp/outputs/output/data]
//! ```
//!
//! so the same code runs on the local engine (which calls the binary) and on a cluster
//! (where the binary is in the image). `kfp::main!` gives the binary the `component`
//! command that parses those arguments by the declared types, calls the runner, and writes
//! each output value to the file Argo collects it from ([`FunctionComponent::invoke`]).
//!
//! Image and binary, first match wins: the component's own ([`FunctionComponent::image`],
//! `#[component(image = ..)]`), the pipeline's ([`PipelineSettings::function_image`]),
//! then the default: the binary `/usr/local/bin/<crate>` in the image `<crate>:latest`,
//! `<crate>` being the package that defines the function (or, for a function defined in
//! a binary target, `/usr/local/bin/<that binary>`). Every such template carries
//! the annotation [`RUST_FUNCTION_ANNOTATION`] naming the function, so a reader (or the
//! local engine) can tell it runs a Rust function of the pipeline binary.
//!
//! `#[component]` on a fn that does not return `Container` expands to this builder.

mod args;
mod invoke;
mod registry;
mod resolve;
mod value;

pub use args::*;
pub use invoke::{EXIT_BAD_INVOCATION, EXIT_FAILED, EXIT_PANICKED};
pub use registry::{lookup_function, registered_functions};
pub(crate) use resolve::resolve_function_images;
pub use value::*;

use super::{PipelineSettings, TaskSpec};
use crate::component::{
    CmdArg, Component, Configure, InputSpec, OutputSpec, TaskConfig, if_present, input_path,
    input_value, output_path,
};

/// Annotation on a Rust-function component's template: the function's name (what
/// `<binary> component NAME` runs).
pub const RUST_FUNCTION_ANNOTATION: &str = "kfp-rs/rust-function";
/// Annotation listing what a Rust-function component fixed for itself (`image`,
/// `binary`), so the pipeline's settings do not replace it.
pub const PINNED_ANNOTATION: &str = "kfp-rs/rust-function-pinned";
/// The package name used for defaults when a builder does not give one.
pub const DEFAULT_PACKAGE: &str = "pipeline";

/// Runs a Rust function on its parsed arguments and returns its output values.
pub type FunctionRunner = fn(&Args) -> Result<Outputs, String>;

/// A Rust function as a component (the builder form of `#[component]` on a plain fn).
///
/// ```
/// use kfp::dsl::{Args, FunctionComponent, FunctionInput, FunctionOutput, Outputs};
///
/// fn add(args: &Args) -> Result<Outputs, String> {
///     let sum = args.value::<i64>("a")? + args.value::<i64>("b")?;
///     Outputs::new().with("output", &sum)
/// }
///
/// let add = FunctionComponent::new("add", add)
///     .defined_in(env!("CARGO_PKG_NAME"), option_env!("CARGO_BIN_NAME"))
///     .input(FunctionInput::value::<i64>("a"))
///     .input(FunctionInput::value::<i64>("b").default("1"))
///     .output(FunctionOutput::value::<i64>("output"));
/// let task = add.task().arg("a", "2");
/// # let _ = task;
/// ```
#[derive(Debug, Clone)]
pub struct FunctionComponent {
    name: String,
    description: Option<String>,
    inputs: Vec<FunctionInput>,
    outputs: Vec<FunctionOutput>,
    image: Option<String>,
    binary: Option<String>,
    package: Option<String>,
    bin: Option<String>,
    rust_path: Option<String>,
    runner: FunctionRunner,
    config: TaskConfig,
}

/// An input of a Rust-function component.
#[derive(Debug, Clone)]
pub struct FunctionInput {
    pub spec: InputSpec,
    kind: InputKind,
}

#[derive(Debug, Clone, Copy)]
enum InputKind {
    /// A value, checked by parsing it as the declared Rust type.
    Value {
        check: fn(&str) -> Result<(), String>,
    },
    /// A file: the argument is its path.
    File,
}

/// An output of a Rust-function component.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionOutput {
    pub spec: OutputSpec,
    /// A file the function writes itself (rather than a value it returns).
    pub is_file: bool,
}

fn check<T: FunctionValue>(text: &str) -> Result<(), String> {
    T::parse(text).map(|_| ())
}

impl FunctionInput {
    /// A value input read as a `T` (its KFP type follows `T`).
    pub fn value<T: FunctionValue>(name: impl Into<String>) -> Self {
        Self {
            spec: InputSpec::new(name, Some(T::type_spec())),
            kind: InputKind::Value { check: check::<T> },
        }
    }
    /// A file input of a KFP artifact type (`Artifact`, `CSV`, `Model`, ...): the
    /// function receives its path.
    pub fn file(name: impl Into<String>, type_name: impl Into<String>) -> Self {
        Self {
            spec: InputSpec::artifact(name, type_name),
            kind: InputKind::File,
        }
    }
    /// The text used when a task does not give this input.
    pub fn default(mut self, text: impl Into<String>) -> Self {
        self.spec.default = Some(text.into());
        self
    }
    /// A task may leave this input out (the function then gets `None`).
    pub fn optional(mut self) -> Self {
        self.spec.optional = true;
        self
    }
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.spec.description = Some(text.into());
        self
    }
    pub fn name(&self) -> &str {
        &self.spec.name
    }
    pub fn is_file(&self) -> bool {
        matches!(self.kind, InputKind::File)
    }
    /// Whether a run must be given this input (no default, not optional).
    pub fn is_required(&self) -> bool {
        !self.spec.optional && self.spec.default.is_none()
    }
    /// Check a value's text against the declared type (files are not checked here).
    pub fn check(&self, text: &str) -> Result<(), String> {
        match self.kind {
            InputKind::Value { check } => check(text),
            InputKind::File => Ok(()),
        }
    }
}

impl FunctionOutput {
    /// A value the function returns (its KFP type follows `T`).
    pub fn value<T: FunctionValue>(name: impl Into<String>) -> Self {
        Self {
            spec: OutputSpec::new(name, Some(T::type_spec())),
            is_file: false,
        }
    }
    /// A file the function writes to the path it is given.
    pub fn file(name: impl Into<String>, type_name: impl Into<String>) -> Self {
        Self {
            spec: OutputSpec::artifact(name, type_name),
            is_file: true,
        }
    }
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.spec.description = Some(text.into());
        self
    }
    pub fn name(&self) -> &str {
        &self.spec.name
    }
}

impl FunctionComponent {
    /// The function `name` (also its name on the binary's command line), run by `runner`.
    pub fn new(name: impl Into<String>, runner: FunctionRunner) -> Self {
        Self {
            name: name.into(),
            description: None,
            inputs: Vec::new(),
            outputs: Vec::new(),
            image: None,
            binary: None,
            package: None,
            bin: None,
            rust_path: None,
            runner,
            config: TaskConfig::default(),
        }
    }
    /// Where the function is defined, for the defaults: the package (the image
    /// `<package>:latest`) and, when it is defined in a binary target, that binary
    /// (`/usr/local/bin/<bin>`, else `/usr/local/bin/<package>`). Pass
    /// `env!("CARGO_PKG_NAME"), option_env!("CARGO_BIN_NAME")`.
    pub fn defined_in(mut self, package: &str, bin: Option<&str>) -> Self {
        self.package = Some(package.to_owned());
        self.bin = bin.map(str::to_owned);
        self
    }
    /// The function's Rust path, shown by `<binary> component` and used to tell two
    /// functions registered under one name apart.
    pub fn rust_path(mut self, path: impl Into<String>) -> Self {
        self.rust_path = Some(path.into());
        self
    }
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }
    pub fn input(mut self, input: FunctionInput) -> Self {
        self.inputs.push(input);
        self
    }
    pub fn output(mut self, output: FunctionOutput) -> Self {
        self.outputs.push(output);
        self
    }
    /// One value output per field of `R` (a `#[derive(KfpOutputs)]` struct).
    pub fn outputs_of<R: KfpOutputs>(mut self) -> Self {
        self.outputs.extend(R::outputs());
        self
    }
    /// Run in this image whatever the pipeline says (it must contain the binary).
    pub fn image(mut self, image: impl Into<String>) -> Self {
        self.image = Some(image.into());
        self
    }
    /// The pipeline binary's path inside the image, whatever the pipeline says.
    pub fn binary(mut self, path: impl Into<String>) -> Self {
        self.binary = Some(path.into());
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn inputs(&self) -> &[FunctionInput] {
        &self.inputs
    }
    pub fn outputs(&self) -> &[FunctionOutput] {
        &self.outputs
    }
    pub fn runner(&self) -> FunctionRunner {
        self.runner
    }
    pub fn rust_path_text(&self) -> Option<&str> {
        self.rust_path.as_deref()
    }
    fn package_name(&self) -> &str {
        self.package.as_deref().unwrap_or(DEFAULT_PACKAGE)
    }
    /// The image used when neither the component nor the pipeline sets one.
    pub fn default_image(&self) -> String {
        format!("{}:latest", self.package_name())
    }
    /// The binary used when neither the component nor the pipeline sets one.
    pub fn default_binary(&self) -> String {
        format!(
            "/usr/local/bin/{}",
            self.bin.as_deref().unwrap_or(self.package_name())
        )
    }

    /// The container component that runs this function (and registers the function with
    /// this process, so the binary's `component` command can find it).
    pub fn component(&self) -> Component {
        registry::register(self);
        let image = self.image.clone().unwrap_or_else(|| self.default_image());
        let binary = self.binary.clone().unwrap_or_else(|| self.default_binary());
        let mut c = Component::container(&self.name, image)
            .annotation(RUST_FUNCTION_ANNOTATION, &self.name);
        let pinned: Vec<&str> = [("image", &self.image), ("binary", &self.binary)]
            .into_iter()
            .filter(|(_, v)| v.is_some())
            .map(|(k, _)| k)
            .collect();
        if !pinned.is_empty() {
            c = c.annotation(PINNED_ANNOTATION, pinned.join(","));
        }
        if let Some(d) = &self.description {
            c = c.description(d);
        }
        let mut args: Vec<CmdArg> = Vec::new();
        for input in &self.inputs {
            c = c.input(input.spec.clone());
            let name = input.name();
            let flag = CmdArg::from(format!("--{name}"));
            let value = if input.is_file() {
                input_path(name)
            } else {
                input_value(name)
            };
            if input.spec.optional && input.spec.default.is_none() {
                args.push(if_present(name, [flag, value]));
            } else {
                args.extend([flag, value]);
            }
        }
        for output in &self.outputs {
            c = c.output(output.spec.clone());
            args.extend([
                CmdArg::from(format!("--output-{}", output.name())),
                output_path(output.name()),
            ]);
        }
        let mut c = c
            .command([binary, "component".into(), self.name.clone()])
            .args(args);
        c.config = self.config.clone();
        for problem in self.problems() {
            c.config.misuses.push(problem);
        }
        c
    }

    /// A task running this function; supply its inputs with [`TaskSpec::arg`].
    pub fn task(&self) -> TaskSpec {
        TaskSpec::from(self.component())
    }

    /// Names that would make the command line ambiguous, reported when compiling.
    fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut seen: Vec<String> = Vec::new();
        let flags = self
            .inputs
            .iter()
            .map(|i| i.name().to_owned())
            .chain(self.outputs.iter().map(|o| format!("output-{}", o.name())));
        for flag in flags {
            let valid = !flag.is_empty()
                && flag
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !valid {
                problems.push(format!(
                    "Rust function `{}`: `--{flag}` is not a usable command-line flag: name \
                     inputs and outputs with letters, digits, `-` and `_`",
                    self.name
                ));
            }
            if flag == "help" {
                problems.push(format!(
                    "Rust function `{}`: an input cannot be named `help` (`--help` shows the \
                     function's usage)",
                    self.name
                ));
            }
            if seen.contains(&flag) {
                problems.push(format!(
                    "Rust function `{}`: two inputs or outputs use the flag `--{flag}`: rename one",
                    self.name
                ));
            }
            seen.push(flag);
        }
        problems
    }
}

impl From<FunctionComponent> for Component {
    fn from(f: FunctionComponent) -> Self {
        f.component()
    }
}
impl From<&FunctionComponent> for TaskSpec {
    fn from(f: &FunctionComponent) -> Self {
        f.task()
    }
}

/// Kubernetes settings on the function become its tasks' defaults.
impl Configure for FunctionComponent {
    fn config_mut(&mut self) -> &mut TaskConfig {
        &mut self.config
    }
}

impl PipelineSettings {
    /// The image every Rust-function task of this pipeline runs in (unless the component
    /// sets its own); it must contain the pipeline binary.
    pub fn function_image(&mut self, image: impl Into<String>) -> &mut Self {
        self.function_image = Some(image.into());
        self
    }
    /// Where the pipeline binary is inside that image (default
    /// `/usr/local/bin/<crate>`).
    pub fn function_binary(&mut self, path: impl Into<String>) -> &mut Self {
        self.function_binary = Some(path.into());
        self
    }
}
