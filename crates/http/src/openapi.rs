//! `GET /api/openapi.json`: one OpenAPI document for the JSON APIs, merged from each area's
//! description (triage, booking, messaging, on-demand, live updates), which sits next to its
//! handlers' annotations.

use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::web::session::SESSION_COOKIE;
use crate::AppState;

/// The document's own part: what it is, and how callers authenticate.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Carefront API",
        description = "Carefront's JSON APIs. The clinical record itself is the FHIR R4 API under /fhir.\n\n\
            Authentication: every path needs either a bearer token (`Authorization: Bearer ...`) \
            from `POST /oauth2/token`, or the web session cookie of a signed-in person."
    ),
    components(schemas(ErrorBody)),
    paths(openapi_json),
    modifiers(&Authentication),
    security(("bearer" = []), ("session" = [])),
    tags((name = "openapi", description = "This description"))
)]
struct ApiDoc;

/// The two ways in, as security schemes.
struct Authentication;

impl Modify for Authentication {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An access token from POST /oauth2/token"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                SESSION_COOKIE,
                "The web session cookie of a signed-in person",
            ))),
        );
    }
}

/// An error body, as every area answers a failure: `{"error": "..."}`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ErrorBody {
    /// What went wrong and what to fix.
    error: String,
}

/// The whole document: the part above with every area's paths, schemas and tag.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    for area in [
        crate::triage::api::TriageApi::openapi(),
        crate::booking::api::BookingApi::openapi(),
        crate::messaging::api::MessagingApi::openapi(),
        crate::ondemand::api::OnDemandApi::openapi(),
        crate::live::LiveApi::openapi(),
    ] {
        doc.merge(area);
    }
    doc
}

/// This document; no authentication needed.
#[utoipa::path(get, path = "/api/openapi.json", tag = "openapi", security(()),
    responses((status = 200, description = "The OpenAPI 3.1 description of the JSON APIs", body = serde_json::Value)))]
async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(document())
}

/// `GET /api/openapi.json`: the JSON APIs' description, from the handlers' annotations.
pub fn routes() -> Router<AppState> {
    Router::new().route("/api/openapi.json", get(openapi_json))
}
