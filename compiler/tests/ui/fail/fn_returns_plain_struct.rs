use kfp::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
pub struct Report {
    pub lines: i64,
}

/// A struct return type lists outputs, so it must derive `KfpOutputs`.
#[component]
fn count(text: String) -> Report {
    Report { lines: text.lines().count() as i64 }
}

fn main() {}
