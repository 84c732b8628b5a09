//! The `kfp` command line, and later the KFP-compatible API server.
//!
//! Both sit on the embedded engine (`kfp-engine`), which stays a crate of its own so the
//! command line does not pull in the server's web and database stack. For now the crate
//! holds only [`cli`]: `kfp run` runs a workflow locally and follows it.

pub mod api;
pub mod cli;
pub mod list;
pub mod server;
pub mod store;
