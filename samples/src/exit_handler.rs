//! Exit handlers: work that runs after a group of tasks, whether they succeeded or not.
//!
//! - The pipeline-wide exit handler wraps the whole body; its task reports the run's
//!   status (`p.workflow_status()`: `Succeeded`, `Failed` or `Error`). Set the `fail`
//!   parameter to `true` to make `train` fail and see the report still run. It compiles
//!   to the workflow's `onExit`.
//! - A second exit handler sits inside a condition (`use_scratch == true`): it releases a
//!   scratch area once the tasks using it are done, whatever their outcome. It compiles to
//!   an exit hook (`hooks.exit`) on the condition's inner group, so it runs exactly there,
//!   only when the condition holds.

use kfp::prelude::*;

/// Prints a message.
pub fn say() -> Component {
    Component::container("say", "alpine:3.20")
        .description("Print a message")
        .input(InputSpec::string("message"))
        .command(["sh", "-ec", r#"echo "$1""#, "say"])
        .args([input_value("message")])
}

/// Fails (exit code 1) when `fail` is `true`, otherwise pretends to train.
pub fn maybe_fail() -> Component {
    Component::container("train", "alpine:3.20")
        .description("Train, or fail on purpose")
        .input(InputSpec::boolean("fail"))
        .command([
            "sh",
            "-ec",
            r#"if [ "$1" = "true" ]; then echo "failing on purpose" >&2; exit 1; fi
echo "training done""#,
            "train",
        ])
        .args([input_value("fail")])
}

/// Reports the run's final status (use it as the pipeline's exit task).
pub fn report_status() -> Component {
    Component::container("report-status", "alpine:3.20")
        .description("Report how the run ended")
        .input(InputSpec::string("status"))
        .command([
            "sh",
            "-ec",
            r#"echo "the run ended: $1"
if [ "$1" != "Succeeded" ]; then echo "(a notification would be sent here)"; fi"#,
            "report-status",
        ])
        .args([input_value("status")])
}

/// `exit-handler(fail = false, use_scratch = true)`.
pub fn pipeline() -> Pipeline {
    let mut p = Pipeline::new("exit-handler")
        .description("Always report the run's status, even when a task fails");
    let fail = p.param_with_default::<bool>("fail", false);
    let use_scratch = p.param_with_default::<bool>("use_scratch", true);

    let status = p.workflow_status();
    p.exit_handler(report_status().task().arg("status", status), |p| {
        let prepare = p.task(
            say()
                .task()
                .name("prepare")
                .arg("message", "downloading data"),
        );
        let train = p.task(maybe_fail().task().arg("fail", &fail).after(&prepare));
        p.task(
            say()
                .task()
                .name("publish")
                .arg("message", "publishing the model")
                .after(&train),
        );

        p.when(use_scratch.eq(true), |p| {
            let release = say()
                .task()
                .name("release-scratch")
                .arg("message", "scratch released");
            p.exit_handler(release, |p| {
                p.task(
                    say()
                        .task()
                        .name("use-scratch")
                        .arg("message", "working in scratch"),
                );
            });
        });
    });
    p
}
