//! The staff second factor: `/signin/totp` asks for the authenticator's code after the
//! password; `/account/totp` enrols an authenticator (QR code, or the secret to type) the first
//! time a staff member signs in.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use carefront_auth::{Attempt, EmailAddress, ThrottleKey, TotpSecret};
use carefront_store::repository::now_micros;
use carefront_store::tables::{accounts, sessions};
use minijinja::{context, Value};
use serde::Deserialize;
use time::OffsetDateTime;

use super::forms::{self, message};
use super::page::{csrf_failed_page, html_status, internal_error_page, see_other};
use super::session::SignedIn;
use super::signin::{self, locked_message, ClientAddr};
use super::{csrf, i18n, LangQuery};
use crate::AppState;

#[derive(Deserialize, Default)]
#[serde(default)]
struct CodeForm {
    code: String,
    csrf: String,
    /// Enrolment only: the secret shown on the page, sent back with the first code.
    secret: String,
}

fn keys(who: &SignedIn, addr: Option<std::net::IpAddr>) -> Vec<ThrottleKey> {
    signin::throttle_keys(&who.account.email, addr)
}

pub async fn show(
    who: Option<SignedIn>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = i18n::choose(q.lang.as_deref(), &headers);
    match who {
        None => see_other("/signin"),
        Some(w) if !w.needs_second_factor() => see_other("/home"),
        Some(w) if w.account.totp_secret.is_none() => see_other("/account/totp"),
        Some(w) => code_page(StatusCode::OK, lang, &w.session.csrf_token, None),
    }
}

/// The frame of a half-signed-in person: no navigation yet, but a way to sign out.
fn pending_user(csrf: &str) -> Value {
    context! { csrf, nav => Vec::<Value>::new() }
}

fn code_page(status: StatusCode, lang: &str, csrf: &str, error: Option<String>) -> Response {
    let user = pending_user(csrf);
    html_status(
        status,
        "totp.html",
        context! { lang, csrf, error, user },
        lang,
    )
}

pub async fn submit(
    State(state): State<AppState>,
    who: Option<SignedIn>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = i18n::choose(None, &headers);
    let Some(who) = who else {
        return see_other("/signin");
    };
    let form: CodeForm = forms::parse(&body);
    if !csrf::session_ok(&who, &form.csrf) {
        return csrf_failed_page(lang);
    }
    if !who.needs_second_factor() {
        return see_other("/home");
    }
    let Some(secret) = who
        .account
        .totp_secret
        .as_deref()
        .and_then(|s| TotpSecret::from_base32(s).ok())
    else {
        return see_other("/account/totp");
    };
    let store = state.repo.store().as_ref();
    let now = OffsetDateTime::now_utc();
    let keys = keys(&who, addr);
    let refuse = |m: String| {
        code_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            lang,
            &who.session.csrf_token,
            Some(m),
        )
    };
    match signin::check(store, &keys, now).await {
        Ok(Attempt::Allowed) => {}
        Ok(Attempt::Locked { retry_at }) => return refuse(locked_message(lang, retry_at, now)),
        Err(e) => {
            tracing::error!(error = %e, "second factor: reading failures failed");
            return internal_error_page(lang);
        }
    }
    let last = who
        .account
        .totp_last_step
        .and_then(|s| u64::try_from(s).ok());
    match secret.verify(&form.code, now, last) {
        Ok(step) => {
            let mut account = who.account.clone();
            account.totp_last_step = i64::try_from(step).ok();
            account.updated_at = now_micros();
            let done = async {
                accounts::update(store, &account).await?;
                sessions::complete_second_factor(store, &who.token).await?;
                signin::succeed(store, &keys).await
            };
            if let Err(e) = done.await {
                tracing::error!(error = %e, "second factor: completing the session failed");
                return internal_error_page(lang);
            }
            tracing::info!(account = %account.id, "second factor accepted");
            see_other("/home")
        }
        Err(why) => {
            tracing::info!(account = %who.account.id, reason = %why, "second factor refused");
            match signin::fail(store, &keys, now).await {
                Ok(Attempt::Locked { retry_at }) => refuse(locked_message(lang, retry_at, now)),
                Ok(Attempt::Allowed) => refuse(message(lang, "totp.wrong", &[])),
                Err(e) => {
                    tracing::error!(error = %e, "second factor: recording a failure failed");
                    internal_error_page(lang)
                }
            }
        }
    }
}

/// The enrolment QR code as inline SVG (the otpauth URI holds the secret, so it is drawn
/// here rather than by any outside service).
fn qr_svg(uri: &str) -> Option<String> {
    let code = qrcode::QrCode::new(uri.as_bytes()).ok()?;
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(220, 220)
        .quiet_zone(true)
        .build();
    // Inline in HTML, the XML declaration is not wanted.
    svg.find("<svg").map(|i| svg[i..].to_owned())
}

fn enrol_page(
    status: StatusCode,
    lang: &str,
    who: &SignedIn,
    secret: &TotpSecret,
    error: Option<String>,
) -> Response {
    let uri = EmailAddress::parse(&who.account.email)
        .map(|e| secret.provisioning_uri(&e).expose_secret().clone())
        .unwrap_or_default();
    let base32 = secret.expose_base32();
    // Grouped by four for typing into an app by hand.
    let grouped = base32
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    html_status(
        status,
        "totp_enrol.html",
        context! {
            lang,
            csrf => who.session.csrf_token,
            user => pending_user(&who.session.csrf_token),
            qr => qr_svg(&uri).map(Value::from_safe_string),
            uri,
            secret => base32,
            grouped,
            error,
        },
        lang,
    )
}

/// Enrolment is for staff who have no authenticator yet; anyone else goes home.
fn may_enrol(who: &SignedIn) -> bool {
    who.account.totp_secret.is_none()
        && carefront_auth::Role::parse(&who.account.role).is_ok_and(|r| r.requires_second_factor())
}

pub async fn enrol_show(
    who: Option<SignedIn>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = i18n::choose(q.lang.as_deref(), &headers);
    let Some(who) = who else {
        return see_other("/signin");
    };
    if !may_enrol(&who) {
        return see_other("/home");
    }
    match TotpSecret::generate() {
        Ok(secret) => enrol_page(StatusCode::OK, lang, &who, &secret, None),
        Err(_) => internal_error_page(lang),
    }
}

pub async fn enrol_submit(
    State(state): State<AppState>,
    who: Option<SignedIn>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = i18n::choose(None, &headers);
    let Some(who) = who else {
        return see_other("/signin");
    };
    let form: CodeForm = forms::parse(&body);
    if !csrf::session_ok(&who, &form.csrf) {
        return csrf_failed_page(lang);
    }
    // Checked again on submit: a secret once set is never replaced through this page.
    if !may_enrol(&who) {
        return see_other("/home");
    }
    let Ok(secret) = TotpSecret::from_base32(&form.secret) else {
        return see_other("/account/totp");
    };
    let step = match secret.verify(&form.code, OffsetDateTime::now_utc(), None) {
        Ok(step) => step,
        Err(_) => {
            let m = message(lang, "totp.enrol.wrong", &[]);
            return enrol_page(
                StatusCode::UNPROCESSABLE_ENTITY,
                lang,
                &who,
                &secret,
                Some(m),
            );
        }
    };
    let store = state.repo.store().as_ref();
    let mut account = who.account.clone();
    account.totp_secret = Some(secret.expose_base32());
    account.totp_last_step = i64::try_from(step).ok();
    account.updated_at = now_micros();
    let done = async {
        accounts::update(store, &account).await?;
        sessions::complete_second_factor(store, &who.token).await
    };
    if let Err(e) = done.await {
        tracing::error!(error = %e, "enrolment: storing the secret failed");
        return internal_error_page(lang);
    }
    tracing::info!(account = %account.id, "authenticator enrolled");
    see_other("/home")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_qr_code_is_inline_svg() {
        let svg = qr_svg("otpauth://totp/Carefront:a%40b.c?secret=ABC&issuer=Carefront").unwrap();
        assert!(svg.starts_with("<svg"));
        assert!(!svg.contains("<?xml"));
    }
}
