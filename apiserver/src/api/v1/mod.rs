//! The v1beta1 API (`/apis/v1beta1/...`), the one kfp 1.8's `kfp.Client` speaks.

pub mod model;
