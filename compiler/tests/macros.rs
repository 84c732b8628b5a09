//! `#[component]`, `#[pipeline]` and `main!` expand to the builder API: macro-built
//! pipelines compile to exactly the YAML of the same pipelines written by hand.

use kfp::argo::{Template, Workflow};
use kfp::cli::Program;
use kfp::component::Component;
use kfp::prelude::*;

// ----- components, with the macros -------------------------------------------------------

/// Download a data set.
#[component(image = "alpine:3.20")]
fn fetch(url: Param<String>, #[kfp(type = "CSV")] data: OutputPath) -> Container {
    Container::new(cmd!["sh", "-c", "wget -O \"$1\" \"$0\"", url, data])
}

#[component(image = "python:3.12", description = "Train a model")]
fn train(
    #[kfp(type = "CSV")] data: InputPath,
    #[kfp(default = 0.1)] lr: Param<f64>,
    #[kfp(optional, description = "Free text kept with the model")] note: Param<String>,
    model: OutputPath,
    accuracy: Output<f64>,
) -> Container {
    Container::new(["python", "train.py"])
        .args(cmd![
            "--data", data, "--lr", lr, "--model", model, "--acc", accuracy
        ])
        .arg(note.if_present(cmd!["--note", &note]))
        .cpu_limit("2")
        .retries(1)
}

/// Print a score.
#[component(image = "alpine:3.20", name = "print-score")]
fn report(
    #[kfp(name = "score", description = "The accuracy")] accuracy: Param<f64>,
    #[kfp(default = "accuracy")] label: Param<String>,
) -> Container {
    Container::new(cmd!["echo", concat(cmd![label, ": ", accuracy])])
}

// ----- the same components, by hand -----------------------------------------------------

fn fetch_by_hand() -> Component {
    Component::container("fetch", "alpine:3.20")
        .description("Download a data set.")
        .input(InputSpec::of::<String>("url"))
        .output(OutputSpec::artifact("data", "CSV"))
        .command([
            "sh".into(),
            "-c".into(),
            "wget -O \"$1\" \"$0\"".into(),
            input_value("url"),
            output_path("data"),
        ])
}

fn train_by_hand() -> Component {
    Component::container("train", "python:3.12")
        .description("Train a model")
        .input(InputSpec::artifact("data", "CSV"))
        .input(InputSpec::of::<f64>("lr").default("0.1"))
        .input(
            InputSpec::of::<String>("note")
                .optional()
                .description("Free text kept with the model"),
        )
        .output(OutputSpec::artifact("model", "Artifact"))
        .output(OutputSpec::of::<f64>("accuracy"))
        .command(["python", "train.py"])
        .args([
            "--data".into(),
            input_path("data"),
            "--lr".into(),
            input_value("lr"),
            "--model".into(),
            output_path("model"),
            "--acc".into(),
            output_path("accuracy"),
        ])
        .arg(if_present("note", ["--note".into(), input_value("note")]))
        .cpu_limit("2")
        .retries(1)
}

fn report_by_hand() -> Component {
    Component::container("print-score", "alpine:3.20")
        .description("Print a score.")
        .input(InputSpec::of::<f64>("score").description("The accuracy"))
        .input(InputSpec::of::<String>("label").default("accuracy"))
        .command([
            "echo".into(),
            concat([input_value("label"), ": ".into(), input_value("score")]),
        ])
}

#[test]
fn components_expand_to_the_builder() {
    assert_eq!(fetch_component(), fetch_by_hand());
    assert_eq!(train_component(), train_by_hand());
    assert_eq!(report_component(), report_by_hand());
}

// ----- pipelines ------------------------------------------------------------------------

/// Fetch, train, report.
#[pipeline]
fn train_flow(
    p: &mut Pipeline,
    url: Param<String>,
    #[kfp(default = 0.5)] lr: Param<f64>,
    #[kfp(
        name = "run-note",
        description = "Kept with the model",
        default = "none"
    )]
    note: Param<String>,
) {
    let data = p.task(fetch(&url));
    let trained = p.task(
        train(data.outputs.data.clone())
            .lr(&lr)
            .note(note)
            .timeout(std::time::Duration::from_secs(60)),
    );
    p.task(
        report(trained.outputs.accuracy.clone())
            .label("acc")
            .after(&data),
    );
    p.output("model", trained.outputs.model);
}

fn train_flow_by_hand() -> Pipeline {
    let mut p = Pipeline::new("train-flow").description("Fetch, train, report.");
    let url = p.param::<String>("url");
    let lr = p.param_with_default::<f64>("lr", 0.5);
    let note = Param::<String>::from_value(p.param_value(
        "run-note",
        Some(TypeSpec::string()),
        Some("none".into()),
        Some("Kept with the model".into()),
    ));
    let data = p.task(fetch_by_hand().task().arg("url", &url));
    let trained = p.task(
        train_by_hand()
            .task()
            .arg("data", data.output("data"))
            .arg("lr", &lr)
            .arg("note", &note)
            .timeout(std::time::Duration::from_secs(60)),
    );
    p.task(
        report_by_hand()
            .task()
            .arg("score", trained.output("accuracy"))
            .arg("label", "acc")
            .after(&data),
    );
    p.output("model", trained.output("model"));
    p
}

#[test]
fn pipelines_expand_to_the_builder() {
    let by_macro = compile_to_yaml(&train_flow()).expect("the macro pipeline compiles");
    let by_hand =
        compile_to_yaml(&train_flow_by_hand()).expect("the hand-written pipeline compiles");
    assert_eq!(by_macro, by_hand);
}

fn template<'a>(wf: &'a Workflow, name: &str) -> &'a Template {
    wf.spec
        .templates
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no template {name:?}"))
}

fn command_line(wf: &Workflow, name: &str) -> Vec<String> {
    let c = template(wf, name)
        .container
        .as_ref()
        .expect("a container template");
    c.command.iter().chain(&c.args).cloned().collect()
}

#[test]
fn typed_outputs_flow_between_tasks() {
    let wf = compile(&train_flow()).expect("compiles");
    let yaml = kfp::compile::to_yaml(&wf).expect("renders");
    assert!(
        yaml.contains("from: \"{{tasks.fetch.outputs.artifacts.data}}\""),
        "{yaml}"
    );
    assert!(
        yaml.contains("value: \"{{tasks.train.outputs.parameters.accuracy}}\""),
        "{yaml}"
    );
    // Outputs are typed: a Param<f64> compares with numbers.
    let mut p = Pipeline::new("typed");
    let data = p.task(fetch("http://x"));
    let trained = p.task(train(&data.outputs.data));
    let accuracy: &Param<f64> = &trained.outputs.accuracy;
    p.when(accuracy.gt(0.9), |p| {
        p.task(report(accuracy));
    });
    compile(&p).expect("compiles");
}

#[test]
fn optional_inputs_disappear_when_omitted() {
    let mut p = Pipeline::new("without-note");
    let data = p.task(fetch("http://x"));
    p.task(train(data.outputs.data.clone()));
    let wf = compile(&p).expect("compiles");
    let line = command_line(&wf, "train");
    assert!(!line.iter().any(|a| a == "--note"), "{line:?}");
    assert!(
        line.iter().any(|a| a == "{{inputs.parameters.lr}}"),
        "{line:?}"
    );
    let lr = template(&wf, "train")
        .inputs
        .parameters
        .iter()
        .find(|i| i.name == "lr");
    assert_eq!(
        lr.and_then(|i| i.default.as_deref()),
        Some("0.1"),
        "the default applies"
    );

    let mut p = Pipeline::new("with-note");
    let data = p.task(fetch("http://x"));
    p.task(train(data.outputs.data.clone()).note("first try").lr(0.01));
    let wf = compile(&p).expect("compiles");
    let line = command_line(&wf, "train");
    let at = line
        .iter()
        .position(|a| a == "--note")
        .expect("--note is on the command line");
    assert_eq!(line[at + 1], "{{inputs.parameters.note}}");
    let yaml = kfp::compile::to_yaml(&wf).expect("renders");
    assert!(yaml.contains("value: first try"), "{yaml}");
    assert!(yaml.contains("value: \"0.01\""), "{yaml}");
}

#[test]
fn component_settings_and_task_overrides() {
    let mut p = Pipeline::new("settings");
    let data = p.task(fetch("http://x"));
    p.task(
        train(data.outputs.data.clone())
            .retries(4)
            .memory_limit("1Gi")
            .name("fit"),
    );
    let wf = compile(&p).expect("compiles");
    let t = template(&wf, "train");
    let c = t.container.as_ref().expect("container");
    assert_eq!(c.resources.limits.get("cpu").map(String::as_str), Some("2"));
    assert_eq!(
        c.resources.limits.get("memory").map(String::as_str),
        Some("1Gi")
    );
    assert_eq!(
        t.retry_strategy.as_ref().and_then(|r| r.limit.as_deref()),
        Some("4")
    );
    let yaml = kfp::compile::to_yaml(&wf).expect("renders");
    assert!(yaml.contains("- name: fit"), "{yaml}");
}

/// A component whose value output is never written: compiling must fail.
#[component(image = "alpine:3.20")]
fn forgetful(count: Output<i64>) -> Container {
    let _ = count;
    Container::new(["true"])
}

#[pipeline(description = "Cannot compile")]
fn broken(p: &mut Pipeline) {
    p.task(forgetful());
}

#[test]
fn names_and_descriptions_default_to_the_fn() {
    let p = train_flow();
    assert_eq!(p.name(), "train-flow");
    assert_eq!(forgetful_component().name(), "forgetful");
    assert_eq!(
        train_component().spec.description.as_deref(),
        Some("Train a model")
    );
    assert_eq!(
        fetch_component().spec.description.as_deref(),
        Some("Download a data set.")
    );
}

/// Parameter names that the expansion also uses internally must not clash with it.
#[component(image = "alpine:3.20")]
fn awkward(
    component: Param<String>,
    spec: Param<String>,
    name: Param<String>,
    #[kfp(optional)] value: Param<i64>,
    outputs: Output<String>,
) -> Container {
    let body = cmd!["echo", component, spec, name, outputs];
    Container::new(body).arg(value.if_present(cmd!["--value", &value]))
}

#[test]
fn expansion_is_hygienic() {
    let mut p = Pipeline::new("awkward");
    let first = p.task(awkward("a", "b", "c").value(1));
    p.task(awkward(&first.outputs.outputs, "b", "c"));
    let yaml = compile_to_yaml(&p).expect("compiles");
    assert!(
        yaml.contains("value: \"{{tasks.awkward.outputs.parameters.outputs}}\""),
        "{yaml}"
    );
}

// ----- the command line -----------------------------------------------------------------

fn program() -> Program {
    Program::new()
        .pipeline("train_flow", train_flow)
        .pipeline("broken", broken)
}

fn run(program: &Program, args: &[&str]) -> (u8, String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = program.run_with(
        std::iter::once("prog").chain(args.iter().copied()),
        &mut out,
        &mut err,
    );
    let code = if code == std::process::ExitCode::SUCCESS {
        0
    } else {
        1
    };
    (
        code,
        String::from_utf8_lossy(&out).into_owned(),
        String::from_utf8_lossy(&err).into_owned(),
    )
}

#[test]
fn cli_lists_and_compiles() {
    let (code, out, _) = run(&program(), &["list"]);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "train_flow  Fetch, train, report.\nbroken      Cannot compile\n"
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("flow.yaml");
    let path = file.to_str().expect("utf-8 path");
    let (code, _, err) = run(
        &program(),
        &["compile", "--pipeline", "train-flow", "-o", path],
    );
    assert_eq!(code, 0, "{err}");
    let written = std::fs::read_to_string(&file).expect("written");
    assert_eq!(written, compile_to_yaml(&train_flow()).expect("compiles"));

    let (code, out, _) = run(&program(), &["compile", "-p", "train_flow", "-o", "-"]);
    assert_eq!((code, out), (0, written));
}

#[test]
fn cli_failures_write_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("broken.yaml");
    let path = file.to_str().expect("utf-8 path");
    let (code, _, err) = run(&program(), &["compile", "--pipeline", "broken", "-o", path]);
    assert_eq!(code, 1);
    assert!(
        err.starts_with("error: pipeline \"broken\" cannot be compiled"),
        "{err}"
    );
    assert!(err.contains("output \"count\" is never written"), "{err}");
    assert!(!file.exists());

    let (code, _, err) = run(&program(), &["compile", "-o", path]);
    assert_eq!(code, 1);
    assert!(
        err.contains("several pipelines (train_flow, broken): choose one with --pipeline"),
        "{err}"
    );
    let (code, _, err) = run(&program(), &["compile", "--pipeline", "nope", "-o", path]);
    assert_eq!(code, 1);
    assert!(err.contains("no pipeline \"nope\""), "{err}");
    let (code, _, err) = run(&program(), &["frobnicate"]);
    assert_eq!(code, 1);
    assert!(err.contains("unrecognized subcommand"), "{err}");
    assert!(!file.exists());

    // With a single pipeline, --pipeline is not needed.
    let single = Program::new().pipeline("train_flow", train_flow);
    let (code, _, err) = run(&single, &["compile", "-o", path]);
    assert_eq!(code, 0, "{err}");
    assert!(file.exists());
}
