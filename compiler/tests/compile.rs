//! The compiler end to end: wiring, groups, errors that name their cause, and scale.

use kfp::argo::{DagTask, Template, Workflow};
use kfp::prelude::*;
use kfp::synthetic::{Shape, pipeline as synthetic};

fn echo() -> Component {
    Component::container("echo", "alpine:3.20")
        .input(InputSpec::string("message"))
        .output(OutputSpec::string("out"))
        .command(["sh", "-c", "echo \"$1\" | tee \"$0\""])
        .args([output_path("out"), input_value("message")])
}

fn number() -> Component {
    Component::container("number", "alpine:3.20")
        .output(OutputSpec::integer("n"))
        .command(["sh", "-c", "echo 7 > \"$0\""])
        .arg(output_path("n"))
}

fn add() -> Component {
    Component::container("add", "alpine:3.20")
        .input(InputSpec::integer("a"))
        .input(InputSpec::integer("b").default(1))
        .output(OutputSpec::integer("sum"))
        .command(["sh", "-c", "echo $(($1 + $2)) > \"$0\""])
        .args([output_path("sum"), input_value("a"), input_value("b")])
}

fn template<'a>(wf: &'a Workflow, name: &str) -> &'a Template {
    wf.spec
        .templates
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no template {name}"))
}

fn task<'a>(t: &'a Template, name: &str) -> &'a DagTask {
    let dag = t
        .dag
        .as_ref()
        .unwrap_or_else(|| panic!("{} is not a DAG", t.name));
    dag.tasks
        .iter()
        .find(|x| x.name == name)
        .unwrap_or_else(|| panic!("no task {name} in {}", t.name))
}

fn problems(p: &Pipeline) -> String {
    match kfp::compile(p) {
        Ok(_) => panic!("pipeline {} should not compile", p.name()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn data_passing_derives_dependencies_and_after_adds_more() {
    let mut p = Pipeline::new("wiring");
    let a = p.task(number().task());
    let b = p.task(add().task().arg("a", a.output("n")));
    let c = p.task(echo().task().arg("message", "hi").after(&b));
    let _ = c;
    let wf = kfp::compile(&p).expect("compiles");
    let root = template(&wf, "wiring");
    assert_eq!(task(root, "add").depends.as_deref(), Some("number"));
    assert_eq!(task(root, "echo").depends.as_deref(), Some("add"));
    assert_eq!(
        task(root, "add").arguments.parameters[0].value.as_deref(),
        Some("{{tasks.number.outputs.parameters.n}}")
    );
    // The defaulted input is not passed; the template carries the default.
    assert_eq!(task(root, "add").arguments.parameters.len(), 1);
    assert_eq!(
        template(&wf, "add").inputs.parameters[1].default.as_deref(),
        Some("1")
    );
}

#[test]
fn output_is_deterministic() {
    let build = || {
        let mut p = Pipeline::new("det");
        let x = p.param_with_default::<i64>("x", 3);
        let n = p.task(number().task());
        p.when(n.output_param::<i64>("n").gt(&x), |p| {
            p.parallel_for(["a", "b"], |p, item| {
                p.task(echo().task().arg("message", item));
            });
        });
        p
    };
    let first = kfp::compile_to_yaml(&build()).expect("compiles");
    let second = kfp::compile_to_yaml(&build()).expect("compiles");
    assert_eq!(first, second);
}

#[test]
fn conditions_quote_strings_and_leave_numbers_bare() {
    let mut p = Pipeline::new("conds");
    let who = p.param_with_default::<String>("who", "me".into());
    let n = p.task(number().task());
    let cond = n
        .output_param::<i64>("n")
        .ge(5)
        .and(who.eq("you"))
        .or(!who.ne("them"));
    p.when(cond, |p| {
        p.task(echo().task().arg("message", &who));
    });
    let wf = kfp::compile(&p).expect("compiles");
    let when = task(template(&wf, "conds"), "condition-1")
        .when
        .clone()
        .expect("has when");
    assert_eq!(
        when,
        "(({{tasks.number.outputs.parameters.n}} >= 5) && ('{{workflow.parameters.who}}' == 'you')) \
         || (!('{{workflow.parameters.who}}' != 'them'))"
    );
}

#[test]
fn exit_handlers_work_where_they_are_written() {
    let mut p = Pipeline::new("exits");
    let flag = p.param_with_default::<bool>("flag", true);
    p.exit_handler(echo().task().arg("message", p.workflow_status()), |p| {
        p.task(echo().task().arg("message", "body"));
    });
    // A second handler, and one inside a condition and inside a loop: KFP v1 drops these.
    p.exit_handler(echo().task().arg("message", "second"), |p| {
        p.task(echo().task().arg("message", "body2"));
    });
    p.when(flag.eq(true), |p| {
        p.exit_handler(echo().task().arg("message", "in condition"), |p| {
            p.task(echo().task().arg("message", "body3"));
        });
    });
    p.parallel_for(["x", "y"], |p, item| {
        p.exit_handler(echo().task().arg("message", &item), |p| {
            p.task(echo().task().arg("message", &item));
        });
    });
    let wf = kfp::compile(&p).expect("compiles");
    let on_exit = wf.spec.on_exit.clone().expect("workflow onExit");
    let exit_dag = template(&wf, &on_exit);
    assert_eq!(
        exit_dag.dag.as_ref().expect("dag").tasks[0]
            .arguments
            .parameters[0]
            .value
            .as_deref(),
        Some("{{workflow.status}}")
    );
    let root = template(&wf, "exits");
    let second = task(root, "exit-handler-2");
    assert_eq!(
        second.hooks["exit"].arguments.parameters[0]
            .value
            .as_deref(),
        Some("second")
    );
    let cond = template(&wf, "condition-1");
    assert!(task(cond, "exit-handler-3").hooks.contains_key("exit"));
    let body = template(&wf, "for-loop-1");
    let hook = &task(body, "exit-handler-4").hooks["exit"];
    assert_eq!(
        hook.arguments.parameters[0].value.as_deref(),
        Some("{{inputs.parameters.for-loop-1-item}}")
    );
}

#[test]
fn loop_parallelism_limits_iterations_not_the_body() {
    let mut p = Pipeline::new("limited");
    p.parallel_for(
        Items::from(vec!["a", "b", "c"]).parallelism(2),
        |p, item| {
            p.task(echo().task().arg("message", &item));
            p.task(echo().task().arg("message", "second"));
        },
    );
    let wf = kfp::compile(&p).expect("compiles");
    let wrapper = template(&wf, "for-loop-1");
    assert_eq!(wrapper.parallelism, Some(2));
    let iterate = task(wrapper, "for-loop-1-iteration");
    assert_eq!(iterate.with_items.as_ref().map(Vec::len), Some(3));
    assert_eq!(template(&wf, "for-loop-1-iteration").parallelism, None);
}

#[test]
fn sub_pipeline_outputs_are_usable_downstream() {
    let mut inner = Pipeline::new("inner");
    let seed = inner.param::<i64>("seed");
    let s = inner.task(add().task().arg("a", &seed));
    inner.output("total", s.output("sum"));

    let mut outer = Pipeline::new("outer");
    let sub = outer.task(inner.into_task().arg("seed", 4_i64.to_string()));
    outer.task(add().task().arg("a", sub.output("total")));
    let wf = kfp::compile(&outer).expect("compiles");
    let root = template(&wf, "outer");
    let consumer = task(root, "add");
    assert_eq!(consumer.depends.as_deref(), Some("inner"));
    assert_eq!(
        consumer.arguments.parameters[0].value.as_deref(),
        Some("{{tasks.inner.outputs.parameters.total}}")
    );
    let inner_t = template(&wf, "inner");
    assert_eq!(inner_t.inputs.parameters[0].name, "seed");
    let out = &inner_t.outputs.parameters[0];
    assert_eq!(
        out.value_from.as_ref().and_then(|v| v.parameter.as_deref()),
        Some("{{tasks.add.outputs.parameters.sum}}")
    );
}

#[test]
fn values_cross_groups_both_ways() {
    let mut p = Pipeline::new("cross");
    let n = p.task(number().task());
    let inside = p.when(n.output_param::<i64>("n").gt(1), |p| {
        p.task(add().task().arg("a", n.output("n")))
    });
    // Used after the condition: exported by the condition's template.
    let after = p.task(add().task().arg("a", inside.output("sum")));
    let _ = after;
    let wf = kfp::compile(&p).expect("compiles");
    let cond = template(&wf, "condition-1");
    assert_eq!(cond.inputs.parameters[0].name, "number-n");
    assert_eq!(cond.outputs.parameters[0].name, "add-sum");
    let root = template(&wf, "cross");
    assert_eq!(task(root, "add-2").depends.as_deref(), Some("condition-1"));
}

#[test]
fn loop_outputs_are_collected_as_lists() {
    let list_sum = Component::container("sum", "alpine:3.20")
        .input(InputSpec::json_array("values"))
        .command(["echo"])
        .arg(input_value("values"));
    let mut p = Pipeline::new("fanin");
    let squares = p.parallel_for(vec![1_i64, 2, 3], |p, item| {
        p.task(add().task().arg("a", &item))
            .output_param::<i64>("sum")
    });
    p.task(list_sum.task().arg("values", squares.collect()));
    let wf = kfp::compile(&p).expect("compiles");
    let root = template(&wf, "fanin");
    assert_eq!(
        task(root, "sum").arguments.parameters[0].value.as_deref(),
        Some("{{tasks.for-loop-1.outputs.parameters.add-sum}}")
    );

    // Passing the collected list where a single integer is expected is caught.
    let mut bad = Pipeline::new("fanin-bad");
    let v = bad.parallel_for(vec![1_i64, 2], |p, item| {
        p.task(add().task().arg("a", &item)).output("sum")
    });
    bad.task(add().task().arg("a", v));
    let message = problems(&bad);
    assert!(
        message.contains("JSON list of every iteration"),
        "{message}"
    );
}

#[test]
fn bad_wiring_is_reported_by_task_and_field() {
    let mut other = Pipeline::new("other");
    let foreign = other.param::<String>("foreign");

    let mut p = Pipeline::new("bad");
    p.task(add().task()); // missing required input "a"
    p.task(add().task().arg("a", "seven")); // not an integer
    p.task(add().task().arg("nope", "1").arg("a", "1")); // unknown input
    let n = p.task(number().task());
    p.task(echo().task().arg("message", n.output("missing"))); // unknown output
    p.task(
        add()
            .task()
            .arg("a", n.output("n"))
            .arg("b", "2")
            .name("dup"),
    );
    p.task(echo().task().arg("message", "x").name("dup")); // duplicate name
    p.task(echo().task().arg("message", &foreign)); // value of another pipeline
    p.param::<String>("learning rate"); // not a valid parameter name
    let message = problems(&p);
    for expected in [
        "task \"add\", input \"a\": is required but not given",
        "task \"add-2\", input \"a\": \"seven\" is not a valid Integer",
        "task \"add-3\", input \"nope\": component \"add\" has no such input",
        "there is no output \"missing\"; the outputs are: n",
        "two tasks are named \"dup\"",
        "parameter \"foreign\" belongs to another pipeline",
        "parameter name \"learning rate\" is not valid",
    ] {
        assert!(
            message.contains(expected),
            "missing {expected:?} in:\n{message}"
        );
    }
}

#[test]
fn type_mismatches_between_tasks_are_caught() {
    let mut p = Pipeline::new("types");
    let e = p.task(echo().task().arg("message", "x"));
    p.task(add().task().arg("a", e.output("out")));
    let message = problems(&p);
    assert!(
        message.contains("the value given is String but the input expects Integer"),
        "{message}"
    );
}

#[test]
fn nothing_is_written_when_compiling_fails() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("out.yaml");
    let mut p = Pipeline::new("fails");
    p.task(add().task());
    assert!(kfp::compile_to_file(&p, &path).is_err());
    assert!(!path.exists());
    let mut ok = Pipeline::new("works");
    ok.task(number().task());
    kfp::compile_to_file(&ok, &path).expect("writes");
    assert!(path.exists());
}

#[test]
fn loop_items_and_loop_files_stay_in_their_loop() {
    let file = Component::container("file", "alpine:3.20")
        .output(OutputSpec::artifact("data", "Dataset"))
        .command(["sh", "-c", "echo > \"$0\""])
        .arg(output_path("data"));
    let reader = Component::container("reader", "alpine:3.20")
        .input(InputSpec::artifact("data", "Dataset"))
        .command(["cat"])
        .arg(input_path("data"));
    let mut p = Pipeline::new("leaks");
    let mut leaked = None;
    let f = p.parallel_for(["a"], |p, item| {
        leaked = Some(item.clone());
        p.task(file.task())
    });
    p.task(reader.task().arg("data", f.output("data")));
    if let Some(item) = leaked {
        p.task(echo().task().arg("message", item));
    }
    let message = problems(&p);
    assert!(
        message.contains("a file produced inside a loop cannot be used after the loop"),
        "{message}"
    );
    assert!(
        message.contains("a loop item is used outside its loop"),
        "{message}"
    );
}

fn assert_within_crd_limits(wf: &Workflow) {
    assert!(wf.spec.templates.len() <= 200);
    for t in &wf.spec.templates {
        if let Some(dag) = &t.dag {
            assert!(
                dag.tasks.len() <= 200,
                "{} has {} tasks",
                t.name,
                dag.tasks.len()
            );
        }
        assert!(
            t.inputs.parameters.len() <= 500,
            "{} has too many inputs",
            t.name
        );
    }
}

#[test]
fn large_pipelines_are_split_into_valid_nested_dags() {
    for shape in [Shape::Chain, Shape::Fan, Shape::Random] {
        let p = synthetic(shape, 10_000);
        let wf = kfp::compile(&p).unwrap_or_else(|e| panic!("{shape}: {e}"));
        assert_within_crd_limits(&wf);
        let leaf_tasks: usize = wf
            .spec
            .templates
            .iter()
            .filter_map(|t| t.dag.as_ref())
            .flat_map(|d| &d.tasks)
            .filter(|t| t.template.as_deref().is_some_and(|n| n.starts_with("op")))
            .count();
        assert_eq!(leaf_tasks, 10_000, "{shape}");
    }
}

#[test]
fn too_many_distinct_components_is_a_clear_error() {
    let mut p = Pipeline::new("zoo");
    for i in 0..201 {
        p.task(
            Component::container(format!("c{i}"), "alpine:3.20")
                .command(["true"])
                .task(),
        );
    }
    let message = problems(&p);
    assert!(message.contains("Argo allows at most 200"), "{message}");
}

/// As in KFP v1, how consumers read an output decides how it travels: an untyped output
/// read as a file is an artifact, a file-typed output read as a value is a parameter, an
/// output read both ways is both, and an unconsumed output follows its type.
#[test]
fn consumers_decide_how_outputs_travel() {
    let producer = Component::container("produce", "alpine:3.20")
        .output(OutputSpec::new("blob", None))
        .output(OutputSpec::artifact("uri", "GCSPath"))
        .output(OutputSpec::new("both", None))
        .output(OutputSpec::artifact("unused", "Model"))
        .command([
            "sh",
            "-c",
            "for f in \"$@\"; do mkdir -p \"$(dirname \"$f\")\"; echo x > \"$f\"; done",
            "produce",
        ])
        .args([
            output_path("blob"),
            output_path("uri"),
            output_path("both"),
            output_path("unused"),
        ]);
    let reader = Component::container("read-file", "alpine:3.20")
        .input(InputSpec::new("data", None))
        .command(["cat"])
        .arg(input_path("data"));
    let printer = Component::container("print-value", "alpine:3.20")
        .input(InputSpec::new(
            "value",
            Some(TypeSpec::Name("GCSPath".into())),
        ))
        .command(["echo"])
        .arg(input_value("value"));
    let untyped_printer = Component::container("print-any", "alpine:3.20")
        .input(InputSpec::new("value", None))
        .command(["echo"])
        .arg(input_value("value"));

    let mut p = Pipeline::new("passing");
    let made = p.task(producer.task());
    p.task(reader.task().arg("data", made.output("blob")));
    p.task(printer.task().arg("value", made.output("uri")));
    p.task(reader.task().arg("data", made.output("both")));
    p.task(untyped_printer.task().arg("value", made.output("both")));
    let wf = kfp::compile(&p).unwrap_or_else(|e| panic!("{e}"));

    let produce = template(&wf, "produce");
    let params: Vec<&str> = produce
        .outputs
        .parameters
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    let files: Vec<&str> = produce
        .outputs
        .artifacts
        .iter()
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(params, ["uri", "both"]);
    assert_eq!(files, ["blob", "both", "unused"]);
    let root = template(&wf, "passing");
    assert_eq!(
        task(root, "read-file").arguments.artifacts[0]
            .from
            .as_deref(),
        Some("{{tasks.produce.outputs.artifacts.blob}}")
    );
    assert_eq!(
        task(root, "print-value").arguments.parameters[0]
            .value
            .as_deref(),
        Some("{{tasks.produce.outputs.parameters.uri}}")
    );
}
