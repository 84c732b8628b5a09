//! Components: the reusable units a pipeline is made of.
//!
//! The spec follows KFP v1's `component.yaml` model (inputs, outputs, a container whose
//! command line is built from placeholders, or a graph of other components) so that
//! components declared in Rust and components loaded from KFP files are the same thing to
//! the compiler. Settings that `component.yaml` cannot express (resources, volumes,
//! retries, ...) live in [`TaskConfig`], which a task can override.
//!
//! Load KFP files with [`Component::from_file`], [`Component::from_yaml_str`] or a
//! [`ComponentLoader`]; write one with [`Component::to_yaml`].

mod config;
pub(crate) mod de;
mod graph;
mod load;
mod placeholder;
mod spec;
mod types;

pub use config::*;
pub use graph::*;
pub use load::*;
pub use placeholder::*;
pub use spec::*;
pub use types::*;
