//! KFP v1 `component.yaml`: loading (files, text, URLs), the whole spec, graph components
//! as sub-pipelines, saving, `dsl-compile --component`, and errors that name their cause.

use std::path::{Path, PathBuf};
use std::process::Command;

use kfp::component::{
    ComponentLoader, ComponentSpec, IfPlaceholder, Implementation, Predicate, WrapOptions,
    WrappedInput, single_task_pipeline,
};
use kfp::prelude::*;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/components")
}

fn load(name: &str) -> Component {
    let path = data_dir().join(name);
    Component::from_file(&path).unwrap_or_else(|e| panic!("{name} should load:\n{e}"))
}

/// The error text of loading a broken file, with the directory stripped.
fn load_error(name: &str) -> String {
    let path = data_dir().join("broken").join(name);
    match Component::from_file(&path) {
        Ok(_) => panic!("{name} should not load"),
        Err(e) => e
            .to_string()
            .replace(&format!("{}/", data_dir().join("broken").display()), ""),
    }
}

fn compile_error(p: &Pipeline) -> String {
    match kfp::compile(p) {
        Ok(_) => panic!("pipeline {} should not compile", p.name()),
        Err(e) => e.to_string(),
    }
}

fn yaml(p: &Pipeline) -> String {
    kfp::compile_to_yaml(p).unwrap_or_else(|e| panic!("{} should compile:\n{e}", p.name()))
}

/// The command line (command then args) of the first container template whose name
/// starts with `template`.
fn command_line(wf: &serde_json::Value, template: &str) -> Vec<String> {
    let templates = wf["spec"]["templates"].as_array().expect("templates");
    let t = templates
        .iter()
        .find(|t| {
            t["name"].as_str().is_some_and(|n| n.starts_with(template))
                && t["container"].is_object()
        })
        .unwrap_or_else(|| panic!("no container template {template}"));
    let c = &t["container"];
    ["command", "args"]
        .iter()
        .flat_map(|k| c[*k].as_array().cloned().unwrap_or_default())
        .map(|v| v.as_str().unwrap_or_default().to_owned())
        .collect()
}

fn compiled(p: &Pipeline) -> serde_json::Value {
    let wf = kfp::compile(p).unwrap_or_else(|e| panic!("{} should compile:\n{e}", p.name()));
    serde_json::to_value(&wf).expect("json")
}

/// Every valid file of the set, by file name.
fn catalogue() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(data_dir())
        .expect("data dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    names.sort();
    names
}

#[test]
fn every_catalogue_file_loads_and_compiles_as_a_one_task_pipeline() {
    let names = catalogue();
    assert!(names.len() >= 10, "{names:?}");
    for name in &names {
        let component = load(name);
        let (p, _) = single_task_pipeline(&component, &WrapOptions::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        if let Err(e) = kfp::compile(&p) {
            panic!("{name} does not compile:\n{e}");
        }
    }
}

#[test]
fn every_catalogue_file_round_trips_through_to_yaml() {
    for name in catalogue() {
        let component = load(&name);
        let text = component
            .to_yaml()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let again = Component::from_yaml_str(&text, &name)
            .unwrap_or_else(|e| panic!("{name} written back does not load:\n{e}\n{text}"));
        assert_eq!(again.spec, component.spec, "{name}:\n{text}");
    }
}

#[test]
fn the_whole_spec_is_read() {
    let c = load("download_data.yaml");
    assert_eq!(c.name(), "Download data");
    assert_eq!(
        c.spec
            .metadata
            .annotations
            .get("author")
            .map(String::as_str),
        Some("Jane Doe <jane@example.com>")
    );
    assert_eq!(
        c.spec
            .metadata
            .labels
            .get("kfp.example/category")
            .map(String::as_str),
        Some("io")
    );
    let options = c.spec.input("curl options").expect("input");
    assert_eq!(options.default.as_deref(), Some("--location"));
    assert_eq!(
        options.description.as_deref(),
        Some("Additional options given to curl.")
    );

    let bq = load("bigquery_query.yaml");
    let out = bq.spec.output("output_gcs_path").expect("output");
    assert_eq!(
        out.type_spec.as_ref().map(ToString::to_string).as_deref(),
        Some(r#"{"GCSPath":{"data_type":"CSV"}}"#)
    );
    let Implementation::Container(c) = &bq.spec.implementation else {
        panic!("container expected")
    };
    // Numbers in env and defaults are kept as text, as KFP's loader does.
    assert_eq!(c.env.get("RETRY_COUNT").map(String::as_str), Some("3"));
    assert_eq!(
        c.file_outputs.get("output_gcs_path").map(String::as_str),
        Some("/tmp/kfp/output/bigquery/query-output-path.txt")
    );
    let split = load("split_table.yaml");
    assert_eq!(
        split
            .spec
            .input("stratify")
            .and_then(|i| i.default.as_deref()),
        Some("false")
    );
    assert_eq!(
        split
            .spec
            .input("number_of_folds")
            .and_then(|i| i.default.as_deref()),
        Some("5")
    );
}

#[test]
fn loaded_components_wire_like_rust_ones_and_omitted_optionals_drop_their_flags() {
    let download = load("download_data.yaml");
    let train = load("xgboost_train.yaml");
    let predict = load("xgboost_predict.yaml");
    let mut p = Pipeline::new("xgboost");
    let url = p.param_value("url", Some(TypeSpec::Name("URI".into())), None, None);
    let data = p.task(download.task().arg("Url", url));
    let model = p.task(
        train
            .task()
            .arg("training_data", data.output("Data"))
            .arg("num_iterations", "20")
            .cpu_limit("2"),
    );
    p.task(
        predict
            .task()
            .arg("data", data.output("Data"))
            .arg("model", model.output("model")),
    );
    let wf = compiled(&p);
    let line = command_line(&wf, "xgboost-train");
    let has = |flag: &str| line.iter().any(|a| a == flag);
    assert!(has("--num-iterations"), "{line:?}");
    assert!(has("--max-depth"), "defaults keep their flags: {line:?}");
    assert!(!has("--starting-model"), "{line:?}");
    assert!(!has("--booster-params"), "{line:?}");
    assert!(has("--label-column"), "{line:?}");
    let predict = command_line(&wf, "xgboost-predict");
    assert!(
        !predict.iter().any(|a| a == "--label-column"),
        "{predict:?}"
    );
    let text = wf.to_string();
    assert!(
        text.contains("{{tasks.xgboost-train.outputs.artifacts.model}}"),
        "{text}"
    );
}

#[test]
fn if_on_an_input_value_and_constant_conditions_choose_a_branch() {
    let c = load("train_with_gpu_flag.yaml");
    let mut p = Pipeline::new("gpu");
    let data = p.param_value("data", Some(TypeSpec::Name("Dataset".into())), None, None);
    p.task(c.task().arg("dataset", data).arg("batch size", "64"));
    let line = command_line(&compiled(&p), "train-classifier");
    let has = |flag: &str| line.iter().any(|a| a == flag);
    assert!(
        has("cpu") && !has("cuda"),
        "use_gpu defaults to false: {line:?}"
    );
    assert!(has("--deterministic") && !has("--debug"), "{line:?}");
    assert!(has("--batch-size"), "{line:?}");

    // A constant argument decides the branch; a run-time value cannot.
    let mut p = Pipeline::new("gpu-on");
    let data = p.param_value("data", Some(TypeSpec::Name("Dataset".into())), None, None);
    p.task(c.task().arg("dataset", data.clone()).arg("use_gpu", "True"));
    p.task(c.task().arg("dataset", data));
    let wf = compiled(&p);
    let templates: Vec<Vec<String>> = ["train-classifier", "train-classifier-2"]
        .iter()
        .map(|t| command_line(&wf, t))
        .collect();
    assert!(templates[0].iter().any(|a| a == "cuda"), "{templates:?}");
    assert!(templates[1].iter().any(|a| a == "cpu"), "{templates:?}");
    let mut p = Pipeline::new("gpu-param");
    let data = p.param_value("data", Some(TypeSpec::Name("Dataset".into())), None, None);
    let gpu = p.param_with_default("gpu", false);
    p.task(c.task().arg("dataset", data).arg("use_gpu", gpu));
    let e = compile_error(&p);
    assert!(
        e.contains(r#"input "use_gpu" decides which arguments the command line has"#),
        "{e}"
    );
}

#[test]
fn concat_and_if_else_inside_concat_resolve_per_task() {
    let c = load("submit_spark_job.yaml");
    let mut p = Pipeline::new("spark");
    p.task(
        c.task()
            .arg("project_id", "proj")
            .arg("cluster_name", "c1")
            .arg("main_jar_file_uri", "gs://b/app.jar"),
    );
    let text = yaml(&p);
    assert!(
        text.contains("--jar={{inputs.parameters.main_jar_file_uri}}"),
        "{text}"
    );
    assert!(text.contains("--properties={}"), "{text}");
    assert!(
        text.contains(
            "--cluster={{inputs.parameters.cluster_name}}.{{inputs.parameters.region}}.internal"
        ),
        "{text}"
    );
    assert!(
        text.contains("--wait={{inputs.parameters.wait_interval}}s"),
        "{text}"
    );
}

#[test]
fn structured_types_are_checked_when_wiring() {
    let bq = load("bigquery_query.yaml");
    let summarize = load("read_gcs_csv.yaml");
    let gcs_csv: TypeSpec =
        serde_json::from_str(r#"{"GCSPath": {"data_type": "CSV"}}"#).expect("type");
    let mut p = Pipeline::new("bq");
    let path = p.param_value("out", Some(gcs_csv), Some("gs://b/out.csv".into()), None);
    p.task(
        bq.task()
            .arg("query", "SELECT 1")
            .arg("project_id", "proj")
            .arg("output_gcs_path", path.clone()),
    );
    p.task(summarize.task().arg("csv_path", path));
    yaml(&p);

    // A TSV path is not a CSV path.
    let gcs_tsv: TypeSpec =
        serde_json::from_str(r#"{"GCSPath": {"data_type": "TSV"}}"#).expect("type");
    let mut p = Pipeline::new("bq-wrong");
    let path = p.param_value("out", Some(gcs_tsv), None, None);
    p.task(summarize.task().arg("csv_path", path));
    let e = compile_error(&p);
    assert!(
        e.contains(
            r#"task "summarize-csv", input "csv_path": type mismatch: the value given is {"GCSPath":{"data_type":"TSV"}} but the input expects {"GCSPath":{"data_type":"CSV"}}"#
        ),
        "{e}"
    );
}

#[test]
fn wiring_errors_name_the_task_and_input() {
    let train = load("xgboost_train.yaml");
    let bq = load("bigquery_query.yaml");
    // Missing required input.
    let mut p = Pipeline::new("missing");
    p.task(train.task().arg("num_iterations", "3"));
    let e = compile_error(&p);
    assert!(
        e.contains(r#"task "xgboost-train", input "training_data": is required but not given"#),
        "{e}"
    );
    // Type mismatch: a GCS path (a file of this pipeline) is not a CSV table.
    let mut p = Pipeline::new("mismatch");
    let q = p.task(
        bq.task()
            .arg("query", "q")
            .arg("project_id", "p")
            .arg("output_gcs_path", "gs://b/x.csv"),
    );
    p.task(
        train
            .task()
            .arg("training_data", q.output("output_gcs_path")),
    );
    let e = compile_error(&p);
    assert!(
        e.contains(r#"type mismatch: the value given is {"GCSPath":{"data_type":"CSV"}} but the input expects CSV"#),
        "{e}"
    );
    // A constant of the wrong type.
    let mut p = Pipeline::new("constant");
    let data = p.param_value("data", Some(TypeSpec::Name("CSV".into())), None, None);
    p.task(
        train
            .task()
            .arg("training_data", data)
            .arg("num_iterations", "many"),
    );
    let e = compile_error(&p);
    assert!(
        e.contains(r#"input "num_iterations": "many" is not a valid Integer"#),
        "{e}"
    );
    // An input the component does not have.
    let mut p = Pipeline::new("unknown");
    let data = p.param_value("data", Some(TypeSpec::Name("CSV".into())), None, None);
    p.task(
        train
            .task()
            .arg("training_data", data)
            .arg("iterations", "3"),
    );
    let e = compile_error(&p);
    assert!(
        e.contains(r#"input "iterations": component "Xgboost train" has no such input"#),
        "{e}"
    );
}

#[test]
fn a_graph_component_is_a_sub_pipeline_with_outputs() {
    let graph = load("xgboost_graph.yaml");
    let Implementation::Graph(g) = &graph.spec.implementation else {
        panic!("graph expected")
    };
    // Every componentRef is resolved to a spec when loading.
    assert!(g.tasks.values().all(|t| t.component_ref.spec.is_some()));

    let report = Component::container("report", "alpine:3.20")
        .input(InputSpec::integer("lines"))
        .input(InputSpec::artifact("model", "XGBoostModel"))
        .command(["sh", "-c", "echo $0; ls -l $1"])
        .args([input_value("lines"), input_path("model")]);
    let mut p = Pipeline::new("uses-a-graph");
    let iterations = p.param_with_default::<i64>("iterations", 30);
    let trained = p.task(graph.task().arg("Number of iterations", iterations));
    p.task(
        report
            .task()
            .arg("lines", trained.output("Line count"))
            .arg("model", trained.output("Model")),
    );
    let wf = kfp::compile(&p).unwrap_or_else(|e| panic!("{e}"));
    let text = kfp::compile::to_yaml(&wf).expect("yaml");
    let sub = wf
        .spec
        .templates
        .iter()
        .find(|t| t.name == "train-and-predict-with-xgboost")
        .unwrap_or_else(|| panic!("no sub-pipeline template:\n{text}"));
    let params: Vec<&str> = sub
        .inputs
        .parameters
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(
        params,
        ["dataset-url", "label-column", "number-of-iterations"],
        "{text}"
    );
    let dag = sub.dag.as_ref().expect("dag");
    let names: Vec<&str> = dag.tasks.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names.len(), 4, "{names:?}");
    assert!(
        names.contains(&"download-data") && names.contains(&"count-lines"),
        "{names:?}"
    );
    let outputs: Vec<&str> = sub
        .outputs
        .artifacts
        .iter()
        .map(|a| a.name.as_str())
        .collect();
    assert!(
        outputs.contains(&"model") && outputs.contains(&"predictions"),
        "{text}"
    );
    assert!(
        text.contains("{{tasks.train-and-predict-with-xgboost.outputs.parameters.line-count}}"),
        "{text}"
    );
    // executionOptions: retries on the trainer, no cache reuse for the line count.
    assert!(
        text.contains("limit: '2'") || text.contains("limit: \"2\""),
        "{text}"
    );
    assert!(text.contains("max_cache_staleness: P0D"), "{text}");
    assert!(text.contains("max_cache_staleness: P30D"), "{text}");
}

#[test]
fn an_omitted_optional_graph_input_is_not_passed_to_inner_tasks() {
    let graph = load("xgboost_graph.yaml");
    let mut p = Pipeline::new("defaults");
    p.task(graph.task());
    let wf = kfp::compile(&p).unwrap_or_else(|e| panic!("{e}"));
    let sub = wf
        .spec
        .templates
        .iter()
        .find(|t| t.name == "train-and-predict-with-xgboost")
        .expect("sub-pipeline");
    let params: Vec<&str> = sub
        .inputs
        .parameters
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(params, ["dataset-url", "label-column"]);
    // Two tasks with the same supplied inputs share one sub-pipeline template.
    let mut p = Pipeline::new("twice");
    p.task(graph.task().name("first"));
    p.task(graph.task().name("second"));
    let wf = kfp::compile(&p).unwrap_or_else(|e| panic!("{e}"));
    let subs = wf
        .spec
        .templates
        .iter()
        .filter(|t| t.name.starts_with("train-and-predict-with-xgboost"))
        .count();
    assert_eq!(subs, 1);
}

#[test]
fn graph_inputs_read_as_files_are_input_artifacts_and_conditions_apply() {
    let nested = load("nested_graph.yaml");
    let mut p = Pipeline::new("nested");
    p.task(nested.task().arg("url", "https://example.com/t.csv"));
    let wf = kfp::compile(&p).unwrap_or_else(|e| panic!("{e}"));
    let text = kfp::compile::to_yaml(&wf).expect("yaml");
    let inner = wf
        .spec
        .templates
        .iter()
        .find(|t| t.name == "train-and-maybe-predict")
        .unwrap_or_else(|| panic!("no inner graph:\n{text}"));
    let artifacts: Vec<&str> = inner
        .inputs
        .artifacts
        .iter()
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(artifacts, ["training_data"], "{text}");
    assert!(
        text.contains(r#"from: "{{inputs.artifacts.training_data}}""#),
        "{text}"
    );
    assert!(
        text.contains(r#"from: "{{tasks.download.outputs.artifacts.data}}""#),
        "{text}"
    );
    // isEnabled became conditions.
    assert!(
        text.contains("when: ('{{inputs.parameters.run_predictions}}' == 'true') && ({{inputs.parameters.iterations}} > 0)"),
        "{text}"
    );
    assert!(
        text.contains(r#"when: "!('{{inputs.parameters.run_predictions}}' == 'true')""#),
        "{text}"
    );
}

#[test]
fn graph_wiring_errors_name_the_graph_task_and_input() {
    let graph = load("train_maybe_predict_graph.yaml");
    let mut p = Pipeline::new("missing");
    p.task(graph.task().arg("iterations", "3"));
    let e = compile_error(&p);
    assert!(
        e.contains(
            r#"task "train-and-maybe-predict", input "training_data": parameter of pipeline "Train and maybe predict" is required but not given"#
        ),
        "{e}"
    );
    let mut p = Pipeline::new("mismatch");
    let data = p.param_value("data", Some(TypeSpec::Name("CSV".into())), None, None);
    p.task(
        graph
            .task()
            .arg("training_data", data)
            .arg("iterations", "many"),
    );
    let e = compile_error(&p);
    assert!(
        e.contains(r#"input "iterations": "many" is not a valid Integer"#),
        "{e}"
    );
}

#[test]
fn a_graph_may_forward_its_input_as_an_output() {
    let text = r#"
name: passthrough
inputs: [{name: text, type: String}]
outputs: [{name: same, type: String}, {name: loud, type: String}]
implementation:
  graph:
    tasks:
      shout:
        componentRef:
          spec:
            name: shout
            inputs: [{name: text, type: String}]
            outputs: [{name: loud, type: String}]
            implementation:
              container:
                image: alpine:3.20
                command: [sh, -c, 'echo "$0" | tr a-z A-Z > "$1"', {inputValue: text}, {outputPath: loud}]
        arguments: {text: {graphInput: {inputName: text}}}
    outputValues:
      same: {graphInput: {inputName: text}}
      loud: {taskOutput: {taskId: shout, outputName: loud}}
"#;
    let graph =
        Component::from_yaml_str(text, "passthrough.yaml").unwrap_or_else(|e| panic!("{e}"));
    let echo = Component::container("echo", "alpine:3.20")
        .input(InputSpec::string("a"))
        .input(InputSpec::string("b"))
        .command(["echo"])
        .args([input_value("a"), input_value("b")]);
    let mut p = Pipeline::new("forward");
    let g = p.task(graph.task().arg("text", "hi"));
    p.task(
        echo.task()
            .arg("a", g.output("same"))
            .arg("b", g.output("loud")),
    );
    yaml(&p);
}

#[test]
fn graph_components_register_by_name_and_resolve_inline_specs() {
    let step = Component::container("Shout", "alpine:3.20")
        .input(InputSpec::string("text"))
        .output(OutputSpec::string("loud"))
        .command(["sh", "-c", "echo \"$0\" | tr a-z A-Z > \"$1\""])
        .args([input_value("text"), output_path("loud")]);
    let text = r#"
name: Shout twice
inputs: [{name: text}]
outputs: [{name: result}]
implementation:
  graph:
    tasks:
      first:
        componentRef: {name: Shout}
        arguments: {text: {graphInput: {inputName: text}}}
      second:
        componentRef: {name: Shout}
        arguments: {text: {taskOutput: {taskId: first, outputName: loud}}}
    outputValues:
      result: {taskOutput: {taskId: second, outputName: loud}}
"#;
    let graph = ComponentLoader::new()
        .with_component(&step)
        .load_str(text, "inline.yaml")
        .unwrap_or_else(|e| panic!("{e}"));
    let mut p = Pipeline::new("shout");
    let t = p.task(graph.task().arg("text", "hi"));
    p.task(step.task().arg("text", t.output("result")).name("third"));
    yaml(&p);
    // Without the registration the name cannot be resolved.
    let e = Component::from_yaml_str(text, "inline.yaml").expect_err("unresolved");
    assert!(
        e.to_string().contains(
            r#"inline.yaml:9:24: implementation.graph.tasks.first.componentRef.name: unknown component "Shout""#
        ),
        "{e}"
    );
}

#[test]
fn broken_files_say_where_and_what() {
    let e = load_error("yaml_syntax.yaml");
    assert_eq!(
        e,
        "yaml_syntax.yaml:3:3: YAML syntax error: unclosed bracket '{'"
    );

    let e = load_error("unknown_placeholder.yaml");
    assert_eq!(
        e,
        "unknown_placeholder.yaml:12:7: implementation.container.args[3]: unknown placeholder \
         {inputValu: x}; expected one of inputValue, inputPath, outputPath, concat, if \
         (did you mean inputValue?)"
    );

    let e = load_error("misspelled_field.yaml");
    assert!(
        e.starts_with(
            "misspelled_field.yaml:8:5: implementation.container: unknown field `fileOutput`, \
             expected one of `image`, `command`, `args`, `env`, `fileOutputs`"
        ),
        "{e}"
    );
    assert!(e.ends_with("(did you mean fileOutputs?)"), "{e}");

    let e = load_error("unknown_input.yaml");
    assert_eq!(
        e,
        "unknown_input.yaml:10:9: implementation.container.args[0].if.cond: there is no input \
         \"mesage\"; the inputs are: message (did you mean message?)"
    );

    let e = load_error("unknown_component_ref.yaml");
    assert!(
        e.contains("unknown_component_ref.yaml:12:24: implementation.graph.tasks.train.componentRef.name: unknown component \"No such trainer\""),
        "{e}"
    );

    let e = load_error("graph_cycle.yaml");
    assert!(
        e.contains("graph_cycle.yaml:4:5: implementation.graph.tasks: tasks a, b depend on each other in a cycle"),
        "{e}"
    );

    let e = load_error("v2_placeholder.yaml");
    assert!(
        e.contains("implementation.container.command[2]: inputUri is a KFP v2 placeholder"),
        "{e}"
    );
}

#[test]
fn strings_that_are_not_components_fail_cleanly() {
    for (text, expected) in [
        ("", "a component must be a map"),
        ("- a\n- b\n", "a component must be a map"),
        ("name: x\n", "missing field `implementation`"),
        ("name: x\nimplementation: {}\n", "implementation"),
        (
            "name: x\nimplementation: {container: {}}\n",
            "missing field `image`",
        ),
        (
            "name: x\ninputs: [{name: a, type: [1]}]\nimplementation: {container: {image: i}}\n",
            "inputs[0].type: list types are not supported",
        ),
        (
            "name: x\ninputs: [{name: a}, {name: a}]\nimplementation: {container: {image: i}}\n",
            "there are two inputs named \"a\"",
        ),
        (
            "name: x\ninputs: [{name: a}]\nimplementation: {container: {image: i, args: [{if: {cond: {isPresent: a}}}]}}\n",
            "missing field `then`",
        ),
    ] {
        let e = Component::from_yaml_str(text, "t.yaml").expect_err(text);
        assert!(e.to_string().contains(expected), "{text:?}: {e}");
    }
}

#[test]
fn a_dsl_component_saves_and_loads_back_with_every_placeholder() {
    let c = Component::container("every placeholder", "python:3.12")
        .description("uses every form")
        .annotation("author", "me")
        .label("team", "ml")
        .input(InputSpec::string("name").description("who"))
        .input(InputSpec::integer("count").default(3))
        .input(InputSpec::boolean("verbose").optional())
        .input(InputSpec::artifact("data", "CSV"))
        .input(InputSpec::new(
            "path",
            Some(serde_json::from_str(r#"{"GCSPath": {"data_type": "CSV"}}"#).expect("type")),
        ))
        .output(OutputSpec::artifact("model", "Model"))
        .output(OutputSpec::float("score"))
        .with_container(
            Container::new(["python3", "-u", "-c", "print('hi')\nprint(2)"]).env("MODE", "fast"),
        )
        .args([
            input_value("name"),
            input_path("data"),
            output_path("model"),
            concat(["--count=", "5"]),
            concat([input_value("count"), "x".into()]),
            if_present("verbose", ["--verbose".into(), input_value("verbose")]),
            CmdArg::If {
                branch: Box::new(IfPlaceholder {
                    cond: Predicate::InputValue {
                        input: "verbose".into(),
                    },
                    then: vec!["-v".into()],
                    otherwise: vec!["-q".into(), "true".into(), "007".into()],
                }),
            },
            CmdArg::If {
                branch: Box::new(IfPlaceholder {
                    cond: Predicate::Constant(false),
                    then: vec!["a".into()],
                    otherwise: vec![],
                }),
            },
            CmdArg::If {
                branch: Box::new(IfPlaceholder {
                    cond: Predicate::ConstantText("yes".into()),
                    then: vec![concat(["b", "c"])],
                    otherwise: vec![],
                }),
            },
            input_value("path"),
        ])
        .file_output("score", "/tmp/score")
        .cpu_limit("2")
        .retries(3);
    let text = c.to_yaml().unwrap_or_else(|e| panic!("{e}"));
    let back =
        Component::from_yaml_str(&text, "saved.yaml").unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(back.spec, c.spec, "{text}");
    // Kubernetes settings are not part of component.yaml (documented on `to_yaml`).
    assert_eq!(back.config, kfp::component::TaskConfig::default());
    assert!(!text.contains("cpu"), "{text}");

    let resource = Component::resource("make", ResourceAction::Create, "kind: ConfigMap");
    let e = resource.to_yaml().expect_err("not portable");
    assert!(
        e.to_string()
            .contains("cannot be written as component.yaml"),
        "{e}"
    );
}

#[test]
fn specs_deserialize_from_json_with_precise_messages() {
    let spec: ComponentSpec = serde_json::from_str(
        r#"{"name": "x", "implementation": {"container": {"image": "i", "args": [{"concat": ["a", {"inputValue": "b"}]}]}}, "inputs": [{"name": "b"}]}"#,
    )
    .expect("valid");
    assert_eq!(spec.inputs[0].name, "b");
    let e = serde_json::from_str::<ComponentSpec>(
        r#"{"implementation": {"container": {"image": "i", "args": [{"inputValue": "b", "inputPath": "c"}]}}}"#,
    )
    .expect_err("two keys");
    assert!(
        e.to_string().contains(
            "a placeholder has exactly one key, but this one has `inputValue` and `inputPath`"
        ),
        "{e}"
    );
}

fn dsl_compile() -> Command {
    Command::new(env!("CARGO_BIN_EXE_dsl-compile"))
}

#[test]
fn dsl_compile_wraps_a_component_into_a_one_task_pipeline() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("train.yaml");
    let result = dsl_compile()
        .arg("--component")
        .arg(data_dir().join("xgboost_train.yaml"))
        .args([
            "--with-input",
            "booster_params",
            "--set",
            "objective=binary:logistic",
            "--output",
        ])
        .arg(&out)
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    assert!(
        stdout.contains(r#"input "training_data": parameter training_data"#),
        "{stdout}"
    );
    assert!(
        stdout.contains(r#"input "starting_model": left out"#),
        "{stdout}"
    );
    assert!(
        stdout.contains(r#"input "objective": fixed to "binary:logistic""#),
        "{stdout}"
    );
    let text = std::fs::read_to_string(&out).expect("written");
    assert!(text.contains("generateName: xgboost-train-"), "{text}");
    // Parameters keep their types and defaults (KFP's pipeline_spec annotation).
    assert!(
        text.contains(r#"{\"name\":\"num_iterations\",\"type\":\"Integer\",\"default\":\"10\""#),
        "{text}"
    );
    let wf = kfp::validate::validate_workflow_yaml(&text, None).expect("valid");
    let line = command_line(&wf, "xgboost-train");
    let has = |flag: &str| line.iter().any(|a| a == flag);
    assert!(
        has("--booster-params") && !has("--starting-model"),
        "{line:?}"
    );
    assert!(
        wf.to_string().contains(r#""value":"binary:logistic""#),
        "{wf}"
    );
    let check = dsl_compile()
        .arg("--validate")
        .arg(&out)
        .output()
        .expect("runs");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
}

#[test]
fn dsl_compile_component_errors_name_the_file_and_write_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("x.yaml");
    let result = dsl_compile()
        .arg("--component")
        .arg(data_dir().join("broken/unknown_placeholder.yaml"))
        .arg("--output")
        .arg(&out)
        .output()
        .expect("runs");
    assert!(!result.status.success());
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        stderr.contains(
            "unknown_placeholder.yaml:12:7: implementation.container.args[3]: unknown placeholder"
        ),
        "{stderr}"
    );
    assert!(!out.exists());

    let result = dsl_compile()
        .arg("--component")
        .arg(data_dir().join("add.yaml"))
        .args(["--set", "c=1", "--output"])
        .arg(&out)
        .output()
        .expect("runs");
    assert!(!result.status.success());
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        stderr.contains(r#"component "Add" has no input "c"; its inputs are: a, b"#),
        "{stderr}"
    );
    assert!(!out.exists());
}

#[test]
fn one_task_pipelines_follow_the_documented_rules() {
    let train = load("xgboost_train.yaml");
    let (_, plan) = single_task_pipeline(&train, &WrapOptions::default()).expect("wraps");
    let how = |input: &str| {
        plan.iter()
            .find(|(n, _)| n == input)
            .map(|(_, h)| h.clone())
    };
    assert_eq!(
        how("training_data"),
        Some(WrappedInput::Param("training_data".into()))
    );
    assert_eq!(
        how("num_iterations"),
        Some(WrappedInput::Param("num_iterations".into()))
    );
    assert_eq!(how("starting_model"), Some(WrappedInput::Omitted));
    let graph = load("xgboost_graph.yaml");
    let (p, plan) = single_task_pipeline(&graph, &WrapOptions::default()).expect("wraps");
    assert!(plan.contains(&(
        "Dataset URL".into(),
        WrappedInput::Param("dataset-url".into())
    )));
    yaml(&p);
}

#[cfg(feature = "http")]
mod http {
    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;

    /// Serves `files` (path -> body) on 127.0.0.1 for `requests` requests, then stops.
    fn serve(files: Vec<(&'static str, String)>, requests: usize) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        std::thread::spawn(move || {
            for stream in listener.incoming().take(requests) {
                let Ok(mut stream) = stream else { continue };
                let mut line = String::new();
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                loop {
                    let mut header = String::new();
                    match reader.read_line(&mut header) {
                        Ok(0) | Err(_) => break,
                        Ok(_) if header == "\r\n" => break,
                        Ok(_) => {}
                    }
                }
                let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let reply = match files.iter().find(|(p, _)| *p == path) {
                    Some((_, body)) => format!(
                        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    ),
                    None => {
                        "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                            .to_owned()
                    }
                };
                let _ = stream.write_all(reply.as_bytes());
            }
        });
        format!("http://{addr}")
    }

    fn file(name: &str) -> String {
        std::fs::read_to_string(data_dir().join(name)).expect("read")
    }

    #[test]
    fn components_load_from_urls_and_graphs_resolve_relative_urls() {
        let base = serve(
            vec![
                ("/c/xgboost_train.yaml", file("xgboost_train.yaml")),
                (
                    "/c/graph.yaml",
                    r#"
name: remote graph
inputs: [{name: data, type: CSV}]
outputs: [{name: model, type: XGBoostModel}]
implementation:
  graph:
    tasks:
      train:
        componentRef: {url: xgboost_train.yaml}
        arguments: {training_data: {graphInput: {inputName: data}}}
    outputValues:
      model: {taskOutput: {taskId: train, outputName: model}}
"#
                    .to_owned(),
                ),
            ],
            4,
        );
        let train = Component::from_url(&format!("{base}/c/xgboost_train.yaml"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(train.spec, load("xgboost_train.yaml").spec);
        let graph =
            Component::from_url(&format!("{base}/c/graph.yaml")).unwrap_or_else(|e| panic!("{e}"));
        let mut p = Pipeline::new("remote");
        let data = p.param_value("data", Some(TypeSpec::Name("CSV".into())), None, None);
        p.task(graph.task().arg("data", data));
        yaml(&p);
        let e = Component::from_url(&format!("{base}/c/missing.yaml")).expect_err("404");
        assert!(e.to_string().contains("missing.yaml: cannot fetch"), "{e}");
        assert!(e.to_string().contains("404"), "{e}");
    }
}

#[cfg(not(feature = "http"))]
#[test]
fn urls_need_the_http_feature() {
    let text = r#"
name: g
implementation:
  graph:
    tasks:
      t: {componentRef: {url: 'https://example.com/component.yaml'}}
"#;
    let e = Component::from_yaml_str(text, "g.yaml").expect_err("no http");
    assert!(e.to_string().contains("needs the `http` feature"), "{e}");
}

mod generated {
    //! Property tests: every container spec the model can hold survives `to_yaml` and
    //! loading, and no input text makes the loader panic.

    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    /// Text that YAML could misread if written bare.
    fn tricky_text() -> impl Strategy<Value = String> {
        prop_oneof![
            "[ -~]{0,12}",
            "\\PC{0,8}",
            Just("true".to_owned()),
            Just("null".to_owned()),
            Just("~".to_owned()),
            Just("007".to_owned()),
            Just("1e3".to_owned()),
            Just("0x1F".to_owned()),
            Just("- item".to_owned()),
            Just("key: value".to_owned()),
            Just("{inputValue: x}".to_owned()),
            Just(" padded ".to_owned()),
            Just("line one\nline two\n".to_owned()),
            Just("#not a comment".to_owned()),
        ]
    }

    fn type_spec() -> impl Strategy<Value = Option<TypeSpec>> {
        prop_oneof![
            Just(None),
            prop::sample::select(vec![
                "String",
                "Integer",
                "Float",
                "Boolean",
                "JsonObject",
                "JsonArray",
                "CSV",
                "Model",
                "URI",
            ])
            .prop_map(|n| Some(TypeSpec::Name(n.to_owned()))),
            Just(Some(
                serde_json::from_str(r#"{"GCSPath": {"data_type": "CSV"}}"#).expect("type")
            )),
        ]
    }

    fn predicate(inputs: Vec<String>) -> BoxedStrategy<Predicate> {
        let mut options: Vec<BoxedStrategy<Predicate>> = vec![
            any::<bool>().prop_map(Predicate::Constant).boxed(),
            tricky_text().prop_map(Predicate::ConstantText).boxed(),
        ];
        if !inputs.is_empty() {
            let names = prop::sample::select(inputs);
            options.push(
                names
                    .clone()
                    .prop_map(|input| Predicate::IsPresent { input })
                    .boxed(),
            );
            options.push(
                names
                    .prop_map(|input| Predicate::InputValue { input })
                    .boxed(),
            );
        }
        prop::strategy::Union::new(options).boxed()
    }

    fn cmd_arg(inputs: Vec<String>, outputs: Vec<String>) -> BoxedStrategy<CmdArg> {
        let mut leaves: Vec<BoxedStrategy<CmdArg>> =
            vec![tricky_text().prop_map(CmdArg::Literal).boxed()];
        if !inputs.is_empty() {
            let names = prop::sample::select(inputs.clone());
            leaves.push(
                names
                    .clone()
                    .prop_map(|input| CmdArg::InputValue { input })
                    .boxed(),
            );
            leaves.push(names.prop_map(|input| CmdArg::InputPath { input }).boxed());
        }
        if !outputs.is_empty() {
            leaves.push(
                prop::sample::select(outputs)
                    .prop_map(|output| CmdArg::OutputPath { output })
                    .boxed(),
            );
        }
        let leaf = prop::strategy::Union::new(leaves);
        leaf.prop_recursive(3, 16, 4, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4)
                    .prop_map(|concat| CmdArg::Concat { concat }),
                (
                    predicate(inputs.clone()),
                    prop::collection::vec(inner.clone(), 0..3),
                    prop::collection::vec(inner, 0..3)
                )
                    .prop_map(|(cond, then, otherwise)| CmdArg::If {
                        branch: Box::new(IfPlaceholder {
                            cond,
                            then,
                            otherwise,
                        }),
                    }),
            ]
        })
        .boxed()
    }

    fn spec() -> impl Strategy<Value = ComponentSpec> {
        let names = prop::collection::btree_set("[a-z][a-z0-9 _-]{0,8}", 0..5);
        let outs = prop::collection::btree_set("[a-z][a-z0-9 _]{0,8}", 0..3);
        (names, outs).prop_flat_map(|(inputs, outputs)| {
            let inputs: Vec<String> = inputs.into_iter().collect();
            let outputs: Vec<String> = outputs.into_iter().collect();
            let input_specs = inputs
                .iter()
                .map(|name| {
                    (
                        type_spec(),
                        prop::option::of(tricky_text()),
                        prop::option::of(tricky_text()),
                        any::<bool>(),
                    )
                        .prop_map({
                            let name = name.clone();
                            move |(type_spec, description, default, optional)| InputSpec {
                                name: name.clone(),
                                type_spec,
                                description,
                                default,
                                optional,
                            }
                        })
                })
                .collect::<Vec<_>>();
            let output_specs = outputs
                .iter()
                .map(|name| {
                    (type_spec(), prop::option::of(tricky_text())).prop_map({
                        let name = name.clone();
                        move |(type_spec, description)| OutputSpec {
                            name: name.clone(),
                            type_spec,
                            description,
                        }
                    })
                })
                .collect::<Vec<_>>();
            let args = cmd_arg(inputs.clone(), outputs.clone());
            let file_outputs = prop::collection::btree_map(
                if outputs.is_empty() {
                    Just(String::new()).boxed()
                } else {
                    prop::sample::select(outputs.clone()).boxed()
                },
                "/tmp/[a-z]{1,8}",
                0..2,
            )
            .prop_map(|m: BTreeMap<String, String>| {
                m.into_iter().filter(|(k, _)| !k.is_empty()).collect()
            });
            (
                "[A-Za-z][A-Za-z0-9 _-]{0,12}",
                prop::option::of(tricky_text()),
                prop::collection::btree_map("[a-z./]{1,10}", tricky_text(), 0..3),
                input_specs,
                output_specs,
                "[a-z0-9./:-]{1,20}",
                prop::collection::vec(args.clone(), 0..4),
                prop::collection::vec(args, 0..6),
                prop::collection::btree_map("[A-Z_]{1,8}", tricky_text(), 0..3),
                file_outputs,
            )
                .prop_map(
                    |(
                        name,
                        description,
                        annotations,
                        inputs,
                        outputs,
                        image,
                        command,
                        args,
                        env,
                        file_outputs,
                    )| {
                        ComponentSpec {
                            name,
                            description,
                            metadata: kfp::component::ComponentMetadata {
                                labels: annotations.clone(),
                                annotations,
                            },
                            inputs,
                            outputs,
                            implementation: Implementation::Container(
                                kfp::component::ContainerImpl {
                                    image,
                                    command,
                                    args,
                                    env,
                                    file_outputs,
                                },
                            ),
                        }
                    },
                )
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn saved_specs_load_back_equal(spec in spec()) {
            let component = Component::from_spec(spec);
            let text = component.to_yaml().map_err(|e| TestCaseError::fail(e.to_string()))?;
            let back = Component::from_yaml_str(&text, "generated.yaml")
                .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
            prop_assert_eq!(&back.spec, &component.spec, "{}", text);
        }

        #[test]
        fn damaged_files_never_panic(
            name in prop::sample::select(catalogue()),
            cut in 0usize..4000,
            insert in "[ -~\n]{0,4}",
        ) {
            let text = std::fs::read_to_string(data_dir().join(&name)).expect("read");
            let mut at = cut.min(text.len());
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            let damaged = format!("{}{insert}{}", &text[..at], &text[(at + 3).min(text.len())..]);
            if let Ok(component) = Component::from_yaml_str(&damaged, &name) {
                // Whatever loads can be wrapped and compiled (or refused) without a panic.
                if let Ok((p, _)) = single_task_pipeline(&component, &WrapOptions::default()) {
                    let _ = kfp::compile(&p);
                }
            }
        }
    }
}
