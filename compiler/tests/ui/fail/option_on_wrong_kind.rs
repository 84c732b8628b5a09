use kfp::prelude::*;

#[component(image = "alpine:3.20")]
fn count(
    #[kfp(type = "Integer")] n: Param<i64>,
    #[kfp(default = "")] file: InputPath,
    #[kfp(optional)] total: Output<i64>,
    #[kfp(optional)] timeout: Param<i64>,
) -> Container {
    Container::new(cmd!["seq", n, file, total, timeout])
}

fn main() {}
