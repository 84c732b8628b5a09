//! Integration tests of `kfp::validate`: real workflows from Argo, KFP v1 and Hera are
//! accepted, broken ones are rejected with the template/task/field at fault.

use kfp::validate::{
    Issue, Limits, ValidationError, validate_workflow, validate_workflow_with,
    validate_workflow_yaml,
};
use proptest::prelude::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

fn data_dir(dir: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/workflows")
        .join(dir)
}

/// The `.yaml` files of a data directory, sorted.
fn yaml_files(dir: &str) -> Vec<PathBuf> {
    let rd = std::fs::read_dir(data_dir(dir)).expect("data directory exists");
    let mut files: Vec<PathBuf> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_string()
}

fn validate_file(p: &Path) -> Result<Value, ValidationError> {
    let text = std::fs::read_to_string(p).expect("readable test file");
    validate_workflow_yaml(&text, Some(&file_name(p)))
}

fn assert_all_accepted(dir: &str, except: &[&str]) {
    let files = yaml_files(dir);
    assert!(!files.is_empty(), "no workflows in {dir}");
    for f in files {
        if except.contains(&file_name(&f).as_str()) {
            continue;
        }
        if let Err(e) = validate_file(&f) {
            panic!("{dir}/{} rejected:\n{e}", file_name(&f));
        }
    }
}

/// A minimal valid workflow around `templates`, entrypoint `main`.
fn wf(templates: Value) -> Value {
    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": "t-"},
        "spec": {"entrypoint": "main", "templates": templates}
    })
}

fn issues(wf: &Value) -> Vec<Issue> {
    match validate_workflow(wf) {
        Ok(()) => Vec::new(),
        Err(e) => e.issues,
    }
}

/// Asserts that some issue has exactly `path` and a message containing `fragment`.
fn assert_issue(found: &[Issue], path: &str, fragment: &str) {
    assert!(
        found
            .iter()
            .any(|i| i.path == path && i.message.contains(fragment)),
        "expected `{path}`: ...{fragment}..., got:\n{}",
        found
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    );
}

fn assert_valid(wf: &Value) {
    if let Err(e) = validate_workflow(wf) {
        panic!("rejected:\n{e}");
    }
}

fn echo_template() -> Value {
    json!({"name": "echo", "inputs": {"parameters": [{"name": "m"}]},
           "container": {"image": "alpine", "command": ["echo", "{{inputs.parameters.m}}"]}})
}

#[test]
fn argo_examples_are_accepted() {
    assert_all_accepted("argo", &["broken-k8s-jobs-misindented-name.yaml"]);
}

#[test]
fn upstream_example_with_misplaced_generate_name_is_rejected() {
    let f = data_dir("argo").join("broken-k8s-jobs-misindented-name.yaml");
    let err = validate_file(&f).expect_err("rejected");
    assert_issue(&err.issues, "metadata", "neither `name` nor `generateName`");
    assert_eq!(
        err.source_name.as_deref(),
        Some("broken-k8s-jobs-misindented-name.yaml")
    );
}

#[test]
fn kfp_v1_sdk_output_is_accepted() {
    assert_all_accepted("kfp-v1", &[]);
}

#[test]
fn hera_output_is_accepted() {
    assert_all_accepted("hera", &[]);
}

/// Every file of `broken/` with the path and message fragment it must be rejected with.
const BROKEN: &[(&str, &str, &str)] = &[
    (
        "unknown-field.yaml",
        "spec.templates[0](name=main).dag.tasks[1](name=b).dependecies",
        "unknown field `dependecies` (did you mean `dependencies`?)",
    ),
    (
        "missing-entrypoint.yaml",
        "spec.entrypoint",
        "`mian` is not a template",
    ),
    (
        "unknown-template.yaml",
        "spec.templates[0](name=main).dag.tasks[1](name=b).template",
        "template `helo` is not defined",
    ),
    (
        "cycle.yaml",
        "spec.templates[0](name=main).dag.tasks[0](name=a)",
        "dependency cycle: a -> b -> a",
    ),
    (
        "depends-missing-task.yaml",
        "spec.templates[0](name=main).dag.tasks[1](name=b).depends",
        "`ghost`, which is not a task of this DAG",
    ),
    (
        "depends-bad-syntax.yaml",
        "spec.templates[0](name=main).dag.tasks[2](name=b).depends",
        "cannot parse `depends: a & c`: expected `&&`",
    ),
    (
        "unresolved-input.yaml",
        "spec.templates[0](name=main).container.command[2]",
        "`{{inputs.parameters.nope}}` does not resolve: template `main` has no input parameter `nope`",
    ),
    (
        "not-an-ancestor.yaml",
        "spec.templates[0](name=main).dag.tasks[2](name=c).arguments.parameters[0](name=value).value",
        "task `b` is not an ancestor of task `c`",
    ),
    (
        "duplicate-task.yaml",
        "spec.templates[0](name=main).dag.tasks[1](name=a).name",
        "duplicate task name `a`",
    ),
    (
        "invalid-template-name.yaml",
        "spec.templates[0](name=train_model).name",
        "`train_model` is not a valid name",
    ),
    (
        "missing-input.yaml",
        "spec.templates[0](name=main).steps[0][0](name=say).arguments",
        "template `echo` requires input parameter `message`",
    ),
    (
        "loop-conflict.yaml",
        "spec.templates[0](name=main).dag.tasks[0](name=fan).withParam",
        "only one of withItems, withParam and withSequence",
    ),
    (
        "yaml-syntax.yaml",
        "line 12, column 16",
        "YAML syntax error: unclosed bracket",
    ),
];

#[test]
fn broken_workflows_are_rejected_at_the_fault() {
    let files: Vec<String> = yaml_files("broken").iter().map(|p| file_name(p)).collect();
    let mut listed: Vec<String> = BROKEN.iter().map(|b| b.0.to_string()).collect();
    listed.sort();
    assert_eq!(files, listed, "every broken/ file needs an expectation");
    for (file, path, fragment) in BROKEN {
        let err = validate_file(&data_dir("broken").join(file))
            .err()
            .unwrap_or_else(|| panic!("{file} accepted"));
        assert_eq!(err.issues.len(), 1, "{file} has one defect but got:\n{err}");
        assert_issue(&err.issues, path, fragment);
        assert!(
            err.to_string().starts_with(&format!("{file}: {path}: ")),
            "{err}"
        );
    }
}

/// A DAG of `n` echo tasks in a chain.
fn chain_dag(name: &str, n: usize) -> Value {
    let tasks: Vec<Value> = (0..n)
        .map(|i| {
            let mut t = json!({"name": format!("t{i}"), "template": "echo",
                               "arguments": {"parameters": [{"name": "m", "value": "x"}]}});
            if i > 0 {
                t["depends"] = json!(format!("t{}", i - 1));
            }
            t
        })
        .collect();
    json!({"name": name, "dag": {"tasks": tasks}})
}

#[test]
fn too_many_tasks_in_one_dag_are_rejected() {
    let w = wf(json!([chain_dag("main", 201), echo_template()]));
    let found = issues(&w);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_issue(
        &found,
        "spec.templates[0](name=main).dag.tasks",
        "201 tasks exceed the limit of 200 tasks per DAG template",
    );
    assert_valid(&wf(json!([chain_dag("main", 200), echo_template()])));
}

#[test]
fn limits_are_configurable() {
    let mut templates = vec![chain_dag("main", 5), echo_template()];
    templates.extend((0..3).map(|i| json!({"name": format!("x{i}"), "suspend": {}})));
    let w = wf(Value::Array(templates));
    let limits = Limits {
        max_templates: 4,
        max_dag_tasks: 4,
        max_input_parameters: 0,
    };
    let err = validate_workflow_with(&w, &limits).expect_err("rejected");
    assert_issue(
        &err.issues,
        "spec.templates",
        "5 templates exceed the limit of 4",
    );
    assert_issue(
        &err.issues,
        "spec.templates[0](name=main).dag.tasks",
        "5 tasks exceed the limit of 4",
    );
    assert_issue(
        &err.issues,
        "spec.templates[1](name=echo).inputs.parameters",
        "1 input parameters exceed the limit of 0",
    );
    assert!(validate_workflow(&w).is_ok());
}

/// 50 DAG templates of 200 tasks each, nested: the last task of each DAG runs the next
/// DAG. Tasks pass a parameter along a chain with a side dependency, so every check
/// (ancestry, outputs, inputs) has work to do.
fn large_workflow() -> Value {
    const DAGS: usize = 50;
    const TASKS: usize = 200;
    let mut templates = Vec::new();
    for d in 0..DAGS {
        let tasks: Vec<Value> = (0..TASKS)
            .map(|i| {
                let name = format!("task-{i}");
                let mut t = if i + 1 == TASKS && d + 1 < DAGS {
                    json!({"name": name, "template": format!("dag-{}", d + 1),
                           "arguments": {"parameters": [{"name": "seed", "value": "{{inputs.parameters.seed}}"}]}})
                } else {
                    let value = if i == 0 {
                        "{{inputs.parameters.seed}}".to_string()
                    } else {
                        format!("{{{{tasks.task-{}.outputs.parameters.out}}}}", i - 1)
                    };
                    json!({"name": name, "template": "work",
                           "arguments": {"parameters": [{"name": "in", "value": value}]}})
                };
                match i {
                    0 => {}
                    1 => t["depends"] = json!("task-0"),
                    _ => {
                        t["depends"] = json!(format!("task-{} && (task-{}.Succeeded || task-{}.Skipped)", i - 1, i - 2, i - 2));
                    }
                }
                t
            })
            .collect();
        templates.push(json!({
            "name": format!("dag-{d}"),
            "inputs": {"parameters": [{"name": "seed"}]},
            "dag": {"tasks": tasks}
        }));
    }
    templates.push(json!({
        "name": "work",
        "inputs": {"parameters": [{"name": "in"}]},
        "outputs": {"parameters": [{"name": "out", "valueFrom": {"path": "/tmp/out"}}]},
        "container": {"image": "alpine:3.20", "command": ["sh", "-c", "echo {{inputs.parameters.in}} {{pod.name}} > /tmp/out"]}
    }));
    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": "big-"},
        "spec": {
            "entrypoint": "dag-0",
            "arguments": {"parameters": [{"name": "seed", "value": "1"}]},
            "templates": templates
        }
    })
}

#[test]
fn large_nested_workflow_is_accepted() {
    let w = large_workflow();
    assert_valid(&w);
}

#[test]
fn every_issue_is_reported_and_displayed_per_line() {
    let text = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: many-}
spec:
  entrypoint: main
  templates:
  - name: main
    parallelism: 2
    container:
      image: alpine
      comand: [echo]
      args: ["{{inputs.parameters.x}}", "{{item}}"]
"#;
    let err = validate_workflow_yaml(text, Some("many.yaml")).expect_err("rejected");
    assert_eq!(err.issues.len(), 4, "{err}");
    let shown = err.to_string();
    assert_eq!(shown.lines().count(), 4, "{shown}");
    assert!(
        shown
            .lines()
            .all(|l| l.starts_with("many.yaml: spec.templates[0](name=main)."))
    );
    assert_issue(
        &err.issues,
        "spec.templates[0](name=main).container.comand",
        "did you mean `command`",
    );
    assert_issue(
        &err.issues,
        "spec.templates[0](name=main).parallelism",
        "only valid on dag and steps templates",
    );
    assert_issue(
        &err.issues,
        "spec.templates[0](name=main).container.args[1]",
        "`item` exists only in a step or task that loops",
    );
}

#[test]
fn identity_rules() {
    let mut w = wf(json!([{"name": "main", "suspend": {}}]));
    w["metadata"] = json!({"name": "Bad_Name"});
    assert_issue(&issues(&w), "metadata.name", "not a DNS-1123 name");
    w["metadata"] = json!({"name": "a".repeat(64)});
    assert_issue(&issues(&w), "metadata.name", "at most 63");
    w["metadata"] = json!({"generateName": format!("{}-", "a".repeat(58))});
    assert_issue(&issues(&w), "metadata.generateName", "at most 58");
    w["metadata"] = json!({"generateName": "ok-"});
    w["kind"] = json!("CronWorkflow");
    assert_issue(&issues(&w), "kind", "must be \"Workflow\"");
    let obj = w.as_object_mut().expect("object");
    obj.remove("kind");
    obj.remove("apiVersion");
    let found = issues(&w);
    assert_issue(&found, "kind", "missing");
    assert_issue(&found, "apiVersion", "missing");
}

#[test]
fn spec_level_rules() {
    let mut w = wf(
        json!([{"name": "main", "inputs": {"parameters": [{"name": "p"}]}, "suspend": {}},
                          {"name": "bye", "inputs": {"artifacts": [{"name": "a", "path": "/a"}]}, "container": {"image": "x"}}]),
    );
    w["spec"]["onExit"] = json!("bye");
    let found = issues(&w);
    assert_issue(
        &found,
        "spec.arguments",
        "template `main` requires input parameter `p`, which the entrypoint does not supply",
    );
    assert_issue(
        &found,
        "spec.arguments",
        "template `bye` requires input artifact `a`, which the exit handler does not supply",
    );
    w["spec"]["arguments"] =
        json!({"parameters": [{"name": "p"}], "artifacts": [{"name": "a", "raw": {"data": "x"}}]});
    assert_valid(&w);
    w["spec"]["onExit"] = json!("nope");
    assert_issue(&issues(&w), "spec.onExit", "`nope` is not a template");
    w["spec"]["onExit"] = json!("bye");
    w["spec"]["arguments"]["parameters"] = json!([{"name": "p", "value": "c", "enum": ["a", "b"]}]);
    assert_issue(
        &issues(&w),
        "spec.arguments.parameters[0](name=p).value",
        "not one of the parameter's `enum`",
    );
    let no_entry = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
        "metadata": {"name": "x"}, "spec": {"templates": [{"name": "main", "suspend": {}}]}});
    assert_issue(&issues(&no_entry), "spec.entrypoint", "required");
    let by_ref = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
        "metadata": {"name": "x"}, "spec": {"workflowTemplateRef": {"name": "shared"},
        "arguments": {"parameters": [{"name": "p", "value": "1"}]}}});
    assert_valid(&by_ref);
}

#[test]
fn template_body_rules() {
    let found = issues(&wf(json!([
        {"name": "main", "steps": [[{"name": "a", "template": "empty"}, {"name": "b", "template": "both"}]]},
        {"name": "empty"},
        {"name": "both", "container": {"image": "x"}, "script": {"image": "x", "source": "s"}},
        {"name": "main", "suspend": {}}
    ])));
    assert_issue(
        &found,
        "spec.templates[1](name=empty)",
        "template has no body",
    );
    assert_issue(
        &found,
        "spec.templates[2](name=both)",
        "found container, script",
    );
    assert_issue(
        &found,
        "spec.templates[3](name=main).name",
        "duplicate template name `main`",
    );
}

#[test]
fn template_defaults_supply_the_image() {
    let mut w = wf(json!([{"name": "main", "container": {"command": ["echo"]}}]));
    let found = issues(&w);
    assert_issue(
        &found,
        "spec.templates[0](name=main).container",
        "missing required field \"image\"",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    w["spec"]["templateDefaults"] = json!({"container": {"image": "alpine"}});
    assert_valid(&w);
    w["spec"]["templates"][0]["container"]["image"] = json!("");
    w["spec"]["templateDefaults"] = json!({});
    assert_issue(
        &issues(&w),
        "spec.templates[0](name=main).container.image",
        "must not be empty",
    );
}

#[test]
fn a_missing_name_is_reported_once() {
    let found = issues(&wf(json!([
        {"name": "main", "dag": {"tasks": [{"template": "echo", "arguments": {"parameters": [{"value": "1"}]}}]}},
        echo_template()
    ])));
    let t = "spec.templates[0](name=main).dag.tasks[0]";
    assert_issue(&found, t, "missing required field \"name\"");
    assert_issue(
        &found,
        &format!("{t}.arguments.parameters[0]"),
        "missing required field \"name\"",
    );
    assert_issue(
        &found,
        &format!("{t}.arguments"),
        "requires input parameter `m`",
    );
    assert_eq!(found.len(), 3, "{found:?}");
}

#[test]
fn leaf_and_non_leaf_fields() {
    let found = issues(&wf(json!([
        {"name": "main", "timeout": "1m", "activeDeadlineSeconds": 5, "parallelism": 2,
         "dag": {"tasks": [{"name": "a", "template": "leaf"}, {"name": "b", "template": "wait"}]}},
        {"name": "leaf", "timeout": "30", "activeDeadlineSeconds": "10", "container": {"image": "x"}},
        {"name": "wait", "parallelism": 1, "activeDeadlineSeconds": 3, "suspend": {}}
    ])));
    assert_issue(
        &found,
        "spec.templates[0](name=main).timeout",
        "only valid on leaf templates",
    );
    assert_issue(
        &found,
        "spec.templates[0](name=main).activeDeadlineSeconds",
        "only valid on leaf templates",
    );
    assert_issue(
        &found,
        "spec.templates[1](name=leaf).timeout",
        "needs a unit",
    );
    assert_issue(
        &found,
        "spec.templates[2](name=wait).parallelism",
        "only valid on dag and steps",
    );
    assert_eq!(found.len(), 4, "{found:?}");
}

#[test]
fn dag_rules() {
    let found = issues(&wf(json!([
        {"name": "main", "dag": {"target": "d zz", "tasks": [
            {"name": "a", "template": "echo", "arguments": {"parameters": [{"name": "m", "value": "1"}]}},
            {"name": "b", "template": "echo", "depends": "a.AnySucceeded",
             "arguments": {"parameters": [{"name": "m", "value": "1"}]}},
            {"name": "c", "template": "echo", "dependencies": ["a"], "continueOn": {"failed": true},
             "arguments": {"parameters": [{"name": "m", "value": "1"}]}},
            {"name": "1d", "template": "echo", "depends": "c",
             "arguments": {"parameters": [{"name": "m"}]}}
        ]}},
        echo_template()
    ])));
    let t = "spec.templates[0](name=main).dag";
    assert_issue(&found, &format!("{t}.target"), "target `zz`");
    assert_issue(
        &found,
        &format!("{t}.tasks[1](name=b).depends"),
        "`a.AnySucceeded` needs `a` to loop",
    );
    assert_issue(
        &found,
        &format!("{t}.tasks[2](name=c).dependencies"),
        "either `depends` or `dependencies`",
    );
    assert_issue(
        &found,
        &format!("{t}.tasks[2](name=c).continueOn"),
        "`continueOn` cannot be used",
    );
    assert_issue(
        &found,
        &format!("{t}.tasks[3](name=1d).name"),
        "may not start with a digit",
    );
    assert_issue(
        &found,
        &format!("{t}.tasks[3](name=1d).arguments.parameters[0](name=m)"),
        "neither `value` nor `valueFrom`",
    );
    let empty = issues(&wf(json!([{"name": "main", "dag": {"tasks": []}}])));
    assert_issue(
        &empty,
        "spec.templates[0](name=main).dag.tasks",
        "at least one task",
    );
}

#[test]
fn invocation_rules() {
    let found = issues(&wf(json!([
        {"name": "main", "steps": [[
            {"name": "none"},
            {"name": "two", "template": "echo", "templateRef": {"name": "w", "template": "t"},
             "arguments": {"parameters": [{"name": "m", "value": "1"}]}},
            {"name": "ref", "templateRef": {"name": "w"}},
            {"name": "seq", "template": "echo", "withSequence": {"count": "2", "end": "3"},
             "arguments": {"parameters": [{"name": "m", "value": "{{item}}"}]}},
            {"name": "hooked", "template": "echo", "arguments": {"parameters": [{"name": "m", "value": "1"}]},
             "onExit": "gone", "hooks": {"running": {"template": "echo"}}},
            {"name": "inl", "inline": {"container": {"image": "x", "args": ["{{inputs.parameters.q}}"]},
                                       "inputs": {"parameters": [{"name": "q"}]}},
             "arguments": {"parameters": [{"name": "q", "value": "v"}]}}
        ]]},
        echo_template()
    ])));
    let s = "spec.templates[0](name=main).steps[0]";
    assert_issue(&found, &format!("{s}[0](name=none)"), "names no template");
    assert_issue(
        &found,
        &format!("{s}[1](name=two)"),
        "more than one of `template`, `templateRef`",
    );
    assert_issue(
        &found,
        &format!("{s}[2](name=ref).templateRef"),
        "`templateRef.template` is required",
    );
    assert_issue(
        &found,
        &format!("{s}[3](name=seq).withSequence"),
        "only one of `count` and `end`",
    );
    assert_issue(
        &found,
        &format!("{s}[4](name=hooked).onExit"),
        "template `gone` is not defined",
    );
    assert_issue(
        &found,
        &format!("{s}[4](name=hooked).hooks.running.expression"),
        "needs an `expression`",
    );
    assert_issue(
        &found,
        &format!("{s}[4](name=hooked).hooks.running.arguments"),
        "requires input parameter `m`",
    );
    assert_eq!(found.len(), 7, "{found:?}");
}

#[test]
fn input_and_output_declarations() {
    let found = issues(&wf(json!([
        {"name": "main",
         "inputs": {"parameters": [{"name": "a.b"}, {"name": "x"}, {"name": "x"}],
                    "artifacts": [{"name": "art", "path": "/a"}]},
         "outputs": {"parameters": [{"name": "o"}], "artifacts": [{"name": "r", "path": "/r"}]},
         "steps": [[]]},
        {"name": "leaf", "outputs": {"parameters": [
            {"name": "both", "value": "1", "valueFrom": {"path": "/p"}},
            {"name": "wrong", "valueFrom": {"parameter": "x"}}]},
         "container": {"image": "x"}}
    ])));
    let m = "spec.templates[0](name=main)";
    assert_issue(
        &found,
        &format!("{m}.inputs.parameters[0](name=a.b).name"),
        "not a valid parameter/artifact name",
    );
    assert_issue(
        &found,
        &format!("{m}.inputs.parameters[2](name=x).name"),
        "duplicate input parameter name `x`",
    );
    assert_issue(
        &found,
        &format!("{m}.inputs.artifacts[0](name=art).path"),
        "only valid on artifacts of leaf templates",
    );
    assert_issue(
        &found,
        &format!("{m}.outputs.parameters[0](name=o)"),
        "neither `value` nor `valueFrom`",
    );
    assert_issue(
        &found,
        &format!("{m}.outputs.artifacts[0](name=r).path"),
        "use `from` in dag/steps outputs",
    );
    let l = "spec.templates[1](name=leaf).outputs.parameters";
    assert_issue(
        &found,
        &format!("{l}[0](name=both)"),
        "both `value` and `valueFrom`",
    );
    assert_issue(
        &found,
        &format!("{l}[1](name=wrong).valueFrom"),
        "`path` must be set for an output of a container template",
    );
}

#[test]
fn step_references_follow_groups() {
    let found = issues(&wf(json!([
        {"name": "main",
         "outputs": {"parameters": [{"name": "r", "valueFrom": {"parameter": "{{steps.b.outputs.result}}"}}]},
         "steps": [
            [{"name": "a", "template": "gen"}],
            [{"name": "b", "template": "echo", "arguments": {"parameters": [
                {"name": "m", "value": "{{steps.a.outputs.result}} {{steps.c.outputs.result}} {{steps.a.outputs.parameters.nope}}"}]}},
             {"name": "c", "template": "echo", "when": "{{steps.b.status}} == Succeeded",
              "arguments": {"parameters": [{"name": "m", "value": "{{steps.zz.id}} {{tasks.a.id}}"}]}}]
         ]},
        {"name": "gen", "script": {"image": "x", "source": "print(1)"}},
        echo_template()
    ])));
    let s = "spec.templates[0](name=main).steps[1]";
    let v = ".arguments.parameters[0](name=m).value";
    assert_issue(
        &found,
        &format!("{s}[0](name=b){v}"),
        "`{{steps.c.outputs.result}}` does not resolve: step `c` runs in group 1",
    );
    assert_issue(
        &found,
        &format!("{s}[0](name=b){v}"),
        "template `gen` (run by step `a`) has no output parameter `nope`",
    );
    assert_issue(
        &found,
        &format!("{s}[1](name=c).when"),
        "step `b` runs in group 1",
    );
    assert_issue(&found, &format!("{s}[1](name=c){v}"), "no step `zz`");
    assert_issue(
        &found,
        &format!("{s}[1](name=c){v}"),
        "`tasks.*` exists only in the fields of a DAG task",
    );
    assert_eq!(found.len(), 5, "{found:?}");
}

#[test]
fn task_references_follow_ancestry() {
    let found = issues(&wf(json!([
        {"name": "main",
         "outputs": {"parameters": [{"name": "r", "valueFrom": {"parameter": "{{tasks.c.outputs.parameters.out}}"}}]},
         "dag": {"tasks": [
            {"name": "a", "template": "gen"},
            {"name": "loop", "template": "gen", "depends": "a", "withParam": "{{tasks.a.outputs.result}}",
             "arguments": {"parameters": [{"name": "x", "value": "{{item.key}}"}]}},
            {"name": "c", "template": "gen", "depends": "loop",
             "arguments": {"parameters": [{"name": "x", "value":
                "{{tasks.a.outputs.result}} {{tasks.loop.outputs.parameters}} {{tasks.a.outputs.parameters}} {{tasks.c.id}} {{tasks.a.bogus}}"}]},
             "hooks": {"exit": {"template": "echo", "arguments": {"parameters": [{"name": "m", "value": "{{tasks.c.status}}"}]}}}},
            {"name": "d", "template": "susp", "arguments": {"parameters": [{"name": "m", "value": "{{= tasks['a'].outputs.result }} {{=tasks['c'].id}}"}]}},
            {"name": "e", "template": "gen", "depends": "d", "arguments": {"parameters": [{"name": "x", "value": "{{tasks.d.outputs.result}}"}]}}
         ]}},
        {"name": "gen", "inputs": {"parameters": [{"name": "x", "default": ""}]},
         "outputs": {"parameters": [{"name": "out", "valueFrom": {"path": "/o"}}]},
         "script": {"image": "x", "source": "print(1)"}},
        {"name": "susp", "suspend": {}},
        echo_template()
    ])));
    let t = "spec.templates[0](name=main).dag.tasks";
    let v = ".arguments.parameters[0](name=x).value";
    assert_issue(
        &found,
        &format!("{t}[2](name=c){v}"),
        "`outputs.parameters` as a whole exists only for looped tasks; `a` does not loop",
    );
    assert_issue(
        &found,
        &format!("{t}[2](name=c){v}"),
        "task `c` cannot refer to its own outputs",
    );
    assert_issue(
        &found,
        &format!("{t}[2](name=c){v}"),
        "unknown task variable `bogus`",
    );
    assert_issue(
        &found,
        &format!("{t}[3](name=d).arguments.parameters[0](name=m).value"),
        "task `a` is not an ancestor of this task",
    );
    assert_issue(
        &found,
        &format!("{t}[3](name=d).arguments.parameters[0](name=m).value"),
        "task `c` is not an ancestor",
    );
    assert_issue(
        &found,
        &format!("{t}[4](name=e){v}"),
        "runs a suspend template, which has no result",
    );
    assert_eq!(found.len(), 6, "{found:?}");
}

#[test]
fn variable_scopes() {
    let mut w = wf(json!([
        {"name": "main", "dag": {"tasks": [
            {"name": "a", "template": "leaf", "arguments": {"parameters": [{"name": "p", "value": "{{pod.name}}"}]}},
            {"name": "b", "template": "leaf", "withItems": [{"k": 1}, {"k": 2}],
             "arguments": {"parameters": [{"name": "p", "value": "{{item.k}} {{item.nokey}} {{item}}"}]}}
        ]}},
        {"name": "leaf", "inputs": {"parameters": [{"name": "p"}], "artifacts": [{"name": "in", "path": "/in", "optional": true}]},
         "outputs": {"parameters": [{"name": "o", "valueFrom": {"path": "/o"}}], "artifacts": [{"name": "oa", "path": "/oa"}]},
         "metrics": {"prometheus": [{"name": "m", "help": "h", "gauge": {"realtime": false, "value": "{{outputs.parameters.o}}"}}]},
         "container": {"image": "x", "args": [
            "{{inputs.parameters}} {{inputs.artifacts.in.path}} {{outputs.parameters.o.path}} {{outputs.artifacts.oa.path}}",
            "{{pod.name}} {{node.name}} {{workflow.name}} {{workflow.uid}} {{workflow.creationTimestamp.Y}} {{workflow.status}}",
            "{{workflow.parameters.known}} {{workflow.labels.team}} {{workflow.outputs.parameters.g}} {{foo}} {{input.x}}",
            "{{workflow.parameters.unknown}} {{workflow.failures}} {{workflow.bogus}} {{outputs.result}} {{retries}}",
            "{{pod.ip}} {{inputs.artifacts.nope.path}} {{workflow.priority}} {{ inputs.parameters.p }}"
         ]}},
        {"name": "g", "outputs": {"parameters": [{"name": "v", "value": "1", "globalName": "g"}]}, "suspend": {}}
    ]));
    w["metadata"]["labels"] = json!({"team": "ml"});
    w["spec"]["arguments"] = json!({"parameters": [{"name": "known", "value": "1"}]});
    let found = issues(&w);
    let main = "spec.templates[0](name=main).dag.tasks";
    assert_issue(
        &found,
        &format!("{main}[0](name=a).arguments.parameters[0](name=p).value"),
        "`pod.name` exists only in pod templates",
    );
    assert_issue(
        &found,
        &format!("{main}[1](name=b).arguments.parameters[0](name=p).value"),
        "no item of withItems has a key `nokey`",
    );
    let args = "spec.templates[1](name=leaf).container.args";
    for frag in [
        "spec.arguments.parameters declares no parameter `unknown`",
        "`workflow.failures` exists only in exit handlers",
        "`workflow.bogus` is not a workflow variable",
        "only `outputs.parameters.<name>.path`",
        "template `leaf` has no `retryStrategy`",
    ] {
        assert_issue(&found, &format!("{args}[3]"), frag);
    }
    for frag in [
        "the only pod variable is `pod.name`",
        "no input artifact `nope`",
        "`workflow.priority` is not defined",
    ] {
        assert_issue(&found, &format!("{args}[4]"), frag);
    }
    assert_eq!(found.len(), 10, "{found:?}");
}

#[test]
fn exit_handler_scope_allows_failures() {
    let mut w = wf(json!([
        {"name": "main", "steps": [[{"name": "s", "template": "work",
            "hooks": {"exit": {"template": "report"}}}]]},
        {"name": "work", "container": {"image": "x"}},
        {"name": "report", "container": {"image": "x", "args": ["{{workflow.failures}} {{workflow.status}}"]}},
        {"name": "bye", "dag": {"tasks": [{"name": "n", "template": "notify"}]}},
        {"name": "notify", "container": {"image": "x", "args": ["{{workflow.failures}}"]}}
    ]));
    w["spec"]["onExit"] = json!("bye");
    assert_valid(&w);
}

#[test]
fn unterminated_and_expression_tags() {
    let found = issues(&wf(json!([
        {"name": "main", "container": {"image": "x", "args": [
            "{{inputs.parameters.x", "{{= 1 + 2 }}", "{{ not checked", "}} {{ x }}"
        ]}}
    ])));
    assert_issue(
        &found,
        "spec.templates[0](name=main).container.args[0]",
        "unterminated tag",
    );
    assert_eq!(found.len(), 1, "{found:?}");
}

#[test]
fn schema_type_errors_are_real_errors_only() {
    let w = wf(json!([
        {"name": "main", "retryStrategy": {"limit": 3, "backoff": {"factor": 2}},
         "inputs": {"parameters": [{"name": "n", "value": 5}, {"name": "b", "default": true}]},
         "container": {"image": "x", "resources": {"limits": {"cpu": 1}}}}
    ]));
    assert_valid(&w);
    let bad = wf(json!([
        {"name": "main", "retryStrategy": {"limit": true},
         "container": {"image": "x", "command": "echo", "env": [{"name": "A", "value": 1}]}}
    ]));
    let found = issues(&bad);
    assert_issue(
        &found,
        "spec.templates[0](name=main).retryStrategy.limit",
        "expected integer or string, found boolean",
    );
    assert_issue(
        &found,
        "spec.templates[0](name=main).container.command",
        "expected array, found string",
    );
    assert_issue(
        &found,
        "spec.templates[0](name=main).container.env[0](name=A).value",
        "expected string, found number 1",
    );
    assert_eq!(found.len(), 3, "{found:?}");
}

/// Garbage shapes at every level must give issues, never a panic.
#[test]
fn garbage_never_panics() {
    let shapes = [
        json!(null),
        json!(1),
        json!("s"),
        json!([]),
        json!({}),
        json!({"spec": 1}),
        json!({"spec": {"templates": 1}}),
        json!({"spec": {"templates": [1, null, [], {"name": 1}, {"dag": 1}, {"dag": {"tasks": 1}},
            {"dag": {"tasks": [1, {"name": 1, "depends": 1, "dependencies": 1}]}},
            {"steps": [1, [1, {"hooks": 1}]]}, {"name": "x", "inputs": {"parameters": [1, {"name": []}]}}]}}),
        json!({"spec": {"entrypoint": [], "onExit": {}, "hooks": [], "arguments": {"parameters": {}}}}),
    ];
    for s in shapes {
        assert!(validate_workflow(&s).is_err(), "{s}");
    }
    let mut nested = json!("{{item}}");
    for _ in 0..1_000 {
        nested = json!([nested]);
    }
    let deep_value = wf(json!([{"name": "main", "container": {"image": "x", "args": nested}}]));
    let found = issues(&deep_value);
    assert_issue(
        &found,
        "spec.templates[0](name=main).container.args[0]",
        "expected string, found array",
    );
    assert!(
        found
            .iter()
            .any(|i| i.message.contains("nested too deeply"))
    );
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_map: String = (0..5_000)
        .map(|i| format!("{}a:\n", " ".repeat(i)))
        .collect();
    let laughs = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n\
                  c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n\
                  e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n\
                  g: [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
    for text in [deep.as_str(), deep_map.as_str(), laughs] {
        assert!(validate_workflow_yaml(text, None).is_err());
    }
    for text in [
        "",
        "---",
        "a: [",
        "- 1\n- 2",
        "{{",
        "a: *x",
        "!!binary x",
        "a: 1\na: 2\n",
    ] {
        let _ = validate_workflow_yaml(text, None);
    }
}

/// Replaces every node of every accepted example, one at a time, with values of the
/// wrong type: validation must still return (no panic).
#[test]
fn mutated_examples_never_panic() {
    fn paths(v: &Value, cur: &mut Vec<String>, out: &mut Vec<String>) {
        out.push(format!("/{}", cur.join("/")));
        match v {
            Value::Object(m) => {
                for (k, c) in m {
                    cur.push(k.replace('~', "~0").replace('/', "~1"));
                    paths(c, cur, out);
                    cur.pop();
                }
            }
            Value::Array(a) => {
                for (i, c) in a.iter().enumerate() {
                    cur.push(i.to_string());
                    paths(c, cur, out);
                    cur.pop();
                }
            }
            _ => {}
        }
    }
    let replacements = [
        json!(null),
        json!(7),
        json!("{{tasks.x.y"),
        json!([]),
        json!({"a": 1}),
    ];
    for dir in ["argo", "hera"] {
        for f in yaml_files(dir) {
            let text = std::fs::read_to_string(&f).expect("readable");
            let Ok(original) = serde_saphyr::from_str::<Value>(&text) else {
                continue;
            };
            let mut all = Vec::new();
            paths(&original, &mut Vec::new(), &mut all);
            for p in all.iter().skip(1) {
                for r in &replacements {
                    let mut w = original.clone();
                    if let Some(slot) = w.pointer_mut(p) {
                        *slot = r.clone();
                    }
                    let _ = validate_workflow(&w);
                }
            }
        }
    }
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        "[a-z{}.= -]{0,12}".prop_map(Value::String),
        prop::sample::select(vec![
            "{{tasks.a.outputs.result}}",
            "{{item.x}}",
            "a && (b || !c.Failed",
            "main",
            "echo",
        ])
        .prop_map(|s| Value::String(s.to_string())),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        let keys = prop::sample::select(vec![
            "name",
            "template",
            "depends",
            "dependencies",
            "dag",
            "tasks",
            "steps",
            "arguments",
            "parameters",
            "value",
            "inputs",
            "withItems",
            "withParam",
            "hooks",
            "inline",
            "container",
            "outputs",
            "target",
        ]);
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((keys, inner), 0..5).prop_map(|kv| {
                Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn arbitrary_templates_never_panic(templates in prop::collection::vec(arb_json(), 0..4)) {
        let w = json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
            "metadata": {"name": "p"},
            "spec": {"entrypoint": "main", "templates": templates}
        });
        let _ = validate_workflow(&w);
    }
}
