//! Rendering a page: HTML with the headers every page carries.

use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use minijinja::{context, Value};

/// Pages load scripts and styles from this origin only, cannot be framed, and post forms only
/// here.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

/// Render `template`; `remember_lang` sets the language cookie (after `?lang=`).
pub fn html_page(template: &str, ctx: Value, lang: &str, remember_lang: bool) -> Response {
    render(StatusCode::OK, template, ctx, lang, remember_lang)
}

/// Render `template` with another status (a form shown again with its errors: 422).
pub fn html_status(status: StatusCode, template: &str, ctx: Value, lang: &str) -> Response {
    render(status, template, ctx, lang, false)
}

/// A page that only says what happened (`title`, `body` are translation keys).
pub fn message_page(status: StatusCode, lang: &str, title: &str, body: &str) -> Response {
    let ctx = context! {
        lang => lang,
        title => super::i18n::translate(lang, title),
        message => super::i18n::translate(lang, body),
    };
    render(status, "error.html", ctx, lang, false)
}

/// A form arrived without a valid CSRF token (stale page, or another site posting it).
pub fn csrf_failed_page(lang: &str) -> Response {
    message_page(
        StatusCode::FORBIDDEN,
        lang,
        "error.csrf.title",
        "error.csrf.body",
    )
}

/// Something failed on our side; the cause is logged (without personal data) by the caller.
pub fn internal_error_page(lang: &str) -> Response {
    message_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        lang,
        "error.internal.title",
        "error.internal.body",
    )
}

/// `303 See Other` to `to`: after a successful POST, so reloading does not post again.
pub fn see_other(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// Add a `Set-Cookie` to a response (several may be added).
pub fn with_cookie(mut response: Response, cookie: Option<HeaderValue>) -> Response {
    if let Some(c) = cookie {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    response
}

/// The cookie that remembers the page language (not HttpOnly-sensitive: it is no secret).
pub fn lang_cookie(lang: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!(
        "lang={lang}; Path=/; Max-Age=31536000; SameSite=Lax"
    ))
    .ok()
}

pub fn not_found_page(lang: &str) -> Response {
    let ctx = context! {
        lang => lang,
        title => super::i18n::translate(lang, "error.not_found.title"),
        message => super::i18n::translate(lang, "error.not_found.body"),
    };
    render(StatusCode::NOT_FOUND, "error.html", ctx, lang, false)
}

fn render(
    status: StatusCode,
    template: &str,
    ctx: Value,
    lang: &str,
    remember_lang: bool,
) -> Response {
    let body = match super::templates::render(template, ctx) {
        Ok(body) => body,
        Err(e) => {
            tracing::error!(template, error = %e, "page rendering failed");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "The page could not be shown.",
            )
                .into_response();
        }
    };
    let mut response = (status, body).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("camera=(self), microphone=(self), geolocation=(self)"),
    );
    if remember_lang {
        if let Some(v) = lang_cookie(lang) {
            h.append(header::SET_COOKIE, v);
        }
    }
    response
}
