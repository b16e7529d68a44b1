//! Carefront's HTTP server: the FHIR REST API under `/fhir` and the operator endpoints
//! (`/healthz`, `/readyz`, `/metrics`).
//!
//! The server keeps no state of its own beyond counters for `/metrics`: every request is
//! answered from the store, so several instances can serve one PostgreSQL database.

pub mod audit;
pub mod auth;
pub mod booking;
mod error;
pub(crate) mod fhir;
pub mod live;
pub mod mail;
pub mod messaging;
mod metrics;
pub mod oauth;
pub mod ondemand;
pub mod openapi;
mod ops;
pub mod staff;
mod telemetry;
pub mod triage;
pub mod visit_record;
pub mod visits;
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
    /// Show the mail outbox at `/mailbox` (demo mode, or no SMTP server configured), so the
    /// operator can follow confirmation and reset links. Turn off when mail is delivered.
    pub demo_mailbox: bool,
    /// Only administrators may read `/mailbox` (`serve` without SMTP); in `demo` it is open
    /// to anyone, so that a newcomer can confirm the demo sign-up.
    pub mailbox_admins_only: bool,
    /// STUN/TURN servers for video visits (see [`visits::IceConfig`]).
    pub ice: visits::IceConfig,
}

impl HttpConfig {
    /// Whether pages may point anyone at `/mailbox` (demo mode without SMTP).
    pub fn mailbox_open(&self) -> bool {
        self.demo_mailbox && !self.mailbox_admins_only
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            max_body_bytes: 16 * 1024 * 1024,
            request_timeout: Duration::from_secs(60),
            public_url: None,
            demo_mailbox: true,
            mailbox_admins_only: false,
            ice: visits::IceConfig::default(),
        }
    }
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub repo: Repository,
    /// Booking workflows over `repo` (whose writes run the booking hook).
    pub booking: carefront_booking::Booking,
    /// Triage interviews over `repo` (whose writes run the triage queue hook).
    pub triage: carefront_triage_service::Triage,
    pub config: Arc<HttpConfig>,
    pub metrics: Arc<Metrics>,
    /// Where `/fhir` interactions are audited (see [`audit`]).
    pub audit: audit::AuditSink,
    /// Notified when mail is enqueued, so that the [`mail::Sender`] sends it at once.
    pub mail_wake: Arc<tokio::sync::Notify>,
}

impl AppState {
    /// `repo` gets the booking hook here, so every server keeps one appointment per slot.
    pub fn new(repo: Repository, config: HttpConfig) -> Self {
        let repo = repo
            .with_hook(carefront_booking::Booking::hook())
            .with_hook(carefront_triage_service::Triage::hook())
            .with_hook(Arc::new(ondemand::QueueIndex))
            .with_hook(messaging::hook());
        let booking = carefront_booking::Booking::new(
            repo.clone(),
            carefront_booking::Settings {
                public_url: config
                    .public_url
                    .clone()
                    .unwrap_or_else(|| "http://127.0.0.1:8080".into()),
                ..Default::default()
            },
        );
        AppState {
            audit: audit::AuditSink::new(repo.store().clone()),
            booking,
            triage: carefront_triage_service::Triage::new(repo.clone()),
            repo,
            config: Arc::new(config),
            metrics: Arc::new(Metrics::default()),
            mail_wake: Arc::new(tokio::sync::Notify::new()),
        }
    }
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    let app = Router::new()
        .nest("/fhir", fhir::routes().merge(booking::fhir_routes()))
        .merge(booking::routes())
        .merge(triage::routes())
        .merge(openapi::routes())
        .merge(live::routes())
        .merge(messaging::routes())
        .merge(ondemand::routes())
        .merge(visits::routes())
        .merge(fhir::base_with_slash())
        .merge(ops::routes())
        .merge(oauth::routes())
        .merge(web::routes())
        .fallback(page_not_found)
        // Inside the body limit, which it honours when it reads a posted Bundle's type.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            audit::layer,
        ))
        // Outside the audit layer, so that it records who called.
        .layer(axum::middleware::from_fn_with_state(
            auth::AuthState::new(state.clone()),
            auth::layer,
        ))
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
    let audit = state.audit.clone();
    // The peer address is the audit entries' source.
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    // No Nagle delay: small writes (signalling, live events, short answers) go out at once
    // instead of waiting up to 40 ms for the peer's delayed ACK.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    // Write what the audit sink still holds; a store that stays down must not hang the exit.
    if tokio::time::timeout(Duration::from_secs(10), audit.flush())
        .await
        .is_err()
    {
        tracing::error!("audit entries could not be written before shutdown");
    }
    served
}
