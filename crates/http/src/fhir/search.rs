//! Search: `GET [base]/[type]?...`, `POST [base]/[type]/_search` and the system forms.

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::response::Response;
use carefront_fhir::outcome::operation_outcome;
use carefront_fhir::search::{self, SearchQuery, Summary};
use carefront_fhir::{Issue, IssueCode, Severity};
use carefront_store::{SearchPage, StoredResource};
use serde_json::{json, Value};

use super::access::{decide_type, needs_facts, permit, refusal, Facts};
use super::request::{query_pairs, FhirHeaders};
use super::response::{BundleWriter, Paging};
use crate::auth::Caller;
use crate::{ApiError, AppState};
use carefront_auth::{Action, Decision, DenyReason, Principal, Role};

pub async fn type_get(
    State(state): State<AppState>,
    caller: Caller,
    Path(rtype): Path<String>,
    OriginalUri(uri): OriginalUri,
    h: FhirHeaders,
) -> Result<Response, ApiError> {
    let pairs = query_pairs(uri.query())?;
    run(&state, &caller, Some(&rtype), pairs, &h).await
}

pub async fn system_get(
    State(state): State<AppState>,
    caller: Caller,
    OriginalUri(uri): OriginalUri,
    h: FhirHeaders,
) -> Result<Response, ApiError> {
    let pairs = query_pairs(uri.query())?;
    run(&state, &caller, None, pairs, &h).await
}

pub async fn type_post(
    State(state): State<AppState>,
    caller: Caller,
    Path(rtype): Path<String>,
    OriginalUri(uri): OriginalUri,
    h: FhirHeaders,
    body: Bytes,
) -> Result<Response, ApiError> {
    let pairs = form_pairs(uri.query(), &body)?;
    run(&state, &caller, Some(&rtype), pairs, &h).await
}

pub async fn system_post(
    State(state): State<AppState>,
    caller: Caller,
    OriginalUri(uri): OriginalUri,
    h: FhirHeaders,
    body: Bytes,
) -> Result<Response, ApiError> {
    let pairs = form_pairs(uri.query(), &body)?;
    run(&state, &caller, None, pairs, &h).await
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
    caller: &Caller,
    rtype: Option<&str>,
    pairs: Vec<(String, String)>,
    h: &FhirHeaders,
) -> Result<Response, ApiError> {
    // A system search spans every type: only a caller allowed every type ("*") may.
    let decided_type = rtype.unwrap_or("*");
    let mut restricted = None;
    let decision = match &caller.principal {
        Principal::Account(a) if a.role == Role::Patient && needs_facts(caller, decided_type) => {
            let own = a
                .patient_id
                .as_ref()
                .ok_or(refusal(DenyReason::NoLinkedPatient))?;
            // Limited to their own compartment by an extra filter, so paging and totals
            // stay right.
            restricted = Some(
                compartment_filter(decided_type, own.id())
                    .ok_or(refusal(DenyReason::CompartmentRequired))?,
            );
            Decision::Allow {
                audit_required: false,
            }
        }
        _ => decide_type(caller, Action::Search, decided_type),
    };
    // A practitioner's search across patients keeps the matches of their patients only.
    let per_resource = needs_facts(caller, decided_type) && restricted.is_none();
    let mut query_pairs = pairs.clone();
    query_pairs.extend(restricted);
    let query = state.repo.parse_search(rtype, &query_pairs, h.lenient)?;
    let aggregate_only = decision == Decision::AllowAggregateOnly;
    match decision {
        Decision::Deny(DenyReason::CompartmentRequired) if per_resource && rtype.is_some() => {}
        Decision::AllowAggregateOnly
            if query.summary == Summary::Count
                && query.includes.is_empty()
                && query.revincludes.is_empty() => {}
        d => {
            permit(d)?;
        }
    }
    let mut page = state.repo.search(&query).await?;
    if aggregate_only {
        // Figures, never a resource.
        page.matches.clear();
        page.included.clear();
    }
    let mut facts = Facts::default();
    if needs_facts(caller, decided_type) {
        let before = page.matches.len();
        page.matches = keep_readable(state, caller, &mut facts, page.matches).await;
        if per_resource || page.matches.len() != before {
            // The total counted what was not kept.
            page.total = None;
        }
    }
    if !page.included.is_empty() {
        page.included = keep_readable(state, caller, &mut facts, page.included).await;
    }
    Ok(searchset(&h.base, rtype, &pairs, &query, &page))
}

/// The search parameter that limits `rtype` to one patient's compartment, with its value.
fn compartment_filter(rtype: &str, patient_id: &str) -> Option<(String, String)> {
    if rtype == "Patient" {
        return Some(("_id".into(), patient_id.into()));
    }
    ["patient", "subject", "beneficiary"]
        .into_iter()
        .find(|code| {
            search::search_param(rtype, code).is_some_and(|p| {
                p.is_supported() && (*code == "patient" || p.targets.iter().any(|t| t == "Patient"))
            })
        })
        .map(|code| (code.into(), format!("Patient/{patient_id}")))
}

/// The resources the caller may read, each decided on its own (included resources can be of
/// any type and any patient).
async fn keep_readable(
    state: &AppState,
    caller: &Caller,
    facts: &mut Facts,
    resources: Vec<StoredResource>,
) -> Vec<StoredResource> {
    let mut kept = Vec::with_capacity(resources.len());
    for r in resources {
        if facts
            .decide_stored(state, caller, Action::Read, &r)
            .await
            .is_allowed()
        {
            kept.push(r);
        }
    }
    kept
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
