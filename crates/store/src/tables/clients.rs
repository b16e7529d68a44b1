//! OAuth2 clients (client credentials grant) and the bearer tokens issued to them.

use crate::sql::Bind;
use crate::{Store, StoreResult};

use super::{flag, int, sha256_hex, statement, text};

#[derive(Debug, Clone, PartialEq)]
pub struct Client {
    pub id: String,
    pub name: String,
    /// SHA-256 of the secret: client secrets are long random tokens, so a fast hash is
    /// enough (unlike passwords, they cannot be guessed from a dictionary).
    pub secret_hash: String,
    /// Space-separated SMART scopes, e.g. `system/Patient.read`.
    pub scopes: String,
    pub disabled: bool,
    pub created_at: i64,
}

/// Register a client; returns its secret, which is shown once and never stored.
pub async fn register(
    store: &dyn Store,
    id: &str,
    name: &str,
    scopes: &str,
    now: i64,
) -> StoreResult<String> {
    let secret = super::random_token();
    let s = statement(
        super::dialect(store),
        "INSERT INTO oauth_clients (id, name, secret_hash, scopes, disabled, created_at) \
         VALUES ({}, {}, {}, {}, {}, {})",
        vec![
            Bind::Text(id.to_owned()),
            Bind::Text(name.to_owned()),
            Bind::Text(sha256_hex(&secret)),
            Bind::Text(scopes.to_owned()),
            Bind::Bool(false),
            Bind::Int(now),
        ],
    );
    store.execute(s).await?;
    Ok(secret)
}

pub async fn by_id(store: &dyn Store, id: &str) -> StoreResult<Option<Client>> {
    let s = statement(
        super::dialect(store),
        "SELECT id, name, secret_hash, scopes, disabled, created_at FROM oauth_clients WHERE id = {}",
        vec![Bind::Text(id.to_owned())],
    );
    store
        .query(s)
        .await?
        .first()
        .map(|r| {
            Ok(Client {
                id: text(r, 0)?,
                name: text(r, 1)?,
                secret_hash: text(r, 2)?,
                scopes: text(r, 3)?,
                disabled: flag(r, 4),
                created_at: int(r, 5)?,
            })
        })
        .transpose()
}

/// Does `secret` belong to `client`? Compares hashes in constant time.
pub fn secret_matches(client: &Client, secret: &str) -> bool {
    let given = sha256_hex(secret);
    given.len() == client.secret_hash.len()
        && given
            .bytes()
            .zip(client.secret_hash.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// Issue a bearer token for `client_id` with `scopes` until `expires_at`; returns the token.
pub async fn issue_token(
    store: &dyn Store,
    client_id: &str,
    scopes: &str,
    expires_at: i64,
) -> StoreResult<String> {
    let token = super::random_token();
    let s = statement(
        super::dialect(store),
        "INSERT INTO access_tokens (token_hash, client_id, scopes, expires_at) VALUES ({}, {}, {}, {})",
        vec![
            Bind::Text(sha256_hex(&token)),
            Bind::Text(client_id.to_owned()),
            Bind::Text(scopes.to_owned()),
            Bind::Int(expires_at),
        ],
    );
    store.execute(s).await?;
    Ok(token)
}

/// The client and scopes of a live bearer token at `now`.
pub async fn token(
    store: &dyn Store,
    token: &str,
    now: i64,
) -> StoreResult<Option<(String, String)>> {
    let s = statement(
        super::dialect(store),
        "SELECT t.client_id, t.scopes FROM access_tokens t JOIN oauth_clients c ON c.id = t.client_id \
         WHERE t.token_hash = {} AND t.expires_at > {} AND c.disabled = {}",
        vec![Bind::Text(sha256_hex(token)), Bind::Int(now), Bind::Bool(false)],
    );
    store
        .query(s)
        .await?
        .first()
        .map(|r| Ok((text(r, 0)?, text(r, 1)?)))
        .transpose()
}
