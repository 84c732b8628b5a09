//! v1beta1 jobs (recurring runs): create, get, list, delete, enable and disable. The
//! [`super::scheduler`] starts their runs.
//!
//! A job snapshots its workflow at creation (inline, a pipeline version's, or the pipeline's
//! default version's), validated with the engine like a run's, so a firing never meets a
//! workflow that was not checked. v1 has no timezone field, so a cron's timezone comes as
//! robfig/cron's prefix (`CRON_TZ=Europe/Paris 0 3 * * *`, what KFP's own scheduler reads);
//! without one, cron runs in UTC.

use std::collections::HashMap;

use axum::Json;
use axum::Router;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use kfp_engine::Engine;
use serde_json::{Value, json};

use super::experiments::{ReferenceKey, empty, path_param};
use super::runs::{check_parameters, manifest_of, reference};
use super::scheduler::{JobSchedule, parse_cron, parse_timezone, split_cron_timezone};
use super::{ApiResult, Shared};
use crate::api::error::ApiError;
use crate::api::list_params::{ListParams, next_page_token, parse_list_query};
use crate::api::v1::model::{
    ApiCronSchedule, ApiJob, ApiListJobsResponse, ApiParameter, ApiPeriodicSchedule,
    ApiPipelineSpec, ApiRelationship, ApiResourceReference, ApiResourceType, ApiStatus, ApiTrigger,
    Empty, JobMode,
};
use crate::api::wire::ProtoEnum;
use crate::list::Resource;
use crate::store::{JobRow, JobScope, NewJob, StorageState, Trigger};

/// KFP's bounds on `max_concurrency`.
const MAX_CONCURRENCY: std::ops::RangeInclusive<i64> = 1..=10;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/apis/v1beta1/jobs", post(create_job).get(list_jobs))
        .route("/apis/v1beta1/jobs/{id}", get(get_job).delete(delete_job))
        .route("/apis/v1beta1/jobs/{id}/enable", post(enable_job))
        .route("/apis/v1beta1/jobs/{id}/disable", post(disable_job))
}

/// The trigger of a create request, checked.
struct CheckedTrigger {
    trigger: Trigger,
    /// IANA name from a `CRON_TZ=` prefix; `''` is UTC.
    timezone: String,
    start_time: Option<i64>,
    end_time: Option<i64>,
}

fn check_trigger(trigger: Option<&ApiTrigger>) -> ApiResult<CheckedTrigger> {
    let Some(trigger) = trigger else {
        return Err(ApiError::invalid_argument(
            "trigger: a job needs a trigger (cron_schedule or periodic_schedule)",
        ));
    };
    let mut timezone = String::new();
    let (trigger, start, end, field) = match (&trigger.cron_schedule, &trigger.periodic_schedule) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid_argument(
                "trigger: give either cron_schedule or periodic_schedule, not both",
            ));
        }
        (None, None) => {
            return Err(ApiError::invalid_argument(
                "trigger: a job needs a trigger (cron_schedule or periodic_schedule)",
            ));
        }
        (Some(cron), None) => {
            let invalid =
                |e: String| ApiError::invalid_argument(format!("trigger.cron_schedule.cron: {e}"));
            let (zone, expression) = split_cron_timezone(&cron.cron);
            if let Some(zone) = zone {
                parse_timezone(zone).map_err(invalid)?;
                timezone = zone.to_owned();
            }
            parse_cron(expression).map_err(invalid)?;
            (
                Trigger::Cron(expression.to_owned()),
                cron.start_time,
                cron.end_time,
                "trigger.cron_schedule",
            )
        }
        (None, Some(periodic)) => {
            if periodic.interval_second <= 0 {
                return Err(ApiError::invalid_argument(format!(
                    "trigger.periodic_schedule.interval_second: must be a positive number of \
                     seconds (got {})",
                    periodic.interval_second
                )));
            }
            (
                Trigger::Interval(periodic.interval_second),
                periodic.start_time,
                periodic.end_time,
                "trigger.periodic_schedule",
            )
        }
    };
    let start_time = unix(start);
    let end_time = unix(end);
    if let (Some(start), Some(end)) = (start_time, end_time)
        && end <= start
    {
        return Err(ApiError::invalid_argument(format!(
            "{field}.end_time: must be after start_time ({} is not after {})",
            rfc3339(end),
            rfc3339(start)
        )));
    }
    Ok(CheckedTrigger {
        trigger,
        timezone,
        start_time,
        end_time,
    })
}

/// A wire time as Unix seconds; unset and the epoch (what KFP sends for "never") are `None`.
fn unix(time: Option<DateTime<Utc>>) -> Option<i64> {
    time.map(|t| t.timestamp()).filter(|s| *s > 0)
}

fn rfc3339(secs: i64) -> String {
    DateTime::from_timestamp(secs, 0).map_or_else(|| secs.to_string(), |t| t.to_rfc3339())
}

fn timestamp(secs: i64) -> Option<DateTime<Utc>> {
    (secs > 0)
        .then(|| DateTime::from_timestamp(secs, 0))
        .flatten()
}

/// Create a recurring run; its workflow is validated and snapshotted now.
#[utoipa::path(post, path = "/apis/v1beta1/jobs", tag = "jobs", request_body = ApiJob,
    responses((status = 200, body = ApiJob), (status = 400, body = ApiStatus),
        (status = 404, description = "the pipeline, version or experiment does not exist", body = ApiStatus)))]
async fn create_job(
    State(state): State<Shared>,
    body: Result<Json<ApiJob>, JsonRejection>,
) -> ApiResult<Json<ApiJob>> {
    let Json(request) = body?;
    let name = request.name.trim();
    if name.is_empty() {
        return Err(ApiError::invalid_argument(
            "name: a job needs a non-empty name",
        ));
    }
    let trigger = check_trigger(request.trigger.as_ref())?;
    let max_concurrency = match request.max_concurrency {
        0 => 1,
        n if MAX_CONCURRENCY.contains(&n) => n,
        n => {
            return Err(ApiError::invalid_argument(format!(
                "max_concurrency: must be between {} and {} (got {n})",
                MAX_CONCURRENCY.start(),
                MAX_CONCURRENCY.end()
            )));
        }
    };
    let spec = request.pipeline_spec.clone().unwrap_or_default();
    let version_ref = reference(
        &request.resource_references,
        ApiResourceType::PipelineVersion,
    );
    let (manifest, pipeline_id, pipeline_version_id) =
        manifest_of(&state, &spec, version_ref).await?;
    let workflow = Engine::load_yaml(&manifest, "pipeline_spec.workflow_manifest")
        .map_err(|e| ApiError::invalid_argument(e.to_string()))?;
    check_parameters(&workflow, spec.parameters.iter().map(|p| p.name.as_str()))?;
    let experiment = match reference(&request.resource_references, ApiResourceType::Experiment) {
        Some(id) => state.store.get_experiment(id).await?,
        None => state.store.default_experiment("").await?,
    };
    if experiment.storage_state == StorageState::Archived {
        return Err(ApiError::failed_precondition(format!(
            "experiment {} is archived; unarchive it before adding a job",
            experiment.id
        )));
    }
    let enabled = match request.mode {
        JobMode::Enabled => true,
        JobMode::Disabled => false,
        JobMode::UnknownMode => request.enabled,
    };
    let parameters = Value::Array(
        spec.parameters
            .iter()
            .map(|p| json!({"name": p.name, "value": p.value}))
            .collect(),
    );
    let row = state
        .store
        .create_job(&NewJob {
            name: name.to_owned(),
            description: request.description.clone(),
            experiment_id: experiment.id,
            pipeline_id,
            pipeline_version_id,
            service_account: request.service_account.clone(),
            enabled,
            max_concurrency,
            no_catchup: request.no_catchup,
            trigger: trigger.trigger,
            start_time: trigger.start_time,
            end_time: trigger.end_time,
            timezone: trigger.timezone,
            parameters,
            workflow_manifest: manifest,
        })
        .await?;
    Ok(Json(api_job(row, true)))
}

/// One recurring run, with its workflow.
#[utoipa::path(get, path = "/apis/v1beta1/jobs/{id}", tag = "jobs", params(("id" = String, Path, description = "recurring run (job) ID")),
    responses((status = 200, body = ApiJob), (status = 404, body = ApiStatus)))]
async fn get_job(
    State(state): State<Shared>,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<ApiJob>> {
    let id = path_param(id)?;
    Ok(Json(api_job(state.store.get_job(&id).await?, true)))
}

/// A page of recurring runs (summaries: no workflow), by experiment or namespace.
#[utoipa::path(get, path = "/apis/v1beta1/jobs", tag = "jobs", params(ListParams, ReferenceKey),
    responses((status = 200, body = ApiListJobsResponse), (status = 400, body = ApiStatus)))]
async fn list_jobs(
    State(state): State<Shared>,
    params: Result<Query<ListParams>, QueryRejection>,
    keys: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> ApiResult<Json<ApiListJobsResponse>> {
    let Query(params) = params?;
    let Query(keys) = keys?;
    let query = parse_list_query(&params, Resource::Jobs)?;
    let kind = keys
        .get("resource_reference_key.type")
        .map(|k| k.trim())
        .unwrap_or_default();
    let key = keys
        .get("resource_reference_key.id")
        .map(String::as_str)
        .unwrap_or_default();
    let mut scope = JobScope::default();
    if !kind.is_empty() {
        let parsed = ApiResourceType::from_name(kind)
            .or_else(|| kind.parse().ok().and_then(ApiResourceType::from_number))
            .ok_or_else(|| {
                ApiError::invalid_argument(format!(
                    "resource_reference_key.type: unknown resource type '{kind}'"
                ))
            })?;
        match parsed {
            ApiResourceType::UnknownResourceType => {}
            ApiResourceType::Experiment => scope.experiment_id = Some(key),
            ApiResourceType::Namespace => scope.namespace = Some(key),
            other => {
                return Err(ApiError::invalid_argument(format!(
                    "resource_reference_key.type: jobs cannot be listed by {}",
                    other.name()
                )));
            }
        }
    }
    let page = state.store.list_jobs(&query, scope).await?;
    Ok(Json(ApiListJobsResponse {
        next_page_token: next_page_token(&page, &query, Resource::Jobs),
        total_size: i32::try_from(page.total_size).unwrap_or(i32::MAX),
        jobs: page.items.into_iter().map(|j| api_job(j, false)).collect(),
    }))
}

/// Delete a recurring run (the runs it started stay).
#[utoipa::path(delete, path = "/apis/v1beta1/jobs/{id}", tag = "jobs", params(("id" = String, Path, description = "recurring run (job) ID")),
    responses((status = 200, body = Empty), (status = 404, body = ApiStatus)))]
async fn delete_job(
    State(state): State<Shared>,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<Empty>> {
    let id = path_param(id)?;
    state.store.delete_job(&id).await?;
    Ok(empty())
}

/// Enabling a disabled job restarts its schedule from now: the firings it missed while
/// disabled are not caught up (KFP-PAIN §13: a burst of runs after re-enabling surprises).
#[utoipa::path(post, path = "/apis/v1beta1/jobs/{id}/enable", tag = "jobs", params(("id" = String, Path, description = "recurring run (job) ID")),
    responses((status = 200, body = Empty), (status = 404, body = ApiStatus)))]
async fn enable_job(
    State(state): State<Shared>,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<Empty>> {
    let id = path_param(id)?;
    let job = state.store.get_job(&id).await?;
    if job.enabled {
        return Ok(empty());
    }
    state.store.enable_job(&id).await?;
    let now = Utc::now().timestamp();
    let base = job
        .last_scheduled_at
        .or(job.start_time)
        .unwrap_or(job.created_at);
    if base < now {
        state.store.claim_job_firing(&id, now).await?;
    }
    Ok(empty())
}

/// Stop scheduling runs (runs already started go on).
#[utoipa::path(post, path = "/apis/v1beta1/jobs/{id}/disable", tag = "jobs", params(("id" = String, Path, description = "recurring run (job) ID")),
    responses((status = 200, body = Empty), (status = 404, body = ApiStatus)))]
async fn disable_job(
    State(state): State<Shared>,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<Empty>> {
    let id = path_param(id)?;
    state.store.disable_job(&id).await?;
    Ok(empty())
}

/// The row as `ApiJob`; the workflow manifest only when `with_manifest` (GetJob, not lists).
fn api_job(row: JobRow, with_manifest: bool) -> ApiJob {
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
    let mut resource_references = vec![ApiResourceReference::new(
        ApiResourceType::Experiment,
        row.experiment_id.clone(),
        ApiRelationship::Owner,
    )];
    if let Some(version) = &row.pipeline_version_id {
        resource_references.push(ApiResourceReference::new(
            ApiResourceType::PipelineVersion,
            version.clone(),
            ApiRelationship::Creator,
        ));
    }
    let start_time = row.start_time.and_then(timestamp);
    let end_time = row.end_time.and_then(timestamp);
    let trigger = match (&row.cron, row.interval_seconds) {
        (Some(cron), _) => ApiTrigger {
            cron_schedule: Some(ApiCronSchedule {
                start_time,
                end_time,
                cron: if row.timezone.is_empty() {
                    cron.clone()
                } else {
                    format!("CRON_TZ={} {cron}", row.timezone)
                },
            }),
            periodic_schedule: None,
        },
        (None, interval) => ApiTrigger {
            cron_schedule: None,
            periodic_schedule: Some(ApiPeriodicSchedule {
                start_time,
                end_time,
                interval_second: interval.unwrap_or_default(),
            }),
        },
    };
    let error = JobSchedule::of(&row).err().unwrap_or_default();
    ApiJob {
        id: row.id,
        name: row.name,
        description: row.description,
        pipeline_spec: Some(ApiPipelineSpec {
            pipeline_id: row.pipeline_id.unwrap_or_default(),
            workflow_manifest: if with_manifest {
                row.workflow_manifest
            } else {
                String::new()
            },
            parameters,
            ..ApiPipelineSpec::default()
        }),
        resource_references,
        service_account: row.service_account,
        max_concurrency: row.max_concurrency,
        trigger: Some(trigger),
        mode: if row.enabled {
            JobMode::Enabled
        } else {
            JobMode::Disabled
        },
        created_at: timestamp(row.created_at),
        updated_at: timestamp(row.updated_at),
        status: if row.enabled { "Enabled" } else { "Disabled" }.to_owned(),
        error,
        enabled: row.enabled,
        no_catchup: row.no_catchup,
    }
}
