//! The visit record pages: the clinician's visit note (`/visits/{appointment}/notes`), and the
//! patient's finished visits (`/record/visits`) with each one's summary
//! (`/record/visits/{encounter}`), which the patient's care team may read too. The writing
//! and reading are in `crate::visit_record`.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use carefront_auth::{Action, Role};
use carefront_booking::index::reference_id;
use minijinja::context;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::booking::Visitor;
use super::csrf;
use super::dashboard::user_context;
use super::forms::{message, FieldErrors};
use super::i18n::translate;
use super::page::{csrf_failed_page, internal_error_page, not_found_page, see_other};
use crate::auth::account_caller;
use crate::visit_record::diagnoses::{self, common};
use crate::visit_record::note::{self, Form, Problem, DX_ROWS, SECTIONS};
use crate::visit_record::record::{self, Recorded, VisitError};
use crate::visit_record::vitals;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/visits/{appointment_id}/notes", get(show).post(submit))
        .route("/record/visits", get(list))
        .route("/record/visits/{encounter_id}", get(summary))
        .route(
            "/record/visits/appointment/{appointment_id}",
            get(by_appointment),
        )
}

fn failed(v: &Visitor, e: &VisitError) -> Response {
    match e {
        VisitError::NotFound(_) => not_found_page(v.lang),
        VisitError::Forbidden(_) => v.forbidden(),
        VisitError::Written { encounter_id } => {
            see_other(&format!("/record/visits/{encounter_id}"))
        }
        VisitError::Failed { status } => {
            tracing::error!(status, "visit record page failed");
            internal_error_page(v.lang)
        }
    }
}

#[derive(Serialize)]
struct Labelled {
    value: String,
    label: String,
}

#[derive(Serialize)]
struct VitalField {
    field: &'static str,
    label: String,
    unit: &'static str,
    /// The range, as the hint shows it.
    range: String,
}

/// The note form, empty or as posted with what to fix.
async fn form_page(
    state: &AppState,
    v: &Visitor,
    appointment_id: &str,
    visit: &record::Visit,
    values: &Form,
    problems: &[Problem],
) -> Response {
    let lang = v.lang;
    let mut errors = FieldErrors::default();
    for p in problems {
        errors.add(p.field, message(lang, p.key, &p.args));
    }
    let t = |key: &str| translate(lang, key).into_owned();
    let sections: Vec<Labelled> = SECTIONS
        .iter()
        .map(|(f, _, _)| Labelled {
            value: (*f).to_owned(),
            label: t(&format!("visit.section.{f}")),
        })
        .collect();
    let picks: Vec<Labelled> = common()
        .iter()
        .map(|c| Labelled {
            value: c.code.clone(),
            label: c.name(lang).to_owned(),
        })
        .collect();
    let vitals: Vec<VitalField> = vitals::ALL
        .iter()
        .map(|x| VitalField {
            field: x.field,
            label: t(&format!("visit.vitals.{}", x.field)),
            unit: vitals::shown_unit(x.unit),
            range: format!("{}–{}", x.min, x.max),
        })
        .collect();
    let patient = record::name_of(state, "Patient", &visit.patient_id).await;
    let ctx = context! {
        lang,
        user => user_context(&v.who),
        appointment_id,
        patient,
        start => visit.appointment["start"].as_str().unwrap_or_default().get(..16).map(|s| s.replace('T', " ")),
        sections,
        picks,
        rows => DX_ROWS,
        vitals,
        values => values.0.clone(),
        errors,
    };
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    v.render(status, "visit_note.html", ctx)
}

/// The appointment, if the visitor is one of its practitioners.
async fn visit_of(state: &AppState, v: &Visitor, id: &str) -> Result<record::Visit, Response> {
    let Some(practitioner) = v.practitioner_id() else {
        return Err(v.forbidden());
    };
    let visit = record::visit_for(state, id, practitioner).await;
    v.audit(state, "read", "Appointment", Some(id), visit.is_ok())
        .await;
    visit.map_err(|e| failed(v, &e))
}

async fn show(State(state): State<AppState>, v: Visitor, Path(id): Path<String>) -> Response {
    match visit_of(&state, &v, &id).await {
        Ok(visit) => form_page(&state, &v, &id, &visit, &Form::default(), &[]).await,
        Err(page) => page,
    }
}

async fn submit(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let form = Form::parse(&body);
    if !csrf::session_ok(&v.who, &form.get("csrf")) {
        return csrf_failed_page(v.lang);
    }
    let visit = match visit_of(&state, &v, &id).await {
        Ok(visit) => visit,
        Err(page) => return page,
    };
    let note = match note::check(&form, v.lang) {
        Ok(note) => note,
        Err(problems) => return form_page(&state, &v, &id, &visit, &form, &problems).await,
    };
    let practitioner = v.practitioner_id().unwrap_or_default().to_owned();
    let saved = record::save(&state, &id, &practitioner, &note).await;
    v.audit(
        &state,
        "create",
        "Composition",
        saved.as_ref().ok().map(String::as_str),
        saved.is_ok(),
    )
    .await;
    match saved {
        Ok(encounter_id) => see_other(&format!("/record/visits/{encounter_id}?saved=1")),
        Err(e) => failed(&v, &e),
    }
}

/// Whether the visitor may read the visit record: the patient's own; a practitioner who took
/// part; staff of the patient's organisations (the rule `/fhir` applies).
async fn may_read(state: &AppState, v: &Visitor, r: &Recorded) -> bool {
    if v.role == Role::Patient {
        return v.patient_id() == Some(r.patient_id.as_str());
    }
    let took_part = v.practitioner_id().is_some_and(|me| {
        r.encounter["participant"].as_array().is_some_and(|ps| {
            ps.iter()
                .any(|p| reference_id(&p["individual"], "Practitioner").as_deref() == Some(me))
        })
    });
    took_part
        || crate::triage::access::check(
            state,
            &account_caller(state, &v.who.account).await,
            Action::Read,
            "Encounter",
            &r.patient_id,
        )
        .await
        .is_ok()
}

fn day(text: &str) -> String {
    text.get(..16).unwrap_or(text).replace('T', " ")
}

fn clinician(encounter: &Value) -> String {
    encounter["participant"][0]["individual"]["display"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[derive(Serialize)]
struct VisitRow {
    id: String,
    date: String,
    clinician: String,
    reason: Option<String>,
}

async fn list(State(state): State<AppState>, v: Visitor) -> Response {
    let Some(patient) = v.patient_id() else {
        return v.patient_only();
    };
    let found = record::finished_of(&state, patient).await;
    v.audit(&state, "search", "Encounter", None, found.is_ok())
        .await;
    let visits = match found {
        Ok(list) => list,
        Err(e) => return failed(&v, &e),
    };
    let rows: Vec<VisitRow> = visits
        .iter()
        .map(|e| VisitRow {
            id: e["id"].as_str().unwrap_or_default().to_owned(),
            date: day(e["period"]["start"].as_str().unwrap_or_default()),
            clinician: clinician(e),
            reason: e["reasonCode"][0]["text"].as_str().map(str::to_owned),
        })
        .collect();
    let ctx = context! { lang => v.lang, user => user_context(&v.who), rows };
    v.render(StatusCode::OK, "visit_list.html", ctx)
}

/// `?saved=1` after the note is saved (as text: a query string is not JSON, and anything
/// else typed there must not turn the page into an error).
#[derive(Deserialize, Default)]
#[serde(default)]
struct Saved {
    saved: Option<String>,
}

#[derive(Serialize)]
struct Line {
    label: String,
    value: String,
    provisional: bool,
}

async fn summary(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    Query(q): Query<Saved>,
) -> Response {
    let read = record::recorded(&state, &id).await;
    let allowed = match &read {
        Ok(r) => may_read(&state, &v, r).await,
        Err(_) => false,
    };
    v.audit(&state, "read", "Encounter", Some(&id), allowed)
        .await;
    let r = match read {
        Ok(r) if allowed => r,
        Ok(_) => return not_found_page(v.lang),
        Err(e) => return failed(&v, &e),
    };
    let lang = v.lang;
    let section = |code: &str| r.note.as_ref().and_then(|n| note::section_text(n, code));
    let code_of = |field: &str| {
        SECTIONS
            .iter()
            .find(|(f, _, _)| *f == field)
            .map(|s| s.1)
            .unwrap_or_default()
    };
    let diagnoses: Vec<Line> = r
        .conditions
        .iter()
        .map(|c| {
            let (label, provisional) = diagnoses::plain(c, lang);
            Line {
                label,
                value: String::new(),
                provisional,
            }
        })
        .collect();
    let vitals: Vec<Line> = r
        .observations
        .iter()
        .filter_map(vitals::read)
        .map(|(field, value, unit)| Line {
            label: translate(lang, &format!("visit.vitals.{field}")).into_owned(),
            value: format!("{value} {}", vitals::shown_unit(&unit)),
            provisional: false,
        })
        .collect();
    let follow_up = r
        .tasks
        .iter()
        .find(|t| t["code"]["coding"][0]["code"] == note::FOLLOW_UP)
        .map(|t| {
            let by = t["restriction"]["period"]["end"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let practitioner = reference_id(&t["requester"], "Practitioner");
            let book = match practitioner {
                Some(p) => format!("/book?practitioner={p}"),
                None => "/book".to_owned(),
            };
            context! { by, book }
        });
    let ctx = context! {
        lang,
        user => user_context(&v.who),
        saved => q.saved.as_deref() == Some("1"),
        date => day(r.encounter["period"]["start"].as_str().unwrap_or_default()),
        clinician => clinician(&r.encounter),
        written => r.note.is_some(),
        reason => section(code_of("reason")),
        history => (v.role != Role::Patient).then(|| section(code_of("history"))).flatten(),
        findings => (v.role != Role::Patient).then(|| section(code_of("findings"))).flatten(),
        assessment => section(code_of("assessment")),
        plan => section(code_of("plan")),
        diagnoses,
        vitals,
        follow_up,
        is_patient => v.role == Role::Patient,
    };
    v.render(StatusCode::OK, "visit_summary.html", ctx)
}

/// From a past appointment to its visit summary.
async fn by_appointment(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
) -> Response {
    let pairs = [("appointment".to_owned(), format!("Appointment/{id}"))];
    let found = match state.repo.parse_search(Some("Encounter"), &pairs, false) {
        Ok(q) => state.repo.search(&q).await,
        Err(e) => Err(e),
    };
    match found.ok().and_then(|p| p.matches.into_iter().next()) {
        // The summary page decides who may read it.
        Some(e) => see_other(&format!("/record/visits/{}", e.id)),
        None => not_found_page(v.lang),
    }
}
