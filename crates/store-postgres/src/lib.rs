//! The PostgreSQL store: the production backend. Server instances share the database and
//! keep nothing of their own, so any number of them can run side by side.
//!
//! Writes use READ COMMITTED transactions with optimistic concurrency (an update names the
//! version it replaces, and the row lock makes a racing second update see the first);
//! conditional creates serialise on a transaction-scoped advisory lock per criteria.

mod events;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use carefront_fhir::search::SearchQuery;
use carefront_store::sql::{self, Bind, Dialect, Sql};
use carefront_store::{
    Cell, HistoryPage, HistoryQuery, NewVersion, SearchPage, Store, StoreError, StoreResult,
    StoreTx, StoredResource, WriteMethod,
};
use sqlx::postgres::{PgArguments, PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::{Arguments, PgConnection, PgPool, Postgres, Row, Transaction};

const DIALECT: Dialect = Dialect::Postgres;

pub struct PostgresStore {
    pool: PgPool,
    events: Arc<events::PgBus>,
}

impl PostgresStore {
    /// Connect to `url` (`postgres://user@host/db`) and apply migrations.
    pub async fn connect(url: &str, max_connections: u32) -> StoreResult<Self> {
        let options: PgConnectOptions = url.parse().map_err(db_err)?;
        let options = options.statement_cache_capacity(512);
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(2))
            .acquire_timeout(Duration::from_secs(30))
            // A ping before every checkout costs a round trip per request; broken connections
            // surface as errors on use instead.
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .map_err(unavailable)?;
        sqlx::migrate!("./migrations")
            .run(&pool)
            .await
            .map_err(|e| StoreError::Database(format!("migration failed: {e}")))?;
        Ok(PostgresStore {
            events: events::PgBus::start(pool.clone()),
            pool,
        })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

fn db_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Database(e.to_string())
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

fn arguments(binds: &[Bind]) -> PgArguments {
    let mut args = PgArguments::default();
    for b in binds {
        // Encoding these types into PostgreSQL arguments cannot fail.
        let _ = match b {
            Bind::Text(s) => args.add(s.clone()),
            Bind::OptText(s) => args.add(s.clone()),
            Bind::Int(i) => args.add(*i),
            Bind::OptInt(i) => args.add(*i),
            Bind::Bool(b) => args.add(*b),
            Bind::Float(f) => args.add(*f),
            Bind::OptFloat(f) => args.add(*f),
        };
    }
    args
}

fn row_to_resource(row: &PgRow) -> StoredResource {
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
    conn: &mut PgConnection,
    statement: Sql,
) -> StoreResult<Vec<StoredResource>> {
    let rows = sqlx::query_with(&statement.text, arguments(&statement.binds))
        .fetch_all(&mut *conn)
        .await
        .map_err(db_err)?;
    Ok(rows.iter().map(row_to_resource).collect())
}

async fn execute(conn: &mut PgConnection, statement: Sql) -> StoreResult<u64> {
    sqlx::query_with(&statement.text, arguments(&statement.binds))
        .execute(&mut *conn)
        .await
        .map(|r| r.rows_affected())
        .map_err(write_err)
}

/// A unique-key violation is a conflict (an account whose email exists), not a failure.
fn write_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict(d.to_string()),
        _ => db_err(e),
    }
}

async fn query_cells(conn: &mut PgConnection, statement: Sql) -> StoreResult<Vec<Vec<Cell>>> {
    let rows = sqlx::query_with(&statement.text, arguments(&statement.binds))
        .fetch_all(&mut *conn)
        .await
        .map_err(db_err)?;
    rows.iter().map(row_cells).collect()
}

/// Decode a row of the plain tables by column type.
fn row_cells(row: &PgRow) -> StoreResult<Vec<Cell>> {
    use sqlx::{Column, TypeInfo};
    row.columns()
        .iter()
        .enumerate()
        .map(|(i, column)| {
            let cell = match column.type_info().name() {
                "INT8" | "INT4" | "INT2" => row
                    .try_get::<Option<i64>, _>(i)
                    .map(|v| v.map_or(Cell::Null, Cell::Int)),
                "BOOL" => row
                    .try_get::<Option<bool>, _>(i)
                    .map(|v| v.map_or(Cell::Null, |b| Cell::Int(i64::from(b)))),
                "FLOAT8" | "FLOAT4" => row
                    .try_get::<Option<f64>, _>(i)
                    .map(|v| v.map_or(Cell::Null, Cell::Float)),
                "BYTEA" => row
                    .try_get::<Option<Vec<u8>>, _>(i)
                    .map(|v| v.map_or(Cell::Null, Cell::Bytes)),
                _ => row
                    .try_get::<Option<String>, _>(i)
                    .map(|v| v.map_or(Cell::Null, Cell::Text)),
            };
            cell.map_err(db_err)
        })
        .collect()
}

const READ_CURRENT: &str = "SELECT rid, res_type, res_id, version, last_updated, deleted, content \
     FROM resources WHERE res_type = $1 AND res_id = $2";

/// In a write transaction, lock the row: concurrent writers of one resource then queue here
/// and each reads the version its predecessor wrote, instead of failing and retrying.
const READ_CURRENT_FOR_UPDATE: &str =
    "SELECT rid, res_type, res_id, version, last_updated, deleted, content \
     FROM resources WHERE res_type = $1 AND res_id = $2 FOR UPDATE";

async fn read_current(
    conn: &mut PgConnection,
    statement: &'static str,
    resource_type: &str,
    id: &str,
) -> StoreResult<Option<StoredResource>> {
    let row = sqlx::query(statement)
        .bind(resource_type)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)?;
    Ok(row.as_ref().map(row_to_resource))
}

#[async_trait]
impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn events(&self) -> Arc<dyn carefront_store::events::EventBus> {
        self.events.clone()
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(unavailable)
    }

    async fn read(&self, resource_type: &str, id: &str) -> StoreResult<Option<StoredResource>> {
        let mut conn = self.pool.acquire().await.map_err(unavailable)?;
        read_current(&mut conn, READ_CURRENT, resource_type, id).await
    }

    async fn read_version(
        &self,
        resource_type: &str,
        id: &str,
        version: i64,
    ) -> StoreResult<Option<StoredResource>> {
        let mut conn = self.pool.acquire().await.map_err(unavailable)?;
        let statement = sql::read_version_sql(DIALECT, resource_type, id, version);
        Ok(fetch_resources(&mut conn, statement).await?.pop())
    }

    async fn history(&self, query: &HistoryQuery) -> StoreResult<HistoryPage> {
        let mut conn = self.pool.acquire().await.map_err(unavailable)?;
        let (page, count) = sql::history_sql(DIALECT, query);
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
                (row_to_resource(row), WriteMethod::parse(&method))
            })
            .collect();
        Ok(HistoryPage {
            versions,
            total: total as u64,
        })
    }

    async fn search(&self, query: &SearchQuery) -> StoreResult<SearchPage> {
        let mut conn = self.pool.acquire().await.map_err(unavailable)?;
        carefront_store::search::run(&mut PgReader(&mut conn), DIALECT, query).await
    }

    async fn begin(&self) -> StoreResult<Box<dyn StoreTx>> {
        let tx = self.pool.begin().await.map_err(unavailable)?;
        Ok(Box::new(PgTx { tx }))
    }

    async fn execute(&self, statement: Sql) -> StoreResult<u64> {
        let mut conn = self.pool.acquire().await.map_err(unavailable)?;
        execute(&mut conn, statement).await
    }

    async fn query(&self, statement: Sql) -> StoreResult<Vec<Vec<Cell>>> {
        let mut conn = self.pool.acquire().await.map_err(unavailable)?;
        query_cells(&mut conn, statement).await
    }
}

/// Runs the shared search queries on one connection.
struct PgReader<'a>(&'a mut PgConnection);

#[async_trait]
impl carefront_store::search::Reader for PgReader<'_> {
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

struct PgTx {
    tx: Transaction<'static, Postgres>,
}

#[async_trait]
impl StoreTx for PgTx {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn lock(&mut self, key: &str) -> StoreResult<()> {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(key)
            .execute(&mut *self.tx)
            .await
            .map(|_| ())
            .map_err(db_err)
    }

    async fn read(&mut self, resource_type: &str, id: &str) -> StoreResult<Option<StoredResource>> {
        read_current(&mut self.tx, READ_CURRENT_FOR_UPDATE, resource_type, id).await
    }

    async fn matches(
        &mut self,
        query: &SearchQuery,
        limit: usize,
    ) -> StoreResult<Vec<StoredResource>> {
        fetch_resources(&mut self.tx, sql::matches_sql(DIALECT, query, limit)).await
    }

    async fn write(&mut self, v: &NewVersion) -> StoreResult<()> {
        let conn: &mut PgConnection = &mut self.tx;
        let rid: Option<i64> = match v.replaces {
            None => sqlx::query_scalar(
                "INSERT INTO resources (res_type, res_id, version, last_updated, deleted, content) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (res_type, res_id) DO NOTHING RETURNING rid",
            )
            .bind(&v.resource_type)
            .bind(&v.id)
            .bind(v.version)
            .bind(v.last_updated)
            .bind(v.deleted)
            .bind(&v.content)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_err)?,
            Some(previous) => sqlx::query_scalar(
                "UPDATE resources SET version = $1, last_updated = $2, deleted = $3, content = $4 \
                 WHERE res_type = $5 AND res_id = $6 AND version = $7 RETURNING rid",
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
            .map_err(db_err)?,
        };
        let rid =
            rid.ok_or_else(|| StoreError::Conflict(format!("{}/{}", v.resource_type, v.id)))?;
        sqlx::query(
            "INSERT INTO resource_versions (rid, version, last_updated, deleted, method, content) \
             VALUES ($1, $2, $3, $4, $5, $6)",
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

    async fn execute(&mut self, statement: Sql) -> StoreResult<u64> {
        execute(&mut self.tx, statement).await
    }

    async fn query(&mut self, statement: Sql) -> StoreResult<Vec<Vec<Cell>>> {
        query_cells(&mut self.tx, statement).await
    }

    async fn commit(self: Box<Self>) -> StoreResult<()> {
        self.tx.commit().await.map_err(db_err)
    }
}
