//! The SQLite store: the embedded default, one file and no set-up.
//!
//! SQLite runs in this process, and its statements take microseconds, so they run inline on
//! the calling task instead of being shipped to a driver thread: each hop to another thread
//! costs more than the statement itself (measured with the sqlx driver: 1,500 creates/s and
//! 24,000 reads/s; see the README's benchmark section).
//!
//! SQLite allows one writer at a time: write transactions queue on an async lock around the
//! single writer connection (so racing conditional creates are serialised for free) and commit
//! in groups (`writer`); reads use a pool of read-only connections in WAL mode, which never
//! wait for the writer.

mod checkpoint;
mod migrate;
mod params;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use carefront_fhir::search::SearchQuery;
use carefront_store::sql::{self, Dialect, Sql};
use carefront_store::{
    Cell, HistoryPage, HistoryQuery, NewVersion, SearchPage, Store, StoreError, StoreResult,
    StoreTx, StoredResource, WriteMethod,
};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row};

use params::params;

const DIALECT: Dialect = Dialect::Sqlite;

pub struct SqliteStore {
    path: PathBuf,
    writer: writer::WriterHandle,
    readers: Mutex<Vec<Connection>>,
    max_idle_readers: usize,
    /// The checkpoint thread stops when this is dropped.
    _alive: Arc<()>,
    /// One process serves a SQLite file: live events stay in it.
    events: Arc<carefront_store::events::LocalBus>,
}

impl SqliteStore {
    /// Open (creating if needed) the database file at `path` and apply migrations.
    /// `readers` is how many idle read connections are kept.
    pub async fn open(path: &Path, readers: u32) -> StoreResult<Self> {
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| StoreError::Unavailable(format!("{}: {e}", dir.display())))?;
            }
        }
        let mut writer = Connection::open(path).map_err(unavailable)?;
        configure(&writer)?;
        // WAL lets readers work while the writer writes. NORMAL synchronous in WAL mode never
        // corrupts the database; a power cut may lose the last transactions, not older ones.
        // Checkpoints (copying the WAL into the database file, with fsyncs) run on a thread
        // of their own, so a write transaction never pays for one.
        writer
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                 PRAGMA wal_autocheckpoint = 0;",
            )
            .map_err(db_err)?;
        migrate::run(&mut writer)?;
        let alive = Arc::new(());
        checkpoint::start(path.to_path_buf(), Arc::downgrade(&alive));
        Ok(SqliteStore {
            path: path.to_path_buf(),
            writer: writer::WriterHandle::new(writer),
            readers: Mutex::new(Vec::new()),
            max_idle_readers: readers.max(1) as usize,
            _alive: alive,
            events: Default::default(),
        })
    }

    /// Open a `sqlite:` URL such as `sqlite://carefront-data/carefront.db`.
    pub async fn open_url(url: &str, readers: u32) -> StoreResult<Self> {
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .ok_or_else(|| StoreError::Unavailable(format!("'{url}' is not a sqlite: URL")))?;
        let path = path.split('?').next().unwrap_or(path);
        Self::open(Path::new(path), readers).await
    }

    /// Run `f` on a read connection from the pool.
    fn with_reader<T>(&self, f: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        let conn = self.checkout_reader()?;
        let result = f(&conn);
        self.checkin_reader(conn);
        result
    }

    fn checkout_reader(&self) -> StoreResult<Connection> {
        let pooled = self.readers.lock().unwrap_or_else(|e| e.into_inner()).pop();
        match pooled {
            Some(c) => Ok(c),
            None => {
                let c = Connection::open_with_flags(
                    &self.path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .map_err(unavailable)?;
                configure(&c)?;
                Ok(c)
            }
        }
    }

    fn checkin_reader(&self, conn: Connection) {
        let mut pool = self.readers.lock().unwrap_or_else(|e| e.into_inner());
        if pool.len() < self.max_idle_readers {
            pool.push(conn);
        }
    }
}

fn configure(conn: &Connection) -> StoreResult<()> {
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(db_err)?;
    conn.execute_batch(
        "PRAGMA foreign_keys = ON; PRAGMA cache_size = -16384; PRAGMA temp_store = MEMORY; \
         PRAGMA mmap_size = 268435456; PRAGMA journal_size_limit = 67108864;",
    )
    .map_err(db_err)?;
    conn.set_prepared_statement_cache_capacity(256);
    Ok(())
}

fn db_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Database(e.to_string())
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

fn row_to_resource(row: &Row<'_>) -> rusqlite::Result<StoredResource> {
    Ok(StoredResource {
        rid: row.get(0)?,
        resource_type: row.get(1)?,
        id: row.get(2)?,
        version: row.get(3)?,
        last_updated: row.get(4)?,
        deleted: row.get(5)?,
        content: row.get(6)?,
    })
}

fn fetch_resources(conn: &Connection, statement: &Sql) -> StoreResult<Vec<StoredResource>> {
    let mut stmt = conn.prepare_cached(&statement.text).map_err(db_err)?;
    let rows = stmt
        .query_map(params(&statement.binds), row_to_resource)
        .map_err(db_err)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(db_err)
}

fn query_cells(conn: &Connection, statement: &Sql) -> StoreResult<Vec<Vec<Cell>>> {
    let mut stmt = conn.prepare_cached(&statement.text).map_err(db_err)?;
    let columns = stmt.column_count();
    let rows = stmt
        .query_map(params(&statement.binds), |row| {
            (0..columns)
                .map(|i| {
                    Ok(match row.get_ref(i)? {
                        ValueRef::Null => Cell::Null,
                        ValueRef::Integer(n) => Cell::Int(n),
                        ValueRef::Real(f) => Cell::Float(f),
                        ValueRef::Text(t) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
                        ValueRef::Blob(b) => Cell::Bytes(b.to_vec()),
                    })
                })
                .collect::<rusqlite::Result<Vec<Cell>>>()
        })
        .map_err(db_err)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(db_err)
}

/// A unique-key violation is a conflict (an account whose email exists), not a failure.
fn write_err(e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::ConstraintViolation) => StoreError::Conflict(e.to_string()),
        _ => db_err(e),
    }
}

fn count(conn: &Connection, statement: &Sql) -> StoreResult<u64> {
    let mut stmt = conn.prepare_cached(&statement.text).map_err(db_err)?;
    let n: i64 = stmt
        .query_row(params(&statement.binds), |row| row.get(0))
        .map_err(db_err)?;
    Ok(n as u64)
}

const READ_CURRENT: &str = "SELECT rid, res_type, res_id, version, last_updated, deleted, content \
     FROM resources WHERE res_type = ?1 AND res_id = ?2";

fn read_current(
    conn: &Connection,
    resource_type: &str,
    id: &str,
) -> StoreResult<Option<StoredResource>> {
    let mut stmt = conn.prepare_cached(READ_CURRENT).map_err(db_err)?;
    stmt.query_row([resource_type, id], row_to_resource)
        .optional()
        .map_err(db_err)
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn events(&self) -> Arc<dyn carefront_store::events::EventBus> {
        self.events.clone()
    }

    async fn ping(&self) -> StoreResult<()> {
        self.with_reader(|c| c.query_row("SELECT 1", [], |_| Ok(())).map_err(unavailable))
    }

    async fn read(&self, resource_type: &str, id: &str) -> StoreResult<Option<StoredResource>> {
        self.with_reader(|c| read_current(c, resource_type, id))
    }

    async fn read_version(
        &self,
        resource_type: &str,
        id: &str,
        version: i64,
    ) -> StoreResult<Option<StoredResource>> {
        let statement = sql::read_version_sql(DIALECT, resource_type, id, version);
        self.with_reader(|c| Ok(fetch_resources(c, &statement)?.pop()))
    }

    async fn history(&self, query: &HistoryQuery) -> StoreResult<HistoryPage> {
        let (page, total) = sql::history_sql(DIALECT, query);
        self.with_reader(|c| {
            let total = count(c, &total)?;
            let mut stmt = c.prepare_cached(&page.text).map_err(db_err)?;
            let rows = stmt
                .query_map(params(&page.binds), |row| {
                    let method: String = row.get(7)?;
                    Ok((row_to_resource(row)?, WriteMethod::parse(&method)))
                })
                .map_err(db_err)?;
            let versions = rows.collect::<Result<Vec<_>, _>>().map_err(db_err)?;
            Ok(HistoryPage { versions, total })
        })
    }

    async fn search(&self, query: &SearchQuery) -> StoreResult<SearchPage> {
        let mut reader = Reader(self.checkout_reader()?);
        let result = carefront_store::search::run(&mut reader, DIALECT, query).await;
        self.checkin_reader(reader.0);
        result
    }

    async fn begin(&self) -> StoreResult<Box<dyn StoreTx>> {
        Ok(Box::new(SqliteTx {
            tx: self.writer.begin().await?,
        }))
    }

    async fn execute(&self, statement: Sql) -> StoreResult<u64> {
        let mut tx = self.begin().await?;
        let n = tx.execute(statement).await?;
        tx.commit().await?;
        Ok(n)
    }

    async fn query(&self, statement: Sql) -> StoreResult<Vec<Vec<Cell>>> {
        self.with_reader(|c| query_cells(c, &statement))
    }
}

/// Runs the shared search statements on a read connection checked out of the pool.
struct Reader(Connection);

#[async_trait]
impl carefront_store::search::Reader for Reader {
    async fn resources(&mut self, statement: Sql) -> StoreResult<Vec<StoredResource>> {
        fetch_resources(&self.0, &statement)
    }

    async fn count(&mut self, statement: Sql) -> StoreResult<u64> {
        count(&self.0, &statement)
    }
}

struct SqliteTx {
    tx: writer::WriteTx,
}

#[async_trait]
impl StoreTx for SqliteTx {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn lock(&mut self, _key: &str) -> StoreResult<()> {
        // The writer lock already serialises every write transaction.
        Ok(())
    }

    async fn read(&mut self, resource_type: &str, id: &str) -> StoreResult<Option<StoredResource>> {
        read_current(self.tx.conn(), resource_type, id)
    }

    async fn matches(
        &mut self,
        query: &SearchQuery,
        limit: usize,
    ) -> StoreResult<Vec<StoredResource>> {
        fetch_resources(self.tx.conn(), &sql::matches_sql(DIALECT, query, limit))
    }

    async fn write(&mut self, v: &NewVersion) -> StoreResult<()> {
        let conn: &Connection = self.tx.conn();
        let rid: Option<i64> = match v.replaces {
            None => conn
                .prepare_cached(
                    "INSERT INTO resources (res_type, res_id, version, last_updated, deleted, content) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (res_type, res_id) DO NOTHING RETURNING rid",
                )
                .and_then(|mut s| {
                    s.query_row(
                        rusqlite::params![
                            v.resource_type,
                            v.id,
                            v.version,
                            v.last_updated,
                            v.deleted,
                            v.content
                        ],
                        |r| r.get(0),
                    )
                    .optional()
                })
                .map_err(db_err)?,
            Some(previous) => conn
                .prepare_cached(
                    "UPDATE resources SET version = ?1, last_updated = ?2, deleted = ?3, content = ?4 \
                     WHERE res_type = ?5 AND res_id = ?6 AND version = ?7 RETURNING rid",
                )
                .and_then(|mut s| {
                    s.query_row(
                        rusqlite::params![
                            v.version,
                            v.last_updated,
                            v.deleted,
                            v.content,
                            v.resource_type,
                            v.id,
                            previous
                        ],
                        |r| r.get(0),
                    )
                    .optional()
                })
                .map_err(db_err)?,
        };
        let rid =
            rid.ok_or_else(|| StoreError::Conflict(format!("{}/{}", v.resource_type, v.id)))?;
        conn.prepare_cached(
            "INSERT INTO resource_versions (rid, version, last_updated, deleted, method, content) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .and_then(|mut s| {
            s.execute(rusqlite::params![
                rid,
                v.version,
                v.last_updated,
                v.deleted,
                v.method.as_str(),
                v.content
            ])
        })
        .map_err(db_err)?;
        for statement in sql::index_inserts(
            DIALECT,
            rid,
            v.replaces.is_none(),
            &v.resource_type,
            &v.index,
        ) {
            conn.prepare_cached(&statement.text)
                .and_then(|mut s| s.execute(params(&statement.binds)))
                .map_err(db_err)?;
        }
        Ok(())
    }

    async fn execute(&mut self, statement: Sql) -> StoreResult<u64> {
        let mut stmt = self
            .tx
            .conn()
            .prepare_cached(&statement.text)
            .map_err(db_err)?;
        stmt.execute(params(&statement.binds))
            .map(|n| n as u64)
            .map_err(write_err)
    }

    async fn query(&mut self, statement: Sql) -> StoreResult<Vec<Vec<Cell>>> {
        query_cells(self.tx.conn(), &statement)
    }

    async fn commit(self: Box<Self>) -> StoreResult<()> {
        self.tx.commit().await
    }
}
