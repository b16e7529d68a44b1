//! Type and system interactions that write: create, conditional update and delete, and
//! transaction/batch Bundles.

use axum::extract::{OriginalUri, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use carefront_auth::Action;
use carefront_store::repository::Preconditions;
use serde_json::Value;

use super::access::{self, permit, Facts};
use super::instance::deleted_response;
use super::request::{query_pairs, FhirHeaders, JsonBody};
use super::response;
use crate::auth::Caller;
use crate::{ApiError, AppState};

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(rtype): Path<String>,
    h: FhirHeaders,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let mut facts = Facts::default();
    permit(
        facts
            .decide(&state, &caller, Action::Create, &rtype, Some(&body), None)
            .await,
    )?;
    let w = state
        .repo
        .create(&rtype, body, h.if_none_exist.as_deref())
        .await?;
    if !w.created {
        // If-None-Exist found a resource and nothing was written: it is a read of that one.
        permit(
            facts
                .decide_stored(&state, &caller, Action::Read, &w.resource)
                .await,
        )?;
    }
    let status = if w.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(response::written(status, w.resource, &h))
}

pub async fn conditional_update(
    State(state): State<AppState>,
    caller: Caller,
    Path(rtype): Path<String>,
    OriginalUri(uri): OriginalUri,
    h: FhirHeaders,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let criteria = uri.query().unwrap_or("");
    check_conditional(
        &state,
        &caller,
        &rtype,
        criteria,
        Action::Update,
        Some(&body),
    )
    .await?;
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
    caller: Caller,
    Path(rtype): Path<String>,
    OriginalUri(uri): OriginalUri,
) -> Result<Response, ApiError> {
    let criteria = uri.query().unwrap_or("");
    check_conditional(&state, &caller, &rtype, criteria, Action::Delete, None).await?;
    let deleted = state.repo.conditional_delete(&rtype, criteria).await?;
    Ok(deleted_response(deleted.as_ref()))
}

pub async fn bundle(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    if body.get("resourceType").and_then(|v| v.as_str()) != Some("Bundle") {
        return Err(ApiError::bad_request(
            "only a transaction or batch Bundle can be posted to the base URL",
        ));
    }
    super::bundle_access::check(&state, &caller, &body).await?;
    let answer = state.repo.bundle(body).await?;
    Ok(response::json(StatusCode::OK, &answer))
}

/// A conditional update or delete acts on whatever its criteria match: the caller must be
/// allowed `action` on each match (at most two are looked at: more is refused anyway) and,
/// for an update, to write the new `body`.
pub(super) async fn check_conditional(
    state: &AppState,
    caller: &Caller,
    rtype: &str,
    criteria: &str,
    action: Action,
    body: Option<&Value>,
) -> Result<(), ApiError> {
    if !access::needs_facts(caller, rtype) {
        permit(access::decide_type(caller, action, rtype))?;
        return Ok(());
    }
    let mut pairs = query_pairs(Some(criteria.trim_start_matches('?')))?;
    pairs.retain(|(k, _)| k != "_count");
    pairs.push(("_count".into(), "2".into()));
    let query = state.repo.parse_search(Some(rtype), &pairs, false)?;
    let page = state.repo.search(&query).await?;
    let mut facts = Facts::default();
    for current in &page.matches {
        permit(facts.decide_stored(state, caller, action, current).await)?;
    }
    if let Some(body) = body {
        let action = if page.matches.is_empty() {
            Action::Create
        } else {
            Action::Update
        };
        let id = page.matches.first().map(|m| m.id.as_str());
        permit(
            facts
                .decide(state, caller, action, rtype, Some(body), id)
                .await,
        )?;
    } else if page.matches.is_empty() {
        permit(access::decide_type(caller, action, rtype)).map(|_| ())?;
    }
    Ok(())
}
