//! The classic KFP flip-coin pipeline: branch on a random outcome.
//!
//! - `flip-coin` writes `heads` or `tails` to a value output; two conditions compare it
//!   with `==` (string comparisons are emitted quoted, so any value parses);
//! - under `heads`, `random-num` draws a number, and nested conditions compare it with
//!   `gt`/`le` (numeric: the output is typed `Integer`, so the comparison is unquoted);
//! - a last nested condition combines comparisons with `and`/`or`: a second coin is
//!   heads *and* the number is above 7, *or* the number is at most 1.

use kfp::prelude::*;

/// Writes `heads` or `tails` (at random) to the `result` output.
pub fn flip_coin() -> Component {
    Component::container("flip-coin", "python:3.12-alpine")
        .description("Flip a coin")
        .output(OutputSpec::string("result"))
        .command([
            "python3",
            "-c",
            r#"import os, random, sys
result = random.choice(["heads", "tails"])
print(result)
os.makedirs(os.path.dirname(sys.argv[1]), exist_ok=True)
with open(sys.argv[1], "w") as f:
    f.write(result)
"#,
        ])
        .args([output_path("result")])
        // A coin that is cached always lands the same way.
        .caching(false)
}

/// Writes a random integer between `low` and `high` (inclusive) to the `number` output.
pub fn random_num() -> Component {
    Component::container("random-num", "python:3.12-alpine")
        .description("Draw a random integer in [low, high]")
        .input(InputSpec::integer("low").default(0))
        .input(InputSpec::integer("high").default(9))
        .output(OutputSpec::integer("number"))
        .command([
            "python3",
            "-c",
            r#"import os, random, sys
low, high, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
n = random.randint(low, high)
print(n)
os.makedirs(os.path.dirname(out), exist_ok=True)
with open(out, "w") as f:
    f.write(str(n))
"#,
        ])
        .args([
            input_value("low"),
            input_value("high"),
            output_path("number"),
        ])
        .caching(false)
}

/// Prints a message and the number it is about.
pub fn announce() -> Component {
    Component::container("announce", "alpine:3.20")
        .description("Print a message about a number")
        .input(InputSpec::string("message"))
        .input(InputSpec::integer("number"))
        .command(["sh", "-ec", r#"echo "$1 (the number was $2)""#, "announce"])
        .args([input_value("message"), input_value("number")])
}

/// Prints a message.
pub fn print_msg() -> Component {
    Component::container("print-msg", "alpine:3.20")
        .description("Print a message")
        .input(InputSpec::string("message"))
        .command(["sh", "-ec", r#"echo "$1""#, "print-msg"])
        .args([input_value("message")])
}

/// `flip-coin`: heads → draw a number and comment on it; tails → say so.
pub fn pipeline() -> Pipeline {
    let mut p =
        Pipeline::new("flip-coin").description("Flip a coin, draw a number, and branch on both");
    let flip = p.task(flip_coin().task());
    let side = flip.output_param::<String>("result");

    p.when(side.eq("heads"), |p| {
        let draw = p.task(random_num().task().arg("low", "0").arg("high", "9"));
        let n = draw.output_param::<i64>("number");
        p.when(n.gt(5), |p| {
            p.task(
                announce()
                    .task()
                    .arg("message", "heads and high")
                    .arg("number", &n),
            );
        });
        p.when(n.le(5), |p| {
            p.task(
                announce()
                    .task()
                    .arg("message", "heads and low")
                    .arg("number", &n),
            );
        });
        // (second coin is heads AND n > 7) OR n <= 1
        let again = p.task(flip_coin().task().name("flip-again"));
        let second = again.output_param::<String>("result");
        p.when(second.eq("heads").and(n.gt(7)).or(n.le(1)), |p| {
            p.task(
                announce()
                    .task()
                    .arg("message", "an extreme draw")
                    .arg("number", &n),
            );
        });
    });
    p.when(side.eq("tails"), |p| {
        p.task(print_msg().task().arg("message", "tails: nothing to draw"));
    });
    p
}
