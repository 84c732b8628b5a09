use kfp::prelude::*;

#[component(image = "alpine:3.20")]
fn count(#[kfp(default = "three")] n: Param<i64>) -> Container {
    Container::new(cmd!["seq", n])
}

#[pipeline]
fn flow(p: &mut Pipeline, #[kfp(default = 1.5)] n: Param<i64>) {
    p.task(count().n(n));
}

fn main() {}
