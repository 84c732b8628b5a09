//! Experiments through the v1beta1 REST API, in-process over a temp SQLite store: create,
//! get, list (paging, filters incl. storage_state), archive/unarchive, delete, bad input.

mod common;

use axum::http::StatusCode;
use common::app::{Server, call, files_named, ticking_server as server};
use serde_json::{Value, json};

fn str_of<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string at {pointer} in {value}"))
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn create(server: &Server, name: &str) -> String {
    let (status, e) = call(
        server,
        "POST",
        "/apis/v1beta1/experiments",
        Some(json!({"name": name, "description": format!("about {name}")})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{e}");
    str_of(&e, "/id").to_string()
}

async fn names(server: &Server, query: &str) -> Vec<String> {
    let (status, page) = call(
        server,
        "GET",
        &format!("/apis/v1beta1/experiments?{query}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page.get("experiments")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|e| str_of(e, "/name").to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn create_get_and_duplicate() {
    let server = server().await;
    let (status, e) = call(
        &server,
        "POST",
        "/apis/v1beta1/experiments",
        Some(json!({"name": "exp one", "description": "first"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{e}");
    assert_eq!(e["name"], "exp one");
    assert_eq!(e["description"], "first");
    assert_eq!(e["storage_state"], "STORAGESTATE_AVAILABLE");
    let created = str_of(&e, "/created_at");
    assert_eq!(created, "2023-11-14T22:13:20Z");
    let id = str_of(&e, "/id");

    let (status, got) = call(
        &server,
        "GET",
        &format!("/apis/v1beta1/experiments/{id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_eq!(got, e);

    let (status, err) = call(
        &server,
        "POST",
        "/apis/v1beta1/experiments",
        Some(json!({"name": "exp one"})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");
    assert!(str_of(&err, "/message").contains("exp one"), "{err}");
    assert_eq!(err["code"], 6);
}

#[tokio::test]
async fn bad_create_requests_are_400() {
    let server = server().await;
    for body in [
        json!({}),
        json!({"name": "  "}),
        json!({"description": "no name"}),
    ] {
        let (status, err) = call(
            &server,
            "POST",
            "/apis/v1beta1/experiments",
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {err}");
        assert!(str_of(&err, "/message").contains("name"), "{err}");
    }
    let (status, err) = call(
        &server,
        "POST",
        "/apis/v1beta1/experiments",
        Some(json!({"name": "x", "colour": "red"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert!(str_of(&err, "/message").contains("colour"), "{err}");
    assert!(err["error"].is_string(), "{err}");

    let (status, err) = call(
        &server,
        "POST",
        "/apis/v1beta1/experiments",
        Some(json!({"name": "x", "resource_references": [{"key": {"type": "PIPELINE", "id": "p"}, "relationship": "OWNER"}]})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert!(names(&server, "").await.is_empty());
}

#[tokio::test]
async fn unknown_ids_are_404() {
    let server = server().await;
    let cases = [
        ("GET", "/apis/v1beta1/experiments/nosuch"),
        ("DELETE", "/apis/v1beta1/experiments/nosuch"),
        ("POST", "/apis/v1beta1/experiments/nosuch:archive"),
        ("POST", "/apis/v1beta1/experiments/nosuch:unarchive"),
    ];
    for (method, uri) in cases {
        let (status, err) = call(&server, method, uri, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {uri}: {err}");
        assert!(str_of(&err, "/message").contains("nosuch"), "{err}");
        assert_eq!(err["code"], 5);
    }
    let id = create(&server, "e").await;
    let (status, err) = call(
        &server,
        "POST",
        &format!("/apis/v1beta1/experiments/{id}:explode"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    let (status, err) = call(
        &server,
        "POST",
        &format!("/apis/v1beta1/experiments/{id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
}

#[tokio::test]
async fn list_pages_sorts_and_filters() {
    let server = server().await;
    for name in ["a", "b", "c", "d", "e"] {
        create(&server, name).await;
    }
    assert_eq!(names(&server, "").await, ["a", "b", "c", "d", "e"]);
    assert_eq!(
        names(&server, "sort_by=name%20desc").await,
        ["e", "d", "c", "b", "a"]
    );

    // Two per page, chaining the token (alone, as kfp does).
    let mut seen = Vec::new();
    let mut uri = "/apis/v1beta1/experiments?page_size=2".to_string();
    loop {
        let (status, page) = call(&server, "GET", &uri, None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(page["total_size"], 5);
        for e in page["experiments"].as_array().expect("experiments") {
            seen.push(str_of(e, "/name").to_string());
        }
        match page.get("next_page_token").and_then(Value::as_str) {
            Some(token) => {
                uri = format!("/apis/v1beta1/experiments?page_size=2&page_token={token}")
            }
            None => break,
        }
    }
    assert_eq!(seen, ["a", "b", "c", "d", "e"]);

    // kfp 1.8 get_experiment(experiment_name=...): camelCase with a numeric op.
    let filter = percent_encode(r#"{"predicates":[{"key":"name","op":1,"stringValue":"c"}]}"#);
    assert_eq!(names(&server, &format!("filter={filter}")).await, ["c"]);
    let filter = percent_encode(
        r#"{"predicates":[{"key":"name","op":"IN","string_values":{"values":["b","d"]}}]}"#,
    );
    assert_eq!(
        names(&server, &format!("filter={filter}")).await,
        ["b", "d"]
    );

    // Unknown filter key: 400 naming it.
    let filter = percent_encode(r#"{"predicates":[{"key":"colour","op":1,"stringValue":"c"}]}"#);
    let (status, err) = call(
        &server,
        "GET",
        &format!("/apis/v1beta1/experiments?filter={filter}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert!(str_of(&err, "/message").contains("colour"), "{err}");

    // A NAMESPACE key scopes; single-user experiments live in ''.
    assert!(
        names(
            &server,
            "resource_reference_key.type=NAMESPACE&resource_reference_key.id=team"
        )
        .await
        .is_empty()
    );
    let (status, _) = call(
        &server,
        "GET",
        "/apis/v1beta1/experiments?resource_reference_key.type=BOGUS",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn archive_unarchive_and_storage_state_filter() {
    let server = server().await;
    let keep = create(&server, "keep").await;
    let old = create(&server, "old").await;

    let (status, body) = call(
        &server,
        "POST",
        &format!("/apis/v1beta1/experiments/{old}:archive"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({}));
    let (_, got) = call(
        &server,
        "GET",
        &format!("/apis/v1beta1/experiments/{old}"),
        None,
    )
    .await;
    assert_eq!(got["storage_state"], "STORAGESTATE_ARCHIVED");

    // The UI's active/archived tabs.
    let active = percent_encode(
        r#"{"predicates":[{"key":"storage_state","op":"NOT_EQUALS","string_value":"STORAGESTATE_ARCHIVED"}]}"#,
    );
    let archived = percent_encode(
        r#"{"predicates":[{"key":"storage_state","op":"EQUALS","string_value":"STORAGESTATE_ARCHIVED"}]}"#,
    );
    assert_eq!(names(&server, &format!("filter={active}")).await, ["keep"]);
    assert_eq!(names(&server, &format!("filter={archived}")).await, ["old"]);

    let (status, _) = call(
        &server,
        "POST",
        &format!("/apis/v1beta1/experiments/{old}:unarchive"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, got) = call(
        &server,
        "GET",
        &format!("/apis/v1beta1/experiments/{old}"),
        None,
    )
    .await;
    assert_eq!(got["storage_state"], "STORAGESTATE_AVAILABLE");
    assert_eq!(
        names(&server, &format!("filter={active}")).await,
        ["keep", "old"]
    );
    assert!(
        names(&server, &format!("filter={archived}"))
            .await
            .is_empty()
    );

    // Delete.
    let (status, body) = call(
        &server,
        "DELETE",
        &format!("/apis/v1beta1/experiments/{keep}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({}));
    let (status, _) = call(
        &server,
        "GET",
        &format!("/apis/v1beta1/experiments/{keep}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(names(&server, "").await, ["old"]);
}

#[tokio::test]
async fn empty_list_is_an_empty_object() {
    let server = server().await;
    let (status, page) = call(&server, "GET", "/apis/v1beta1/experiments", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page, json!({}));
}

/// Start a one-step run of `command` in `experiment`; its ID and workflow name.
async fn run_in(
    server: &Server,
    experiment: &str,
    name: &str,
    command: &[&str],
) -> (String, String) {
    let manifest = json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
        "metadata": {"generateName": format!("{name}-")},
        "spec": {"entrypoint": "main", "templates": [
            {"name": "main", "container": {"image": "alpine", "command": command}}]}
    });
    let (status, body) = call(
        server,
        "POST",
        "/apis/v1beta1/runs",
        Some(json!({
            "name": name,
            "pipeline_spec": {"workflow_manifest": manifest.to_string()},
            "resource_references": [{"key": {"type": "EXPERIMENT", "id": experiment},
                                     "relationship": "OWNER"}],
        })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let workflow: Value =
        serde_json::from_str(str_of(&body, "/pipeline_runtime/workflow_manifest"))
            .expect("the workflow");
    let workflow_name = workflow["metadata"]["name"].as_str().expect("a name");
    (
        str_of(&body, "/run/id").to_owned(),
        workflow_name.to_owned(),
    )
}

/// A run still executing when its experiment is deleted is stopped, not left running
/// with no row to report to.
#[tokio::test]
async fn deleting_an_experiment_stops_its_runs() {
    let server = server().await;
    let experiment = create(&server, "doomed").await;
    let marks = tempfile::tempdir().expect("temp dir");
    let started = marks.path().join("started");
    let finished = marks.path().join("finished");
    let script = format!(
        "touch {}; sleep 3; touch {}",
        started.display(),
        finished.display()
    );
    let (run, running_name) = run_in(&server, &experiment, "slow", &["sh", "-c", &script]).await;
    // A finished run in the same experiment: its files go with it.
    let (quick_id, finished_name) = run_in(&server, &experiment, "quick", &["echo", "done"]).await;
    for _ in 0..400 {
        let (_, got) = call(
            &server,
            "GET",
            &format!("/apis/v1beta1/runs/{quick_id}"),
            None,
        )
        .await;
        if got["run"]["status"] == "Succeeded" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(!files_named(server.dir.path(), &finished_name).is_empty());
    for _ in 0..200 {
        if started.exists() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(started.exists(), "the run never started");

    let (status, body) = call(
        &server,
        "DELETE",
        &format!("/apis/v1beta1/experiments/{experiment}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = call(&server, "GET", &format!("/apis/v1beta1/runs/{run}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Past the point where the step would have finished had it not been stopped.
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    assert!(
        !finished.exists(),
        "the run of the deleted experiment kept running"
    );
    // The files of both runs are gone: the finished one's at once, the stopped one's once
    // its processes ended.
    for name in [&finished_name, &running_name] {
        assert_eq!(
            files_named(server.dir.path(), name),
            Vec::<std::path::PathBuf>::new(),
            "files of {name} stayed"
        );
    }
}
