//! `GET /openapi.json`: the API described from the handlers' own annotations and the wire
//! models' derives (utoipa), so the document cannot drift from the code. A copy is checked
//! in as `schemas/kfp-apiserver.openapi.json`; `tests/openapi.rs` fails when it is stale
//! and checks that every documented operation is routed.

use std::sync::OnceLock;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use utoipa::OpenApi;

use super::{Shared, experiments, healthz, jobs, pipelines, runs};

/// The document's root: every annotated handler.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "kfp-rs API server",
        description = "Kubeflow Pipelines' v1beta1 REST API (wire-compatible: snake_case JSON, \
            int64 as strings, enums as names or numbers, KFP's error bodies and page tokens), \
            plus node logs.",
        license(name = "Apache-2.0")
    ),
    paths(
        healthz::healthz,
        pipelines::upload_pipeline,
        pipelines::upload_version,
        pipelines::create_pipeline,
        pipelines::get_pipeline,
        pipelines::list_pipelines,
        pipelines::delete_pipeline,
        pipelines::get_template,
        pipelines::set_default_version,
        pipelines::create_version,
        pipelines::get_version,
        pipelines::delete_version,
        pipelines::get_version_template,
        pipelines::list_versions,
        experiments::create_experiment,
        experiments::get_experiment,
        experiments::list_experiments,
        experiments::delete_experiment,
        experiments::archive_experiment,
        experiments::unarchive_experiment,
        runs::create_run,
        runs::get_run,
        runs::list_runs,
        runs::delete_run,
        runs::archive_run,
        runs::unarchive_run,
        runs::report_metrics,
        runs::read_artifact,
        runs::terminate_run,
        runs::retry_run,
        runs::node_log,
        jobs::create_job,
        jobs::get_job,
        jobs::list_jobs,
        jobs::delete_job,
        jobs::enable_job,
        jobs::disable_job,
    ),
    tags(
        (name = "healthz"),
        (name = "pipelines", description = "Pipelines and their versions (uploaded workflows)"),
        (name = "experiments", description = "Groups of runs"),
        (name = "runs", description = "Executions of a pipeline"),
        (name = "jobs", description = "Recurring runs: a cron or interval schedule that starts runs"),
    )
)]
#[derive(Debug)]
pub struct ApiDoc;

/// The document as JSON text, pretty-printed (what the checked-in copy holds).
pub fn document() -> String {
    let mut text = ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"cannot render the OpenAPI document: {e}\"}}"));
    text.push('\n');
    text
}

pub fn routes() -> Router<Shared> {
    Router::new().route("/openapi.json", get(openapi_json))
}

/// Built once: the document is a constant of the binary.
async fn openapi_json() -> impl IntoResponse {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    (
        [(header::CONTENT_TYPE, "application/json")],
        DOCUMENT.get_or_init(document).as_str(),
    )
}
