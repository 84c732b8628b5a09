//! Bad input across the whole API: each kind of mistake gets the right 4xx with a message
//! naming the field at fault, and nothing is written. A property test throws arbitrary
//! requests at the router: no answer is a 5xx and nothing panics.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::app::{Server, call, send, server};
use proptest::prelude::*;
use serde_json::{Value, json};

/// Every route that takes a JSON body, with a minimal valid-looking body.
const JSON_ROUTES: [&str; 4] = [
    "/apis/v1beta1/experiments",
    "/apis/v1beta1/runs",
    "/apis/v1beta1/jobs",
    "/apis/v1beta1/pipelines",
];

const LIST_ROUTES: [&str; 4] = [
    "/apis/v1beta1/experiments",
    "/apis/v1beta1/runs",
    "/apis/v1beta1/jobs",
    "/apis/v1beta1/pipelines",
];

fn message(answer: &Value) -> &str {
    answer["error"].as_str().unwrap_or_default()
}

async fn post_raw(server: &Server, uri: &str, body: &str) -> (StatusCode, Value) {
    let request = Request::builder()
        .method("POST")
        .uri(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_owned()))
        .expect("a request");
    send(server, request).await
}

/// Nothing was stored: every list is empty.
async fn assert_nothing_stored(server: &Server) {
    for uri in LIST_ROUTES {
        let (status, page) = call(server, "GET", uri, None).await;
        assert_eq!(status, StatusCode::OK, "{uri}: {page}");
        assert_eq!(page, json!({}), "{uri} holds something after bad input");
    }
}

#[tokio::test]
async fn malformed_json_is_400_saying_where() {
    let server = server().await;
    for uri in JSON_ROUTES {
        let (status, answer) = post_raw(&server, uri, r#"{"name": "x", "#).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {answer}");
        assert!(
            message(&answer).contains("line 1 column"),
            "{uri}: {answer}"
        );
        let (status, answer) = post_raw(&server, uri, "[1, 2]").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {answer}");
        let (status, answer) = post_raw(&server, uri, r#"{"name": 5}"#).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {answer}");
        assert!(message(&answer).contains("name"), "{uri}: {answer}");
    }
    // Not JSON at all, or no content type: still KFP's 400, not axum's 415.
    let request = Request::builder()
        .method("POST")
        .uri("/apis/v1beta1/experiments")
        .body(Body::from("name=x"))
        .expect("a request");
    let (status, answer) = send(&server, request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(message(&answer).contains("Content-Type"), "{answer}");
    assert_nothing_stored(&server).await;
}

#[tokio::test]
async fn unknown_fields_are_400_naming_them_at_any_depth() {
    let server = server().await;
    let cases = [
        (
            "/apis/v1beta1/experiments",
            json!({"name": "x", "colour": 1}),
            "colour",
        ),
        (
            "/apis/v1beta1/runs",
            json!({"name": "x", "pipeline_spec": {"workflow_manifest": "{}", "extra": 1}}),
            "extra",
        ),
        (
            "/apis/v1beta1/runs",
            json!({"name": "x", "resource_references": [{"key": {"type": "EXPERIMENT", "id": "e", "kind": 1}}]}),
            "kind",
        ),
        (
            "/apis/v1beta1/jobs",
            json!({"name": "x", "trigger": {"cron_schedule": {"cron": "* * * * *", "tz": "UTC"}}}),
            "tz",
        ),
    ];
    for (uri, body, field) in cases {
        let (status, answer) = call(&server, "POST", uri, Some(body.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert!(message(&answer).contains(field), "{body}: {answer}");
    }
    assert_nothing_stored(&server).await;
}

#[tokio::test]
async fn bad_enum_values_are_400_listing_the_valid_ones() {
    let server = server().await;
    let cases = [
        (
            "/apis/v1beta1/experiments",
            json!({"name": "x", "storage_state": "SHINY"}),
            "STORAGESTATE_ARCHIVED",
        ),
        (
            "/apis/v1beta1/runs",
            json!({"name": "x", "resource_references": [{"key": {"type": "BANANA", "id": "e"}}]}),
            "EXPERIMENT",
        ),
        (
            "/apis/v1beta1/runs",
            json!({"name": "x", "resource_references": [{"key": {"type": 42, "id": "e"}}]}),
            "number 42",
        ),
        (
            "/apis/v1beta1/jobs",
            json!({"name": "x", "mode": "SOMETIMES"}),
            "ENABLED",
        ),
    ];
    for (uri, body, expected) in cases {
        let (status, answer) = call(&server, "POST", uri, Some(body.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert!(message(&answer).contains(expected), "{body}: {answer}");
    }
    // In a query parameter too.
    let (status, answer) = call(
        &server,
        "GET",
        "/apis/v1beta1/runs?resource_reference_key.type=BANANA&resource_reference_key.id=x",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(
        message(&answer).contains("resource_reference_key.type"),
        "{answer}"
    );
    assert_nothing_stored(&server).await;
}

#[tokio::test]
async fn bad_paging_parameters_are_400_naming_them() {
    let server = server().await;
    for uri in LIST_ROUTES {
        for (query, field) in [
            ("page_token=not-a-token", "page_token"),
            ("page_token=eyJ4IjoxfQ", "page_token"),
            ("filter=%7Bnope", "filter"),
            (
                "filter=%7B%22predicates%22%3A%5B%7B%22key%22%3A%22colour%22%2C%22op%22%3A%22EQUALS%22%2C%22string_value%22%3A%22x%22%7D%5D%7D",
                "colour",
            ),
            ("page_size=-1", "page_size"),
            ("page_size=lots", "page_size"),
            ("sort_by=colour", "colour"),
        ] {
            let (status, answer) = call(&server, "GET", &format!("{uri}?{query}"), None).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}?{query}: {answer}");
            assert!(message(&answer).contains(field), "{uri}?{query}: {answer}");
        }
    }
}

#[tokio::test]
async fn unknown_ids_are_404_naming_the_id() {
    let server = server().await;
    for (method, uri) in [
        ("GET", "/apis/v1beta1/runs/ghost-id"),
        ("DELETE", "/apis/v1beta1/runs/ghost-id"),
        ("POST", "/apis/v1beta1/runs/ghost-id:archive"),
        ("POST", "/apis/v1beta1/runs/ghost-id/terminate"),
        ("POST", "/apis/v1beta1/runs/ghost-id/retry"),
        (
            "GET",
            "/apis/v1beta1/runs/ghost-id/nodes/n/artifacts/a:read",
        ),
        ("GET", "/apis/v1alpha1/runs/ghost-id/nodes/n/log"),
        ("GET", "/apis/v1beta1/experiments/ghost-id"),
        ("POST", "/apis/v1beta1/experiments/ghost-id:archive"),
        ("DELETE", "/apis/v1beta1/experiments/ghost-id"),
        ("GET", "/apis/v1beta1/pipelines/ghost-id"),
        ("GET", "/apis/v1beta1/pipelines/ghost-id/templates"),
        ("DELETE", "/apis/v1beta1/pipelines/ghost-id"),
        ("GET", "/apis/v1beta1/pipeline_versions/ghost-id"),
        ("DELETE", "/apis/v1beta1/pipeline_versions/ghost-id"),
        ("GET", "/apis/v1beta1/jobs/ghost-id"),
        ("POST", "/apis/v1beta1/jobs/ghost-id/enable"),
        ("POST", "/apis/v1beta1/jobs/ghost-id/disable"),
        ("DELETE", "/apis/v1beta1/jobs/ghost-id"),
    ] {
        let (status, answer) = call(&server, method, uri, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {uri}: {answer}");
        assert!(
            message(&answer).contains("ghost-id"),
            "{method} {uri}: {answer}"
        );
        assert_eq!(answer["code"], 5, "{method} {uri}: {answer}");
    }
}

#[tokio::test]
async fn invalid_schedules_are_400_naming_the_field() {
    let server = server().await;
    let manifest = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
        "metadata": {"generateName": "x-"},
        "spec": {"entrypoint": "main", "templates": [
            {"name": "main", "container": {"image": "alpine", "command": ["true"]}}]}})
    .to_string();
    for (trigger, field) in [
        (json!({"cron_schedule": {"cron": "61 * * * *"}}), "cron"),
        (json!({"cron_schedule": {"cron": "every day"}}), "cron"),
        (
            json!({"cron_schedule": {"cron": "* * * * * * * *"}}),
            "cron",
        ),
        (
            json!({"periodic_schedule": {"interval_second": "0"}}),
            "interval_second",
        ),
        (
            json!({"periodic_schedule": {"interval_second": "soon"}}),
            "interval_second",
        ),
        (
            json!({"cron_schedule": {"cron": "0 * * * *", "start_time": "yesterday"}}),
            "start_time",
        ),
    ] {
        let body = json!({"name": "j", "max_concurrency": "1", "enabled": true,
            "pipeline_spec": {"workflow_manifest": manifest}, "trigger": trigger});
        let (status, answer) = call(&server, "POST", "/apis/v1beta1/jobs", Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{trigger}: {answer}");
        assert!(message(&answer).contains(field), "{trigger}: {answer}");
    }
    assert_nothing_stored(&server).await;
}

/// A JSON body over the limit is 413, as an oversized upload is.
#[tokio::test]
async fn oversized_json_body_is_413() {
    let server = server().await;
    let big = json!({"name": "x", "description": "d".repeat(3 << 20)}).to_string();
    let (status, answer) = post_raw(&server, "/apis/v1beta1/experiments", &big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{answer}");
    assert_nothing_stored(&server).await;
}

fn arbitrary_request() -> impl Strategy<Value = (String, String, String)> {
    let method = prop::sample::select(vec!["GET", "POST", "DELETE", "PUT"]);
    let prefix = prop::sample::select(vec![
        "/apis/v1beta1/runs",
        "/apis/v1beta1/experiments",
        "/apis/v1beta1/pipelines",
        "/apis/v1beta1/pipeline_versions",
        "/apis/v1beta1/jobs",
        "/apis/v1alpha1/runs",
    ]);
    let tail =
        "(/[a-zA-Z0-9:%._~-]{0,12}){0,4}(\\?[a-z_.]{1,12}=[a-zA-Z0-9%{}\":,\\[\\]]{0,30}){0,1}";
    let body = prop_oneof![
        Just(String::new()),
        "\\PC{0,60}",
        Just(r#"{"name":"x","pipeline_spec":{"workflow_manifest":"{}"}}"#.to_owned()),
        Just(r#"{"name":"x","trigger":{"cron_schedule":{"cron":"* * *"}}}"#.to_owned()),
    ];
    (method, prefix, tail, body).prop_map(|(m, p, t, b)| (m.to_owned(), format!("{p}{t}"), b))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Whatever arrives, the server answers without a 5xx and without panicking.
    #[test]
    fn no_request_makes_the_server_fail((method, uri, body) in arbitrary_request()) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let (status, answer) = runtime.block_on(async {
            let server = server().await;
            let Ok(request) = Request::builder()
                .method(method.as_str())
                .uri(uri.as_str())
                .header("content-type", "application/json")
                .body(Body::from(body.clone()))
            else {
                // Not a URI hyper would accept: nothing to send.
                return (StatusCode::OK, Value::Null);
            };
            send(&server, request).await
        });
        prop_assert!(!status.is_server_error(), "{method} {uri} {body:?} -> {status} {answer}");
    }
}
