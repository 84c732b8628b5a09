//! Example pipelines a user would copy.
//!
//! Every module builds one pipeline with the builder API of [`kfp`] and exposes it as
//! `pipeline()`, plus its components as functions returning [`Component`] so other
//! pipelines can reuse them. [`all`] lists every sample; `cargo run -p samples --
//! compile-all` compiles and validates them all into Argo Workflow YAML.
//!
//! Conventions the samples follow, so their commands work both on Argo (in a pod) and on
//! the local engine (as a process):
//!
//! - Shell components are `sh -ec '<script>' <name> <args...>`: the script reads its
//!   arguments as `$1`, `$2`, ... (`<name>` fills `$0`, which shells use in error
//!   messages), so values are never spliced into the script text and quoting cannot break.
//! - Python components are `python3 -c '<script>' <args...>`, reading `sys.argv[1:]`.
//! - Outputs are written to the path given by `output_path(..)` (KFP's convention); the
//!   program creates the parent directory itself, as KFP components must.
//!
//! [`Component`]: kfp::component::Component

pub mod better_than_kfp;
pub mod data_passing;
pub mod exit_handler;
pub mod flip_coin;
pub mod hello_macros;
pub mod hello_world;
pub mod loops;
pub mod mixed_components;
pub mod resource;
pub mod rust_functions;
pub mod settings;
pub mod sub_pipeline;

use kfp::dsl::Pipeline;

/// Builds one sample's pipeline.
pub type BuildFn = fn() -> Pipeline;

/// Every sample: its name (also the file name `compile-all` writes) and its builder.
pub fn all() -> Vec<(&'static str, BuildFn)> {
    vec![
        ("hello_world", hello_world::pipeline),
        ("data_passing", data_passing::pipeline),
        ("flip_coin", flip_coin::pipeline),
        ("loops", loops::pipeline),
        ("exit_handler", exit_handler::pipeline),
        ("resource", resource::pipeline),
        ("sub_pipeline", sub_pipeline::pipeline),
        ("settings", settings::pipeline),
        ("better_than_kfp", better_than_kfp::pipeline),
        ("hello_macros", hello_macros::pipeline),
        ("rust_functions", rust_functions::pipeline),
        ("mixed_components", mixed_components::pipeline),
    ]
}
