//! FHIR responses: a resource with its version headers, and Bundles written straight from
//! the stored JSON bytes (no parse and re-serialise of every resource on the hot path).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use carefront_fhir::outcome::operation_outcome;
use carefront_fhir::{Issue, IssueCode, Severity};
use carefront_store::StoredResource;
use serde_json::Value;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::OffsetDateTime;

use super::request::{FhirHeaders, Return};
use super::FHIR_JSON;

const HTTP_DATE: &[BorrowedFormatItem<'static>] = format_description!(
    "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
);

/// An HTTP date (`Mon, 23 Nov 2026 19:42:42 GMT`) for microseconds since the epoch.
pub fn http_date(micros: i64) -> String {
    OffsetDateTime::from_unix_timestamp(micros.div_euclid(1_000_000))
        .ok()
        .and_then(|t| t.format(HTTP_DATE).ok())
        .unwrap_or_default()
}

pub fn etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

/// A read's answer: the stored bytes as they are.
pub fn resource(mut r: StoredResource) -> Response {
    let body = std::mem::take(&mut r.content);
    with_version_headers(StatusCode::OK, &r, true, body.into_response())
}

/// A write's answer, shaped by `Prefer: return=...`.
pub fn written(status: StatusCode, mut r: StoredResource, h: &FhirHeaders) -> Response {
    let has_body = h.ret != Return::Minimal;
    let body = match h.ret {
        Return::Representation => std::mem::take(&mut r.content).into_response(),
        Return::Minimal => ().into_response(),
        Return::OperationOutcome => {
            let verb = if status == StatusCode::CREATED {
                "created"
            } else {
                "updated"
            };
            let outcome = operation_outcome(&[Issue {
                severity: Severity::Information,
                code: IssueCode::Informational,
                diagnostics: format!(
                    "{}/{} {verb} as version {}",
                    r.resource_type, r.id, r.version
                ),
                expression: vec![],
            }]);
            serde_json::to_vec(&outcome)
                .unwrap_or_default()
                .into_response()
        }
    };
    let mut response = with_version_headers(status, &r, has_body, body);
    let location = format!(
        "{}/{}/{}/_history/{}",
        h.base, r.resource_type, r.id, r.version
    );
    if let Ok(v) = HeaderValue::from_str(&location) {
        let name = if status == StatusCode::CREATED {
            header::LOCATION
        } else {
            header::CONTENT_LOCATION
        };
        response.headers_mut().insert(name, v);
    }
    response
}

fn with_version_headers(
    status: StatusCode,
    r: &StoredResource,
    has_body: bool,
    body: Response,
) -> Response {
    let mut response = body;
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if has_body {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON));
    }
    if let Ok(v) = HeaderValue::from_str(&etag(r.version)) {
        headers.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&http_date(r.last_updated)) {
        headers.insert(header::LAST_MODIFIED, v);
    }
    response
}

/// A JSON value as a FHIR response.
pub fn json(status: StatusCode, value: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, FHIR_JSON)],
        serde_json::to_vec(value).unwrap_or_default(),
    )
        .into_response()
}

/// Where a page sits in a paged result, for its self/next/previous links.
pub struct Paging<'a> {
    /// The URL without query: `http://host/fhir/Patient`.
    pub path: &'a str,
    /// The request's parameters; `_offset` and any in `dropped` are left out of links.
    pub pairs: &'a [(String, String)],
    pub dropped: &'a [String],
    pub offset: usize,
    pub count: usize,
    pub has_more: bool,
}

impl Paging<'_> {
    pub fn links(&self) -> Vec<(&'static str, String)> {
        let mut links = vec![("self", self.link(self.offset))];
        if self.has_more {
            links.push(("next", self.link(self.offset + self.count)));
        }
        if self.offset > 0 && self.count > 0 {
            links.push((
                "previous",
                self.link(self.offset.saturating_sub(self.count)),
            ));
        }
        links
    }

    fn link(&self, offset: usize) -> String {
        let mut kept: Vec<(&str, &str)> = self
            .pairs
            .iter()
            .filter(|(k, _)| k != "_offset" && !self.dropped.contains(k))
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let offset = offset.to_string();
        if offset != "0" {
            kept.push(("_offset", &offset));
        }
        match serde_urlencoded::to_string(&kept).unwrap_or_default() {
            qs if qs.is_empty() => self.path.to_owned(),
            qs => format!("{}?{qs}", self.path),
        }
    }
}

/// Writes a Bundle as JSON text, splicing in stored resources as they are.
pub struct BundleWriter {
    buf: Vec<u8>,
    entries: usize,
}

impl BundleWriter {
    pub fn new(bundle_type: &str, total: Option<u64>, links: &[(&str, String)]) -> Self {
        let mut buf = Vec::with_capacity(4096);
        buf.extend_from_slice(b"{\"resourceType\":\"Bundle\",\"id\":\"");
        buf.extend_from_slice(uuid::Uuid::new_v4().to_string().as_bytes());
        buf.extend_from_slice(b"\",\"meta\":{\"lastUpdated\":");
        push_json(
            &mut buf,
            &Value::String(carefront_store::repository::format_instant(
                carefront_store::repository::now_micros(),
            )),
        );
        buf.extend_from_slice(b"},\"type\":");
        push_json(&mut buf, &Value::String(bundle_type.to_owned()));
        if let Some(total) = total {
            buf.extend_from_slice(format!(",\"total\":{total}").as_bytes());
        }
        if !links.is_empty() {
            buf.extend_from_slice(b",\"link\":[");
            for (i, (relation, url)) in links.iter().enumerate() {
                if i > 0 {
                    buf.push(b',');
                }
                push_json(
                    &mut buf,
                    &serde_json::json!({ "relation": relation, "url": url }),
                );
            }
            buf.push(b']');
        }
        buf.extend_from_slice(b",\"entry\":[");
        BundleWriter { buf, entries: 0 }
    }

    /// Add an entry: `fullUrl`, the resource (raw JSON bytes, or none), then the other
    /// entry elements (`search`, `request`, `response`) as a JSON object's members.
    pub fn entry(&mut self, full_url: &str, resource: Option<&[u8]>, rest: &Value) {
        if self.entries > 0 {
            self.buf.push(b',');
        }
        self.entries += 1;
        self.buf.extend_from_slice(b"{\"fullUrl\":");
        push_json(&mut self.buf, &Value::String(full_url.to_owned()));
        if let Some(bytes) = resource {
            self.buf.extend_from_slice(b",\"resource\":");
            self.buf.extend_from_slice(bytes);
        }
        if let Value::Object(map) = rest {
            for (k, v) in map {
                self.buf.push(b',');
                push_json(&mut self.buf, &Value::String(k.clone()));
                self.buf.push(b':');
                push_json(&mut self.buf, v);
            }
        }
        self.buf.push(b'}');
    }

    pub fn finish(mut self) -> Response {
        if self.entries == 0 {
            // FHIR JSON has no empty arrays: drop `,"entry":[`.
            let cut = self.buf.len() - b",\"entry\":[".len();
            self.buf.truncate(cut);
            self.buf.push(b'}');
        } else {
            self.buf.extend_from_slice(b"]}");
        }
        (
            StatusCode::OK,
            [(header::CONTENT_TYPE, FHIR_JSON)],
            self.buf,
        )
            .into_response()
    }
}

fn push_json(buf: &mut Vec<u8>, v: &Value) {
    // Writing a Value into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *buf, v);
}
