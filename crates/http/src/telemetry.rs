//! Request ids, structured request logs without PHI, metrics, timeouts and security headers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::{AppState, Metrics};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Wrap `router` in the layers every request goes through.
pub fn wrap(router: Router<AppState>, state: &AppState) -> Router<AppState> {
    let metrics = state.metrics.clone();
    let timeout = state.config.request_timeout;
    router
        .layer(axum::middleware::from_fn(
            move |req: Request, next: Next| {
                let metrics = metrics.clone();
                async move { observe(metrics, timeout, req, next).await }
            },
        ))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("x-content-type-options"),
            HeaderValue::from_static("nosniff"),
        ))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

/// Log and count one request by its route template; answer 503 if it runs past `timeout`.
async fn observe(metrics: Arc<Metrics>, timeout: Duration, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(req.method());
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let request_id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let response = match tokio::time::timeout(timeout, next.run(req)).await {
        Ok(response) => response,
        Err(_) => crate::ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            carefront_fhir::IssueCode::TooCostly,
            "the request took too long and was stopped",
        )
        .into_response(),
    };
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    metrics.observe(&route, method, status, elapsed);
    // The route template, never the URL: paths and queries can carry identifiers and names.
    let micros = elapsed.as_micros() as u64;
    if status >= 500 {
        tracing::error!(request_id, method, route, status, micros, "request failed");
    } else {
        tracing::debug!(request_id, method, route, status, micros, "request");
    }
    response
}

fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        _ => "OTHER",
    }
}

/// A bug must not drop the connection: answer 500 with an OperationOutcome.
fn panic_response(_panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    crate::ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        carefront_fhir::IssueCode::Exception,
        "the server met an unexpected error",
    )
    .into_response()
}
