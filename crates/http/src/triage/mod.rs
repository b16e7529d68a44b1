//! Triage over HTTP for programs: the interview loop as JSON under `/api/triage` (see
//! [`api`]), described with the other JSON APIs in `/api/openapi.json`. The web pages call
//! the same service.

pub mod access;
pub mod api;
pub mod view;

use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;

use crate::AppState;

pub use api::routes;

/// `GET /api/openapi.json`: the JSON APIs' description, from the handlers' annotations.
pub fn openapi_routes() -> Router<AppState> {
    Router::new().route(
        "/api/openapi.json",
        get(|| async { Json(api::ApiDoc::openapi()) }),
    )
}
