//! Runs through the REST API on the local engine: create from an inline manifest, follow
//! the status into the store, list, logs, archive, terminate, bad input, reconciliation.

mod common;

use std::time::Duration;

use axum::http::StatusCode;
use common::app::{Server, call, files_named, server};
use serde_json::{Value, json};

const DIAMOND: &str = r#"{"apiVersion":"argoproj.io/v1alpha1","kind":"Workflow",
 "metadata":{"generateName":"diamond-"},
 "spec":{"entrypoint":"main","arguments":{"parameters":[{"name":"who","value":"world"}]},
  "templates":[
   {"name":"main","dag":{"tasks":[
     {"name":"a","template":"echo","arguments":{"parameters":[{"name":"m","value":"hello {{workflow.parameters.who}}"}]}},
     {"name":"b","template":"echo","dependencies":["a"],"arguments":{"parameters":[{"name":"m","value":"b"}]}}]}},
   {"name":"echo","inputs":{"parameters":[{"name":"m"}]},
    "container":{"image":"alpine","command":["echo","{{inputs.parameters.m}}"]}}]}}"#;

const SLEEPER: &str = r#"{"apiVersion":"argoproj.io/v1alpha1","kind":"Workflow",
 "metadata":{"generateName":"sleeper-"},
 "spec":{"entrypoint":"main","templates":[
   {"name":"main","container":{"image":"alpine","command":["sleep","30"]}}]}}"#;

/// Poll GET until the run's status is final (the engine runs in the background).
async fn wait_finished(server: &Server, id: &str) -> Value {
    for _ in 0..600 {
        let (code, body) = call(server, "GET", &format!("/apis/v1beta1/runs/{id}"), None).await;
        assert_eq!(code, StatusCode::OK, "{body}");
        let status = body["run"]["status"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if ["Succeeded", "Failed", "Error"].contains(&status.as_str()) {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("run {id} did not finish");
}

/// Create a run of an inline manifest; its ID.
async fn submit(server: &Server, name: &str, manifest: &str) -> String {
    let (code, created) = call(
        server,
        "POST",
        "/apis/v1beta1/runs",
        Some(json!({"name": name, "pipeline_spec": {"workflow_manifest": manifest}})),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{created}");
    created["run"]["id"].as_str().expect("an id").to_owned()
}

/// The workflow (with its status) of a GetRun answer.
fn workflow_of(detail: &Value) -> Value {
    serde_json::from_str(
        detail["pipeline_runtime"]["workflow_manifest"]
            .as_str()
            .unwrap_or_default(),
    )
    .expect("the workflow is JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inline_manifest_runs_to_success_and_its_status_and_logs_are_kept() {
    let server = server().await;
    let (code, created) = call(
        &server,
        "POST",
        "/apis/v1beta1/runs",
        Some(
            json!({"name": "first", "pipeline_spec": {"workflow_manifest": DIAMOND,
            "parameters": [{"name": "who", "value": "you"}]}}),
        ),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{created}");
    let id = created["run"]["id"].as_str().expect("an id").to_owned();
    let experiment = created["run"]["resource_references"][0]["key"]["id"]
        .as_str()
        .expect("the Default experiment")
        .to_owned();
    let done = wait_finished(&server, &id).await;
    assert_eq!(done["run"]["status"], "Succeeded", "{done}");
    assert!(done["run"]["finished_at"].is_string(), "{done}");
    let manifest: Value = serde_json::from_str(
        done["pipeline_runtime"]["workflow_manifest"]
            .as_str()
            .expect("a manifest"),
    )
    .expect("the manifest is JSON");
    assert_eq!(manifest["status"]["phase"], "Succeeded");
    let nodes = manifest["status"]["nodes"].as_object().expect("nodes");
    let (node_id, _) = nodes
        .iter()
        .find(|(_, n)| n["displayName"] == "a")
        .expect("node a");
    let (code, log) = call(
        &server,
        "GET",
        &format!("/apis/v1alpha1/runs/{id}/nodes/{node_id}/log"),
        None,
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(log.as_str().map(str::trim), Some("hello you"));

    let (code, list) = call(
        &server,
        "GET",
        &format!("/apis/v1beta1/runs?resource_reference_key.type=EXPERIMENT&resource_reference_key.id={experiment}&page_size=10"),
        None,
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{list}");
    assert_eq!(list["runs"][0]["id"], id.as_str());
    assert_eq!(list["total_size"], 1);
    assert!(list["runs"][0].get("pipeline_runtime").is_none());

    let (code, _) = call(
        &server,
        "POST",
        &format!("/apis/v1beta1/runs/{id}:archive"),
        None,
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    let (_, archived) = call(&server, "GET", &format!("/apis/v1beta1/runs/{id}"), None).await;
    assert_eq!(archived["run"]["storage_state"], "STORAGESTATE_ARCHIVED");
    let (code, _) = call(&server, "DELETE", &format!("/apis/v1beta1/runs/{id}"), None).await;
    assert_eq!(code, StatusCode::OK);
    let (code, body) = call(&server, "GET", &format!("/apis/v1beta1/runs/{id}"), None).await;
    assert_eq!(code, StatusCode::NOT_FOUND, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminate_stops_a_running_run() {
    let server = server().await;
    let id = submit(&server, "sleepy", SLEEPER).await;
    // Wait until the process runs, then terminate.
    for _ in 0..200 {
        let (_, body) = call(&server, "GET", &format!("/apis/v1beta1/runs/{id}"), None).await;
        if body["run"]["status"] == "Running" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let (code, body) = call(
        &server,
        "POST",
        &format!("/apis/v1beta1/runs/{id}/terminate"),
        None,
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let done = wait_finished(&server, &id).await;
    assert_eq!(done["run"]["status"], "Failed", "{done}");
    assert!(
        done["run"]["error"]
            .as_str()
            .unwrap_or_default()
            .contains("Stopped"),
        "{done}"
    );
    let (code, body) = call(
        &server,
        "POST",
        &format!("/apis/v1beta1/runs/{id}/terminate"),
        None,
    )
    .await;
    assert_eq!(code, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_runs_are_refused_and_nothing_is_stored() {
    let server = server().await;
    let cases = [
        (
            json!({"name": "x", "pipeline_spec": {"workflow_manifest": DIAMOND,
            "parameters": [{"name": "nope", "value": "1"}]}}),
            "unknown parameter 'nope'",
        ),
        (
            json!({"name": "x", "pipeline_spec": {"workflow_manifest": "kind: Workflow\nspec: {entrypoint: 5}"}}),
            "pipeline_spec.workflow_manifest",
        ),
        (json!({"name": "x", "pipeline_spec": {}}), "pipeline_spec"),
        (
            json!({"name": "", "pipeline_spec": {"workflow_manifest": DIAMOND}}),
            "run.name",
        ),
        (json!({"name": "x", "surprise": 1}), "surprise"),
    ];
    for (body, expected) in cases {
        let (code, answer) = call(&server, "POST", "/apis/v1beta1/runs", Some(body.clone())).await;
        assert_eq!(code, StatusCode::BAD_REQUEST, "{body} -> {answer}");
        let message = answer["error"].as_str().unwrap_or_default();
        assert!(message.contains(expected), "{body} -> {answer}");
    }
    let (code, body) = call(
        &server,
        "POST",
        "/apis/v1beta1/runs",
        Some(json!({"name": "x", "pipeline_spec": {"workflow_manifest": DIAMOND},
            "resource_references": [{"key": {"type": "EXPERIMENT", "id": "missing"}, "relationship": "OWNER"}]})),
    )
    .await;
    assert_eq!(code, StatusCode::NOT_FOUND, "{body}");
    let (code, list) = call(&server, "GET", "/apis/v1beta1/runs", None).await;
    assert_eq!(code, StatusCode::OK);
    assert!(list.get("runs").is_none(), "{list}");
    let (code, body) = call(&server, "GET", "/apis/v1beta1/runs?filter=%7Bnope", None).await;
    assert_eq!(code, StatusCode::BAD_REQUEST, "{body}");
}

/// A run stored as Running by a server that is gone, with this manifest.
async fn orphan(server: &Server, name: &str, manifest: &str) -> String {
    let store = &server.state.store;
    let experiment = store
        .default_experiment("")
        .await
        .expect("Default experiment");
    let run = store
        .create_run(&kfp_apiserver::store::NewRun {
            name: name.into(),
            description: String::new(),
            experiment_id: experiment.id.clone(),
            pipeline_id: None,
            pipeline_version_id: None,
            job_id: None,
            service_account: String::new(),
            parameters: json!([]),
            workflow_manifest: manifest.into(),
            backend: "local".into(),
            scheduled_at: None,
        })
        .await
        .expect("a run");
    store
        .update_run_status(
            &run.run.id,
            &kfp_apiserver::store::RunStatusUpdate {
                status: "Running".into(),
                ..Default::default()
            },
        )
        .await
        .expect("status");
    run.run.id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_left_in_flight_are_resumed_or_failed_with_a_reason_on_start() {
    let server = server().await;
    let named: Value = serde_json::from_str(DIAMOND).expect("JSON");
    let mut named = named;
    named["metadata"] = json!({"name": "diamond-orphan"});
    let resumable = orphan(&server, "resumable", &named.to_string()).await;
    let broken = orphan(&server, "broken", "{\"kind\": \"Workflow\"").await;

    let reconciled = kfp_apiserver::server::reconcile(&server.state)
        .await
        .expect("reconcile");
    assert_eq!(reconciled.resumed, 1);
    assert_eq!(reconciled.failed, 1);

    let after = server.state.store.get_run(&broken).await.expect("the run");
    assert_eq!(after.run.status, "Failed");
    assert!(
        after.run.error.contains("server stopped") && after.run.error.contains("unreadable"),
        "{}",
        after.run.error
    );
    assert!(after.run.finished_at > 0);

    let done = wait_finished(&server, &resumable).await;
    assert_eq!(done["run"]["status"], "Succeeded", "{done}");
}

const PRODUCER: &str = r#"{"apiVersion":"argoproj.io/v1alpha1","kind":"Workflow",
 "metadata":{"generateName":"producer-"},
 "spec":{"entrypoint":"main","templates":[
   {"name":"main","container":{"image":"alpine","command":["sh","-c","echo 0.93 > /tmp/acc"]},
    "outputs":{"artifacts":[{"name":"acc","path":"/tmp/acc"}]}}]}}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_reported_once_and_artifacts_read_back() {
    let server = server().await;
    let id = submit(&server, "metrics", PRODUCER).await;
    let done = wait_finished(&server, &id).await;
    assert_eq!(done["run"]["status"], "Succeeded", "{done}");
    let manifest: Value = serde_json::from_str(
        done["pipeline_runtime"]["workflow_manifest"]
            .as_str()
            .expect("a manifest"),
    )
    .expect("JSON");
    let node_id = manifest["status"]["nodes"]
        .as_object()
        .and_then(|nodes| nodes.keys().next().cloned())
        .expect("a node");

    let report = json!({"metrics": [
        {"name": "accuracy", "node_id": node_id, "number_value": 0.93, "format": "PERCENTAGE"},
        {"name": "accuracy", "node_id": node_id, "number_value": 0.5},
        {"name": "9lives", "node_id": node_id, "number_value": 1.0},
    ]});
    let (code, answer) = call(
        &server,
        "POST",
        &format!("/apis/v1beta1/runs/{id}:reportMetrics"),
        Some(report),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{answer}");
    let statuses: Vec<&str> = answer["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|r| r["status"].as_str())
        .collect();
    assert!(statuses.contains(&"INVALID_ARGUMENT"), "{answer}");
    assert!(statuses.contains(&"OK"), "{answer}");
    assert!(statuses.contains(&"DUPLICATE_REPORTING"), "{answer}");
    let (_, run) = call(&server, "GET", &format!("/apis/v1beta1/runs/{id}"), None).await;
    assert_eq!(run["run"]["metrics"][0]["name"], "accuracy", "{run}");
    assert_eq!(run["run"]["metrics"][0]["number_value"], 0.93, "{run}");
    assert_eq!(run["run"]["metrics"][0]["format"], "PERCENTAGE", "{run}");

    let (code, artifact) = call(
        &server,
        "GET",
        &format!("/apis/v1beta1/runs/{id}/nodes/{node_id}/artifacts/acc:read"),
        None,
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{artifact}");
    let data = artifact["data"].as_str().expect("base64 data");
    assert!(data.starts_with("H4sI"), "a gzip stream, base64: {data}");
    let (code, _) = call(
        &server,
        "GET",
        &format!("/apis/v1beta1/runs/{id}/nodes/{node_id}/artifacts/nope:read"),
        None,
    )
    .await;
    assert_eq!(code, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_run_is_retried_and_only_finished_failures_can_be() {
    let server = server().await;
    let flag = server.dir.path().join("second-time");
    let count = server.dir.path().join("first-step-runs");
    // `first` succeeds and counts its runs; `flaky` fails the first time (and leaves a
    // flag), succeeds the second.
    let flaky = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
        "metadata": {"generateName": "flaky-"},
        "spec": {"entrypoint": "main", "templates": [
            {"name": "main", "dag": {"tasks": [
                {"name": "first", "template": "count"},
                {"name": "then", "template": "flaky", "dependencies": ["first"]}]}},
            {"name": "count", "container": {"image": "alpine", "command": ["sh", "-c",
                format!("echo ran >> {}", count.display())]}},
            {"name": "flaky", "container": {"image": "alpine", "command": ["sh", "-c",
                format!("test -f {0} || {{ touch {0}; exit 3; }}", flag.display())]}}]}})
    .to_string();
    let id = submit(&server, "flaky", &flaky).await;
    let first = wait_finished(&server, &id).await;
    assert_eq!(first["run"]["status"], "Failed", "{first}");
    let (code, body) = call(
        &server,
        "POST",
        &format!("/apis/v1beta1/runs/{id}/retry"),
        None,
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let second = wait_finished(&server, &id).await;
    assert_eq!(second["run"]["status"], "Succeeded", "{second}");
    assert_eq!(second["run"]["name"], "flaky");
    // Only what failed ran again, under the same workflow (node IDs and logs stay valid).
    let runs_of_first = std::fs::read_to_string(&count).expect("the count");
    assert_eq!(
        runs_of_first.lines().count(),
        1,
        "the succeeded step ran again"
    );
    let (before, after) = (workflow_of(&first), workflow_of(&second));
    assert_eq!(before["metadata"]["name"], after["metadata"]["name"]);
    let first_node = |wf: &Value| -> Value {
        wf["status"]["nodes"]
            .as_object()
            .and_then(|nodes| nodes.values().find(|n| n["displayName"] == "first"))
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(first_node(&before)["phase"], "Succeeded");
    assert_eq!(
        first_node(&before)["startedAt"],
        first_node(&after)["startedAt"],
        "the kept step keeps its times"
    );
    let (code, body) = call(
        &server,
        "POST",
        &format!("/apis/v1beta1/runs/{id}/retry"),
        None,
    )
    .await;
    assert_eq!(
        code,
        StatusCode::BAD_REQUEST,
        "a Succeeded run is not retried: {body}"
    );
}

/// Deleting a run deletes its logs, outputs and artifacts too: at once for a finished run,
/// once its processes are gone for a running one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_run_deletes_its_files() {
    let server = server().await;
    let id = submit(&server, "producer", PRODUCER).await;
    let done = wait_finished(&server, &id).await;
    assert_eq!(done["run"]["status"], "Succeeded", "{done}");
    let workflow: Value = workflow_of(&done);
    let name = workflow["metadata"]["name"]
        .as_str()
        .expect("a name")
        .to_owned();
    let before = files_named(server.dir.path(), &name);
    assert!(
        before.len() >= 2,
        "the run dir and the artifacts: {before:?}"
    );
    let (code, body) = call(&server, "DELETE", &format!("/apis/v1beta1/runs/{id}"), None).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert_eq!(
        files_named(server.dir.path(), &name),
        Vec::<std::path::PathBuf>::new()
    );

    // A running one: stopped, then its files go.
    let id = submit(&server, "sleepy", SLEEPER).await;
    let (_, detail) = call(&server, "GET", &format!("/apis/v1beta1/runs/{id}"), None).await;
    let workflow: Value = workflow_of(&detail);
    let name = workflow["metadata"]["name"]
        .as_str()
        .expect("a name")
        .to_owned();
    for _ in 0..200 {
        if !files_named(server.dir.path(), &name).is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(
        !files_named(server.dir.path(), &name).is_empty(),
        "it never started"
    );
    let (code, body) = call(&server, "DELETE", &format!("/apis/v1beta1/runs/{id}"), None).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let mut left = files_named(server.dir.path(), &name);
    for _ in 0..400 {
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
        left = files_named(server.dir.path(), &name);
    }
    assert!(
        left.is_empty(),
        "files of the deleted running run stayed: {left:?}"
    );
}
