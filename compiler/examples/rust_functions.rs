//! A pipeline binary whose steps are Rust functions, run by the binary itself.
//!
//! ```text
//! cargo run -p kfp --example rust_functions -- compile -o fn.yaml
//! cargo run -p kfp --example rust_functions -- component                # the functions
//! cargo run -p kfp --example rust_functions -- component add --a 2      # prints `output: 3`
//! cargo run -p kfp --example rust_functions -- component train --help
//! ```
//!
//! `compiler/tests/function_components.rs` compiles this pipeline and runs the functions
//! through the binary, including the ones that fail and panic.

use kfp::prelude::*;
use serde::{Deserialize, Serialize};

/// How to train.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    pub depth: u32,
    pub labels: Vec<String>,
}

/// A summary written as JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    pub name: String,
    pub verbose: bool,
}

/// What `train` returns: one output per field.
#[derive(Debug, KfpOutputs)]
pub struct Trained {
    pub rows: i64,
    #[kfp(description = "Share of rows classified right")]
    pub accuracy: f64,
    pub summary: Summary,
}

/// Add two numbers.
#[component]
pub fn add(a: i64, #[kfp(default = 1)] b: i64) -> i64 {
    a + b
}

/// Train on a file; writes the model next to the outputs.
#[component]
#[allow(clippy::too_many_arguments)]
pub fn train(
    rows: i64,
    #[kfp(default = 0.1)] lr: f64,
    name: String,
    verbose: bool,
    cfg: Config,
    #[kfp(type = "CSV")] data: InputPath,
    note: Option<String>,
    #[kfp(type = "Model")] model: OutputPath,
) -> Result<Trained, String> {
    let text = std::fs::read_to_string(&data).map_err(|e| format!("cannot read data: {e}"))?;
    if rows < 0 {
        return Err(format!("rows must not be negative, got {rows}"));
    }
    let model_text = format!(
        "depth={} lr={lr} labels={} lines={} note={}",
        cfg.depth,
        cfg.labels.join("+"),
        text.lines().count(),
        note.as_deref().unwrap_or("-")
    );
    std::fs::write(&model, model_text).map_err(|e| e.to_string())?;
    Ok(Trained {
        rows: rows * 2,
        accuracy: 0.75,
        summary: Summary { name, verbose },
    })
}

/// Mean and largest value (in an image of its own, whatever the pipeline says).
#[component(image = "example.com/kfp-example-big:1.0")]
pub fn stats(values: Vec<f64>) -> Result<(f64, f64), String> {
    if values.is_empty() {
        return Err("no values".into());
    }
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    let max = values.iter().copied().fold(f64::MIN, f64::max);
    Ok((mean, max))
}

/// Always panics: what a bug looks like to the workflow.
#[component]
pub fn explode(message: String) {
    panic!("boom: {message}");
}

/// One line about a summary.
#[component]
pub fn describe(summary: Summary, accuracy: f64) -> String {
    format!("{} ({:.0}%)", summary.name, accuracy * 100.0)
}

/// Download a CSV file (a container step among the Rust ones).
#[component(image = "alpine:3.20")]
pub fn fetch(url: Param<String>, #[kfp(type = "CSV")] data: OutputPath) -> Container {
    Container::new(cmd![
        "sh",
        "-ec",
        r#"mkdir -p "$(dirname "$1")"; wget -O "$1" "$0""#,
        url,
        data
    ])
}

/// Rust functions and a container, wired by their outputs.
#[pipeline(name = "rust-functions")]
pub fn demo(p: &mut Pipeline, #[kfp(default = 3)] rows: Param<i64>, url: Param<String>) {
    p.settings_mut()
        .function_image("example.com/kfp-example:1.0");
    let fetched = p.task(fetch(&url));
    let sum = p.task(add(&rows).b(2));
    let cfg = Config {
        depth: 4,
        labels: vec!["a".into(), "b".into()],
    };
    let trained = p.task(
        train(
            &sum.outputs.output,
            "run-1",
            true,
            Json(cfg),
            &fetched.outputs.data,
        )
        .note("first"),
    );
    let results = &trained.outputs.results;
    p.task(describe(&results.summary, &results.accuracy));
    p.task(stats(vec![1.0, 2.0, 3.0]));
}

kfp::main!(demo; explode);
