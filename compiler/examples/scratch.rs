use kfp::prelude::*;

fn main() {
    let echo = Component::container("echo", "alpine:3.20")
        .input(InputSpec::string("message"))
        .output(OutputSpec::string("out"))
        .command(["sh", "-c"])
        .args([concat(["echo ", ]), input_value("message"), output_path("out")]);
    let count = Component::container("count", "alpine:3.20")
        .input(InputSpec::integer("n"))
        .output(OutputSpec::integer("n"))
        .output(OutputSpec::artifact("data", "Dataset"))
        .command(["sh", "-c", "echo $0 > $1; seq $0 > $2"])
        .args([input_value("n"), output_path("n"), output_path("data")]);
    let read = Component::container("read", "alpine:3.20")
        .input(InputSpec::artifact("data", "Dataset"))
        .command(["cat"]).args([input_path("data")]);
    let mut p = Pipeline::new("Hello World").description("demo");
    let who = p.param_with_default::<String>("who", "world".into());
    let times = p.param_with_default::<i64>("times", 2);
    let first = p.task(echo.task().arg("message", &who));
    let c = p.task(count.task().arg("n", &times));
    p.when(times.gt(1), |p| {
        p.parallel_for(Items::from(["a", "b"]).parallelism(1), |p, item| {
            p.task(echo.task().arg("message", item).after(&first));
            p.task(read.task().arg("data", c.output("data")));
        });
    });
    p.exit_handler(echo.task().arg("message", p.workflow_status()), |p| {
        p.task(echo.task().arg("message", first.output("out")));
    });
    match compile_to_yaml(&p) {
        Ok(y) => println!("{y}"),
        Err(e) => println!("ERROR: {e}"),
    }
}
