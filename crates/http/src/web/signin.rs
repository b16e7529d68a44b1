//! `/signin` (email and password), `/signout`, and the throttling they share with the TOTP
//! step: failures are stored per account and per source address, and replayed through
//! `carefront_auth`'s throttle, so every server instance sees the same lockouts.

use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use carefront_auth::{
    verify_password, verify_password_without_account, Attempt, EmailAddress, PasswordHash, Role,
    ThrottleKey, ThrottlePolicy, ThrottleState,
};
use carefront_store::repository::now_micros;
use carefront_store::tables::accounts::{self, Account};
use carefront_store::tables::sessions::{self, Session};
use carefront_store::tables::{login_failures, random_token};
use carefront_store::{Store, StoreResult};
use minijinja::context;
use serde::Deserialize;
use time::OffsetDateTime;

use super::forms::{self, message};
use super::page::{
    csrf_failed_page, html_status, internal_error_page, lang_cookie, see_other, with_cookie,
};
use super::session::{cookie, set_cookie, SignedIn, SESSION_COOKIE, SESSION_LIFETIME_MICROS};
use super::{csrf, i18n, LangQuery};
use crate::AppState;

/// The peer's address, when the server was started with connection info (the address
/// throttle is skipped without it; the per-account throttle always applies).
pub struct ClientAddr(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

fn micros(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1000) as i64
}

fn from_micros(m: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(m) * 1000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// The keys a sign-in attempt counts against.
pub fn throttle_keys(email: &str, addr: Option<IpAddr>) -> Vec<ThrottleKey> {
    let mut keys = vec![ThrottleKey::Account(email.trim().to_lowercase())];
    keys.extend(addr.map(ThrottleKey::address));
    keys
}

async fn state_of(
    store: &dyn Store,
    key: &ThrottleKey,
    now: OffsetDateTime,
) -> StoreResult<ThrottleState> {
    let policy = ThrottlePolicy::default();
    let times =
        login_failures::since(store, &key.storage_key(), micros(now - policy.lookback())).await?;
    Ok(ThrottleState::replay(
        &policy,
        times.into_iter().map(from_micros),
    ))
}

/// May these keys try now? The strictest answer over all of them.
pub async fn check(
    store: &dyn Store,
    keys: &[ThrottleKey],
    now: OffsetDateTime,
) -> StoreResult<Attempt> {
    let mut answer = Attempt::Allowed;
    for k in keys {
        answer = answer.and(state_of(store, k, now).await?.check(now));
    }
    Ok(answer)
}

/// Record a failure against every key; returns what the next attempt may do.
pub async fn fail(
    store: &dyn Store,
    keys: &[ThrottleKey],
    now: OffsetDateTime,
) -> StoreResult<Attempt> {
    for k in keys {
        login_failures::record(store, &k.storage_key(), micros(now)).await?;
    }
    check(store, keys, now).await
}

/// A success clears the account's failures (the address's stay: one source may be trying
/// many accounts).
pub async fn succeed(store: &dyn Store, keys: &[ThrottleKey]) -> StoreResult<()> {
    for k in keys.iter().filter(|k| matches!(k, ThrottleKey::Account(_))) {
        login_failures::clear(store, &k.storage_key()).await?;
    }
    Ok(())
}

/// "Locked until 14:05 UTC (in about 15 minutes)", in `lang`.
pub fn locked_message(lang: &str, retry_at: OffsetDateTime, now: OffsetDateTime) -> String {
    let minutes = ((retry_at - now).whole_seconds().max(0) + 59) / 60;
    let at = retry_at
        .format(time::macros::format_description!("[hour]:[minute]"))
        .unwrap_or_default();
    message(
        lang,
        "signin.locked",
        &[("time", at), ("minutes", minutes.max(1).to_string())],
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SignInForm {
    email: String,
    password: String,
    csrf: String,
}

fn form_page(
    status: StatusCode,
    lang: &str,
    csrf: &str,
    email: &str,
    error: Option<String>,
    unconfirmed: bool,
) -> Response {
    html_status(
        status,
        "signin.html",
        context! { lang, csrf, email, error, unconfirmed },
        lang,
    )
}

pub async fn show(
    State(state): State<AppState>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = i18n::choose(q.lang.as_deref(), &headers);
    let (token, set) = csrf::anon_token(&state, &headers);
    let mut r = form_page(StatusCode::OK, lang, &token, "", None, false);
    if q.lang.is_some() {
        r = with_cookie(r, lang_cookie(lang));
    }
    with_cookie(r, set)
}

pub async fn submit(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = i18n::choose(None, &headers);
    let form: SignInForm = forms::parse(&body);
    if !csrf::anon_ok(&headers, &form.csrf) {
        return csrf_failed_page(lang);
    }
    let store = state.repo.store().as_ref();
    let refuse = |error: String, unconfirmed: bool| {
        form_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            lang,
            &form.csrf,
            &form.email,
            Some(error),
            unconfirmed,
        )
    };
    let now = OffsetDateTime::now_utc();
    let keys = throttle_keys(&form.email, addr);
    match check(store, &keys, now).await {
        Ok(Attempt::Allowed) => {}
        Ok(Attempt::Locked { retry_at }) => {
            return refuse(locked_message(lang, retry_at, now), false)
        }
        Err(e) => {
            tracing::error!(error = %e, "sign-in: reading failures failed");
            return internal_error_page(lang);
        }
    }
    let account = match EmailAddress::parse(&form.email) {
        Ok(email) => match accounts::by_email(store, &email.as_str().to_lowercase()).await {
            Ok(a) => a.filter(|a| !a.disabled),
            Err(e) => {
                tracing::error!(error = %e, "sign-in: account lookup failed");
                return internal_error_page(lang);
            }
        },
        Err(_) => None,
    };
    // An unknown address costs the same hashing time as a known one, so timing does not
    // tell which addresses have accounts.
    let candidate = form.password.clone();
    let stored = account.as_ref().map(|a| a.password_hash.clone());
    let verified = tokio::task::spawn_blocking(move || match stored {
        Some(h) => match PasswordHash::parse(&h) {
            Ok(hash) => verify_password(&candidate, &hash),
            Err(_) => verify_password_without_account(&candidate),
        },
        None => verify_password_without_account(&candidate),
    })
    .await
    .unwrap_or(false);
    let Some(account) = account.filter(|_| verified) else {
        return match fail(store, &keys, now).await {
            Ok(Attempt::Locked { retry_at }) => refuse(locked_message(lang, retry_at, now), false),
            Ok(Attempt::Allowed) => refuse(message(lang, "signin.wrong", &[]), false),
            Err(e) => {
                tracing::error!(error = %e, "sign-in: recording a failure failed");
                internal_error_page(lang)
            }
        };
    };
    if let Err(e) = succeed(store, &keys).await {
        tracing::error!(error = %e, "sign-in: clearing failures failed");
    }
    if !account.email_confirmed {
        return refuse(message(lang, "signin.unconfirmed", &[]), true);
    }
    rehash_if_needed(&state, &account, &form.password).await;
    let role = Role::parse(&account.role).unwrap_or(Role::Patient);
    let pending = role.requires_second_factor();
    let token = match start_session(&state, &headers, &account, pending).await {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "sign-in: creating the session failed");
            return internal_error_page(lang);
        }
    };
    tracing::info!(account = %account.id, second_factor = pending, "password accepted");
    let next = match (pending, account.totp_secret.is_some()) {
        (false, _) => "/home",
        (true, true) => "/signin/totp",
        (true, false) => "/account/totp",
    };
    let r = with_cookie(
        see_other(next),
        Some(set_cookie(
            &state,
            SESSION_COOKIE,
            &token,
            SESSION_LIFETIME_MICROS / 1_000_000,
        )),
    );
    // The account's language becomes the page language.
    with_cookie(r, lang_cookie(&account.locale))
}

/// Start a session for `account`, ending the one the browser had (no session fixation).
pub async fn start_session(
    state: &AppState,
    headers: &HeaderMap,
    account: &Account,
    second_factor_pending: bool,
) -> StoreResult<String> {
    let store = state.repo.store().as_ref();
    if let Some(old) = cookie(headers, SESSION_COOKIE) {
        sessions::delete(store, old).await?;
    }
    let now = now_micros();
    sessions::create(
        store,
        &Session {
            account_id: account.id.clone(),
            csrf_token: random_token(),
            second_factor_pending,
            created_at: now,
            expires_at: now + SESSION_LIFETIME_MICROS,
        },
    )
    .await
}

/// Hashes made with older parameters are replaced after a successful sign-in.
async fn rehash_if_needed(state: &AppState, account: &Account, typed: &str) {
    let Ok(hash) = PasswordHash::parse(&account.password_hash) else {
        return;
    };
    if !carefront_auth::needs_rehash(&hash) {
        return;
    }
    let Ok(email) = EmailAddress::parse(&account.email) else {
        return;
    };
    // A password set under an older, looser policy is kept as it is until it is changed.
    let Ok(password) = carefront_auth::Password::parse(typed, &email) else {
        return;
    };
    if let Ok(Ok(new)) =
        tokio::task::spawn_blocking(move || carefront_auth::hash_password(&password)).await
    {
        let mut updated = account.clone();
        updated.password_hash = new.as_str().to_owned();
        updated.updated_at = now_micros();
        if let Err(e) = accounts::update(state.repo.store().as_ref(), &updated).await {
            tracing::warn!(error = %e, "storing a rehashed password failed");
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CsrfOnly {
    csrf: String,
}

/// `POST /signout`: end this session and forget the cookie.
pub async fn sign_out(
    State(state): State<AppState>,
    who: Option<SignedIn>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = i18n::choose(None, &headers);
    let Some(who) = who else {
        return see_other("/");
    };
    let form: CsrfOnly = forms::parse(&body);
    if !csrf::session_ok(&who, &form.csrf) {
        return csrf_failed_page(lang);
    }
    if let Err(e) = sessions::delete(state.repo.store().as_ref(), &who.token).await {
        tracing::error!(error = %e, "sign-out failed");
        return internal_error_page(lang);
    }
    with_cookie(
        see_other("/?signed_out=1"),
        Some(set_cookie(&state, SESSION_COOKIE, "", 0)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_count_against_the_account_and_the_address() {
        let keys = throttle_keys(" Ada@Example.com", Some("192.0.2.1".parse().unwrap()));
        let stored: Vec<String> = keys.iter().map(ThrottleKey::storage_key).collect();
        assert_eq!(stored, ["account:ada@example.com", "address:192.0.2.1"]);
        assert_eq!(throttle_keys("a@b.c", None).len(), 1);
    }

    #[test]
    fn the_lock_message_says_when_to_retry() {
        let now = time::macros::datetime!(2026-01-01 14:00 UTC);
        let m = locked_message("en", now + time::Duration::minutes(15), now);
        assert!(m.contains("14:15") && m.contains("15"), "{m}");
        let fr = locked_message("fr", now + time::Duration::seconds(30), now);
        assert!(fr.contains("14:00") && fr.contains('1'), "{fr}");
    }

    #[test]
    fn micros_round_trip() {
        let t = time::macros::datetime!(2026-01-01 14:00:00.123456 UTC);
        assert_eq!(from_micros(micros(t)), t);
    }
}
