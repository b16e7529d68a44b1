//! Live updates for open pages and apps: `GET /api/live` is a server-sent event stream of
//! what concerns the caller (a new message, a change in a queue, an admission), whichever
//! instance it happened on (the store's event bus: in-process on SQLite, `NOTIFY` on
//! PostgreSQL). Events say *that* something changed, with ids; the page fetches what it
//! may see through the usual, access-checked routes. `assets/live.js` (on pages whose body has
//! `data-live="on"`) turns each event into a DOM event `live:<kind>` on `document.body` (for htmx: `hx-trigger="live:message from:body"`).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use carefront_auth::{Principal, Role};
use serde_json::{json, Value};
use tokio::sync::{broadcast, mpsc};

use crate::auth::Caller;
use crate::AppState;

/// Who an event is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Topic {
    /// One account (every device it is signed in on).
    Account(String),
    /// The account(s) of one patient.
    Patient(String),
    /// The staff of one organisation (a care team).
    Team(String),
    /// Anything else with a name of its own (`room:<appointment>`, `ondemand`).
    Named(String),
}

impl Topic {
    pub fn key(&self) -> String {
        match self {
            Topic::Account(id) => format!("account:{id}"),
            Topic::Patient(id) => format!("patient:{id}"),
            Topic::Team(id) => format!("team:{id}"),
            Topic::Named(name) => name.clone(),
        }
    }
}

/// Tells subscribers of `topic` that `kind` happened (`{"kind": ..., ...data}`). Failing to
/// publish never fails the request that caused it: the change is in the store already, and
/// pages also reload on their own.
pub async fn publish(state: &AppState, topic: &Topic, kind: &str, data: Value) {
    let mut payload = data;
    if let Value::Object(map) = &mut payload {
        map.insert("kind".into(), Value::String(kind.to_owned()));
    } else {
        payload = json!({ "kind": kind, "data": payload });
    }
    let bus = state.repo.store().events();
    if let Err(e) = bus.publish(&topic.key(), &payload.to_string()).await {
        tracing::warn!(kind, error = %e, "live event not published");
    }
}

/// The topics a caller hears.
pub fn topics_of(caller: &Caller) -> Vec<Topic> {
    match &caller.principal {
        Principal::Account(a) => {
            let mut topics = vec![Topic::Account(a.id.clone())];
            if let Some(p) = &a.patient_id {
                topics.push(Topic::Patient(p.id().to_owned()));
            }
            if a.role != Role::Patient {
                topics.extend(
                    a.organizations
                        .iter()
                        .map(|o| Topic::Team(o.id().to_owned())),
                );
            }
            // Practitioners are the on-demand pool (see `crate::ondemand`): they hear its queue.
            if a.role == Role::Practitioner {
                topics.push(Topic::Named("ondemand".into()));
            }
            topics
        }
        _ => Vec::new(),
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/live", get(stream))
        .route_layer(axum::middleware::from_fn(crate::auth::require))
}

/// `GET /api/live`: events for the caller, as `text/event-stream`; a comment every 15 s
/// keeps proxies from closing it. A stream that fell behind gets `reload`.
#[utoipa::path(get, path = "/api/live", tag = "live",
    responses((status = 200, content_type = "text/event-stream", body = String,
                description = "Server-sent events, each a `message` whose data is JSON naming its `kind` (`message`, `queue`, `ondemand-ready`, `reload`...) with ids; fetch what changed through the other paths"),
              (status = 403, content_type = "text/plain", body = String, description = "Live updates are for signed-in people")))]
async fn stream(State(state): State<AppState>, caller: Caller) -> Response {
    let topics = topics_of(&caller);
    if topics.is_empty() {
        return (
            axum::http::StatusCode::FORBIDDEN,
            "live updates are for signed-in people",
        )
            .into_response();
    }
    let bus = state.repo.store().events();
    let (tx, rx) = mpsc::channel::<String>(64);
    for topic in topics {
        let mut events = bus.subscribe(&topic.key());
        let tx = tx.clone();
        tokio::spawn(async move {
            loop {
                let received = tokio::select! {
                    // The page went away: stop listening now, not at the topic's next event
                    // (a quiet topic would keep the task and its subscription forever).
                    _ = tx.closed() => break,
                    received = events.recv() => received,
                };
                let text = match received {
                    Ok(event) => event.payload.clone(),
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        json!({"kind": "reload"}).to_string()
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                };
                if tx.send(text).await.is_err() {
                    break;
                }
            }
        });
    }
    drop(tx);
    // Every event is a plain `message` whose data names its kind (one listener in the page).
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        let text = rx.recv().await?;
        Some((Ok::<_, Infallible>(SseEvent::default().data(text)), rx))
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

/// The live-updates part of `/api/openapi.json` (see [`crate::openapi`]).
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(stream),
    tags((name = "live", description = "Live updates: a server-sent event stream of what concerns the caller"))
)]
pub struct LiveApi;
