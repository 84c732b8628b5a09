use kfp::prelude::*;

#[component(description = "Print a message")]
fn echo(message: Param<String>) -> Container {
    Container::new(cmd!["echo", message])
}

fn main() {}
