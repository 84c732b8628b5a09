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
