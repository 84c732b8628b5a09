//! The client commands as a user runs them: a real `kfp server` on a free port, and the
//! `kfp` binary talking to it with `--endpoint`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::ServerProcess;
use serde_json::Value;

/// A DAG of two echoes of the parameter `who`.
const HELLO: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: hello-
spec:
  entrypoint: main
  arguments:
    parameters:
    - name: who
      value: world
  templates:
  - name: main
    dag:
      tasks:
      - name: greet
        template: echo
        arguments:
          parameters: [{name: text, value: "hello {{workflow.parameters.who}}"}]
      - name: part
        dependencies: [greet]
        template: echo
        arguments:
          parameters: [{name: text, value: "bye {{workflow.parameters.who}}"}]
  - name: echo
    inputs:
      parameters: [{name: text}]
    container:
      image: alpine:3.20
      command: [echo, "{{inputs.parameters.text}}"]
"#;

/// One step that exits 3.
const FAILING: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: failing-
spec:
  entrypoint: main
  templates:
  - name: main
    container:
      image: alpine:3.20
      command: [sh, -c, "echo about to fail; exit 3"]
"#;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write the file");
    path
}

/// `kfp <args> --endpoint <endpoint>` without KFP_ENDPOINT from the environment.
fn kfp(endpoint: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kfp"))
        .args(args)
        .args(["--endpoint", endpoint])
        .env_remove("KFP_ENDPOINT")
        .output()
        .expect("kfp runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn both(output: &Output) -> String {
    format!(
        "status: {:?}\n--- stdout\n{}--- stderr\n{}",
        output.status,
        stdout(output),
        stderr(output)
    )
}

/// Run, expect `code`, return stdout.
fn expect_code(endpoint: &str, args: &[&str], code: i32) -> String {
    let output = kfp(endpoint, args);
    assert_eq!(
        output.status.code(),
        Some(code),
        "kfp {args:?}\n{}",
        both(&output)
    );
    stdout(&output)
}

fn ok(endpoint: &str, args: &[&str]) -> String {
    expect_code(endpoint, args, 0)
}

fn json(endpoint: &str, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["--output", "json"]);
    let text = ok(endpoint, &all);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("kfp {args:?}: not JSON ({e}):\n{text}"))
}

fn text_of(value: &Value) -> &str {
    value.as_str().expect("a string")
}

#[test]
fn pipelines_experiments_and_runs_round_trip() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = ServerProcess::start(&dir.path().join("data"));
    let url = server.url();
    let url = url.as_str();
    let hello = write(dir.path(), "hello.yaml", HELLO);
    let hello = hello.to_str().expect("utf-8 path");

    // Upload, then list and get in both formats.
    let uploaded = json(
        url,
        &["pipeline", "upload", hello, "--description", "greets"],
    );
    let pipeline_id = text_of(&uploaded["id"]).to_owned();
    assert_eq!(uploaded["name"], "hello");
    assert_eq!(uploaded["parameters"][0]["name"], "who");
    let table = ok(url, &["pipeline", "list"]);
    let header = table.lines().next().expect("a header");
    assert!(
        header.starts_with("ID") && header.contains("NAME"),
        "{table}"
    );
    assert!(
        table.contains(&pipeline_id) && table.contains("hello"),
        "{table}"
    );
    let listed = json(url, &["pipeline", "list", "--filter-name", "hel"]);
    assert_eq!(listed["pipelines"][0]["id"], pipeline_id.as_str());
    let none = json(
        url,
        &["pipeline", "list", "--filter-name", "nothing-like-it"],
    );
    assert!(none.get("pipelines").is_none(), "{none}");
    let shown = ok(url, &["pipeline", "get", &pipeline_id]);
    assert!(
        shown.contains("who=world") && shown.contains("greets"),
        "{shown}"
    );
    let got = json(url, &["pipeline", "get", &pipeline_id]);
    assert_eq!(
        got,
        server
            .http(
                "GET",
                &format!("/apis/v1beta1/pipelines/{pipeline_id}"),
                None
            )
            .1
    );

    // The same name again is a conflict that says what to do; a version is fine.
    let again = kfp(url, &["pipeline", "upload", hello]);
    assert_eq!(again.status.code(), Some(1), "{}", both(&again));
    assert!(
        stderr(&again).contains("--version-of PIPELINE_ID"),
        "{}",
        both(&again)
    );
    let version = json(
        url,
        &[
            "pipeline",
            "upload",
            hello,
            "--version-of",
            &pipeline_id,
            "--name",
            "v2",
        ],
    );
    assert_eq!(version["name"], "v2");

    // An experiment, and a run in it found by name.
    let experiment = json(
        url,
        &["experiment", "create", "nightly", "--description", "n"],
    );
    let experiment_id = text_of(&experiment["id"]).to_owned();
    let experiments = ok(url, &["experiment", "list"]);
    assert!(experiments.contains("nightly"), "{experiments}");
    let submitted = ok(
        url,
        &[
            "run",
            "submit",
            "--pipeline-id",
            &pipeline_id,
            "--experiment",
            "nightly",
            "-p",
            "who=x",
            "--name",
            "first",
            "--wait",
        ],
    );
    assert!(submitted.contains("Succeeded"), "{submitted}");
    let runs = json(url, &["run", "list", "--experiment", &experiment_id]);
    let run_id = text_of(&runs["runs"][0]["id"]).to_owned();
    assert_eq!(runs["runs"][0]["status"], "Succeeded");
    let table = ok(url, &["run", "list"]);
    assert!(
        table.contains(&run_id) && table.contains("first"),
        "{table}"
    );
    let detail = ok(url, &["run", "get", &run_id]);
    for part in ["Succeeded", "who=x", "greet", "part", &experiment_id] {
        assert!(detail.contains(part), "{part} missing:\n{detail}");
    }
    let detail = json(url, &["run", "get", &run_id]);
    assert_eq!(detail["run"]["id"], run_id.as_str());
    assert!(detail["pipeline_runtime"]["workflow_manifest"].is_string());

    // Logs: every step with a header, or one node.
    let logs = ok(url, &["run", "logs", &run_id]);
    assert!(logs.contains("hello x") && logs.contains("bye x"), "{logs}");
    assert!(logs.contains("==> greet"), "{logs}");
    let one = ok(url, &["run", "logs", &run_id, "--node", "part"]);
    assert_eq!(one.trim(), "bye x");
    let unknown = kfp(url, &["run", "logs", &run_id, "--node", "nope"]);
    assert_eq!(unknown.status.code(), Some(1), "{}", both(&unknown));
    assert!(stderr(&unknown).contains("greet"), "{}", both(&unknown));

    // A failing workflow: wait exits 1.
    let failing = write(dir.path(), "failing.yaml", FAILING);
    let started = json(
        url,
        &["run", "submit", "--file", failing.to_str().expect("utf-8")],
    );
    let failing_id = text_of(&started["run"]["id"]).to_owned();
    let waited = expect_code(url, &["run", "wait", &failing_id, "--timeout", "60"], 1);
    assert!(
        waited.contains("Failed") && waited.contains("exit code 3"),
        "{waited}"
    );
    let logs = ok(url, &["run", "logs", &failing_id]);
    assert!(logs.contains("about to fail"), "{logs}");

    // Paging: one per page, then all of them.
    let first = json(url, &["run", "list", "--page-size", "1"]);
    assert_eq!(first["runs"].as_array().map(Vec::len), Some(1));
    assert!(first["next_page_token"].is_string(), "{first}");
    let all = json(url, &["run", "list", "--page-size", "1", "--all"]);
    assert_eq!(all["runs"].as_array().map(Vec::len), Some(2), "{all}");
    // Newest first.
    assert_eq!(all["runs"][0]["id"], failing_id.as_str());

    // Archive, unarchive, delete.
    ok(url, &["experiment", "archive", &experiment_id]);
    let archived = ok(url, &["experiment", "get", &experiment_id]);
    assert!(archived.contains("archived"), "{archived}");
    ok(url, &["experiment", "unarchive", &experiment_id]);
    let deleted = ok(url, &["pipeline", "delete", &pipeline_id]);
    assert!(deleted.contains(&pipeline_id), "{deleted}");
    expect_code(url, &["pipeline", "get", &pipeline_id], 1);
}

#[test]
fn errors_say_what_to_do() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = ServerProcess::start(&dir.path().join("data"));
    let url = server.url();
    let url = url.as_str();

    // The server's message and status.
    let unknown = kfp(url, &["run", "submit", "--pipeline-id", "no-such-pipeline"]);
    assert_eq!(unknown.status.code(), Some(1), "{}", both(&unknown));
    let message = stderr(&unknown);
    assert!(
        message.contains("no-such-pipeline") && message.contains("not found"),
        "{message}"
    );
    assert!(message.contains("404"), "{message}");
    let unknown = kfp(url, &["run", "get", "no-such-run"]);
    assert_eq!(unknown.status.code(), Some(1), "{}", both(&unknown));
    assert!(stderr(&unknown).contains("not found"), "{}", both(&unknown));
    let experiment = kfp(url, &["run", "list", "--experiment", "no-such-experiment"]);
    assert_eq!(experiment.status.code(), Some(1), "{}", both(&experiment));
    assert!(
        stderr(&experiment).contains("kfp experiment create"),
        "{}",
        both(&experiment)
    );

    // Local mistakes exit 2 before anything is sent.
    let missing = kfp(url, &["pipeline", "upload", "/no/such/file.yaml"]);
    assert_eq!(missing.status.code(), Some(2), "{}", both(&missing));
    assert!(
        stderr(&missing).contains("/no/such/file.yaml"),
        "{}",
        both(&missing)
    );
    let missing = kfp(url, &["run", "submit", "--file", "/no/such/file.yaml"]);
    assert_eq!(missing.status.code(), Some(2), "{}", both(&missing));
    let both_sources = kfp(
        url,
        &["run", "submit", "--pipeline-id", "a", "--version-id", "b"],
    );
    assert_eq!(
        both_sources.status.code(),
        Some(2),
        "{}",
        both(&both_sources)
    );

    // Nobody at the endpoint.
    drop(server);
    let gone = kfp(url, &["pipeline", "list"]);
    assert_eq!(gone.status.code(), Some(1), "{}", both(&gone));
    let message = stderr(&gone);
    assert!(
        message.contains(&format!("cannot reach the kfp server at {url}"))
            && message.contains("kfp server")
            && message.contains("--endpoint"),
        "{message}"
    );
}

#[test]
fn run_wait_times_out_with_exit_2() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = ServerProcess::start(&dir.path().join("data"));
    let url = server.url();
    let url = url.as_str();
    let slow = write(
        dir.path(),
        "slow.yaml",
        "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {generateName: slow-}\n\
         spec:\n  entrypoint: main\n  templates:\n  - name: main\n    container:\n      \
         image: alpine:3.20\n      command: [sleep, \"30\"]\n",
    );
    let slow = slow.to_str().expect("utf-8");
    let timed_out = kfp(
        url,
        &["run", "submit", "--file", slow, "--wait", "--timeout", "1"],
    );
    assert_eq!(timed_out.status.code(), Some(2), "{}", both(&timed_out));
    assert!(stderr(&timed_out).contains("still"), "{}", both(&timed_out));
    let runs = json(url, &["run", "list"]);
    let id = text_of(&runs["runs"][0]["id"]).to_owned();
    ok(url, &["run", "terminate", &id]);
    expect_code(url, &["run", "wait", &id, "--timeout", "30"], 1);
}

#[test]
fn recurring_runs_are_created_listed_paused_and_deleted() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = ServerProcess::start(&dir.path().join("data"));
    let url = server.url();
    let url = url.as_str();
    let hello = write(dir.path(), "hello.yaml", HELLO);
    let hello = hello.to_str().expect("utf-8 path");
    let pipeline = json(url, &["pipeline", "upload", hello]);
    let pipeline_id = text_of(&pipeline["id"]);

    let created = json(
        url,
        &[
            "recurring-run",
            "create",
            "--name",
            "hourly",
            "--every",
            "3600",
            "--pipeline-id",
            pipeline_id,
            "-p",
            "who=cron",
            "--max-concurrency",
            "2",
            "--no-catchup",
        ],
    );
    let id = text_of(&created["id"]).to_owned();
    assert_eq!(created["enabled"], true);
    assert_eq!(
        created["trigger"]["periodic_schedule"]["interval_second"],
        "3600"
    );
    let cron = ok(
        url,
        &[
            "recurring-run",
            "create",
            "--name",
            "nightly",
            "--cron",
            "0 3 * * *",
            "--timezone",
            "Europe/Paris",
            "--file",
            hello,
        ],
    );
    assert!(cron.contains("cron 0 3 * * * (Europe/Paris)"), "{cron}");
    // The next three firings are previewed, in local time.
    let next = cron
        .lines()
        .find(|l| l.trim_start().starts_with("Next runs"))
        .unwrap_or_default();
    assert_eq!(next.matches(", ").count(), 2, "{cron}");
    let unknown = kfp(
        url,
        &[
            "recurring-run",
            "create",
            "--name",
            "z",
            "--cron",
            "0 3 * * *",
            "--timezone",
            "Mars/Olympus",
            "--file",
            hello,
        ],
    );
    assert_eq!(unknown.status.code(), Some(2), "{}", both(&unknown));
    assert!(
        stderr(&unknown).contains("unknown timezone 'Mars/Olympus'"),
        "{}",
        both(&unknown)
    );

    let table = ok(url, &["recurring-run", "list"]);
    assert!(
        table.contains("hourly") && table.contains("every 1h"),
        "{table}"
    );
    assert!(table.contains("nightly"), "{table}");
    let listed = json(url, &["recurring-run", "list"]);
    assert_eq!(listed["jobs"].as_array().map(Vec::len), Some(2), "{listed}");

    ok(url, &["recurring-run", "disable", &id]);
    let job = json(url, &["recurring-run", "get", &id]);
    assert!(job.get("enabled").is_none(), "disabled: {job}");
    ok(url, &["recurring-run", "enable", &id]);
    let shown = ok(url, &["recurring-run", "get", &id]);
    assert!(
        shown.contains("Enabled") && shown.contains("who=cron"),
        "{shown}"
    );
    ok(url, &["recurring-run", "delete", &id]);
    expect_code(url, &["recurring-run", "get", &id], 1);

    // Local checks: a window that ends before it starts, a bad time.
    let window = kfp(
        url,
        &[
            "recurring-run",
            "create",
            "--name",
            "w",
            "--every",
            "60",
            "--file",
            hello,
            "--start",
            "2030-01-02T00:00:00Z",
            "--end",
            "2030-01-01T00:00:00Z",
        ],
    );
    assert_eq!(window.status.code(), Some(2), "{}", both(&window));
    let bad_time = kfp(
        url,
        &[
            "recurring-run",
            "create",
            "--name",
            "w",
            "--every",
            "60",
            "--file",
            hello,
            "--start",
            "tomorrow",
        ],
    );
    assert_eq!(bad_time.status.code(), Some(2), "{}", both(&bad_time));
}
