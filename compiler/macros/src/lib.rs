//! Procedural macros for the `kfp` pipeline DSL: `#[component]`, `#[pipeline]`, `main!`.
//!
//! They are sugar: each expands to calls of `kfp`'s builder API that could be written by
//! hand (as clap's derive expands to clap's builder), and the `kfp` crate re-exports them.
//! Mistakes are reported at the user's code with what to write instead.

use proc_macro::TokenStream;

mod component;
mod main_macro;
mod options;
mod pipeline;
mod util;

/// Turn a function into a component (compiled and tested in `samples/src/hello_macros.rs`).
///
/// ```text
/// #[component(image = "python:3.12", description = "Train a model")]
/// fn train(
///     data: InputPath,                          // an input file
///     #[kfp(default = 0.1)] lr: Param<f64>,     // an input value with a default
///     #[kfp(optional)] note: Param<String>,     // an input the task may leave out
///     model: OutputPath,                        // an output file
///     accuracy: Output<f64>,                    // an output value, written to a file
/// ) -> Container {
///     Container::new(["python", "train.py"])
///         .args(cmd!["--data", data, "--lr", lr, "--model", model, "--acc", accuracy])
///         .args([note.if_present(cmd!["--note", &note])])
/// }
/// ```
///
/// Arguments: `image` (required; any `impl Into<String>` expression), `name` (default: the
/// function's name with `-` for `_`), `description` (default: the doc comment).
/// Parameter options, as `#[kfp(..)]`: `name`, `description`, `default = EXPR` and
/// `optional` (inputs), `type = "CSV"` (files; default `Artifact`).
///
/// The function is replaced by (visibility follows the function's):
///
/// - `fn train(data: impl IntoParam<Artifact>) -> TrainTask`: required inputs are the
///   arguments; inputs with a default or `optional` are set with methods of the same name
///   on the returned `TrainTask` (`train(data).lr(0.5)`), so calls stay short and adding an
///   optional input never breaks callers. `TrainTask` is what `p.task(..)` takes; it also
///   has `after`, `name`, `display_name`, `map` and the `Configure` settings.
/// - `fn train_component() -> Component`: the body runs with each parameter bound to its
///   placeholder, and its `Container` is folded in with `Component::with_container`.
///   `train(..)` calls it once per process and shares the result (an `Arc`) among its
///   tasks, so a pipeline of 10,000 `train` tasks builds the component once.
/// - `struct TrainOutputs { pub model: Param<Artifact>, pub accuracy: Param<f64> }`: the
///   typed outputs, `task.outputs` after `p.task(..)`.
#[proc_macro_attribute]
pub fn component(args: TokenStream, item: TokenStream) -> TokenStream {
    component::expand(args.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Turn a function into a pipeline (compiled and tested in `samples/src/hello_macros.rs`).
///
/// ```text
/// #[pipeline(name = "hello", description = "Say hello")]
/// fn hello(p: &mut Pipeline, who: Param<String>, #[kfp(default = 3)] times: Param<i64>) {
///     p.task(echo(&who));
/// }
/// ```
///
/// becomes `fn hello() -> Pipeline`, which creates the pipeline, declares one typed run
/// parameter per `Param<T>` (`Pipeline::param`, or `param_with_default` for `#[kfp(default
/// = ..)]`; `#[kfp(name = .., description = ..)]` are accepted too), runs the body and
/// returns the pipeline. `name` defaults to the function's name with `-` for `_`,
/// `description` to its doc comment.
#[proc_macro_attribute]
pub fn pipeline(args: TokenStream, item: TokenStream) -> TokenStream {
    pipeline::expand(args.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// `kfp::main!(hello, training)`: a `main` serving these `#[pipeline]` functions on the
/// command line (`list`, `compile -o FILE`); see `kfp::cli`.
#[proc_macro]
pub fn main(input: TokenStream) -> TokenStream {
    main_macro::expand(input.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
