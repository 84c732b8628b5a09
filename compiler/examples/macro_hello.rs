//! The DSL sketch of `DESIGN.md`, made real: components and a pipeline written with the
//! macros, and a command line to compile it.
//!
//! ```text
//! cargo run -p kfp --example macro_hello -- list
//! cargo run -p kfp --example macro_hello -- compile -o /tmp/hello.yaml
//! ```

use kfp::prelude::*;

/// Print a message.
#[component(image = "alpine:3.20")]
fn echo(message: Param<String>) -> Container {
    Container::new(cmd!["echo", message])
}

/// Write a greeting for `who` to a file, and count its characters.
#[component(image = "alpine:3.20")]
fn greet(
    who: Param<String>,
    #[kfp(default = "Hello")] greeting: Param<String>,
    #[kfp(type = "TextFile")] text: OutputPath,
    length: Output<i64>,
) -> Container {
    Container::new(["sh", "-ec"]).args(cmd![
        r#"mkdir -p "$(dirname "$3")" "$(dirname "$4")"; echo "$1, $2!" > "$3"; wc -c < "$3" > "$4""#,
        "greet",
        greeting,
        who,
        text,
        length,
    ])
}

/// Print a file.
#[component(image = "alpine:3.20")]
fn show(#[kfp(type = "TextFile")] text: InputPath) -> Container {
    Container::new(cmd!["cat", text])
}

/// Say hello, then maybe more.
#[pipeline(name = "hello")]
fn hello(p: &mut Pipeline, who: Param<String>, #[kfp(default = 2)] times: Param<i64>) {
    let status = p.workflow_status();
    p.exit_handler(echo(status), |p| {
        let first = p.task(greet(&who).greeting("Hi"));
        p.task(show(first.outputs.text.clone()));
        p.when(times.gt(1), |p| {
            p.parallel_for(["again", "and again"], |p, word| {
                p.task(echo(word).after(&first));
            });
        });
        p.when(first.outputs.length.gt(100), |p| {
            p.task(echo("that was long"));
        });
    });
}

kfp::main!(hello);
