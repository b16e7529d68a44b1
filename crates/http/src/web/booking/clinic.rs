//! `/clinic/{location_id}/day`: reception's view of a clinic's day: every appointment of the
//! clinic's practitioners, marking arrivals and no-shows, blocking and unblocking free time,
//! and booking on a patient's behalf (found by name), overbooking only with a recorded
//! reason.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use carefront_booking::scheduling::jiff::civil::Date;
use carefront_booking::scheduling::jiff::Timestamp;
use carefront_booking::{BookRequest, BookingError, IndexedSchedule, Mark};
use minijinja::context;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::agenda::{add_days, by_day, chosen_day, period, rows, zone_or_utc, Row};
use super::{display, explain, is_internal, status_of, ticked, Visitor};
use crate::web::csrf;
use crate::web::dashboard::user_context;
use crate::web::forms::{self, message, FieldErrors};
use crate::web::page::{csrf_failed_page, message_page, see_other};
use crate::AppState;

#[derive(Serialize, Debug, Clone)]
struct Clinic {
    id: String,
    name: String,
    mine: bool,
}

/// `/clinic`: the clinics with bookable schedules; a practitioner who works at one clinic
/// goes straight to its day.
pub async fn choose(State(state): State<AppState>, v: Visitor) -> Response {
    if !v.is_staff() {
        return v.forbidden();
    }
    let schedules = match state.booking.indexed_schedules(None).await {
        Ok(s) => s,
        Err(e) => return v.internal("listing schedules", &e),
    };
    let pid = v.practitioner_id();
    let mut clinics: Vec<Clinic> = Vec::new();
    for s in &schedules {
        let mine = pid == Some(s.practitioner_id.as_str());
        match clinics.iter_mut().find(|c| c.id == s.location_id) {
            Some(c) => c.mine |= mine,
            None => clinics.push(Clinic {
                id: s.location_id.clone(),
                name: s.location_name.clone(),
                mine,
            }),
        }
    }
    clinics.sort_by(|a, b| b.mine.cmp(&a.mine).then(a.name.cmp(&b.name)));
    let mine: Vec<&Clinic> = clinics.iter().filter(|c| c.mine).collect();
    if let [only] = mine.as_slice() {
        return see_other(&format!("/clinic/{}/day", only.id));
    }
    let ctx = context! {
        lang => v.lang,
        user => user_context(&v.who),
        clinics,
    };
    v.render(StatusCode::OK, "clinic_list.html", ctx)
}

#[derive(Deserialize, Serialize, Default, Debug, Clone)]
#[serde(default)]
pub struct DayQuery {
    pub date: String,
    /// A time to book for a patient (the booking panel opens).
    pub slot: String,
    /// Patients to find by name for that booking.
    pub patient_q: String,
    /// Open the panel with "overbook" ticked (the time is taken or blocked).
    pub overbook: String,
    /// What was just done (a notice).
    pub done: String,
}

#[derive(Deserialize, Serialize, Default, Debug, Clone)]
#[serde(default)]
pub struct BookForm {
    pub slot_id: String,
    /// Typed by hand ...
    pub patient_id: String,
    /// ... or picked from the patients found by name.
    pub patient_pick: String,
    pub reason: String,
    pub overbook: String,
    pub overbook_reason: String,
    pub date: String,
    #[serde(skip_serializing)]
    pub csrf: String,
}

#[derive(Serialize, Debug)]
struct PatientChoice {
    id: String,
    name: String,
    birth_date: String,
}

/// What the page shows after an action.
#[derive(Default)]
struct Outcome {
    status: Option<StatusCode>,
    problem: Option<String>,
    form: Option<BookForm>,
    errors: FieldErrors,
}

fn schedules_here<'a>(all: &'a [IndexedSchedule], location_id: &str) -> Vec<&'a IndexedSchedule> {
    all.iter()
        .filter(|s| s.location_id == location_id)
        .collect()
}

fn person_name(p: &Value) -> String {
    let name = &p["name"][0];
    if let Some(text) = name["text"].as_str() {
        return text.to_owned();
    }
    let mut parts: Vec<&str> = name["given"]
        .as_array()
        .map(|g| g.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if let Some(f) = name["family"].as_str() {
        parts.push(f);
    }
    parts.join(" ")
}

async fn find_patients(
    state: &AppState,
    v: &Visitor,
    q: &str,
) -> Result<Vec<PatientChoice>, Response> {
    let params = vec![
        ("name".to_owned(), q.to_owned()),
        ("_count".to_owned(), "10".to_owned()),
        ("_sort".to_owned(), "family".to_owned()),
    ];
    let query = match state.repo.parse_search(Some("Patient"), &params, false) {
        Ok(q) => q,
        Err(e) => {
            tracing::error!(status = e.status(), "clinic: patient search not understood");
            return Ok(Vec::new());
        }
    };
    let page = state.repo.search(&query).await;
    v.audit(state, "search", "Patient", None, page.is_ok())
        .await;
    match page {
        Ok(page) => Ok(page
            .matches
            .iter()
            .filter_map(|r| {
                let p: Value = serde_json::from_slice(&r.content).ok()?;
                Some(PatientChoice {
                    id: r.id.clone(),
                    name: person_name(&p),
                    birth_date: p["birthDate"].as_str().unwrap_or("").to_owned(),
                })
            })
            .collect()),
        Err(e) => {
            tracing::error!(status = e.status(), "clinic: patient search failed");
            Err(crate::web::page::internal_error_page(v.lang))
        }
    }
}

#[derive(Serialize)]
struct PractitionerDay {
    name: String,
    rows: Vec<Row>,
}

async fn day_page(
    state: &AppState,
    v: &Visitor,
    location_id: &str,
    q: &DayQuery,
    outcome: Outcome,
) -> Response {
    if !v.is_staff() {
        return v.forbidden();
    }
    let lang = v.lang;
    let all = match state.booking.indexed_schedules(None).await {
        Ok(s) => s,
        Err(e) => return v.internal("listing schedules", &e),
    };
    let here = schedules_here(&all, location_id);
    let Some(first) = here.first() else {
        return message_page(
            StatusCode::NOT_FOUND,
            lang,
            "clinic.unknown.title",
            "clinic.unknown.body",
        );
    };
    let clinic_name = first.location_name.clone();
    let tz = zone_or_utc(Some(&first.zone));
    let date: Date = chosen_day(&q.date, &tz);
    let (days, from, to) = period(&tz, date, false);
    let practitioners = match state.booking.practitioners_at(location_id).await {
        Ok(p) => p,
        Err(e) => return v.internal("listing practitioners", &e),
    };
    let ids: Vec<String> = practitioners.iter().map(|(id, _)| id.clone()).collect();
    let (mut entries, slots) = match state
        .booking
        .agenda(&ids, Some(location_id), from, to)
        .await
    {
        Ok(x) => x,
        Err(e) => {
            v.audit(state, "search", "Appointment", None, false).await;
            return v.internal("reading a clinic's day", &e);
        }
    };
    v.audit(state, "search", "Appointment", None, true).await;
    // The agenda is per practitioner: keep their visits here (or by video / at home).
    entries.retain(|e| e.location_name.as_deref().is_none_or(|l| l == clinic_name));
    let now = Timestamp::now().as_second();
    let day = by_day(lang, &days, rows(lang, &entries, &slots))
        .into_iter()
        .next();
    let mut day_rows = day.map(|d| d.rows).unwrap_or_default();
    for r in &mut day_rows {
        r.started = r.starts_at <= now;
    }
    let mut groups: Vec<PractitionerDay> = practitioners
        .iter()
        .map(|(_, name)| PractitionerDay {
            name: name.clone(),
            rows: Vec::new(),
        })
        .collect();
    for r in day_rows {
        match groups.iter_mut().find(|g| g.name == r.practitioner_name) {
            Some(g) => g.rows.push(r),
            None => groups.push(PractitionerDay {
                name: r.practitioner_name.clone(),
                rows: vec![r],
            }),
        }
    }
    // The booking panel: the time chosen, and the patients found by name.
    let chosen = (!q.slot.trim().is_empty())
        .then(|| {
            groups
                .iter()
                .flat_map(|g| g.rows.iter())
                .find(|r| r.slot_id.as_deref() == Some(q.slot.trim()))
                .cloned()
        })
        .flatten();
    let patients = if q.patient_q.trim().is_empty() || chosen.is_none() {
        Vec::new()
    } else {
        match find_patients(state, v, q.patient_q.trim()).await {
            Ok(p) => p,
            Err(page) => return page,
        }
    };
    let form = outcome.form.unwrap_or_else(|| BookForm {
        slot_id: q.slot.clone(),
        overbook: if ticked(&q.overbook) || chosen.as_ref().is_some_and(|r| r.kind != "free") {
            "on".into()
        } else {
            String::new()
        },
        date: date.to_string(),
        ..BookForm::default()
    });
    let link = |d: Date| format!("/clinic/{location_id}/day?date={d}");
    let notice = match q.done.as_str() {
        "arrived" | "noshow" | "blocked" | "unblocked" | "booked" => {
            Some(format!("clinic.done.{}", q.done))
        }
        _ => None,
    };
    let ctx = context! {
        lang,
        user => user_context(&v.who),
        location_id,
        clinic_name,
        date => date.to_string(),
        title => display::long_date(lang, date),
        prev => link(add_days(date, -1)),
        next => link(add_days(date, 1)),
        today => format!("/clinic/{location_id}/day"),
        groups,
        chosen,
        patients,
        query => q,
        form,
        errors => outcome.errors,
        problem => outcome.problem,
        notice,
        zone => tz.iana_name().unwrap_or("UTC"),
    };
    v.render(
        outcome.status.unwrap_or(StatusCode::OK),
        "clinic_day.html",
        ctx,
    )
}

pub async fn day(
    State(state): State<AppState>,
    v: Visitor,
    Path(location_id): Path<String>,
    Query(q): Query<DayQuery>,
) -> Response {
    day_page(&state, &v, &location_id, &q, Outcome::default()).await
}

#[derive(Deserialize, Default, Debug)]
#[serde(default)]
pub struct ActionForm {
    appointment_id: String,
    slot_id: String,
    mark: String,
    blocked: String,
    date: String,
    csrf: String,
}

/// A staff member's genuine form, or why it is turned away (`Err(true)`: no valid CSRF
/// token; `Err(false)`: not clinic staff).
fn staff_form<T: serde::de::DeserializeOwned + Default>(
    v: &Visitor,
    body: &Bytes,
    csrf_of: impl Fn(&T) -> &str,
) -> Result<T, bool> {
    let form: T = forms::parse(body);
    if !csrf::session_ok(&v.who, csrf_of(&form)) {
        return Err(true);
    }
    if !v.is_staff() {
        return Err(false);
    }
    Ok(form)
}

fn turned_away(v: &Visitor, csrf_failed: bool) -> Response {
    if csrf_failed {
        csrf_failed_page(v.lang)
    } else {
        v.forbidden()
    }
}

fn back(location_id: &str, date: &str, done: &str) -> Response {
    let date = date
        .trim()
        .parse::<Date>()
        .map(|d| format!("date={d}&"))
        .unwrap_or_default();
    see_other(&format!("/clinic/{location_id}/day?{date}done={done}"))
}

async fn refused(
    state: &AppState,
    v: &Visitor,
    location_id: &str,
    date: &str,
    e: BookingError,
    form: Option<BookForm>,
) -> Response {
    if is_internal(&e) {
        return v.internal("a clinic action", &e);
    }
    let q = DayQuery {
        date: date.to_owned(),
        slot: form.as_ref().map(|f| f.slot_id.clone()).unwrap_or_default(),
        ..DayQuery::default()
    };
    // At the desk, a taken or blocked time can still be booked, with a recorded override.
    let problem = match &e {
        BookingError::Taken { .. } if form.is_some() => message(v.lang, "clinic.error.taken", &[]),
        BookingError::Refused(why) if form.is_some() && why.contains("blocked") => {
            message(v.lang, "clinic.error.blocked", &[])
        }
        _ => explain(v.lang, &e),
    };
    let outcome = Outcome {
        status: Some(status_of(&e)),
        problem: Some(problem),
        form,
        ..Outcome::default()
    };
    day_page(state, v, location_id, &q, outcome).await
}

pub async fn mark(
    State(state): State<AppState>,
    v: Visitor,
    Path(location_id): Path<String>,
    body: Bytes,
) -> Response {
    let form: ActionForm = match staff_form(&v, &body, |f: &ActionForm| &f.csrf) {
        Ok(f) => f,
        Err(csrf_failed) => return turned_away(&v, csrf_failed),
    };
    let Some(mark) = Mark::parse(form.mark.trim()) else {
        let e = BookingError::invalid(message(v.lang, "clinic.error.mark", &[]));
        return refused(&state, &v, &location_id, &form.date, e, None).await;
    };
    let id = form.appointment_id.trim();
    let done = state
        .booking
        .mark(&v.staff_actor(), id, mark, Timestamp::now())
        .await;
    v.audit(&state, "update", "Appointment", Some(id), done.is_ok())
        .await;
    match done {
        Ok(()) => back(&location_id, &form.date, form.mark.trim()),
        Err(e) => refused(&state, &v, &location_id, &form.date, e, None).await,
    }
}

pub async fn block(
    State(state): State<AppState>,
    v: Visitor,
    Path(location_id): Path<String>,
    body: Bytes,
) -> Response {
    let form: ActionForm = match staff_form(&v, &body, |f: &ActionForm| &f.csrf) {
        Ok(f) => f,
        Err(csrf_failed) => return turned_away(&v, csrf_failed),
    };
    let blocked = ticked(&form.blocked);
    let slot = form.slot_id.trim();
    let done = state.booking.block(&v.staff_actor(), slot, blocked).await;
    v.audit(&state, "update", "Slot", Some(slot), done.is_ok())
        .await;
    match done {
        Ok(()) => back(
            &location_id,
            &form.date,
            if blocked { "blocked" } else { "unblocked" },
        ),
        Err(e) => refused(&state, &v, &location_id, &form.date, e, None).await,
    }
}

pub async fn book(
    State(state): State<AppState>,
    v: Visitor,
    Path(location_id): Path<String>,
    body: Bytes,
) -> Response {
    let form: BookForm = match staff_form(&v, &body, |f: &BookForm| &f.csrf) {
        Ok(f) => f,
        Err(csrf_failed) => return turned_away(&v, csrf_failed),
    };
    let lang = v.lang;
    let mut errors = FieldErrors::default();
    let patient_id = match (form.patient_id.trim(), form.patient_pick.trim()) {
        ("", "") => {
            errors.add("patient_id", message(lang, "clinic.error.patient", &[]));
            String::new()
        }
        ("", picked) => picked.to_owned(),
        (typed, _) => typed.trim_start_matches("Patient/").to_owned(),
    };
    let reason = forms::free_text(&form.reason, 500)
        .map_err(|k| errors.add("reason", message(lang, k, &[("max", "500".into())])))
        .unwrap_or_default();
    let overbook = if ticked(&form.overbook) {
        match forms::free_text(&form.overbook_reason, 300) {
            Ok(Some(r)) => Some(r),
            Ok(None) => {
                errors.add(
                    "overbook_reason",
                    message(lang, "clinic.error.overbook_reason", &[]),
                );
                None
            }
            Err(k) => {
                errors.add(
                    "overbook_reason",
                    message(lang, k, &[("max", "300".into())]),
                );
                None
            }
        }
    } else {
        None
    };
    if !errors.is_empty() {
        let q = DayQuery {
            date: form.date.clone(),
            slot: form.slot_id.clone(),
            ..DayQuery::default()
        };
        let outcome = Outcome {
            status: Some(StatusCode::UNPROCESSABLE_ENTITY),
            form: Some(form),
            errors,
            ..Outcome::default()
        };
        return day_page(&state, &v, &location_id, &q, outcome).await;
    }
    let mut request = BookRequest {
        slot_id: form.slot_id.trim().to_owned(),
        patient_id,
        reason,
        hold: None,
        overbook: None,
        triage: None,
    };
    // An overbooking does not hold its slot: a time that is in fact free is booked normally
    // (holding it), and the override is used and recorded only when the time is taken or
    // blocked.
    let actor = v.staff_actor();
    let mut done = state.booking.book(&actor, &request, Timestamp::now()).await;
    let needs_override = matches!(
        &done,
        Err(BookingError::Taken { .. }) | Err(BookingError::Refused(_))
    );
    if overbook.is_some() && needs_override {
        request.overbook = overbook;
        done = state.booking.book(&actor, &request, Timestamp::now()).await;
    }
    v.audit(
        &state,
        "create",
        "Appointment",
        done.as_ref().ok().map(|b| b.appointment_id.as_str()),
        done.is_ok(),
    )
    .await;
    match done {
        Ok(_) => back(&location_id, &form.date, "booked"),
        Err(e) => {
            let date = form.date.clone();
            refused(&state, &v, &location_id, &date, e, Some(form)).await
        }
    }
}
