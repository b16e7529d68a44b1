//! The web pages: server-rendered HTML with htmx, in English and French.

mod account;
mod admin;
mod assets;
pub(crate) mod booking;
pub mod csrf;
pub(crate) mod dashboard;
pub mod forms;
pub mod i18n;
pub(crate) mod mailbox;
mod messages;
mod ondemand;
pub(crate) mod page;
mod recovery;
pub mod session;
mod signin;
mod signup;
pub mod templates;
mod totp;
pub(crate) mod triage;
mod visit_record;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use minijinja::context;
use serde::Deserialize;

use crate::AppState;

pub use page::{html_page, not_found_page};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/assets/{file}", get(assets::serve))
        .route("/signup", get(signup::show).post(signup::submit))
        .route("/confirm", get(recovery::confirm))
        .route("/confirm/resend", post(recovery::resend))
        .route("/mailbox", get(mailbox::page))
        .route("/signin", get(signin::show).post(signin::submit))
        .route("/signin/totp", get(totp::show).post(totp::submit))
        .route("/signout", post(signin::sign_out))
        .route(
            "/forgot",
            get(recovery::forgot_show).post(recovery::forgot_submit),
        )
        .route(
            "/reset",
            get(recovery::reset_show).post(recovery::reset_submit),
        )
        .route("/home", get(dashboard::page))
        .route("/account", get(account::show).post(account::submit))
        .route(
            "/account/totp",
            get(totp::enrol_show).post(totp::enrol_submit),
        )
        .merge(admin::routes())
        .merge(booking::routes())
        .merge(triage::routes())
        .merge(messages::routes())
        .merge(ondemand::routes())
        .merge(visit_record::routes())
}

/// `?lang=` on any page switches the language (and remembers it in a cookie).
#[derive(Deserialize, Default)]
pub struct LangQuery {
    pub lang: Option<String>,
}

async fn home(
    State(state): State<AppState>,
    who: Option<session::SignedIn>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = i18n::choose(q.lang.as_deref(), &headers);
    // Signed in (both factors): the frame shows their navigation and a way to the dashboard.
    let mailbox = mailbox::may_read(&state, who.as_ref());
    let user = who
        .filter(|w| !w.needs_second_factor())
        .map(|w| dashboard::user_context(&w));
    html_page(
        "home.html",
        context! { lang => lang, user => user, mailbox => mailbox },
        lang,
        q.lang.is_some(),
    )
}
