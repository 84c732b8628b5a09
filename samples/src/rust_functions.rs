//! Rust functions as pipeline steps, next to container steps.
//!
//! - `make-table` (a container) writes a CSV file;
//! - `profile` (a Rust function) reads it and returns several values (a
//!   `#[derive(KfpOutputs)]` struct), one of them a serde type written as JSON;
//! - `split` (a Rust function) takes a serde config as JSON and returns one value;
//! - for big tables only, `summarize` (a Rust function) turns those outputs into a line
//!   that `report` (a container) prints.
//!
//! The Rust steps run inside the pipeline binary: their command is
//! `/usr/local/bin/pipelines component <name> --<arg> ...` in the image this pipeline
//! sets, where `pipelines` is `samples/src/bin/pipelines.rs`, which serves every sample
//! and so every function they use. Try one without a cluster:
//!
//! ```text
//! cargo run -p samples --bin pipelines -- component split --rows 10 --plan '{"train": 0.8, "seed": 7}'
//! ```

use kfp::prelude::*;
use serde::{Deserialize, Serialize};

/// Where the pipeline binary lives: one image for every Rust step of the pipeline.
pub const IMAGE: &str = "ghcr.io/example/kfp-samples:0.1.0";
pub const BINARY: &str = "/usr/local/bin/pipelines";

/// Write `rows` rows of `id,value` to a CSV file.
#[component(image = "python:3.12-alpine")]
pub fn make_table(rows: Param<i64>, #[kfp(type = "CSV")] table: OutputPath) -> Container {
    Container::new(["python3", "-c"]).args(cmd![
        r#"import os, sys
rows, out = int(sys.argv[1]), sys.argv[2]
os.makedirs(os.path.dirname(out), exist_ok=True)
with open(out, "w") as f:
    f.write("id,value\n")
    for i in range(1, rows + 1):
        f.write(f"{i},{i * i}\n")
"#,
        rows,
        table,
    ])
}

/// The columns of a table, as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Columns {
    pub names: Vec<String>,
}

/// What `profile` finds: each field is an output.
#[derive(Debug, KfpOutputs)]
pub struct Profile {
    #[kfp(description = "Data rows (without the header)")]
    pub rows: i64,
    pub columns: Columns,
}

/// Count the rows and name the columns of a CSV file.
#[component]
pub fn profile(
    #[kfp(type = "CSV")] table: InputPath,
    #[kfp(default = true)] header: bool,
) -> Result<Profile, String> {
    let text = std::fs::read_to_string(&table)
        .map_err(|e| format!("cannot read {}: {e}", table.path().display()))?;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let names = match lines.next() {
        Some(first) if header => first.split(',').map(|c| c.trim().to_owned()).collect(),
        Some(_) => Vec::new(),
        None => return Err("the table is empty".into()),
    };
    let rows = lines.count() + usize::from(!header);
    Ok(Profile {
        rows: i64::try_from(rows).map_err(|e| e.to_string())?,
        columns: Columns { names },
    })
}

/// How to split a data set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub train: f64,
    pub seed: u64,
}

/// How many rows go to training under `plan`.
#[component]
pub fn split(rows: i64, plan: Plan) -> Result<i64, String> {
    if !(0.0..=1.0).contains(&plan.train) {
        return Err(format!(
            "plan.train must be within 0..=1, got {}",
            plan.train
        ));
    }
    Ok((rows as f64 * plan.train).round() as i64)
}

/// One line about the table (a serde input, read from the JSON `profile` wrote).
#[component]
pub fn summarize(columns: Columns, rows: i64, train_rows: i64) -> String {
    format!(
        "{rows} rows ({train_rows} to train), columns {}",
        columns.names.join(", ")
    )
}

/// Print a line.
#[component(image = "alpine:3.20")]
pub fn report(line: Param<String>) -> Container {
    Container::new(cmd!["echo", line])
}

/// Profile a generated table with Rust functions, then report on it.
#[pipeline(name = "rust-functions")]
pub fn rust_functions(p: &mut Pipeline, #[kfp(default = 200)] rows: Param<i64>) {
    p.settings_mut()
        .function_image(IMAGE)
        .function_binary(BINARY);
    let table = p.task(make_table(&rows));
    let profiled = p.task(profile(&table.outputs.table));
    let stats = &profiled.outputs;
    let plan = Plan {
        train: 0.8,
        seed: 7,
    };
    let split = p.task(split(&stats.rows, Json(plan)));
    p.when(stats.rows.gt(100), |p| {
        let line = p.task(summarize(
            &stats.columns,
            &stats.rows,
            &split.outputs.output,
        ));
        p.task(report(&line.outputs.output));
    });
}

/// The sample's pipeline.
pub fn pipeline() -> kfp::dsl::Pipeline {
    rust_functions()
}
