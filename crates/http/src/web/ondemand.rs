//! The on-demand pages: a patient joins from their triage outcome (`POST /ondemand/join`),
//! watches their place and estimated wait (`/ondemand/{id}`, refreshed live) and may leave;
//! clinicians of the pool see who waits with their triage summary (`/ondemand`) and take the
//! next one, which sends them to the video visit. The pages call `crate::ondemand::service`,
//! like the JSON API.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use carefront_auth::Role;
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::booking::Visitor;
use super::csrf;
use super::dashboard::user_context;
use super::forms;
use super::i18n::translate;
use super::page::{csrf_failed_page, internal_error_page, not_found_page, see_other};
use super::triage::{summary, Summary};
use crate::auth::{account_caller, Caller};
use crate::ondemand::service::{self, OnDemandError};
use crate::visit_record::record::name_of;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/ondemand", get(queue))
        .route("/ondemand/join", post(join))
        .route("/ondemand/take", post(take))
        .route("/ondemand/{id}", get(status))
        .route("/ondemand/{id}/leave", post(leave))
}

fn failed(v: &Visitor, e: &OnDemandError) -> Response {
    match e {
        OnDemandError::NotFound(_) => not_found_page(v.lang),
        OnDemandError::Forbidden(_) => v.forbidden(),
        OnDemandError::Refused(why) => {
            let ctx = context! {
                lang => v.lang,
                user => user_context(&v.who),
                title => translate(v.lang, "ondemand.refused"),
                message => why,
            };
            v.render(StatusCode::CONFLICT, "error.html", ctx)
        }
        OnDemandError::Store(_) => {
            tracing::error!(status = e.status(), "on-demand page failed");
            internal_error_page(v.lang)
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Posted {
    csrf: String,
    assessment_id: String,
}

/// The caller after the form's CSRF check.
async fn posted(state: &AppState, v: &Visitor, body: &[u8]) -> Result<(Caller, Posted), Response> {
    let form: Posted = forms::parse(body);
    if !csrf::session_ok(&v.who, &form.csrf) {
        return Err(csrf_failed_page(v.lang));
    }
    Ok((account_caller(state, &v.who.account).await, form))
}

async fn join(State(state): State<AppState>, v: Visitor, body: Bytes) -> Response {
    let (caller, form) = match posted(&state, &v, &body).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    let joined = service::join(&state, &caller, form.assessment_id.trim()).await;
    v.audit(
        &state,
        "create",
        "Encounter",
        joined.as_ref().ok().map(|s| s.id.as_str()),
        joined.is_ok(),
    )
    .await;
    match joined {
        Ok(s) => see_other(&format!("/ondemand/{}", s.id)),
        Err(e) => failed(&v, &e),
    }
}

async fn status(State(state): State<AppState>, v: Visitor, Path(id): Path<String>) -> Response {
    let caller = account_caller(&state, &v.who.account).await;
    let found = service::status(&state, &caller, &id).await;
    v.audit(&state, "read", "Encounter", Some(&id), found.is_ok())
        .await;
    match found {
        Ok(entry) => {
            let ctx = context! { lang => v.lang, user => user_context(&v.who), entry };
            v.render(StatusCode::OK, "ondemand_status.html", ctx)
        }
        Err(e) => failed(&v, &e),
    }
}

async fn leave(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (caller, _) = match posted(&state, &v, &body).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    let left = service::leave(&state, &caller, &id).await;
    v.audit(&state, "update", "Encounter", Some(&id), left.is_ok())
        .await;
    match left {
        Ok(_) => see_other(&format!("/ondemand/{id}")),
        Err(e) => failed(&v, &e),
    }
}

#[derive(Serialize)]
struct QueueRow {
    place: usize,
    patient: String,
    level: &'static str,
    level_label: String,
    waited_minutes: i64,
    triage: Option<Summary>,
}

async fn queue(State(state): State<AppState>, v: Visitor) -> Response {
    let caller = account_caller(&state, &v.who.account).await;
    if v.role == Role::Patient {
        // A patient's way in is their own entry.
        return match service::current(&state, &caller).await {
            Ok(Some(s)) => see_other(&format!("/ondemand/{}", s.id)),
            Ok(None) => see_other("/triage"),
            Err(e) => failed(&v, &e),
        };
    }
    let waiting = service::queue(&state, &caller).await;
    v.audit(&state, "search", "Encounter", None, waiting.is_ok())
        .await;
    let waiting = match waiting {
        Ok(w) => w,
        Err(e) => return failed(&v, &e),
    };
    let mut rows = Vec::new();
    for w in waiting {
        let triage = match &w.assessment_id {
            Some(a) => summary(&state, &v, a, Some(&w.patient_id)).await,
            None => None,
        };
        v.audit(&state, "read", "Patient", Some(&w.patient_id), true)
            .await;
        rows.push(QueueRow {
            place: w.place,
            patient: name_of(&state, "Patient", &w.patient_id).await,
            level: w.level,
            level_label: translate(v.lang, &super::triage::level_key(w.level)).into_owned(),
            waited_minutes: w.waited_minutes,
            triage,
        });
    }
    let ctx = context! { lang => v.lang, user => user_context(&v.who), rows };
    v.render(StatusCode::OK, "ondemand_queue.html", ctx)
}

async fn take(State(state): State<AppState>, v: Visitor, body: Bytes) -> Response {
    let (caller, _) = match posted(&state, &v, &body).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    let taken = service::take(&state, &caller).await;
    v.audit(
        &state,
        "create",
        "Appointment",
        taken.as_ref().ok().map(|t| t.appointment_id.as_str()),
        taken.is_ok(),
    )
    .await;
    match taken {
        Ok(t) => see_other(&t.visit),
        Err(e) => failed(&v, &e),
    }
}
