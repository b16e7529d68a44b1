//! The middleware that audits every `/fhir` interaction once its response is ready.

use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use carefront_fhir::IssueCode;
use carefront_store::tables::audit::AuditEntry;

use super::{classify, outcome, AuditSink};
use crate::{ApiError, AppState};

/// Use with `axum::middleware::from_fn_with_state(state.clone(), audit::layer)`; requests
/// outside `/fhir` and the booking, triage, messaging and on-demand APIs pass straight through.
pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    // The JSON APIs over clinical resources are audited like /fhir.
    type Classifier = fn(&Method, &str) -> super::classify::Interaction;
    let apis: [(&str, Classifier); 4] = [
        ("/api/booking/", super::classify::booking),
        ("/api/triage/", super::classify::triage),
        ("/api/messages/", super::classify::messaging),
        ("/api/ondemand/", super::classify::ondemand),
    ];
    let api = apis.iter().find_map(|(prefix, classifier)| {
        path.strip_prefix(prefix)
            .map(|rest| (*classifier, rest.to_owned()))
    });
    let booking = api.as_ref().map(|(_, rest)| rest.clone());
    let Some(rest) = fhir_path(req.uri().path()).or(booking.as_deref()) else {
        return next.run(req).await;
    };
    let rest = rest.to_owned();
    let method = req.method().clone();
    let (actor, actor_role) = caller(&req);
    let source = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".to_owned());
    // A Bundle posted to the base: its `type` tells a transaction from a batch.
    let (req, bundle_type) = if method == Method::POST && rest.trim_matches('/').is_empty() {
        match sniff_bundle_type(req, state.config.max_body_bytes).await {
            Ok((req, kind)) => (Ok(req), kind),
            Err(refused) => (Err(refused), None),
        }
    } else {
        (Ok(req), None)
    };
    let interaction = match &api {
        Some((classifier, path)) => classifier(&method, path),
        None => classify(&method, &rest, bundle_type.as_deref()),
    };
    let mut pending = Pending {
        sink: state.audit.clone(),
        entry: Some(AuditEntry {
            at: 0,
            actor,
            actor_role,
            action: interaction.action.to_owned(),
            resource_type: interaction.resource_type,
            resource_id: interaction.resource_id,
            // Replaced below; kept if the request is abandoned (timeout, disconnect).
            outcome: "error".to_owned(),
            source,
            detail: "aborted".to_owned(),
        }),
    };
    let response = match req {
        Ok(req) => next.run(req).await,
        Err(refused) => refused,
    };
    let status = response.status().as_u16();
    if let Some(mut entry) = pending.entry.take() {
        entry.at = now_micros();
        entry.outcome = outcome(status).to_owned();
        entry.detail = status.to_string();
        if entry.resource_id.is_none() && entry.action != "search" {
            // A create (or conditional write) learns its id from the answer.
            entry.resource_id = location_id(&response);
        }
        pending.sink.record(entry).await;
    }
    response
}

/// The part of `path` after the FHIR base, if it is under `/fhir`.
fn fhir_path(path: &str) -> Option<&str> {
    if path == "/fhir" {
        Some("")
    } else {
        path.strip_prefix("/fhir/")
    }
}

/// Who is calling, as the authentication layer (outside this one) found out; without it,
/// an anonymous caller with no role.
fn caller(req: &Request) -> (String, String) {
    match req.extensions().get::<crate::auth::Caller>() {
        Some(c) => (c.actor.clone(), c.role.clone()),
        None => ("anonymous".to_owned(), "none".to_owned()),
    }
}

/// Read the body (within the size limit) to find the Bundle's `type`, and hand the same
/// bytes on. A body that cannot be read is answered here, as the handler would.
async fn sniff_bundle_type(
    req: Request,
    limit: usize,
) -> Result<(Request, Option<String>), Response> {
    #[derive(serde::Deserialize)]
    struct Kind {
        #[serde(rename = "type")]
        kind: Option<String>,
    }
    let (parts, body) = req.into_parts();
    let bytes: Bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|e| unreadable(&e, limit))?;
    let kind = serde_json::from_slice::<Kind>(&bytes)
        .ok()
        .and_then(|k| k.kind);
    Ok((Request::from_parts(parts, Body::from(bytes)), kind))
}

fn unreadable(e: &axum::Error, limit: usize) -> Response {
    // axum reports a body over the limit as "length limit exceeded" somewhere in the chain.
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    let mut too_large = false;
    while let Some(s) = source {
        too_large |= s.to_string().contains("length limit");
        source = s.source();
    }
    if too_large {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            IssueCode::TooCostly,
            format!("the request body is larger than the limit of {limit} bytes"),
        )
    } else {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            IssueCode::Structure,
            "the request body could not be read",
        )
    }
    .into_response()
}

/// The id in a `Location: [base]/Type/id/_history/n` header.
fn location_id(response: &Response) -> Option<String> {
    let location = response.headers().get(header::LOCATION)?.to_str().ok()?;
    let path = location.split("/_history/").next()?;
    let id = path.rsplit('/').next()?;
    (!id.is_empty() && id.len() <= 64).then(|| id.to_owned())
}

fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

/// The entry of an interaction in progress: if the request future is dropped before the
/// response (timeout, client gone), it is still recorded, as `error`/`aborted`.
struct Pending {
    sink: AuditSink,
    entry: Option<AuditEntry>,
}

impl Drop for Pending {
    fn drop(&mut self) {
        if let Some(mut entry) = self.entry.take() {
            entry.at = now_micros();
            let sink = self.sink.clone();
            // Drop cannot wait for room in the queue; a task can.
            tokio::spawn(async move { sink.record(entry).await });
        }
    }
}
