//! Access control of transaction and batch Bundles: every entry is authorised before
//! anything runs, as if it were sent on its own, and one refused entry refuses the whole
//! Bundle (403, nothing written). Entries may point at Patients created by other entries
//! (`urn:uuid:` full URLs); those count as new patients managed by what their body says.

use carefront_auth::Action;
use carefront_fhir::resource_types::is_resource_type;
use serde_json::Value;

use super::access::{self, permit, Facts};
use super::type_level::check_conditional;
use crate::auth::Caller;
use crate::{ApiError, AppState};

/// One entry's request, as far as access control needs it.
struct Entry<'a> {
    action: Action,
    resource_type: &'a str,
    id: Option<&'a str>,
    query: Option<&'a str>,
    if_none_exist: Option<&'a str>,
    resource: Option<&'a Value>,
    patch: bool,
}

pub async fn check(state: &AppState, caller: &Caller, bundle: &Value) -> Result<(), ApiError> {
    let raw = bundle["entry"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    let entries: Vec<Entry<'_>> = raw.iter().filter_map(parse).collect();
    let mut facts = Facts::default();
    // Patients created here, so that entries about them can be decided.
    for e in raw {
        if e["request"]["method"] == "POST" && e["resource"]["resourceType"] == "Patient" {
            if let Some(url) = e["fullUrl"].as_str() {
                facts.new_patient(url, &e["resource"]);
            }
        }
    }
    for e in &entries {
        if !access::needs_facts(caller, e.resource_type) {
            permit(access::decide_type(caller, e.action, e.resource_type))?;
            continue;
        }
        if e.patch {
            // The patch is applied inside the transaction, too late to see whose record it
            // makes the resource.
            return Err(ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                carefront_fhir::IssueCode::Forbidden,
                "your role cannot PATCH inside a Bundle; use PUT",
            ));
        }
        match (e.action, e.query, e.id) {
            (Action::Create, _, _) => {
                permit(
                    facts
                        .decide(state, caller, e.action, e.resource_type, e.resource, None)
                        .await,
                )?;
                if let Some(criteria) = e.if_none_exist {
                    // A match is answered instead of being created: that is a read of it.
                    check_conditional(state, caller, e.resource_type, criteria, Action::Read, None)
                        .await?;
                }
            }
            (action @ (Action::Update | Action::Delete), Some(criteria), _) => {
                let body = e.resource.filter(|_| action == Action::Update);
                check_conditional(state, caller, e.resource_type, criteria, action, body).await?;
            }
            (action, None, Some(id)) => {
                let current = state
                    .repo
                    .store()
                    .read(e.resource_type, id)
                    .await
                    .ok()
                    .flatten();
                let current = current.filter(|c| !c.deleted);
                if let Some(current) = &current {
                    permit(facts.decide_stored(state, caller, action, current).await)?;
                }
                if let (Action::Update, Some(body)) = (action, e.resource) {
                    let action = if current.is_some() {
                        Action::Update
                    } else {
                        Action::Create
                    };
                    permit(
                        facts
                            .decide(state, caller, action, e.resource_type, Some(body), Some(id))
                            .await,
                    )?;
                }
                if current.is_none() && e.resource.is_none() {
                    permit(access::decide_type(caller, action, e.resource_type))?;
                }
            }
            (action, _, _) => {
                permit(access::decide_type(caller, action, e.resource_type)).map(|_| ())?
            }
        }
    }
    Ok(())
}

/// The entry's interaction; entries the repository will refuse anyway are skipped.
fn parse(entry: &Value) -> Option<Entry<'_>> {
    let request = &entry["request"];
    let url = request["url"].as_str()?;
    let (path, query) = match url.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (url, None),
    };
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let start = segments.iter().position(|s| is_resource_type(s))?;
    let resource_type = segments[start];
    let id = segments.get(start + 1).copied();
    let action = match request["method"].as_str()? {
        "POST" => Action::Create,
        "PUT" | "PATCH" => Action::Update,
        "DELETE" => Action::Delete,
        "GET" if id.is_some() => Action::Read,
        "GET" => Action::Search,
        _ => return None,
    };
    Some(Entry {
        action,
        resource_type,
        id,
        query,
        if_none_exist: request["ifNoneExist"].as_str(),
        resource: entry.get("resource"),
        patch: request["method"] == "PATCH",
    })
}
