//! JSON samples in the shapes kfp-server-api 1.8.5 sends and reads.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::*;

/// Parses `json` as `T` and checks it serializes back to exactly `json`.
fn round_trip<T: Serialize + DeserializeOwned>(json: Value) -> T {
    let parsed: T = serde_json::from_value(json.clone()).expect("sample parses");
    let out = serde_json::to_value(&parsed).expect("serializes");
    assert_eq!(out, json);
    parsed
}

fn ts(s: &str) -> DateTime<Utc> {
    crate::api::wire::parse_rfc3339(s).expect("timestamp")
}

#[test]
fn pipeline_with_default_version() {
    let p: ApiPipeline = round_trip(json!({
        "id": "p1",
        "created_at": "2024-01-02T03:04:05Z",
        "name": "hello",
        "description": "says hello",
        "parameters": [{"name": "who", "value": "world"}, {"name": "empty"}],
        "url": {"pipeline_url": "https://example.invalid/p.yaml"},
        "default_version": {
            "id": "v1",
            "name": "hello",
            "created_at": "2024-01-02T03:04:05.123Z",
            "parameters": [{"name": "who", "value": "world"}],
            "code_source_url": "https://example.invalid/src",
            "package_url": {"pipeline_url": "https://example.invalid/p.yaml"},
            "resource_references": [
                {"key": {"type": "PIPELINE", "id": "p1"}, "relationship": "OWNER"}
            ],
            "description": "first"
        }
    }));
    assert_eq!(p.created_at, Some(ts("2024-01-02T03:04:05Z")));
    let version = p.default_version.expect("default version");
    assert_eq!(
        version.resource_references,
        vec![ApiResourceReference::new(
            ApiResourceType::Pipeline,
            "p1",
            ApiRelationship::Owner
        )]
    );
}

#[test]
fn experiment_with_namespace_and_state() {
    let e: ApiExperiment = round_trip(json!({
        "id": "e1",
        "name": "Default",
        "description": "All runs created without specifying an experiment are grouped here.",
        "created_at": "2024-01-02T03:04:05Z",
        "resource_references": [
            {"key": {"type": "NAMESPACE", "id": "kubeflow-user"}, "relationship": "OWNER"}
        ],
        "storage_state": "STORAGESTATE_ARCHIVED"
    }));
    assert_eq!(e.storage_state, ApiExperimentStorageState::Archived);
    // The zero value (UNSPECIFIED) is omitted; AVAILABLE is not the zero value here.
    let available = ApiExperiment {
        storage_state: ApiExperimentStorageState::Available,
        ..ApiExperiment::default()
    };
    assert_eq!(
        serde_json::to_value(&available).expect("ser"),
        json!({"storage_state": "STORAGESTATE_AVAILABLE"})
    );
}

#[test]
fn run_detail_as_get_run_returns_it() {
    let d: ApiRunDetail = round_trip(json!({
        "run": {
            "id": "r1",
            "name": "hello run",
            "storage_state": "STORAGESTATE_ARCHIVED",
            "pipeline_spec": {
                "pipeline_id": "p1",
                "pipeline_name": "hello",
                "workflow_manifest": "{\"kind\":\"Workflow\"}",
                "parameters": [{"name": "who", "value": "world"}]
            },
            "resource_references": [
                {"key": {"type": "EXPERIMENT", "id": "e1"}, "name": "Default", "relationship": "OWNER"},
                {"key": {"type": "PIPELINE_VERSION", "id": "v1"}, "relationship": "CREATOR"}
            ],
            "service_account": "pipeline-runner",
            "created_at": "2024-01-02T03:04:05Z",
            "scheduled_at": "1970-01-01T00:00:00Z",
            "finished_at": "2024-01-02T03:09:05Z",
            "status": "Succeeded",
            "metrics": [
                {"name": "accuracy", "node_id": "n1", "number_value": 0.0, "format": "PERCENTAGE"},
                {"name": "loss", "node_id": "n1", "number_value": 1.5}
            ]
        },
        "pipeline_runtime": {"workflow_manifest": "{\"status\":{}}"}
    }));
    let run = d.run.expect("run");
    assert_eq!(run.scheduled_at, Some(ts("1970-01-01T00:00:00Z")));
    assert_eq!(run.metrics[0].number_value, Some(0.0));
    assert_eq!(run.metrics[1].format, RunMetricFormat::Unspecified);
}

#[test]
fn create_run_body_from_kfp_1_8() {
    // What kfp 1.8 `Client.run_pipeline` posts.
    let run: ApiRun = serde_json::from_value(json!({
        "name": "my run",
        "pipeline_spec": {
            "workflow_manifest": "{\"apiVersion\": \"argoproj.io/v1alpha1\"}",
            "parameters": [{"name": "a", "value": "1"}]
        },
        "resource_references": [
            {"key": {"id": "e1", "type": "EXPERIMENT"}, "relationship": "OWNER"}
        ],
        "service_account": "sa"
    }))
    .expect("kfp 1.8 body");
    assert_eq!(run.storage_state, ApiRunStorageState::Available);
    assert_eq!(run.created_at, None);
    assert_eq!(
        run.resource_references[0].relationship,
        ApiRelationship::Owner
    );
}

#[test]
fn enums_accept_numbers_and_print_names() {
    let r: ApiResourceReference = serde_json::from_value(json!({
        "key": {"type": 4, "id": "v1"},
        "relationship": 2
    }))
    .expect("numbers");
    assert_eq!(
        serde_json::to_value(&r).expect("ser"),
        json!({"key": {"type": "PIPELINE_VERSION", "id": "v1"}, "relationship": "CREATOR"})
    );
    let run: ApiRun = serde_json::from_value(json!({"storage_state": 1})).expect("state");
    assert_eq!(run.storage_state, ApiRunStorageState::Archived);
    let job: ApiJob = serde_json::from_value(json!({"mode": 2})).expect("mode");
    assert_eq!(job.mode, JobMode::Disabled);
    let err = serde_json::from_value::<ApiRun>(json!({"storage_state": 7})).expect_err("7");
    assert!(err.to_string().contains("ApiRunStorageState"), "{err}");
    let err =
        serde_json::from_value::<ApiResourceKey>(json!({"type": "EXPERIMENTS"})).expect_err("typo");
    assert!(err.to_string().contains("'EXPERIMENTS'"), "{err}");
}

#[test]
fn job_int64_fields_are_strings() {
    let job: ApiJob = round_trip(json!({
        "id": "j1",
        "name": "nightly",
        "pipeline_spec": {"pipeline_id": "p1"},
        "resource_references": [
            {"key": {"type": "EXPERIMENT", "id": "e1"}, "relationship": "OWNER"}
        ],
        "max_concurrency": "10",
        "trigger": {"cron_schedule": {"start_time": "2024-01-01T00:00:00Z", "cron": "0 0 * * * *"}},
        "mode": "ENABLED",
        "created_at": "2024-01-02T03:04:05Z",
        "updated_at": "2024-01-02T03:04:05Z",
        "status": "Enabled",
        "enabled": true,
        "no_catchup": true
    }));
    assert_eq!(job.max_concurrency, 10);
    // Numbers are accepted and go back out as strings.
    let periodic: ApiJob = serde_json::from_value(json!({
        "max_concurrency": 2,
        "trigger": {"periodic_schedule": {"interval_second": 3600}}
    }))
    .expect("numbers");
    assert_eq!(
        serde_json::to_value(&periodic).expect("ser"),
        json!({
            "max_concurrency": "2",
            "trigger": {"periodic_schedule": {"interval_second": "3600"}}
        })
    );
    assert!(serde_json::from_value::<ApiJob>(json!({"max_concurrency": "ten"})).is_err());
}

#[test]
fn runtime_config_values() {
    let spec: ApiPipelineSpec = round_trip(json!({
        "pipeline_id": "p1",
        "runtime_config": {
            "parameters": {
                "a": {"int_value": "9007199254740993"},
                "b": {"double_value": 0.0},
                "c": {"string_value": ""}
            },
            "pipeline_root": "minio://bucket/root"
        }
    }));
    let params = spec.runtime_config.expect("config").parameters;
    assert_eq!(params["a"].int_value, Some(9_007_199_254_740_993));
    assert_eq!(params["b"].double_value, Some(0.0));
    let v: ApiValue = serde_json::from_value(json!({"int_value": 3})).expect("number");
    assert_eq!(
        serde_json::to_value(&v).expect("ser"),
        json!({"int_value": "3"})
    );
}

#[test]
fn report_metrics_request_and_response() {
    let req: ApiReportRunMetricsRequest = round_trip(json!({
        "run_id": "r1",
        "metrics": [{"name": "acc", "node_id": "n1", "number_value": 0.9, "format": "RAW"}]
    }));
    assert_eq!(req.metrics[0].format, RunMetricFormat::Raw);
    let resp: ApiReportRunMetricsResponse = round_trip(json!({
        "results": [
            {"metric_name": "acc", "metric_node_id": "n1", "status": "OK"},
            {"metric_name": "acc", "metric_node_id": "n1", "status": "DUPLICATE_REPORTING",
             "message": "already reported"}
        ]
    }));
    assert_eq!(
        resp.results[1].status,
        ReportRunMetricStatus::DuplicateReporting
    );
    let numeric: ReportRunMetricResult =
        serde_json::from_value(json!({"status": 2})).expect("number");
    assert_eq!(numeric.status, ReportRunMetricStatus::InvalidArgument);
}

#[test]
fn list_responses() {
    let runs: ApiListRunsResponse = round_trip(json!({
        "runs": [{"id": "r1", "status": "Running"}],
        "total_size": 41,
        "next_page_token": "eyJpZCI6InIyIn0"
    }));
    assert_eq!(runs.total_size, 41);
    let _: ApiListPipelinesResponse =
        round_trip(json!({"pipelines": [{"id": "p1", "name": "a"}], "total_size": 1}));
    let _: ApiListPipelineVersionsResponse =
        round_trip(json!({"versions": [{"id": "v1"}], "total_size": 1}));
    let _: ApiListExperimentsResponse =
        round_trip(json!({"experiments": [{"id": "e1"}], "total_size": 1}));
    let _: ApiListJobsResponse = round_trip(json!({"jobs": [{"id": "j1"}], "total_size": 1}));
    // An empty page is `{}`: no list, no zero total, no token.
    let empty = [
        serde_json::to_value(ApiListRunsResponse::default()),
        serde_json::to_value(ApiListPipelinesResponse::default()),
        serde_json::to_value(ApiListPipelineVersionsResponse::default()),
        serde_json::to_value(ApiListExperimentsResponse::default()),
        serde_json::to_value(ApiListJobsResponse::default()),
    ];
    for v in empty {
        assert_eq!(v.expect("ser"), json!({}));
    }
}

#[test]
fn small_responses() {
    let _: ApiGetTemplateResponse = round_trip(json!({"template": "apiVersion: v1\n"}));
    let _: ApiGetHealthzResponse = round_trip(json!({"multi_user": true}));
    assert_eq!(
        serde_json::to_value(ApiGetHealthzResponse::default()).expect("ser"),
        json!({})
    );
    let artifact = ApiReadArtifactResponse::from_bytes(b"\x1f\x8b hi");
    let _: ApiReadArtifactResponse = round_trip(json!({"data": artifact.data}));
    assert_eq!(artifact.data, "H4sgaGk=");
    // Response types tolerate fields a newer server might add.
    let h: ApiGetHealthzResponse =
        serde_json::from_value(json!({"multi_user": false, "pipeline_store": "db"}))
            .expect("extra field");
    assert!(!h.multi_user);
}

#[test]
fn unset_fields_are_omitted() {
    assert_eq!(
        serde_json::to_string(&ApiRun::default()).expect("ser"),
        "{}"
    );
    assert_eq!(
        serde_json::to_string(&ApiJob::default()).expect("ser"),
        "{}"
    );
    assert_eq!(
        serde_json::to_string(&ApiPipeline::default()).expect("ser"),
        "{}"
    );
    assert_eq!(
        serde_json::to_string(&ApiRunMetric::default()).expect("ser"),
        "{}"
    );
    // AVAILABLE is the run enum's zero value, so KFP omits it too.
    let run = ApiRun {
        id: "r1".into(),
        storage_state: ApiRunStorageState::Available,
        ..ApiRun::default()
    };
    assert_eq!(
        serde_json::to_value(&run).expect("ser"),
        json!({"id": "r1"})
    );
}

#[test]
fn nulls_mean_unset() {
    let run: ApiRun = serde_json::from_value(json!({
        "created_at": null,
        "pipeline_spec": null,
        "storage_state": null
    }))
    .expect("nulls");
    assert_eq!(run, ApiRun::default());
}

#[test]
fn request_types_reject_unknown_fields() {
    let cases = [
        serde_json::from_value::<ApiRun>(json!({"name": "r", "colour": "red"})).err(),
        serde_json::from_value::<ApiRun>(json!({"pipeline_spec": {"pipeline": "p"}})).err(),
        serde_json::from_value::<ApiPipeline>(json!({"url": {"url": "x"}})).err(),
        serde_json::from_value::<ApiPipelineVersion>(json!({"pipeline_id": "p"})).err(),
        serde_json::from_value::<ApiExperiment>(json!({"namespace": "ns"})).err(),
        serde_json::from_value::<ApiJob>(json!({"trigger": {"cron": "* * * * * *"}})).err(),
        serde_json::from_value::<ApiReportRunMetricsRequest>(json!({"metrics": [{"value": 1}]}))
            .err(),
        serde_json::from_value::<ApiResourceReference>(json!({"key": {"kind": "JOB"}})).err(),
    ];
    for (i, err) in cases.into_iter().enumerate() {
        let err = err.unwrap_or_else(|| panic!("case {i} was accepted"));
        assert!(err.to_string().contains("unknown field"), "case {i}: {err}");
    }
}

#[test]
fn camel_case_names_are_accepted_like_protojson() {
    let run: ApiRun = serde_json::from_value(json!({
        "pipelineSpec": {"pipelineId": "p1", "workflowManifest": "{}"},
        "resourceReferences": [{"key": {"type": "EXPERIMENT", "id": "e1"}, "relationship": "OWNER"}],
        "serviceAccount": "sa",
        "createdAt": "2024-01-02T03:04:05Z"
    }))
    .expect("camelCase");
    let spec = run.pipeline_spec.expect("spec");
    assert_eq!(spec.pipeline_id, "p1");
    assert_eq!(run.service_account, "sa");
    // Output stays snake_case.
    let out = serde_json::to_value(ApiRun {
        service_account: "sa".into(),
        ..ApiRun::default()
    })
    .expect("ser");
    assert_eq!(out, json!({"service_account": "sa"}));
}

#[test]
fn timestamps_parse_with_and_without_fraction() {
    let e: ApiExperiment =
        serde_json::from_value(json!({"created_at": "2024-01-02T03:04:05.5+02:00"}))
            .expect("offset and fraction");
    assert_eq!(
        serde_json::to_value(&e).expect("ser"),
        json!({"created_at": "2024-01-02T01:04:05.500Z"})
    );
    assert!(serde_json::from_value::<ApiExperiment>(json!({"created_at": "2024-01-02"})).is_err());
}
