use kfp::prelude::*;

/// Train a model.
#[component(image = "python:3.12")]
pub fn train(
    #[kfp(type = "CSV")] data: InputPath,
    #[kfp(default = 0.1)] lr: Param<f64>,
    #[kfp(optional)] note: Param<String>,
    #[kfp(optional)] init: InputPath,
    #[kfp(type = "Model")] model: OutputPath,
    accuracy: Output<f64>,
) -> Container {
    Container::new(["python", "train.py"])
        .args(cmd![
            "--data", data, "--lr", lr, "--model", model, "--acc", accuracy
        ])
        .args([
            note.if_present(cmd!["--note", &note]),
            init.if_present(cmd!["--init", &init]),
        ])
        .env("MODE", "fast")
        .memory_limit("1Gi")
}

#[component(image = "alpine:3.20")]
fn echo(message: Param<String>) -> Container {
    Container::new(cmd!["echo", message])
}

#[pipeline(name = "all-kinds")]
fn all_kinds(p: &mut Pipeline, data: Param<Artifact>, #[kfp(default = 2)] rounds: Param<i64>) {
    let first = p.task(train(&data).lr(0.5).note("hi"));
    let second = p.task(train(data).init(first.outputs.model.clone()).after(&first));
    let accuracy: Param<f64> = second.outputs.accuracy.clone();
    p.when(accuracy.gt(0.5) & rounds.gt(1), |p| {
        p.parallel_for(["a", "b"], |p, item| {
            p.task(echo(&item));
            p.task(echo(item));
        });
    });
    p.exit_handler(echo(p.workflow_status()), |p| {
        p.task(echo("bye"));
    });
}

fn main() {
    // `kfp::main!` is exercised by `samples/src/bin/hello.rs`; here the pipeline must compile.
    let yaml = kfp::compile_to_yaml(&all_kinds()).expect("the pipeline compiles");
    assert!(yaml.contains("- --note"), "{yaml}");
    assert!(
        yaml.contains("from: \"{{tasks.train.outputs.artifacts.model}}\""),
        "{yaml}"
    );
    assert!(yaml.contains("name: MODE"), "{yaml}");
}
