//! `/api/ondemand`: the on-demand queue as JSON, for front ends such as a phone app. The
//! pages call the same [`super::service`].

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::service::{self, OnDemandError, Queued, Status, Taken};
use crate::auth::Caller;
use crate::openapi::ErrorBody;
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

#[derive(Debug, Deserialize, ToSchema)]
struct JoinBody {
    /// The patient's triage outcome (RiskAssessment id): urgent, by video.
    assessment_id: String,
}

/// Join the queue from a triage outcome.
#[utoipa::path(post, path = "/api/ondemand/join", tag = "ondemand", request_body = JoinBody,
    responses((status = 201, description = "Waiting: the place and estimated wait", body = Status),
              (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 409, description = "The outcome is not for on-demand care, or already queued", body = ErrorBody)))]
async fn join(State(state): State<AppState>, caller: Caller, Json(body): Json<JoinBody>) -> Answer {
    let status = service::join(&state, &caller, body.assessment_id.trim()).await?;
    Ok((StatusCode::CREATED, Json(status)).into_response())
}

/// The patient's current place in the queue, if any.
#[utoipa::path(get, path = "/api/ondemand/me", tag = "ondemand",
    responses((status = 200, body = CurrentEntry)))]
async fn me(State(state): State<AppState>, caller: Caller) -> Answer {
    Ok(Json(json!({ "entry": service::current(&state, &caller).await? })).into_response())
}

/// Where a patient stands: waiting (place, estimated wait), taken (the visit) or left.
#[utoipa::path(get, path = "/api/ondemand/entries/{id}", tag = "ondemand",
    params(("id" = String, Path, description = "The queue entry (Encounter) id")),
    responses((status = 200, body = Status), (status = 404, body = ErrorBody)))]
async fn status(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Answer {
    Ok(Json(service::status(&state, &caller, &id).await?).into_response())
}

/// Leave the queue.
#[utoipa::path(post, path = "/api/ondemand/entries/{id}/leave", tag = "ondemand",
    params(("id" = String, Path, description = "The queue entry (Encounter) id")),
    responses((status = 200, body = Status), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn leave(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Answer {
    Ok(Json(service::leave(&state, &caller, &id).await?).into_response())
}

/// Clinicians of the on-demand pool: who waits, most urgent first, then longest waiting.
#[utoipa::path(get, path = "/api/ondemand/queue", tag = "ondemand",
    responses((status = 200, body = Waiting), (status = 403, body = ErrorBody)))]
async fn queue(State(state): State<AppState>, caller: Caller) -> Answer {
    Ok(Json(json!({ "waiting": service::queue(&state, &caller).await? })).into_response())
}

/// Clinicians of the pool: take the next patient, which creates a video appointment.
#[utoipa::path(post, path = "/api/ondemand/take", tag = "ondemand",
    responses((status = 201, description = "Taken: both go to `visit`", body = Taken),
              (status = 403, body = ErrorBody),
              (status = 409, description = "Nobody waits", body = ErrorBody)))]
async fn take(State(state): State<AppState>, caller: Caller) -> Answer {
    let taken = service::take(&state, &caller).await?;
    Ok((StatusCode::CREATED, Json(taken)).into_response())
}

/// `GET /api/ondemand/me`.
#[derive(ToSchema)]
#[allow(dead_code)]
struct CurrentEntry {
    /// None when the patient is not queued.
    entry: Option<Status>,
}

/// `GET /api/ondemand/queue`.
#[derive(ToSchema)]
#[allow(dead_code)]
struct Waiting {
    waiting: Vec<Queued>,
}

/// The on-demand part of `/api/openapi.json` (see [`crate::openapi`]).
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(join, me, status, leave, queue, take),
    tags((name = "ondemand", description = "On-demand care: patients whose triage says urgent by video queue for the next free clinician; clinicians take the next patient"))
)]
pub struct OnDemandApi;
