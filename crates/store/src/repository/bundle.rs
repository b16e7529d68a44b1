//! Transaction and batch Bundles (`POST [base]` with a Bundle).
//!
//! A transaction runs every entry in one store transaction: all succeed or nothing is
//! written. Entries are processed in the order FHIR prescribes (DELETE, POST, PUT/PATCH,
//! GET), and `urn:uuid:` full URLs are resolved to the ids the server assigns (or the ids of
//! existing resources matched by `ifNoneExist` / conditional PUT) before anything is written,
//! so entries may reference each other in any order. A batch runs each entry on its own.

use std::collections::{HashMap, HashSet};

use carefront_fhir::{Issue, IssueCode};
use serde_json::{json, Map, Value};

use super::{format_instant, single_match, Preconditions, RepoError, Repository, Written};
use crate::{StoreTx, StoredResource};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BundleKind {
    Transaction,
    Batch,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Method {
    Delete,
    Post,
    Put,
    Patch,
    Get,
}

/// One entry's request, parsed.
#[derive(Debug, Clone)]
struct Entry {
    index: usize,
    method: Method,
    resource_type: String,
    id: Option<String>,
    version: Option<String>,
    /// The query of a conditional or search URL (`Patient?identifier=...`).
    query: Option<String>,
    if_none_exist: Option<String>,
    if_match: Option<i64>,
    full_url: Option<String>,
    resource: Option<Value>,
}

/// The outcome of one entry, for the response Bundle.
enum EntryResult {
    Written(Written),
    Deleted(Option<StoredResource>),
    Read(StoredResource),
    Failed(RepoError),
}

impl Repository {
    /// Process a transaction or batch Bundle and answer with its response Bundle.
    pub async fn bundle(&self, bundle: Value) -> Result<Value, RepoError> {
        let (kind, entries) = parse_bundle(&bundle)?;
        let results = match kind {
            BundleKind::Transaction => {
                super::retrying!(self, |tx| self.transaction_in(tx, &entries).await)?
            }
            BundleKind::Batch => {
                let mut results = Vec::with_capacity(entries.len());
                for entry in entries {
                    let index = entry.index;
                    results.push((index, self.batch_entry(entry).await));
                }
                results
            }
        };
        let response_type = match kind {
            BundleKind::Transaction => "transaction-response",
            BundleKind::Batch => "batch-response",
        };
        let mut ordered: Vec<(usize, EntryResult)> = results;
        ordered.sort_by_key(|(i, _)| *i);
        Ok(json!({
            "resourceType": "Bundle",
            "type": response_type,
            "entry": ordered.into_iter().map(|(_, r)| response_entry(r)).collect::<Vec<_>>(),
        }))
    }

    async fn transaction_in(
        &self,
        tx: &mut dyn StoreTx,
        entries: &[Entry],
    ) -> Result<Vec<(usize, EntryResult)>, RepoError> {
        let mut order: Vec<&Entry> = entries.iter().collect();
        order.sort_by_key(|e| (e.method, e.index));
        let mut targets: HashMap<usize, Target> = HashMap::new();
        let mut aliases: HashMap<String, String> = HashMap::new();
        // FHIR: a transaction may not act on one resource through two entries.
        let mut touched: HashSet<(String, String)> = HashSet::new();
        for entry in &order {
            let target = self
                .resolve_target(tx, entry)
                .await
                .map_err(|e| RepoError::InEntry(entry.index, Box::new(e)))?;
            if entry.method != Method::Get {
                if let Some(id) = target.id() {
                    if !touched.insert((entry.resource_type.clone(), id.to_owned())) {
                        return Err(RepoError::InEntry(
                            entry.index,
                            Box::new(RepoError::BadRequest(Issue::error(
                                IssueCode::Invalid,
                                format!(
                                    "{}/{id} is changed by more than one entry of the transaction",
                                    entry.resource_type
                                ),
                            ))),
                        ));
                    }
                }
            }
            if let (Some(full_url), Some(id)) = (&entry.full_url, target.id()) {
                aliases.insert(full_url.clone(), format!("{}/{id}", entry.resource_type));
            }
            targets.insert(entry.index, target);
        }
        let mut results = Vec::with_capacity(entries.len());
        for entry in order {
            let mut resource = entry.resource.clone();
            if let Some(r) = resource.as_mut() {
                rewrite_references(r, &aliases);
            }
            let target = targets.remove(&entry.index).expect("target resolved above");
            let result = self
                .run_in_transaction(tx, entry, resource, target)
                .await
                .map_err(|e| RepoError::InEntry(entry.index, Box::new(e)))?;
            results.push((entry.index, result));
        }
        Ok(results)
    }

    /// Work out which resource an entry writes before anything is written, so that
    /// references to its full URL can be rewritten.
    async fn resolve_target(
        &self,
        tx: &mut dyn StoreTx,
        entry: &Entry,
    ) -> Result<Target, RepoError> {
        Ok(match (entry.method, &entry.query) {
            (Method::Post, _) => match &entry.if_none_exist {
                Some(criteria) => {
                    let condition = self.condition(&entry.resource_type, criteria)?;
                    tx.lock(&format!("create:{}:{condition:?}", entry.resource_type))
                        .await?;
                    match single_match(tx, &condition).await? {
                        Some(existing) => Target::Existing(existing),
                        None => Target::New(uuid::Uuid::new_v4().to_string()),
                    }
                }
                None => Target::New(uuid::Uuid::new_v4().to_string()),
            },
            (Method::Put, Some(criteria)) => {
                let condition = self.condition(&entry.resource_type, criteria)?;
                match single_match(tx, &condition).await? {
                    Some(existing) => Target::Id(existing.id),
                    None => Target::New(
                        entry
                            .resource
                            .as_ref()
                            .and_then(super::prepare::body_id)
                            .map(str::to_owned)
                            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
                    ),
                }
            }
            (Method::Delete, Some(criteria)) => {
                let condition = self.condition(&entry.resource_type, criteria)?;
                match single_match(tx, &condition).await? {
                    Some(existing) => Target::Id(existing.id),
                    None => Target::Nothing,
                }
            }
            (_, None) => match &entry.id {
                Some(id) => Target::Id(id.clone()),
                None => Target::Nothing,
            },
            (Method::Patch | Method::Get, Some(_)) => {
                return Err(RepoError::BadRequest(Issue::error(
                    IssueCode::NotSupported,
                    "conditional PATCH and searches are not supported inside a Bundle",
                )))
            }
        })
    }

    async fn run_in_transaction(
        &self,
        tx: &mut dyn StoreTx,
        entry: &Entry,
        resource: Option<Value>,
        target: Target,
    ) -> Result<EntryResult, RepoError> {
        let pre = Preconditions {
            if_match: entry.if_match,
        };
        let rt = entry.resource_type.as_str();
        Ok(match (entry.method, target) {
            (Method::Post, Target::Existing(existing)) => EntryResult::Written(Written {
                resource: existing,
                created: false,
            }),
            (Method::Post, Target::New(id)) => {
                let checked = super::prepare::check(rt, need(resource)?)?;
                EntryResult::Written(self.create_in(tx, rt, &checked, None, Some(id)).await?)
            }
            (Method::Put, Target::Id(id) | Target::New(id)) => {
                let mut resource = need(resource)?;
                if entry.query.is_some() {
                    // Conditional PUT: the body may omit the id the criteria found.
                    resource["id"] = Value::String(id.clone());
                }
                let checked = super::prepare::check(rt, resource)?;
                EntryResult::Written(self.update_in(tx, rt, &id, &checked, &pre).await?)
            }
            (Method::Patch, Target::Id(id)) => {
                let patch = super::prepare::parse_patch(&need(resource)?)?;
                EntryResult::Written(self.patch_in(tx, rt, &id, &patch, &pre).await?)
            }
            (Method::Delete, Target::Id(id)) => {
                EntryResult::Deleted(self.delete_in(tx, rt, &id).await?)
            }
            (Method::Delete, Target::Nothing) => EntryResult::Deleted(None),
            (Method::Get, Target::Id(id)) => EntryResult::Read(match &entry.version {
                Some(v) => self.read_version(rt, &id, v).await?,
                None => match tx.read(rt, &id).await? {
                    Some(r) if !r.deleted => r,
                    Some(r) => return Err(RepoError::Gone(r)),
                    None => return Err(RepoError::not_found(rt, &id)),
                },
            }),
            _ => {
                return Err(RepoError::BadRequest(Issue::error(
                    IssueCode::Invalid,
                    "this request needs a resource id in its URL",
                )))
            }
        })
    }

    async fn batch_entry(&self, entry: Entry) -> EntryResult {
        let rt = entry.resource_type.as_str();
        let pre = Preconditions {
            if_match: entry.if_match,
        };
        let result = match (entry.method, entry.id.as_deref(), entry.query.as_deref()) {
            (Method::Post, _, _) => match entry.resource {
                Some(r) => self
                    .create(rt, r, entry.if_none_exist.as_deref())
                    .await
                    .map(EntryResult::Written),
                None => Err(missing_resource()),
            },
            (Method::Put, Some(id), None) => match entry.resource {
                Some(r) => self.update(rt, id, r, &pre).await.map(EntryResult::Written),
                None => Err(missing_resource()),
            },
            (Method::Put, None, Some(q)) => match entry.resource {
                Some(r) => self
                    .conditional_update(rt, q, r, &pre)
                    .await
                    .map(EntryResult::Written),
                None => Err(missing_resource()),
            },
            (Method::Patch, Some(id), None) => match entry.resource {
                Some(r) => self.patch(rt, id, &r, &pre).await.map(EntryResult::Written),
                None => Err(missing_resource()),
            },
            (Method::Delete, Some(id), None) => self.delete(rt, id).await.map(EntryResult::Deleted),
            (Method::Delete, None, Some(q)) => self
                .conditional_delete(rt, q)
                .await
                .map(EntryResult::Deleted),
            (Method::Get, Some(id), None) => match &entry.version {
                Some(v) => self.read_version(rt, id, v).await.map(EntryResult::Read),
                None => self.read(rt, id).await.map(EntryResult::Read),
            },
            _ => Err(RepoError::BadRequest(Issue::error(
                IssueCode::NotSupported,
                "this request form is not supported inside a Bundle",
            ))),
        };
        result.unwrap_or_else(EntryResult::Failed)
    }
}

/// Which resource a transaction entry acts on.
enum Target {
    /// A new resource with this server-assigned id.
    New(String),
    /// An existing resource matched by ifNoneExist: nothing to write.
    Existing(StoredResource),
    Id(String),
    Nothing,
}

impl Target {
    fn id(&self) -> Option<&str> {
        match self {
            Target::New(id) | Target::Id(id) => Some(id),
            Target::Existing(r) => Some(&r.id),
            Target::Nothing => None,
        }
    }
}

fn need(resource: Option<Value>) -> Result<Value, RepoError> {
    resource.ok_or_else(missing_resource)
}

fn missing_resource() -> RepoError {
    RepoError::BadRequest(Issue::error(
        IssueCode::Required,
        "this request needs a resource in the entry",
    ))
}

fn bad(index: usize, message: impl Into<String>) -> RepoError {
    RepoError::InEntry(
        index,
        Box::new(RepoError::BadRequest(Issue::error(
            IssueCode::Invalid,
            message,
        ))),
    )
}

fn parse_bundle(bundle: &Value) -> Result<(BundleKind, Vec<Entry>), RepoError> {
    let kind = match bundle.get("type").and_then(Value::as_str) {
        Some("transaction") => BundleKind::Transaction,
        Some("batch") => BundleKind::Batch,
        other => {
            return Err(RepoError::BadRequest(
                Issue::error(
                    IssueCode::Invalid,
                    format!(
                        "a Bundle posted to the base URL must be a transaction or a batch, not {}",
                        other.unwrap_or("untyped")
                    ),
                )
                .at("Bundle.type"),
            ))
        }
    };
    let empty = Vec::new();
    let raw = match bundle.get("entry") {
        None => &empty,
        Some(Value::Array(a)) => a,
        Some(_) => {
            return Err(RepoError::BadRequest(
                Issue::error(IssueCode::Structure, "Bundle.entry must be an array")
                    .at("Bundle.entry"),
            ))
        }
    };
    let entries = raw
        .iter()
        .enumerate()
        .map(|(i, e)| parse_entry(i, e))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((kind, entries))
}

fn parse_entry(index: usize, entry: &Value) -> Result<Entry, RepoError> {
    let request = entry
        .get("request")
        .ok_or_else(|| bad(index, "the entry has no request (method and url)"))?;
    let method = match request.get("method").and_then(Value::as_str) {
        Some("GET") | Some("HEAD") => Method::Get,
        Some("POST") => Method::Post,
        Some("PUT") => Method::Put,
        Some("PATCH") => Method::Patch,
        Some("DELETE") => Method::Delete,
        other => {
            return Err(bad(
                index,
                format!("unknown request.method {}", other.unwrap_or("(none)")),
            ))
        }
    };
    let url = request
        .get("url")
        .and_then(Value::as_str)
        .ok_or_else(|| bad(index, "the entry has no request.url"))?;
    let (path, query) = match url.split_once('?') {
        Some((p, q)) => (p, Some(q.to_owned())),
        None => (url, None),
    };
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    // Accept absolute URLs by starting at the first segment that names a resource type.
    let start = segments
        .iter()
        .position(|s| carefront_fhir::resource_types::is_resource_type(s))
        .ok_or_else(|| {
            RepoError::InEntry(
                index,
                Box::new(RepoError::UnknownType(
                    segments.first().copied().unwrap_or("").to_owned(),
                )),
            )
        })?;
    let segments = &segments[start..];
    let (id, version) = match segments {
        [_] => (None, None),
        [_, id] => (Some(id.to_string()), None),
        [_, id, "_history", v] => (Some(id.to_string()), Some(v.to_string())),
        _ => return Err(bad(index, format!("request.url '{url}' is not supported"))),
    };
    let resource = entry.get("resource").cloned();
    if let Some(r) = &resource {
        if matches!(method, Method::Post | Method::Put)
            && r.get("resourceType").and_then(Value::as_str) != Some(segments[0])
        {
            return Err(bad(
                index,
                format!("the entry's resource is not a {}", segments[0]),
            ));
        }
    }
    let if_match = match request.get("ifMatch").and_then(Value::as_str) {
        Some(tag) => Some(parse_etag(tag).ok_or_else(|| {
            bad(
                index,
                format!("request.ifMatch '{tag}' is not a version tag like W/\"3\""),
            )
        })?),
        None => None,
    };
    Ok(Entry {
        index,
        method,
        resource_type: segments[0].to_owned(),
        id,
        version,
        query,
        if_none_exist: request
            .get("ifNoneExist")
            .and_then(Value::as_str)
            .map(str::to_owned),
        if_match,
        full_url: entry
            .get("fullUrl")
            .and_then(Value::as_str)
            .map(str::to_owned),
        resource,
    })
}

/// The version in an ETag: `W/"3"` or `"3"` or `3`.
pub fn parse_etag(tag: &str) -> Option<i64> {
    let t = tag.trim();
    let t = t.strip_prefix("W/").unwrap_or(t);
    t.trim_matches('"').parse().ok()
}

/// Replace references to full URLs of entries with the `Type/id` they were given.
fn rewrite_references(value: &mut Value, aliases: &HashMap<String, String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if key == "reference" {
                    if let Value::String(s) = v {
                        if let Some(target) = aliases.get(s.as_str()) {
                            *s = target.clone();
                        }
                        continue;
                    }
                }
                rewrite_references(v, aliases);
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| rewrite_references(v, aliases)),
        _ => {}
    }
}

fn response_entry(result: EntryResult) -> Value {
    match result {
        EntryResult::Written(w) => {
            let status = if w.created { "201 Created" } else { "200 OK" };
            stored_entry(&w.resource, status)
        }
        EntryResult::Deleted(Some(d)) => json!({ "response": {
            "status": "204 No Content",
            "etag": format!("W/\"{}\"", d.version),
        } }),
        EntryResult::Deleted(None) => json!({ "response": { "status": "204 No Content" } }),
        EntryResult::Read(r) => stored_entry(&r, "200 OK"),
        EntryResult::Failed(e) => json!({
            "response": {
                "status": e.status().to_string(),
                "outcome": carefront_fhir::outcome::operation_outcome(&e.issues()),
            }
        }),
    }
}

fn stored_entry(r: &StoredResource, status: &str) -> Value {
    let mut response = Map::new();
    response.insert("status".into(), json!(status));
    response.insert(
        "location".into(),
        json!(format!(
            "{}/{}/_history/{}",
            r.resource_type, r.id, r.version
        )),
    );
    response.insert("etag".into(), json!(format!("W/\"{}\"", r.version)));
    response.insert("lastModified".into(), json!(format_instant(r.last_updated)));
    let resource: Value = serde_json::from_slice(&r.content).unwrap_or(Value::Null);
    json!({
        "fullUrl": format!("{}/{}", r.resource_type, r.id),
        "resource": resource,
        "response": Value::Object(response),
    })
}
