//! Bearer tokens, looked up in the store and kept for a few seconds in memory: a read is
//! one indexed query, and a second query per request for the token would halve the read
//! throughput. The price is that a token stays usable up to [`TOKEN_CACHE_TTL`] after it
//! expires or its client is disabled.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use carefront_auth::{ClientPrincipal, ScopeSet};
use carefront_store::repository::now_micros;
use carefront_store::tables::{clients, sha256_hex};
use carefront_store::{Store, StoreResult};

pub const TOKEN_CACHE_TTL: Duration = Duration::from_secs(15);
/// Beyond this many live entries the cache starts again (tokens are few: one per client and
/// hour, typically).
const MAX_ENTRIES: usize = 10_000;

#[derive(Default)]
pub struct TokenCache {
    /// Keyed by the token's SHA-256, so no usable token sits in memory longer than needed.
    entries: Mutex<HashMap<String, (ClientPrincipal, Instant)>>,
}

impl TokenCache {
    /// The client a live token belongs to, with the token's scopes.
    pub async fn lookup(
        &self,
        store: &dyn Store,
        token: &str,
    ) -> StoreResult<Option<ClientPrincipal>> {
        let key = sha256_hex(token);
        let now = Instant::now();
        if let Some((client, until)) = self.lock().get(&key) {
            if *until > now {
                return Ok(Some(client.clone()));
            }
        }
        let Some((id, scopes)) = clients::token(store, token, now_micros()).await? else {
            return Ok(None);
        };
        // Scopes were checked when the token was issued; one that no longer parses grants
        // nothing rather than failing every request.
        let scopes = ScopeSet::parse(&scopes).unwrap_or_default();
        let client = ClientPrincipal { id, scopes };
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, (_, until)| *until > now);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(key, (client.clone(), now + TOKEN_CACHE_TTL));
        Ok(Some(client))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (ClientPrincipal, Instant)>> {
        // A panic elsewhere while holding the lock leaves a usable map.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}
