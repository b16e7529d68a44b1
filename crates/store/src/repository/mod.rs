//! The FHIR interactions on top of a [`Store`]: create, read, update, patch, delete, their
//! conditional forms, and transaction/batch bundles.
//!
//! This is where FHIR's write semantics live, once for every backend: resources are
//! validated, stamped with id, version and lastUpdated, indexed for search and written in one
//! store transaction. Concurrent writers never lose an update: a write names the version it
//! replaces, and a write that lost the race is retried from a fresh read (or refused with 412
//! when the client asked for a specific version with If-Match).

mod bundle;
mod error;
mod hooks;
mod prepare;

use std::sync::Arc;

use carefront_fhir::search::{self, SearchQuery};
use carefront_fhir::{Issue, IssueCode};
use serde_json::Value;

use crate::{
    HistoryPage, HistoryQuery, NewVersion, SearchPage, Store, StoreTx, StoredResource, WriteMethod,
};

pub use bundle::{parse_etag, BundleKind};
pub use error::RepoError;
pub use hooks::WriteHook;
pub use prepare::{format_instant, now_micros, Checked};

/// How many times a write that lost an optimistic-concurrency race is retried.
pub(crate) const WRITE_ATTEMPTS: usize = 8;

/// Run `$body` (which uses `$tx`, a `&mut dyn StoreTx`) in a store transaction and commit;
/// when it loses a version race, run it again from a fresh read.
macro_rules! retrying {
    ($repo:expr, |$tx:ident| $body:expr) => {{
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut boxed = $repo.store.begin().await?;
            let $tx: &mut dyn $crate::StoreTx = boxed.as_mut();
            let result = match $body {
                Ok(value) => boxed.commit().await.map(|_| value).map_err(RepoError::from),
                Err(e) => Err(e),
            };
            match result {
                Err(RepoError::Store($crate::StoreError::Conflict(_)))
                    if attempt < $crate::repository::WRITE_ATTEMPTS =>
                {
                    continue
                }
                other => break other,
            }
        }
    }};
}
pub(crate) use retrying;

/// Limits on searches.
#[derive(Debug, Clone, Copy)]
pub struct SearchLimits {
    pub default_count: usize,
    pub max_count: usize,
}

impl Default for SearchLimits {
    fn default() -> Self {
        SearchLimits {
            default_count: 20,
            max_count: 1000,
        }
    }
}

/// The outcome of a write.
#[derive(Debug, Clone)]
pub struct Written {
    pub resource: StoredResource,
    /// 201 Created rather than 200 OK.
    pub created: bool,
}

/// What a write asks for.
#[derive(Debug, Clone, Default)]
pub struct Preconditions {
    /// `If-Match`: the version the client last saw.
    pub if_match: Option<i64>,
}

#[derive(Clone)]
pub struct Repository {
    store: Arc<dyn Store>,
    pub limits: SearchLimits,
    hooks: Arc<[Arc<dyn WriteHook>]>,
}

impl Repository {
    pub fn new(store: Arc<dyn Store>, limits: SearchLimits) -> Self {
        Repository {
            store,
            limits,
            hooks: Arc::new([]),
        }
    }

    /// The same repository, running `hook` inside every write transaction (derived tables
    /// and invariants that span resources, such as one appointment per slot).
    pub fn with_hook(mut self, hook: Arc<dyn WriteHook>) -> Self {
        let mut hooks: Vec<_> = self.hooks.iter().cloned().collect();
        hooks.push(hook);
        self.hooks = hooks.into();
        self
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The current version; a deleted resource answers [`RepoError::Gone`].
    pub async fn read(&self, resource_type: &str, id: &str) -> Result<StoredResource, RepoError> {
        check_type(resource_type)?;
        match self.store.read(resource_type, id).await? {
            Some(r) if r.deleted => Err(RepoError::Gone(r)),
            Some(r) => Ok(r),
            None => Err(RepoError::not_found(resource_type, id)),
        }
    }

    pub async fn read_version(
        &self,
        resource_type: &str,
        id: &str,
        version: &str,
    ) -> Result<StoredResource, RepoError> {
        check_type(resource_type)?;
        let v: i64 = version.parse().map_err(|_| {
            RepoError::NotFound(format!("{resource_type}/{id} has no version '{version}'"))
        })?;
        match self.store.read_version(resource_type, id, v).await? {
            Some(r) if r.deleted => Err(RepoError::Gone(r)),
            Some(r) => Ok(r),
            None => Err(RepoError::NotFound(format!(
                "{resource_type}/{id} has no version {v}"
            ))),
        }
    }

    pub async fn history(&self, query: &HistoryQuery) -> Result<HistoryPage, RepoError> {
        if let crate::HistoryScope::Type(t) | crate::HistoryScope::Instance(t, _) = &query.scope {
            check_type(t)?;
        }
        Ok(self.store.history(query).await?)
    }

    /// Parse search parameters (as decoded pairs) for `resource_type` (`None`: all types).
    pub fn parse_search(
        &self,
        resource_type: Option<&str>,
        params: &[(String, String)],
        lenient: bool,
    ) -> Result<SearchQuery, RepoError> {
        if let Some(t) = resource_type {
            check_type(t)?;
        }
        search::parse_query(
            resource_type,
            params,
            lenient,
            self.limits.default_count,
            self.limits.max_count,
        )
        .map_err(RepoError::BadRequest)
    }

    pub async fn search(&self, query: &SearchQuery) -> Result<SearchPage, RepoError> {
        Ok(self.store.search(query).await?)
    }

    /// `POST [type]`, optionally conditional on `If-None-Exist` (a query string).
    pub async fn create(
        &self,
        resource_type: &str,
        resource: Value,
        if_none_exist: Option<&str>,
    ) -> Result<Written, RepoError> {
        check_type(resource_type)?;
        let condition = match if_none_exist {
            Some(q) => Some(self.condition(resource_type, q)?),
            None => None,
        };
        // Validation and indexing happen before the write transaction: on SQLite the
        // transaction holds the single writer, so only database work should happen inside it.
        let checked = prepare::check(resource_type, resource)?;
        let mut tx = self.store.begin().await?;
        let written = self
            .create_in(
                tx.as_mut(),
                resource_type,
                &checked,
                condition.as_ref(),
                None,
            )
            .await?;
        tx.commit().await?;
        Ok(written)
    }

    /// `PUT [type]/[id]`: update, or create with the client's id.
    pub async fn update(
        &self,
        resource_type: &str,
        id: &str,
        resource: Value,
        pre: &Preconditions,
    ) -> Result<Written, RepoError> {
        check_type(resource_type)?;
        prepare::check_id(id)?;
        let checked = prepare::check(resource_type, resource)?;
        retrying!(self, |tx| self
            .update_in(tx, resource_type, id, &checked, pre)
            .await)
    }

    /// `PUT [type]?criteria`: update the single match, or create when nothing matches.
    pub async fn conditional_update(
        &self,
        resource_type: &str,
        criteria: &str,
        resource: Value,
        pre: &Preconditions,
    ) -> Result<Written, RepoError> {
        check_type(resource_type)?;
        let condition = self.condition(resource_type, criteria)?;
        let checked = prepare::check(resource_type, resource)?;
        retrying!(self, |tx| self
            .conditional_update_in(tx, resource_type, &condition, &checked, pre)
            .await)
    }

    /// `PATCH [type]/[id]` with a JSON Patch document.
    pub async fn patch(
        &self,
        resource_type: &str,
        id: &str,
        patch: &Value,
        pre: &Preconditions,
    ) -> Result<Written, RepoError> {
        check_type(resource_type)?;
        let patch = prepare::parse_patch(patch)?;
        retrying!(self, |tx| self
            .patch_in(tx, resource_type, id, &patch, pre)
            .await)
    }

    /// `DELETE [type]/[id]`. Deleting what is absent or already deleted succeeds with no
    /// new version (`None`).
    pub async fn delete(
        &self,
        resource_type: &str,
        id: &str,
    ) -> Result<Option<StoredResource>, RepoError> {
        check_type(resource_type)?;
        retrying!(self, |tx| self.delete_in(tx, resource_type, id).await)
    }

    /// `DELETE [type]?criteria`: deletes the single match (several matches: 412).
    pub async fn conditional_delete(
        &self,
        resource_type: &str,
        criteria: &str,
    ) -> Result<Option<StoredResource>, RepoError> {
        check_type(resource_type)?;
        let condition = self.condition(resource_type, criteria)?;
        retrying!(self, |tx| match single_match(tx, &condition).await {
            Ok(Some(r)) => self.delete_in(tx, resource_type, &r.id).await,
            Ok(None) => Ok(None),
            Err(e) => Err(e),
        })
    }

    /// Start a write transaction for a workflow that writes several resources at once with
    /// the `*_in_tx` methods (and plain tables with `tx.execute`); commit it when done.
    pub async fn begin(&self) -> Result<Box<dyn StoreTx>, RepoError> {
        Ok(self.store.begin().await?)
    }

    /// Validate `resource` and extract its search index, before a transaction: on SQLite the
    /// transaction holds the single writer, so this work should happen outside it.
    pub fn check(&self, resource: Value) -> Result<Checked, RepoError> {
        let resource_type = body_type(&resource)?;
        prepare::check(&resource_type, resource)
    }

    /// Create `resource` (validated, indexed, hooks run) inside `tx`, with a new id.
    pub async fn create_in_tx(
        &self,
        tx: &mut dyn StoreTx,
        resource: Value,
    ) -> Result<StoredResource, RepoError> {
        let checked = self.check(resource)?;
        self.create_checked_in_tx(tx, &checked).await
    }

    /// Create a resource checked with [`Repository::check`] inside `tx`.
    pub async fn create_checked_in_tx(
        &self,
        tx: &mut dyn StoreTx,
        checked: &Checked,
    ) -> Result<StoredResource, RepoError> {
        let id = checked.id().map(str::to_owned);
        Ok(self
            .create_in(tx, checked.resource_type(), checked, None, id)
            .await?
            .resource)
    }

    /// Write a server-made change to a stored resource that keeps it valid (see
    /// [`prepare::derived`]) inside `tx`, if it is still at `version`.
    pub async fn derive_in_tx(
        &self,
        tx: &mut dyn StoreTx,
        resource: Value,
        version: i64,
    ) -> Result<Written, RepoError> {
        let resource_type = body_type(&resource)?;
        let checked = prepare::derived(&resource_type, resource)?;
        self.update_checked_in_tx(tx, &checked, Some(version)).await
    }

    /// Update (or create) `resource` with its own id inside `tx`; `if_match` as for PUT.
    pub async fn update_in_tx(
        &self,
        tx: &mut dyn StoreTx,
        resource: Value,
        if_match: Option<i64>,
    ) -> Result<Written, RepoError> {
        let checked = self.check(resource)?;
        self.update_checked_in_tx(tx, &checked, if_match).await
    }

    /// Update with a resource checked with [`Repository::check`] inside `tx`.
    pub async fn update_checked_in_tx(
        &self,
        tx: &mut dyn StoreTx,
        checked: &Checked,
        if_match: Option<i64>,
    ) -> Result<Written, RepoError> {
        let resource_type = checked.resource_type().to_owned();
        let id = checked
            .id()
            .ok_or_else(|| {
                RepoError::BadRequest(Issue::error(IssueCode::Required, "the resource has no id"))
            })?
            .to_owned();
        self.update_in(
            tx,
            &resource_type,
            &id,
            checked,
            &Preconditions { if_match },
        )
        .await
    }

    /// Delete inside `tx` (nothing when absent or already deleted).
    pub async fn delete_in_tx(
        &self,
        tx: &mut dyn StoreTx,
        resource_type: &str,
        id: &str,
    ) -> Result<Option<StoredResource>, RepoError> {
        self.delete_in(tx, resource_type, id).await
    }

    /// Parse the criteria of a conditional interaction (`identifier=sys|123`).
    fn condition(&self, resource_type: &str, criteria: &str) -> Result<SearchQuery, RepoError> {
        let criteria = criteria.trim_start_matches('?');
        let criteria = criteria.split_once('?').map(|(_, q)| q).unwrap_or(criteria);
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(criteria).map_err(|e| {
            RepoError::BadRequest(Issue::error(
                IssueCode::Invalid,
                format!("the conditional criteria are not a valid query string: {e}"),
            ))
        })?;
        if pairs.is_empty() {
            return Err(RepoError::BadRequest(Issue::error(
                IssueCode::Invalid,
                "a conditional interaction needs search criteria",
            )));
        }
        self.parse_search(Some(resource_type), &pairs, false)
    }

    async fn create_in(
        &self,
        tx: &mut dyn StoreTx,
        resource_type: &str,
        checked: &prepare::Checked,
        condition: Option<&SearchQuery>,
        id: Option<String>,
    ) -> Result<Written, RepoError> {
        if let Some(condition) = condition {
            // Racing conditional creates with the same criteria queue on this lock, so the
            // second one sees the first one's resource.
            tx.lock(&format!("create:{resource_type}:{condition:?}"))
                .await?;
            if let Some(existing) = single_match(tx, condition).await? {
                return Ok(Written {
                    resource: existing,
                    created: false,
                });
            }
        }
        let id = id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let version = prepare::new_version(checked, &id, None, WriteMethod::Create)?;
        let stored = write(self, tx, version).await?;
        Ok(Written {
            resource: stored,
            created: true,
        })
    }

    async fn update_in(
        &self,
        tx: &mut dyn StoreTx,
        resource_type: &str,
        id: &str,
        checked: &prepare::Checked,
        pre: &Preconditions,
    ) -> Result<Written, RepoError> {
        prepare::check_body_id(checked.id(), Some(id))?;
        let current = tx.read(resource_type, id).await?;
        check_if_match(current.as_ref(), pre, resource_type, id)?;
        let created = current.as_ref().is_none_or(|c| c.deleted);
        let version = prepare::new_version(checked, id, current.as_ref(), WriteMethod::Update)?;
        let stored = write(self, tx, version).await?;
        Ok(Written {
            resource: stored,
            created,
        })
    }

    async fn conditional_update_in(
        &self,
        tx: &mut dyn StoreTx,
        resource_type: &str,
        condition: &SearchQuery,
        checked: &prepare::Checked,
        pre: &Preconditions,
    ) -> Result<Written, RepoError> {
        tx.lock(&format!("create:{resource_type}:{condition:?}"))
            .await?;
        match single_match(tx, condition).await? {
            Some(existing) => {
                // The client of a conditional update need not know the id it will update,
                // but an id it gives must be the match's.
                if checked.id().is_some() {
                    prepare::check_body_id(checked.id(), Some(&existing.id))?;
                }
                let version = prepare::new_version(
                    checked,
                    &existing.id,
                    Some(&existing),
                    WriteMethod::Update,
                )?;
                check_if_match(Some(&existing), pre, resource_type, &existing.id)?;
                let stored = write(self, tx, version).await?;
                Ok(Written {
                    resource: stored,
                    created: false,
                })
            }
            None => {
                let id = checked.id().map(str::to_owned);
                self.create_in(tx, resource_type, checked, None, id).await
            }
        }
    }

    async fn patch_in(
        &self,
        tx: &mut dyn StoreTx,
        resource_type: &str,
        id: &str,
        patch: &json_patch::Patch,
        pre: &Preconditions,
    ) -> Result<Written, RepoError> {
        let current = match tx.read(resource_type, id).await? {
            Some(c) if !c.deleted => c,
            Some(c) => return Err(RepoError::Gone(c)),
            None => return Err(RepoError::not_found(resource_type, id)),
        };
        check_if_match(Some(&current), pre, resource_type, id)?;
        let patched = prepare::check(resource_type, prepare::apply_patch(&current, patch)?)?;
        let version = prepare::new_version(&patched, id, Some(&current), WriteMethod::Patch)?;
        let stored = write(self, tx, version).await?;
        Ok(Written {
            resource: stored,
            created: false,
        })
    }

    async fn delete_in(
        &self,
        tx: &mut dyn StoreTx,
        resource_type: &str,
        id: &str,
    ) -> Result<Option<StoredResource>, RepoError> {
        let current = match tx.read(resource_type, id).await? {
            Some(c) if !c.deleted => c,
            _ => return Ok(None),
        };
        let version = prepare::deletion(&current);
        Ok(Some(write(self, tx, version).await?))
    }
}

fn body_type(resource: &Value) -> Result<String, RepoError> {
    let resource_type = resource
        .get("resourceType")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            RepoError::BadRequest(Issue::error(
                IssueCode::Required,
                "the resource has no resourceType",
            ))
        })?;
    check_type(resource_type)?;
    Ok(resource_type.to_owned())
}

fn check_type(resource_type: &str) -> Result<(), RepoError> {
    if carefront_fhir::resource_types::is_resource_type(resource_type) {
        Ok(())
    } else {
        Err(RepoError::UnknownType(resource_type.to_owned()))
    }
}

fn check_if_match(
    current: Option<&StoredResource>,
    pre: &Preconditions,
    resource_type: &str,
    id: &str,
) -> Result<(), RepoError> {
    let Some(expected) = pre.if_match else {
        return Ok(());
    };
    match current {
        Some(c) if c.version == expected && !c.deleted => Ok(()),
        Some(c) => Err(RepoError::PreconditionFailed(format!(
            "{resource_type}/{id} is at version {}, not {expected}",
            c.version
        ))),
        None => Err(RepoError::PreconditionFailed(format!(
            "{resource_type}/{id} does not exist, so it is not at version {expected}"
        ))),
    }
}

/// The one resource matching a conditional interaction's criteria, if any.
async fn single_match(
    tx: &mut dyn StoreTx,
    condition: &SearchQuery,
) -> Result<Option<StoredResource>, RepoError> {
    let mut found = tx.matches(condition, 2).await?;
    match found.len() {
        0 => Ok(None),
        1 => Ok(found.pop()),
        _ => Err(RepoError::MultipleMatches),
    }
}

/// Write `version` and let every hook see it, in the same transaction.
async fn write(
    repo: &Repository,
    tx: &mut dyn StoreTx,
    version: NewVersion,
) -> Result<StoredResource, RepoError> {
    tx.write(&version).await?;
    for hook in repo.hooks.iter() {
        hook.after_write(repo, tx, &version).await?;
    }
    Ok(StoredResource {
        rid: 0,
        resource_type: version.resource_type,
        id: version.id,
        version: version.version,
        last_updated: version.last_updated,
        deleted: version.deleted,
        content: version.content,
    })
}
