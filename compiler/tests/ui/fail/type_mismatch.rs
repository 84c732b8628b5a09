use kfp::prelude::*;

#[component(image = "alpine:3.20")]
fn count(n: Param<i64>, total: Output<i64>) -> Container {
    Container::new(cmd!["seq", n, total])
}

#[component(image = "alpine:3.20")]
fn echo(message: Param<String>) -> Container {
    Container::new(cmd!["echo", message])
}

#[pipeline]
fn flow(p: &mut Pipeline, n: Param<i64>) {
    let counted = p.task(count(&n));
    p.task(echo(counted.outputs.total));
}

fn main() {}
