//! `/book/slot/{slot_id}`: opening the page holds the time for the patient for a few minutes
//! while they say why they come and confirm; confirming books it. A time taken meanwhile is
//! said plainly, with the nearest free times instead.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use carefront_booking::scheduling::jiff::Timestamp;
use carefront_booking::{Actor, BookRequest, BookingError};
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::appointments::{appt, Appt};
use super::display::{offer_view, OfferView};
use super::{explain, is_internal, status_of, Visitor};
use crate::web::csrf;
use crate::web::dashboard::user_context;
use crate::web::forms::{self, message, FieldErrors};
use crate::web::page::{csrf_failed_page, see_other};
use crate::web::triage::{summary as triage_summary, Summary};
use crate::AppState;

#[derive(Deserialize, Serialize, Default, Clone, Debug)]
#[serde(default)]
pub struct ConfirmForm {
    /// The pending Appointment that holds the slot.
    pub hold: String,
    pub reason: String,
    /// The symptom check (RiskAssessment id) this visit is booked from.
    pub triage: String,
    #[serde(skip_serializing)]
    pub csrf: String,
}

/// `?triage=`: booking from a symptom check's outcome.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct FromTriage {
    triage: String,
}

/// The page: the held time and the form, or what went wrong with alternatives.
struct Shown<'a> {
    held: Option<Appt>,
    form: &'a ConfirmForm,
    errors: FieldErrors,
    problem: Option<String>,
    alternatives: Vec<OfferView>,
    status: StatusCode,
    triage: Option<Summary>,
}

fn render(v: &Visitor, slot_id: &str, shown: Shown<'_>) -> Response {
    let ctx = context! {
        lang => v.lang,
        user => user_context(&v.who),
        slot_id,
        held => shown.held,
        values => shown.form,
        errors => shown.errors,
        problem => shown.problem,
        alternatives => shown.alternatives,
        triage => shown.triage,
    };
    v.render(shown.status, "book_slot.html", ctx)
}

fn failed(v: &Visitor, slot_id: &str, form: &ConfirmForm, e: &BookingError) -> Response {
    let alternatives = match e {
        BookingError::Taken { alternatives } => alternatives
            .iter()
            .map(|o| offer_view(v.lang, o, 6))
            .collect(),
        _ => Vec::new(),
    };
    render(
        v,
        slot_id,
        Shown {
            held: None,
            form,
            errors: FieldErrors::default(),
            problem: Some(explain(v.lang, e)),
            alternatives,
            status: status_of(e),
            triage: None,
        },
    )
}

/// A hold of this patient on this slot that still holds (a reload of the page keeps it).
async fn live_hold(state: &AppState, pid: &str, slot_id: &str, now: Timestamp) -> Option<String> {
    let mine = state.booking.appointments_of_patient(pid).await.ok()?;
    mine.into_iter()
        .find(|e| {
            e.status == "pending"
                && e.slot_id.as_deref() == Some(slot_id)
                && e.hold_expires
                    .as_deref()
                    .and_then(|h| h.parse::<Timestamp>().ok())
                    .is_some_and(|h| h > now)
        })
        .map(|e| e.appointment_id)
}

/// The patient's own symptom check `id` (any other is ignored: it is not linked).
async fn own_triage(state: &AppState, v: &Visitor, pid: &str, id: &str) -> Option<Summary> {
    let id = id.trim();
    if id.is_empty() {
        return None;
    }
    triage_summary(state, v, id, Some(pid)).await
}

pub async fn show(
    State(state): State<AppState>,
    v: Visitor,
    Path(slot_id): Path<String>,
    Query(from): Query<FromTriage>,
) -> Response {
    let Some(pid) = v.patient_id().map(str::to_owned) else {
        return v.patient_only();
    };
    let triage = own_triage(&state, &v, &pid, &from.triage).await;
    let now = Timestamp::now();
    let hold_id = match live_hold(&state, &pid, &slot_id, now).await {
        Some(id) => id,
        None => {
            let held = state
                .booking
                .hold(&Actor::Patient(pid.clone()), &slot_id, &pid, now)
                .await;
            v.audit(
                &state,
                "create",
                "Appointment",
                held.as_ref().ok().map(|h| h.appointment_id.as_str()),
                held.is_ok(),
            )
            .await;
            match held {
                Ok(h) => h.appointment_id,
                Err(e) if is_internal(&e) => return v.internal("holding a slot", &e),
                Err(e) => {
                    let form = ConfirmForm {
                        triage: from.triage.clone(),
                        ..ConfirmForm::default()
                    };
                    return failed(&v, &slot_id, &form, &e);
                }
            }
        }
    };
    let a = match state.booking.current(&hold_id).await {
        Ok((a, _)) => a,
        Err(e) => return v.internal("reading a hold", &e),
    };
    let form = ConfirmForm {
        hold: hold_id,
        triage: triage
            .as_ref()
            .map(|t| t.assessment_id.clone())
            .unwrap_or_default(),
        ..ConfirmForm::default()
    };
    render(
        &v,
        &slot_id,
        Shown {
            held: Some(appt(v.lang, &a, now)),
            form: &form,
            errors: FieldErrors::default(),
            problem: None,
            alternatives: Vec::new(),
            status: StatusCode::OK,
            triage,
        },
    )
}

pub async fn submit(
    State(state): State<AppState>,
    v: Visitor,
    Path(slot_id): Path<String>,
    body: Bytes,
) -> Response {
    let lang = v.lang;
    let form: ConfirmForm = forms::parse(&body);
    if !csrf::session_ok(&v.who, &form.csrf) {
        return csrf_failed_page(lang);
    }
    let Some(pid) = v.patient_id().map(str::to_owned) else {
        return v.patient_only();
    };
    let now = Timestamp::now();
    let triage = own_triage(&state, &v, &pid, &form.triage).await;
    let reason = match forms::free_text(&form.reason, 500) {
        Ok(r) => r,
        Err(k) => {
            let mut errors = FieldErrors::default();
            errors.add("reason", message(lang, k, &[("max", "500".into())]));
            let held = match state.booking.current(form.hold.trim()).await {
                Ok((a, _))
                    if super::appointments::appt(lang, &a, now)
                        .patient_id
                        .as_deref()
                        == Some(pid.as_str()) =>
                {
                    Some(appt(lang, &a, now))
                }
                _ => None,
            };
            return render(
                &v,
                &slot_id,
                Shown {
                    held,
                    form: &form,
                    errors,
                    problem: None,
                    alternatives: Vec::new(),
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                    triage,
                },
            );
        }
    };
    let actor = Actor::Patient(pid.clone());
    let hold = Some(form.hold.trim().to_owned()).filter(|h| !h.is_empty());
    let mut request = BookRequest {
        slot_id: slot_id.clone(),
        patient_id: pid.clone(),
        reason,
        hold,
        overbook: None,
        triage: triage.map(|t| t.assessment_id),
    };
    let mut done = state.booking.book(&actor, &request, now).await;
    // The hold lapsed and was released meanwhile: the time may still be free.
    if matches!(&done, Err(BookingError::Refused(why)) if why.starts_with("this hold is no longer pending"))
    {
        request.hold = None;
        done = state.booking.book(&actor, &request, now).await;
    }
    v.audit(
        &state,
        if request.hold.is_some() {
            "update"
        } else {
            "create"
        },
        "Appointment",
        done.as_ref().ok().map(|b| b.appointment_id.as_str()),
        done.is_ok(),
    )
    .await;
    match done {
        Ok(b) => see_other(&format!("/appointments/{}?booked=true", b.appointment_id)),
        Err(e) if is_internal(&e) => v.internal("booking a slot", &e),
        Err(e) => failed(&v, &slot_id, &form, &e),
    }
}
