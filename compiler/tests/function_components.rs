//! Rust functions as components: what they compile to, that the macro expands to the
//! builder, and that a real pipeline binary (`examples/rust_functions.rs`, built here with
//! cargo) runs them: outputs in files, `Err` and panics as failed tasks with their text.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use kfp::cli::Program;
use kfp::component::Component;
use kfp::dsl::{Args, FunctionComponent, FunctionInput, FunctionOutput, Outputs};
use kfp::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json_;

// ----- the example binary -----------------------------------------------------------------

/// Build `examples/rust_functions.rs` once and return its path (from cargo's messages, so
/// the target directory and profile are whatever cargo uses).
fn example() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
        let output = Command::new(cargo)
            .args(["build", "--example", "rust_functions", "--manifest-path"])
            .arg(&manifest)
            .args(["--message-format", "json-render-diagnostics"])
            .stderr(Stdio::inherit())
            .output()
            .expect("cargo runs");
        assert!(output.status.success(), "building the example failed");
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|line| serde_json::from_str::<Json_>(line).ok())
            .filter(|m| {
                m["reason"] == "compiler-artifact" && m["target"]["name"] == "rust_functions"
            })
            .find_map(|m| m["executable"].as_str().map(PathBuf::from))
            .expect("cargo names the example's executable")
    })
}

/// Run the example with `args`; fail the test if it has not finished within a minute
/// (a panicking function must fail the task, never hang it).
fn run(args: &[&str]) -> Output {
    let mut child = Command::new(example())
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the example starts");
    let start = Instant::now();
    while child.try_wait().expect("waits").is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("`{}` did not finish within a minute", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn template<'a>(wf: &'a Json_, name: &str) -> &'a Json_ {
    wf["spec"]["templates"]
        .as_array()
        .expect("templates")
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no template {name:?}"))
}

fn strings(v: &Json_) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().filter_map(Json_::as_str).collect())
        .unwrap_or_default()
}

#[test]
fn the_compiled_task_runs_the_pipeline_binary() {
    let out = run(&["compile", "-o", "-"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let yaml = String::from_utf8_lossy(&out.stdout);
    let wf = kfp::validate::validate_workflow_yaml(&yaml, Some("rust-functions"))
        .expect("the workflow validates");

    let train = template(&wf, "train");
    let container = &train["container"];
    // The pipeline's image; the binary is the example's (defined in a binary target).
    assert_eq!(container["image"], "example.com/kfp-example:1.0");
    assert_eq!(
        strings(&container["command"]),
        ["/usr/local/bin/rust_functions", "component", "train"]
    );
    let args = strings(&container["args"]);
    for pair in [
        ["--rows", "{{inputs.parameters.rows}}"],
        ["--lr", "{{inputs.parameters.lr}}"],
        ["--cfg", "{{inputs.parameters.cfg}}"],
        ["--note", "{{inputs.parameters.note}}"],
        ["--data", "/tmp/inputs/data/data"],
        ["--output-model", "/tmp/outputs/model/data"],
        ["--output-accuracy", "/tmp/outputs/accuracy/data"],
    ] {
        assert!(
            args.windows(2).any(|w| w == pair),
            "{pair:?} not in the args {args:?}"
        );
    }
    // Values come back from files as parameters, the written file as an artifact.
    let outputs = &train["outputs"];
    let params: Vec<(&str, &str)> = outputs["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap_or(""),
                p["valueFrom"]["path"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        params,
        [
            ("rows", "/tmp/outputs/rows/data"),
            ("accuracy", "/tmp/outputs/accuracy/data"),
            ("summary", "/tmp/outputs/summary/data"),
        ]
    );
    assert_eq!(outputs["artifacts"][0]["name"], "model");
    assert_eq!(
        train["metadata"]["annotations"]["kfp-rs/rust-function"],
        "train"
    );

    // A serde constant travels as JSON; outputs feed the next function.
    let dag = &template(&wf, "rust-functions")["dag"]["tasks"];
    let train_task = dag
        .as_array()
        .and_then(|t| t.iter().find(|t| t["name"] == "train"))
        .expect("train task");
    let cfg = train_task["arguments"]["parameters"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["name"] == "cfg"))
        .expect("cfg");
    assert_eq!(cfg["value"], r#"{"depth":4,"labels":["a","b"]}"#);

    // A component that pins its image keeps it; the container step is untouched.
    assert_eq!(
        template(&wf, "stats")["container"]["image"],
        "example.com/kfp-example-big:1.0"
    );
    assert_eq!(template(&wf, "fetch")["container"]["image"], "alpine:3.20");
}

#[test]
fn a_function_runs_and_writes_its_outputs_to_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("in.csv");
    std::fs::write(&data, "a,b\n1,2\n").expect("write");
    let o = |name: &str| dir.path().join("out").join(name).join("data");
    let (model, rows, accuracy, summary) = (o("model"), o("rows"), o("accuracy"), o("summary"));
    let out = run(&[
        "component",
        "train",
        "--rows",
        "3",
        "--name",
        "run-1",
        "--verbose",
        "True",
        "--cfg",
        r#"{"depth": 2, "labels": ["x", "y"]}"#,
        "--data",
        data.to_str().expect("utf-8"),
        "--output-model",
        model.to_str().expect("utf-8"),
        "--output-rows",
        rows.to_str().expect("utf-8"),
        "--output-accuracy",
        accuracy.to_str().expect("utf-8"),
        "--output-summary",
        summary.to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(read(&rows), "6");
    assert_eq!(read(&accuracy), "0.75");
    assert_eq!(read(&summary), r#"{"name":"run-1","verbose":true}"#);
    // The default `lr` applied, the optional `note` was absent.
    assert_eq!(read(&model), "depth=2 lr=0.1 labels=x+y lines=2 note=-");

    // A tuple: one output per element; without a path a value is printed.
    let out = run(&["component", "stats", "--values", "[1, 5.5]"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "output_0: 3.25\noutput_1: 5.5\n"
    );
}

#[test]
fn an_error_fails_the_task_with_its_text() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("in.csv");
    std::fs::write(&data, "x\n").expect("write");
    let rows = dir.path().join("rows");
    let out = run(&[
        "component",
        "train",
        "--rows=-3",
        "--name",
        "n",
        "--verbose",
        "false",
        "--cfg",
        r#"{"depth": 1, "labels": []}"#,
        "--data",
        data.to_str().expect("utf-8"),
        "--output-model",
        dir.path().join("model").to_str().expect("utf-8"),
        "--output-rows",
        rows.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "error: the Rust function `train` failed: rows must not be negative, got -3\n"
    );
    assert!(!rows.exists(), "no output is written for a failed run");
}

#[test]
fn a_panic_fails_the_task_with_its_message() {
    // `explode` is in no pipeline: it is served because `main!` lists it after `;`.
    let out = run(&["component", "explode", "--message", "at noon"]);
    assert_eq!(out.status.code(), Some(101), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.ends_with("error: the Rust function `explode` panicked: boom: at noon\n"),
        "{err}"
    );
}

#[test]
fn bad_arguments_are_named() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["component", "add", "--a", "two"],
            "error: invalid value \"two\" for `--a`: expected an integer (`i64`)",
        ),
        (
            &["component", "add"],
            "error: missing `--a <Integer>` (a required input of `add`)",
        ),
        (
            &["component", "add", "--a", "1", "--c", "2"],
            "error: `add` has no argument `--c`; its arguments are: --a, --b, --output-output",
        ),
        (&["component", "add", "--aa", "1"], "did you mean `--a`?"),
        (
            &["component", "stats", "--values", "[1,"],
            "error: invalid value \"[1,\" for `--values`: expected a JSON list:",
        ),
        (
            &["component", "nope"],
            "error: no Rust function `nope`; this program runs: add, describe, explode, \
             stats, train",
        ),
    ];
    for (args, expected) in cases {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(expected),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn the_binary_lists_its_functions_and_their_arguments() {
    let out = run(&["component"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    for name in ["add", "describe", "explode", "stats", "train"] {
        assert!(text.contains(&format!("  {name} ")), "{text}");
    }
    let out = run(&["component", "add", "--help"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("component add --a <Integer> [--b <Integer>] [--output-output <PATH>]"),
        "{text}"
    );
    assert!(text.contains("default: 1"), "{text}");
}

// ----- builder parity -------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Cfg {
    scale: f64,
}

/// Scale a number.
#[component(image = "scaler:1", name = "scale-it")]
fn scale(
    x: f64,
    #[kfp(default = 2)] times: i64,
    note: Option<String>,
    #[kfp(description = "How")] cfg: Cfg,
    #[kfp(type = "CSV")] data: Option<InputPath>,
    report: OutputPath,
) -> Result<Json<Cfg>, String> {
    let text = format!("{x} {times} {note:?} {}", data.is_some());
    std::fs::write(&report, text).map_err(|e| e.to_string())?;
    Ok(Json(Cfg {
        scale: x * cfg.scale * times as f64,
    }))
}

fn run_scale_by_hand(args: &Args) -> Result<Outputs, String> {
    let result = scale_impl(
        args.value("x")?,
        args.value("times")?,
        args.optional("note")?,
        args.value::<Json<Cfg>>("cfg")?.0,
        args.optional_input_path("data")?,
        args.output_path("report")?,
    )?;
    Outputs::new().with("output", &result)
}

fn scale_by_hand() -> FunctionComponent {
    FunctionComponent::new("scale-it", run_scale_by_hand)
        .defined_in(env!("CARGO_PKG_NAME"), option_env!("CARGO_BIN_NAME"))
        .description("Scale a number.")
        .input(FunctionInput::value::<f64>("x"))
        .input(FunctionInput::value::<i64>("times").default("2"))
        .input(FunctionInput::value::<String>("note").optional())
        .input(FunctionInput::value::<Json<Cfg>>("cfg").description("How"))
        .input(FunctionInput::file("data", "CSV").optional())
        .output(FunctionOutput::file("report", "Artifact"))
        .output(FunctionOutput::value::<Json<Cfg>>("output"))
        .image("scaler:1")
}

#[test]
fn the_macro_expands_to_the_builder() {
    assert_eq!(scale_component(), scale_by_hand().component());
    let c: Component = scale_by_hand().into();
    assert_eq!(
        c.spec
            .metadata
            .annotations
            .get("kfp-rs/rust-function-pinned"),
        Some(&"image".to_owned())
    );

    let mut by_macro = Pipeline::new("p");
    let t = by_macro.task(scale(1.5, Json(Cfg { scale: 2.0 })).times(3));
    by_macro.task(scale(2.0, &t.outputs.output).note("again"));

    let mut by_hand = Pipeline::new("p");
    let t = by_hand.task(
        scale_by_hand()
            .task()
            .arg("x", Param::constant(1.5))
            .arg(
                "cfg",
                Param::<Cfg>::from_value(Json(Cfg { scale: 2.0 }).into_param().into_value()),
            )
            .arg("times", Param::constant(3i64)),
    );
    by_hand.task(
        scale_by_hand()
            .task()
            .arg("x", Param::constant(2.0))
            .arg("cfg", t.output("output"))
            .arg("note", "again"),
    );
    assert_eq!(
        kfp::compile_to_yaml(&by_macro).expect("compiles"),
        kfp::compile_to_yaml(&by_hand).expect("compiles")
    );
}

/// Run a function in-process through `Program`, as `main!` does.
fn invoke(program: &Program, args: &[&str]) -> (u8, String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let argv = std::iter::once("prog").chain(args.iter().copied());
    let code = program.run_with(argv, &mut out, &mut err);
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
fn a_hand_built_function_runs_like_a_macro_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().join("r/report");
    let output = dir.path().join("o/output");
    for program in [
        Program::new().function(scale_by_hand()),
        Program::new().function(scale_function()),
    ] {
        let (code, _, err) = invoke(
            &program,
            &[
                "component",
                "scale-it",
                "--x",
                "1.5",
                "--cfg",
                r#"{"scale": 2}"#,
                "--output-report",
                report.to_str().expect("utf-8"),
                "--output-output",
                output.to_str().expect("utf-8"),
            ],
        );
        assert_eq!(code, 0, "{err}");
        assert_eq!(read(&report), "1.5 2 None false");
        assert_eq!(read(&output), r#"{"scale":6.0}"#);
    }
    // The runner itself is a plain fn of `Args`.
    let outputs = scale_function().runner()(
        &Args::new()
            .with_input("x", "2")
            .with_input("times", "1")
            .with_input("cfg", r#"{"scale": 1}"#)
            .with_output_path("report", dir.path().join("r2")),
    )
    .expect("runs");
    assert_eq!(outputs.text("output"), Some(r#"{"scale":2.0}"#));
}

// ----- images and names -------------------------------------------------------------------

#[component]
fn plain(x: i64) -> i64 {
    x
}

fn image_and_command(yaml: &str, template_name: &str) -> (String, String) {
    let wf = kfp::validate::validate_workflow_yaml(yaml, None).expect("validates");
    let c = &template(&wf, template_name)["container"];
    (
        c["image"].as_str().unwrap_or("").to_owned(),
        c["command"][0].as_str().unwrap_or("").to_owned(),
    )
}

#[test]
fn the_image_comes_from_the_component_then_the_pipeline_then_the_crate() {
    // Default: the crate's name (this test is part of `kfp`, in no binary target).
    let mut p = Pipeline::new("defaults");
    p.task(plain(1));
    let yaml = kfp::compile_to_yaml(&p).expect("compiles");
    assert_eq!(
        image_and_command(&yaml, "plain"),
        ("kfp:latest".to_owned(), "/usr/local/bin/kfp".to_owned())
    );

    // The pipeline's settings, inherited by a sub-pipeline that sets none.
    let mut inner = Pipeline::new("inner");
    inner.task(plain(2));
    let mut p = Pipeline::new("settings");
    p.settings_mut()
        .function_image("registry/pipe:2")
        .function_binary("/app/pipe");
    p.task(plain(1));
    p.task(scale(1.0, Json(Cfg { scale: 1.0 })));
    p.task(inner.into_task());
    let yaml = kfp::compile_to_yaml(&p).expect("compiles");
    assert_eq!(
        image_and_command(&yaml, "plain"),
        ("registry/pipe:2".to_owned(), "/app/pipe".to_owned())
    );
    // `scale` pinned its image; the pipeline's binary still applies.
    assert_eq!(
        image_and_command(&yaml, "scale-it"),
        ("scaler:1".to_owned(), "/app/pipe".to_owned())
    );
    assert!(!yaml.contains("kfp:latest"), "{yaml}");
}

#[test]
fn two_functions_under_one_name_are_refused() {
    let other = FunctionComponent::new("plain", |_| Ok(Outputs::new()))
        .input(FunctionInput::value::<String>("y"));
    let mut p = Pipeline::new("clash");
    p.task(plain(1));
    p.task(other.task().arg("y", "a"));
    let e = kfp::compile_to_yaml(&p).expect_err("refused").to_string();
    assert!(
        e.contains("two different Rust functions are named `plain`"),
        "{e}"
    );
}
