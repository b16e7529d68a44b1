//! Carefront's HTTP server: the FHIR REST API under `/fhir` and the operator endpoints
//! (`/healthz`, `/readyz`, `/metrics`).
//!
//! The server keeps no state of its own beyond counters for `/metrics`: every request is
//! answered from the store, so several instances can serve one PostgreSQL database.

mod error;
mod fhir;
mod metrics;
mod ops;
mod telemetry;
pub mod web;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::Router;
use carefront_store::repository::Repository;
use tokio::net::TcpListener;

pub use error::ApiError;
pub use metrics::Metrics;

/// Settings of the HTTP layer.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Largest request body accepted, in bytes (larger: 413).
    pub max_body_bytes: usize,
    /// How long a request may take before it is answered 503.
    pub request_timeout: Duration,
    /// The public base URL (`https://care.example.org`), used in links; when unset, links
    /// are built from the request's Host header.
    pub public_url: Option<String>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            max_body_bytes: 16 * 1024 * 1024,
            request_timeout: Duration::from_secs(60),
            public_url: None,
        }
    }
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub repo: Repository,
    pub config: Arc<HttpConfig>,
    pub metrics: Arc<Metrics>,
}

impl AppState {
    pub fn new(repo: Repository, config: HttpConfig) -> Self {
        AppState {
            repo,
            config: Arc::new(config),
            metrics: Arc::new(Metrics::default()),
        }
    }
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    let app = Router::new()
        .nest("/fhir", fhir::routes())
        .merge(fhir::base_with_slash())
        .merge(ops::routes())
        .merge(web::routes())
        .fallback(page_not_found)
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes));
    telemetry::wrap(app, &state).with_state(state)
}

/// Anything outside `/fhir` that matches no route: the web's 404 page.
async fn page_not_found(headers: axum::http::HeaderMap) -> axum::response::Response {
    web::not_found_page(web::i18n::choose(None, &headers))
}

/// Serve `router` on `listener` until `shutdown` resolves, then finish in-flight requests.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}
