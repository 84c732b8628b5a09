//! A pipeline binary as a user writes one: `kfp::main!` over a `#[pipeline]` function gives
//! it `list` and `compile`.
//!
//! ```text
//! cargo run -p samples --bin hello -- list
//! cargo run -p samples --bin hello -- compile -o hello.yaml
//! ```

kfp::main!(samples::hello_macros::hello);
