//! `/admin/schedules`: the bookable schedules (one per practitioner role and modality) and
//! their rules: weekly hours, exceptions, visit length, buffer, notice, horizon,
//! cancellation notice. Saving regenerates the slots; booked times the new rules no longer
//! offer are never dropped: they are listed for staff to resolve.

use std::collections::{BTreeMap, HashMap};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use carefront_booking::schedule::{
    day_code, parse_day, parse_time, DAYS, DEFAULT_CANCEL_NOTICE_HOURS, DEFAULT_HORIZON_DAYS,
    DEFAULT_NOTICE_MINUTES, EXT_TIMEZONE,
};
use carefront_booking::scheduling::jiff::civil::{DateTime, Time};
use carefront_booking::scheduling::jiff::Timestamp;
use carefront_booking::scheduling::{
    AvailabilityException, ExceptionKind, Modality, WeeklyHours, MAX_BUFFER_MINUTES,
    MAX_CANCEL_NOTICE_HOURS, MAX_HORIZON_DAYS, MAX_SLOT_MINUTES, MIN_SLOT_MINUTES,
};
use carefront_booking::{BookingError, Conflict, IndexedSchedule, Regenerated, ScheduleSpec};
use minijinja::context;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{display, explain, is_internal};
use crate::web::admin::{list_resources, str_at, Admin, Choice};
use crate::web::csrf;
use crate::web::dashboard::user_context;
use crate::web::forms::message;
use crate::web::i18n::translate;
use crate::web::page::{
    csrf_failed_page, html_status, internal_error_page, lang_cookie, message_page, see_other,
    with_cookie,
};
use crate::AppState;

/// Blank rows offered below the existing ones, to add hours or exceptions.
const BLANK_WEEKLY: usize = 3;
const BLANK_EXCEPTIONS: usize = 2;
/// Rows read from a posted form at most (a form cannot make the server loop forever).
const MAX_ROWS: usize = 64;

fn render(admin: &Admin, status: StatusCode, template: &str, ctx: minijinja::Value) -> Response {
    let r = html_status(status, template, ctx, admin.lang);
    with_cookie(
        r,
        admin.lang_chosen.then(|| lang_cookie(admin.lang)).flatten(),
    )
}

fn failed(admin: &Admin, what: &str, e: &BookingError) -> Response {
    tracing::error!(
        status = e.status(),
        what,
        "admin schedules: booking service failed"
    );
    internal_error_page(admin.lang)
}

#[derive(Serialize)]
struct ListRow {
    id: String,
    practitioner: String,
    specialty: String,
    location: String,
    modality: String,
    zone: String,
    active: bool,
}

async fn active_by_id(state: &AppState) -> HashMap<String, bool> {
    match list_resources(state, "Schedule", &[("_count", "1000")]).await {
        Ok(list) => list
            .into_iter()
            .map(|(id, s)| (id, s["active"].as_bool().unwrap_or(true)))
            .collect(),
        Err(e) => {
            tracing::warn!(
                status = e.status(),
                "admin schedules: reading Schedules failed"
            );
            HashMap::new()
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    created: Option<usize>,
}

pub async fn list(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<ListQuery>,
) -> Response {
    let lang = admin.lang;
    let schedules = match state.booking.indexed_schedules(None).await {
        Ok(s) => s,
        Err(e) => return failed(&admin, "listing", &e),
    };
    let active = active_by_id(&state).await;
    admin
        .audit(&state, "search", Some("Schedule"), None, "success")
        .await;
    let rows: Vec<ListRow> = schedules
        .iter()
        .map(|s| ListRow {
            id: s.schedule_id.clone(),
            practitioner: s.practitioner_name.clone(),
            specialty: s.specialty_name.clone(),
            location: s.location_name.clone(),
            modality: translate(lang, &display::modality_key(&s.modality)).into_owned(),
            zone: s.zone.clone(),
            active: active.get(&s.schedule_id).copied().unwrap_or(true),
        })
        .collect();
    render(
        &admin,
        StatusCode::OK,
        "admin_schedules.html",
        context! { lang, user => user_context(&admin.who), rows, created => q.created },
    )
}

/// One weekly row of the form.
#[derive(Serialize, Deserialize, Default, Clone, Debug, PartialEq)]
pub struct WeeklyRow {
    pub day: String,
    pub start: String,
    pub end: String,
}

/// One exception row of the form (local date-times, `YYYY-MM-DDTHH:MM`).
#[derive(Serialize, Deserialize, Default, Clone, Debug, PartialEq)]
pub struct ExceptionRow {
    pub kind: String,
    pub start: String,
    pub end: String,
    pub note: String,
}

/// The edit form, as shown and as posted.
#[derive(Serialize, Default, Clone, Debug)]
pub struct ScheduleForm {
    pub weekly: Vec<WeeklyRow>,
    pub exceptions: Vec<ExceptionRow>,
    pub slot_minutes: String,
    pub buffer_minutes: String,
    pub notice_minutes: String,
    pub horizon_days: String,
    pub cancel_notice_hours: String,
    pub active: bool,
    pub comment: String,
    #[serde(skip)]
    pub csrf: String,
}

fn minutes_text(t: Time) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

fn local_text(t: DateTime) -> String {
    format!("{}T{:02}:{:02}", t.date(), t.hour(), t.minute())
}

impl ScheduleForm {
    pub fn from_spec(spec: &ScheduleSpec) -> ScheduleForm {
        ScheduleForm {
            weekly: spec
                .weekly
                .iter()
                .map(|w| WeeklyRow {
                    day: day_code(w.day).to_owned(),
                    start: minutes_text(w.start),
                    end: minutes_text(w.end),
                })
                .collect(),
            exceptions: spec
                .exceptions
                .iter()
                .map(|e| ExceptionRow {
                    kind: match e.kind {
                        ExceptionKind::Unavailable => "unavailable",
                        ExceptionKind::Extra => "extra",
                    }
                    .to_owned(),
                    start: local_text(e.start),
                    end: local_text(e.end),
                    note: e.note.clone().unwrap_or_default(),
                })
                .collect(),
            slot_minutes: spec.slot_minutes.to_string(),
            buffer_minutes: spec.buffer_minutes.to_string(),
            notice_minutes: spec.notice_minutes.to_string(),
            horizon_days: spec.horizon_days.to_string(),
            cancel_notice_hours: spec.cancel_notice_hours.to_string(),
            active: spec.active,
            comment: spec.comment.clone().unwrap_or_default(),
            csrf: String::new(),
        }
    }

    /// A posted form: rows come as `day_0`, `start_0`, ... `ex_kind_0`, ...
    pub fn parse(body: &[u8]) -> ScheduleForm {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
        let mut fields: HashMap<String, String> = HashMap::new();
        for (k, v) in pairs {
            fields.entry(k).or_insert(v);
        }
        let get = |k: &str| fields.get(k).cloned().unwrap_or_default();
        let mut weekly = Vec::new();
        let mut exceptions = Vec::new();
        for i in 0..MAX_ROWS {
            if fields.contains_key(&format!("day_{i}")) {
                weekly.push(WeeklyRow {
                    day: get(&format!("day_{i}")),
                    start: get(&format!("start_{i}")),
                    end: get(&format!("end_{i}")),
                });
            }
            if fields.contains_key(&format!("ex_kind_{i}")) {
                exceptions.push(ExceptionRow {
                    kind: get(&format!("ex_kind_{i}")),
                    start: get(&format!("ex_start_{i}")),
                    end: get(&format!("ex_end_{i}")),
                    note: get(&format!("ex_note_{i}")),
                });
            }
        }
        ScheduleForm {
            weekly,
            exceptions,
            slot_minutes: get("slot_minutes"),
            buffer_minutes: get("buffer_minutes"),
            notice_minutes: get("notice_minutes"),
            horizon_days: get("horizon_days"),
            cancel_notice_hours: get("cancel_notice_hours"),
            active: super::ticked(&get("active")),
            comment: get("comment"),
            csrf: get("csrf"),
        }
    }

    /// The form with blank rows to fill in.
    fn with_blanks(mut self) -> ScheduleForm {
        self.weekly
            .retain(|w| !(w.start.trim().is_empty() && w.end.trim().is_empty()));
        self.exceptions
            .retain(|e| !(e.start.trim().is_empty() && e.end.trim().is_empty()));
        self.weekly
            .extend(std::iter::repeat_n(WeeklyRow::default(), BLANK_WEEKLY));
        self.exceptions.extend(std::iter::repeat_n(
            ExceptionRow::default(),
            BLANK_EXCEPTIONS,
        ));
        self
    }
}

/// `2026-12-24T00:00` (what `<input type="datetime-local">` sends), seconds optional.
fn parse_local(text: &str) -> Option<DateTime> {
    let t = text.trim().replace(' ', "T");
    t.parse::<DateTime>().ok()
}

/// Check the form against `base` (the schedule's identity, kept as it is): the new spec, or
/// the message of each wrong field (`weekly_0`, `ex_1`, `slot_minutes`, ...).
pub fn validate(
    f: &ScheduleForm,
    base: &ScheduleSpec,
    lang: &str,
) -> Result<ScheduleSpec, BTreeMap<String, String>> {
    let mut errors: BTreeMap<String, String> = BTreeMap::new();
    let mut weekly = Vec::new();
    for (i, w) in f.weekly.iter().enumerate() {
        if w.start.trim().is_empty() && w.end.trim().is_empty() {
            continue;
        }
        let key = format!("weekly_{i}");
        match (
            parse_day(w.day.trim()),
            parse_time(&w.start),
            parse_time(&w.end),
        ) {
            (Some(day), Some(start), Some(end)) => {
                if start >= end && end != Time::midnight() {
                    errors.insert(key, message(lang, "schedule.error.reversed", &[]));
                } else {
                    weekly.push(WeeklyHours { day, start, end });
                }
            }
            _ => {
                errors.insert(key, message(lang, "schedule.error.weekly", &[]));
            }
        }
    }
    let mut exceptions = Vec::new();
    for (i, e) in f.exceptions.iter().enumerate() {
        if e.start.trim().is_empty() && e.end.trim().is_empty() {
            continue;
        }
        let key = format!("ex_{i}");
        let kind = match e.kind.as_str() {
            "unavailable" => Some(ExceptionKind::Unavailable),
            "extra" => Some(ExceptionKind::Extra),
            _ => None,
        };
        match (kind, parse_local(&e.start), parse_local(&e.end)) {
            (Some(kind), Some(start), Some(end)) if start < end => {
                let note = e.note.trim();
                if note.chars().count() > 200 || note.chars().any(char::is_control) {
                    errors.insert(key, message(lang, "schedule.error.note", &[]));
                } else {
                    exceptions.push(AvailabilityException {
                        kind,
                        start,
                        end,
                        note: (!note.is_empty()).then(|| note.to_owned()),
                    });
                }
            }
            (Some(_), Some(_), Some(_)) => {
                errors.insert(key, message(lang, "schedule.error.reversed", &[]));
            }
            _ => {
                errors.insert(key, message(lang, "schedule.error.exception", &[]));
            }
        }
    }
    let mut number = |field: &str, text: &str, min: u32, max: u32| -> u32 {
        match text.trim().parse::<u32>() {
            Ok(n) if (min..=max).contains(&n) => n,
            _ => {
                errors.insert(
                    field.to_owned(),
                    message(
                        lang,
                        "schedule.error.number",
                        &[("min", min.to_string()), ("max", max.to_string())],
                    ),
                );
                0
            }
        }
    };
    let slot_minutes = number(
        "slot_minutes",
        &f.slot_minutes,
        MIN_SLOT_MINUTES,
        MAX_SLOT_MINUTES,
    );
    let buffer_minutes = number("buffer_minutes", &f.buffer_minutes, 0, MAX_BUFFER_MINUTES);
    let horizon_days = number("horizon_days", &f.horizon_days, 1, MAX_HORIZON_DAYS);
    let notice_minutes = number(
        "notice_minutes",
        &f.notice_minutes,
        0,
        MAX_HORIZON_DAYS * 24 * 60,
    );
    let cancel_notice_hours = number(
        "cancel_notice_hours",
        &f.cancel_notice_hours,
        0,
        MAX_CANCEL_NOTICE_HOURS,
    );
    if horizon_days > 0 && u64::from(notice_minutes) >= u64::from(horizon_days) * 24 * 60 {
        errors.insert(
            "notice_minutes".into(),
            message(lang, "schedule.error.notice_horizon", &[]),
        );
    }
    let comment = f.comment.trim();
    if comment.chars().count() > 500 {
        errors.insert(
            "comment".into(),
            message(lang, "form.text.too_long", &[("max", "500".into())]),
        );
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ScheduleSpec {
        weekly,
        exceptions,
        slot_minutes,
        buffer_minutes,
        notice_minutes,
        horizon_days,
        cancel_notice_hours,
        active: f.active,
        comment: (!comment.is_empty()).then(|| comment.to_owned()),
        ..base.clone()
    })
}

#[derive(Serialize)]
struct ConflictView {
    when: String,
    appointment_id: String,
    day_link: String,
}

fn conflict_views(lang: &str, location_id: &str, list: &[Conflict]) -> Vec<ConflictView> {
    list.iter()
        .map(|c| ConflictView {
            when: display::long(lang, &c.start),
            appointment_id: c.appointment_id.clone(),
            day_link: format!(
                "/clinic/{location_id}/day?date={}",
                display::date_of(&c.start)
            ),
        })
        .collect()
}

#[derive(Serialize)]
struct Heading {
    practitioner: String,
    specialty: String,
    location: String,
    modality: String,
    zone: String,
}

fn heading(lang: &str, spec: &ScheduleSpec, indexed: Option<&IndexedSchedule>) -> Heading {
    Heading {
        practitioner: indexed
            .map(|s| s.practitioner_name.clone())
            .unwrap_or_else(|| format!("PractitionerRole/{}", spec.role_id)),
        specialty: indexed
            .map(|s| s.specialty_name.clone())
            .unwrap_or_default(),
        location: indexed
            .map(|s| s.location_name.clone())
            .unwrap_or_else(|| format!("Location/{}", spec.location_id)),
        modality: translate(lang, &display::modality_key(spec.modality.code())).into_owned(),
        zone: spec.zone_name.clone(),
    }
}

struct EditOutcome {
    status: StatusCode,
    form: ScheduleForm,
    errors: BTreeMap<String, String>,
    problem: Option<String>,
    saved: Option<Regenerated>,
    created: Option<usize>,
}

async fn edit_page(
    state: &AppState,
    admin: &Admin,
    spec: &ScheduleSpec,
    outcome: EditOutcome,
) -> Response {
    let lang = admin.lang;
    let now = Timestamp::now();
    let indexed = match state.booking.indexed_schedules(None).await {
        Ok(list) => list.into_iter().find(|s| s.schedule_id == spec.id),
        Err(e) => return failed(admin, "listing", &e),
    };
    // What the rules as stored leave without a time: shown on every visit of the page.
    let current_conflicts = match state.booking.conflicts(&spec.id, now).await {
        Ok(c) => c,
        Err(e) if is_internal(&e) => return failed(admin, "conflicts", &e),
        Err(_) => Vec::new(),
    };
    let saved = outcome.saved.as_ref().map(|r| {
        context! {
            created => r.created,
            removed => r.removed,
            conflicts => conflict_views(lang, &spec.location_id, &r.conflicts),
        }
    });
    let days: Vec<Choice> = DAYS
        .iter()
        .map(|(code, _)| Choice {
            value: (*code).to_owned(),
            label: translate(lang, &format!("schedule.day.{code}")).into_owned(),
        })
        .collect();
    let ctx = context! {
        lang,
        user => user_context(&admin.who),
        id => spec.id,
        heading => heading(lang, spec, indexed.as_ref()),
        location_id => spec.location_id,
        values => outcome.form.with_blanks(),
        errors => outcome.errors,
        problem => outcome.problem,
        saved,
        created => outcome.created,
        conflicts => conflict_views(lang, &spec.location_id, &current_conflicts),
        days,
    };
    render(admin, outcome.status, "admin_schedule.html", ctx)
}

async fn load(state: &AppState, admin: &Admin, id: &str) -> Result<ScheduleSpec, Response> {
    match state.booking.schedule(id).await {
        Ok(spec) => Ok(spec),
        Err(BookingError::NotFound(_)) => Err(message_page(
            StatusCode::NOT_FOUND,
            admin.lang,
            "schedule.unknown.title",
            "schedule.unknown.body",
        )),
        Err(BookingError::Repo(e)) if e.status() == 404 || e.status() == 410 => Err(message_page(
            StatusCode::NOT_FOUND,
            admin.lang,
            "schedule.unknown.title",
            "schedule.unknown.body",
        )),
        Err(e) if is_internal(&e) => Err(failed(admin, "reading", &e)),
        // A Schedule written by a FHIR client that this form cannot show: say why.
        Err(e) => Err(html_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            "error.html",
            context! {
                lang => admin.lang,
                title => translate(admin.lang, "schedule.unreadable.title"),
                message => e.to_string(),
            },
            admin.lang,
        )),
    }
}

pub async fn edit_show(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Query(q): Query<ListQuery>,
) -> Response {
    let spec = match load(&state, &admin, &id).await {
        Ok(s) => s,
        Err(page) => return page,
    };
    admin
        .audit(&state, "read", Some("Schedule"), Some(&id), "success")
        .await;
    let outcome = EditOutcome {
        status: StatusCode::OK,
        form: ScheduleForm::from_spec(&spec),
        errors: BTreeMap::new(),
        problem: None,
        saved: None,
        created: q.created,
    };
    edit_page(&state, &admin, &spec, outcome).await
}

pub async fn edit_submit(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let lang = admin.lang;
    let form = ScheduleForm::parse(&body);
    if !csrf::session_ok(&admin.who, &form.csrf) {
        return csrf_failed_page(lang);
    }
    let base = match load(&state, &admin, &id).await {
        Ok(s) => s,
        Err(page) => return page,
    };
    let spec = match validate(&form, &base, lang) {
        Ok(s) => s,
        Err(errors) => {
            let outcome = EditOutcome {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                form,
                errors,
                problem: None,
                saved: None,
                created: None,
            };
            return edit_page(&state, &admin, &base, outcome).await;
        }
    };
    let saved = state.booking.save_schedule(&spec, Timestamp::now()).await;
    admin
        .audit(
            &state,
            "update",
            Some("Schedule"),
            Some(&id),
            if saved.is_ok() { "success" } else { "error" },
        )
        .await;
    match saved {
        Ok(r) => {
            let outcome = EditOutcome {
                status: StatusCode::OK,
                form: ScheduleForm::from_spec(&spec),
                errors: BTreeMap::new(),
                problem: None,
                saved: Some(r),
                created: None,
            };
            edit_page(&state, &admin, &spec, outcome).await
        }
        Err(e) if is_internal(&e) => failed(&admin, "saving", &e),
        Err(e) => {
            let outcome = EditOutcome {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                form,
                errors: BTreeMap::new(),
                problem: Some(explain(lang, &e)),
                saved: None,
                created: None,
            };
            edit_page(&state, &admin, &base, outcome).await
        }
    }
}

#[derive(Deserialize, Serialize, Default, Clone, Debug)]
#[serde(default)]
pub struct NewForm {
    pub role: String,
    /// Empty: the role's own (first) location.
    pub location: String,
    pub modality: String,
    #[serde(skip_serializing)]
    pub csrf: String,
}

/// The roles and places to choose from, with what a new schedule copies from them.
struct Catalogue {
    roles: Vec<Choice>,
    locations: Vec<Choice>,
    role_json: HashMap<String, Value>,
    location_json: HashMap<String, Value>,
}

async fn catalogue(state: &AppState) -> Result<Catalogue, carefront_store::repository::RepoError> {
    let found = list_resources(
        state,
        "PractitionerRole",
        &[
            ("_count", "1000"),
            ("_include", "PractitionerRole:practitioner"),
        ],
    )
    .await?;
    let mut names: HashMap<String, String> = HashMap::new();
    let mut role_json = HashMap::new();
    for (id, r) in found {
        match r["resourceType"].as_str() {
            Some("Practitioner") => {
                let name = &r["name"][0];
                let text = name["text"].as_str().map(str::to_owned).unwrap_or_else(|| {
                    let mut parts: Vec<&str> = Vec::new();
                    for key in ["prefix", "given"] {
                        if let Some(list) = name[key].as_array() {
                            parts.extend(list.iter().filter_map(Value::as_str));
                        }
                    }
                    parts.extend(name["family"].as_str());
                    parts.join(" ")
                });
                names.insert(id, text);
            }
            _ => {
                role_json.insert(id, r);
            }
        }
    }
    let locations_found = list_resources(state, "Location", &[("_count", "1000")]).await?;
    let mut locations: Vec<Choice> = locations_found
        .iter()
        .map(|(id, l)| Choice {
            value: id.clone(),
            label: str_at(l, &["name"]).to_owned(),
        })
        .collect();
    locations.sort_by_key(|c| c.label.to_lowercase());
    let location_json: HashMap<String, Value> = locations_found.into_iter().collect();
    let mut roles: Vec<Choice> = role_json
        .iter()
        .map(|(id, r)| {
            let practitioner = r["practitioner"]["reference"]
                .as_str()
                .and_then(|p| p.strip_prefix("Practitioner/"))
                .and_then(|p| names.get(p).cloned())
                .or_else(|| r["practitioner"]["display"].as_str().map(str::to_owned))
                .unwrap_or_else(|| id.clone());
            let specialty = r["specialty"][0]["text"]
                .as_str()
                .or(r["specialty"][0]["coding"][0]["display"].as_str())
                .unwrap_or("");
            let place = r["location"][0]["display"].as_str().unwrap_or("");
            let mut label = practitioner;
            if !specialty.is_empty() {
                label = format!("{label} — {specialty}");
            }
            if !place.is_empty() {
                label = format!("{label} ({place})");
            }
            Choice {
                value: id.clone(),
                label,
            }
        })
        .collect();
    roles.sort_by_key(|c| c.label.to_lowercase());
    Ok(Catalogue {
        roles,
        locations,
        role_json,
        location_json,
    })
}

/// A role's `availableTime` as weekly hours (the starting point of its schedule).
pub fn weekly_from_role(role: &Value) -> Vec<WeeklyHours> {
    let mut out = Vec::new();
    for a in role["availableTime"].as_array().into_iter().flatten() {
        let all_day = a["allDay"].as_bool() == Some(true);
        let (start, end) = if all_day {
            (Some(Time::midnight()), Some(Time::midnight()))
        } else {
            (
                a["availableStartTime"].as_str().and_then(parse_time),
                a["availableEndTime"].as_str().and_then(parse_time),
            )
        };
        let (Some(start), Some(end)) = (start, end) else {
            continue;
        };
        for d in a["daysOfWeek"].as_array().into_iter().flatten() {
            if let Some(day) = d.as_str().and_then(parse_day) {
                out.push(WeeklyHours { day, start, end });
            }
        }
    }
    out
}

async fn new_page(
    state: &AppState,
    admin: &Admin,
    status: StatusCode,
    form: &NewForm,
    errors: &crate::web::forms::FieldErrors,
    existing: Option<String>,
) -> Response {
    let lang = admin.lang;
    let cat = match catalogue(state).await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(status = e.status(), "admin schedules: listing roles failed");
            return internal_error_page(lang);
        }
    };
    let modalities: Vec<Choice> = Modality::ALL
        .iter()
        .map(|m| Choice {
            value: m.code().to_owned(),
            label: translate(lang, &display::modality_key(m.code())).into_owned(),
        })
        .collect();
    render(
        admin,
        status,
        "admin_schedule_new.html",
        context! {
            lang,
            user => user_context(&admin.who),
            roles => cat.roles,
            locations => cat.locations,
            modalities,
            values => form,
            errors,
            existing,
        },
    )
}

pub async fn new_show(State(state): State<AppState>, admin: Admin) -> Response {
    let form = NewForm {
        modality: Modality::InClinic.code().to_owned(),
        ..NewForm::default()
    };
    new_page(
        &state,
        &admin,
        StatusCode::OK,
        &form,
        &Default::default(),
        None,
    )
    .await
}

pub async fn new_submit(State(state): State<AppState>, admin: Admin, body: Bytes) -> Response {
    let lang = admin.lang;
    let form: NewForm = crate::web::forms::parse(&body);
    if !csrf::session_ok(&admin.who, &form.csrf) {
        return csrf_failed_page(lang);
    }
    let cat = match catalogue(&state).await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(status = e.status(), "admin schedules: listing roles failed");
            return internal_error_page(lang);
        }
    };
    let mut errors = crate::web::forms::FieldErrors::default();
    let role = cat.role_json.get(form.role.trim());
    if role.is_none() {
        errors.add("role", message(lang, "schedule.new.error.role", &[]));
    }
    let modality = Modality::parse(form.modality.trim());
    if modality.is_none() {
        errors.add("modality", message(lang, "book.error.modality", &[]));
    }
    let location_id = match form.location.trim() {
        "" => role.and_then(|r| {
            r["location"][0]["reference"]
                .as_str()
                .and_then(|l| l.strip_prefix("Location/"))
                .map(str::to_owned)
        }),
        l => Some(l.to_owned()),
    };
    let location = location_id.as_ref().and_then(|l| cat.location_json.get(l));
    let zone = location.and_then(|l| {
        l["extension"]
            .as_array()?
            .iter()
            .find(|e| e["url"] == EXT_TIMEZONE)?["valueCode"]
            .as_str()
            .map(str::to_owned)
    });
    match (&location, &zone) {
        (None, _) if role.is_some() => errors.add(
            "location",
            message(lang, "schedule.new.error.location", &[]),
        ),
        (Some(_), None) => errors.add("location", message(lang, "schedule.new.error.zone", &[])),
        _ => {}
    }
    let (Some(role), Some(modality), Some(location_id), Some(zone)) =
        (role, modality, location_id, zone)
    else {
        return new_page(
            &state,
            &admin,
            StatusCode::UNPROCESSABLE_ENTITY,
            &form,
            &errors,
            None,
        )
        .await;
    };
    if !errors.is_empty() {
        return new_page(
            &state,
            &admin,
            StatusCode::UNPROCESSABLE_ENTITY,
            &form,
            &errors,
            None,
        )
        .await;
    }
    let role_id = form.role.trim().to_owned();
    let id = ScheduleSpec::id_for(&role_id, modality);
    if state.booking.schedule(&id).await.is_ok() {
        errors.add("role", message(lang, "schedule.new.error.exists", &[]));
        return new_page(
            &state,
            &admin,
            StatusCode::CONFLICT,
            &form,
            &errors,
            Some(id),
        )
        .await;
    }
    let spec = ScheduleSpec {
        id: id.clone(),
        active: true,
        role_id,
        location_id,
        service_id: None,
        modality,
        zone_name: zone,
        weekly: weekly_from_role(role),
        exceptions: Vec::new(),
        slot_minutes: 20,
        buffer_minutes: 0,
        notice_minutes: DEFAULT_NOTICE_MINUTES,
        horizon_days: DEFAULT_HORIZON_DAYS,
        cancel_notice_hours: DEFAULT_CANCEL_NOTICE_HOURS,
        comment: None,
    };
    let saved = state.booking.save_schedule(&spec, Timestamp::now()).await;
    admin
        .audit(
            &state,
            "create",
            Some("Schedule"),
            Some(&id),
            if saved.is_ok() { "success" } else { "error" },
        )
        .await;
    match saved {
        Ok(r) => see_other(&format!("/admin/schedules/{id}?created={}", r.created)),
        Err(e) if is_internal(&e) => failed(&admin, "creating", &e),
        Err(e) => {
            errors.add("role", explain(lang, &e));
            new_page(
                &state,
                &admin,
                StatusCode::UNPROCESSABLE_ENTITY,
                &form,
                &errors,
                None,
            )
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use carefront_booking::scheduling::jiff::civil::{date, Weekday};
    use serde_json::json;

    fn base() -> ScheduleSpec {
        ScheduleSpec {
            id: "sch-r1-in-clinic".into(),
            active: true,
            role_id: "r1".into(),
            location_id: "l1".into(),
            service_id: None,
            modality: Modality::InClinic,
            zone_name: "Europe/Paris".into(),
            weekly: vec![WeeklyHours {
                day: Weekday::Monday,
                start: Time::constant(9, 0, 0, 0),
                end: Time::constant(12, 0, 0, 0),
            }],
            exceptions: vec![AvailabilityException {
                kind: ExceptionKind::Unavailable,
                start: date(2026, 12, 24).at(0, 0, 0, 0),
                end: date(2026, 12, 27).at(0, 0, 0, 0),
                note: Some("Christmas".into()),
            }],
            slot_minutes: 20,
            buffer_minutes: 0,
            notice_minutes: 60,
            horizon_days: 56,
            cancel_notice_hours: 24,
            comment: None,
        }
    }

    #[test]
    fn the_form_round_trips_a_schedule() {
        let form = ScheduleForm::from_spec(&base());
        assert_eq!(form.weekly[0].start, "09:00");
        assert_eq!(form.exceptions[0].start, "2026-12-24T00:00");
        let back = validate(&form.clone().with_blanks(), &base(), "en").unwrap();
        assert_eq!(back.weekly, base().weekly);
        assert_eq!(back.exceptions, base().exceptions);
        assert_eq!(back.slot_minutes, 20);
    }

    #[test]
    fn a_posted_form_is_read_row_by_row() {
        let body = b"csrf=x&day_0=tue&start_0=08%3A30&end_0=12%3A00&day_1=mon&start_1=&end_1=\
            &ex_kind_0=extra&ex_start_0=2026-12-05T09%3A00&ex_end_0=2026-12-05T12%3A00&ex_note_0=Saturday\
            &slot_minutes=15&buffer_minutes=5&notice_minutes=120&horizon_days=30\
            &cancel_notice_hours=12&active=on";
        let form = ScheduleForm::parse(body);
        assert_eq!(form.weekly.len(), 2);
        assert!(form.active);
        let spec = validate(&form, &base(), "en").unwrap();
        assert_eq!(spec.weekly.len(), 1, "the blank row is skipped");
        assert_eq!(spec.weekly[0].day, Weekday::Tuesday);
        assert_eq!(spec.exceptions[0].kind, ExceptionKind::Extra);
        assert_eq!(spec.exceptions[0].note.as_deref(), Some("Saturday"));
        assert_eq!(
            (spec.slot_minutes, spec.buffer_minutes, spec.horizon_days),
            (15, 5, 30)
        );
        assert_eq!(spec.id, "sch-r1-in-clinic", "identity kept");
    }

    #[test]
    fn wrong_rows_and_numbers_are_named() {
        let form = ScheduleForm {
            weekly: vec![
                WeeklyRow {
                    day: "mon".into(),
                    start: "12:00".into(),
                    end: "09:00".into(),
                },
                WeeklyRow {
                    day: "xyz".into(),
                    start: "09:00".into(),
                    end: "10:00".into(),
                },
            ],
            exceptions: vec![ExceptionRow {
                kind: "unavailable".into(),
                start: "tomorrow".into(),
                end: "2026-12-01T00:00".into(),
                note: String::new(),
            }],
            slot_minutes: "2".into(),
            buffer_minutes: "0".into(),
            notice_minutes: "100000".into(),
            horizon_days: "1".into(),
            cancel_notice_hours: "x".into(),
            ..ScheduleForm::default()
        };
        let e = validate(&form, &base(), "fr").unwrap_err();
        for key in [
            "weekly_0",
            "weekly_1",
            "ex_0",
            "slot_minutes",
            "notice_minutes",
            "cancel_notice_hours",
        ] {
            let m = e.get(key).unwrap_or_else(|| panic!("{key}"));
            assert!(!m.starts_with("schedule."), "{m}");
        }
    }

    #[test]
    fn a_roles_available_time_becomes_weekly_hours() {
        let role = json!({ "availableTime": [
            { "daysOfWeek": ["mon", "tue"], "availableStartTime": "08:30:00", "availableEndTime": "18:00:00" },
            { "daysOfWeek": ["sat"], "allDay": true },
        ]});
        let w = weekly_from_role(&role);
        assert_eq!(w.len(), 3);
        assert_eq!(w[0].start, Time::constant(8, 30, 0, 0));
        assert_eq!(w[2].end, Time::midnight());
        assert_eq!(w[0].end, Time::constant(18, 0, 0, 0));
    }
}
