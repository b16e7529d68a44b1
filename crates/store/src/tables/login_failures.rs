//! Failed sign-ins, kept per throttle key (the account's email, and the source address) so that
//! throttling works across server instances.

use crate::sql::Bind;
use crate::{Store, StoreResult};

use super::{int, statement};

pub async fn record(store: &dyn Store, key: &str, at: i64) -> StoreResult<()> {
    let s = statement(
        super::dialect(store),
        "INSERT INTO login_failures (throttle_key, at) VALUES ({}, {})",
        vec![Bind::Text(key.to_owned()), Bind::Int(at)],
    );
    store.execute(s).await.map(|_| ())
}

/// Failure times for `key` since `since`, oldest first.
pub async fn since(store: &dyn Store, key: &str, since: i64) -> StoreResult<Vec<i64>> {
    let s = statement(
        super::dialect(store),
        "SELECT at FROM login_failures WHERE throttle_key = {} AND at >= {} ORDER BY at",
        vec![Bind::Text(key.to_owned()), Bind::Int(since)],
    );
    store.query(s).await?.iter().map(|r| int(r, 0)).collect()
}

/// A successful sign-in clears the record.
pub async fn clear(store: &dyn Store, key: &str) -> StoreResult<()> {
    let s = statement(
        super::dialect(store),
        "DELETE FROM login_failures WHERE throttle_key = {}",
        vec![Bind::Text(key.to_owned())],
    );
    store.execute(s).await.map(|_| ())
}
