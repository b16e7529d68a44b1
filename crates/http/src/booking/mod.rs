//! Booking over HTTP for programs: a JSON API (`/api/booking/...`) for front ends such as a
//! phone app, and the Argonaut Scheduling operations on `/fhir/Appointment` (`$find`,
//! `$hold`, `$book`) for FHIR clients. Both call the same booking service as the web pages,
//! so every path keeps the same guarantees.

mod actor;
pub(crate) mod api;
mod argonaut;
mod schema;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use carefront_booking::BookingError;
use serde_json::json;

pub use actor::{actor_of, patient_for};
pub use api::routes;
pub use argonaut::routes as fhir_routes;

/// A booking failure as JSON: `{"error": "...", "alternatives": [...]}` with its status.
pub struct JsonError(pub BookingError);

impl From<BookingError> for JsonError {
    fn from(e: BookingError) -> Self {
        JsonError(e)
    }
}

impl IntoResponse for JsonError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error() {
            // Store errors may quote values: log the kind only.
            tracing::error!(status = status.as_u16(), "booking request failed");
        }
        let message = if status.is_server_error() {
            "the server could not complete the request; try again".to_owned()
        } else {
            self.0.to_string()
        };
        let mut body = json!({ "error": message });
        if let BookingError::Taken { alternatives } = &self.0 {
            body["alternatives"] = json!(alternatives);
        }
        (status, Json(body)).into_response()
    }
}
