//! History: `GET [base]/_history`, `[type]/_history`, `[type]/[id]/_history`.

use axum::extract::{OriginalUri, Path, State};
use axum::response::Response;
use carefront_store::repository::{format_instant, RepoError};
use carefront_store::{HistoryQuery, HistoryScope, WriteMethod};
use serde_json::json;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::access::{decide_type, permit, Facts};
use super::request::{query_pairs, FhirHeaders};
use super::response::{etag, BundleWriter, Paging};
use crate::auth::Caller;
use crate::{ApiError, AppState};
use carefront_auth::Action;

pub async fn system(
    State(state): State<AppState>,
    caller: Caller,
    OriginalUri(uri): OriginalUri,
    h: FhirHeaders,
) -> Result<Response, ApiError> {
    // Every type at once: only a caller allowed every type ("*") may.
    permit(decide_type(&caller, Action::History, "*"))?;
    run(&state, HistoryScope::System, uri.query(), &h).await
}

pub async fn type_level(
    State(state): State<AppState>,
    caller: Caller,
    Path(rtype): Path<String>,
    OriginalUri(uri): OriginalUri,
    h: FhirHeaders,
) -> Result<Response, ApiError> {
    permit(decide_type(&caller, Action::History, &rtype))?;
    run(&state, HistoryScope::Type(rtype), uri.query(), &h).await
}

pub async fn instance(
    State(state): State<AppState>,
    caller: Caller,
    Path((rtype, id)): Path<(String, String)>,
    OriginalUri(uri): OriginalUri,
    h: FhirHeaders,
) -> Result<Response, ApiError> {
    // An unknown resource has no history: 404 rather than an empty bundle.
    let Some(current) = state
        .repo
        .store()
        .read(&rtype, &id)
        .await
        .map_err(RepoError::from)?
    else {
        return Err(RepoError::not_found(&rtype, &id).into());
    };
    // Decided on the current version (a deleted one: on the type alone).
    permit(
        Facts::default()
            .decide_stored(&state, &caller, Action::History, &current)
            .await,
    )?;
    run(&state, HistoryScope::Instance(rtype, id), uri.query(), &h).await
}

async fn run(
    state: &AppState,
    scope: HistoryScope,
    query: Option<&str>,
    h: &FhirHeaders,
) -> Result<Response, ApiError> {
    let pairs = query_pairs(query)?;
    let limits = state.repo.limits;
    let mut q = HistoryQuery {
        scope: scope.clone(),
        since: None,
        before: None,
        count: limits.default_count,
        offset: 0,
    };
    for (k, v) in &pairs {
        match k.as_str() {
            "_count" => q.count = number(k, v)?.min(limits.max_count),
            "_offset" => q.offset = number(k, v)?,
            "_since" => q.since = Some(instant(k, v)?),
            "_at" => q.before = Some(instant(k, v)? + 1),
            "_format" | "_pretty" => {}
            other if h.lenient => tracing::debug!(param = other, "ignored history parameter"),
            other => {
                return Err(ApiError::bad_request(format!(
                    "'{other}' is not a history parameter (use _count, _since, _at)"
                )))
            }
        }
    }
    let page = state.repo.history(&q).await?;
    let path = match &scope {
        HistoryScope::System => format!("{}/_history", h.base),
        HistoryScope::Type(t) => format!("{}/{t}/_history", h.base),
        HistoryScope::Instance(t, id) => format!("{}/{t}/{id}/_history", h.base),
    };
    let links = Paging {
        path: &path,
        pairs: &pairs,
        dropped: &[],
        offset: q.offset,
        count: q.count,
        has_more: q.offset + page.versions.len() < page.total as usize,
    }
    .links();
    let mut bundle = BundleWriter::new("history", Some(page.total), &links);
    for (r, method) in &page.versions {
        let url = match method {
            WriteMethod::Create => r.resource_type.clone(),
            _ => format!("{}/{}", r.resource_type, r.id),
        };
        let status = match method {
            WriteMethod::Create => "201 Created",
            WriteMethod::Delete => "204 No Content",
            _ => "200 OK",
        };
        let rest = json!({
            "request": { "method": method.as_str(), "url": url },
            "response": {
                "status": status,
                "etag": etag(r.version),
                "lastModified": format_instant(r.last_updated),
            },
        });
        let resource = (!r.deleted).then_some(r.content.as_slice());
        bundle.entry(
            &format!("{}/{}/{}", h.base, r.resource_type, r.id),
            resource,
            &rest,
        );
    }
    Ok(bundle.finish())
}

fn number(name: &str, v: &str) -> Result<usize, ApiError> {
    v.parse()
        .map_err(|_| ApiError::bad_request(format!("{name} must be a whole number, not '{v}'")))
}

fn instant(name: &str, v: &str) -> Result<i64, ApiError> {
    OffsetDateTime::parse(v, &Rfc3339)
        .map(|t| (t.unix_timestamp_nanos() / 1000) as i64)
        .map_err(|_| {
            ApiError::bad_request(format!(
                "{name} must be an instant such as 2024-01-31T09:00:00Z, not '{v}'"
            ))
        })
}
