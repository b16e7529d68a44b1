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
        let cookie = format!("lang={lang}; Path=/; Max-Age=31536000; SameSite=Lax");
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            h.insert(header::SET_COOKIE, v);
        }
    }
    response
}
