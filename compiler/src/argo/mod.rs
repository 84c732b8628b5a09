//! A typed model of the `argoproj.io/v1alpha1` Workflow, as the compiler emits it.
//!
//! Only the fields the compiler produces (and the engine reads) are typed; Kubernetes
//! structures the compiler passes through untouched (affinity, security contexts, ...)
//! are kept as JSON values. Every optional field is skipped when empty so the YAML stays
//! as small as the pipeline, and maps are ordered so output is byte-for-byte deterministic.

mod k8s;
mod status;
mod template;
mod workflow;

pub use k8s::*;
pub use status::*;
pub use template::*;
pub use workflow::*;

/// The API version every workflow carries.
pub const API_VERSION: &str = "argoproj.io/v1alpha1";
/// The kind of the resource the compiler emits.
pub const KIND: &str = "Workflow";
