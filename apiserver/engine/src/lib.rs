//! Pure, synchronous core of the local Argo engine (issue 4).
//!
//! Everything here is deterministic and free of I/O so that the async executor built on top
//! of it can be tested against Argo's documented semantics (`ARGO-SEMANTICS.md`) piece by
//! piece:
//!
//! - [`when`]: govaluate-style evaluation of a task's `when` condition (§5.1);
//! - [`depends`]: parsing and evaluating `depends` / `dependencies` (§4.1);
//! - [`substitute`]: `{{...}}` tag replacement (§3.1);
//! - [`naming`]: FNV-1a node IDs, pod names, loop item names and values, `withSequence` (§5.2,
//!   §11.4, §12).

pub mod depends;
pub mod naming;
pub mod substitute;
pub mod when;

pub use depends::{DepState, Depends, DependsError, Phase};
pub use naming::{NamingError, fnv32a, node_id, pod_name};
pub use substitute::{SubstituteError, Substituted, substitute};
pub use when::{WhenError, evaluate_when};
