//! `/book`: find a free time by specialty, modality, language, place and date; the first
//! free times per clinician, earliest or nearest first; "first available anywhere"; and the
//! waitlist when nothing suits. With htmx the results replace themselves in place
//! (`HX-Request`: only the results are sent); without JavaScript the form is a plain GET.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use carefront_booking::scheduling::jiff::civil::Date;
use carefront_booking::scheduling::jiff::tz::{Offset, TimeZone};
use carefront_booking::scheduling::jiff::Timestamp;
use carefront_booking::scheduling::Modality;
use carefront_booking::{IndexedSchedule, SlotQuery, Sort, WaitRequest};
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::display::{self, offer_view, OfferView};
use super::{explain, is_internal, status_of, Visitor};
use crate::web::admin::Choice;
use crate::web::csrf;
use crate::web::dashboard::user_context;
use crate::web::forms::{self, message, FieldErrors};
use crate::web::i18n::translate;
use crate::web::page::{csrf_failed_page, see_other};
use crate::AppState;

/// Clinicians shown per search, and free times per clinician.
const RESULTS: usize = 20;
const TIMES: usize = 6;

#[derive(Deserialize, Serialize, Default, Clone, Debug)]
#[serde(default)]
pub struct SearchForm {
    pub specialty: String,
    /// `in-clinic`, `video`, `home`, or empty for any.
    pub modality: String,
    pub language: String,
    /// A clinic (Location id) to measure distances from.
    pub near: String,
    /// Or a position typed as `latitude,longitude`.
    pub near_text: String,
    /// The first day to look at, `YYYY-MM-DD`.
    pub date: String,
    /// `earliest` (default) or `nearest`.
    pub sort: String,
    /// Choosing a new time for this appointment.
    pub reschedule: String,
    /// "First available anywhere": search with no filter at all.
    pub anywhere: String,
}

impl SearchForm {
    /// Whether the visitor asked for results (the bare page shows only the form).
    fn searched(&self) -> bool {
        !self.anywhere.is_empty()
            || [
                &self.specialty,
                &self.modality,
                &self.language,
                &self.near,
                &self.near_text,
                &self.date,
                &self.sort,
                &self.reschedule,
            ]
            .iter()
            .any(|v| !v.trim().is_empty())
    }
}

/// The choices of the search form, from the schedules open for booking.
#[derive(Serialize, Default)]
pub struct Options {
    pub specialties: Vec<Choice>,
    pub languages: Vec<Choice>,
    pub clinics: Vec<Choice>,
    pub modalities: Vec<Choice>,
    #[serde(skip)]
    positions: BTreeMap<String, (f64, f64)>,
}

pub fn options(lang: &str, schedules: &[IndexedSchedule]) -> Options {
    let mut specialties: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut languages: BTreeMap<String, ()> = BTreeMap::new();
    let mut clinics: BTreeMap<String, String> = BTreeMap::new();
    let mut positions = BTreeMap::new();
    for s in schedules {
        if !s.specialty.is_empty() {
            let names = specialties.entry(s.specialty.clone()).or_default();
            if !s.specialty_name.is_empty() && !names.contains(&s.specialty_name) {
                names.push(s.specialty_name.clone());
            }
        }
        for l in s.languages.split_whitespace() {
            languages.insert(l.to_owned(), ());
        }
        if let Some(p) = s.position {
            clinics.insert(s.location_id.clone(), s.location_name.clone());
            positions.insert(s.location_id.clone(), p);
        }
    }
    let mut specialties: Vec<Choice> = specialties
        .into_iter()
        .map(|(code, names)| Choice {
            label: if names.is_empty() {
                code.clone()
            } else {
                names.join(" / ")
            },
            value: code,
        })
        .collect();
    specialties.sort_by_key(|c| c.label.to_lowercase());
    let languages = languages
        .into_keys()
        .map(|code| Choice {
            label: display::language_name(lang, &code),
            value: code,
        })
        .collect();
    let mut clinics: Vec<Choice> = clinics
        .into_iter()
        .map(|(value, label)| Choice { value, label })
        .collect();
    clinics.sort_by_key(|c| c.label.to_lowercase());
    let modalities = Modality::ALL
        .iter()
        .map(|m| Choice {
            value: m.code().to_owned(),
            label: translate(lang, &display::modality_key(m.code())).into_owned(),
        })
        .collect();
    Options {
        specialties,
        languages,
        clinics,
        modalities,
        positions,
    }
}

/// `48.8566,2.3522`, `48.8566 2.3522` or, with decimal commas, `48,8566 2,3522`.
pub fn position(text: &str) -> Option<(f64, f64)> {
    let t = text.trim();
    let parts: Vec<String> = if t.contains(char::is_whitespace) {
        t.split(|c: char| c.is_whitespace() || c == ';')
            .map(|p| p.trim_end_matches(',').replace(',', "."))
            .filter(|p| !p.is_empty())
            .collect()
    } else {
        t.split(',').map(str::to_owned).collect()
    };
    let [lat, lon] = parts.as_slice() else {
        return None;
    };
    let number = |s: &str| -> Option<f64> {
        let s = s.trim();
        let plain = s
            .char_indices()
            .all(|(i, c)| c.is_ascii_digit() || c == '.' || (i == 0 && (c == '-' || c == '+')));
        plain.then(|| s.parse::<f64>().ok()).flatten()
    };
    let (lat, lon) = (number(lat)?, number(lon)?);
    (lat.is_finite() && lon.is_finite() && lat.abs() <= 90.0 && lon.abs() <= 180.0)
        .then_some((lat, lon))
}

/// The earliest instant that is `date` somewhere on Earth (midnight at UTC+14): slots are
/// then kept from the day in their own clinic's zone.
fn earliest_instant_of(date: Date) -> Option<Timestamp> {
    let zone = TimeZone::fixed(Offset::constant(14));
    zone.to_timestamp(
        date.to_datetime(carefront_booking::scheduling::jiff::civil::Time::midnight()),
    )
    .ok()
}

/// A checked search.
pub struct ValidSearch {
    pub query: SlotQuery,
    pub first_day: Option<Date>,
}

pub fn validate(f: &SearchForm, lang: &str, options: &Options) -> Result<ValidSearch, FieldErrors> {
    let mut errors = FieldErrors::default();
    let mut query = SlotQuery {
        sort: Sort::Earliest,
        limit: RESULTS,
        // More than shown: some may fall before the first day in their clinic's zone.
        slots_per_result: TIMES * 2,
        ..SlotQuery::default()
    };
    let mut first_day = None;
    if f.anywhere.is_empty() {
        let specialty = f.specialty.trim();
        if !specialty.is_empty() {
            query.specialty = Some(specialty.to_owned());
        }
        match f.modality.trim() {
            "" | "any" => {}
            m => match Modality::parse(m) {
                Some(m) => query.modality = Some(m),
                None => errors.add("modality", message(lang, "book.error.modality", &[])),
            },
        }
        let language = f.language.trim();
        if !language.is_empty() {
            query.language = Some(language.to_owned());
        }
        if !f.near_text.trim().is_empty() {
            match position(&f.near_text) {
                Some(p) => query.near = Some(p),
                None => errors.add("near_text", message(lang, "book.error.position", &[])),
            }
        } else if !f.near.trim().is_empty() {
            match options.positions.get(f.near.trim()) {
                Some(p) => query.near = Some(*p),
                None => errors.add("near", message(lang, "book.error.clinic", &[])),
            }
        }
        if !f.date.trim().is_empty() {
            match f.date.trim().parse::<Date>() {
                Ok(d) => {
                    first_day = Some(d);
                    query.from = earliest_instant_of(d);
                }
                Err(_) => errors.add("date", message(lang, "book.error.date", &[])),
            }
        }
        match f.sort.trim() {
            "" | "earliest" => {}
            "nearest" if query.near.is_some() => query.sort = Sort::Nearest,
            "nearest" => errors.add("sort", message(lang, "book.error.sort_place", &[])),
            _ => errors.add("sort", message(lang, "book.error.sort", &[])),
        }
    }
    if errors.is_empty() {
        Ok(ValidSearch { query, first_day })
    } else {
        Err(errors)
    }
}

/// The appointment being moved, as the page names it.
#[derive(Serialize)]
struct Moving {
    id: String,
    when: String,
    practitioner: String,
}

#[derive(Deserialize, Serialize, Default, Clone, Debug)]
#[serde(default)]
pub struct WaitlistForm {
    pub specialty: String,
    pub modality: String,
    /// The last day the patient could come, `YYYY-MM-DD`.
    pub until: String,
    #[serde(skip_serializing)]
    pub csrf: String,
}

struct Extra<'a> {
    waitlist: &'a WaitlistForm,
    waitlist_errors: &'a FieldErrors,
    status: StatusCode,
}

pub async fn show(
    State(state): State<AppState>,
    v: Visitor,
    Query(form): Query<SearchForm>,
    headers: HeaderMap,
) -> Response {
    let partial = headers.contains_key("hx-request") && !headers.contains_key("hx-boosted");
    let waitlist = WaitlistForm {
        specialty: form.specialty.clone(),
        modality: form.modality.clone(),
        ..WaitlistForm::default()
    };
    let extra = Extra {
        waitlist: &waitlist,
        waitlist_errors: &FieldErrors::default(),
        status: StatusCode::OK,
    };
    render(&state, &v, &form, extra, partial).await
}

async fn render(
    state: &AppState,
    v: &Visitor,
    form: &SearchForm,
    extra: Extra<'_>,
    partial: bool,
) -> Response {
    let lang = v.lang;
    let schedules = match state.booking.indexed_schedules(None).await {
        Ok(s) => s,
        Err(e) => return v.internal("listing schedules", &e),
    };
    let options = options(lang, &schedules);
    let now = Timestamp::now();
    // Moving an appointment: only the patient's own, and only a booked one.
    let mut moving = None;
    if !form.reschedule.trim().is_empty() {
        let Some(pid) = v.patient_id() else {
            return v.patient_only();
        };
        let id = form.reschedule.trim();
        match super::appointments::own_appointment(state, v, pid, id).await {
            Ok(a) if a.status == "booked" => {
                moving = Some(Moving {
                    id: id.to_owned(),
                    when: a
                        .start
                        .as_deref()
                        .map(|s| display::long(lang, s))
                        .unwrap_or_default(),
                    practitioner: a.practitioner_name.clone(),
                })
            }
            Ok(_) => return super::appointments::cannot_move_page(v),
            Err(page) => return page,
        }
    }
    let searched = form.searched();
    let mut errors = FieldErrors::default();
    let mut problem: Option<String> = None;
    let mut status = extra.status;
    let mut offers: Vec<OfferView> = Vec::new();
    if searched {
        match validate(form, lang, &options) {
            Ok(valid) => match state.booking.search(&valid.query, now).await {
                Ok(found) => {
                    offers = found
                        .iter()
                        .map(|o| {
                            let mut o = o.clone();
                            if let Some(first) = valid.first_day {
                                o.slots.retain(|s| {
                                    display::local(&s.start).is_some_and(|t| t.date() >= first)
                                });
                            }
                            offer_view(lang, &o, TIMES)
                        })
                        .filter(|o| !o.slots.is_empty())
                        .collect();
                }
                Err(e) if is_internal(&e) => return v.internal("searching slots", &e),
                Err(e) => {
                    status = status_of(&e);
                    problem = Some(explain(lang, &e));
                }
            },
            Err(e) => {
                status = StatusCode::UNPROCESSABLE_ENTITY;
                errors = e;
            }
        }
    }
    let role = v.role.as_str();
    let ctx = context! {
        lang,
        user => user_context(&v.who),
        role,
        patient => v.patient_id().is_some(),
        staff => v.is_staff(),
        values => form,
        options,
        errors,
        problem,
        searched,
        offers,
        moving,
        waitlist => extra.waitlist,
        waitlist_errors => extra.waitlist_errors,
        today => now.to_zoned(TimeZone::UTC).date().to_string(),
        partial,
    };
    // htmx swaps only successful answers in: what is wrong is said inside the results.
    if partial {
        return v.render(StatusCode::OK, "_book_results.html", ctx);
    }
    v.render(status, "book.html", ctx)
}

pub async fn join_waitlist(State(state): State<AppState>, v: Visitor, body: Bytes) -> Response {
    let lang = v.lang;
    let form: WaitlistForm = forms::parse(&body);
    if !csrf::session_ok(&v.who, &form.csrf) {
        return csrf_failed_page(lang);
    }
    let Some(pid) = v.patient_id().map(str::to_owned) else {
        return v.patient_only();
    };
    let now = Timestamp::now();
    let mut errors = FieldErrors::default();
    let specialty = form.specialty.trim();
    if specialty.is_empty() {
        errors.add(
            "wl_specialty",
            message(lang, "book.waitlist.specialty_needed", &[]),
        );
    }
    let modality = match form.modality.trim() {
        "" | "any" => None,
        m => {
            let parsed = Modality::parse(m);
            if parsed.is_none() {
                errors.add("wl_modality", message(lang, "book.error.modality", &[]));
            }
            parsed
        }
    };
    // The whole last day counts (until its end, in UTC).
    let until = form
        .until
        .trim()
        .parse::<Date>()
        .ok()
        .and_then(|d| d.tomorrow().ok())
        .and_then(|d| {
            TimeZone::UTC
                .to_timestamp(
                    d.to_datetime(carefront_booking::scheduling::jiff::civil::Time::midnight()),
                )
                .ok()
        });
    match until {
        None => errors.add("wl_until", message(lang, "book.error.date", &[])),
        Some(u) if u <= now => errors.add("wl_until", message(lang, "book.waitlist.future", &[])),
        Some(_) => {}
    }
    let Some(until) = until.filter(|_| errors.is_empty()) else {
        return waitlist_again(&state, &v, &form, &errors, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let request = WaitRequest {
        specialty: specialty.to_owned(),
        modality,
        practitioner_id: None,
        until,
    };
    let actor = carefront_booking::Actor::Patient(pid.clone());
    match state
        .booking
        .join_waitlist(&actor, &pid, &request, now)
        .await
    {
        Ok(id) => {
            v.audit(&state, "create", "Appointment", Some(&id), true)
                .await;
            see_other("/appointments?waitlisted=true")
        }
        Err(e) if is_internal(&e) => {
            v.audit(&state, "create", "Appointment", None, false).await;
            v.internal("joining the waitlist", &e)
        }
        Err(e) => {
            let mut errors = FieldErrors::default();
            errors.add("wl_specialty", explain(lang, &e));
            waitlist_again(&state, &v, &form, &errors, status_of(&e)).await
        }
    }
}

/// The search page again, with what is wrong with the waitlist form.
async fn waitlist_again(
    state: &AppState,
    v: &Visitor,
    form: &WaitlistForm,
    errors: &FieldErrors,
    status: StatusCode,
) -> Response {
    let search = SearchForm {
        specialty: form.specialty.clone(),
        modality: form.modality.clone(),
        ..SearchForm::default()
    };
    let extra = Extra {
        waitlist: form,
        waitlist_errors: errors,
        status,
    };
    render(state, v, &search, extra, false).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(id: &str, specialty: &str, name: &str, location: &str) -> IndexedSchedule {
        IndexedSchedule {
            schedule_id: id.into(),
            role_id: "r".into(),
            practitioner_id: "p".into(),
            practitioner_name: "Dr P".into(),
            organization_id: "o".into(),
            location_id: location.into(),
            location_name: format!("Clinic {location}"),
            service_id: None,
            modality: "in-clinic".into(),
            specialty: specialty.into(),
            specialty_name: name.into(),
            languages: " fr en ".into(),
            position: Some((48.85, 2.35)),
            zone: "Europe/Paris".into(),
            notice_s: 3600,
            horizon_s: 86400 * 30,
            cancel_notice_s: 86400,
        }
    }

    #[test]
    fn options_merge_the_names_of_one_specialty() {
        let o = options(
            "en",
            &[
                schedule("a", "394814009", "Médecine générale", "l1"),
                schedule("b", "394814009", "Family medicine", "l2"),
                schedule("c", "nursing", "Nursing", "l1"),
            ],
        );
        assert_eq!(o.specialties.len(), 2);
        let gp = o
            .specialties
            .iter()
            .find(|c| c.value == "394814009")
            .unwrap();
        assert_eq!(gp.label, "Médecine générale / Family medicine");
        assert_eq!(o.clinics.len(), 2);
        assert_eq!(o.languages.len(), 2);
        assert_eq!(o.modalities.len(), 3);
    }

    #[test]
    fn positions_are_read_leniently_but_checked() {
        assert_eq!(position("48.8566,2.3522"), Some((48.8566, 2.3522)));
        assert_eq!(position(" 48.8566, 2.3522 "), Some((48.8566, 2.3522)));
        assert_eq!(position("48,8566 2,3522"), Some((48.8566, 2.3522)));
        assert_eq!(position("-33.9 151.2"), Some((-33.9, 151.2)));
        assert_eq!(position("91,0"), None);
        assert_eq!(position("Paris"), None);
        assert_eq!(position("1e2,3"), None);
    }

    #[test]
    fn a_search_is_checked_field_by_field() {
        let o = options("en", &[schedule("a", "394814009", "GP", "l1")]);
        let f = SearchForm {
            specialty: "394814009".into(),
            modality: "video".into(),
            near: "l1".into(),
            date: "2026-11-24".into(),
            sort: "nearest".into(),
            ..SearchForm::default()
        };
        let v = validate(&f, "en", &o).ok().unwrap();
        assert_eq!(v.query.modality, Some(Modality::Video));
        assert_eq!(v.query.near, Some((48.85, 2.35)));
        assert_eq!(v.query.sort, Sort::Nearest);
        assert_eq!(
            v.query.from.unwrap().to_string(),
            "2026-11-23T10:00:00Z",
            "midnight at UTC+14"
        );
        let bad = SearchForm {
            modality: "teleport".into(),
            near: "nowhere".into(),
            date: "24/11/2026".into(),
            sort: "nearest".into(),
            ..SearchForm::default()
        };
        let e = validate(&bad, "en", &o).err().unwrap();
        for field in ["modality", "near", "date", "sort"] {
            assert!(e.get(field).is_some(), "{field}");
        }
        let anywhere = SearchForm {
            anywhere: "1".into(),
            modality: "teleport".into(),
            ..SearchForm::default()
        };
        let v = validate(&anywhere, "en", &o).ok().unwrap();
        assert!(v.query.specialty.is_none() && v.query.modality.is_none());
        assert!(anywhere.searched());
        assert!(!SearchForm::default().searched());
    }
}
