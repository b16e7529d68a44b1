//! `/api/ondemand`: the on-demand queue as JSON, for front ends such as a phone app. The
//! pages call the same [`super::service`].

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::service::{self, OnDemandError};
use crate::auth::Caller;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/ondemand/join", post(join))
        .route("/api/ondemand/me", get(me))
        .route("/api/ondemand/entries/{id}", get(status))
        .route("/api/ondemand/entries/{id}/leave", post(leave))
        .route("/api/ondemand/queue", get(queue))
        .route("/api/ondemand/take", post(take))
        .route_layer(axum::middleware::from_fn(crate::auth::require))
}

impl IntoResponse for OnDemandError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let message = if status.is_server_error() {
            // Store errors may quote values: log the kind only.
            tracing::error!(status = status.as_u16(), "on-demand request failed");
            "the server could not complete the request; try again".to_owned()
        } else {
            self.to_string()
        };
        (status, Json(json!({ "error": message }))).into_response()
    }
}

type Answer = Result<Response, OnDemandError>;

#[derive(Debug, Deserialize)]
struct JoinBody {
    assessment_id: String,
}

async fn join(State(state): State<AppState>, caller: Caller, Json(body): Json<JoinBody>) -> Answer {
    let status = service::join(&state, &caller, body.assessment_id.trim()).await?;
    Ok((StatusCode::CREATED, Json(status)).into_response())
}

async fn me(State(state): State<AppState>, caller: Caller) -> Answer {
    Ok(Json(json!({ "entry": service::current(&state, &caller).await? })).into_response())
}

async fn status(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Answer {
    Ok(Json(service::status(&state, &caller, &id).await?).into_response())
}

async fn leave(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Answer {
    Ok(Json(service::leave(&state, &caller, &id).await?).into_response())
}

async fn queue(State(state): State<AppState>, caller: Caller) -> Answer {
    Ok(Json(json!({ "waiting": service::queue(&state, &caller).await? })).into_response())
}

async fn take(State(state): State<AppState>, caller: Caller) -> Answer {
    let taken = service::take(&state, &caller).await?;
    Ok((StatusCode::CREATED, Json(taken)).into_response())
}
