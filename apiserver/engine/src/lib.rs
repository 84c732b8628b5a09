//! The embedded local engine: runs an Argo `Workflow` on one machine with processes
//! instead of pods, following `ARGO-SEMANTICS.md`, and reports Argo's status shape.
//!
//! Its own crate (not part of the API server) so that `kfp run` and the server share it
//! without the server's dependencies, and so its pure core can be tested alone:
//!
//! - [`when`], [`depends`], [`substitute`], [`naming`], [`expr`]: Argo's languages and
//!   names, deterministic and free of I/O;
//! - [`process`] (a container as a process group), [`artifacts`] (Argo's tar+gzip store),
//!   [`remap`] (a pod's paths inside the node's directory);
//! - [`Engine`]/[`RunHandle`]: scheduling DAGs and steps, retries, deadlines, parallelism,
//!   exit handlers, suspend/resume, with the status behind a `watch` channel; and retries
//!   of finished runs ([`RunOptions::retry_of`]) that run again only what failed.

pub mod artifacts;
pub mod depends;
mod engine;
mod exec;
pub mod expr;
pub mod naming;
mod previous;
pub mod process;
pub mod remap;
mod run;
mod scope;
pub mod substitute;
pub mod time;
mod tracker;
pub mod when;

pub use depends::{DepState, Depends, DependsError, Phase};
pub use engine::{Engine, EngineConfig, EngineError, RunHandle, RunOptions};
pub use naming::{NamingError, fnv32a, node_id, pod_name};
pub use previous::RetryError;
pub use run::Halt;
pub use substitute::{SubstituteError, Substituted, substitute};
pub use when::{WhenError, evaluate_when};
