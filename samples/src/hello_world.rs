//! The smallest pipeline: one task printing a greeting for the `who` parameter.
//!
//! Shows a container component with one input, passed on the command line as a
//! positional argument, and a pipeline parameter with a default.

use kfp::prelude::*;

/// Prints `Hello, <who>!`.
pub fn echo() -> Component {
    Component::container("echo", "alpine:3.20")
        .description("Print a greeting")
        .input(InputSpec::string("who").description("Whom to greet"))
        .command(["sh", "-ec", r#"echo "Hello, $1!""#, "echo"])
        .args([input_value("who")])
}

/// `hello-world(who = "world")`: one `echo` task.
pub fn pipeline() -> Pipeline {
    let mut p = Pipeline::new("hello-world").description("Say hello to someone");
    let who = p.param_with_default::<String>("who", "world".into());
    p.task(echo().task().arg("who", &who));
    p
}
