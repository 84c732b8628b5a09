//! The builder API: pipelines, tasks and the values passed between them.
//!
//! Everything the macros generate is written in these terms, so a pipeline can always be
//! built by hand. Mistakes in wiring are recorded as the pipeline is built and reported,
//! all together and by name, when it is compiled: building never panics.

mod condition;
mod container;
mod function;
mod items;
mod pipeline;
mod task;
mod value;

pub use condition::*;
pub use container::*;
pub use function::*;
pub use items::*;
pub use pipeline::*;
pub use task::*;
pub use value::*;
