//! Who is signed in: the session cookie, looked up in the store on every request (so any
//! server instance can serve any user), and the CSRF token of forms.

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use carefront_store::repository::now_micros;
use carefront_store::tables::accounts::{self, Account};
use carefront_store::tables::sessions::{self, Session};

use crate::AppState;

pub const SESSION_COOKIE: &str = "cf_session";
/// For forms shown before sign-in (double-submit: the cookie must equal the form field).
pub const CSRF_COOKIE: &str = "cf_csrf";

/// How long a session lasts without signing in again.
pub const SESSION_LIFETIME_MICROS: i64 = 12 * 3600 * 1_000_000;

/// A signed-in person: their account and session.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub account: Account,
    pub session: Session,
    pub token: String,
}

impl SignedIn {
    /// The second factor is still owed: only the TOTP page may be used.
    pub fn needs_second_factor(&self) -> bool {
        self.session.second_factor_pending
    }
}

/// A cookie's value from the request headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value: HttpOnly and SameSite=Lax always, Secure when served over TLS.
pub fn set_cookie(state: &AppState, name: &str, value: &str, max_age_secs: i64) -> HeaderValue {
    let secure = state
        .config
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"));
    let mut cookie =
        format!("{name}={value}; Path=/; Max-Age={max_age_secs}; HttpOnly; SameSite=Lax");
    if secure {
        cookie.push_str("; Secure");
    }
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

impl OptionalFromRequestParts<AppState> for SignedIn {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(lookup(&parts.headers, state).await)
    }
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = axum::response::Redirect;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match lookup(&parts.headers, state).await {
            Some(s) if !s.needs_second_factor() => Ok(s),
            Some(_) => Err(axum::response::Redirect::to("/signin/totp")),
            None => Err(axum::response::Redirect::to("/signin")),
        }
    }
}

async fn lookup(headers: &HeaderMap, state: &AppState) -> Option<SignedIn> {
    let token = cookie(headers, SESSION_COOKIE)?;
    let store = state.repo.store().as_ref();
    let session = sessions::find(store, token, now_micros()).await.ok()??;
    let account = accounts::by_id(store, &session.account_id).await.ok()??;
    if account.disabled {
        return None;
    }
    Some(SignedIn {
        account,
        session,
        token: token.to_owned(),
    })
}

/// Constant-time equality for tokens.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The client's address, for audit entries (the direct peer; `unknown` without connect info).
pub struct ClientAddress(pub String);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip().to_string())
                .unwrap_or_else(|| "unknown".to_owned()),
        ))
    }
}

/// What a page did to a resource, for the audit chain. The `/fhir` layer audits the API; pages
/// that read or write through the repository directly record their own entries with this.
pub struct PageAccess<'a> {
    pub account_id: &'a str,
    pub role: &'a str,
    pub source: &'a str,
    pub action: &'a str,
    pub resource_type: Option<&'a str>,
    pub resource_id: Option<&'a str>,
    pub outcome: &'a str,
}

pub async fn audit_page_access(state: &AppState, access: PageAccess<'_>) {
    state
        .audit
        .record(carefront_store::tables::audit::AuditEntry {
            at: now_micros(),
            actor: format!("account:{}", access.account_id),
            actor_role: access.role.to_owned(),
            action: access.action.to_owned(),
            resource_type: access.resource_type.map(str::to_owned),
            resource_id: access.resource_id.map(str::to_owned),
            outcome: access.outcome.to_owned(),
            source: access.source.to_owned(),
            detail: "web page".to_owned(),
        })
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_cookies_among_several() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "lang=fr; cf_session=abc; x=1".parse().unwrap(),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&h, "missing"), None);
    }

    #[test]
    fn tokens_compare_exactly() {
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abc", "abd"));
        assert!(!same_token("abc", "abcd"));
    }
}
