//! v1beta1 experiments: create, get, list, delete, `:archive` and `:unarchive`.
//!
//! matchit (axum 0.8's router) cannot put a literal `:archive` after a `{id}` capture, so
//! `POST /experiments/{id}` takes the whole segment (`<id>:archive`) and splits it.

use axum::Json;
use axum::Router;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::routing::get;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{ApiResult, Shared};
use crate::api::error::ApiError;
use crate::api::list_params::{ListParams, next_page_token, parse_list_query};
use crate::api::v1::model::{
    ApiExperiment, ApiExperimentStorageState, ApiListExperimentsResponse, ApiRelationship,
    ApiResourceReference, ApiResourceType, ApiStatus, Empty,
};
use crate::api::wire::ProtoEnum;
use crate::list::Resource;
use crate::store::{ExperimentRow, StorageState};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route(
            "/apis/v1beta1/experiments",
            get(list_experiments).post(create_experiment),
        )
        .route(
            "/apis/v1beta1/experiments/{id}",
            get(get_experiment)
                .delete(delete_experiment)
                .post(experiment_action),
        )
}

/// Unix seconds → the wire timestamp (`None` for a value chrono cannot represent).
pub(super) fn timestamp(secs: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(secs, 0)
}

/// A path segment, with axum's rejection turned into a 400 naming the problem.
pub(super) fn path_param<T>(path: Result<Path<T>, PathRejection>) -> ApiResult<T> {
    path.map(|Path(value)| value)
        .map_err(|rejection| ApiError::invalid_argument(format!("path: {}", rejection.body_text())))
}

/// The `{}` that delete/archive/... answer with.
pub(super) fn empty() -> Json<Empty> {
    Json(Empty {})
}

/// `resource_reference_key.type` / `.id` of v1 List requests. Only a NAMESPACE key scopes
/// pipelines and experiments (the other types do not own them); it is otherwise ignored.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(super) struct ReferenceKey {
    /// `NAMESPACE` (or its number, 5) to list one namespace.
    #[serde(rename = "resource_reference_key.type")]
    pub kind: String,
    /// The namespace.
    #[serde(rename = "resource_reference_key.id")]
    pub id: String,
}

impl ReferenceKey {
    /// The namespace to list in, if the key names one. The type may be a name or a number.
    pub fn namespace(&self) -> ApiResult<Option<&str>> {
        let kind = self.kind.trim();
        if kind.is_empty() {
            return Ok(None);
        }
        let parsed = ApiResourceType::from_name(kind)
            .or_else(|| kind.parse().ok().and_then(ApiResourceType::from_number))
            .ok_or_else(|| {
                ApiError::invalid_argument(format!(
                    "resource_reference_key.type: unknown resource type '{kind}'"
                ))
            })?;
        Ok((parsed == ApiResourceType::Namespace).then_some(self.id.as_str()))
    }
}

/// The row as `ApiExperiment`. The namespace, when set, is a NAMESPACE owner reference.
pub(super) fn api_experiment(row: ExperimentRow) -> ApiExperiment {
    let resource_references = if row.namespace.is_empty() {
        Vec::new()
    } else {
        vec![ApiResourceReference::new(
            ApiResourceType::Namespace,
            row.namespace,
            ApiRelationship::Owner,
        )]
    };
    ApiExperiment {
        id: row.id,
        name: row.name,
        description: row.description,
        created_at: timestamp(row.created_at),
        resource_references,
        storage_state: match row.storage_state {
            StorageState::Available => ApiExperimentStorageState::Available,
            StorageState::Archived => ApiExperimentStorageState::Archived,
        },
    }
}

/// The namespace a create request asks for: a NAMESPACE reference's ID, else ''.
fn requested_namespace(references: &[ApiResourceReference]) -> ApiResult<String> {
    let mut namespace = String::new();
    for (i, reference) in references.iter().enumerate() {
        let Some(key) = &reference.key else {
            return Err(ApiError::invalid_argument(format!(
                "resource_references[{i}].key: missing"
            )));
        };
        if key.r#type != ApiResourceType::Namespace {
            return Err(ApiError::invalid_argument(format!(
                "resource_references[{i}].key.type: an experiment can only reference a \
                 NAMESPACE, not {}",
                key.r#type.name()
            )));
        }
        namespace.clone_from(&key.id);
    }
    Ok(namespace)
}

/// Create an experiment (names are unique per namespace).
#[utoipa::path(post, path = "/apis/v1beta1/experiments", tag = "experiments",
    request_body = ApiExperiment,
    responses((status = 200, body = ApiExperiment), (status = 400, body = ApiStatus),
        (status = 409, description = "the name is taken", body = ApiStatus)))]
async fn create_experiment(
    State(state): State<Shared>,
    body: Result<Json<ApiExperiment>, JsonRejection>,
) -> ApiResult<Json<ApiExperiment>> {
    let Json(request) = body?;
    let name = request.name.trim();
    if name.is_empty() {
        return Err(ApiError::invalid_argument(
            "name: an experiment needs a non-empty name",
        ));
    }
    let namespace = requested_namespace(&request.resource_references)?;
    let row = state
        .store
        .create_experiment(name, &request.description, &namespace)
        .await?;
    Ok(Json(api_experiment(row)))
}

/// One experiment.
#[utoipa::path(get, path = "/apis/v1beta1/experiments/{id}", tag = "experiments",
    params(("id" = String, Path, description = "experiment ID")),
    responses((status = 200, body = ApiExperiment), (status = 404, body = ApiStatus)))]
async fn get_experiment(
    State(state): State<Shared>,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<ApiExperiment>> {
    let id = path_param(id)?;
    Ok(Json(api_experiment(state.store.get_experiment(&id).await?)))
}

/// A page of experiments.
#[utoipa::path(get, path = "/apis/v1beta1/experiments", tag = "experiments",
    params(ListParams, ReferenceKey),
    responses((status = 200, body = ApiListExperimentsResponse), (status = 400, body = ApiStatus)))]
async fn list_experiments(
    State(state): State<Shared>,
    params: Result<Query<ListParams>, QueryRejection>,
    key: Result<Query<ReferenceKey>, QueryRejection>,
) -> ApiResult<Json<ApiListExperimentsResponse>> {
    let Query(params) = params?;
    let Query(key) = key?;
    let query = parse_list_query(&params, Resource::Experiments)?;
    let page = state
        .store
        .list_experiments(&query, key.namespace()?)
        .await?;
    Ok(Json(ApiListExperimentsResponse {
        next_page_token: next_page_token(&page, &query, Resource::Experiments),
        total_size: i32::try_from(page.total_size).unwrap_or(i32::MAX),
        experiments: page.items.into_iter().map(api_experiment).collect(),
    }))
}

/// Delete an experiment with its runs (stopped first if running, their logs and artifacts
/// deleted too) and recurring runs.
#[utoipa::path(delete, path = "/apis/v1beta1/experiments/{id}", tag = "experiments",
    params(("id" = String, Path, description = "experiment ID")),
    responses((status = 200, body = Empty), (status = 404, body = ApiStatus)))]
async fn delete_experiment(
    State(state): State<Shared>,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<Empty>> {
    let id = path_param(id)?;
    state.store.get_experiment(&id).await?;
    let running = super::runs::stop_runs_of_experiment(&state, &id).await?;
    let mut deleted = state.store.delete_experiment(&id).await?;
    deleted.retain(|name| !running.contains(name));
    super::runs::purge_in_background(&state, deleted);
    Ok(empty())
}

/// `POST /experiments/{id}:archive` and `:unarchive`.
async fn experiment_action(
    State(state): State<Shared>,
    segment: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<Empty>> {
    let segment = path_param(segment)?;
    let Some((id, action)) = segment.rsplit_once(':') else {
        return Err(ApiError::invalid_argument(format!(
            "POST /apis/v1beta1/experiments/{segment}: say what to do, \
             /experiments/{segment}:archive or /experiments/{segment}:unarchive"
        )));
    };
    match action {
        "archive" => archive_experiment(&state, id).await,
        "unarchive" => unarchive_experiment(&state, id).await,
        other => Err(ApiError::invalid_argument(format!(
            "unknown experiment action ':{other}'; use :archive or :unarchive"
        ))),
    }
}

/// Archive an experiment and every run in it.
#[utoipa::path(post, path = "/apis/v1beta1/experiments/{id}:archive", tag = "experiments",
    params(("id" = String, Path, description = "experiment ID")),
    responses((status = 200, body = Empty), (status = 404, body = ApiStatus)))]
async fn archive_experiment(state: &Shared, id: &str) -> ApiResult<Json<Empty>> {
    state.store.archive_experiment(id).await?;
    Ok(empty())
}

/// Make an archived experiment available again (its runs stay archived, as in KFP).
#[utoipa::path(post, path = "/apis/v1beta1/experiments/{id}:unarchive", tag = "experiments",
    params(("id" = String, Path, description = "experiment ID")),
    responses((status = 200, body = Empty), (status = 404, body = ApiStatus)))]
async fn unarchive_experiment(state: &Shared, id: &str) -> ApiResult<Json<Empty>> {
    state.store.unarchive_experiment(id).await?;
    Ok(empty())
}
