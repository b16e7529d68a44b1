//! Search: `GET [base]/[type]?...`, `POST [base]/[type]/_search` and the system forms.

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::response::Response;
use carefront_fhir::outcome::operation_outcome;
use carefront_fhir::search::{self, SearchQuery, Summary};
use carefront_fhir::{Issue, IssueCode, Severity};
use carefront_store::{SearchPage, StoredResource};
use serde_json::{json, Value};

use super::request::{query_pairs, FhirHeaders};
use super::response::{BundleWriter, Paging};
use crate::{ApiError, AppState};

pub async fn type_get(
    State(state): State<AppState>,
    Path(rtype): Path<String>,
    OriginalUri(uri): OriginalUri,
    h: FhirHeaders,
) -> Result<Response, ApiError> {
    let pairs = query_pairs(uri.query())?;
    run(&state, Some(&rtype), pairs, &h).await
}

pub async fn system_get(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    h: FhirHeaders,
) -> Result<Response, ApiError> {
    let pairs = query_pairs(uri.query())?;
    run(&state, None, pairs, &h).await
}

pub async fn type_post(
    State(state): State<AppState>,
    Path(rtype): Path<String>,
    OriginalUri(uri): OriginalUri,
    h: FhirHeaders,
    body: Bytes,
) -> Result<Response, ApiError> {
    let pairs = form_pairs(uri.query(), &body)?;
    run(&state, Some(&rtype), pairs, &h).await
}

pub async fn system_post(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    h: FhirHeaders,
    body: Bytes,
) -> Result<Response, ApiError> {
    let pairs = form_pairs(uri.query(), &body)?;
    run(&state, None, pairs, &h).await
}

/// `POST _search` takes parameters from the form body and the URL alike.
fn form_pairs(query: Option<&str>, body: &[u8]) -> Result<Vec<(String, String)>, ApiError> {
    let mut pairs = query_pairs(query)?;
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(body).map_err(|e| {
        ApiError::bad_request(format!(
            "the _search body must be application/x-www-form-urlencoded: {e}"
        ))
    })?;
    pairs.extend(form);
    Ok(pairs)
}

async fn run(
    state: &AppState,
    rtype: Option<&str>,
    pairs: Vec<(String, String)>,
    h: &FhirHeaders,
) -> Result<Response, ApiError> {
    let query = state.repo.parse_search(rtype, &pairs, h.lenient)?;
    let page = state.repo.search(&query).await?;
    Ok(searchset(&h.base, rtype, &pairs, &query, &page))
}

fn searchset(
    base: &str,
    rtype: Option<&str>,
    pairs: &[(String, String)],
    query: &SearchQuery,
    page: &SearchPage,
) -> Response {
    let path = match rtype {
        Some(t) => format!("{base}/{t}"),
        None => base.to_owned(),
    };
    let links = Paging {
        path: &path,
        pairs,
        dropped: &query.ignored,
        offset: query.offset,
        count: query.count,
        has_more: page.has_more,
    }
    .links();
    let mut bundle = BundleWriter::new("searchset", page.total, &links);
    let mode_match = json!({ "search": { "mode": "match" } });
    let mode_include = json!({ "search": { "mode": "include" } });
    for r in &page.matches {
        add(&mut bundle, base, r, query, &mode_match);
    }
    for r in &page.included {
        add(&mut bundle, base, r, query, &mode_include);
    }
    if !query.ignored.is_empty() {
        let issues: Vec<Issue> = query
            .ignored
            .iter()
            .map(|p| Issue {
                severity: Severity::Warning,
                code: IssueCode::NotSupported,
                diagnostics: format!("search parameter '{p}' was ignored"),
                expression: vec![],
            })
            .collect();
        let outcome = serde_json::to_vec(&operation_outcome(&issues)).unwrap_or_default();
        bundle.entry(
            "urn:uuid:search-outcome",
            Some(&outcome),
            &json!({ "search": { "mode": "outcome" } }),
        );
    }
    bundle.finish()
}

fn add(
    bundle: &mut BundleWriter,
    base: &str,
    r: &StoredResource,
    query: &SearchQuery,
    rest: &Value,
) {
    let full_url = format!("{base}/{}/{}", r.resource_type, r.id);
    if query.elements.is_none() && query.summary == Summary::False {
        bundle.entry(&full_url, Some(&r.content), rest);
        return;
    }
    let Ok(mut resource) = serde_json::from_slice::<Value>(&r.content) else {
        return;
    };
    if let Some(elements) = &query.elements {
        search::apply_elements(&mut resource, elements);
    }
    if query.summary != Summary::False {
        search::apply_summary(&mut resource, query.summary);
    }
    let bytes = serde_json::to_vec(&resource).unwrap_or_default();
    bundle.entry(&full_url, Some(&bytes), rest);
}
