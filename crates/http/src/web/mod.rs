//! The web pages: server-rendered HTML with htmx, in English and French.

mod assets;
pub mod i18n;
mod page;
pub mod session;
pub mod templates;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use minijinja::context;
use serde::Deserialize;

use crate::AppState;

pub use page::{html_page, not_found_page};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/assets/{file}", get(assets::serve))
}

/// `?lang=` on any page switches the language (and remembers it in a cookie).
#[derive(Deserialize, Default)]
pub struct LangQuery {
    pub lang: Option<String>,
}

async fn home(
    State(_state): State<AppState>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = i18n::choose(q.lang.as_deref(), &headers);
    html_page(
        "home.html",
        context! { lang => lang },
        lang,
        q.lang.is_some(),
    )
}
