//! `/api/messages`: secure messaging as JSON for apps. Attachments travel as base64 in the
//! JSON body (`{"filename": "rash.jpg", "data": "..."}`) and come back as their bytes.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine as _;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::attachment::{self, Upload};
use super::service::{
    self, Compose, Invalid, MsgError, Party, TeamTimes, ThreadSummary, ThreadView,
};
use crate::auth::Caller;
use crate::openapi::ErrorBody;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/messages/threads", get(list).post(start))
        .route("/api/messages/threads/{id}", get(open))
        .route(
            "/api/messages/threads/{id}/messages",
            axum::routing::post(reply),
        )
        .route("/api/messages/threads/{id}/files/{file}", get(file))
        .route("/api/messages/unread", get(unread))
        .route("/api/messages/response-times", get(response_times))
        .route_layer(axum::middleware::from_fn(crate::auth::require))
}

impl IntoResponse for MsgError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = if status.is_server_error() {
            // Store errors may quote values: log the kind only.
            tracing::error!(status = status.as_u16(), "messaging request failed");
            "the server could not complete the request; try again".to_owned()
        } else {
            self.to_string()
        };
        (status, Json(json!({ "error": message }))).into_response()
    }
}

type Answer = Result<Response, MsgError>;

/// One attachment in a JSON body.
#[derive(Debug, Deserialize, ToSchema)]
struct FileBody {
    #[serde(default)]
    filename: String,
    /// The file, base64-encoded.
    data: String,
}

/// A new thread's first message, or a reply: text, attachments or both.
#[derive(Debug, Deserialize, ToSchema)]
struct MessageBody {
    /// A new thread's subject.
    topic: Option<String>,
    text: Option<String>,
    #[serde(default)]
    attachments: Vec<FileBody>,
}

impl MessageBody {
    fn compose(self) -> Result<Compose, MsgError> {
        let uploads = self
            .attachments
            .into_iter()
            .map(|f| {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(f.data.trim())
                    .map_err(|_| {
                        MsgError::Invalid(Invalid::NotBase64(attachment::clean_name(&f.filename)))
                    })?;
                Ok(Upload {
                    filename: f.filename,
                    bytes,
                })
            })
            .collect::<Result<_, MsgError>>()?;
        Ok(Compose {
            topic: self.topic,
            text: self.text,
            uploads,
        })
    }
}

/// The caller's threads (a patient's own; staff: their teams'), newest first.
#[utoipa::path(get, path = "/api/messages/threads", tag = "messaging",
    responses((status = 200, body = ThreadList), (status = 403, body = ErrorBody)))]
async fn list(State(state): State<AppState>, caller: Caller) -> Answer {
    let party = Party::of_caller(&state, &caller).await?;
    let threads = service::list(&state, &party).await?;
    let unread: i64 = threads.iter().map(|t| t.unread).sum();
    Ok(Json(json!({ "threads": threads, "unread": unread })).into_response())
}

/// Start a thread with the patient's care team.
#[utoipa::path(post, path = "/api/messages/threads", tag = "messaging", request_body = MessageBody,
    responses((status = 201, description = "Started", body = ThreadView),
              (status = 403, body = ErrorBody),
              (status = 422, description = "Empty, too large or a file type that is not accepted", body = ErrorBody)))]
async fn start(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Json(body): Json<MessageBody>,
) -> Answer {
    let party = Party::of_caller(&state, &caller).await?;
    let base = crate::web::mailbox::base_url(&state, &headers);
    let id = service::start(&state, &party, body.compose()?, &base).await?;
    let view = service::open(&state, &party, &id).await?;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

/// A thread with its messages, oldest first.
#[utoipa::path(get, path = "/api/messages/threads/{id}", tag = "messaging",
    params(("id" = String, Path, description = "The thread id")),
    responses((status = 200, body = ThreadView), (status = 404, body = ErrorBody)))]
async fn open(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Answer {
    let party = Party::of_caller(&state, &caller).await?;
    Ok(Json(service::open(&state, &party, &id).await?).into_response())
}

/// Reply in a thread.
#[utoipa::path(post, path = "/api/messages/threads/{id}/messages", tag = "messaging",
    request_body = MessageBody,
    params(("id" = String, Path, description = "The thread id")),
    responses((status = 201, description = "Sent", body = Sent),
              (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
async fn reply(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<MessageBody>,
) -> Answer {
    let party = Party::of_caller(&state, &caller).await?;
    let base = crate::web::mailbox::base_url(&state, &headers);
    let message = service::reply(&state, &party, &id, body.compose()?, &base).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "thread": id, "message": message })),
    )
        .into_response())
}

/// An attachment's bytes.
#[utoipa::path(get, path = "/api/messages/threads/{id}/files/{file}", tag = "messaging",
    params(("id" = String, Path, description = "The thread id"),
           ("file" = String, Path, description = "The attachment id (`AttachmentRef.id`)")),
    responses((status = 200, description = "The file's bytes, with its own `Content-Type`"),
              (status = 404, body = ErrorBody)))]
async fn file(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, file)): Path<(String, String)>,
) -> Answer {
    let party = Party::of_caller(&state, &caller).await?;
    let (found, bytes) = service::file(&state, &party, &id, &file).await?;
    Ok(attachment::serve(&found.content_type, &found.title, bytes))
}

/// How many messages the caller has not read.
#[utoipa::path(get, path = "/api/messages/unread", tag = "messaging",
    responses((status = 200, body = Unread)))]
async fn unread(State(state): State<AppState>, caller: Caller) -> Answer {
    let party = Party::of_caller(&state, &caller).await?;
    let unread = service::unread_total(&state, &party).await?;
    Ok(Json(json!({ "unread": unread })).into_response())
}

/// Staff: their teams' response times over the last 30 days, and what waits now.
#[utoipa::path(get, path = "/api/messages/response-times", tag = "messaging",
    responses((status = 200, body = ResponseTimes), (status = 403, body = ErrorBody)))]
async fn response_times(State(state): State<AppState>, caller: Caller) -> Answer {
    let account = service::account_of(&state, &caller).await?;
    let teams = service::report_teams(&state, &account).await?;
    let report = service::response_times(&state, &teams).await?;
    Ok(Json(json!({ "window_days": 30, "teams": report })).into_response())
}

/// `GET /api/messages/threads`.
#[derive(ToSchema)]
#[allow(dead_code)]
struct ThreadList {
    threads: Vec<ThreadSummary>,
    /// Unread messages in all of them.
    unread: i64,
}

/// `POST /api/messages/threads/{id}/messages`.
#[derive(ToSchema)]
#[allow(dead_code)]
struct Sent {
    /// The thread id.
    thread: String,
    /// The new message's id.
    message: String,
}

/// `GET /api/messages/unread`.
#[derive(ToSchema)]
#[allow(dead_code)]
struct Unread {
    unread: i64,
}

/// `GET /api/messages/response-times`.
#[derive(ToSchema)]
#[allow(dead_code)]
struct ResponseTimes {
    window_days: u32,
    teams: Vec<TeamTimes>,
}

/// The messaging part of `/api/openapi.json` (see [`crate::openapi`]).
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(list, start, open, reply, file, unread, response_times),
    tags((name = "messaging", description = "Secure messaging between a patient and their care team; attachments travel as base64 in JSON and come back as their bytes"))
)]
pub struct MessagingApi;
