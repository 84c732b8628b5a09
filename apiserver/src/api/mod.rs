//! The wire layer of the KFP-compatible API: the JSON models clients send and receive,
//! the List query parameters, and the error bodies, all in the shapes the generated KFP
//! clients (kfp 1.8 and 2.x) expect. No storage types live here: handlers convert.

pub mod error;
pub mod list_params;
pub mod v1;
pub mod wire;
