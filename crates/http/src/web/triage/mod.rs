//! The symptom-check pages: a patient says what is wrong (`/triage`), answers one question
//! per page and gets an explained urgency with the right kind of visit to book
//! (`/triage/{id}`); clinicians work through the queue of outcomes (`/triage/queue`),
//! re-triage and review them. The pages call the same service and access rules as the
//! JSON API (`crate::triage`), and audit what they read and write like the booking pages.

mod interview;
mod offers;
mod queue;
mod start;

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use carefront_auth::Role;
use carefront_triage::Lang;
use serde::Serialize;

use super::booking::Visitor;
use super::i18n::translate;
use super::page::{internal_error_page, message_page, not_found_page};
use crate::auth::{account_caller, Caller};
use crate::triage::api::JsonError;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/triage", get(start::show).post(start::submit))
        .route("/triage/queue", get(queue::show))
        .route("/triage/{id}", get(interview::show))
        .route("/triage/{id}/answer", post(interview::answer))
        .route("/triage/{id}/retriage", post(queue::retriage))
        .route("/triage/{id}/review", post(queue::review))
}

/// The language of the clinical content for this page language.
fn content_lang(v: &Visitor) -> Lang {
    Lang::parse(v.lang)
}

/// Who the visitor is, as the triage access rules (shared with the API) decide.
async fn caller(state: &AppState, v: &Visitor) -> Caller {
    account_caller(state, &v.who.account).await
}

/// Practitioners and administrators work the queue, re-triage and review.
fn is_clinician(v: &Visitor) -> bool {
    matches!(v.role, Role::Practitioner | Role::Administrator)
}

fn accept_language(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
}

/// The page for a refusal or failure of the triage service or its access rules.
fn failed(v: &Visitor, e: JsonError) -> Response {
    let JsonError(status, message) = e;
    match status {
        StatusCode::NOT_FOUND => not_found_page(v.lang),
        StatusCode::FORBIDDEN => v.forbidden(),
        s if s.is_server_error() => {
            tracing::error!(status = s.as_u16(), "triage page failed");
            internal_error_page(v.lang)
        }
        s => {
            let ctx = minijinja::context! {
                lang => v.lang,
                title => translate(v.lang, "triage.error.title"),
                message,
            };
            super::page::html_status(s, "error.html", ctx, v.lang)
        }
    }
}

/// The page for accounts that are not a patient's.
fn patient_only(v: &Visitor) -> Response {
    message_page(
        StatusCode::FORBIDDEN,
        v.lang,
        "triage.patient_only.title",
        "triage.patient_only.body",
    )
}

/// A triage outcome in one line, as appointment pages and lists show it.
#[derive(Serialize, Debug, Clone)]
pub struct Summary {
    pub assessment_id: String,
    pub interview_id: String,
    /// `emergency`, `urgent`, `routine` or `self-care`.
    pub level: String,
    /// The level in a word or two (`Urgent`).
    pub level_label: String,
    pub complaint: String,
}

/// The translation key of a level's short name.
pub fn level_key(code: &str) -> String {
    format!("triage.level.{code}")
}

/// The outcome `assessment_id`, when it is one and belongs to `patient_id` (when given);
/// the read is audited.
pub async fn summary(
    state: &AppState,
    v: &Visitor,
    assessment_id: &str,
    patient_id: Option<&str>,
) -> Option<Summary> {
    let read = state.triage.assessment(assessment_id).await;
    v.audit(
        state,
        "read",
        "RiskAssessment",
        Some(assessment_id),
        read.is_ok(),
    )
    .await;
    let a = read
        .ok()
        .filter(|a| patient_id.is_none_or(|p| p == a.patient_id))?;
    let complaint = state.triage.library().get(&a.protocol).map_or_else(
        || a.protocol.clone(),
        |p| p.title.get(content_lang(v)).to_owned(),
    );
    Some(Summary {
        level: a.level.code().to_owned(),
        level_label: translate(v.lang, &level_key(a.level.code())).into_owned(),
        assessment_id: a.id,
        interview_id: a.interview_id,
        complaint,
    })
}

/// The display name of patient `id` (the read is audited), or empty.
pub(crate) async fn patient_name(state: &AppState, v: &Visitor, id: &str) -> String {
    let read = state.repo.read("Patient", id).await;
    v.audit(state, "read", "Patient", Some(id), read.is_ok())
        .await;
    read.ok()
        .and_then(|s| serde_json::from_slice::<serde_json::Value>(&s.content).ok())
        .map(|p| carefront_booking::index::person_name(&p))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::i18n::LANGUAGES;

    #[test]
    fn every_level_is_named_in_both_languages() {
        for level in carefront_triage::Level::ALL {
            for lang in LANGUAGES {
                let key = level_key(level.code());
                assert_ne!(translate(lang, &key), key, "{lang}: {key}");
            }
        }
    }
}
