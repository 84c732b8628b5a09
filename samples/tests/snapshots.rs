//! Every sample compiles, validates, is deterministic and matches its reviewed snapshot;
//! the features the samples exist to show are checked on the parsed workflow too.
//!
//! Update snapshots with `INSTA_UPDATE=always cargo test -p samples`, then review them.

use kfp::dsl::Pipeline;
use serde_json::Value;

/// Compile (which validates), then re-validate the YAML text itself and parse it back.
fn compile(name: &str, build: fn() -> Pipeline) -> (String, Value) {
    let yaml = kfp::compile_to_yaml(&build()).unwrap_or_else(|e| panic!("{name}: {e}"));
    let parsed = kfp::validate::validate_workflow_yaml(&yaml, Some(name))
        .unwrap_or_else(|e| panic!("{name}: the emitted YAML does not validate: {e}"));
    (yaml, parsed)
}

macro_rules! snapshot_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                let (yaml, _) = compile(stringify!($name), samples::$name::pipeline);
                insta::assert_snapshot!(stringify!($name), yaml);
            }
        )*

        /// `samples::all()` lists exactly the samples snapshotted here.
        #[test]
        fn every_sample_is_snapshotted() {
            let listed: Vec<&str> = samples::all().iter().map(|(n, _)| *n).collect();
            assert_eq!(listed, vec![$(stringify!($name)),*]);
        }
    };
}

snapshot_tests!(
    hello_world,
    data_passing,
    flip_coin,
    loops,
    exit_handler,
    resource,
    sub_pipeline,
    settings,
    better_than_kfp,
    hello_macros,
    rust_functions,
    mixed_components,
);

#[test]
fn compiling_is_deterministic() {
    for (name, build) in samples::all() {
        let first = kfp::compile_to_yaml(&build()).expect("compiles");
        let again = kfp::compile_to_yaml(&build()).expect("compiles");
        assert_eq!(first, again, "{name}: two builds compile differently");
        let pipeline = build();
        let twice = (
            kfp::compile_to_yaml(&pipeline).expect("compiles"),
            kfp::compile_to_yaml(&pipeline).expect("compiles"),
        );
        assert_eq!(
            twice.0, twice.1,
            "{name}: one pipeline compiles differently twice"
        );
        assert_eq!(first, twice.0, "{name}: output depends on the build");
    }
}

// ----- helpers on the parsed workflow ------------------------------------------------------

fn templates(wf: &Value) -> &[Value] {
    wf["spec"]["templates"].as_array().expect("spec.templates")
}

fn template<'a>(wf: &'a Value, name: &str) -> &'a Value {
    templates(wf)
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no template {name:?}"))
}

fn dag_tasks(t: &Value) -> &[Value] {
    t["dag"]["tasks"].as_array().map_or(&[], Vec::as_slice)
}

/// Every DAG task of the workflow, with the name of the template holding it.
fn all_tasks(wf: &Value) -> Vec<(&str, &Value)> {
    templates(wf)
        .iter()
        .flat_map(|t| {
            let holder = t["name"].as_str().unwrap_or_default();
            dag_tasks(t).iter().map(move |task| (holder, task))
        })
        .collect()
}

/// The single DAG task matching `pred`, with its holder's template name.
fn task_where<'a>(
    wf: &'a Value,
    what: &str,
    pred: impl Fn(&Value) -> bool,
) -> (&'a str, &'a Value) {
    let found: Vec<_> = all_tasks(wf).into_iter().filter(|(_, t)| pred(t)).collect();
    assert_eq!(
        found.len(),
        1,
        "expected exactly one task {what}, found {found:?}"
    );
    found[0]
}

fn task_named<'a>(wf: &'a Value, name: &str) -> &'a Value {
    task_where(wf, &format!("named {name:?}"), |t| t["name"] == name).1
}

fn arg<'a>(task: &'a Value, name: &str) -> &'a str {
    task["arguments"]["parameters"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == name))
        .and_then(|p| p["value"].as_str())
        .unwrap_or_else(|| panic!("task {} has no parameter argument {name:?}", task["name"]))
}

fn parsed(build: fn() -> Pipeline) -> Value {
    compile("sample", build).1
}

// ----- better_than_kfp ---------------------------------------------------------------------

#[test]
fn better_than_kfp_loop_parallelism_bounds_iterations() {
    let wf = parsed(samples::better_than_kfp::pipeline);
    let (holder, looped) = task_where(&wf, "with withItems", |t| t.get("withItems").is_some());
    assert_eq!(looped["withItems"].as_array().map(Vec::len), Some(5));
    // The limit sits on the template holding the withItems task: it bounds iterations...
    assert_eq!(
        template(&wf, holder)["parallelism"],
        2,
        "parallelism must be on {holder}"
    );
    // ...and not on the body, where it would only bound tasks inside one iteration.
    let body = looped["template"].as_str().expect("template");
    assert!(
        template(&wf, body).get("parallelism").is_none(),
        "the loop body {body} must not carry parallelism"
    );
    assert_eq!(wf["spec"].get("parallelism"), None);
}

#[test]
fn better_than_kfp_condition_combines_and_or_of_three_comparisons() {
    let wf = parsed(samples::better_than_kfp::pipeline);
    let (_, guarded) = task_where(&wf, "with when", |t| t.get("when").is_some());
    let when = guarded["when"].as_str().expect("when is text");
    assert_eq!(
        when,
        "(({{tasks.training.outputs.parameters.accuracy}} >= 0.9) && \
         ('{{workflow.parameters.model}}' == 'large')) || \
         ({{tasks.training.outputs.parameters.loss}} <= 0.05)"
    );
    assert!(when.contains("&&") && when.contains("||"));
    assert_eq!(guarded["depends"], "training");
}

#[test]
fn better_than_kfp_exit_handler_per_iteration_is_an_exit_hook() {
    let wf = parsed(samples::better_than_kfp::pipeline);
    // No workflow-level handler: the cleanup belongs to each iteration.
    assert!(wf["spec"].get("onExit").is_none());
    let (holder, hooked) = task_where(&wf, "with hooks", |t| t.get("hooks").is_some());
    let exit = &hooked["hooks"]["exit"];
    assert_eq!(exit["template"], "cleanup-shard");
    // The hook sits in the loop body and reads the loop item, once per iteration.
    assert_eq!(holder, "for-loop-1-iteration");
    assert_eq!(
        exit["arguments"]["parameters"][0]["value"],
        "{{inputs.parameters.for-loop-1-iteration-item}}"
    );
}

#[test]
fn better_than_kfp_sub_pipeline_output_is_used_downstream() {
    let wf = parsed(samples::better_than_kfp::pipeline);
    let outputs = &template(&wf, "training")["outputs"]["parameters"];
    assert_eq!(outputs[0]["name"], "accuracy");
    assert_eq!(
        outputs[0]["valueFrom"]["parameter"],
        "{{tasks.train.outputs.parameters.accuracy}}"
    );
    let report = task_named(&wf, "report");
    assert_eq!(
        arg(report, "accuracy"),
        "{{tasks.training.outputs.parameters.accuracy}}"
    );
    assert_eq!(
        arg(report, "loss"),
        "{{tasks.training.outputs.parameters.loss}}"
    );
    assert_eq!(report["depends"], "training");
}

// ----- the other samples' key features -----------------------------------------------------

#[test]
fn data_passing_moves_files_as_artifacts_and_values_as_parameters() {
    let wf = parsed(samples::data_passing::pipeline);
    let scale = task_named(&wf, "scale-csv");
    let artifacts = &scale["arguments"]["artifacts"];
    assert_eq!(
        artifacts[0]["from"],
        "{{tasks.make-csv.outputs.artifacts.table}}"
    );
    // A constant passed to a file input travels as a raw artifact.
    assert_eq!(
        artifacts[1]["raw"]["data"],
        r#"{"column": "value", "factor": 10}"#
    );
    let report = task_named(&wf, "report");
    assert_eq!(
        arg(report, "rows"),
        "{{tasks.count-rows.outputs.parameters.row_count}}"
    );
    assert_eq!(
        report["arguments"]["artifacts"][0]["raw"]["data"],
        "{{workflow.parameters.title}}"
    );
    assert_eq!(report["depends"], "count-rows");
    assert_eq!(
        template(&wf, "make-csv")["outputs"]["artifacts"][0]["path"],
        "/tmp/outputs/table/data"
    );
    assert_eq!(
        template(&wf, "count-rows")["outputs"]["parameters"][0]["valueFrom"]["path"],
        "/tmp/outputs/row_count/data"
    );
}

#[test]
fn flip_coin_quotes_strings_and_not_numbers() {
    let wf = parsed(samples::flip_coin::pipeline);
    let whens: Vec<&str> = all_tasks(&wf)
        .iter()
        .filter_map(|(_, t)| t["when"].as_str())
        .collect();
    assert_eq!(
        whens,
        [
            "'{{tasks.flip-coin.outputs.parameters.result}}' == 'heads'",
            "'{{tasks.flip-coin.outputs.parameters.result}}' == 'tails'",
            "{{tasks.random-num.outputs.parameters.number}} > 5",
            "{{tasks.random-num.outputs.parameters.number}} <= 5",
            "(('{{tasks.flip-again.outputs.parameters.result}}' == 'heads') && \
             ({{tasks.random-num.outputs.parameters.number}} > 7)) || \
             ({{tasks.random-num.outputs.parameters.number}} <= 1)",
        ]
    );
}

#[test]
fn loops_cover_items_params_outputs_nesting_and_fan_in() {
    let wf = parsed(samples::loops::pipeline);
    let with_items: Vec<&Value> = all_tasks(&wf)
        .into_iter()
        .filter_map(|(_, t)| t.get("withItems"))
        .collect();
    assert_eq!(with_items.len(), 3, "scalars, maps, nested seeds");
    let mut with_param: Vec<&str> = all_tasks(&wf)
        .into_iter()
        .filter_map(|(_, t)| t["withParam"].as_str())
        .collect();
    with_param.sort_unstable();
    assert_eq!(
        with_param,
        [
            "{{tasks.list-shards.outputs.parameters.shards}}",
            "{{workflow.parameters.numbers}}"
        ]
    );
    // Map items are read field by field.
    let (_, maps) = task_where(&wf, "over maps", |t| t["withItems"][0].is_object());
    assert_eq!(arg(maps, "for-loop-2-item-model"), "{{item.model}}");
    // Fan-in: the sum waits for the whole loop and gets the list of squares.
    let sum = task_named(&wf, "sum");
    let (holder, squares) = task_where(&wf, "with withParam over numbers", |t| {
        t["withParam"] == "{{workflow.parameters.numbers}}"
    });
    assert_eq!(template(&wf, holder)["parallelism"], 2);
    assert_eq!(sum["depends"], holder);
    let exported = &template(&wf, holder)["outputs"]["parameters"][0];
    assert_eq!(
        arg(sum, "numbers"),
        format!(
            "{{{{tasks.{holder}.outputs.parameters.{}}}}}",
            exported["name"].as_str().expect("name")
        )
    );
    assert_eq!(
        exported["valueFrom"]["parameter"],
        format!(
            "{{{{tasks.{}.outputs.parameters.square-square}}}}",
            squares["name"].as_str().expect("name")
        )
    );
}

#[test]
fn exit_handler_is_on_exit_at_the_top_and_a_hook_inside_the_condition() {
    let wf = parsed(samples::exit_handler::pipeline);
    let on_exit = wf["spec"]["onExit"].as_str().expect("spec.onExit");
    let report = &dag_tasks(template(&wf, on_exit))[0];
    assert_eq!(arg(report, "status"), "{{workflow.status}}");
    let (holder, hooked) = task_where(&wf, "with hooks", |t| t.get("hooks").is_some());
    assert_eq!(
        hooked["hooks"]["exit"]["arguments"]["parameters"][0]["value"],
        "scratch released"
    );
    let condition = task_where(&wf, "invoking the condition", |t| t["template"] == holder).1;
    assert_eq!(
        condition["when"],
        "'{{workflow.parameters.use_scratch}}' == 'true'"
    );
}

#[test]
fn resource_manifest_reads_the_declared_input() {
    let wf = parsed(samples::resource::pipeline);
    let create = template(&wf, "create-pi-job");
    assert_eq!(create["inputs"]["parameters"][0]["name"], "digits");
    let manifest = create["resource"]["manifest"].as_str().expect("manifest");
    assert!(manifest.contains("{{inputs.parameters.digits}}"));
    assert_eq!(
        create["resource"]["successCondition"],
        "status.succeeded > 0"
    );
    assert_eq!(
        create["outputs"]["parameters"][0]["valueFrom"]["jsonPath"],
        "{.metadata.name}"
    );
    let delete = task_named(&wf, "delete-pi-job");
    assert_eq!(
        arg(delete, "job-name"),
        "{{tasks.create-pi-job.outputs.parameters.job-name}}"
    );
    assert_eq!(delete["depends"], "create-pi-job && print-job-logs");
    assert_eq!(
        template(&wf, "delete-pi-job")["resource"]["action"],
        "delete"
    );
}

#[test]
fn sub_pipeline_output_threads_through_its_dag_template() {
    let wf = parsed(samples::sub_pipeline::pipeline);
    let inner = template(&wf, "train-and-evaluate");
    assert_eq!(inner["inputs"]["parameters"][0]["name"], "learning_rate");
    assert_eq!(
        inner["outputs"]["parameters"][0]["valueFrom"]["parameter"],
        "{{tasks.evaluate.outputs.parameters.accuracy}}"
    );
    assert_eq!(
        arg(task_named(&wf, "report"), "accuracy"),
        "{{tasks.train-and-evaluate.outputs.parameters.accuracy}}"
    );
}

#[test]
fn settings_reach_the_pod_and_the_workflow() {
    let wf = parsed(samples::settings::pipeline);
    let spec = &wf["spec"];
    assert_eq!(spec["parallelism"], 4);
    assert_eq!(spec["activeDeadlineSeconds"], 7200);
    assert_eq!(spec["serviceAccountName"], "pipeline-runner");
    let train = template(&wf, "train");
    let resources = &train["container"]["resources"];
    assert_eq!(
        resources["limits"]["memory"], "8Gi",
        "the task overrides the component"
    );
    assert_eq!(resources["requests"]["memory"], "2Gi");
    assert_eq!(resources["limits"]["nvidia.com/gpu"], "1");
    assert_eq!(train["retryStrategy"]["limit"], "3");
    assert_eq!(train["sidecars"][0]["name"], "cache");
    assert_eq!(
        train["metadata"]["labels"]["pipelines.kubeflow.org/enable_caching"],
        "false"
    );
}

#[test]
fn rust_functions_run_in_the_pipeline_binary_in_the_pipelines_image() {
    let (_, wf) = compile("rust_functions", samples::rust_functions::pipeline);
    for name in ["profile", "split", "summarize"] {
        let container = &template(&wf, name)["container"];
        assert_eq!(container["image"], samples::rust_functions::IMAGE, "{name}");
        assert_eq!(
            container["command"],
            serde_json::json!([samples::rust_functions::BINARY, "component", name]),
            "{name}"
        );
    }
    // The container steps keep their own images.
    assert_eq!(
        template(&wf, "make-table")["container"]["image"],
        "python:3.12-alpine"
    );
    assert_eq!(template(&wf, "report")["container"]["image"], "alpine:3.20");
}
