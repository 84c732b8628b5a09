use kfp::prelude::*;

#[component(image = "python:3.12")]
fn train(model: OutputPath, accuracy: Output<f64>) -> Container {
    Container::new(cmd!["train", model, accuracy])
}

#[component(image = "alpine:3.20")]
fn show(model: InputPath) -> Container {
    Container::new(cmd!["cat", model])
}

#[pipeline]
fn flow(p: &mut Pipeline) {
    let trained = p.task(train());
    p.task(show(trained.outputs.modle));
}

fn main() {}
