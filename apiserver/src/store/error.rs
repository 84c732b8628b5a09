//! What can go wrong in the store, in terms the API layer maps to gRPC codes
//! (NotFound → 404, AlreadyExists → 409, Invalid → 400, Database → 500).

use sqlx::error::ErrorKind;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{kind} {id} not found")]
    NotFound { kind: &'static str, id: String },
    #[error("{kind} named {name:?} already exists")]
    AlreadyExists { kind: &'static str, name: String },
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

impl StoreError {
    pub(crate) fn not_found(kind: &'static str, id: impl Into<String>) -> StoreError {
        StoreError::NotFound {
            kind,
            id: id.into(),
        }
    }
}

/// Constraint violations that are the caller's fault become `Invalid`; a unique violation
/// without context stays a database error (callers that insert named rows use
/// [`unique_as_exists`]).
impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e.as_database_error().map(|d| d.kind()) {
            Some(ErrorKind::CheckViolation | ErrorKind::NotNullViolation) => {
                StoreError::Invalid(e.to_string())
            }
            _ => StoreError::Database(e),
        }
    }
}

/// Maps a unique-constraint violation (SQLite "UNIQUE constraint failed", PostgreSQL 23505)
/// to `AlreadyExists { kind, name }`; other errors as usual.
pub(crate) fn unique_as_exists(
    kind: &'static str,
    name: &str,
) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |e| {
        let unique = e
            .as_database_error()
            .is_some_and(|d| d.is_unique_violation());
        if unique {
            StoreError::AlreadyExists {
                kind,
                name: name.to_string(),
            }
        } else {
            StoreError::from(e)
        }
    }
}
