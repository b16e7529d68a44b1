//! Type and system interactions that write: create, conditional update and delete, and
//! transaction/batch Bundles.

use axum::extract::{OriginalUri, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use carefront_store::repository::Preconditions;

use super::instance::deleted_response;
use super::request::{FhirHeaders, JsonBody};
use super::response;
use crate::{ApiError, AppState};

pub async fn create(
    State(state): State<AppState>,
    Path(rtype): Path<String>,
    h: FhirHeaders,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let w = state
        .repo
        .create(&rtype, body, h.if_none_exist.as_deref())
        .await?;
    let status = if w.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(response::written(status, w.resource, &h))
}

pub async fn conditional_update(
    State(state): State<AppState>,
    Path(rtype): Path<String>,
    OriginalUri(uri): OriginalUri,
    h: FhirHeaders,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let criteria = uri.query().unwrap_or("");
    let pre = Preconditions {
        if_match: h.if_match,
    };
    let w = state
        .repo
        .conditional_update(&rtype, criteria, body, &pre)
        .await?;
    let status = if w.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(response::written(status, w.resource, &h))
}

pub async fn conditional_delete(
    State(state): State<AppState>,
    Path(rtype): Path<String>,
    OriginalUri(uri): OriginalUri,
) -> Result<Response, ApiError> {
    let criteria = uri.query().unwrap_or("");
    let deleted = state.repo.conditional_delete(&rtype, criteria).await?;
    Ok(deleted_response(deleted.as_ref()))
}

pub async fn bundle(
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    if body.get("resourceType").and_then(|v| v.as_str()) != Some("Bundle") {
        return Err(ApiError::bad_request(
            "only a transaction or batch Bundle can be posted to the base URL",
        ));
    }
    let answer = state.repo.bundle(body).await?;
    Ok(response::json(StatusCode::OK, &answer))
}
