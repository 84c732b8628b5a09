//! Three kinds of component in one pipeline:
//!
//! - `metrics` is a container component declared with the builder DSL;
//! - `select-json-field` is a KFP v1 `component.yaml` from the `components/` library, loaded
//!   unchanged;
//! - `grade` is a Rust function, run inside the pipeline binary.
//!
//! Values flow between them whatever their kind, with the same type checks.

use kfp::prelude::*;

use crate::rust_functions::{BINARY, IMAGE};

/// Writes a JSON report of a (pretend) training run.
pub fn metrics() -> Component {
    Component::container("metrics", "python:3.12-alpine")
        .description("Write training metrics as JSON")
        .input(InputSpec::float("accuracy").default(0.93))
        .output(OutputSpec::string("report"))
        .command(["python3", "-c"])
        .args([
            CmdArg::from(
                "import json, os, sys\n\
                 accuracy, out = float(sys.argv[1]), sys.argv[2]\n\
                 os.makedirs(os.path.dirname(out), exist_ok=True)\n\
                 json.dump({'metrics': {'accuracy': accuracy, 'loss': 1 - accuracy}}, open(out, 'w'))\n",
            ),
            input_value("accuracy"),
            output_path("report"),
        ])
}

/// A letter grade for an accuracy given as text.
#[component]
pub fn grade(accuracy: String) -> Result<String, String> {
    let value: f64 = accuracy
        .trim()
        .parse()
        .map_err(|e| format!("accuracy {accuracy:?}: {e}"))?;
    Ok(match value {
        v if v >= 0.9 => "A",
        v if v >= 0.8 => "B",
        _ => "C",
    }
    .to_owned())
}

/// The sample's pipeline.
pub fn pipeline() -> Pipeline {
    let mut p = Pipeline::new("mixed-components")
        .description("A DSL container, a library component.yaml and a Rust function together");
    p.settings_mut()
        .function_image(IMAGE)
        .function_binary(BINARY);
    let accuracy = p.param_with_default::<f64>("accuracy", 0.93);
    let report = p.task(metrics().task().arg("accuracy", &accuracy));
    // The library's files are embedded in the crate and checked by its tests.
    let select = kfp_components::select_json_field().expect("library components load");
    let field = p.task(
        select
            .task()
            .arg("Json", report.output("report"))
            .arg("Field", "metrics.accuracy"),
    );
    p.task(grade(field.output_param::<String>("Value")));
    p
}
