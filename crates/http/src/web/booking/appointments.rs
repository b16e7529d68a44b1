//! `/appointments`: a patient's visits (upcoming and past), waitlist entries and times
//! offered to them; each visit's page with cancel, reschedule and check-in. Patients only
//! ever reach their own appointments: the page checks the Patient reference, and the service
//! checks it again.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use carefront_booking::scheduling::jiff::Timestamp;
use carefront_booking::scheduling::may_check_in;
use carefront_booking::{Actor, BookRequest, BookingError, Mark};
use minijinja::context;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::display::{self, offer_view, OfferView};
use super::{explain, is_internal, status_of, Visitor};
use crate::web::csrf;
use crate::web::dashboard::user_context;
use crate::web::forms;
use crate::web::i18n::translate;
use crate::web::page::{csrf_failed_page, message_page, see_other};
use crate::web::triage::summary as triage_summary;
use crate::AppState;

/// An appointment as the pages show it, read from the FHIR Appointment.
#[derive(Serialize, Debug, Clone, Default)]
pub struct Appt {
    pub id: String,
    pub status: String,
    pub status_label: String,
    pub start: Option<String>,
    /// `Tuesday 24 November 2026 at 09:20`, in the clinic's time.
    pub when: String,
    /// `Tue 24 Nov 09:20`.
    pub when_short: String,
    /// `09:20`–`09:40`.
    pub clock: String,
    pub clock_end: String,
    /// The clinic-local date, `YYYY-MM-DD`.
    pub date: String,
    pub practitioner_name: String,
    pub practitioner_id: Option<String>,
    pub location_name: Option<String>,
    pub modality: String,
    pub modality_label: String,
    pub specialty: String,
    /// What search knows the specialty by (its code, lower-cased, or its name).
    pub specialty_key: String,
    pub reason: Option<String>,
    pub patient_id: Option<String>,
    pub patient_name: String,
    pub slot_id: Option<String>,
    /// A pending hold: when it lapses (clock time) and whether it still holds.
    pub hold_until: Option<String>,
    pub hold_live: bool,
    /// A waitlist entry: the last day the patient could come.
    pub wait_until: Option<String>,
    pub overbooked: Option<String>,
    pub cancel_reason: Option<String>,
    /// The symptom check (RiskAssessment id) the visit was booked from.
    pub triage: Option<String>,
    #[serde(skip)]
    pub starts_at: Option<Timestamp>,
}

fn reference_id(reference: &Value, resource_type: &str) -> Option<String> {
    reference["reference"]
        .as_str()?
        .strip_prefix(resource_type)?
        .strip_prefix('/')
        .map(str::to_owned)
}

fn actor<'a>(a: &'a Value, resource_type: &str) -> Option<&'a Value> {
    a["participant"]
        .as_array()?
        .iter()
        .map(|p| &p["actor"])
        .find(|actor| reference_id(actor, resource_type).is_some())
}

pub fn appt(lang: &str, a: &Value, now: Timestamp) -> Appt {
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let start = text(&a["start"]);
    let end = text(&a["end"]);
    let status = a["status"].as_str().unwrap_or("").to_owned();
    let modality = a["serviceCategory"][0]["coding"][0]["code"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    let concept = &a["specialty"][0];
    let specialty = concept["text"]
        .as_str()
        .or(concept["coding"][0]["display"].as_str())
        .unwrap_or("")
        .to_owned();
    let specialty_key = concept["coding"][0]["code"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| specialty.clone())
        .to_lowercase();
    let extension = |url: &str| {
        a["extension"]
            .as_array()
            .and_then(|list| list.iter().find(|e| e["url"] == url))
    };
    let hold = extension(carefront_booking::schedule::EXT_HOLD_EXPIRES)
        .and_then(|e| e["valueInstant"].as_str())
        .map(str::to_owned);
    let hold_live = status == "pending"
        && hold
            .as_deref()
            .and_then(|h| h.parse::<Timestamp>().ok())
            .is_some_and(|h| h > now);
    let display_of = |rt: &str| {
        actor(a, rt)
            .and_then(|x| x["display"].as_str())
            .map(str::to_owned)
    };
    Appt {
        id: a["id"].as_str().unwrap_or("").to_owned(),
        status_label: translate(lang, &display::status_key(&status)).into_owned(),
        status,
        when: start
            .as_deref()
            .map(|s| display::long(lang, s))
            .unwrap_or_default(),
        when_short: start
            .as_deref()
            .map(|s| display::short(lang, s))
            .unwrap_or_default(),
        clock: start.as_deref().map(display::clock).unwrap_or_default(),
        clock_end: end.as_deref().map(display::clock).unwrap_or_default(),
        date: start.as_deref().map(display::date_of).unwrap_or_default(),
        starts_at: start.as_deref().and_then(|s| s.parse::<Timestamp>().ok()),
        start,
        practitioner_name: display_of("Practitioner").unwrap_or_default(),
        practitioner_id: actor(a, "Practitioner").and_then(|x| reference_id(x, "Practitioner")),
        location_name: display_of("Location"),
        modality_label: translate(lang, &display::modality_key(&modality)).into_owned(),
        modality,
        specialty,
        specialty_key,
        reason: a["reasonCode"][0]["text"].as_str().map(str::to_owned),
        patient_id: actor(a, "Patient").and_then(|x| reference_id(x, "Patient")),
        patient_name: display_of("Patient").unwrap_or_default(),
        slot_id: a["slot"][0]
            .get("reference")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("Slot/"))
            .map(str::to_owned),
        hold_until: hold.as_deref().map(display::clock),
        hold_live,
        wait_until: a["requestedPeriod"][0]["end"]
            .as_str()
            .and_then(|s| last_day(lang, s)),
        overbooked: carefront_booking::Booking::overbooking(a),
        cancel_reason: a["cancelationReason"]["text"].as_str().map(str::to_owned),
        triage: carefront_booking::triage_of(a),
    }
}

/// The last day a waitlist entry runs to: its end is the end of that day (exclusive), in
/// UTC, as `/book/waitlist` writes it.
fn last_day(lang: &str, end: &str) -> Option<String> {
    let end = end.parse::<Timestamp>().ok()?;
    let day = (end - carefront_booking::scheduling::jiff::SignedDuration::from_secs(1))
        .to_zoned(carefront_booking::scheduling::jiff::tz::TimeZone::UTC)
        .date();
    Some(display::long_date(lang, day))
}

/// An appointment as the lists show it, from the service's list entry (no extra read).
pub fn appt_of_entry(lang: &str, e: &carefront_booking::AgendaEntry, now: Timestamp) -> Appt {
    let modality = e.modality.clone().unwrap_or_default();
    let hold_live = e.status == "pending"
        && e.hold_expires
            .as_deref()
            .and_then(|h| h.parse::<Timestamp>().ok())
            .is_some_and(|h| h > now);
    let start = e.start.clone();
    Appt {
        id: e.appointment_id.clone(),
        status_label: translate(lang, &display::status_key(&e.status)).into_owned(),
        status: e.status.clone(),
        when: start
            .as_deref()
            .map(|s| display::long(lang, s))
            .unwrap_or_default(),
        when_short: start
            .as_deref()
            .map(|s| display::short(lang, s))
            .unwrap_or_default(),
        clock: start.as_deref().map(display::clock).unwrap_or_default(),
        clock_end: e.end.as_deref().map(display::clock).unwrap_or_default(),
        date: start.as_deref().map(display::date_of).unwrap_or_default(),
        starts_at: start.as_deref().and_then(|s| s.parse::<Timestamp>().ok()),
        start,
        practitioner_name: e.practitioner_name.clone(),
        practitioner_id: e.practitioner_id.clone(),
        location_name: e.location_name.clone(),
        modality_label: translate(lang, &display::modality_key(&modality)).into_owned(),
        modality,
        specialty: e.specialty.clone().unwrap_or_default(),
        specialty_key: e.specialty.clone().unwrap_or_default().to_lowercase(),
        reason: e.reason.clone(),
        patient_id: e.patient_id.clone(),
        patient_name: e.patient_name.clone(),
        slot_id: e.slot_id.clone(),
        hold_until: e.hold_expires.as_deref().map(display::clock),
        hold_live,
        wait_until: e.wait_until.as_deref().and_then(|s| last_day(lang, s)),
        overbooked: e.overbooked.clone(),
        cancel_reason: None,
        triage: e.triage.clone(),
    }
}

/// The patient's own appointment `id`, or the page to answer with (404 when it is not
/// theirs: whether someone else's exists is not shown).
pub async fn own_appointment(
    state: &AppState,
    v: &Visitor,
    patient_id: &str,
    id: &str,
) -> Result<Appt, Response> {
    own_json(state, v, patient_id, id)
        .await
        .map(|a| appt(v.lang, &a, Timestamp::now()))
}

async fn own_json(
    state: &AppState,
    v: &Visitor,
    patient_id: &str,
    id: &str,
) -> Result<Value, Response> {
    match state.booking.current(id).await {
        Ok((a, _)) if reference_id_of_patient(&a).as_deref() == Some(patient_id) => {
            v.audit(state, "read", "Appointment", Some(id), true).await;
            Ok(a)
        }
        Ok(_) | Err(BookingError::NotFound(_)) => Err(message_page(
            StatusCode::NOT_FOUND,
            v.lang,
            "appt.not_found.title",
            "appt.not_found.body",
        )),
        Err(BookingError::Repo(e)) if e.status() == 410 || e.status() == 404 => Err(message_page(
            StatusCode::NOT_FOUND,
            v.lang,
            "appt.not_found.title",
            "appt.not_found.body",
        )),
        Err(e) => Err(v.internal("reading an appointment", &e)),
    }
}

fn reference_id_of_patient(a: &Value) -> Option<String> {
    actor(a, "Patient").and_then(|x| reference_id(x, "Patient"))
}

pub fn cannot_move_page(v: &Visitor) -> Response {
    message_page(
        StatusCode::FORBIDDEN,
        v.lang,
        "appt.cannot_move.title",
        "booking.error.cannot_move",
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Notices {
    booked: bool,
    cancelled: bool,
    moved: bool,
    waitlisted: bool,
    checked_in: bool,
    left: bool,
}

impl Notices {
    fn key(&self) -> Option<&'static str> {
        [
            (self.booked, "appt.notice.booked"),
            (self.cancelled, "appt.notice.cancelled"),
            (self.moved, "appt.notice.moved"),
            (self.waitlisted, "appt.notice.waitlisted"),
            (self.checked_in, "appt.notice.checked_in"),
            (self.left, "appt.notice.left"),
        ]
        .into_iter()
        .find_map(|(on, key)| on.then_some(key))
    }
}

/// A patient's appointments sorted into what the list page shows.
#[derive(Serialize, Default, Debug)]
pub struct Sorted {
    pub offers: Vec<Appt>,
    pub upcoming: Vec<Appt>,
    pub waitlist: Vec<Appt>,
    pub past: Vec<Appt>,
}

/// Upcoming: booked (or arrived) and not over; past: the rest that took place or was
/// cancelled. Holds that lapsed (no time left on them) are not shown.
pub fn sort(all: Vec<Appt>, now: Timestamp) -> Sorted {
    let mut out = Sorted::default();
    // Still upcoming until check-in closes.
    let grace = carefront_booking::scheduling::CHECK_IN_CLOSES_AFTER;
    for a in all {
        let future = a.starts_at.is_some_and(|s| s + grace > now);
        match a.status.as_str() {
            "waitlist" => out.waitlist.push(a),
            "pending" if a.hold_live => out.offers.push(a),
            "pending" => {}
            "booked" | "arrived" | "checked-in" if future => out.upcoming.push(a),
            _ if a.start.is_none() => {}
            _ => out.past.push(a),
        }
    }
    out.past.reverse();
    out
}

pub async fn list(
    State(state): State<AppState>,
    v: Visitor,
    Query(notices): Query<Notices>,
) -> Response {
    let Some(pid) = v.patient_id() else {
        return v.patient_only();
    };
    let now = Timestamp::now();
    let entries = match state.booking.appointments_of_patient(pid).await {
        Ok(e) => e,
        Err(e) => {
            v.audit(&state, "search", "Appointment", None, false).await;
            return v.internal("listing appointments", &e);
        }
    };
    v.audit(&state, "search", "Appointment", None, true).await;
    let mut all: Vec<Appt> = entries
        .iter()
        .filter(|e| e.patient_id.as_deref() == Some(pid))
        .map(|e| appt_of_entry(v.lang, e, now))
        .collect();
    all.sort_by_key(|a| a.starts_at.map_or(i64::MAX, |t| t.as_second()));
    let sorted = sort(all, now);
    let ctx = context! {
        lang => v.lang,
        user => user_context(&v.who),
        notice => notices.key(),
        offers => sorted.offers,
        upcoming => sorted.upcoming,
        waitlist => sorted.waitlist,
        past => sorted.past,
    };
    v.render(StatusCode::OK, "appointments.html", ctx)
}

/// What the detail page shows besides the appointment.
#[derive(Default)]
struct Outcome {
    status: Option<StatusCode>,
    notice: Option<&'static str>,
    problem: Option<String>,
    alternatives: Vec<OfferView>,
}

async fn detail_page(
    state: &AppState,
    v: &Visitor,
    patient_id: &str,
    id: &str,
    outcome: Outcome,
) -> Response {
    let now = Timestamp::now();
    let a = match own_json(state, v, patient_id, id).await {
        Ok(a) => a,
        Err(page) => return page,
    };
    let view = appt(v.lang, &a, now);
    let upcoming = view.status == "booked" && view.starts_at.is_some_and(|s| s > now);
    let may_change = state.booking.patient_may_change(&a, now).await;
    let check_in = view.status == "booked" && view.starts_at.is_some_and(|s| may_check_in(s, now));
    let reschedule = {
        let mut params = vec![("reschedule", view.id.as_str())];
        if !view.specialty_key.is_empty() {
            params.push(("specialty", view.specialty_key.as_str()));
        }
        if !view.modality.is_empty() {
            params.push(("modality", view.modality.as_str()));
        }
        format!(
            "/book?{}",
            serde_urlencoded::to_string(params).unwrap_or_default()
        )
    };
    let triage = match &view.triage {
        Some(id) => triage_summary(state, v, id, Some(patient_id)).await,
        None => None,
    };
    let ctx = context! {
        lang => v.lang,
        user => user_context(&v.who),
        a => view,
        triage,
        upcoming,
        may_change,
        check_in,
        reschedule,
        notice => outcome.notice,
        problem => outcome.problem,
        alternatives => outcome.alternatives,
    };
    v.render(
        outcome.status.unwrap_or(StatusCode::OK),
        "appointment.html",
        ctx,
    )
}

pub async fn detail(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    Query(notices): Query<Notices>,
) -> Response {
    let Some(pid) = v.patient_id().map(str::to_owned) else {
        return v.patient_only();
    };
    let outcome = Outcome {
        notice: notices.key(),
        ..Outcome::default()
    };
    detail_page(&state, &v, &pid, &id, outcome).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ActionForm {
    csrf: String,
    reason: String,
    slot_id: String,
}

/// Why a posted action is turned away before it is tried.
enum Turned {
    /// No valid CSRF token: a stale page or another site.
    Csrf,
    /// Not a patient's account.
    NotPatient,
}

impl Turned {
    fn page(self, v: &Visitor) -> Response {
        match self {
            Turned::Csrf => csrf_failed_page(v.lang),
            Turned::NotPatient => v.patient_only(),
        }
    }
}

/// The checks every action on an appointment starts with: a genuine form from a patient.
fn action_form(v: &Visitor, body: &Bytes) -> Result<(String, ActionForm), Turned> {
    let form: ActionForm = forms::parse(body);
    if !csrf::session_ok(&v.who, &form.csrf) {
        return Err(Turned::Csrf);
    }
    match v.patient_id() {
        Some(pid) => Ok((pid.to_owned(), form)),
        None => Err(Turned::NotPatient),
    }
}

/// After a refused action: the appointment's page with what went wrong.
async fn refused(
    state: &AppState,
    v: &Visitor,
    pid: &str,
    id: &str,
    what: &str,
    e: BookingError,
) -> Response {
    if is_internal(&e) {
        return v.internal(what, &e);
    }
    let status = status_of(&e);
    let problem = Some(explain(v.lang, &e));
    let alternatives = match &e {
        BookingError::Taken { alternatives } => alternatives
            .iter()
            .map(|o| offer_view(v.lang, o, 6))
            .collect(),
        _ => Vec::new(),
    };
    let outcome = Outcome {
        status: Some(status),
        problem,
        alternatives,
        ..Outcome::default()
    };
    detail_page(state, v, pid, id, outcome).await
}

/// Audit a patient's change to appointment `id`, then send them on to the page `next`
/// names, or show on the appointment's page why it was refused.
async fn finish<T>(
    state: &AppState,
    v: &Visitor,
    pid: &str,
    id: &str,
    what: &str,
    done: Result<T, BookingError>,
    next: impl FnOnce(T) -> String,
) -> Response {
    v.audit(state, "update", "Appointment", Some(id), done.is_ok())
        .await;
    match done {
        Ok(value) => see_other(&next(value)),
        Err(e) => refused(state, v, pid, id, what, e).await,
    }
}

pub async fn cancel(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (pid, form) = match action_form(&v, &body) {
        Ok(x) => x,
        Err(turned) => return turned.page(&v),
    };
    let reason = match forms::free_text(&form.reason, 500) {
        Ok(r) => r,
        Err(k) => {
            let e = BookingError::invalid(forms::message(v.lang, k, &[("max", "500".into())]));
            return refused(&state, &v, &pid, &id, "cancelling", e).await;
        }
    };
    // A waitlist entry is left rather than cancelled: the notice says so.
    let was_waiting = matches!(
        state.booking.current(&id).await,
        Ok((a, _)) if a["status"] == "waitlist"
    );
    let actor = Actor::Patient(pid.clone());
    let done = state
        .booking
        .cancel(&actor, &id, reason.as_deref(), Timestamp::now())
        .await;
    finish(&state, &v, &pid, &id, "cancelling", done, |()| {
        if was_waiting {
            "/appointments?left=true".to_owned()
        } else {
            format!("/appointments/{id}?cancelled=true")
        }
    })
    .await
}

pub async fn reschedule(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (pid, form) = match action_form(&v, &body) {
        Ok(x) => x,
        Err(turned) => return turned.page(&v),
    };
    let slot = form.slot_id.trim();
    if slot.is_empty() {
        let e = BookingError::invalid(translate(v.lang, "appt.choose_time").into_owned());
        return refused(&state, &v, &pid, &id, "moving", e).await;
    }
    let actor = Actor::Patient(pid.clone());
    let done = state
        .booking
        .reschedule(&actor, &id, slot, Timestamp::now())
        .await;
    finish(&state, &v, &pid, &id, "moving", done, |_| {
        format!("/appointments/{id}?moved=true")
    })
    .await
}

pub async fn check_in(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (pid, _) = match action_form(&v, &body) {
        Ok(x) => x,
        Err(turned) => return turned.page(&v),
    };
    let actor = Actor::Patient(pid.clone());
    let done = state
        .booking
        .mark(&actor, &id, Mark::Arrived, Timestamp::now())
        .await;
    finish(&state, &v, &pid, &id, "checking in", done, |()| {
        format!("/appointments/{id}?checked_in=true")
    })
    .await
}

/// Take a time held for the patient (a waitlist offer, or a hold they started).
pub async fn take(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (pid, form) = match action_form(&v, &body) {
        Ok(x) => x,
        Err(turned) => return turned.page(&v),
    };
    let a = match own_json(&state, &v, &pid, &id).await {
        Ok(a) => a,
        Err(page) => return page,
    };
    let view = appt(v.lang, &a, Timestamp::now());
    let Some(slot_id) = view.slot_id.clone().filter(|_| view.status == "pending") else {
        let e = BookingError::Refused("this hold is no longer pending".into());
        return refused(&state, &v, &pid, &id, "taking an offer", e).await;
    };
    let request = BookRequest {
        slot_id,
        patient_id: pid.clone(),
        reason: forms::free_text(&form.reason, 500).ok().flatten(),
        hold: Some(id.clone()),
        overbook: None,
        triage: None,
    };
    let done = state
        .booking
        .book(&Actor::Patient(pid.clone()), &request, Timestamp::now())
        .await;
    finish(&state, &v, &pid, &id, "taking an offer", done, |b| {
        format!("/appointments/{}?booked=true", b.appointment_id)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn booked(start: &str) -> Value {
        json!({
            "resourceType": "Appointment",
            "id": "a1",
            "status": "booked",
            "start": start,
            "end": "2026-11-24T09:40:00+01:00",
            "serviceCategory": [{ "coding": [{ "code": "in-clinic" }] }],
            "specialty": [{ "coding": [{ "code": "394814009" }], "text": "Médecine générale" }],
            "reasonCode": [{ "text": "sore throat" }],
            "slot": [{ "reference": "Slot/s1" }],
            "participant": [
                { "actor": { "reference": "Patient/p1", "display": "Ada Lovelace" } },
                { "actor": { "reference": "Practitioner/d1", "display": "Dr Who" } },
                { "actor": { "reference": "Location/l1", "display": "Paris Nord" } },
            ],
        })
    }

    #[test]
    fn an_appointment_reads_in_the_clinics_time() {
        let now: Timestamp = "2026-11-20T09:00:00Z".parse().unwrap();
        let a = appt("en", &booked("2026-11-24T09:20:00+01:00"), now);
        assert_eq!(a.when_short, "Tue 24 Nov 09:20");
        assert_eq!((a.clock.as_str(), a.clock_end.as_str()), ("09:20", "09:40"));
        assert_eq!(a.practitioner_name, "Dr Who");
        assert_eq!(a.location_name.as_deref(), Some("Paris Nord"));
        assert_eq!(a.patient_id.as_deref(), Some("p1"));
        assert_eq!(a.slot_id.as_deref(), Some("s1"));
        assert_eq!(a.specialty_key, "394814009");
        assert_eq!(a.modality_label, "In clinic");
        assert_eq!(a.status_label, "Booked");
    }

    #[test]
    fn a_waitlist_entry_runs_to_the_end_of_its_last_day() {
        assert_eq!(
            last_day("en", "2026-12-04T00:00:00+00:00").as_deref(),
            Some("Thursday 3 December 2026")
        );
        assert_eq!(last_day("en", "soon"), None);
    }

    #[test]
    fn visits_are_sorted_into_upcoming_past_and_offers() {
        let now: Timestamp = "2026-11-24T12:00:00Z".parse().unwrap();
        let future = appt("en", &booked("2026-11-25T09:20:00+01:00"), now);
        let past = appt("en", &booked("2026-11-23T09:20:00+01:00"), now);
        let mut hold = booked("2026-11-26T09:20:00+01:00");
        hold["status"] = json!("pending");
        hold["extension"] = json!([{
            "url": carefront_booking::schedule::EXT_HOLD_EXPIRES,
            "valueInstant": "2026-11-24T13:25:00+01:00",
        }]);
        let live = appt("en", &hold, now);
        assert!(live.hold_live);
        let mut lapsed = booked("2026-11-26T09:20:00+01:00");
        lapsed["status"] = json!("cancelled");
        lapsed.as_object_mut().unwrap().remove("start");
        let lapsed = appt("en", &lapsed, now);
        let s = sort(vec![past, future, live, lapsed], now);
        assert_eq!(s.upcoming.len(), 1);
        assert_eq!(s.past.len(), 1);
        assert_eq!(s.offers.len(), 1);
        assert!(s.waitlist.is_empty());
    }
}
