//! One-time links from mail: `/confirm` (email confirmation, and asking for a new link) and
//! `/forgot` + `/reset` (a new password). Answers never tell whether an address has an account.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use carefront_auth::{EmailAddress, Password};
use carefront_store::repository::now_micros;
use carefront_store::tables::{accounts, login_failures, one_time, sessions};
use minijinja::context;
use serde::Deserialize;

use super::forms::{self, FieldErrors};
use super::mailbox::{self, LinkMail, CONFIRM_PURPOSE, RESET_PURPOSE};
use super::page::{csrf_failed_page, html_status, internal_error_page, with_cookie};
use super::{csrf, i18n};
use crate::AppState;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TokenQuery {
    token: String,
    lang: Option<String>,
}

fn notice(lang: &str, status: StatusCode, title: &str, body: &str, mailbox: bool) -> Response {
    html_status(
        status,
        "notice.html",
        context! {
            lang,
            title => i18n::translate(lang, title),
            message => i18n::translate(lang, body),
            mailbox,
            signin => true,
        },
        lang,
    )
}

/// `GET /confirm?token=`: the link in the confirmation mail.
pub async fn confirm(
    State(state): State<AppState>,
    Query(q): Query<TokenQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = i18n::choose(q.lang.as_deref(), &headers);
    let store = state.repo.store().as_ref();
    let redeemed = one_time::redeem(store, &q.token, CONFIRM_PURPOSE, now_micros()).await;
    let account = match redeemed {
        Ok(Some(id)) => accounts::by_id(store, &id).await,
        Ok(None) => {
            return notice(
                lang,
                StatusCode::BAD_REQUEST,
                "confirm.invalid.title",
                "confirm.invalid.body",
                false,
            )
        }
        Err(e) => Err(e),
    };
    let result = match account {
        Ok(Some(mut a)) => {
            a.email_confirmed = true;
            a.updated_at = now_micros();
            accounts::update(store, &a).await
        }
        Ok(None) => Ok(()),
        Err(e) => Err(e),
    };
    if let Err(e) = result {
        tracing::error!(error = %e, "confirming an email failed");
        return internal_error_page(lang);
    }
    notice(
        lang,
        StatusCode::OK,
        "confirm.done.title",
        "confirm.done.body",
        false,
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct EmailForm {
    email: String,
    csrf: String,
}

/// The account behind a typed address, if it is one and is not disabled.
async fn account_for(
    state: &AppState,
    typed: &str,
) -> carefront_store::StoreResult<Option<accounts::Account>> {
    let Ok(email) = EmailAddress::parse(typed) else {
        return Ok(None);
    };
    let lower = email.as_str().to_lowercase();
    let found = accounts::by_email(state.repo.store().as_ref(), &lower).await?;
    Ok(found.filter(|a| !a.disabled))
}

/// `POST /confirm/resend`: another confirmation link (from the sign-in page).
pub async fn resend(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let lang = i18n::choose(None, &headers);
    let form: EmailForm = forms::parse(&body);
    if !csrf::anon_ok(&headers, &form.csrf) {
        return csrf_failed_page(lang);
    }
    let base = mailbox::base_url(&state, &headers);
    let sent = match account_for(&state, &form.email).await {
        Ok(Some(a)) if !a.email_confirmed => {
            mailbox::send_link(&state, &base, LinkMail::Confirm, &a.id, &a.email, &a.locale).await
        }
        Ok(_) => Ok(()),
        Err(e) => Err(e),
    };
    if let Err(e) = sent {
        tracing::error!(error = %e, "resending a confirmation failed");
        return internal_error_page(lang);
    }
    notice(
        lang,
        StatusCode::OK,
        "resend.done.title",
        "resend.done.body",
        state.config.mailbox_open(),
    )
}

pub async fn forgot_show(
    State(state): State<AppState>,
    Query(q): Query<super::LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = i18n::choose(q.lang.as_deref(), &headers);
    let (token, set) = csrf::anon_token(&state, &headers);
    let page = html_status(
        StatusCode::OK,
        "forgot.html",
        context! { lang, csrf => token },
        lang,
    );
    with_cookie(page, set)
}

/// `POST /forgot`: mail a reset link if the address has an account; the answer is the same
/// either way.
pub async fn forgot_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = i18n::choose(None, &headers);
    let form: EmailForm = forms::parse(&body);
    if !csrf::anon_ok(&headers, &form.csrf) {
        return csrf_failed_page(lang);
    }
    let base = mailbox::base_url(&state, &headers);
    let sent = match account_for(&state, &form.email).await {
        Ok(Some(a)) => {
            mailbox::send_link(&state, &base, LinkMail::Reset, &a.id, &a.email, &a.locale).await
        }
        Ok(None) => Ok(()),
        Err(e) => Err(e),
    };
    if let Err(e) = sent {
        tracing::error!(error = %e, "sending a reset link failed");
        return internal_error_page(lang);
    }
    notice(
        lang,
        StatusCode::OK,
        "forgot.done.title",
        "forgot.done.body",
        state.config.mailbox_open(),
    )
}

fn reset_page(
    status: StatusCode,
    lang: &str,
    csrf: &str,
    token: &str,
    errors: &FieldErrors,
) -> Response {
    html_status(
        status,
        "reset.html",
        context! { lang, csrf, token, errors },
        lang,
    )
}

/// `GET /reset?token=`: the form for the new password (the token is spent on submit).
pub async fn reset_show(
    State(state): State<AppState>,
    Query(q): Query<TokenQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = i18n::choose(q.lang.as_deref(), &headers);
    let (csrf_token, set) = csrf::anon_token(&state, &headers);
    let page = reset_page(
        StatusCode::OK,
        lang,
        &csrf_token,
        &q.token,
        &FieldErrors::default(),
    );
    with_cookie(page, set)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ResetForm {
    token: String,
    password: String,
    csrf: String,
}

pub async fn reset_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = i18n::choose(None, &headers);
    let form: ResetForm = forms::parse(&body);
    if !csrf::anon_ok(&headers, &form.csrf) {
        return csrf_failed_page(lang);
    }
    let store = state.repo.store().as_ref();
    let now = now_micros();
    let account = match one_time::redeem(store, &form.token, RESET_PURPOSE, now).await {
        Ok(Some(id)) => accounts::by_id(store, &id).await,
        Ok(None) => Ok(None),
        Err(e) => Err(e),
    };
    let mut account = match account {
        Ok(Some(a)) if !a.disabled => a,
        Ok(_) => {
            return notice(
                lang,
                StatusCode::BAD_REQUEST,
                "reset.invalid.title",
                "reset.invalid.body",
                false,
            )
        }
        Err(e) => {
            tracing::error!(error = %e, "redeeming a reset link failed");
            return internal_error_page(lang);
        }
    };
    // The policy needs the account's address, known only once the token is spent: a refused
    // password gets a fresh link in the form rather than a dead one.
    let checked = EmailAddress::parse(&account.email)
        .map_err(|e| forms::email_error(lang, &e))
        .and_then(|email| {
            Password::parse(&form.password, &email).map_err(|e| forms::password_error(lang, &e))
        });
    let password = match checked {
        Ok(p) => p,
        Err(m) => {
            let mut errors = FieldErrors::default();
            errors.add("password", m);
            let fresh = one_time::issue(store, &account.id, RESET_PURPOSE, now + 3_600_000_000);
            return match fresh.await {
                Ok(token) => reset_page(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    lang,
                    &form.csrf,
                    &token,
                    &errors,
                ),
                Err(_) => internal_error_page(lang),
            };
        }
    };
    let Ok(Ok(hash)) =
        tokio::task::spawn_blocking(move || carefront_auth::hash_password(&password)).await
    else {
        tracing::error!("reset: password hashing failed");
        return internal_error_page(lang);
    };
    account.password_hash = hash.as_str().to_owned();
    // The mail reached its owner, so the address is confirmed too.
    account.email_confirmed = true;
    account.updated_at = now_micros();
    let done = async {
        accounts::update(store, &account).await?;
        // Whoever else was signed in with the old password is signed out.
        sessions::delete_for_account(store, &account.id).await?;
        login_failures::clear(
            store,
            &carefront_auth::ThrottleKey::Account(account.email.to_lowercase()).storage_key(),
        )
        .await
    };
    if let Err(e) = done.await {
        tracing::error!(error = %e, "storing a new password failed");
        return internal_error_page(lang);
    }
    tracing::info!(account = %account.id, "password reset");
    notice(
        lang,
        StatusCode::OK,
        "reset.done.title",
        "reset.done.body",
        false,
    )
}
