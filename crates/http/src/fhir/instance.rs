//! Instance interactions: read, vread, update, patch, delete.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use carefront_auth::Action;
use carefront_fhir::IssueCode;
use carefront_store::repository::Preconditions;
use serde_json::Value;

use super::access::{self, permit, Facts};
use super::request::{FhirHeaders, JsonBody};
use super::response;
use crate::auth::Caller;
use crate::{ApiError, AppState};

pub async fn read(
    State(state): State<AppState>,
    caller: Caller,
    Path((rtype, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let r = state.repo.read(&rtype, &id).await?;
    permit(
        Facts::default()
            .decide_stored(&state, &caller, Action::Read, &r)
            .await,
    )?;
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
    caller: Caller,
    Path((rtype, id, vid)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let r = state.repo.read_version(&rtype, &id, &vid).await?;
    permit(
        Facts::default()
            .decide_stored(&state, &caller, Action::Read, &r)
            .await,
    )?;
    Ok(response::resource(r))
}

pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path((rtype, id)): Path<(String, String)>,
    h: FhirHeaders,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    check_write(&state, &caller, &rtype, &id, Some(&body)).await?;
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
    caller: Caller,
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
    check_write(&state, &caller, &rtype, &id, None).await?;
    if access::needs_facts(&caller, &rtype) && moves_compartment(&body) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            IssueCode::Forbidden,
            "your role cannot PATCH whose record this is (the id, patient, subject, \
             beneficiary or organisations); use PUT",
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
    caller: Caller,
    Path((rtype, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let current = match access::needs_facts(&caller, &rtype) {
        true => state.repo.store().read(&rtype, &id).await.ok().flatten(),
        false => None,
    };
    permit(match current.filter(|c| !c.deleted) {
        Some(current) => {
            Facts::default()
                .decide_stored(&state, &caller, Action::Delete, &current)
                .await
        }
        None => access::decide_type(&caller, Action::Delete, &rtype),
    })?;
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

/// An update (with its new `body`) or a patch (`None`) of `rtype/id`: the caller must be
/// allowed to change the stored resource and, for an update, to write what it becomes.
async fn check_write(
    state: &AppState,
    caller: &Caller,
    rtype: &str,
    id: &str,
    body: Option<&Value>,
) -> Result<(), ApiError> {
    if !access::needs_facts(caller, rtype) {
        permit(access::decide_type(caller, Action::Update, rtype))?;
        return Ok(());
    }
    let mut facts = Facts::default();
    let current = state.repo.store().read(rtype, id).await.ok().flatten();
    if let Some(current) = current.as_ref().filter(|c| !c.deleted) {
        permit(
            facts
                .decide_stored(state, caller, Action::Update, current)
                .await,
        )?;
    }
    if let Some(body) = body {
        let action = if current.is_some() {
            Action::Update
        } else {
            Action::Create
        };
        permit(
            facts
                .decide(state, caller, action, rtype, Some(body), Some(id))
                .await,
        )?;
    }
    Ok(())
}

/// Whether a JSON Patch touches what decides whose record a resource is.
fn moves_compartment(patch: &Value) -> bool {
    const GUARDED: &[&str] = &[
        "/id",
        "/patient",
        "/subject",
        "/beneficiary",
        "/managingOrganization",
        "/generalPractitioner",
    ];
    patch.as_array().into_iter().flatten().any(|op| {
        ["path", "from"].iter().any(|k| {
            op[k].as_str().is_some_and(|p| {
                GUARDED
                    .iter()
                    .any(|g| p == *g || p.starts_with(&format!("{g}/")))
            })
        })
    })
}
