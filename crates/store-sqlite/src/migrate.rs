//! Schema migrations, tracked in SQLite's `user_version`.

use carefront_store::{StoreError, StoreResult};
use rusqlite::Connection;

/// Every migration in order; the database's `user_version` is how many have run.
const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_fhir_store",
        include_str!("../migrations/0001_fhir_store.sql"),
    ),
    (
        "0002_accounts",
        include_str!("../migrations/0002_accounts.sql"),
    ),
    (
        "0003_mail_claims",
        include_str!("../migrations/0003_mail_claims.sql"),
    ),
    (
        "0004_booking",
        include_str!("../migrations/0004_booking.sql"),
    ),
    ("0005_triage", include_str!("../migrations/0005_triage.sql")),
    // 0006 (a spool for large NOTIFY payloads) is PostgreSQL's only: SQLite's live events
    // stay in the process.
    (
        "0008_messaging",
        include_str!("../migrations/0008_messaging.sql"),
    ),
    (
        "0009_ondemand",
        include_str!("../migrations/0009_ondemand.sql"),
    ),
];

pub fn run(conn: &mut Connection) -> StoreResult<()> {
    let applied: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| StoreError::Database(e.to_string()))?;
    for (n, (name, sql)) in MIGRATIONS.iter().enumerate().skip(applied as usize) {
        let tx = conn
            .transaction()
            .map_err(|e| StoreError::Database(e.to_string()))?;
        tx.execute_batch(sql)
            .and_then(|_| tx.pragma_update(None, "user_version", (n + 1) as i64))
            .and_then(|_| tx.commit())
            .map_err(|e| StoreError::Database(format!("migration {name} failed: {e}")))?;
        tracing::info!(migration = name, "applied SQLite migration");
    }
    Ok(())
}
