//! A pipeline used as one task of another, with an output consumed downstream.
//!
//! `train-and-evaluate` is a complete pipeline of its own (it can be compiled and run
//! alone) with a `learning_rate` parameter; it declares the evaluation's accuracy as its
//! output (`inner.output("accuracy", ..)`). The outer pipeline runs it as a task
//! (`inner.into_task().arg(..)`), passes its `accuracy` to `report`, and deploys only when
//! the accuracy is high enough. In the workflow the inner pipeline is a DAG template whose
//! `outputs.parameters` forward the evaluation task's output, read by the outer DAG as
//! `{{tasks.train-and-evaluate.outputs.parameters.accuracy}}`.

use kfp::prelude::*;

/// Pretends to train: writes a model artifact whose quality depends on the learning rate.
pub fn train() -> Component {
    Component::container("train", "python:3.12-alpine")
        .description("Train a model (simulated)")
        .input(InputSpec::float("learning_rate"))
        .output(OutputSpec::artifact("model", "Model"))
        .command([
            "python3",
            "-c",
            r#"import json, os, sys
lr, out = float(sys.argv[1]), sys.argv[2]
os.makedirs(os.path.dirname(out), exist_ok=True)
with open(out, "w") as f:
    json.dump({"learning_rate": lr, "weights": [0.1, 0.2, 0.3]}, f)
print(f"trained with learning_rate={lr}")
"#,
        ])
        .args([input_value("learning_rate"), output_path("model")])
}

/// Evaluates the model artifact; writes its accuracy (a number in [0, 1]) as `accuracy`.
pub fn evaluate() -> Component {
    Component::container("evaluate", "python:3.12-alpine")
        .description("Evaluate a model (simulated)")
        .input(InputSpec::artifact("model", "Model"))
        .output(OutputSpec::float("accuracy"))
        .command([
            "python3",
            "-c",
            r#"import json, math, os, sys
with open(sys.argv[1]) as f:
    model = json.load(f)
# Best around learning_rate = 0.01.
accuracy = round(0.95 - 0.05 * abs(math.log10(model["learning_rate"]) + 2), 4)
print(f"accuracy={accuracy}")
os.makedirs(os.path.dirname(sys.argv[2]), exist_ok=True)
with open(sys.argv[2], "w") as f:
    f.write(str(accuracy))
"#,
        ])
        .args([input_path("model"), output_path("accuracy")])
}

/// Prints the accuracy.
pub fn report() -> Component {
    Component::container("report", "alpine:3.20")
        .description("Print the accuracy")
        .input(InputSpec::float("accuracy"))
        .command(["sh", "-ec", r#"echo "accuracy: $1""#, "report"])
        .args([input_value("accuracy")])
}

/// Pretends to deploy.
pub fn deploy() -> Component {
    Component::container("deploy", "alpine:3.20")
        .description("Deploy the model (simulated)")
        .input(InputSpec::float("accuracy"))
        .command([
            "sh",
            "-ec",
            r#"echo "deploying a model with accuracy $1""#,
            "deploy",
        ])
        .args([input_value("accuracy")])
}

/// The inner pipeline: train → evaluate, exposing `accuracy`.
pub fn train_and_evaluate() -> Pipeline {
    let mut p = Pipeline::new("train-and-evaluate").description("Train a model and evaluate it");
    let lr = p.param_with_default::<f64>("learning_rate", 0.01);
    let model = p.task(train().task().arg("learning_rate", &lr));
    let eval = p.task(evaluate().task().arg("model", model.output("model")));
    p.output("accuracy", eval.output("accuracy"));
    p
}

/// `sub-pipeline(learning_rate = 0.01, min_accuracy = 0.9)`.
pub fn pipeline() -> Pipeline {
    let mut p =
        Pipeline::new("sub-pipeline").description("Run a pipeline as a task and use its output");
    let lr = p.param_with_default::<f64>("learning_rate", 0.01);
    let min_accuracy = p.param_with_default::<f64>("min_accuracy", 0.9);

    let inner = p.task(train_and_evaluate().into_task().arg("learning_rate", &lr));
    let accuracy = inner.output_param::<f64>("accuracy");
    p.task(report().task().arg("accuracy", &accuracy));
    p.when(accuracy.ge(&min_accuracy), |p| {
        p.task(deploy().task().arg("accuracy", &accuracy));
    });
    p
}
