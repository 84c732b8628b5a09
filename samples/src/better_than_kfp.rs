//! Four things KFP v1 gets wrong, each working here.
//!
//! 1. **An exit handler inside a loop.** KFP v1 only allows `ExitHandler` at the top of a
//!    pipeline. Here every iteration gets its own cleanup, which runs after that
//!    iteration's tasks whatever their outcome: an exit hook (`hooks.exit`) on the body of
//!    each iteration, using the iteration's shard.
//! 2. **Loop parallelism that limits iterations.** KFP v1 puts `parallelism` on the loop
//!    body's template, which limits tasks *within one iteration* and leaves the
//!    iterations unbounded. Here `Items::from(..).parallelism(2)` lands on the template
//!    that holds the `withItems` task, so at most 2 iterations run at once.
//! 3. **A condition combining `and`/`or` of three comparisons.** KFP v1's `dsl.Condition`
//!    takes a single comparison; nesting is the only "and" and there is no "or". Here
//!    `(accuracy >= 0.9 && model == 'large') || loss <= 0.05` is one `when`, numbers
//!    compared unquoted and strings quoted.
//! 4. **A sub-pipeline's output used downstream.** KFP v1 graph components cannot return
//!    outputs. Here the inner pipeline's declared output is a DAG template output, read by
//!    the next task as `tasks.<sub-pipeline>.outputs.parameters.<name>`.

use kfp::prelude::*;

/// Prints a message.
pub fn say() -> Component {
    Component::container("say", "alpine:3.20")
        .description("Print a message")
        .input(InputSpec::string("message"))
        .command(["sh", "-ec", r#"echo "$1""#, "say"])
        .args([input_value("message")])
}

/// Processes one shard in a scratch directory `/tmp/scratch/<shard>`.
pub fn process_shard() -> Component {
    Component::container("process-shard", "alpine:3.20")
        .description("Process one shard in a scratch directory")
        .input(InputSpec::string("shard"))
        .command([
            "sh",
            "-ec",
            r#"dir="/tmp/scratch/$1"
mkdir -p "$dir"
echo "processing $1" | tee "$dir/progress.log""#,
            "process-shard",
        ])
        .args([input_value("shard")])
}

/// Removes the scratch directory of one shard (whatever happened to it).
pub fn cleanup_shard() -> Component {
    Component::container("cleanup-shard", "alpine:3.20")
        .description("Remove a shard's scratch directory")
        .input(InputSpec::string("shard"))
        .command([
            "sh",
            "-ec",
            r#"rm -rf "/tmp/scratch/$1"; echo "cleaned up $1""#,
            "cleanup-shard",
        ])
        .args([input_value("shard")])
}

/// Trains a model of size `model`; outputs `accuracy` and `loss`.
pub fn train() -> Component {
    Component::container("train", "python:3.12-alpine")
        .description("Train a model (simulated)")
        .input(InputSpec::string("model"))
        .output(OutputSpec::float("accuracy"))
        .output(OutputSpec::float("loss"))
        .command([
            "python3",
            "-c",
            r#"import os, random, sys
model, acc_path, loss_path = sys.argv[1:4]
accuracy = round(random.uniform(0.8, 0.99) if model == "large" else random.uniform(0.6, 0.9), 3)
loss = round(1 - accuracy, 3)
print(f"{model}: accuracy={accuracy} loss={loss}")
for path, value in ((acc_path, accuracy), (loss_path, loss)):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(str(value))
"#,
        ])
        .args([
            input_value("model"),
            output_path("accuracy"),
            output_path("loss"),
        ])
        .caching(false)
}

/// Prints a model's metrics.
pub fn report() -> Component {
    Component::container("report", "alpine:3.20")
        .description("Print a model's metrics")
        .input(InputSpec::float("accuracy"))
        .input(InputSpec::float("loss"))
        .command(["sh", "-ec", r#"echo "accuracy $1, loss $2""#, "report"])
        .args([input_value("accuracy"), input_value("loss")])
}

/// Pretends to deploy a model.
pub fn deploy() -> Component {
    Component::container("deploy", "alpine:3.20")
        .description("Deploy a model (simulated)")
        .input(InputSpec::string("model"))
        .input(InputSpec::float("accuracy"))
        .command([
            "sh",
            "-ec",
            r#"echo "deploying the $1 model (accuracy $2)""#,
            "deploy",
        ])
        .args([input_value("model"), input_value("accuracy")])
}

/// The inner pipeline of (4): trains, and exposes `accuracy` and `loss` as its outputs.
pub fn training() -> Pipeline {
    let mut p = Pipeline::new("training").description("Train one model and expose its metrics");
    let model = p.param_with_default::<String>("model", "large".into());
    let run = p.task(train().task().arg("model", &model));
    p.output("accuracy", run.output("accuracy"));
    p.output("loss", run.output("loss"));
    p
}

/// `better-than-kfp(model = "large")`.
pub fn pipeline() -> Pipeline {
    let mut p = Pipeline::new("better-than-kfp")
        .description("Exit handler in a loop, bounded loop, and/or condition, sub-pipeline output");
    let model = p.param_with_default::<String>("model", "large".into());

    // (1) + (2): five shards, two at a time, each cleaned up after it is processed.
    let shards =
        Items::from(["shard-a", "shard-b", "shard-c", "shard-d", "shard-e"]).parallelism(2);
    p.parallel_for(shards, |p, shard| {
        p.exit_handler(cleanup_shard().task().arg("shard", &shard), |p| {
            p.task(process_shard().task().arg("shard", &shard));
        });
    });

    // (4): a sub-pipeline whose outputs are used by the tasks after it.
    let trained = p.task(training().into_task().arg("model", &model));
    let accuracy = trained.output_param::<f64>("accuracy");
    let loss = trained.output_param::<f64>("loss");
    p.task(
        report()
            .task()
            .arg("accuracy", &accuracy)
            .arg("loss", &loss),
    );

    // (3): (accuracy >= 0.9 and model == 'large') or loss <= 0.05.
    let good = accuracy.ge(0.9).and(model.eq("large")).or(loss.le(0.05));
    p.when(good, |p| {
        p.task(
            deploy()
                .task()
                .arg("model", &model)
                .arg("accuracy", &accuracy),
        );
    });
    p
}
