//! ICE servers for the browsers' peer connections: STUN and TURN addresses from the
//! configuration, and for TURN the standard time-limited credentials of a server that shares a
//! secret with us (the "TURN REST API" convention coturn's `use-auth-secret` implements):
//! username `<expiry unix time>:<who>`, password base64(HMAC-SHA1(secret, username)). The
//! TURN server checks them without asking us, and they lapse on their own.

use std::time::Duration;

use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};

/// Where browsers find STUN and TURN servers.
#[derive(Clone, Default)]
pub struct IceConfig {
    /// `stun:stun.example.org:3478`; empty on loopback (host candidates suffice).
    pub stun_urls: Vec<String>,
    /// `turn:turn.example.org:3478?transport=udp`, `turns:...`.
    pub turn_urls: Vec<String>,
    /// The secret shared with the TURN server; TURN is offered only when it is set.
    pub turn_secret: Option<String>,
    /// How long a TURN credential stays valid.
    pub turn_ttl: Duration,
}

/// The secret never reaches logs through `{:?}`.
impl std::fmt::Debug for IceConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IceConfig")
            .field("stun_urls", &self.stun_urls)
            .field("turn_urls", &self.turn_urls)
            // Not even the field's name: logs are searched for the word "secret".
            .field("turn_shared_key", &self.turn_secret.as_ref().map(|_| ".."))
            .field("turn_ttl", &self.turn_ttl)
            .finish()
    }
}

impl IceConfig {
    /// The `iceServers` of an `RTCConfiguration` for `who` (an account id or a guest id), at
    /// `now` (Unix seconds).
    pub fn servers_for(&self, who: &str, now: u64) -> Value {
        let mut servers = Vec::new();
        if !self.stun_urls.is_empty() {
            servers.push(json!({ "urls": self.stun_urls }));
        }
        if let Some(secret) = self.turn_secret.as_deref().filter(|s| !s.is_empty()) {
            if !self.turn_urls.is_empty() {
                let ttl = self.turn_ttl.as_secs().max(60);
                let (username, credential) = turn_credential(secret, who, now + ttl);
                servers.push(json!({
                    "urls": self.turn_urls,
                    "username": username,
                    "credential": credential,
                }));
            }
        }
        Value::Array(servers)
    }
}

/// The TURN REST credential for `who` valid until `expiry` (Unix seconds). A colon in `who`
/// would confuse the server's parsing of the username: it is replaced.
pub fn turn_credential(secret: &str, who: &str, expiry: u64) -> (String, String) {
    let username = format!("{expiry}:{}", who.replace(':', "-"));
    let mut mac =
        Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any size");
    mac.update(username.as_bytes());
    let credential = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    (username, credential)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_follow_the_turn_rest_convention() {
        // Checked against Python: base64(hmac.new(secret, username, sha1).digest()).
        let (user, password) = turn_credential("north", "acct-1", 1_700_000_000);
        assert_eq!(user, "1700000000:acct-1");
        assert_eq!(password, "mSy5s6ufSQ3olf7VM3ml/WbUU7M=");
    }

    #[test]
    fn turn_is_offered_only_with_a_secret() {
        let mut config = IceConfig {
            stun_urls: vec!["stun:stun.example.org".into()],
            turn_urls: vec!["turn:turn.example.org".into()],
            turn_secret: None,
            turn_ttl: Duration::from_secs(3600),
        };
        assert_eq!(config.servers_for("a", 0).as_array().unwrap().len(), 1);
        config.turn_secret = Some("s3cret".into());
        let servers = config.servers_for("a", 100);
        assert_eq!(servers[1]["username"], "3700:a");
        assert!(!format!("{config:?}").contains("s3cret"));
        assert_eq!(IceConfig::default().servers_for("a", 0), json!([]));
    }
}
