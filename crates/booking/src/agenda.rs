//! Views over appointments: a clinician's agenda, a clinic's day, a patient's visits.

use carefront_scheduling::jiff::Timestamp;
use carefront_store::sql::{Bind, Dialect, Sql};
use carefront_store::Cell;
use serde::Serialize;
use serde_json::Value;

use crate::appointments::patient_of;
use crate::error::BookingError;
use crate::index::{reference_id, slot_ids};
use crate::schedule::{zone, EXT_HOLD_EXPIRES};
use crate::time::{from_seconds, instant_text, parse_instant, seconds};
use crate::Booking;

/// An appointment as lists show it.
#[derive(Debug, Clone, Serialize)]
pub struct AgendaEntry {
    pub appointment_id: String,
    pub status: String,
    pub start: Option<String>,
    pub end: Option<String>,
    #[serde(skip)]
    pub starts_at: Option<i64>,
    pub patient_id: Option<String>,
    pub patient_name: String,
    pub practitioner_id: Option<String>,
    pub practitioner_name: String,
    pub location_name: Option<String>,
    pub modality: Option<String>,
    pub specialty: Option<String>,
    pub reason: Option<String>,
    pub slot_id: Option<String>,
    /// Why staff overbooked, when they did.
    pub overbooked: Option<String>,
    /// A pending hold's expiry.
    pub hold_expires: Option<String>,
    /// The waitlist entry's latest acceptable time.
    pub wait_until: Option<String>,
    /// The triage outcome (RiskAssessment id) the visit was booked from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub triage: Option<String>,
}

/// A time without an appointment in an agenda (free or blocked).
#[derive(Debug, Clone, Serialize)]
pub struct AgendaSlot {
    pub slot_id: String,
    pub start: String,
    pub end: String,
    #[serde(skip)]
    pub starts_at: i64,
    pub status: String,
    pub practitioner_name: String,
    pub location_name: String,
    pub modality: String,
}

pub fn entry(appointment: &Value) -> AgendaEntry {
    let participant = |rt: &str| {
        appointment["participant"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| reference_id(&p["actor"], rt).is_some())
            .map(|p| &p["actor"])
    };
    let display = |rt: &str| {
        participant(rt)
            .and_then(|a| a["display"].as_str())
            .unwrap_or("")
            .to_owned()
    };
    let start = appointment["start"].as_str().map(str::to_owned);
    AgendaEntry {
        appointment_id: appointment["id"].as_str().unwrap_or("").to_owned(),
        status: appointment["status"].as_str().unwrap_or("").to_owned(),
        starts_at: start.as_deref().and_then(parse_instant).map(seconds),
        start,
        end: appointment["end"].as_str().map(str::to_owned),
        patient_id: patient_of(appointment),
        patient_name: display("Patient"),
        practitioner_id: participant("Practitioner").and_then(|a| reference_id(a, "Practitioner")),
        practitioner_name: display("Practitioner"),
        location_name: participant("Location")
            .and_then(|a| a["display"].as_str())
            .map(str::to_owned),
        modality: appointment["serviceCategory"][0]["coding"][0]["code"]
            .as_str()
            .map(str::to_owned),
        specialty: appointment["specialty"][0]["text"]
            .as_str()
            .map(str::to_owned),
        reason: appointment["reasonCode"][0]["text"]
            .as_str()
            .map(str::to_owned),
        slot_id: slot_ids(appointment).into_iter().next(),
        overbooked: Booking::overbooking(appointment),
        hold_expires: crate::schedule::extension(appointment, EXT_HOLD_EXPIRES)
            .and_then(|e| e["valueInstant"].as_str())
            .map(str::to_owned),
        wait_until: appointment["requestedPeriod"][0]["end"]
            .as_str()
            .map(str::to_owned),
        triage: triage_of(appointment),
    }
}

/// The triage outcome an appointment was booked from: the id of the `RiskAssessment` among
/// its `supportingInformation`.
pub fn triage_of(appointment: &Value) -> Option<String> {
    appointment["supportingInformation"]
        .as_array()?
        .iter()
        .find_map(|r| reference_id(r, "RiskAssessment"))
}

impl Booking {
    /// Appointments matching FHIR search `params`, soonest first.
    async fn appointments(
        &self,
        mut params: Vec<(String, String)>,
    ) -> Result<Vec<AgendaEntry>, BookingError> {
        params.push(("_sort".into(), "date".into()));
        params.push(("_count".into(), "500".into()));
        let query = self
            .repo
            .parse_search(Some("Appointment"), &params, false)?;
        let page = self.repo.search(&query).await?;
        let mut entries: Vec<AgendaEntry> = page
            .matches
            .iter()
            .filter_map(|s| serde_json::from_slice::<Value>(&s.content).ok())
            .map(|a| entry(&a))
            .collect();
        entries.sort_by_key(|e| e.starts_at.unwrap_or(i64::MAX));
        Ok(entries)
    }

    /// A patient's appointments, waitlist entries and holds, soonest first.
    pub async fn appointments_of_patient(
        &self,
        patient_id: &str,
    ) -> Result<Vec<AgendaEntry>, BookingError> {
        self.appointments(vec![("patient".into(), format!("Patient/{patient_id}"))])
            .await
    }

    /// The appointments of the given practitioners in [from, to), and their times without an
    /// appointment.
    pub async fn agenda(
        &self,
        practitioner_ids: &[String],
        location_id: Option<&str>,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<(Vec<AgendaEntry>, Vec<AgendaSlot>), BookingError> {
        if practitioner_ids.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let utc = carefront_scheduling::jiff::tz::TimeZone::UTC;
        let mut entries = self
            .appointments(vec![
                (
                    "practitioner".into(),
                    practitioner_ids
                        .iter()
                        .map(|p| format!("Practitioner/{p}"))
                        .collect::<Vec<_>>()
                        .join(","),
                ),
                ("date".into(), format!("ge{}", instant_text(from, &utc))),
                ("date".into(), format!("lt{}", instant_text(to, &utc))),
            ])
            .await?;
        entries.retain(|e| e.status != "waitlist");
        let store = self.repo.store();
        if let Some(location) = location_id {
            // Appointments in slots of this place's schedules (video and home visits
            // included), not the same clinicians' appointments elsewhere.
            let mut s = Sql::new(Dialect::of(store.backend()));
            s.push(
                "SELECT sl.slot_id FROM slot_index sl JOIN schedule_index sc \
                 ON sc.schedule_id = sl.schedule_id WHERE sc.location_id = ",
            )
            .bind_text(location)
            .push(" AND sl.starts_at >= ")
            .bind_int(seconds(from))
            .push(" AND sl.starts_at < ")
            .bind_int(seconds(to));
            let here: std::collections::HashSet<String> = store
                .query(s)
                .await?
                .into_iter()
                .filter_map(|r| r.into_iter().next().and_then(Cell::into_text))
                .collect();
            entries.retain(|e| e.slot_id.as_ref().is_some_and(|s| here.contains(s)));
        }
        let mut s = Sql::new(Dialect::of(store.backend()));
        s.push(
            "SELECT sl.slot_id, sl.starts_at, sl.ends_at, sl.status, sc.practitioner_name, \
             sc.location_name, sc.modality, sc.zone FROM slot_index sl \
             JOIN schedule_index sc ON sc.schedule_id = sl.schedule_id \
             WHERE sl.appointment_id IS NULL AND sl.starts_at >= ",
        )
        .bind_int(seconds(from))
        .push(" AND sl.starts_at < ")
        .bind_int(seconds(to))
        .push(" AND sc.practitioner_id IN (");
        for (i, p) in practitioner_ids.iter().enumerate() {
            if i > 0 {
                s.push(", ");
            }
            s.bind(Bind::Text(p.clone()));
        }
        s.push(")");
        if let Some(location) = location_id {
            s.push(" AND sc.location_id = ").bind_text(location);
        }
        s.push(" ORDER BY sl.starts_at LIMIT 2000");
        let mut slots = Vec::new();
        for r in store.query(s).await? {
            let text = |i: usize| r.get(i).and_then(Cell::text).unwrap_or("").to_owned();
            let tz = zone(&text(7))?;
            let starts_at = r.get(1).and_then(Cell::int).unwrap_or(0);
            slots.push(AgendaSlot {
                slot_id: text(0),
                start: instant_text(from_seconds(starts_at), &tz),
                end: instant_text(from_seconds(r.get(2).and_then(Cell::int).unwrap_or(0)), &tz),
                starts_at,
                status: text(3),
                practitioner_name: text(4),
                location_name: text(5),
                modality: text(6),
            });
        }
        Ok((entries, slots))
    }

    /// The practitioners with a bookable schedule at `location_id`.
    pub async fn practitioners_at(
        &self,
        location_id: &str,
    ) -> Result<Vec<(String, String)>, BookingError> {
        let store = self.repo.store();
        let mut s = Sql::new(Dialect::of(store.backend()));
        s.push("SELECT DISTINCT practitioner_id, practitioner_name FROM schedule_index WHERE active = 1 AND location_id = ")
            .bind_text(location_id)
            .push(" ORDER BY practitioner_name");
        Ok(store
            .query(s)
            .await?
            .iter()
            .map(|r| {
                (
                    r.first().and_then(Cell::text).unwrap_or("").to_owned(),
                    r.get(1).and_then(Cell::text).unwrap_or("").to_owned(),
                )
            })
            .collect())
    }

    /// Every active bookable schedule as indexed (optionally one practitioner's).
    pub async fn indexed_schedules(
        &self,
        practitioner_id: Option<&str>,
    ) -> Result<Vec<crate::IndexedSchedule>, BookingError> {
        let store = self.repo.store();
        let mut s = Sql::new(Dialect::of(store.backend()));
        s.push("SELECT ")
            .push(crate::search::SCHEDULE_COLUMNS)
            .push(" FROM schedule_index WHERE active = 1");
        if let Some(p) = practitioner_id {
            s.push(" AND practitioner_id = ").bind_text(p);
        }
        s.push(" ORDER BY practitioner_name, modality");
        Ok(store
            .query(s)
            .await?
            .iter()
            .map(|r| crate::search::schedule_from_row(r))
            .collect())
    }
}
