//! `POST /oauth2/token`: the OAuth2 client-credentials grant (RFC 6749 section 4.4) for
//! system clients registered with `carefront client create`. Errors are RFC 6749 JSON
//! (section 5.2), not OperationOutcomes: OAuth2 libraries expect that shape.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use carefront_auth::ScopeSet;
use carefront_store::repository::now_micros;
use carefront_store::tables::clients;
use serde_json::json;

use crate::AppState;

/// How long an access token lasts.
pub const TOKEN_LIFETIME_SECS: i64 = 3600;

pub fn routes() -> Router<AppState> {
    Router::new().route("/oauth2/token", post(token))
}

/// An RFC 6749 error answer.
struct OAuthError {
    status: StatusCode,
    code: &'static str,
    description: &'static str,
}

fn fail(status: StatusCode, code: &'static str, description: &'static str) -> OAuthError {
    OAuthError {
        status,
        code,
        description,
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.code, "error_description": self.description });
        let mut response = (self.status, no_store(), axum::Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"carefront\""),
            );
        }
        response
    }
}

/// Token answers must not be cached (RFC 6749 section 5.1).
fn no_store() -> [(header::HeaderName, &'static str); 2] {
    [
        (header::CACHE_CONTROL, "no-store"),
        (header::PRAGMA, "no-cache"),
    ]
}

async fn token(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    match issue(&state, &headers, &body).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn issue(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<Response, OAuthError> {
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(body).map_err(|_| {
        fail(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the body must be application/x-www-form-urlencoded",
        )
    })?;
    let field = |name: &str| -> Result<Option<&str>, OAuthError> {
        let mut values = form
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str());
        let first = values.next();
        if values.next().is_some() {
            return Err(fail(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "a parameter is repeated",
            ));
        }
        Ok(first)
    };
    match field("grant_type")? {
        None => {
            return Err(fail(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "grant_type is missing",
            ))
        }
        Some("client_credentials") => {}
        Some(_) => {
            return Err(fail(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "only the client_credentials grant is supported",
            ))
        }
    }
    let basic = basic_credentials(headers)?;
    let (client_id, secret) = match (basic, field("client_id")?, field("client_secret")?) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            return Err(fail(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "send the client credentials once: in the Authorization header or in the form",
            ))
        }
        (Some((id, secret)), None, None) => (id, secret),
        (None, Some(id), Some(secret)) => (id.to_owned(), secret.to_owned()),
        _ => return Err(invalid_client()),
    };
    let store = state.repo.store().as_ref();
    let client = clients::by_id(store, &client_id)
        .await
        .map_err(|_| server_error())?
        .filter(|c| !c.disabled && clients::secret_matches(c, &secret))
        .ok_or_else(invalid_client)?;
    let registered = ScopeSet::parse(&client.scopes).map_err(|_| server_error())?;
    let granted = match field("scope")? {
        None => registered,
        Some(text) => {
            let asked = ScopeSet::parse(text).map_err(|_| invalid_scope())?;
            if asked.is_empty() || !registered.covers(&asked) {
                return Err(invalid_scope());
            }
            asked
        }
    };
    let scope = granted.to_string();
    let expires_at = now_micros() + TOKEN_LIFETIME_SECS * 1_000_000;
    let token = clients::issue_token(store, &client.id, &scope, expires_at)
        .await
        .map_err(|_| server_error())?;
    let body = json!({
        "access_token": token,
        "token_type": "bearer",
        "expires_in": TOKEN_LIFETIME_SECS,
        "scope": scope,
    });
    Ok((StatusCode::OK, no_store(), axum::Json(body)).into_response())
}

fn invalid_client() -> OAuthError {
    fail(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        "unknown client or wrong secret",
    )
}

fn invalid_scope() -> OAuthError {
    fail(
        StatusCode::BAD_REQUEST,
        "invalid_scope",
        "scope must be SMART scopes the client is registered with",
    )
}

fn server_error() -> OAuthError {
    tracing::error!("a token request failed in the store");
    fail(
        StatusCode::INTERNAL_SERVER_ERROR,
        "server_error",
        "the token could not be issued; try again",
    )
}

/// `Authorization: Basic base64(urlencode(id):urlencode(secret))` (RFC 6749 section 2.3.1).
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, OAuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let bad = || {
        fail(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "the Authorization header is not valid Basic credentials",
        )
    };
    let text = value.to_str().map_err(|_| bad())?;
    let (scheme, encoded) = text.split_once(' ').ok_or_else(bad)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(bad());
    }
    use base64::Engine;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| bad())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
    let unescape = |s: &str| form_urlencoded_decode(s).ok_or_else(bad);
    Ok(Some((unescape(id)?, unescape(secret)?)))
}

fn form_urlencoded_decode(s: &str) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&format!("v={s}")).ok()?;
    pairs.into_iter().next().map(|(_, v)| v)
}
