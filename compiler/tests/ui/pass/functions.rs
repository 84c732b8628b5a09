use kfp::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    pub depth: u32,
}

#[derive(Debug, KfpOutputs)]
pub struct Stats {
    #[kfp(name = "row-count", description = "Rows seen")]
    pub rows: i64,
    pub config: Config,
}

/// Every argument kind and a `KfpOutputs` result.
#[component]
pub fn analyse(
    rows: i64,
    #[kfp(default = 0.5)] ratio: f64,
    label: Option<String>,
    config: Config,
    wrapped: Json<Config>,
    values: Vec<f64>,
    #[kfp(type = "CSV")] data: InputPath,
    extra: Option<InputPath>,
    report: OutputPath,
) -> Result<Stats, std::io::Error> {
    let _ = (ratio, label, wrapped, values, extra);
    std::fs::write(&report, std::fs::read(data.path())?)?;
    Ok(Stats { rows, config })
}

/// A tuple, and a function of no arguments.
#[component(name = "pair-of", image = "x:1", binary = "/bin/x")]
fn pair() -> (String, bool) {
    ("a".into(), true)
}

/// Nothing returned.
#[component]
fn log(message: String) {
    println!("{message}");
}

#[component(image = "alpine:3.20")]
fn fetch(#[kfp(type = "CSV")] data: OutputPath) -> Container {
    Container::new(cmd!["touch", data])
}

#[pipeline]
fn flow(p: &mut Pipeline, rows: Param<i64>) {
    let s = p.task(pair());
    let f = p.task(fetch());
    let a = p.task(
        analyse(&rows, Json(Config { depth: 1 }), Json(Config { depth: 2 }), vec![1.0], &f.outputs.data)
            .label(&s.outputs.output_0)
            .ratio(0.25),
    );
    let rows: &Param<i64> = &a.outputs.results.rows;
    let config: &Param<Config> = &a.outputs.results.config;
    let report: &Param<Artifact> = &a.outputs.report;
    let _ = (rows, config, report);
    p.task(log("done").after(&a));
}

#[allow(dead_code)]
mod cli {
    // The binary form: `flow`'s functions plus `log` (listed after `;`).
    kfp::main!(super::flow; super::log);
}

fn main() {
    let yaml = kfp::compile_to_yaml(&flow()).expect("the pipeline compiles");
    for expected in [
        "- /bin/x",
        "image: x:1",
        "kfp-rs/rust-function: pair-of",
        "- --output-row-count",
        "name: row-count",
    ] {
        assert!(yaml.contains(expected), "{expected:?} not in {yaml}");
    }
}
