//! One-time links (email confirmation, password reset): random, stored hashed, expiring,
//! and spent on first use.

use crate::sql::Bind;
use crate::{Store, StoreResult};

use super::{sha256_hex, statement, text};

/// Issue a link token for `purpose` (`confirm-email`, `reset-password`) valid until
/// `expires_at`; returns the token to put in the link.
pub async fn issue(
    store: &dyn Store,
    account_id: &str,
    purpose: &str,
    expires_at: i64,
) -> StoreResult<String> {
    let token = super::random_token();
    let s = statement(
        super::dialect(store),
        "INSERT INTO one_time_tokens (token_hash, account_id, purpose, expires_at) \
         VALUES ({}, {}, {}, {})",
        vec![
            Bind::Text(sha256_hex(&token)),
            Bind::Text(account_id.to_owned()),
            Bind::Text(purpose.to_owned()),
            Bind::Int(expires_at),
        ],
    );
    store.execute(s).await?;
    Ok(token)
}

/// Spend a token: the account it was issued to, if it is valid for `purpose` at `now` and
/// unused. A second use finds nothing.
pub async fn redeem(
    store: &dyn Store,
    token: &str,
    purpose: &str,
    now: i64,
) -> StoreResult<Option<String>> {
    let hash = sha256_hex(token);
    let mut tx = store.begin().await?;
    let d = super::dialect(store);
    let rows = tx
        .query(statement(
            d,
            "SELECT account_id FROM one_time_tokens WHERE token_hash = {} AND purpose = {} \
             AND used_at IS NULL AND expires_at > {}",
            vec![
                Bind::Text(hash.clone()),
                Bind::Text(purpose.to_owned()),
                Bind::Int(now),
            ],
        ))
        .await?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let account = text(row, 0)?;
    // Only the first of two racing redemptions changes the row.
    let spent = tx
        .execute(statement(
            d,
            "UPDATE one_time_tokens SET used_at = {} WHERE token_hash = {} AND used_at IS NULL",
            vec![Bind::Int(now), Bind::Text(hash)],
        ))
        .await?;
    tx.commit().await?;
    Ok((spent == 1).then_some(account))
}
