//! What a `#[component]` function returns, and the typed glue its expansion is made of.
//!
//! `#[component]` is sugar over [`Component`]: the function body runs once with each
//! parameter bound to its placeholder and returns a [`Container`], which
//! [`Component::with_container`] folds into the component. Every piece here is public so
//! the expansion can be written by hand.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use super::{InputPath, Item, Param, ValueKind};
use crate::component::{CmdArg, Component, Configure, Implementation, KfpType, TaskConfig};

/// The program a component runs: its command line, plus container settings.
///
/// Arguments are KFP placeholders ([`CmdArg`]), so a component body mixes literals and
/// its own inputs freely, usually through [`cmd!`](crate::cmd). Kubernetes settings
/// (resources, retries, volumes, ...) come from [`Configure`] and become the component's
/// defaults, which each task may override.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Container {
    /// Replaces the image's entrypoint.
    pub command: Vec<CmdArg>,
    pub args: Vec<CmdArg>,
    /// Overrides the image given to `#[component(image = ..)]`.
    pub image: Option<String>,
    /// Plain environment variables, kept in the portable `component.yaml` part of the spec.
    pub env: BTreeMap<String, String>,
    pub config: TaskConfig,
}

impl Container {
    /// Run `command` (e.g. `["python", "train.py"]` or `cmd!["echo", message]`).
    pub fn new(command: impl IntoIterator<Item = impl Into<CmdArg>>) -> Self {
        Self {
            command: command.into_iter().map(Into::into).collect(),
            ..Self::default()
        }
    }
    /// More arguments after the command.
    pub fn args(mut self, parts: impl IntoIterator<Item = impl Into<CmdArg>>) -> Self {
        self.args.extend(parts.into_iter().map(Into::into));
        self
    }
    /// One more argument.
    pub fn arg(mut self, part: impl Into<CmdArg>) -> Self {
        self.args.push(part.into());
        self
    }
    /// Run another image than the one the component declares.
    pub fn image(mut self, image: impl Into<String>) -> Self {
        self.image = Some(image.into());
        self
    }
    /// An environment variable with a fixed value.
    ///
    /// It lives in the component spec (`implementation.container.env`), so it survives an
    /// export to `component.yaml`; secrets and config maps go through
    /// [`Configure::env_from_secret`] and [`Configure::env_from_config_map`].
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.insert(name.into(), value.into());
        self
    }
}

/// Kubernetes settings on a container become the component's defaults.
impl Configure for Container {
    fn config_mut(&mut self) -> &mut TaskConfig {
        &mut self.config
    }
}

impl Component {
    /// Take the command line, image override, environment and settings from `container`
    /// (what a `#[component]` body returns).
    ///
    /// The command replaces the component's, arguments and environment are added to its
    /// own, and the container's settings override the component's.
    pub fn with_container(mut self, container: Container) -> Self {
        let Container {
            command,
            args,
            image,
            env,
            config,
        } = container;
        match &mut self.spec.implementation {
            Implementation::Container(c) => {
                c.command = command;
                c.args.extend(args);
                if let Some(image) = image {
                    c.image = image;
                }
                c.env.extend(env);
            }
            Implementation::Resource(_) | Implementation::Graph(_) => {
                self.config.misuse(
                    "with_container",
                    "only a container component runs a container",
                );
            }
        }
        self.config = self.config.merged_with(&config);
        self
    }
}

/// A value a component writes to a file: a typed output (as opposed to an
/// [`OutputPath`](super::OutputPath), which is a file artifact).
///
/// On the command line it is the path the program must write the value to
/// (`{outputPath: name}`); the task's output is then a [`Param<T>`].
pub struct Output<T> {
    name: String,
    _type: PhantomData<fn() -> T>,
}

impl<T> Output<T> {
    /// The output `name` of the component being defined.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            _type: PhantomData,
        }
    }
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl<T> Clone for Output<T> {
    fn clone(&self) -> Self {
        Self::new(self.name.clone())
    }
}

impl<T> fmt::Debug for Output<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Output").field(&self.name).finish()
    }
}

impl<T> From<&Output<T>> for CmdArg {
    fn from(o: &Output<T>) -> Self {
        CmdArg::OutputPath {
            output: o.name.clone(),
        }
    }
}
impl<T> From<Output<T>> for CmdArg {
    fn from(o: Output<T>) -> Self {
        CmdArg::OutputPath { output: o.name }
    }
}

impl<T> Param<T> {
    /// Inside a component: `then` only when the task supplies this (optional) input, and
    /// nothing otherwise (KFP's `{if: {cond: {isPresent: ..}}}`).
    ///
    /// An omitted optional input already drops its own placeholder; this also drops the
    /// flag in front of it: `lr.if_present(cmd!["--lr", &lr])`.
    pub fn if_present(&self, then: impl IntoIterator<Item = impl Into<CmdArg>>) -> CmdArg {
        match &self.value.kind {
            ValueKind::Placeholder(name) => crate::component::if_present(name.clone(), then),
            _ => CmdArg::Invalid(
                "`if_present` only applies to an input of the component being defined".into(),
            ),
        }
    }
}

impl InputPath {
    /// Inside a component: `then` only when the task supplies this (optional) file input.
    pub fn if_present(&self, then: impl IntoIterator<Item = impl Into<CmdArg>>) -> CmdArg {
        crate::component::if_present(self.0.clone(), then)
    }
}

/// A value that can be passed to a typed input of type `T`.
///
/// The functions `#[component]` generates take `impl IntoParam<T>`, so wiring a task's
/// output of the wrong type into another task is a compile error naming both types.
#[diagnostic::on_unimplemented(
    message = "expected a `{T}` value here, but `{Self}` is not one",
    label = "this input takes a `{T}`, not `{Self}`",
    note = "an input of type `{T}` accepts a `Param<{T}>` (or `&Param<{T}>`), a loop `Item<{T}>`, \
            or a constant `{T}`",
    note = "a task output has the type its component declares: check the types on both sides, \
            or convert explicitly with `Param::from_value(value.into_value())`"
)]
pub trait IntoParam<T> {
    fn into_param(self) -> Param<T>;
}

impl<T> IntoParam<T> for Param<T> {
    fn into_param(self) -> Param<T> {
        self
    }
}
impl<T> IntoParam<T> for &Param<T> {
    fn into_param(self) -> Param<T> {
        self.clone()
    }
}
impl<T: KfpType> IntoParam<T> for T {
    fn into_param(self) -> Param<T> {
        Param::constant(self)
    }
}
impl IntoParam<String> for &str {
    fn into_param(self) -> Param<String> {
        Param::constant(self.to_owned())
    }
}
impl IntoParam<String> for &String {
    fn into_param(self) -> Param<String> {
        Param::constant(self.clone())
    }
}
impl<T: KfpType> IntoParam<T> for Item<T> {
    fn into_param(self) -> Param<T> {
        self.param()
    }
}
impl<T: KfpType> IntoParam<T> for &Item<T> {
    fn into_param(self) -> Param<T> {
        self.param()
    }
}

/// A constant usable as the default of an input or pipeline parameter of type `T`.
///
/// Checked by rustc, so `#[kfp(default = "x")]` on a `Param<i64>` is a compile error.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a constant of type `{T}`",
    label = "expected a `{T}` constant",
    note = "a default must be a constant of the parameter's type, e.g. `default = 3` for \
            `Param<i64>`, `default = 0.5` for `Param<f64>`, `default = \"text\"` for `Param<String>`"
)]
pub trait IntoConstant<T> {
    fn into_constant(self) -> T;
}

impl<T: KfpType> IntoConstant<T> for T {
    fn into_constant(self) -> T {
        self
    }
}
impl IntoConstant<String> for &str {
    fn into_constant(self) -> String {
        self.to_owned()
    }
}

/// The text of a default value, as a component's `InputSpec::default` carries it.
pub fn default_text<T: KfpType>(value: impl IntoConstant<T>) -> String {
    value.into_constant().to_param_text()
}

/// A command line from mixed parts: literals, a component's inputs and outputs
/// (`Param`, `InputPath`, `OutputPath`, `Output`, or references to them) and
/// placeholders such as `concat([..])`.
///
/// ```
/// use kfp::prelude::*;
///
/// let message = Param::<String>::placeholder("message");
/// let line = cmd!["echo", &message, concat(["--to=", "you"])];
/// assert_eq!(line[1], input_value("message"));
/// ```
#[macro_export]
macro_rules! cmd {
    ($($part:expr),* $(,)?) => {{
        let parts: ::std::vec::Vec<$crate::component::CmdArg> =
            ::std::vec![$($crate::component::CmdArg::from($part)),*];
        parts
    }};
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::component::{input_path, input_value, output_path};

    #[test]
    fn container_folds_into_the_component() {
        let message = Param::<String>::placeholder("message");
        let out = Output::<i64>::new("n");
        let container = Container::new(["sh", "-c"])
            .args(crate::cmd!["echo", &message, &out, InputPath("f".into())])
            .image("busybox")
            .env("A", "1")
            .cpu_limit("1");
        let c = Component::container("c", "alpine").with_container(container);
        let Implementation::Container(imp) = &c.spec.implementation else {
            panic!("container expected");
        };
        assert_eq!(imp.image, "busybox");
        assert_eq!(
            imp.args,
            vec![
                "echo".into(),
                input_value("message"),
                output_path("n"),
                input_path("f")
            ]
        );
        assert_eq!(imp.env.get("A").map(String::as_str), Some("1"));
        assert_eq!(c.config.limits.get("cpu").map(String::as_str), Some("1"));
    }

    #[test]
    fn defaults_render_like_constants() {
        assert_eq!(default_text::<f64>(0.5), "0.5");
        assert_eq!(default_text::<String>("x"), "x");
        assert_eq!(default_text::<i64>(3), "3");
    }
}
