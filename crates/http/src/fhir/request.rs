//! Reading FHIR requests: JSON bodies, Prefer, If-Match and the base URL for links.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use carefront_fhir::IssueCode;
use serde_json::Value;

use crate::{ApiError, AppState};

/// A request body parsed as JSON. Too large: 413; not JSON: 400; both as OperationOutcome.
pub struct JsonBody(pub Value);

impl FromRequest<AppState> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(ct) = req.headers().get(header::CONTENT_TYPE) {
            let ct = ct.to_str().unwrap_or("");
            if ct.contains("xml") {
                return Err(ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    IssueCode::NotSupported,
                    "this server accepts FHIR JSON (application/fhir+json), not XML",
                ));
            }
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            let status = rejection.status();
            let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
                format!(
                    "the request body is larger than the limit of {} bytes",
                    state.config.max_body_bytes
                )
            } else {
                format!("the request body could not be read: {rejection}")
            };
            let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
                IssueCode::TooCostly
            } else {
                IssueCode::Structure
            };
            ApiError::new(status, code, message)
        })?;
        if bytes.is_empty() {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                IssueCode::Structure,
                "the request has no body; send a FHIR resource as JSON",
            ));
        }
        serde_json::from_slice(&bytes).map(JsonBody).map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                IssueCode::Structure,
                format!("the body is not valid JSON: {e}"),
            )
        })
    }
}

/// What the client prefers to get back after a write (`Prefer: return=...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Return {
    Minimal,
    Representation,
    OperationOutcome,
}

/// The FHIR request headers every interaction may use.
pub struct FhirHeaders {
    pub ret: Return,
    /// `Prefer: handling=lenient`: ignore unknown search parameters instead of failing.
    pub lenient: bool,
    pub if_match: Option<i64>,
    pub if_none_exist: Option<String>,
    /// `http://host/fhir`, for Location headers and links.
    pub base: String,
}

impl FromRequestParts<AppState> for FhirHeaders {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let headers = &parts.headers;
        let prefer = header_str(headers, "prefer").unwrap_or("");
        let ret = if prefer.contains("return=minimal") {
            Return::Minimal
        } else if prefer.contains("return=OperationOutcome") {
            Return::OperationOutcome
        } else {
            Return::Representation
        };
        let if_match = match header_str(headers, "if-match") {
            Some(tag) => Some(carefront_store::repository::parse_etag(tag).ok_or_else(|| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    IssueCode::Invalid,
                    format!("If-Match '{tag}' is not a version tag like W/\"3\""),
                )
            })?),
            None => None,
        };
        Ok(FhirHeaders {
            ret,
            lenient: prefer.contains("handling=lenient"),
            if_match,
            if_none_exist: header_str(headers, "if-none-exist").map(str::to_owned),
            base: base_url(headers, state),
        })
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn base_url(headers: &HeaderMap, state: &AppState) -> String {
    if let Some(url) = &state.config.public_url {
        return format!("{}/fhir", url.trim_end_matches('/'));
    }
    let host = header_str(headers, "host").unwrap_or("localhost");
    let scheme = header_str(headers, "x-forwarded-proto").unwrap_or("http");
    format!("{scheme}://{host}/fhir")
}

/// Decoded query parameters, repeated keys kept in order.
pub fn query_pairs(query: Option<&str>) -> Result<Vec<(String, String)>, ApiError> {
    serde_urlencoded::from_str(query.unwrap_or(""))
        .map_err(|e| ApiError::bad_request(format!("the query string cannot be decoded: {e}")))
}
