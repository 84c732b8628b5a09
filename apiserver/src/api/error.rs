//! The error every handler returns, rendered the way grpc-gateway renders a gRPC status.
//!
//! KFP clients only surface `ApiException(status, reason, body)`, so the HTTP status is what
//! matters most; the body carries both `error` (gateway v1, kfp 1.8's `ApiStatus`) and
//! `message` (gateway v2, `GoogleRpcStatus`) so either client model parses it.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// axum's default body limit, which JSON requests keep (uploads have their own).
pub const JSON_BODY_LIMIT: usize = 2 << 20;

/// The gRPC status codes the server uses, with their numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrpcCode {
    InvalidArgument = 3,
    NotFound = 5,
    AlreadyExists = 6,
    PermissionDenied = 7,
    FailedPrecondition = 9,
    Unimplemented = 12,
    Internal = 13,
    Unauthenticated = 16,
}

impl GrpcCode {
    /// The HTTP status grpc-gateway maps the code to.
    pub fn http_status(self) -> StatusCode {
        match self {
            GrpcCode::InvalidArgument | GrpcCode::FailedPrecondition => StatusCode::BAD_REQUEST,
            GrpcCode::NotFound => StatusCode::NOT_FOUND,
            GrpcCode::AlreadyExists => StatusCode::CONFLICT,
            GrpcCode::PermissionDenied => StatusCode::FORBIDDEN,
            GrpcCode::Unimplemented => StatusCode::NOT_IMPLEMENTED,
            GrpcCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            GrpcCode::Unauthenticated => StatusCode::UNAUTHORIZED,
        }
    }
}

/// A failed request: HTTP status, gRPC code and a message naming what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub status: StatusCode,
    /// The gRPC code number (`GrpcCode as i32`).
    pub code: i32,
    pub message: String,
}

impl ApiError {
    pub fn new(code: GrpcCode, message: impl Into<String>) -> Self {
        ApiError {
            status: code.http_status(),
            code: code as i32,
            message: message.into(),
        }
    }

    /// 400: the request is malformed; the message should name the field at fault.
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(GrpcCode::InvalidArgument, message)
    }

    /// 404: `kind` (e.g. "run") with this ID does not exist.
    pub fn not_found(kind: &str, id: &str) -> Self {
        Self::new(GrpcCode::NotFound, format!("{kind} '{id}' not found"))
    }

    /// 409: e.g. a pipeline name that is taken.
    pub fn already_exists(message: impl Into<String>) -> Self {
        Self::new(GrpcCode::AlreadyExists, message)
    }

    /// 400: the request is well formed but the resource is in the wrong state for it
    /// (e.g. retrying a run that did not fail).
    pub fn failed_precondition(message: impl Into<String>) -> Self {
        Self::new(GrpcCode::FailedPrecondition, message)
    }

    /// 500: a server-side failure. The message goes to the client: keep secrets out of it.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(GrpcCode::Internal, message)
    }

    /// 401: no or bad credentials.
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(GrpcCode::Unauthenticated, message)
    }

    /// 403: authenticated, but not allowed.
    pub fn permission_denied(message: impl Into<String>) -> Self {
        Self::new(GrpcCode::PermissionDenied, message)
    }

    /// 413: a body or upload over its limit; the message should name the limit.
    pub fn too_large(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            // RESOURCE_EXHAUSTED
            code: 8,
            message: message.into(),
        }
    }

    /// 501: a route KFP has that this server does not implement.
    pub fn unimplemented(message: impl Into<String>) -> Self {
        Self::new(GrpcCode::Unimplemented, message)
    }

    /// The JSON body: `{"error", "code", "message", "details": []}`.
    pub fn body(&self) -> serde_json::Value {
        serde_json::to_value(self.status_message()).unwrap_or_default()
    }

    /// The body as its wire model.
    pub fn status_message(&self) -> crate::api::v1::model::ApiStatus {
        crate::api::v1::model::ApiStatus {
            error: self.message.clone(),
            code: self.code,
            message: self.message.clone(),
            details: Vec::new(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.status_message())).into_response()
    }
}

/// axum's `Json` extractor answers 415/422 on its own; KFP answers 400 for any bad body.
/// A body over the size limit stays a 413 (RESOURCE_EXHAUSTED), as oversized uploads are.
impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return ApiError::too_large(format!(
                "request body: larger than the limit of {} MiB for JSON requests",
                JSON_BODY_LIMIT >> 20
            ));
        }
        ApiError::invalid_argument(format!("request body: {}", rejection.body_text()))
    }
}

/// Bad query parameters are a 400 too.
impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::invalid_argument(format!("query: {}", rejection.body_text()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_gateway_statuses() {
        let cases = [
            (ApiError::invalid_argument("x"), 400, 3),
            (ApiError::not_found("run", "r1"), 404, 5),
            (ApiError::already_exists("x"), 409, 6),
            (ApiError::permission_denied("x"), 403, 7),
            (ApiError::failed_precondition("x"), 400, 9),
            (ApiError::unimplemented("x"), 501, 12),
            (ApiError::internal("x"), 500, 13),
            (ApiError::unauthenticated("x"), 401, 16),
        ];
        for (err, status, code) in cases {
            assert_eq!(err.status.as_u16(), status, "{err:?}");
            assert_eq!(err.code, code, "{err:?}");
        }
    }

    #[test]
    fn body_has_both_gateway_shapes() {
        let err = ApiError::not_found("run", "r1");
        assert_eq!(err.to_string(), "run 'r1' not found");
        assert_eq!(
            err.body(),
            serde_json::json!({
                "error": "run 'r1' not found",
                "code": 5,
                "message": "run 'r1' not found",
                "details": [],
            })
        );
    }

    #[test]
    fn into_response_sets_status_and_json() {
        let response =
            ApiError::invalid_argument("page_size: must not be negative").into_response();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let content_type = response
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        assert_eq!(content_type, Some("application/json"));
    }
}
