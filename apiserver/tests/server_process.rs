//! `kfp server` as a process: it starts on a fresh data directory (SQLite file created on
//! first start), answers KFP's API, stops on Ctrl-C, and a restarted server still has the
//! runs of the previous one.

mod common;

use std::time::Duration;

use common::ServerProcess;
use serde_json::json;

const ECHO: &str = r#"{"apiVersion":"argoproj.io/v1alpha1","kind":"Workflow","metadata":{"generateName":"echo-"},
"spec":{"entrypoint":"main","templates":[{"name":"main","container":{"image":"alpine","command":["echo","hi"]}}]}}"#;

#[test]
fn the_server_keeps_its_runs_across_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let mut server = ServerProcess::start(&data);
    let (code, health) = server.http("GET", "/apis/v1beta1/healthz", None);
    assert_eq!(code, 200, "{health}");
    let (code, created) = server.http(
        "POST",
        "/apis/v1beta1/runs",
        Some(&json!({"name": "kept", "pipeline_spec": {"workflow_manifest": ECHO}})),
    );
    assert_eq!(code, 200, "{created}");
    let id = created["run"]["id"].as_str().expect("an id").to_owned();
    let mut status = String::new();
    for _ in 0..400 {
        let (_, run) = server.http("GET", &format!("/apis/v1beta1/runs/{id}"), None);
        status = run["run"]["status"].as_str().unwrap_or_default().to_owned();
        if status == "Succeeded" {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(status, "Succeeded");
    server.stop();
    assert!(
        data.join("kfp.db").exists(),
        "the SQLite file is in the data directory"
    );

    let mut server = ServerProcess::start(&data);
    let (code, run) = server.http("GET", &format!("/apis/v1beta1/runs/{id}"), None);
    assert_eq!(code, 200, "{run}");
    assert_eq!(run["run"]["name"], "kept");
    assert_eq!(run["run"]["status"], "Succeeded");
    server.stop();
}

/// A run in flight when the server stops is resumed by the next one: the step that had
/// succeeded is kept, the interrupted one runs again, and the run ends Succeeded.
#[test]
fn a_run_in_flight_is_resumed_by_the_next_server() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let count = dir.path().join("first-step-runs");
    let started = dir.path().join("second-step-starts");
    let manifest = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
        "metadata": {"generateName": "resumable-"},
        "spec": {"entrypoint": "main", "templates": [
            {"name": "main", "dag": {"tasks": [
                {"name": "first", "template": "count"},
                {"name": "slow", "template": "slow", "dependencies": ["first"]}]}},
            {"name": "count", "container": {"image": "alpine", "command": ["sh", "-c",
                format!("echo ran >> {}", count.display())]}},
            {"name": "slow", "container": {"image": "alpine", "command": ["sh", "-c",
                format!("echo start >> {}; sleep 2", started.display())]}}]}})
    .to_string();
    let mut server = ServerProcess::start(&data);
    let (code, created) = server.http(
        "POST",
        "/apis/v1beta1/runs",
        Some(&json!({"name": "interrupted", "pipeline_spec": {"workflow_manifest": manifest}})),
    );
    assert_eq!(code, 200, "{created}");
    let id = created["run"]["id"].as_str().expect("an id").to_owned();
    // Wait until the second step runs (and its status, written every 250 ms, is stored).
    for _ in 0..400 {
        if started.exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    assert!(started.exists(), "the second step never started");
    std::thread::sleep(Duration::from_millis(600));
    server.stop();

    let mut server = ServerProcess::start(&data);
    let mut run = serde_json::Value::Null;
    for _ in 0..400 {
        run = server
            .http("GET", &format!("/apis/v1beta1/runs/{id}"), None)
            .1;
        if ["Succeeded", "Failed", "Error"].contains(&run["run"]["status"].as_str().unwrap_or("")) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(run["run"]["status"], "Succeeded", "{run}");
    let first_runs = std::fs::read_to_string(&count).expect("the count");
    assert_eq!(
        first_runs.lines().count(),
        1,
        "the succeeded step ran again"
    );
    let second_starts = std::fs::read_to_string(&started).expect("the starts");
    assert_eq!(
        second_starts.lines().count(),
        2,
        "the interrupted step did not rerun"
    );
    server.stop();
}
