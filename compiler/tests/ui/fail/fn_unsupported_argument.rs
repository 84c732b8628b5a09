use kfp::prelude::*;

/// Arguments a Rust-function component cannot take, each with what to write instead.
#[component]
fn summarize(text: &str, weights: [f64; 3], count: usize, limit: Param<i64>, shape: (i64, i64)) -> String {
    format!("{text} {weights:?} {count} {limit:?} {shape:?}")
}

fn main() {}
