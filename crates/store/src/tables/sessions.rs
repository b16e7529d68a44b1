//! Browser sessions. The cookie carries a random token; only its SHA-256 is stored, so a copy
//! of the database does not let anyone sign in.

use crate::sql::Bind;
use crate::{Store, StoreResult};

use super::{flag, int, sha256_hex, statement, text};

#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub account_id: String,
    /// Sent back in every form; checked on every state-changing request.
    pub csrf_token: String,
    /// Signed in with the password but the TOTP code is still owed.
    pub second_factor_pending: bool,
    pub created_at: i64,
    pub expires_at: i64,
}

/// Start a session; returns the token for the cookie.
pub async fn create(store: &dyn Store, session: &Session) -> StoreResult<String> {
    let token = super::random_token();
    let s = statement(
        super::dialect(store),
        "INSERT INTO sessions (token_hash, account_id, csrf_token, second_factor_pending, \
         created_at, expires_at) VALUES ({}, {}, {}, {}, {}, {})",
        vec![
            Bind::Text(sha256_hex(&token)),
            Bind::Text(session.account_id.clone()),
            Bind::Text(session.csrf_token.clone()),
            Bind::Bool(session.second_factor_pending),
            Bind::Int(session.created_at),
            Bind::Int(session.expires_at),
        ],
    );
    store.execute(s).await?;
    Ok(token)
}

/// The live session for a cookie token at time `now`.
pub async fn find(store: &dyn Store, token: &str, now: i64) -> StoreResult<Option<Session>> {
    let s = statement(
        super::dialect(store),
        "SELECT account_id, csrf_token, second_factor_pending, created_at, expires_at \
         FROM sessions WHERE token_hash = {} AND expires_at > {}",
        vec![Bind::Text(sha256_hex(token)), Bind::Int(now)],
    );
    let rows = store.query(s).await?;
    rows.first()
        .map(|r| {
            Ok(Session {
                account_id: text(r, 0)?,
                csrf_token: text(r, 1)?,
                second_factor_pending: flag(r, 2),
                created_at: int(r, 3)?,
                expires_at: int(r, 4)?,
            })
        })
        .transpose()
}

/// The second factor was given: the session is now complete.
pub async fn complete_second_factor(store: &dyn Store, token: &str) -> StoreResult<()> {
    let s = statement(
        super::dialect(store),
        "UPDATE sessions SET second_factor_pending = {} WHERE token_hash = {}",
        vec![Bind::Bool(false), Bind::Text(sha256_hex(token))],
    );
    store.execute(s).await.map(|_| ())
}

/// Sign out one session.
pub async fn delete(store: &dyn Store, token: &str) -> StoreResult<()> {
    let s = statement(
        super::dialect(store),
        "DELETE FROM sessions WHERE token_hash = {}",
        vec![Bind::Text(sha256_hex(token))],
    );
    store.execute(s).await.map(|_| ())
}

/// Sign out everywhere (password change, account disabled).
pub async fn delete_for_account(store: &dyn Store, account_id: &str) -> StoreResult<()> {
    let s = statement(
        super::dialect(store),
        "DELETE FROM sessions WHERE account_id = {}",
        vec![Bind::Text(account_id.to_owned())],
    );
    store.execute(s).await.map(|_| ())
}
