//! Procedural macros for the `kfp` pipeline DSL: `#[component]`, `#[pipeline]`, `main!`.
//!
//! They are sugar: each expands to calls of `kfp`'s builder API that could be written by
//! hand (as clap's derive expands to clap's builder), and the `kfp` crate re-exports them.
//! Mistakes are reported at the user's code with what to write instead.

use proc_macro::TokenStream;

mod component;
mod function;
mod main_macro;
mod options;
mod outputs_derive;
mod pipeline;
mod task;
mod types;
mod util;

/// Turn a function into a component: a container to run, or a Rust function run by the
/// pipeline binary. Which one is decided by the return type: `-> Container` describes a
/// container; anything else is a Rust function.
///
/// # Container components (compiled and tested in `samples/src/hello_macros.rs`)
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
///
/// # Rust-function components (compiled and tested in `samples/src/rust_functions.rs`)
///
/// ```text
/// #[derive(Serialize, Deserialize)]
/// struct Config { depth: u32 }
///
/// #[derive(KfpOutputs)]
/// struct Trained { rows: i64, accuracy: f64 }
///
/// /// Train a model.
/// #[component]                                  // or #[component(image = "gpu:1")]
/// fn train(
///     rows: i64,                                // a value input (String, numbers, bool)
///     #[kfp(default = 0.1)] lr: f64,            // with a default
///     note: Option<String>,                     // an input the task may leave out
///     cfg: Config,                              // any serde type, passed as JSON
///     #[kfp(type = "CSV")] data: InputPath,     // an input file (its path)
///     model: OutputPath,                        // an output file the function writes
/// ) -> Result<Trained, String> { ... }
/// ```
///
/// Results: nothing; one value (`String`, a number, `bool`, `Vec<T>`, `BTreeMap`,
/// `serde_json::Value`, or `Json<T>` for any serde type) as the output `output`; a tuple
/// as `output_0`, `output_1`, ...; or a `#[derive(KfpOutputs)]` struct, one output per
/// field. Any of these may be inside `Result<_, E>` with `E: Display`: `Err` fails the task
/// with its text. Arguments of a type the macro does not know are serde types (JSON).
///
/// Arguments: `image` and `binary` (the image and the pipeline binary's path in it, for
/// this component only; default: the pipeline's settings, else `<crate>:latest` and
/// `/usr/local/bin/<crate>`), `name`, `description`. Parameter options: `name`,
/// `description`, `default = EXPR` (plain values), `type = "CSV"` (files).
///
/// Besides `train(..) -> TrainTask`, `train_component()`, `TrainOutputs` (fields `output`,
/// `output_N` or the file outputs; for a `KfpOutputs` struct, its `<Struct>Params`, with
/// the file outputs beside it in `results`) and `TrainTask` as above, it generates
/// `fn train_impl(..)` (the function itself, unchanged) and `fn train_function() ->
/// FunctionComponent` (the builder form, with the runner `<binary> component train`
/// calls). The compiled command is `[<binary>, component, train]` with the arguments
/// `--rows {{inputs.parameters.rows}} ... --output-model <path>`.
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
/// command line (`list`, `compile -o FILE`, and `component NAME ...` for the Rust-function
/// components they use); see `kfp::cli`. Rust functions no pipeline uses may be added
/// after a `;`: `kfp::main!(hello; cleanup)`.
#[proc_macro]
pub fn main(input: TokenStream) -> TokenStream {
    main_macro::expand(input.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// `#[derive(KfpOutputs)]` on a struct with named fields: returned by a Rust-function
/// `#[component]`, each field is an output of that name (`#[kfp(name = .., description =
/// ..)]` per field). Generates `impl kfp::dsl::KfpOutputs` and `<Struct>Params`, the
/// task's typed outputs (`Param<T>` per field). Field types are as for a function's
/// results; unknown types are serde types written as JSON.
#[proc_macro_derive(KfpOutputs, attributes(kfp))]
pub fn derive_kfp_outputs(input: TokenStream) -> TokenStream {
    outputs_derive::expand(input.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
