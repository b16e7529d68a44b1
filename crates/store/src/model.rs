//! The types that cross the storage interface.

use std::sync::Arc;

use async_trait::async_trait;
use carefront_fhir::search::{IndexEntry, SearchQuery};

use crate::sql::Sql;

/// A value read from a plain table.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Float(f64),
    Text(String),
    Bytes(Vec<u8>),
}

impl Cell {
    pub fn int(&self) -> Option<i64> {
        match self {
            Cell::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// Booleans are integers in SQLite and are read as 0/1 from PostgreSQL too.
    pub fn bool(&self) -> bool {
        matches!(self, Cell::Int(i) if *i != 0)
    }

    pub fn text(&self) -> Option<&str> {
        match self {
            Cell::Text(s) => Some(s),
            _ => None,
        }
    }

    pub fn into_text(self) -> Option<String> {
        match self {
            Cell::Text(s) => Some(s),
            _ => None,
        }
    }
}

/// One version of a resource as stored.
#[derive(Debug, Clone)]
pub struct StoredResource {
    /// The store's internal row id of the resource (stable across versions).
    pub rid: i64,
    pub resource_type: String,
    pub id: String,
    pub version: i64,
    /// Microseconds since the Unix epoch, UTC.
    pub last_updated: i64,
    pub deleted: bool,
    /// The resource JSON, `meta.versionId` and `meta.lastUpdated` included; empty when deleted.
    pub content: Vec<u8>,
}

/// How a version came to be, as recorded in history (`Bundle.entry.request.method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMethod {
    Create,
    Update,
    Patch,
    Delete,
}

impl WriteMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            WriteMethod::Create => "POST",
            WriteMethod::Update => "PUT",
            WriteMethod::Patch => "PATCH",
            WriteMethod::Delete => "DELETE",
        }
    }

    pub fn parse(s: &str) -> WriteMethod {
        match s {
            "POST" => WriteMethod::Create,
            "PATCH" => WriteMethod::Patch,
            "DELETE" => WriteMethod::Delete,
            _ => WriteMethod::Update,
        }
    }
}

/// A new version to write.
#[derive(Debug, Clone)]
pub struct NewVersion {
    pub resource_type: String,
    pub id: String,
    /// The version the write replaces; `None` when the resource must not exist yet.
    /// A mismatch fails the write with [`StoreError::Conflict`] (optimistic concurrency).
    pub replaces: Option<i64>,
    pub version: i64,
    pub last_updated: i64,
    pub deleted: bool,
    pub method: WriteMethod,
    pub content: Vec<u8>,
    /// The search index of this version (empty for a delete).
    pub index: Vec<IndexEntry>,
}

/// Which history to list.
#[derive(Debug, Clone, PartialEq)]
pub enum HistoryScope {
    System,
    Type(String),
    Instance(String, String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct HistoryQuery {
    pub scope: HistoryScope,
    /// Only versions written at or after this time (`_since`), microseconds.
    pub since: Option<i64>,
    /// Only versions written before this time (`_at` upper bound), microseconds.
    pub before: Option<i64>,
    pub count: usize,
    pub offset: usize,
}

/// A page of history, newest first; `method` of each version alongside it.
#[derive(Debug, Clone, Default)]
pub struct HistoryPage {
    pub versions: Vec<(StoredResource, WriteMethod)>,
    pub total: u64,
}

/// A page of search results.
#[derive(Debug, Clone, Default)]
pub struct SearchPage {
    pub matches: Vec<StoredResource>,
    /// Resources brought in by `_include` / `_revinclude`.
    pub included: Vec<StoredResource>,
    /// Number of matches across all pages, when asked for.
    pub total: Option<u64>,
    /// True when there are matches after this page.
    pub has_more: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The resource changed since it was read, or already exists.
    #[error("version conflict on {0}")]
    Conflict(String),
    #[error("store unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Database(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A FHIR resource store. Implementations keep no state that another server instance would
/// need: everything lives in the database.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// `"sqlite"` or `"postgres"`.
    fn backend(&self) -> &'static str;
    /// Live events shared by every instance on this database (see [`crate::events`]).
    fn events(&self) -> Arc<dyn crate::events::EventBus>;
    /// Check that the database answers.
    async fn ping(&self) -> StoreResult<()>;
    /// The current version (possibly a deletion marker).
    async fn read(&self, resource_type: &str, id: &str) -> StoreResult<Option<StoredResource>>;
    async fn read_version(
        &self,
        resource_type: &str,
        id: &str,
        version: i64,
    ) -> StoreResult<Option<StoredResource>>;
    async fn history(&self, query: &HistoryQuery) -> StoreResult<HistoryPage>;
    async fn search(&self, query: &SearchQuery) -> StoreResult<SearchPage>;
    /// Start a write transaction. Writes become visible together at commit, or not at all.
    async fn begin(&self) -> StoreResult<Box<dyn StoreTx>>;
    /// Run a statement on the plain tables (accounts, sessions, audit ...); rows changed.
    async fn execute(&self, statement: Sql) -> StoreResult<u64>;
    /// Run a query on the plain tables.
    async fn query(&self, statement: Sql) -> StoreResult<Vec<Vec<Cell>>>;
}

/// A write transaction. Dropping it without commit rolls it back.
#[async_trait]
pub trait StoreTx: Send {
    /// `"sqlite"` or `"postgres"`, as [`Store::backend`].
    fn backend(&self) -> &'static str;
    /// Serialise with every other transaction holding the same key until this one ends
    /// (conditional creates take one per type and criteria so that racing ones see each other).
    async fn lock(&mut self, key: &str) -> StoreResult<()>;
    async fn read(&mut self, resource_type: &str, id: &str) -> StoreResult<Option<StoredResource>>;
    /// Current, non-deleted resources matching `query`, at most `limit` of them.
    async fn matches(
        &mut self,
        query: &SearchQuery,
        limit: usize,
    ) -> StoreResult<Vec<StoredResource>>;
    async fn write(&mut self, version: &NewVersion) -> StoreResult<()>;
    async fn execute(&mut self, statement: Sql) -> StoreResult<u64>;
    async fn query(&mut self, statement: Sql) -> StoreResult<Vec<Vec<Cell>>>;
    async fn commit(self: Box<Self>) -> StoreResult<()>;
}
