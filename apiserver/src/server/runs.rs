//! Runs: create on the backend, follow their status into the store, get, list, archive,
//! terminate, delete, logs; and reconciliation of runs a previous server left in flight.

use std::collections::HashMap;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use kfp::argo::{NodePhase, Workflow, WorkflowPhase, WorkflowStatus};
use kfp_engine::Engine;
use serde_json::{Value, json};
use tokio::sync::watch;

use super::experiments::{ReferenceKey, empty};
use super::{ApiResult, Shared, Submission};
use crate::api::error::ApiError;
use crate::api::list_params::{ListParams, next_page_token, parse_list_query};
use crate::api::v1::model::{
    ApiListRunsResponse, ApiParameter, ApiPipelineRuntime, ApiPipelineSpec,
    ApiReadArtifactResponse, ApiRelationship, ApiReportRunMetricsRequest,
    ApiReportRunMetricsResponse, ApiResourceReference, ApiResourceType, ApiRun, ApiRunDetail,
    ApiRunMetric, ApiRunStorageState, ApiStatus, Empty, ReportRunMetricResult,
    ReportRunMetricStatus, RunMetricFormat,
};
use crate::api::wire::ProtoEnum;
use crate::list::Resource;
use crate::store::{
    MetricRow, MetricStatus, NewMetric, NewRun, RunDetail, RunRow, RunScope, RunStatusUpdate,
    StorageState, StoreError,
};

/// Status is written at most this often while a run changes (and always at its end).
const SYNC_INTERVAL: Duration = Duration::from_millis(250);

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/apis/v1beta1/runs", post(create_run).get(list_runs))
        .route(
            "/apis/v1beta1/runs/{id}",
            get(get_run).delete(delete_run).post(run_action),
        )
        .route("/apis/v1beta1/runs/{id}/terminate", post(terminate_run))
        .route("/apis/v1beta1/runs/{id}/retry", post(retry_run))
        .route(
            "/apis/v1beta1/runs/{id}/nodes/{node_id}/artifacts/{artifact}",
            get(read_artifact),
        )
        .route(
            "/apis/v1alpha1/runs/{id}/nodes/{node_id}/log",
            get(node_log),
        )
}

/// Start a run of a pipeline, a pipeline version or an inline workflow manifest, with
/// parameters, in an experiment (the Default one when none is referenced).
#[utoipa::path(post, path = "/apis/v1beta1/runs", tag = "runs", request_body = ApiRun,
    responses((status = 200, body = ApiRunDetail), (status = 400, body = ApiStatus),
        (status = 404, description = "the pipeline, version or experiment does not exist", body = ApiStatus)))]
async fn create_run(
    State(state): State<Shared>,
    body: Result<Json<ApiRun>, JsonRejection>,
) -> ApiResult<Json<ApiRunDetail>> {
    let Json(request) = body?;
    if request.name.trim().is_empty() {
        return Err(ApiError::invalid_argument("run.name: a run needs a name"));
    }
    let spec = request.pipeline_spec.clone().unwrap_or_default();
    let version_ref = reference(
        &request.resource_references,
        ApiResourceType::PipelineVersion,
    );
    let (manifest, pipeline_id, version_id) = manifest_of(&state, &spec, version_ref).await?;
    let experiment_id =
        reference(&request.resource_references, ApiResourceType::Experiment).map(str::to_owned);
    let parameters: Vec<(String, String)> = spec
        .parameters
        .iter()
        .map(|p| (p.name.clone(), p.value.clone()))
        .collect();
    let detail = start_run(
        &state,
        StartRun {
            name: request.name.clone(),
            description: request.description.clone(),
            manifest,
            pipeline_id,
            pipeline_version_id: version_id,
            experiment_id,
            parameters,
            service_account: request.service_account.clone(),
            job_id: None,
            scheduled_at: None,
        },
    )
    .await?;
    Ok(Json(run_detail(&detail, &[])))
}

/// A run to start (from the API or from a recurring run).
#[derive(Debug, Clone)]
pub struct StartRun {
    pub name: String,
    pub description: String,
    /// The Argo workflow, YAML or JSON.
    pub manifest: String,
    pub pipeline_id: Option<String>,
    pub pipeline_version_id: Option<String>,
    /// `None`: the Default experiment (created on first use).
    pub experiment_id: Option<String>,
    pub parameters: Vec<(String, String)>,
    pub service_account: String,
    pub job_id: Option<String>,
    pub scheduled_at: Option<i64>,
}

/// Validate, store and submit a run, and follow its status into the store. Nothing is
/// left stored when the workflow, its parameters or the backend refuse it.
pub async fn start_run(state: &Shared, start: StartRun) -> ApiResult<RunDetail> {
    let mut workflow = Engine::load_yaml(&start.manifest, "pipeline_spec.workflow_manifest")
        .map_err(|e| ApiError::invalid_argument(e.to_string()))?;
    let parameters = start.parameters;
    check_parameters(&workflow, parameters.iter().map(|(n, _)| n.as_str()))?;
    let experiment_id = match start.experiment_id {
        Some(id) => state.store.get_experiment(&id).await?.id,
        None => state.store.default_experiment("").await?.id,
    };
    let prefix = workflow
        .metadata
        .generate_name
        .clone()
        .or_else(|| workflow.metadata.name.clone().map(|n| format!("{n}-")))
        .unwrap_or_else(|| "run-".to_owned());
    let id_hint = crate::store::ids::new_id();
    let name = format!("{}{}", prefix, &id_hint[..8]);
    workflow.metadata.name = Some(name.clone());
    workflow.metadata.generate_name = None;
    let stored_manifest = serde_json::to_string(&workflow)
        .map_err(|e| ApiError::internal(format!("cannot serialize the workflow: {e}")))?;
    let params_json = Value::Array(
        parameters
            .iter()
            .map(|(n, v)| json!({"name": n, "value": v}))
            .collect(),
    );
    let detail = state
        .store
        .create_run(&NewRun {
            name: start.name,
            description: start.description,
            experiment_id,
            pipeline_id: start.pipeline_id,
            pipeline_version_id: start.pipeline_version_id,
            job_id: start.job_id,
            service_account: start.service_account,
            parameters: params_json,
            workflow_manifest: stored_manifest,
            backend: state.backend.name().to_owned(),
            scheduled_at: start.scheduled_at,
        })
        .await?;
    let run_id = detail.run.id.clone();
    match state.backend.submit(Submission {
        workflow,
        parameters,
        retry_of: None,
    }) {
        Ok(status) => {
            tokio::spawn(sync_status(state.clone(), run_id.clone(), name, status));
        }
        Err(e) => {
            // Nothing ran: the run must not stay behind.
            state.store.delete_run(&run_id).await?;
            return Err(ApiError::invalid_argument(e.to_string()));
        }
    }
    Ok(state.store.get_run(&run_id).await?)
}

/// The workflow to run: inline, a version's, or the pipeline's default version's.
pub(super) async fn manifest_of(
    state: &Shared,
    spec: &ApiPipelineSpec,
    version_ref: Option<&str>,
) -> ApiResult<(String, Option<String>, Option<String>)> {
    if !spec.workflow_manifest.trim().is_empty() {
        let pipeline = (!spec.pipeline_id.is_empty()).then(|| spec.pipeline_id.clone());
        return Ok((spec.workflow_manifest.clone(), pipeline, None));
    }
    if let Some(version_id) = version_ref {
        let version = state.store.get_version(version_id).await?;
        return Ok((
            version.manifest,
            Some(version.pipeline_id),
            Some(version.id),
        ));
    }
    if !spec.pipeline_id.is_empty() {
        let pipeline = state.store.get_pipeline(&spec.pipeline_id).await?;
        let Some(version_id) = pipeline.default_version_id else {
            return Err(ApiError::failed_precondition(format!(
                "pipeline {} has no version to run",
                pipeline.id
            )));
        };
        let version = state.store.get_version(&version_id).await?;
        return Ok((version.manifest, Some(pipeline.id), Some(version.id)));
    }
    Err(ApiError::invalid_argument(
        "pipeline_spec: give a workflow_manifest, a pipeline_id, or a PIPELINE_VERSION resource reference",
    ))
}

/// Refuse unknown parameter names before anything is stored.
pub(super) fn check_parameters<'a>(
    workflow: &Workflow,
    names: impl IntoIterator<Item = &'a str>,
) -> ApiResult<()> {
    let declared = &workflow.spec.arguments.parameters;
    for name in names {
        if !declared.iter().any(|p| p.name == *name) {
            let known: Vec<&str> = declared.iter().map(|p| p.name.as_str()).collect();
            return Err(ApiError::invalid_argument(format!(
                "pipeline_spec.parameters: unknown parameter '{name}' (the pipeline declares: {})",
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            )));
        }
    }
    Ok(())
}

/// The ID of the first reference of `kind`.
pub(super) fn reference(
    references: &[ApiResourceReference],
    kind: ApiResourceType,
) -> Option<&str> {
    references
        .iter()
        .filter_map(|r| r.key.as_ref())
        .find(|k| k.r#type == kind)
        .map(|k| k.id.as_str())
}

/// Write the run's status as it changes, at most every [`SYNC_INTERVAL`], and always the
/// final one.
async fn sync_status(
    state: Shared,
    run_id: String,
    name: String,
    mut status: watch::Receiver<WorkflowStatus>,
) {
    loop {
        let snapshot = status.borrow_and_update().clone();
        let done = snapshot.phase.is_completed();
        let update = RunStatusUpdate {
            status: snapshot.phase.as_str().to_owned(),
            finished_at: done.then(|| Utc::now().timestamp()),
            workflow_status: serde_json::to_string(&snapshot).ok(),
            error: snapshot.message.clone().filter(|_| done),
        };
        match state.store.update_run_status(&run_id, &update).await {
            Ok(()) => {}
            // Deleted while it ran (the delete stopped it): nobody is left to tell; its
            // files go once its processes are gone.
            Err(StoreError::NotFound { .. }) => {
                if done {
                    state.backend.finished(&name);
                    if let Err(e) = state.backend.purge(&name) {
                        eprintln!("run {run_id} was deleted, but its files were not: {e}");
                    }
                    return;
                }
                let _ = state.backend.terminate(&name);
            }
            Err(e) => eprintln!("run {run_id}: cannot store its status: {e}"),
        }
        if done {
            state.backend.finished(&name);
            return;
        }
        tokio::time::sleep(SYNC_INTERVAL).await;
        if status.changed().await.is_err() {
            return;
        }
    }
}

/// Stop every run of `experiment_id` still executing (before the experiment is deleted,
/// so no run goes on without a row to report to). Returns the workflow names of those
/// stopped: their followers delete their files once their processes are gone.
pub(super) async fn stop_runs_of_experiment(
    state: &Shared,
    experiment_id: &str,
) -> ApiResult<Vec<String>> {
    let mut stopped = Vec::new();
    for run in state.store.unfinished_runs().await? {
        if run.experiment_id == experiment_id {
            let detail = state.store.get_run(&run.id).await?;
            let name = workflow_name(&detail);
            // A run that already ended between the two reads needs nothing.
            if state.backend.terminate(&name).is_ok() {
                stopped.push(name);
            }
        }
    }
    Ok(stopped)
}

/// Delete the files of deleted runs that are not running, in the background (an
/// experiment may hold many); a failure is reported on the server's stderr.
pub(super) fn purge_in_background(state: &Shared, names: Vec<String>) {
    if names.is_empty() {
        return;
    }
    let backend = state.backend.clone();
    tokio::task::spawn_blocking(move || {
        for name in names {
            if let Err(e) = backend.purge(&name) {
                eprintln!("the files of deleted run {name} were not deleted: {e}");
            }
        }
    });
}

/// What [`reconcile`] did with the runs a previous server left in flight.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reconciled {
    /// Started again: what had succeeded is kept, the rest runs.
    pub resumed: usize,
    /// Could not be started again: failed with the reason.
    pub failed: usize,
}

/// Runs a previous server left Pending/Running lost their processes with it. Each is
/// resumed from its last stored status (the steps that had succeeded are kept, the ones
/// interrupted run again), or failed with the reason when that is impossible; none is
/// left Running.
pub async fn reconcile(state: &Shared) -> anyhow::Result<Reconciled> {
    let mut done = Reconciled::default();
    for run in state.store.unfinished_runs().await? {
        let detail = state.store.get_run(&run.id).await?;
        let previous = interrupted(stored_status(&detail).unwrap_or_default());
        match resubmit(state, &detail, previous).await {
            Ok(()) => done.resumed += 1,
            Err(reason) => {
                let update = RunStatusUpdate {
                    status: "Failed".to_owned(),
                    finished_at: Some(Utc::now().timestamp()),
                    workflow_status: None,
                    error: Some(format!(
                        "the server stopped while this run was in flight, and it cannot be \
                         resumed: {reason}"
                    )),
                };
                state.store.update_run_status(&run.id, &update).await?;
                done.failed += 1;
            }
        }
    }
    Ok(done)
}

/// A status cut short by a stop: every node not completed failed, and so did the run, which
/// is what a retry starts from.
fn interrupted(mut status: WorkflowStatus) -> WorkflowStatus {
    const WHY: &str = "interrupted: the server stopped";
    for node in status.nodes.values_mut() {
        if !node.phase.is_fulfilled() {
            node.phase = NodePhase::Failed;
            node.message = Some(WHY.to_owned());
        }
    }
    status.phase = WorkflowPhase::Failed;
    status.message = Some(WHY.to_owned());
    status
}

/// One run with its workflow and live status (`pipeline_runtime.workflow_manifest`).
#[utoipa::path(get, path = "/apis/v1beta1/runs/{id}", tag = "runs", params(("id" = String, Path, description = "run ID")),
    responses((status = 200, body = ApiRunDetail), (status = 404, body = ApiStatus)))]
async fn get_run(
    State(state): State<Shared>,
    Path(id): Path<String>,
) -> ApiResult<Json<ApiRunDetail>> {
    let detail = state.store.get_run(&id).await?;
    let metrics = state
        .store
        .metrics_of_runs(std::slice::from_ref(&id))
        .await?;
    Ok(Json(run_detail(&detail, &metrics)))
}

/// A page of runs (summaries: no manifests), by experiment, namespace, pipeline version
/// or recurring run (`resource_reference_key.type` EXPERIMENT, NAMESPACE,
/// PIPELINE_VERSION or JOB).
#[utoipa::path(get, path = "/apis/v1beta1/runs", tag = "runs", params(ListParams, ReferenceKey),
    responses((status = 200, body = ApiListRunsResponse), (status = 400, body = ApiStatus)))]
async fn list_runs(
    State(state): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Json<ApiListRunsResponse>> {
    let param = |k: &str| query.get(k).cloned().unwrap_or_default();
    let params = ListParams {
        page_token: param("page_token"),
        page_size: param("page_size"),
        sort_by: param("sort_by"),
        filter: param("filter"),
    };
    let list = parse_list_query(&params, Resource::Runs)?;
    let kind = param("resource_reference_key.type");
    let key = param("resource_reference_key.id");
    let mut scope = RunScope::default();
    match kind.as_str() {
        "" | "UNKNOWN_RESOURCE_TYPE" => {}
        "EXPERIMENT" | "1" => scope.experiment_id = Some(&key),
        "NAMESPACE" | "5" => scope.namespace = Some(&key),
        "PIPELINE_VERSION" | "4" => scope.pipeline_version_id = Some(&key),
        "JOB" | "2" => scope.job_id = Some(&key),
        other => {
            return Err(ApiError::invalid_argument(format!(
                "resource_reference_key.type: runs cannot be listed by '{other}'"
            )));
        }
    }
    let page = state.store.list_runs(&list, scope).await?;
    let ids: Vec<String> = page.items.iter().map(|r| r.id.clone()).collect();
    let metrics = state.store.metrics_of_runs(&ids).await?;
    Ok(Json(ApiListRunsResponse {
        runs: page.items.iter().map(|r| api_run(r, &metrics)).collect(),
        total_size: i32::try_from(page.total_size).unwrap_or(i32::MAX),
        next_page_token: next_page_token(&page, &list, Resource::Runs),
    }))
}

/// `POST /runs/{id}:archive`, `:unarchive` and `:reportMetrics` (the verb is part of the
/// last segment).
async fn run_action(
    State(state): State<Shared>,
    Path(segment): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<axum::response::Response> {
    let Some((id, action)) = segment.rsplit_once(':') else {
        return Err(ApiError::invalid_argument(format!(
            "POST /apis/v1beta1/runs/{segment}: expected {segment}:archive, :unarchive or :reportMetrics"
        )));
    };
    match action {
        "archive" => Ok(archive_run(&state, id).await?.into_response()),
        "unarchive" => Ok(unarchive_run(&state, id).await?.into_response()),
        "reportMetrics" => {
            let request: ApiReportRunMetricsRequest = serde_json::from_slice(&body)
                .map_err(|e| ApiError::invalid_argument(format!("request body: {e}")))?;
            Ok(Json(report_metrics(&state, id, request).await?).into_response())
        }
        other => Err(ApiError::invalid_argument(format!(
            "unknown run action ':{other}' (archive, unarchive, reportMetrics)"
        ))),
    }
}

/// Archive a run: hidden from default lists, kept with its logs.
#[utoipa::path(post, path = "/apis/v1beta1/runs/{id}:archive", tag = "runs", params(("id" = String, Path, description = "run ID")),
    responses((status = 200, body = Empty), (status = 404, body = ApiStatus)))]
async fn archive_run(state: &Shared, id: &str) -> ApiResult<Json<Empty>> {
    state.store.archive_run(id).await?;
    Ok(empty())
}

#[utoipa::path(post, path = "/apis/v1beta1/runs/{id}:unarchive", tag = "runs", params(("id" = String, Path, description = "run ID")),
    responses((status = 200, body = Empty), (status = 404, body = ApiStatus)))]
async fn unarchive_run(state: &Shared, id: &str) -> ApiResult<Json<Empty>> {
    state.store.unarchive_run(id).await?;
    Ok(empty())
}

/// Record a step's metrics: each one is answered on its own (invalid, duplicate, ok), as
/// KFP does, so one bad metric does not lose the others.
#[utoipa::path(post, path = "/apis/v1beta1/runs/{id}:reportMetrics", tag = "runs",
    params(("id" = String, Path, description = "run ID")), request_body = ApiReportRunMetricsRequest,
    responses((status = 200, description = "one result per metric", body = ApiReportRunMetricsResponse),
        (status = 400, body = ApiStatus), (status = 404, body = ApiStatus)))]
async fn report_metrics(
    state: &Shared,
    run_id: &str,
    request: ApiReportRunMetricsRequest,
) -> ApiResult<ApiReportRunMetricsResponse> {
    if !request.run_id.is_empty() && request.run_id != run_id {
        return Err(ApiError::invalid_argument(format!(
            "run_id: the body names run {} but the URL run {run_id}",
            request.run_id
        )));
    }
    let mut results = Vec::with_capacity(request.metrics.len());
    let mut valid = Vec::new();
    for metric in &request.metrics {
        let problem = if !metric_name_is_valid(&metric.name) {
            Some(format!(
                "metric name '{}' must start with a letter, end with a letter or digit, hold only letters, digits, '-' and '_', and have at most 64 characters",
                metric.name
            ))
        } else if metric.node_id.is_empty() {
            Some("node_id is required".to_owned())
        } else if metric.number_value.is_none_or(|v| !v.is_finite()) {
            Some("number_value must be a finite number".to_owned())
        } else {
            None
        };
        match problem {
            Some(message) => results.push(ReportRunMetricResult {
                metric_name: metric.name.clone(),
                metric_node_id: metric.node_id.clone(),
                status: ReportRunMetricStatus::InvalidArgument,
                message,
            }),
            None => valid.push(NewMetric {
                node_id: metric.node_id.clone(),
                name: metric.name.clone(),
                number_value: metric.number_value.unwrap_or_default(),
                format: format_name(metric.format).to_owned(),
            }),
        }
    }
    for outcome in state.store.report_metrics(run_id, &valid).await? {
        results.push(ReportRunMetricResult {
            metric_name: outcome.name,
            metric_node_id: outcome.node_id,
            status: match outcome.status {
                MetricStatus::Ok => ReportRunMetricStatus::Ok,
                MetricStatus::DuplicateReporting => ReportRunMetricStatus::DuplicateReporting,
            },
            message: String::new(),
        });
    }
    Ok(ApiReportRunMetricsResponse { results })
}

/// KFP's rule: `^[a-zA-Z]([-_a-zA-Z0-9]{0,62}[a-zA-Z0-9])?$`.
fn metric_name_is_valid(name: &str) -> bool {
    let bytes = name.as_bytes();
    let (Some(first), Some(last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    bytes.len() <= 64
        && first.is_ascii_alphabetic()
        && last.is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
}

fn format_name(format: RunMetricFormat) -> &'static str {
    RunMetricFormat::VALUES
        .iter()
        .find(|(_, _, v)| *v == format)
        .map_or("UNSPECIFIED", |(n, _, _)| n)
}

/// `GET /runs/{id}/nodes/{node}/artifacts/{name}:read`: the stored artifact (Argo's
/// tar+gzip), base64 in `data`, as KFP serves it.
#[utoipa::path(get, path = "/apis/v1beta1/runs/{id}/nodes/{node_id}/artifacts/{artifact_name}:read", tag = "runs",
    params(("id" = String, Path, description = "run ID"), ("node_id" = String, Path, description = "node ID in the workflow status"),
        ("artifact_name" = String, Path, description = "output artifact name")),
    responses((status = 200, body = ApiReadArtifactResponse), (status = 404, body = ApiStatus)))]
async fn read_artifact(
    State(state): State<Shared>,
    Path((id, node_id, segment)): Path<(String, String, String)>,
) -> ApiResult<Json<ApiReadArtifactResponse>> {
    let Some(name) = segment.strip_suffix(":read") else {
        return Err(ApiError::invalid_argument(format!(
            "expected .../artifacts/{segment}:read"
        )));
    };
    let detail = state.store.get_run(&id).await?;
    let status: WorkflowStatus = detail
        .workflow_status
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_default();
    let node = status
        .nodes
        .get(&node_id)
        .ok_or_else(|| ApiError::not_found("node", &node_id))?;
    let key = node
        .outputs
        .as_ref()
        .and_then(|o| o.artifacts.iter().find(|a| a.name == name))
        .and_then(|a| a.s3.as_ref())
        .and_then(|s| s.key.clone())
        .ok_or_else(|| ApiError::not_found("artifact", name))?;
    let path = state
        .backend
        .artifact_path(&key)
        .ok_or_else(|| ApiError::not_found("artifact", name))?;
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(|_| ApiError::not_found("artifact", name))?;
    Ok(Json(ApiReadArtifactResponse::from_bytes(&bytes)))
}

/// Stop a run; its exit handlers still run.
#[utoipa::path(post, path = "/apis/v1beta1/runs/{id}/terminate", tag = "runs", params(("id" = String, Path, description = "run ID")),
    responses((status = 200, body = Empty), (status = 400, description = "the run already finished", body = ApiStatus),
        (status = 404, body = ApiStatus)))]
async fn terminate_run(
    State(state): State<Shared>,
    Path(id): Path<String>,
) -> ApiResult<Json<Empty>> {
    let detail = state.store.get_run(&id).await?;
    if crate::store::FINISHED_STATUSES.contains(&detail.run.status.as_str()) {
        return Err(ApiError::failed_precondition(format!(
            "run {id} already finished ({})",
            detail.run.status
        )));
    }
    let name = workflow_name(&detail);
    state
        .backend
        .terminate(&name)
        .map_err(|e| ApiError::failed_precondition(e.to_string()))?;
    Ok(empty())
}

/// Run a Failed/Error run again: the whole workflow, under a new workflow name (the
/// previous attempt's logs and artifacts stay where they were).
#[utoipa::path(post, path = "/apis/v1beta1/runs/{id}/retry", tag = "runs", params(("id" = String, Path, description = "run ID")),
    responses((status = 200, body = Empty), (status = 400, description = "the run did not fail", body = ApiStatus),
        (status = 404, body = ApiStatus)))]
async fn retry_run(State(state): State<Shared>, Path(id): Path<String>) -> ApiResult<Json<Empty>> {
    let detail = state.store.get_run(&id).await?;
    if !matches!(detail.run.status.as_str(), "Failed" | "Error") {
        return Err(ApiError::failed_precondition(format!(
            "run {id} is {}; only Failed or Error runs can be retried",
            if detail.run.status.is_empty() {
                "Pending"
            } else {
                detail.run.status.as_str()
            }
        )));
    }
    let previous = stored_status(&detail).ok_or_else(|| {
        ApiError::failed_precondition(format!(
            "run {id} has no recorded workflow status to retry from; create the run again"
        ))
    })?;
    resubmit(&state, &detail, previous)
        .await
        .map_err(|e| ApiError::failed_precondition(format!("run {id} cannot be retried: {e}")))?;
    Ok(empty())
}

/// The run's last stored workflow status.
fn stored_status(detail: &RunDetail) -> Option<WorkflowStatus> {
    serde_json::from_str(detail.workflow_status.as_deref()?).ok()
}

/// The parameters the run was created with.
fn stored_parameters(detail: &RunDetail) -> Vec<(String, String)> {
    detail
        .run
        .parameters
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|p| {
                    Some((
                        p["name"].as_str()?.to_owned(),
                        p["value"].as_str()?.to_owned(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Start the run's workflow again under the same workflow name, keeping what succeeded
/// in `previous` (a Failed/Error status) and running the rest; the run's status, times and
/// error start afresh. Nothing changes in the store if the backend refuses.
async fn resubmit(
    state: &Shared,
    detail: &RunDetail,
    previous: WorkflowStatus,
) -> Result<(), String> {
    let workflow: Workflow = serde_json::from_str(&detail.workflow_manifest)
        .map_err(|e| format!("its stored workflow is unreadable: {e}"))?;
    let name = workflow.metadata.name.clone().unwrap_or_default();
    let status = state
        .backend
        .submit(Submission {
            workflow,
            parameters: stored_parameters(detail),
            retry_of: Some(previous),
        })
        .map_err(|e| e.to_string())?;
    let id = detail.run.id.clone();
    if let Err(e) = state
        .store
        .restart_run(&id, &detail.workflow_manifest)
        .await
    {
        let _ = state.backend.terminate(&name);
        return Err(format!("cannot record the restart: {e}"));
    }
    tokio::spawn(sync_status(state.clone(), id, name, status));
    Ok(())
}

/// Delete a run with its logs and artifacts (stopping it first if it still runs).
#[utoipa::path(delete, path = "/apis/v1beta1/runs/{id}", tag = "runs", params(("id" = String, Path, description = "run ID")),
    responses((status = 200, body = Empty), (status = 404, body = ApiStatus)))]
async fn delete_run(State(state): State<Shared>, Path(id): Path<String>) -> ApiResult<Json<Empty>> {
    let detail = state.store.get_run(&id).await?;
    let name = workflow_name(&detail);
    // A run still going is stopped, and its follower deletes its files once its processes
    // are gone; the files of one that is not running go now, before the row, so a failure
    // keeps the run and says why.
    let running = !crate::store::FINISHED_STATUSES.contains(&detail.run.status.as_str())
        && state.backend.terminate(&name).is_ok();
    if !running {
        state.backend.purge(&name).map_err(|e| {
            ApiError::internal(format!(
                "run {id} is kept: its files could not be deleted: {e}"
            ))
        })?;
    }
    state.store.delete_run(&id).await?;
    Ok(empty())
}

/// The log of one node of a run, as plain text (kept after the run ends).
#[utoipa::path(get, path = "/apis/v1alpha1/runs/{id}/nodes/{node_id}/log", tag = "runs",
    params(("id" = String, Path, description = "run ID"), ("node_id" = String, Path, description = "node ID in the workflow status")),
    responses((status = 200, description = "the node's stdout and stderr", content_type = "text/plain", body = String),
        (status = 404, body = ApiStatus)))]
async fn node_log(
    State(state): State<Shared>,
    Path((id, node_id)): Path<(String, String)>,
) -> ApiResult<impl IntoResponse> {
    let detail = state.store.get_run(&id).await?;
    let name = workflow_name(&detail);
    let status: WorkflowStatus = detail
        .workflow_status
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_default();
    let Some(node) = status.nodes.get(&node_id) else {
        return Err(ApiError::not_found("node", &node_id));
    };
    let pod = kfp_engine::pod_name(
        &name,
        node.template_name.as_deref().unwrap_or_default(),
        &node.name,
    );
    let path = state.backend.log_path(&name, &pod);
    match tokio::fs::read(&path).await {
        Ok(bytes) => Ok((
            [(
                axum::http::header::CONTENT_TYPE,
                "text/plain; charset=utf-8",
            )],
            bytes,
        )),
        Err(_) => Err(ApiError::not_found("log of node", &node_id)),
    }
}

/// The engine's name of the run (the stored manifest's `metadata.name`).
fn workflow_name(detail: &RunDetail) -> String {
    serde_json::from_str::<Value>(&detail.workflow_manifest)
        .ok()
        .and_then(|v| v["metadata"]["name"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn run_detail(detail: &RunDetail, metrics: &[MetricRow]) -> ApiRunDetail {
    let mut manifest: Value =
        serde_json::from_str(&detail.workflow_manifest).unwrap_or(Value::Null);
    if let (Some(object), Some(status)) =
        (manifest.as_object_mut(), detail.workflow_status.as_deref())
        && let Ok(status) = serde_json::from_str::<Value>(status)
    {
        object.insert("status".to_owned(), status);
    }
    ApiRunDetail {
        run: Some(api_run(&detail.run, metrics)),
        pipeline_runtime: Some(ApiPipelineRuntime {
            pipeline_manifest: String::new(),
            workflow_manifest: manifest.to_string(),
        }),
    }
}

fn timestamp(seconds: i64) -> Option<DateTime<Utc>> {
    (seconds > 0)
        .then(|| DateTime::from_timestamp(seconds, 0))
        .flatten()
}

fn api_run(row: &RunRow, metrics: &[MetricRow]) -> ApiRun {
    let parameters = row
        .parameters
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|p| {
                    Some(ApiParameter {
                        name: p["name"].as_str()?.to_owned(),
                        value: p["value"].as_str().unwrap_or_default().to_owned(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let mut references = vec![ApiResourceReference::new(
        ApiResourceType::Experiment,
        row.experiment_id.clone(),
        ApiRelationship::Owner,
    )];
    if let Some(job) = &row.job_id {
        references.push(ApiResourceReference::new(
            ApiResourceType::Job,
            job.clone(),
            ApiRelationship::Creator,
        ));
    }
    if let Some(version) = &row.pipeline_version_id {
        references.push(ApiResourceReference::new(
            ApiResourceType::PipelineVersion,
            version.clone(),
            ApiRelationship::Creator,
        ));
    }
    ApiRun {
        id: row.id.clone(),
        name: row.name.clone(),
        storage_state: match row.storage_state {
            StorageState::Available => ApiRunStorageState::Available,
            StorageState::Archived => ApiRunStorageState::Archived,
        },
        description: row.description.clone(),
        pipeline_spec: Some(ApiPipelineSpec {
            pipeline_id: row.pipeline_id.clone().unwrap_or_default(),
            parameters,
            ..ApiPipelineSpec::default()
        }),
        resource_references: references,
        service_account: row.service_account.clone(),
        created_at: timestamp(row.created_at),
        scheduled_at: timestamp(row.scheduled_at),
        finished_at: timestamp(row.finished_at),
        status: row.status.clone(),
        error: row.error.clone(),
        metrics: metrics
            .iter()
            .filter(|m| m.run_id == row.id)
            .map(|m| ApiRunMetric {
                name: m.name.clone(),
                node_id: m.node_id.clone(),
                number_value: Some(m.number_value),
                format: RunMetricFormat::from_name(&m.format)
                    .unwrap_or(RunMetricFormat::Unspecified),
            })
            .collect(),
        ..ApiRun::default()
    }
}
