use kfp::prelude::*;

#[component(image = "alpine:3.20")]
fn repeat(message: String, times: &Param<i64>) -> Container {
    Container::new(cmd!["echo", message, times])
}

fn main() {}
