//! Turning a client's resource into a new stored version: checks, id and meta stamping,
//! validation, search index.

use carefront_fhir::search::IndexEntry;
use carefront_fhir::{search, validate, Issue, IssueCode};
use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::RepoError;
use crate::{NewVersion, StoredResource, WriteMethod};

/// Microseconds since the Unix epoch, now.
pub fn now_micros() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1000) as i64
}

/// A FHIR instant (`2026-11-23T19:42:42.123456Z`) for microseconds since the epoch.
pub fn format_instant(micros: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(micros as i128 * 1000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

pub fn body_id(resource: &Value) -> Option<&str> {
    resource.get("id").and_then(Value::as_str)
}

/// An update's body must carry the id of its URL (FHIR: 400 otherwise).
pub fn check_body_id(body_id: Option<&str>, expected: Option<&str>) -> Result<(), RepoError> {
    match (body_id, expected) {
        (Some(a), Some(b)) if a == b => Ok(()),
        (None, Some(b)) => Err(RepoError::BadRequest(
            Issue::error(
                IssueCode::Invalid,
                format!("the resource has no id; an update must carry the id of its URL ('{b}')"),
            )
            .at("id"),
        )),
        (Some(a), Some(b)) => Err(RepoError::BadRequest(
            Issue::error(
                IssueCode::Invalid,
                format!("the resource id '{a}' does not match the id '{b}' in the URL"),
            )
            .at("id"),
        )),
        (_, None) => Ok(()),
    }
}

/// A client's resource that passed every check that does not depend on what is stored:
/// right type, valid R4, and its search index extracted.
#[derive(Debug, Clone)]
pub struct Checked {
    resource_type: String,
    body: Map<String, Value>,
    index: Vec<IndexEntry>,
}

impl Checked {
    /// The id the client put in the body, if any.
    pub fn id(&self) -> Option<&str> {
        self.body.get("id").and_then(Value::as_str)
    }

    pub fn resource_type(&self) -> &str {
        &self.resource_type
    }
}

/// Check `resource` as a `resource_type` and extract its search index.
pub fn check(resource_type: &str, resource: Value) -> Result<Checked, RepoError> {
    let Value::Object(body) = resource else {
        return Err(RepoError::BadRequest(Issue::error(
            IssueCode::Structure,
            "the body must be a JSON object holding a FHIR resource",
        )));
    };
    match body.get("resourceType").and_then(Value::as_str) {
        Some(t) if t == resource_type => {}
        Some(t) => {
            return Err(RepoError::BadRequest(
                Issue::error(
                    IssueCode::Invalid,
                    format!("the body holds a {t}, but the URL is for {resource_type}"),
                )
                .at("resourceType"),
            ))
        }
        None => {
            return Err(RepoError::BadRequest(
                Issue::error(IssueCode::Required, "the resource has no resourceType")
                    .at("resourceType"),
            ))
        }
    }
    let resource = Value::Object(body);
    validate::validate(&resource).map_err(RepoError::Invalid)?;
    // The index does not depend on id, version or lastUpdated (`_id` and `_lastUpdated`
    // are columns), so it can be extracted before they are stamped.
    let index = search::extract(&resource);
    let Value::Object(body) = resource else {
        unreachable!("checked to be an object above")
    };
    Ok(Checked {
        resource_type: resource_type.to_owned(),
        body,
        index,
    })
}

/// A change the server itself makes to a stored, valid resource that keeps it valid (a
/// Slot's status flipping between R4 codes when it is booked): only the search index is
/// extracted again. Validation is skipped because this runs inside write transactions, where
/// on SQLite every microsecond is spent holding the single writer.
pub fn derived(resource_type: &str, resource: Value) -> Result<Checked, RepoError> {
    let index = search::extract(&resource);
    let Value::Object(body) = resource else {
        return Err(RepoError::BadRequest(Issue::error(
            IssueCode::Structure,
            "the body must be a JSON object holding a FHIR resource",
        )));
    };
    Ok(Checked {
        resource_type: resource_type.to_owned(),
        body,
        index,
    })
}

/// Stamp `checked` with id, version and lastUpdated as the version after `current` (or the
/// first one).
pub fn new_version(
    checked: &Checked,
    id: &str,
    current: Option<&StoredResource>,
    method: WriteMethod,
) -> Result<NewVersion, RepoError> {
    check_id(id)?;
    let mut body = checked.body.clone();
    body.insert("id".into(), Value::String(id.to_owned()));
    let version = current.map_or(1, |c| c.version + 1);
    let last_updated = now_micros().max(current.map_or(0, |c| c.last_updated + 1));
    stamp_meta(&mut body, version, last_updated);
    let content = serde_json::to_vec(&body)
        .map_err(|e| RepoError::BadRequest(Issue::error(IssueCode::Structure, e.to_string())))?;
    Ok(NewVersion {
        resource_type: checked.resource_type.clone(),
        id: id.to_owned(),
        replaces: current.map(|c| c.version),
        version,
        last_updated,
        deleted: false,
        method,
        content,
        index: checked.index.clone(),
    })
}

/// The deletion marker that follows `current`.
pub fn deletion(current: &StoredResource) -> NewVersion {
    NewVersion {
        resource_type: current.resource_type.clone(),
        id: current.id.clone(),
        replaces: Some(current.version),
        version: current.version + 1,
        last_updated: now_micros().max(current.last_updated + 1),
        deleted: true,
        method: WriteMethod::Delete,
        content: Vec::new(),
        index: Vec::new(),
    }
}

fn stamp_meta(body: &mut Map<String, Value>, version: i64, last_updated: i64) {
    let meta = body
        .entry("meta")
        .or_insert_with(|| Value::Object(Map::new()));
    if !meta.is_object() {
        *meta = Value::Object(Map::new());
    }
    let meta = meta.as_object_mut().expect("meta is an object");
    meta.insert("versionId".into(), Value::String(version.to_string()));
    meta.insert(
        "lastUpdated".into(),
        Value::String(format_instant(last_updated)),
    );
}

/// An id in a URL must be a valid FHIR id (400 otherwise).
pub fn check_id(id: &str) -> Result<(), RepoError> {
    if valid_id(id) {
        return Ok(());
    }
    Err(RepoError::BadRequest(Issue::error(
        IssueCode::Value,
        format!("'{id}' is not a valid FHIR id (1-64 of A-Z, a-z, 0-9, '-' and '.')"),
    )))
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

pub fn parse_patch(patch: &Value) -> Result<json_patch::Patch, RepoError> {
    serde_json::from_value(patch.clone()).map_err(|e| {
        RepoError::BadRequest(Issue::error(
            IssueCode::Invalid,
            format!("the body is not a JSON Patch document (RFC 6902): {e}"),
        ))
    })
}

/// `current` with `patch` applied; the patch may not change the type or id.
pub fn apply_patch(
    current: &StoredResource,
    patch: &json_patch::Patch,
) -> Result<Value, RepoError> {
    let mut doc: Value = serde_json::from_slice(&current.content)
        .map_err(|e| RepoError::Store(crate::StoreError::Database(e.to_string())))?;
    json_patch::patch(&mut doc, patch).map_err(|e| {
        RepoError::Invalid(vec![Issue::error(
            IssueCode::Invalid,
            format!("the patch cannot be applied: {e}"),
        )])
    })?;
    if doc.get("resourceType").and_then(Value::as_str) != Some(current.resource_type.as_str())
        || body_id(&doc) != Some(current.id.as_str())
    {
        return Err(RepoError::Invalid(vec![Issue::error(
            IssueCode::Invalid,
            "a patch may not change the resourceType or the id",
        )]));
    }
    Ok(doc)
}
