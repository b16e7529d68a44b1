//! The SQLite store: the embedded default, one file and no set-up.
//!
//! SQLite allows one writer at a time, so writes go through a pool of exactly one connection
//! (transactions queue there instead of failing with SQLITE_BUSY, and conditional creates are
//! serialised for free); reads use a separate pool of connections in WAL mode, which never
//! block on the writer.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use carefront_fhir::search::SearchQuery;
use carefront_store::sql::{self, Bind, Dialect, Sql};
use carefront_store::{
    HistoryPage, HistoryQuery, NewVersion, SearchPage, Store, StoreError, StoreResult, StoreTx,
    StoredResource,
};
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Arguments, Row, Sqlite, SqliteConnection, SqlitePool, Transaction};

const DIALECT: Dialect = Dialect::Sqlite;

pub struct SqliteStore {
    reader: SqlitePool,
    writer: SqlitePool,
}

impl SqliteStore {
    /// Open (creating if needed) the database file at `path` and apply migrations.
    pub async fn open(path: &Path, readers: u32) -> StoreResult<Self> {
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| StoreError::Unavailable(format!("{}: {e}", dir.display())))?;
            }
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // NORMAL in WAL mode never corrupts the database; a power cut may lose the last
            // transactions, not damage older ones.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            .pragma("cache_size", "-16384")
            .pragma("temp_store", "memory")
            .pragma("mmap_size", "268435456")
            .statement_cache_capacity(512);
        Self::connect(options, readers).await
    }

    /// Open a `sqlite:` URL such as `sqlite://carefront-data/carefront.db`.
    pub async fn open_url(url: &str, readers: u32) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str(url).map_err(db_err)?;
        let path = options.get_filename().to_path_buf();
        Self::open(&path, readers).await
    }

    async fn connect(options: SqliteConnectOptions, readers: u32) -> StoreResult<Self> {
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await
            .map_err(unavailable)?;
        sqlx::migrate!("./migrations")
            .run(&writer)
            .await
            .map_err(|e| StoreError::Database(format!("migration failed: {e}")))?;
        let reader = SqlitePoolOptions::new()
            .max_connections(readers.max(1))
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.read_only(true))
            .await
            .map_err(unavailable)?;
        Ok(SqliteStore { reader, writer })
    }
}

fn db_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Database(e.to_string())
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

fn arguments(binds: &[Bind]) -> SqliteArguments<'static> {
    let mut args = SqliteArguments::default();
    for b in binds {
        // Adding a value to SQLite arguments cannot fail for these types.
        let _ = match b {
            Bind::Text(s) => args.add(s.clone()),
            Bind::OptText(s) => args.add(s.clone()),
            Bind::Int(i) => args.add(*i),
            Bind::Float(f) => args.add(*f),
        };
    }
    args
}

fn row_to_resource(row: &SqliteRow) -> StoredResource {
    StoredResource {
        rid: row.get(0),
        resource_type: row.get(1),
        id: row.get(2),
        version: row.get(3),
        last_updated: row.get(4),
        deleted: row.get(5),
        content: row.get(6),
    }
}

async fn fetch_resources(
    conn: &mut SqliteConnection,
    statement: Sql,
) -> StoreResult<Vec<StoredResource>> {
    let rows = sqlx::query_with(&statement.text, arguments(&statement.binds))
        .fetch_all(&mut *conn)
        .await
        .map_err(db_err)?;
    Ok(rows.iter().map(row_to_resource).collect())
}

async fn execute(conn: &mut SqliteConnection, statement: Sql) -> StoreResult<u64> {
    sqlx::query_with(&statement.text, arguments(&statement.binds))
        .execute(&mut *conn)
        .await
        .map(|r| r.rows_affected())
        .map_err(db_err)
}

const READ_CURRENT: &str = "SELECT rid, res_type, res_id, version, last_updated, deleted, content \
     FROM resources WHERE res_type = ?1 AND res_id = ?2";

async fn read_current(
    conn: &mut SqliteConnection,
    resource_type: &str,
    id: &str,
) -> StoreResult<Option<StoredResource>> {
    let row = sqlx::query(READ_CURRENT)
        .bind(resource_type)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)?;
    Ok(row.as_ref().map(row_to_resource))
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.reader)
            .await
            .map(|_| ())
            .map_err(unavailable)
    }

    async fn read(&self, resource_type: &str, id: &str) -> StoreResult<Option<StoredResource>> {
        let mut conn = self.reader.acquire().await.map_err(unavailable)?;
        read_current(&mut conn, resource_type, id).await
    }

    async fn read_version(
        &self,
        resource_type: &str,
        id: &str,
        version: i64,
    ) -> StoreResult<Option<StoredResource>> {
        let mut conn = self.reader.acquire().await.map_err(unavailable)?;
        let statement = sql::read_version_sql(DIALECT, resource_type, id, version);
        Ok(fetch_resources(&mut conn, statement).await?.pop())
    }

    async fn history(&self, query: &HistoryQuery) -> StoreResult<HistoryPage> {
        let mut conn = self.reader.acquire().await.map_err(unavailable)?;
        let (page, count) = carefront_store::sql::history_sql(DIALECT, query);
        let total: i64 = sqlx::query_scalar_with(&count.text, arguments(&count.binds))
            .fetch_one(&mut *conn)
            .await
            .map_err(db_err)?;
        let rows = sqlx::query_with(&page.text, arguments(&page.binds))
            .fetch_all(&mut *conn)
            .await
            .map_err(db_err)?;
        let versions = rows
            .iter()
            .map(|row| {
                let method: String = row.get(7);
                (
                    row_to_resource(row),
                    carefront_store::WriteMethod::parse(&method),
                )
            })
            .collect();
        Ok(HistoryPage {
            versions,
            total: total as u64,
        })
    }

    async fn search(&self, query: &SearchQuery) -> StoreResult<SearchPage> {
        let mut conn = self.reader.acquire().await.map_err(unavailable)?;
        carefront_store::search::run(&mut SqliteReader(&mut conn), DIALECT, query).await
    }

    async fn begin(&self) -> StoreResult<Box<dyn StoreTx>> {
        // The writer pool has one connection and readers are read-only, so a deferred
        // transaction here never meets another writer: no SQLITE_BUSY, no retry loop.
        let tx = self.writer.begin().await.map_err(unavailable)?;
        Ok(Box::new(SqliteTx { tx }))
    }
}

/// Runs the shared search queries on one SQLite connection.
struct SqliteReader<'a>(&'a mut SqliteConnection);

#[async_trait]
impl carefront_store::search::Reader for SqliteReader<'_> {
    async fn resources(&mut self, statement: Sql) -> StoreResult<Vec<StoredResource>> {
        fetch_resources(self.0, statement).await
    }

    async fn count(&mut self, statement: Sql) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar_with(&statement.text, arguments(&statement.binds))
            .fetch_one(&mut *self.0)
            .await
            .map_err(db_err)?;
        Ok(n as u64)
    }
}

struct SqliteTx {
    tx: Transaction<'static, Sqlite>,
}

impl SqliteTx {
    fn conn(&mut self) -> &mut SqliteConnection {
        &mut self.tx
    }
}

#[async_trait]
impl StoreTx for SqliteTx {
    async fn lock(&mut self, _key: &str) -> StoreResult<()> {
        // The single writer connection already serialises every write transaction.
        Ok(())
    }

    async fn read(&mut self, resource_type: &str, id: &str) -> StoreResult<Option<StoredResource>> {
        read_current(self.conn(), resource_type, id).await
    }

    async fn matches(
        &mut self,
        query: &SearchQuery,
        limit: usize,
    ) -> StoreResult<Vec<StoredResource>> {
        fetch_resources(self.conn(), sql::matches_sql(DIALECT, query, limit)).await
    }

    async fn write(&mut self, v: &NewVersion) -> StoreResult<()> {
        let conn = self.conn();
        let rid: i64 = match v.replaces {
            None => {
                let rid: Option<i64> = sqlx::query_scalar(
                    "INSERT INTO resources (res_type, res_id, version, last_updated, deleted, content) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (res_type, res_id) DO NOTHING RETURNING rid",
                )
                .bind(&v.resource_type)
                .bind(&v.id)
                .bind(v.version)
                .bind(v.last_updated)
                .bind(v.deleted)
                .bind(&v.content)
                .fetch_optional(&mut *conn)
                .await
                .map_err(db_err)?;
                rid.ok_or_else(|| conflict(v))?
            }
            Some(previous) => {
                let rid: Option<i64> = sqlx::query_scalar(
                    "UPDATE resources SET version = ?1, last_updated = ?2, deleted = ?3, content = ?4 \
                     WHERE res_type = ?5 AND res_id = ?6 AND version = ?7 RETURNING rid",
                )
                .bind(v.version)
                .bind(v.last_updated)
                .bind(v.deleted)
                .bind(&v.content)
                .bind(&v.resource_type)
                .bind(&v.id)
                .bind(previous)
                .fetch_optional(&mut *conn)
                .await
                .map_err(db_err)?;
                rid.ok_or_else(|| conflict(v))?
            }
        };
        sqlx::query(
            "INSERT INTO resource_versions (rid, version, last_updated, deleted, method, content) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .bind(rid)
        .bind(v.version)
        .bind(v.last_updated)
        .bind(v.deleted)
        .bind(v.method.as_str())
        .bind(&v.content)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
        for statement in sql::index_inserts(
            DIALECT,
            rid,
            v.replaces.is_none(),
            &v.resource_type,
            &v.index,
        ) {
            execute(conn, statement).await?;
        }
        Ok(())
    }

    async fn commit(self: Box<Self>) -> StoreResult<()> {
        self.tx.commit().await.map_err(db_err)
    }
}

fn conflict(v: &NewVersion) -> StoreError {
    StoreError::Conflict(format!("{}/{}", v.resource_type, v.id))
}
