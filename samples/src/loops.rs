//! Loops (`parallel_for`) over every kind of list, and a fan-in after one.
//!
//! 1. a static list of scalars (`withItems: [a, b, c]`);
//! 2. a static list of maps, each iteration reading fields with `item.field::<T>(..)`
//!    (`{{item.name}}`), with a loop nested inside it;
//! 3. a pipeline parameter holding a JSON list (`withParam`), at most 2 iterations at once
//!    (`Items::from(..).parallelism(2)`), squaring each number; after the loop, `sum`
//!    receives every iteration's square as one JSON list (`Param::collect()`);
//! 4. a task's output: a task prints a JSON list, the loop runs once per element.

use kfp::prelude::*;
use serde_json::json;

/// Prints one line of text.
pub fn echo() -> Component {
    Component::container("echo", "alpine:3.20")
        .description("Print a line")
        .input(InputSpec::string("text"))
        .command(["sh", "-ec", r#"echo "$1""#, "echo"])
        .args([input_value("text")])
}

/// Pretends to train a model of one size with one batch size and seed.
pub fn train() -> Component {
    Component::container("train", "python:3.12-alpine")
        .description("Train one configuration (simulated)")
        .input(InputSpec::string("model"))
        .input(InputSpec::integer("batch_size"))
        .input(InputSpec::integer("seed"))
        .command([
            "python3",
            "-c",
            r#"import random, sys
model, batch, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
random.seed(seed)
print(f"model={model} batch_size={batch} seed={seed} loss={random.random():.3f}")
"#,
        ])
        .args([
            input_value("model"),
            input_value("batch_size"),
            input_value("seed"),
        ])
}

/// Writes `number * number` to the `square` output.
pub fn square() -> Component {
    Component::container("square", "alpine:3.20")
        .description("Square a number")
        .input(InputSpec::integer("number"))
        .output(OutputSpec::integer("square"))
        .command([
            "sh",
            "-ec",
            r#"mkdir -p "$(dirname "$2")"
echo "$1 squared is $(($1 * $1))"
printf '%s' "$(($1 * $1))" > "$2""#,
            "square",
        ])
        .args([input_value("number"), output_path("square")])
}

/// Sums a JSON list of numbers (given as numbers or as numeric strings, as Argo gathers
/// a loop's outputs) into the `total` output.
pub fn sum() -> Component {
    Component::container("sum", "python:3.12-alpine")
        .description("Sum a JSON list of numbers")
        .input(InputSpec::json_array("numbers"))
        .output(OutputSpec::integer("total"))
        .command([
            "python3",
            "-c",
            r#"import json, os, sys
numbers = [int(x) for x in json.loads(sys.argv[1])]
total = sum(numbers)
print(" + ".join(map(str, numbers)), "=", total)
os.makedirs(os.path.dirname(sys.argv[2]), exist_ok=True)
with open(sys.argv[2], "w") as f:
    f.write(str(total))
"#,
        ])
        .args([input_value("numbers"), output_path("total")])
}

/// Prints a JSON list of `count` shard names (`["shard-0", ...]`) on stdout and to the
/// `shards` output.
pub fn list_shards() -> Component {
    Component::container("list-shards", "python:3.12-alpine")
        .description("List the shards to process, as JSON")
        .input(InputSpec::integer("count"))
        .output(OutputSpec::json_array("shards"))
        .command([
            "python3",
            "-c",
            r#"import json, os, sys
shards = json.dumps([f"shard-{i}" for i in range(int(sys.argv[1]))])
print(shards)
os.makedirs(os.path.dirname(sys.argv[2]), exist_ok=True)
with open(sys.argv[2], "w") as f:
    f.write(shards)
"#,
        ])
        .args([input_value("count"), output_path("shards")])
}

/// `loops(numbers = [1, 2, 3, 4], shard_count = 3)`.
pub fn pipeline() -> Pipeline {
    let mut p = Pipeline::new("loops").description("Loops over static, parameter and task lists");
    let numbers = p.param_with_default::<Vec<i64>>("numbers", vec![1, 2, 3, 4]);
    let shard_count = p.param_with_default::<i64>("shard_count", 3);

    // 1. Static scalars.
    p.parallel_for(Items::from(["alpha", "beta", "gamma"]), |p, word| {
        p.task(echo().task().arg("text", word));
    });

    // 2. Static maps, with a nested loop over seeds.
    let configs = vec![
        json!({"model": "small", "batch_size": 64}),
        json!({"model": "large", "batch_size": 16}),
    ];
    p.parallel_for(configs, |p, config| {
        p.parallel_for(Items::from([1, 2]), |p, seed| {
            p.task(
                train()
                    .task()
                    .arg("model", config.field::<String>("model"))
                    .arg("batch_size", config.field::<i64>("batch_size"))
                    .arg("seed", seed),
            );
        });
    });

    // 3. A parameter's JSON list, two at a time, then fan-in.
    let squares = p.parallel_for(Items::from(&numbers).parallelism(2), |p, n| {
        p.task(square().task().arg("number", n))
            .output_param::<i64>("square")
    });
    p.task(sum().task().arg("numbers", squares.collect()));

    // 4. A task's output.
    let shards = p.task(list_shards().task().arg("count", &shard_count));
    p.parallel_for(
        Items::from(shards.output_param::<Vec<String>>("shards")),
        |p, shard| {
            p.task(echo().task().arg("text", shard));
        },
    );
    p
}
