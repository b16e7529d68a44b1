//! The FHIR REST API (`/fhir`), per the R4 RESTful API specification.

pub mod access;
mod bundle_access;
mod capability;
mod history;
mod instance;
mod request;
mod response;
mod search;
mod type_level;

use axum::routing::{get, post};
use axum::Router;

use crate::AppState;

pub const FHIR_JSON: &str = "application/fhir+json; charset=utf-8";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(search::system_get).post(type_level::bundle))
        .route("/_history", get(history::system))
        .route("/_search", post(search::system_post))
        .route(
            "/{rtype}",
            get(search::type_get)
                .post(type_level::create)
                .put(type_level::conditional_update)
                .delete(type_level::conditional_delete),
        )
        .route("/{rtype}/_search", post(search::type_post))
        .route("/{rtype}/_history", get(history::type_level))
        .route(
            "/{rtype}/{id}",
            get(instance::read)
                .put(instance::update)
                .patch(instance::patch)
                .delete(instance::delete),
        )
        .route("/{rtype}/{id}/_history", get(history::instance))
        .route("/{rtype}/{id}/_history/{vid}", get(instance::vread))
        // Everything above needs a caller; the CapabilityStatement below is public.
        .route_layer(axum::middleware::from_fn(crate::auth::require))
        .route("/metadata", get(capability::metadata))
        .fallback(unknown_route)
        .method_not_allowed_fallback(method_not_allowed)
}

/// `[base]/` with a trailing slash, as some clients configure their base URL.
pub fn base_with_slash() -> Router<AppState> {
    Router::new()
        .route("/fhir/", get(search::system_get).post(type_level::bundle))
        .route_layer(axum::middleware::from_fn(crate::auth::require))
}

async fn method_not_allowed() -> crate::ApiError {
    crate::ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        carefront_fhir::IssueCode::NotSupported,
        "this FHIR URL does not support that HTTP method",
    )
}

async fn unknown_route() -> crate::ApiError {
    crate::ApiError::new(
        axum::http::StatusCode::NOT_FOUND,
        carefront_fhir::IssueCode::NotSupported,
        "no FHIR interaction is defined at this URL",
    )
}
