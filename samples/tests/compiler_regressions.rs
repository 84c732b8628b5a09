//! Compiler bugs found while writing the samples, each kept as the smallest pipeline that
//! showed it, with the output now expected: an exit task sees the values of the group it
//! is written in, and `podGC` is spelled as Argo spells it.

use kfp::prelude::*;

fn say() -> Component {
    Component::container("say", "alpine:3.20")
        .input(InputSpec::string("message"))
        .command(["sh", "-ec", r#"echo "$1""#, "say"])
        .args([input_value("message")])
}

/// `better_than_kfp` wants the per-shard cleanup written directly in the loop body.
///
/// Today: `task "say-2", input "message": a loop item is used outside its loop`. The exit
/// task is never made a member of a group, so the compiler resolves its arguments in the
/// root group instead of the group holding the exit handler (where the hook is placed).
#[test]
fn exit_task_inside_a_loop_can_use_the_loop_item() {
    let mut p = Pipeline::new("exit-in-loop");
    p.parallel_for(Items::from(["a", "b"]), |p, item| {
        p.exit_handler(say().task().arg("message", &item), |p| {
            p.task(say().task().arg("message", &item));
        });
    });
    let yaml = compile_to_yaml(&p).unwrap_or_else(|e| panic!("{e}"));
    assert!(yaml.contains("hooks:"), "{yaml}");
    assert!(
        yaml.contains("value: \"{{inputs.parameters.for-loop-1-item}}\""),
        "{yaml}"
    );
}

/// Same root cause, seen through a sub-pipeline: the exit task's parameter is rendered as
/// `{{inputs.parameters.x}}` of the sub-pipeline's top template, but the hook sits in the
/// condition's template, which has no such input, so validation rejects the workflow:
/// `hooks.exit.arguments.parameters[0](name=message).value: `{{inputs.parameters.x}}` does
/// not resolve: template `condition-1` has no input parameter `x``.
#[test]
fn exit_task_in_a_sub_pipeline_condition_can_use_its_parameter() {
    let mut inner = Pipeline::new("inner");
    let x = inner.param_with_default::<String>("x", "a".into());
    inner.when(x.eq("a"), |p| {
        p.exit_handler(say().task().arg("message", &x), |p| {
            p.task(say().task().arg("message", "body"));
        });
    });
    let mut p = Pipeline::new("outer");
    p.task(inner.into_task().arg("x", "a"));
    let yaml = compile_to_yaml(&p).unwrap_or_else(|e| panic!("{e}"));
    assert!(yaml.contains("hooks:"), "{yaml}");
}

/// `settings` wants `pod_gc`. Today the field is serialized as `spec.podGc`; Argo's name is
/// `spec.podGC`, and validation rejects the workflow: `spec.podGc: unknown field `podGc``.
#[test]
fn pod_gc_is_emitted_as_argo_spells_it() {
    let mut p = Pipeline::new("pod-gc");
    p.settings_mut().pod_gc(PodGcStrategy::OnPodSuccess);
    p.task(say().task().arg("message", "hi"));
    let yaml = compile_to_yaml(&p).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        yaml.contains("podGC:\n    strategy: OnPodSuccess"),
        "{yaml}"
    );
}
