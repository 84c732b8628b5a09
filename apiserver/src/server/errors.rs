//! Store errors as KFP's API errors (status code and gRPC code).

use crate::api::error::ApiError;
use crate::store::StoreError;

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match &error {
            StoreError::NotFound { kind, id } => ApiError::not_found(kind, id),
            StoreError::AlreadyExists { .. } => ApiError::already_exists(error.to_string()),
            StoreError::Invalid(message) => ApiError::invalid_argument(message.clone()),
            _ => ApiError::internal(error.to_string()),
        }
    }
}
