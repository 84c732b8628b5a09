use kfp::prelude::*;

#[component(image = "alpine:3.20")]
fn make(out: Output<String>) -> Container {
    Container::new(cmd!["make", out])
}

#[component(image = "alpine:3.20")]
fn echo(message: Param<String>) -> Container {
    Container::new(cmd!["echo", message])
}

#[pipeline]
fn flow(p: &mut Pipeline) {
    p.task(echo(made.outputs.out.clone()));
    let made = p.task(make());
}

fn main() {}
