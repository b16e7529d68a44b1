//! `/agenda`: a clinician's day or week (`?date=YYYY-MM-DD&view=day|week`): who comes when
//! and why, free times lighter, blocked times marked; in the clinic's time zone.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use carefront_auth::Role;
use carefront_booking::scheduling::jiff::civil::Date;
use carefront_booking::scheduling::jiff::tz::TimeZone;
use carefront_booking::scheduling::jiff::{Span, Timestamp};
use carefront_booking::scheduling::{local_day, week_start};
use carefront_booking::{AgendaEntry, AgendaSlot};
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::display;
use super::Visitor;
use crate::web::dashboard::user_context;
use crate::web::i18n::translate;
use crate::web::page::message_page;
use crate::web::triage::{summary as triage_summary, Summary};
use crate::AppState;

#[derive(Deserialize, Default, Debug)]
#[serde(default)]
pub struct AgendaQuery {
    pub date: String,
    /// `day` (default) or `week`.
    pub view: String,
}

/// One line of an agenda: an appointment, a free time or a blocked time.
#[derive(Serialize, Debug, Clone)]
pub struct Row {
    /// `appointment`, `free` or `blocked`.
    pub kind: &'static str,
    pub start: String,
    pub clock: String,
    pub clock_end: String,
    pub appointment_id: Option<String>,
    pub slot_id: Option<String>,
    pub status: String,
    pub status_label: String,
    pub patient_name: String,
    pub reason: Option<String>,
    pub practitioner_name: String,
    pub location_name: Option<String>,
    pub modality: String,
    pub modality_label: String,
    pub overbooked: Option<String>,
    /// Whether it has begun (set by pages that act on it).
    pub started: bool,
    /// Free or blocked times run together into this row (see [`compact`]).
    pub count: usize,
    /// The symptom check the visit was booked from (see [`add_triage`]).
    pub triage: Option<Summary>,
    /// The RiskAssessment id and the appointment's patient, to look the summary up.
    #[serde(skip)]
    pub triage_ref: Option<(String, String)>,
    #[serde(skip)]
    pub starts_at: i64,
}

/// A day of an agenda.
#[derive(Serialize, Debug)]
pub struct DayView {
    pub date: String,
    pub label: String,
    pub short: String,
    pub rows: Vec<Row>,
    pub appointments: usize,
}

/// Appointments a day's list does not show: cancelled ones free their time, which shows as
/// free; a record entered in error is no visit.
fn shown(e: &AgendaEntry) -> bool {
    !matches!(
        e.status.as_str(),
        "cancelled" | "entered-in-error" | "waitlist"
    )
}

pub fn rows(lang: &str, entries: &[AgendaEntry], slots: &[AgendaSlot]) -> Vec<Row> {
    let mut rows: Vec<Row> = entries
        .iter()
        .filter(|e| shown(e))
        .map(|e| {
            let modality = e.modality.clone().unwrap_or_default();
            Row {
                kind: "appointment",
                start: e.start.clone().unwrap_or_default(),
                clock: e.start.as_deref().map(display::clock).unwrap_or_default(),
                clock_end: e.end.as_deref().map(display::clock).unwrap_or_default(),
                appointment_id: Some(e.appointment_id.clone()),
                slot_id: e.slot_id.clone(),
                status_label: translate(lang, &display::status_key(&e.status)).into_owned(),
                status: e.status.clone(),
                patient_name: e.patient_name.clone(),
                reason: e.reason.clone(),
                practitioner_name: e.practitioner_name.clone(),
                location_name: e.location_name.clone(),
                modality_label: translate(lang, &display::modality_key(&modality)).into_owned(),
                modality,
                overbooked: e.overbooked.clone(),
                started: false,
                count: 1,
                triage: None,
                triage_ref: e.triage.clone().zip(e.patient_id.clone()),
                starts_at: e.starts_at.unwrap_or(i64::MAX),
            }
        })
        .collect();
    for s in slots {
        let blocked = s.status == "busy-unavailable";
        let status = if blocked { "blocked" } else { "free" };
        rows.push(Row {
            kind: status,
            start: s.start.clone(),
            clock: display::clock(&s.start),
            clock_end: display::clock(&s.end),
            appointment_id: None,
            slot_id: Some(s.slot_id.clone()),
            status: status.to_owned(),
            status_label: translate(lang, &format!("agenda.{status}")).into_owned(),
            patient_name: String::new(),
            reason: None,
            practitioner_name: s.practitioner_name.clone(),
            location_name: Some(s.location_name.clone()),
            modality_label: translate(lang, &display::modality_key(&s.modality)).into_owned(),
            modality: s.modality.clone(),
            overbooked: None,
            started: false,
            count: 1,
            triage: None,
            triage_ref: None,
            starts_at: s.starts_at,
        });
    }
    // Appointments before free times at the same instant (an overbooking shares a time).
    rows.sort_by_key(|r| {
        (
            r.starts_at,
            r.kind != "appointment",
            r.practitioner_name.clone(),
        )
    });
    rows
}

/// The symptom checks the appointments were booked from, on their rows.
pub async fn add_triage(state: &AppState, v: &Visitor, rows: &mut [Row]) {
    for r in rows.iter_mut() {
        if let Some((id, patient)) = &r.triage_ref {
            r.triage = triage_summary(state, v, id, Some(patient)).await;
        }
    }
}

/// Consecutive free (or blocked) times of one clinician and modality as one row: a week
/// reads as "free 08:30–11:50" rather than ten lines.
pub fn compact(rows: Vec<Row>) -> Vec<Row> {
    let mut out: Vec<Row> = Vec::with_capacity(rows.len());
    for r in rows {
        if let Some(last) = out.last_mut() {
            let joins = r.kind != "appointment"
                && last.kind == r.kind
                && last.modality == r.modality
                && last.practitioner_name == r.practitioner_name
                && last.clock_end == r.clock
                && display::date_of(&last.start) == display::date_of(&r.start);
            if joins {
                last.clock_end = r.clock_end;
                last.count += 1;
                continue;
            }
        }
        out.push(r);
    }
    out
}

/// `rows` laid out over `days` (every day shown, empty or not).
pub fn by_day(lang: &str, days: &[Date], rows: Vec<Row>) -> Vec<DayView> {
    let mut out: Vec<DayView> = days
        .iter()
        .map(|d| DayView {
            date: d.to_string(),
            label: display::long_date(lang, *d),
            short: display::short_date(lang, *d),
            rows: Vec::new(),
            appointments: 0,
        })
        .collect();
    for r in rows {
        let date = display::date_of(&r.start);
        if let Some(day) = out.iter_mut().find(|d| d.date == date) {
            if r.kind == "appointment" {
                day.appointments += 1;
            }
            day.rows.push(r);
        }
    }
    out
}

pub fn add_days(d: Date, n: i64) -> Date {
    d.checked_add(Span::new().days(n)).unwrap_or(d)
}

/// The days and instants a view covers: one day, or Monday to Sunday.
pub fn period(tz: &TimeZone, date: Date, week: bool) -> (Vec<Date>, Timestamp, Timestamp) {
    let days: Vec<Date> = if week {
        let monday = week_start(date);
        (0..7).map(|i| add_days(monday, i)).collect()
    } else {
        vec![date]
    };
    let from = local_day(tz, days[0]).0;
    let to = local_day(tz, days[days.len() - 1]).1;
    (days, from, to)
}

/// The chosen day (within reason: 1970 to 2999), or today in `tz`.
pub fn chosen_day(text: &str, tz: &TimeZone) -> Date {
    text.trim()
        .parse::<Date>()
        .ok()
        .filter(|d| (1970..=2999).contains(&d.year()))
        .unwrap_or_else(|| Timestamp::now().to_zoned(tz.clone()).date())
}

pub fn zone_or_utc(name: Option<&str>) -> TimeZone {
    name.and_then(|n| TimeZone::get(n).ok())
        .unwrap_or(TimeZone::UTC)
}

#[derive(Serialize)]
struct Nav {
    prev: String,
    next: String,
    today: String,
    day: String,
    week: String,
}

pub async fn show(
    State(state): State<AppState>,
    v: Visitor,
    Query(q): Query<AgendaQuery>,
) -> Response {
    if v.role != Role::Practitioner {
        return v.forbidden();
    }
    let Some(pid) = v.practitioner_id().map(str::to_owned) else {
        return message_page(
            StatusCode::FORBIDDEN,
            v.lang,
            "agenda.no_record.title",
            "agenda.no_record.body",
        );
    };
    let lang = v.lang;
    let schedules = match state.booking.indexed_schedules(Some(&pid)).await {
        Ok(s) => s,
        Err(e) => return v.internal("listing schedules", &e),
    };
    let tz = zone_or_utc(schedules.first().map(|s| s.zone.as_str()));
    let week = q.view == "week";
    let date = chosen_day(&q.date, &tz);
    let (days, from, to) = period(&tz, date, week);
    let (entries, slots) = match state
        .booking
        .agenda(std::slice::from_ref(&pid), None, from, to)
        .await
    {
        Ok(x) => x,
        Err(e) => {
            v.audit(&state, "search", "Appointment", None, false).await;
            return v.internal("reading an agenda", &e);
        }
    };
    v.audit(&state, "search", "Appointment", None, true).await;
    let step = if week { 7 } else { 1 };
    let view = if week { "week" } else { "day" };
    let link = |d: Date, view: &str| format!("/agenda?date={d}&view={view}");
    let nav = Nav {
        prev: link(add_days(date, -step), view),
        next: link(add_days(date, step), view),
        today: format!("/agenda?view={view}"),
        day: link(date, "day"),
        week: link(date, "week"),
    };
    let name = schedules
        .first()
        .map(|s| s.practitioner_name.clone())
        .unwrap_or_else(|| v.who.account.display_name.clone());
    let clinics: Vec<(String, String)> = {
        let mut c: Vec<(String, String)> = schedules
            .iter()
            .map(|s| (s.location_id.clone(), s.location_name.clone()))
            .collect();
        c.sort();
        c.dedup();
        c
    };
    let total = entries.iter().filter(|e| shown(e)).count();
    let mut all = rows(lang, &entries, &slots);
    add_triage(&state, &v, &mut all).await;
    let ctx = context! {
        lang,
        user => user_context(&v.who),
        name,
        view,
        date => date.to_string(),
        title => if week {
            format!("{} – {}", display::long_date(lang, days[0]), display::long_date(lang, days[6]))
        } else {
            display::long_date(lang, date)
        },
        days => by_day(lang, &days, if week { compact(all) } else { all }),
        nav,
        total,
        zone => tz.iana_name().unwrap_or("UTC"),
        has_schedule => !schedules.is_empty(),
        clinics => clinics.iter().map(|(id, name)| context! { id, name }).collect::<Vec<_>>(),
    };
    v.render(StatusCode::OK, "agenda.html", ctx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use carefront_booking::scheduling::jiff::civil::date;

    #[test]
    fn a_week_runs_monday_to_sunday_in_the_clinics_zone() {
        let tz = TimeZone::get("Europe/Paris").unwrap();
        let (days, from, to) = period(&tz, date(2026, 11, 26), true);
        assert_eq!(days.len(), 7);
        assert_eq!(days[0], date(2026, 11, 23));
        assert_eq!(from.to_string(), "2026-11-22T23:00:00Z");
        assert_eq!(to.to_string(), "2026-11-29T23:00:00Z");
        let (days, _, _) = period(&tz, date(2026, 11, 26), false);
        assert_eq!(days, vec![date(2026, 11, 26)]);
    }

    #[test]
    fn odd_dates_fall_back_to_today() {
        let tz = TimeZone::UTC;
        let today = Timestamp::now().to_zoned(tz.clone()).date();
        assert_eq!(chosen_day("2026-11-24", &tz), date(2026, 11, 24));
        for odd in ["", "tomorrow", "9999-12-31", "-009999-01-01", "0001-01-01"] {
            assert_eq!(chosen_day(odd, &tz), today, "{odd}");
        }
    }

    #[test]
    fn rows_fall_on_their_local_day() {
        let slot = AgendaSlot {
            slot_id: "s1".into(),
            start: "2026-11-24T09:20:00+01:00".into(),
            end: "2026-11-24T09:40:00+01:00".into(),
            starts_at: 1,
            status: "busy-unavailable".into(),
            practitioner_name: "Dr Who".into(),
            location_name: "Paris".into(),
            modality: "in-clinic".into(),
        };
        let r = rows("en", &[], &[slot]);
        assert_eq!(r[0].kind, "blocked");
        let days = by_day("en", &[date(2026, 11, 23), date(2026, 11, 24)], r);
        assert!(days[0].rows.is_empty());
        assert_eq!(days[1].rows.len(), 1);
        assert_eq!(days[1].rows[0].clock, "09:20");
    }

    #[test]
    fn consecutive_free_times_run_together() {
        let slot = |start: &str, end: &str| AgendaSlot {
            slot_id: start.into(),
            start: format!("2026-11-24T{start}:00+01:00"),
            end: format!("2026-11-24T{end}:00+01:00"),
            starts_at: start.replace(':', "").parse().unwrap(),
            status: "free".into(),
            practitioner_name: "Dr Who".into(),
            location_name: "Paris".into(),
            modality: "video".into(),
        };
        let r = compact(rows(
            "en",
            &[],
            &[
                slot("09:00", "09:20"),
                slot("09:20", "09:40"),
                slot("10:00", "10:20"),
            ],
        ));
        assert_eq!(r.len(), 2);
        assert_eq!(
            (r[0].clock.as_str(), r[0].clock_end.as_str(), r[0].count),
            ("09:00", "09:40", 2)
        );
    }
}
