//! Finding free slots: which clinicians offer the visit asked for (specialty, modality,
//! language, place), and each one's first free times, sorted by earliest or nearest.
//!
//! Two steps, both on the booking indexes: the candidate schedules (a few hundred rows at
//! most, filtered and measured in memory), then the first free slots of each candidate in
//! one statement of per-schedule subqueries, each an index range scan that stops after a few
//! rows, so the cost grows with the number of clinicians shown, not with the slots stored.

use std::collections::HashMap;

use carefront_scheduling::jiff::Timestamp;
use carefront_scheduling::{booking_window, distance_km, Modality, Rules};
use carefront_store::sql::{Dialect, Sql};
use carefront_store::{Cell, Store};
use serde::Serialize;

use crate::error::BookingError;
use crate::schedule::zone;
use crate::time::{from_seconds, instant_text, seconds};

/// How results are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    #[default]
    Earliest,
    Nearest,
}

impl Sort {
    pub fn parse(text: &str) -> Option<Sort> {
        match text {
            "earliest" => Some(Sort::Earliest),
            "nearest" => Some(Sort::Nearest),
            _ => None,
        }
    }
}

/// What a patient is looking for. Every filter is optional: none at all is "first available
/// anywhere".
#[derive(Debug, Clone, Default)]
pub struct SlotQuery {
    /// A specialty code (SNOMED CT) or its name, case-insensitive.
    pub specialty: Option<String>,
    pub modality: Option<Modality>,
    /// A BCP 47 language code the clinician speaks (`fr`, `en`).
    pub language: Option<String>,
    /// (latitude, longitude) to measure distances from.
    pub near: Option<(f64, f64)>,
    /// Only places within this distance of `near`.
    pub within_km: Option<f64>,
    pub role_id: Option<String>,
    pub practitioner_id: Option<String>,
    pub location_id: Option<String>,
    /// Slots starting at or after (defaults to now).
    pub from: Option<Timestamp>,
    /// Slots starting before.
    pub to: Option<Timestamp>,
    pub sort: Sort,
    /// How many clinicians (schedules) to show; at most [`MAX_RESULTS`].
    pub limit: usize,
    /// How many free times per clinician; at most [`MAX_SLOTS_PER_RESULT`].
    pub slots_per_result: usize,
    /// Staff booking on a patient's behalf are not held to notice and horizon.
    pub ignore_notice: bool,
}

pub const MAX_RESULTS: usize = 50;
pub const MAX_SLOTS_PER_RESULT: usize = 12;
/// Candidate schedules whose first slots are fetched in one statement.
const CHUNK: usize = 64;

/// One clinician at one place and modality, with their first free times.
#[derive(Debug, Clone, Serialize)]
pub struct Offer {
    pub schedule_id: String,
    pub role_id: String,
    pub practitioner_id: String,
    pub practitioner_name: String,
    pub location_id: String,
    pub location_name: String,
    pub modality: String,
    pub specialty: String,
    pub languages: Vec<String>,
    pub zone: String,
    pub distance_km: Option<f64>,
    pub slots: Vec<OfferedSlot>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OfferedSlot {
    pub slot_id: String,
    /// FHIR instants with the clinic's offset.
    pub start: String,
    pub end: String,
    #[serde(skip)]
    pub starts_at: i64,
}

/// A bookable schedule as indexed.
#[derive(Debug, Clone)]
pub struct IndexedSchedule {
    pub schedule_id: String,
    pub role_id: String,
    pub practitioner_id: String,
    pub practitioner_name: String,
    pub organization_id: String,
    pub location_id: String,
    pub location_name: String,
    pub service_id: Option<String>,
    pub modality: String,
    pub specialty: String,
    pub specialty_name: String,
    pub languages: String,
    pub position: Option<(f64, f64)>,
    pub zone: String,
    pub notice_s: i64,
    pub horizon_s: i64,
    pub cancel_notice_s: i64,
}

impl IndexedSchedule {
    /// The schedule's patient rules (notice, horizon, cancellation notice) in its zone.
    pub fn policy(&self) -> Result<Rules, BookingError> {
        let mut rules = Rules::new(zone(&self.zone)?);
        rules.notice_minutes = (self.notice_s / 60) as u32;
        rules.horizon_days = (self.horizon_s / 86_400) as u32;
        rules.cancel_notice_hours = (self.cancel_notice_s / 3_600) as u32;
        Ok(rules)
    }
}

pub(crate) const SCHEDULE_COLUMNS: &str = "schedule_id, role_id, practitioner_id, \
    practitioner_name, organization_id, location_id, location_name, service_id, modality, \
    specialty, specialty_name, languages, latitude, longitude, zone, notice_s, horizon_s, \
    cancel_notice_s";

pub(crate) fn schedule_from_row(r: &[Cell]) -> IndexedSchedule {
    let text = |i: usize| r.get(i).and_then(Cell::text).unwrap_or("").to_owned();
    let float = |i: usize| match r.get(i) {
        Some(Cell::Float(f)) => Some(*f),
        Some(Cell::Int(n)) => Some(*n as f64),
        _ => None,
    };
    let int = |i: usize| r.get(i).and_then(Cell::int).unwrap_or(0);
    IndexedSchedule {
        schedule_id: text(0),
        role_id: text(1),
        practitioner_id: text(2),
        practitioner_name: text(3),
        organization_id: text(4),
        location_id: text(5),
        location_name: text(6),
        service_id: r.get(7).and_then(Cell::text).map(str::to_owned),
        modality: text(8),
        specialty: text(9),
        specialty_name: text(10),
        languages: text(11),
        position: float(12).zip(float(13)),
        zone: text(14),
        notice_s: int(15),
        horizon_s: int(16),
        cancel_notice_s: int(17),
    }
}

/// Search free slots as of `now`.
pub async fn search(
    store: &dyn Store,
    query: &SlotQuery,
    now: Timestamp,
) -> Result<Vec<Offer>, BookingError> {
    let dialect = Dialect::of(store.backend());
    let limit = query.limit.clamp(1, MAX_RESULTS);
    let per = query.slots_per_result.clamp(1, MAX_SLOTS_PER_RESULT);
    if query.within_km.is_some() && query.near.is_none() {
        return Err(BookingError::invalid(
            "a distance limit needs a place to measure from",
        ));
    }
    let mut candidates = candidates(store, dialect, query).await?;
    let distance = |s: &IndexedSchedule| match (query.near, s.position) {
        (Some(here), Some(there)) => Some(distance_km(here, there)),
        _ => None,
    };
    let mut measured: Vec<(Option<f64>, IndexedSchedule)> =
        candidates.drain(..).map(|s| (distance(&s), s)).collect();
    if let (Some(max), Some(_)) = (query.within_km, query.near) {
        measured.retain(|(d, _)| d.is_some_and(|d| d <= max));
    }
    if query.sort == Sort::Nearest {
        measured.sort_by(|a, b| {
            let key = |d: Option<f64>| d.unwrap_or(f64::INFINITY);
            key(a.0).total_cmp(&key(b.0))
        });
    }
    let from = query.from.unwrap_or(now).max(now);
    if query.sort == Sort::Earliest && measured.len() > CHUNK {
        // Many candidates ("first available anywhere"): find the clinicians with the
        // earliest free times from the time-ordered index instead of asking each one.
        measured = earliest_candidates(store, dialect, measured, from, query, now, limit).await?;
    }
    let mut offers = Vec::new();
    // Nearest first: most clinicians have free times, so a few more than asked for is
    // usually enough and the next chunk is only read when some had none.
    let chunk_size = match query.sort {
        Sort::Nearest => (limit + limit / 2 + 2).min(CHUNK),
        Sort::Earliest => CHUNK,
    };
    for chunk in measured.chunks(chunk_size) {
        let slots = first_free(store, dialect, chunk, from, query, now, per).await?;
        for ((distance, schedule), slots) in chunk.iter().zip(slots) {
            if slots.is_empty() {
                continue;
            }
            offers.push(offer(schedule, *distance, slots)?);
        }
        // Nearest first: the next chunk is farther, so enough found means done.
        if query.sort == Sort::Nearest && offers.len() >= limit {
            break;
        }
    }
    if query.sort == Sort::Earliest {
        offers.sort_by_key(|o| o.slots[0].starts_at);
    }
    offers.truncate(limit);
    Ok(offers)
}

/// Rows read per step of the time-ordered scan, and the most it reads in all.
const SCAN_PAGE: i64 = 500;
const SCAN_MAX: usize = 20_000;

/// The `limit` candidates whose first bookable free time comes earliest, in that order.
async fn earliest_candidates(
    store: &dyn Store,
    dialect: Dialect,
    measured: Vec<(Option<f64>, IndexedSchedule)>,
    from: Timestamp,
    query: &SlotQuery,
    now: Timestamp,
    limit: usize,
) -> Result<Vec<(Option<f64>, IndexedSchedule)>, BookingError> {
    let mut windows = HashMap::new();
    let mut policies = Windows::default();
    for (i, (_, schedule)) in measured.iter().enumerate() {
        let (lo, hi) = policies.of(schedule, from, query, now)?;
        if lo < hi {
            windows.insert(schedule.schedule_id.clone(), (i, lo, hi));
        }
    }
    let Some(start) = windows.values().map(|w| w.1).min() else {
        return Ok(Vec::new());
    };
    let end = windows.values().map(|w| w.2).max().unwrap_or(start);
    let mut chosen: Vec<usize> = Vec::new();
    let mut after = (start, String::new());
    let mut read = 0;
    while chosen.len() < limit && read < SCAN_MAX {
        let mut s = Sql::new(dialect);
        s.push(
            "SELECT slot_id, schedule_id, starts_at FROM slot_index \
             WHERE status = 'free' AND appointment_id IS NULL AND starts_at < ",
        )
        .bind_int(end)
        // The plain lower bound lets the index range start here (the OR below alone does
        // not, and the scan would read every past free slot first).
        .push(" AND starts_at >= ")
        .bind_int(after.0)
        .push(" AND (starts_at > ")
        .bind_int(after.0)
        .push(" OR (starts_at = ")
        .bind_int(after.0)
        .push(" AND slot_id > ")
        .bind_text(&after.1)
        .push(")) ORDER BY starts_at, slot_id LIMIT ")
        .bind_int(SCAN_PAGE);
        let rows = store.query(s).await?;
        read += rows.len();
        for row in &rows {
            let text = |i: usize| row.get(i).and_then(Cell::text).unwrap_or("");
            let at = row.get(2).and_then(Cell::int).unwrap_or(0);
            after = (at, text(0).to_owned());
            if let Some(&(i, lo, hi)) = windows.get(text(1)) {
                if at >= lo && at < hi && !chosen.contains(&i) {
                    chosen.push(i);
                    if chosen.len() == limit {
                        break;
                    }
                }
            }
        }
        if (rows.len() as i64) < SCAN_PAGE {
            break;
        }
    }
    let mut measured: Vec<Option<(Option<f64>, IndexedSchedule)>> =
        measured.into_iter().map(Some).collect();
    Ok(chosen
        .into_iter()
        .filter_map(|i| measured[i].take())
        .collect())
}

/// The booking windows of one search, computed once per zone, notice and horizon (a
/// network has hundreds of schedules but few distinct policies).
#[derive(Default)]
struct Windows(HashMap<(String, i64, i64), (i64, i64)>);

impl Windows {
    /// The start times a schedule may offer now: from `from` (and its notice) to the end of
    /// the query (and its horizon), as Unix seconds [lo, hi).
    fn of(
        &mut self,
        schedule: &IndexedSchedule,
        from: Timestamp,
        query: &SlotQuery,
        now: Timestamp,
    ) -> Result<(i64, i64), BookingError> {
        let (mut lo, mut hi) = (seconds(from), query.to.map_or(i64::MAX, seconds));
        if !query.ignore_notice {
            let key = (schedule.zone.clone(), schedule.notice_s, schedule.horizon_s);
            let (earliest, latest) = match self.0.get(&key) {
                Some(w) => *w,
                None => {
                    let (e, l) = booking_window(&schedule.policy()?, now);
                    let w = (seconds(e), seconds(l));
                    self.0.insert(key, w);
                    w
                }
            };
            lo = lo.max(earliest);
            hi = hi.min(latest);
        }
        Ok((lo, hi))
    }
}

fn offer(
    s: &IndexedSchedule,
    distance: Option<f64>,
    slots: Vec<(String, i64, i64)>,
) -> Result<Offer, BookingError> {
    let tz = zone(&s.zone)?;
    Ok(Offer {
        schedule_id: s.schedule_id.clone(),
        role_id: s.role_id.clone(),
        practitioner_id: s.practitioner_id.clone(),
        practitioner_name: s.practitioner_name.clone(),
        location_id: s.location_id.clone(),
        location_name: s.location_name.clone(),
        modality: s.modality.clone(),
        specialty: s.specialty_name.clone(),
        languages: s.languages.split_whitespace().map(str::to_owned).collect(),
        zone: s.zone.clone(),
        distance_km: distance.map(|d| (d * 10.0).round() / 10.0),
        slots: slots
            .into_iter()
            .map(|(slot_id, start, end)| OfferedSlot {
                slot_id,
                start: instant_text(from_seconds(start), &tz),
                end: instant_text(from_seconds(end), &tz),
                starts_at: start,
            })
            .collect(),
    })
}

async fn candidates(
    store: &dyn Store,
    dialect: Dialect,
    query: &SlotQuery,
) -> Result<Vec<IndexedSchedule>, BookingError> {
    let mut s = Sql::new(dialect);
    s.push("SELECT ")
        .push(SCHEDULE_COLUMNS)
        .push(" FROM schedule_index WHERE active = 1");
    if let Some(specialty) = &query.specialty {
        let key = specialty.trim().to_lowercase();
        s.push(" AND (specialty = ")
            .bind_text(&key)
            .push(" OR LOWER(specialty_name) = ")
            .bind_text(&key)
            .push(")");
    }
    if let Some(m) = query.modality {
        s.push(" AND modality = ").bind_text(m.code());
    }
    if let Some(language) = &query.language {
        let code = language.trim().to_lowercase();
        if code.is_empty() || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(BookingError::invalid(
                "a language is a code such as fr or en",
            ));
        }
        s.push(" AND languages LIKE ")
            .bind_text(&format!("% {code} %"));
    }
    for (column, value) in [
        ("role_id", &query.role_id),
        ("practitioner_id", &query.practitioner_id),
        ("location_id", &query.location_id),
    ] {
        if let Some(v) = value {
            s.push(" AND ").push(column).push(" = ").bind_text(v);
        }
    }
    s.push(" ORDER BY schedule_id");
    Ok(store
        .query(s)
        .await?
        .iter()
        .map(|r| schedule_from_row(r))
        .collect())
}

/// The first `per` free slots of each schedule in `chunk`, in chunk order.
async fn first_free(
    store: &dyn Store,
    dialect: Dialect,
    chunk: &[(Option<f64>, IndexedSchedule)],
    from: Timestamp,
    query: &SlotQuery,
    now: Timestamp,
    per: usize,
) -> Result<Vec<Vec<(String, i64, i64)>>, BookingError> {
    let now_s = seconds(now);
    let mut policies = Windows::default();
    let mut s = Sql::new(dialect);
    let mut any = false;
    for (i, (_, schedule)) in chunk.iter().enumerate() {
        let (lo, hi) = policies.of(schedule, from, query, now)?;
        if lo >= hi {
            continue;
        }
        if any {
            s.push(" UNION ALL ");
        }
        any = true;
        s.push("SELECT * FROM (SELECT slot_id, schedule_id, starts_at, ends_at FROM slot_index \
                WHERE schedule_id = ")
            .bind_text(&schedule.schedule_id)
            .push(" AND starts_at >= ")
            .bind_int(lo)
            .push(" AND starts_at < ")
            .bind_int(hi)
            .push(" AND ((status = 'free' AND appointment_id IS NULL) OR (status = 'busy-tentative' AND hold_until < ")
            .bind_int(now_s)
            .push(")) ORDER BY starts_at LIMIT ")
            .bind_int(per as i64)
            .push(&format!(") AS q{i}"));
    }
    let mut out = vec![Vec::new(); chunk.len()];
    if !any {
        return Ok(out);
    }
    for row in store.query(s).await? {
        let text = |i: usize| row.get(i).and_then(Cell::text).unwrap_or("").to_owned();
        let schedule_id = text(1);
        if let Some(pos) = chunk.iter().position(|(_, c)| c.schedule_id == schedule_id) {
            out[pos].push((
                text(0),
                row.get(2).and_then(Cell::int).unwrap_or(0),
                row.get(3).and_then(Cell::int).unwrap_or(0),
            ));
        }
    }
    for slots in &mut out {
        slots.sort_by_key(|s| s.1);
    }
    Ok(out)
}
