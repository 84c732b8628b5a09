use kfp::prelude::*;

#[component]
fn maybe(x: i64) -> Option<i64> {
    Some(x)
}

#[component]
fn borrowed(x: i64) -> &'static str {
    if x > 0 { "positive" } else { "other" }
}

#[component]
fn with_files(x: i64) -> Result<OutputPath, String> {
    Err(format!("{x}"))
}

fn main() {}
