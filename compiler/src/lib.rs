//! Define Kubeflow-style ML pipelines in Rust and compile them to Argo Workflows.
//!
//! The crate is the user-facing half of the project and stays light (no async runtime,
//! no database, no Kubernetes client): [`dsl`] to build pipelines, [`component`] for the
//! reusable steps, [`compile()`] to turn a pipeline into an Argo [`argo::Workflow`], and
//! [`validate`] to check any Argo workflow.

pub mod argo;
pub mod build;
pub mod cli;
pub mod compile;
pub mod component;
pub mod dsl;
pub mod synthetic;
pub mod validate;

pub use compile::{
    CompileError, CompileOptions, compile, compile_to_file, compile_to_yaml, compile_with,
};
/// Sugar over the builder: `#[component]` and `#[pipeline]` functions, `main!` for a
/// pipeline binary's command line (see [`cli`]), and `#[derive(KfpOutputs)]` for the
/// outputs of a Rust-function component.
pub use kfp_macros::{KfpOutputs, component, main, pipeline};

/// Everything a pipeline author needs in scope.
pub mod prelude {
    pub use crate::argo::Toleration;
    pub use crate::cmd;
    pub use crate::compile::{CompileError, compile, compile_to_file, compile_to_yaml};
    pub use crate::component::{
        CmdArg, Component, Configure, InputSpec, KfpType, OutputSpec, PullPolicy, ResourceAction,
        Retry, RetryPolicy, TypeSpec, Volume, concat, if_present, input_path, input_value,
        output_path,
    };
    pub use crate::dsl::{
        Artifact, Cond, InputPath, Item, Items, OutputPath, Param, Pipeline, PodGcStrategy, Task,
        TaskSpec, Value, WorkflowVar,
    };
    pub use crate::dsl::{Container, IntoParam, Output, TypedTaskSpec};
    pub use crate::dsl::{FunctionComponent, Json, KfpOutputs};
    pub use kfp_macros::{KfpOutputs, component, pipeline};
}
