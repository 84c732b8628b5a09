//! Components: the reusable units a pipeline is made of.
//!
//! The spec follows KFP v1's `component.yaml` model (inputs, outputs, a container whose
//! command line is built from placeholders) so that components declared in Rust and
//! components loaded from KFP files are the same thing to the compiler. Settings that
//! `component.yaml` cannot express (resources, volumes, retries, ...) live in
//! [`TaskConfig`], which a task can override.

mod config;
mod placeholder;
mod spec;
mod types;

pub use config::*;
pub use placeholder::*;
pub use spec::*;
pub use types::*;
