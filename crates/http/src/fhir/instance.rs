//! Instance interactions: read, vread, update, patch, delete.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use carefront_fhir::IssueCode;
use carefront_store::repository::Preconditions;

use super::request::{FhirHeaders, JsonBody};
use super::response;
use crate::{ApiError, AppState};

pub async fn read(
    State(state): State<AppState>,
    Path((rtype, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let r = state.repo.read(&rtype, &id).await?;
    // A client holding the current version need not download it again.
    if let Some(tag) = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    {
        if carefront_store::repository::parse_etag(tag) == Some(r.version) {
            return Ok(StatusCode::NOT_MODIFIED.into_response());
        }
    }
    Ok(response::resource(r))
}

pub async fn vread(
    State(state): State<AppState>,
    Path((rtype, id, vid)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let r = state.repo.read_version(&rtype, &id, &vid).await?;
    Ok(response::resource(r))
}

pub async fn update(
    State(state): State<AppState>,
    Path((rtype, id)): Path<(String, String)>,
    h: FhirHeaders,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let pre = Preconditions {
        if_match: h.if_match,
    };
    let w = state.repo.update(&rtype, &id, body, &pre).await?;
    let status = if w.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(response::written(status, w.resource, &h))
}

pub async fn patch(
    State(state): State<AppState>,
    Path((rtype, id)): Path<(String, String)>,
    h: FhirHeaders,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct.starts_with("application/json-patch+json") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            IssueCode::NotSupported,
            "PATCH takes a JSON Patch document with Content-Type application/json-patch+json",
        ));
    }
    let pre = Preconditions {
        if_match: h.if_match,
    };
    let w = state.repo.patch(&rtype, &id, &body, &pre).await?;
    Ok(response::written(StatusCode::OK, w.resource, &h))
}

pub async fn delete(
    State(state): State<AppState>,
    Path((rtype, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let deleted = state.repo.delete(&rtype, &id).await?;
    Ok(deleted_response(deleted.as_ref()))
}

/// 204 with the deletion's version as ETag (when something was deleted).
pub fn deleted_response(deleted: Option<&carefront_store::StoredResource>) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Some(d) = deleted {
        if let Ok(v) = response::etag(d.version).parse() {
            response.headers_mut().insert(header::ETAG, v);
        }
    }
    response
}
