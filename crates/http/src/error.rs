//! The one error type of the HTTP layer: every failure becomes an OperationOutcome with the
//! status FHIR gives it.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use carefront_fhir::outcome::operation_outcome;
use carefront_fhir::{Issue, IssueCode};
use carefront_store::repository::RepoError;

use crate::fhir::FHIR_JSON;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub issues: Vec<Issue>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: IssueCode, diagnostics: impl Into<String>) -> Self {
        ApiError {
            status,
            issues: vec![Issue::error(code, diagnostics)],
        }
    }

    pub fn bad_request(diagnostics: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, IssueCode::Invalid, diagnostics)
    }
}

impl From<RepoError> for ApiError {
    fn from(e: RepoError) -> Self {
        let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error() {
            // Database errors can quote values; log only the kind, never the content.
            tracing::error!(status = status.as_u16(), error = %error_kind(&e), "request failed");
        }
        ApiError {
            status,
            issues: e.issues(),
        }
    }
}

fn error_kind(e: &RepoError) -> &'static str {
    match e {
        RepoError::Store(carefront_store::StoreError::Unavailable(_)) => "store unavailable",
        RepoError::Store(carefront_store::StoreError::Database(_)) => "database error",
        _ => "request error",
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&operation_outcome(&self.issues)).unwrap_or_default();
        (self.status, [(header::CONTENT_TYPE, FHIR_JSON)], body).into_response()
    }
}
