//! Jobs (recurring runs) through the REST API: create (inline manifest, pipeline, pipeline
//! version), get, list, enable, disable, delete, and what create refuses.
//!
//! The scheduler itself (`scheduler::tick` with chosen times) is tested in
//! `src/server/scheduler.rs`, where `tick` is reachable.

mod common;

use axum::http::StatusCode;
use common::app::{Server, call, server};
use kfp_apiserver::store::{NewPipeline, NewVersion};
use serde_json::{Value, json};

const ECHO: &str = r#"{"apiVersion":"argoproj.io/v1alpha1","kind":"Workflow",
 "metadata":{"generateName":"echo-"},
 "spec":{"entrypoint":"main","arguments":{"parameters":[{"name":"who","value":"world"}]},
  "templates":[{"name":"main","container":{"image":"alpine","command":["echo","hi"]}}]}}"#;

const ECHO_YAML: &str = "apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: echo-
spec:
  entrypoint: main
  arguments:
    parameters:
    - name: who
      value: world
  templates:
  - name: main
    container:
      image: alpine
      command: [echo, hi]
";

/// A valid create body with a cron trigger; tests change pieces of it.
fn job(name: &str, cron: &str) -> Value {
    json!({
        "name": name,
        "description": "every five minutes",
        "enabled": true,
        "pipeline_spec": {"workflow_manifest": ECHO,
                          "parameters": [{"name": "who", "value": "cron"}]},
        "trigger": {"cron_schedule": {"cron": cron}},
    })
}

async fn create(server: &Server, body: Value) -> Value {
    let (code, created) = call(server, "POST", "/apis/v1beta1/jobs", Some(body)).await;
    assert_eq!(code, StatusCode::OK, "{created}");
    created
}

/// POSTs the body and expects a 400 whose message contains `expected`.
async fn refused(server: &Server, body: Value, expected: &str) {
    let (code, error) = call(server, "POST", "/apis/v1beta1/jobs", Some(body.clone())).await;
    assert_eq!(code, StatusCode::BAD_REQUEST, "{body} → {error}");
    let message = error["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(expected),
        "{body}: expected '{expected}' in '{message}'"
    );
}

#[tokio::test]
async fn a_job_is_created_read_listed_paused_resumed_and_deleted() {
    let server = server().await;
    let created = create(&server, job("nightly", "0 */5 * * * *")).await;
    let id = created["id"].as_str().expect("an id").to_owned();
    assert_eq!(created["name"], "nightly");
    assert_eq!(created["description"], "every five minutes");
    assert_eq!(created["enabled"], true);
    assert_eq!(created["mode"], "ENABLED");
    assert_eq!(created["max_concurrency"], "1", "the default is 1");
    assert_eq!(created["trigger"]["cron_schedule"]["cron"], "0 */5 * * * *");
    assert_eq!(
        created["resource_references"][0]["key"]["type"],
        "EXPERIMENT"
    );
    assert_eq!(created["resource_references"][0]["relationship"], "OWNER");
    assert_eq!(
        created["pipeline_spec"]["parameters"],
        json!([{"name": "who", "value": "cron"}])
    );
    assert!(created["created_at"].is_string(), "{created}");

    let (code, got) = call(&server, "GET", &format!("/apis/v1beta1/jobs/{id}"), None).await;
    assert_eq!(code, StatusCode::OK, "{got}");
    assert_eq!(got["id"], id.as_str());
    assert!(
        got["pipeline_spec"]["workflow_manifest"]
            .as_str()
            .is_some_and(|m| m.contains("echo-")),
        "{got}"
    );

    let experiment = created["resource_references"][0]["key"]["id"]
        .as_str()
        .expect("the Default experiment")
        .to_owned();
    let (code, experiment_body) = call(
        &server,
        "GET",
        &format!("/apis/v1beta1/experiments/{experiment}"),
        None,
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(experiment_body["name"], "Default");

    create(&server, job("second", "*/5 * * * *")).await;
    let (code, list) = call(&server, "GET", "/apis/v1beta1/jobs?sort_by=name", None).await;
    assert_eq!(code, StatusCode::OK, "{list}");
    assert_eq!(list["total_size"], 2);
    assert_eq!(list["jobs"][0]["name"], "nightly");
    assert!(
        list["jobs"][0]["pipeline_spec"]["workflow_manifest"].is_null(),
        "lists carry no manifests: {list}"
    );
    let (code, page) = call(
        &server,
        "GET",
        "/apis/v1beta1/jobs?page_size=1&sort_by=name",
        None,
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(page["jobs"].as_array().map(Vec::len), Some(1));
    let token = page["next_page_token"].as_str().expect("a next page");
    let (code, rest) = call(
        &server,
        "GET",
        &format!("/apis/v1beta1/jobs?page_size=1&sort_by=name&page_token={token}"),
        None,
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{rest}");
    assert_eq!(rest["jobs"][0]["name"], "second");
    let (code, scoped) = call(
        &server,
        "GET",
        &format!(
            "/apis/v1beta1/jobs?resource_reference_key.type=EXPERIMENT&resource_reference_key.id={experiment}"
        ),
        None,
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(scoped["total_size"], 2);
    let (code, none) = call(
        &server,
        "GET",
        "/apis/v1beta1/jobs?resource_reference_key.type=EXPERIMENT&resource_reference_key.id=nope",
        None,
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(none, json!({}));
    let filter = r#"{"predicates":[{"key":"name","op":"EQUALS","string_value":"second"}]}"#;
    let (code, filtered) = call(
        &server,
        "GET",
        &format!(
            "/apis/v1beta1/jobs?filter={}",
            percent_encoding::utf8_percent_encode(filter, percent_encoding::NON_ALPHANUMERIC)
        ),
        None,
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{filtered}");
    assert_eq!(filtered["total_size"], 1);
    let (code, _) = call(
        &server,
        "GET",
        "/apis/v1beta1/jobs?resource_reference_key.type=PIPELINE&resource_reference_key.id=x",
        None,
    )
    .await;
    assert_eq!(code, StatusCode::BAD_REQUEST);

    let (code, body) = call(
        &server,
        "POST",
        &format!("/apis/v1beta1/jobs/{id}/disable"),
        None,
    )
    .await;
    assert_eq!((code, body), (StatusCode::OK, json!({})));
    let (_, got) = call(&server, "GET", &format!("/apis/v1beta1/jobs/{id}"), None).await;
    assert!(got["enabled"].is_null(), "false is omitted: {got}");
    assert_eq!(got["mode"], "DISABLED");
    let (code, body) = call(
        &server,
        "POST",
        &format!("/apis/v1beta1/jobs/{id}/enable"),
        None,
    )
    .await;
    assert_eq!((code, body), (StatusCode::OK, json!({})));
    let (_, got) = call(&server, "GET", &format!("/apis/v1beta1/jobs/{id}"), None).await;
    assert_eq!(got["enabled"], true);
    assert_eq!(got["mode"], "ENABLED");

    let (code, body) = call(&server, "DELETE", &format!("/apis/v1beta1/jobs/{id}"), None).await;
    assert_eq!((code, body), (StatusCode::OK, json!({})));
    for (method, uri) in [
        ("GET", format!("/apis/v1beta1/jobs/{id}")),
        ("DELETE", format!("/apis/v1beta1/jobs/{id}")),
        ("POST", format!("/apis/v1beta1/jobs/{id}/enable")),
        ("POST", format!("/apis/v1beta1/jobs/{id}/disable")),
    ] {
        let (code, body) = call(&server, method, &uri, None).await;
        assert_eq!(code, StatusCode::NOT_FOUND, "{method} {uri}: {body}");
    }
}

#[tokio::test]
async fn a_periodic_job_keeps_its_window_and_settings() {
    let server = server().await;
    let (code, experiment) = call(
        &server,
        "POST",
        "/apis/v1beta1/experiments",
        Some(json!({"name": "nightly runs"})),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{experiment}");
    let experiment_id = experiment["id"].as_str().expect("an id");
    let created = create(
        &server,
        json!({
            "name": "hourly",
            "maxConcurrency": "3",
            "noCatchup": true,
            "mode": "DISABLED",
            "service_account": "runner",
            "resource_references": [{"key": {"type": "EXPERIMENT", "id": experiment_id},
                                     "relationship": "OWNER"}],
            "pipeline_spec": {"workflow_manifest": ECHO_YAML},
            "trigger": {"periodic_schedule": {"start_time": "2090-01-01T00:00:00Z",
                                              "end_time": "2090-02-01T00:00:00Z",
                                              "interval_second": "3600"}},
        }),
    )
    .await;
    assert_eq!(created["max_concurrency"], "3");
    assert_eq!(created["no_catchup"], true);
    assert_eq!(created["mode"], "DISABLED");
    assert!(created["enabled"].is_null(), "{created}");
    assert_eq!(created["service_account"], "runner");
    assert_eq!(
        created["resource_references"][0]["key"]["id"],
        experiment_id
    );
    assert_eq!(
        created["trigger"],
        json!({"periodic_schedule": {"start_time": "2090-01-01T00:00:00Z",
                                     "end_time": "2090-02-01T00:00:00Z",
                                     "interval_second": "3600"}})
    );
}

#[tokio::test]
async fn a_job_can_run_a_stored_pipeline_or_version() {
    let server = server().await;
    let (pipeline, version) = server
        .state
        .store
        .create_pipeline(
            &NewPipeline {
                name: "echo".to_owned(),
                display_name: "echo".to_owned(),
                description: String::new(),
                namespace: String::new(),
            },
            Some(&NewVersion {
                name: "echo".to_owned(),
                description: String::new(),
                parameters: json!([{"name": "who", "value": "world"}]),
                code_source_url: String::new(),
                manifest: ECHO_YAML.to_owned(),
            }),
        )
        .await
        .expect("the pipeline is stored");
    let version = version.expect("a first version");

    let by_pipeline = create(
        &server,
        json!({"name": "by-pipeline", "enabled": true,
               "pipeline_spec": {"pipeline_id": pipeline.id,
                                 "parameters": [{"name": "who", "value": "p"}]},
               "trigger": {"periodic_schedule": {"interval_second": "60"}}}),
    )
    .await;
    assert_eq!(
        by_pipeline["pipeline_spec"]["pipeline_id"],
        pipeline.id.as_str()
    );
    assert_eq!(
        by_pipeline["resource_references"][1]["key"],
        json!({"type": "PIPELINE_VERSION", "id": version.id})
    );

    let by_version = create(
        &server,
        json!({"name": "by-version", "enabled": true,
               "resource_references": [{"key": {"type": "PIPELINE_VERSION", "id": version.id},
                                        "relationship": "CREATOR"}],
               "trigger": {"periodic_schedule": {"interval_second": "60"}}}),
    )
    .await;
    assert_eq!(
        by_version["pipeline_spec"]["pipeline_id"],
        pipeline.id.as_str()
    );

    let (code, _) = call(
        &server,
        "POST",
        "/apis/v1beta1/jobs",
        Some(
            json!({"name": "gone", "pipeline_spec": {"pipeline_id": "no-such-pipeline"},
                    "trigger": {"periodic_schedule": {"interval_second": "60"}}}),
        ),
    )
    .await;
    assert_eq!(code, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn five_six_and_seven_field_cron_and_shorthands_are_accepted() {
    let server = server().await;
    for cron in [
        "0 0 * * * *",
        "0 30 2 * * 1-5",
        "*/5 * * * *",
        "0 9 * * MON-FRI",
        "0 0 12 1 1 * 2095",
        "@daily",
        "@hourly",
    ] {
        let created = create(&server, job(cron, cron)).await;
        assert_eq!(created["trigger"]["cron_schedule"]["cron"], cron);
    }
}

#[tokio::test]
async fn invalid_jobs_are_refused_with_the_field_at_fault() {
    let server = server().await;
    refused(
        &server,
        job("bad", "not a cron"),
        "trigger.cron_schedule.cron: 'not a cron' has 3 field(s)",
    )
    .await;
    refused(
        &server,
        job("bad", "0 61 * * * *"),
        "trigger.cron_schedule.cron: '0 61 * * * *' is not a valid cron expression",
    )
    .await;
    refused(&server, job("bad", ""), "trigger").await;
    refused(
        &server,
        job("bad", "@every 5m"),
        "trigger.cron_schedule.cron:",
    )
    .await;
    refused(&server, job("  ", "0 0 * * * *"), "name").await;

    let mut both = job("both", "0 0 * * * *");
    both["trigger"]["periodic_schedule"] = json!({"interval_second": "60"});
    refused(&server, both, "not both").await;
    let mut none = job("none", "0 0 * * * *");
    none["trigger"] = json!({});
    refused(&server, none, "trigger").await;
    let mut missing = job("missing", "0 0 * * * *");
    if let Some(body) = missing.as_object_mut() {
        body.remove("trigger");
    }
    refused(&server, missing, "trigger").await;
    for interval in ["0", "-5"] {
        let mut zero = job("zero", "");
        zero["trigger"] = json!({"periodic_schedule": {"interval_second": interval}});
        refused(&server, zero, "trigger.periodic_schedule.interval_second").await;
    }
    for max in ["11", "-1"] {
        let mut many = job("many", "0 0 * * * *");
        many["max_concurrency"] = json!(max);
        refused(&server, many, "max_concurrency: must be between 1 and 10").await;
    }
    let mut reversed = job("reversed", "0 0 * * * *");
    reversed["trigger"]["cron_schedule"]["start_time"] = json!("2090-02-01T00:00:00Z");
    reversed["trigger"]["cron_schedule"]["end_time"] = json!("2090-01-01T00:00:00Z");
    refused(
        &server,
        reversed,
        "trigger.cron_schedule.end_time: must be after start_time",
    )
    .await;
    let mut unknown = job("unknown", "0 0 * * * *");
    unknown["pipeline_spec"]["parameters"] = json!([{"name": "whom", "value": "x"}]);
    refused(&server, unknown, "unknown parameter 'whom'").await;
    let mut no_pipeline = job("no-pipeline", "0 0 * * * *");
    no_pipeline["pipeline_spec"] = json!({});
    refused(&server, no_pipeline, "pipeline_spec").await;
    let mut broken = job("broken", "0 0 * * * *");
    broken["pipeline_spec"]["workflow_manifest"] = json!("kind: Workflow\nspec: [");
    refused(&server, broken, "workflow_manifest").await;
    let mut unknown_field = job("typo", "0 0 * * * *");
    unknown_field["cron"] = json!("0 0 * * * *");
    refused(&server, unknown_field, "").await;

    let mut lost = job("lost", "0 0 * * * *");
    lost["resource_references"] = json!([{"key": {"type": "EXPERIMENT", "id": "no-such-experiment"}, "relationship": "OWNER"}]);
    let (code, _) = call(&server, "POST", "/apis/v1beta1/jobs", Some(lost)).await;
    assert_eq!(code, StatusCode::NOT_FOUND);

    let (code, list) = call(&server, "GET", "/apis/v1beta1/jobs", None).await;
    assert_eq!(
        (code, list),
        (StatusCode::OK, json!({})),
        "nothing was stored"
    );
}

#[tokio::test]
async fn a_job_cannot_be_added_to_an_archived_experiment() {
    let server = server().await;
    let (_, experiment) = call(
        &server,
        "POST",
        "/apis/v1beta1/experiments",
        Some(json!({"name": "old"})),
    )
    .await;
    let id = experiment["id"].as_str().expect("an id");
    let (code, _) = call(
        &server,
        "POST",
        &format!("/apis/v1beta1/experiments/{id}:archive"),
        None,
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    let mut body = job("late", "0 0 * * * *");
    body["resource_references"] =
        json!([{"key": {"type": "EXPERIMENT", "id": id}, "relationship": "OWNER"}]);
    refused(&server, body, "archived").await;
}

/// A cron's timezone comes as robfig/cron's prefix (KFP's scheduler reads cron with that
/// library); it is kept, given back, and an unknown zone is refused naming the field.
#[tokio::test]
async fn a_cron_timezone_prefix_is_kept_and_checked() {
    let server = server().await;
    let created = create(&server, job("tokyo", "CRON_TZ=Asia/Tokyo 0 9 * * *")).await;
    assert_eq!(
        created["trigger"]["cron_schedule"]["cron"],
        "CRON_TZ=Asia/Tokyo 0 9 * * *"
    );
    let id = created["id"].as_str().expect("an id");
    let (code, got) = call(&server, "GET", &format!("/apis/v1beta1/jobs/{id}"), None).await;
    assert_eq!(code, StatusCode::OK, "{got}");
    assert_eq!(
        got["trigger"]["cron_schedule"]["cron"],
        "CRON_TZ=Asia/Tokyo 0 9 * * *"
    );
    let stored = server.state.store.get_job(id).await.expect("the job");
    assert_eq!(stored.timezone, "Asia/Tokyo");
    assert_eq!(stored.cron.as_deref(), Some("0 9 * * *"));

    let plain = create(&server, job("utc", "TZ=UTC 0 9 * * *")).await;
    assert_eq!(
        plain["trigger"]["cron_schedule"]["cron"],
        "CRON_TZ=UTC 0 9 * * *"
    );

    refused(
        &server,
        job("mars", "CRON_TZ=Mars/Olympus 0 9 * * *"),
        "trigger.cron_schedule.cron: unknown timezone 'Mars/Olympus'",
    )
    .await;
    refused(
        &server,
        job("bare", "CRON_TZ=Europe/Paris"),
        "trigger.cron_schedule.cron",
    )
    .await;
}
