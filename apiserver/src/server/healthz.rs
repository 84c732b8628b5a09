//! `GET /apis/v1beta1/healthz`: kfp.Client calls it in its constructor.

use axum::Json;
use axum::Router;
use axum::routing::get;

use super::Shared;
use crate::api::v1::model::ApiGetHealthzResponse;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/apis/v1beta1/healthz", get(healthz))
        .route("/apis/v2beta1/healthz", get(healthz))
}

/// Whether the server is up (kfp.Client calls it when it is created).
#[utoipa::path(get, path = "/apis/v1beta1/healthz", tag = "healthz",
    responses((status = 200, body = ApiGetHealthzResponse)))]
async fn healthz() -> Json<ApiGetHealthzResponse> {
    Json(ApiGetHealthzResponse { multi_user: false })
}
