//! The visit's pages: the visit itself (`visit.html` with `assets/visit.js`: pre-call check,
//! waiting room, call, end), the clinician's invitation page, and the guest's page.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use carefront_auth::Role;
use minijinja::{context, Value as Ctx};
use serde::Deserialize;
use serde_json::json;

use super::access::{invite, Closed, Visit, VisitRole};
use super::audit;
use super::room::Member;
use crate::web::booking::display;
use crate::web::booking::Visitor;
use crate::web::dashboard::user_context;
use crate::web::i18n::{self, translate};
use crate::web::page::{csrf_failed_page, html_page, internal_error_page, message_page};
use crate::web::session::ClientAddress;
use crate::web::{csrf, forms, mailbox, LangQuery};
use crate::AppState;

/// The strings `visit.js` shows, by the name it asks for (`visit.js.<name>` in the locales).
const SCRIPT_STRINGS: &[&str] = &[
    "waiting",
    "in_call",
    "left",
    "admit",
    "connecting",
    "connected",
    "reconnecting",
    "disconnected",
    "failed",
    "mute",
    "unmute",
    "camera_off",
    "camera_on",
    "share",
    "stop_share",
    "waited",
    "starts_at",
    "refused",
    "no_devices",
    "test_ok",
    "test_failed",
    "image_too_big",
    "image_type",
    "you",
    "no_one_waiting",
    "clinician_here",
    "role_patient",
    "role_clinician",
    "role_guest",
    "ended",
];

/// The strings for the script, as JSON safe inside a `<script type="application/json">`.
fn script_strings(lang: &str) -> String {
    let map: serde_json::Map<String, serde_json::Value> = SCRIPT_STRINGS
        .iter()
        .map(|k| {
            let text = translate(lang, &format!("visit.js.{k}")).into_owned();
            ((*k).to_owned(), json!(text))
        })
        .collect();
    // `<` never appears raw, so no `</script>` can end the element early.
    serde_json::Value::Object(map)
        .to_string()
        .replace('<', "\\u003c")
}

fn closed_page(lang: &str, c: Closed) -> Response {
    let (status, body) = match c {
        Closed::NotFound => (StatusCode::NOT_FOUND, "visit.closed.not_found"),
        Closed::NotVideo => (StatusCode::FORBIDDEN, "visit.closed.not_video"),
        Closed::Cancelled => (StatusCode::FORBIDDEN, "visit.closed.cancelled"),
    };
    message_page(status, lang, "visit.title", body)
}

/// What the page says about the visit.
fn visit_context(lang: &str, visit: &Visit) -> Ctx {
    let practitioner = visit
        .practitioners
        .first()
        .map(|(_, name)| name.clone())
        .unwrap_or_default();
    context! {
        id => visit.appointment_id,
        start => visit.start,
        when => visit.start.as_deref().map(|s| display::long(lang, s)),
        clock => visit.start.as_deref().map(display::clock),
        practitioner_name => practitioner,
        patient_name => visit.patient_name,
        reason => visit.reason,
        ended => visit.is_ended(),
    }
}

/// `GET /visits/{id}`: the visit page, for the appointment's patient and practitioner(s).
pub async fn visit(
    State(state): State<AppState>,
    v: Visitor,
    Path(appointment_id): Path<String>,
) -> Response {
    let visit = match Visit::load(&state, &appointment_id).await {
        Ok(visit) => visit,
        Err(c) => return closed_page(v.lang, c),
    };
    let Some(role) = visit.role_of(&v.who.account) else {
        v.audit(&state, "read", "Appointment", Some(&appointment_id), false)
            .await;
        return v.forbidden();
    };
    // The clinician sees who waits with the symptom check they were booked from.
    let triage = match (&visit.triage, role) {
        (Some(id), VisitRole::Clinician) => {
            crate::web::triage::summary(&state, &v, id, visit.patient_id.as_deref()).await
        }
        _ => None,
    };
    let ctx = context! {
        lang => v.lang,
        user => user_context(&v.who),
        visit => visit_context(v.lang, &visit),
        triage,
        role => role.as_str(),
        name => v.who.account.display_name,
        strings => Ctx::from_safe_string(script_strings(v.lang)),
    };
    v.render(StatusCode::OK, "visit.html", ctx)
}

/// `GET /visits/join/{token}`: a guest's visit page. The token is spent when the page joins
/// the room (not now: the pre-call check comes first, and a link preview must not spend it).
pub async fn join(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = i18n::choose(q.lang.as_deref(), &headers);
    let Some(appointment_id) = token_appointment(&token) else {
        return message_page(
            StatusCode::NOT_FOUND,
            lang,
            "visit.title",
            "visit.invite.invalid",
        );
    };
    let visit = match Visit::load(&state, &appointment_id).await {
        Ok(visit) => visit,
        Err(c) => return closed_page(lang, c),
    };
    let ctx = context! {
        lang => lang,
        visit => visit_context(lang, &visit),
        role => VisitRole::Guest.as_str(),
        invite => token_secret(&token),
        strings => Ctx::from_safe_string(script_strings(lang)),
    };
    html_page("visit.html", ctx, lang, q.lang.is_some())
}

/// Guest links are `/visits/join/<appointment>~<invite token>`: the page needs the
/// appointment before the room spends the invite.
fn token_appointment(token: &str) -> Option<String> {
    let (appointment, secret) = token.split_once('~')?;
    (!appointment.is_empty() && !secret.is_empty()).then(|| appointment.to_owned())
}

fn token_secret(token: &str) -> &str {
    token.split_once('~').map_or("", |(_, secret)| secret)
}

/// The clinician of this visit, or the page that says why not.
async fn clinician_of(
    state: &AppState,
    v: &Visitor,
    appointment_id: &str,
) -> Result<Visit, Response> {
    let visit = Visit::load(state, appointment_id)
        .await
        .map_err(|c| closed_page(v.lang, c))?;
    if v.role != Role::Practitioner || visit.role_of(&v.who.account) != Some(VisitRole::Clinician) {
        return Err(v.forbidden());
    }
    Ok(visit)
}

/// `GET /visits/{id}/invite`: the clinician may make a one-time link for someone else
/// (an interpreter, a relative).
pub async fn invite_show(
    State(state): State<AppState>,
    v: Visitor,
    Path(appointment_id): Path<String>,
) -> Response {
    let visit = match clinician_of(&state, &v, &appointment_id).await {
        Ok(visit) => visit,
        Err(page) => return page,
    };
    invite_page(&v, &visit, None)
}

fn invite_page(v: &Visitor, visit: &Visit, link: Option<String>) -> Response {
    let ctx = context! {
        lang => v.lang,
        user => user_context(&v.who),
        visit => visit_context(v.lang, visit),
        link,
        hours => invite::TTL_SECS / 3600,
    };
    v.render(StatusCode::OK, "visit_invite.html", ctx)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct InviteForm {
    csrf: String,
}

/// `POST /visits/{id}/invite`: a new link, shown once (only its hash is stored).
pub async fn invite_create(
    State(state): State<AppState>,
    v: Visitor,
    ClientAddress(source): ClientAddress,
    Path(appointment_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form: InviteForm = forms::parse(&body);
    if !csrf::session_ok(&v.who, &form.csrf) {
        return csrf_failed_page(v.lang);
    }
    let visit = match clinician_of(&state, &v, &appointment_id).await {
        Ok(visit) => visit,
        Err(page) => return page,
    };
    let now = carefront_store::repository::now_micros();
    let token = match invite::issue(&state, &v.who.account.id, &appointment_id, None, now).await {
        Ok(token) => token,
        Err(_) => return internal_error_page(v.lang),
    };
    let member = Member {
        peer: String::new(),
        role: VisitRole::Clinician,
        name: v.who.account.display_name.clone(),
        identity: format!("account:{}", v.who.account.id),
        audit_role: v.role.as_str().to_owned(),
        source,
        practitioner_id: None,
    };
    audit::record(&state, &member, "visit-invite", &appointment_id).await;
    let link = format!(
        "{}/visits/join/{appointment_id}~{token}",
        mailbox::base_url(&state, &headers)
    );
    invite_page(&v, &visit, Some(link))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guest_links_name_the_appointment_and_the_invite() {
        assert_eq!(token_appointment("a-1~g1.s3").as_deref(), Some("a-1"));
        assert_eq!(token_secret("a-1~g1.s3"), "g1.s3");
        assert_eq!(token_appointment("nothing"), None);
        assert_eq!(token_appointment("~x"), None);
    }

    #[test]
    fn script_strings_cannot_close_the_script_element() {
        let s = script_strings("en");
        assert!(!s.contains('<'));
        assert!(s.contains("\"admit\""));
    }
}
