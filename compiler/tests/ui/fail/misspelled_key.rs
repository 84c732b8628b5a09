use kfp::prelude::*;

#[component(imge = "alpine:3.20")]
fn echo(message: Param<String>) -> Container {
    Container::new(cmd!["echo", message])
}

#[component(image = "alpine:3.20")]
fn greet(#[kfp(defualt = "world")] who: Param<String>) -> Container {
    Container::new(cmd!["echo", who])
}

fn main() {}
