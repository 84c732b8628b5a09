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

async fn healthz() -> Json<ApiGetHealthzResponse> {
    Json(ApiGetHealthzResponse { multi_user: false })
}
