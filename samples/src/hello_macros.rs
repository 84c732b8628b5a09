//! The DSL sketch of DESIGN.md, written with the macros: `#[component]` functions become
//! typed task factories, `#[pipeline]` declares typed parameters. It compiles to the same
//! kind of workflow as the builder samples (the macros expand to the builder API).

use kfp::prelude::*;

/// Print a message.
#[component(image = "alpine:3.20")]
pub fn echo(message: Param<String>) -> Container {
    Container::new(cmd!["echo", message])
}

/// Write a greeting for `who` to a file, and count its characters.
#[component(image = "alpine:3.20")]
pub fn greet(
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
pub fn show(#[kfp(type = "TextFile")] text: InputPath) -> Container {
    Container::new(cmd!["cat", text])
}

/// Say hello, then maybe more.
#[pipeline(name = "hello-macros")]
pub fn hello(
    p: &mut Pipeline,
    #[kfp(default = "world")] who: Param<String>,
    #[kfp(default = 2)] times: Param<i64>,
) {
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

/// The sample's pipeline.
pub fn pipeline() -> kfp::dsl::Pipeline {
    hello()
}
