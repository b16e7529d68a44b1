//! The waitlist: a patient asks for an earlier time than any free now; when a matching time
//! frees up (a cancellation, a move, a lapsed hold), the longest-waiting patient it suits
//! gets it held for them and a mail to take it. Entries are Appointments with status
//! `waitlist` and the period the patient can come in (`requestedPeriod`); an offer turns the
//! entry into a pending hold, which lapses back to the waitlist if not taken.

use carefront_scheduling::jiff::Timestamp;
use carefront_scheduling::Modality;
use carefront_store::repository::RepoError;
use carefront_store::sql::{statement, Bind, Dialect};
use carefront_store::Cell;
use serde_json::{json, Value};

use crate::appointments::{check_window, patient_of, schedule_row, slot_row, visit_mail, Actor};
use crate::error::BookingError;
use crate::index::{reference_id, reference_to, slot_ids};
use crate::notify;
use crate::schedule::{specialty_concept, zone, EXT_HOLD_EXPIRES, MODALITY_SYSTEM};
use crate::search::IndexedSchedule;
use crate::time::{from_seconds, instant_text, parse_instant, seconds};
use crate::Booking;

/// What a patient on the waitlist is waiting for.
#[derive(Debug, Clone)]
pub struct WaitRequest {
    /// A specialty code or name, as in search.
    pub specialty: String,
    pub modality: Option<Modality>,
    /// A particular clinician, if the patient wants one.
    pub practitioner_id: Option<String>,
    /// The latest time the patient would take.
    pub until: Timestamp,
}

const WAITLIST_PAGE: usize = 200;

impl Booking {
    /// Put the patient on the waitlist; returns the entry's Appointment id.
    pub async fn join_waitlist(
        &self,
        actor: &Actor,
        patient_id: &str,
        request: &WaitRequest,
        now: Timestamp,
    ) -> Result<String, BookingError> {
        if let Actor::Patient(me) = actor {
            if me != patient_id {
                return Err(BookingError::Refused(
                    "patients join the waitlist for themselves only".into(),
                ));
            }
        }
        if request.until <= now {
            return Err(BookingError::invalid(
                "the waitlist needs a date in the future",
            ));
        }
        let key = request.specialty.trim().to_lowercase();
        let store = self.repo.store();
        let s = statement(
            Dialect::of(store.backend()),
            "SELECT specialty, specialty_name FROM schedule_index \
             WHERE specialty = {} OR LOWER(specialty_name) = {} LIMIT 1",
            vec![Bind::Text(key.clone()), Bind::Text(key)],
        );
        let rows = store.query(s).await?;
        let row = rows.first().ok_or_else(|| {
            BookingError::invalid(format!("no clinician offers '{}'", request.specialty))
        })?;
        let code = row.first().and_then(Cell::text).unwrap_or("").to_owned();
        let name = row.get(1).and_then(Cell::text).unwrap_or("").to_owned();
        let patient = self.patient(patient_id).await?;
        let mut participant = vec![json!({
            "actor": reference_to("Patient", patient_id, &crate::index::person_name(&patient)),
            "required": "required", "status": "needs-action"
        })];
        if let Some(p) = &request.practitioner_id {
            participant.push(json!({
                "actor": { "reference": format!("Practitioner/{p}") },
                "required": "required", "status": "needs-action"
            }));
        }
        let utc = carefront_scheduling::jiff::tz::TimeZone::UTC;
        let mut a = json!({
            "resourceType": "Appointment",
            "status": "waitlist",
            "requestedPeriod": [{
                "start": instant_text(now, &utc),
                "end": instant_text(request.until, &utc),
            }],
            "created": instant_text(now, &utc),
            "participant": participant,
        });
        if let Some(concept) = specialty_concept(&code, &name) {
            a["specialty"] = json!([concept]);
        }
        if let Some(m) = request.modality {
            a["serviceCategory"] =
                json!([{ "coding": [{ "system": MODALITY_SYSTEM, "code": m.code() }] }]);
        }
        let mut tx = self.repo.begin().await?;
        let written = self.repo.create_in_tx(tx.as_mut(), a).await?;
        tx.commit().await.map_err(RepoError::from)?;
        Ok(written.id)
    }

    /// Offer a freed slot to the first patient on the waitlist it suits. Best effort: a
    /// failure is logged and the slot simply stays free for search.
    pub async fn offer_freed(&self, slot_id: &str, now: Timestamp) {
        if let Err(e) = self.try_offer(slot_id, now).await {
            tracing::warn!(slot = %slot_id, error = %e, "freed slot not offered to the waitlist");
        }
    }

    async fn try_offer(&self, slot_id: &str, now: Timestamp) -> Result<(), BookingError> {
        let slot = slot_row(&self.repo, slot_id).await?;
        if slot.appointment_id.is_some() || slot.status != "free" {
            return Ok(());
        }
        let schedule = schedule_row(&self.repo, &slot.schedule_id).await?;
        if check_window(&schedule, slot.starts_at, now).is_err() {
            return Ok(());
        }
        let params = vec![
            ("status".to_owned(), "waitlist".to_owned()),
            ("_sort".to_owned(), "_lastUpdated".to_owned()),
            ("_count".to_owned(), WAITLIST_PAGE.to_string()),
        ];
        let query = self
            .repo
            .parse_search(Some("Appointment"), &params, false)?;
        let page = self.repo.search(&query).await?;
        for stored in page.matches {
            let Ok(entry) = serde_json::from_slice::<Value>(&stored.content) else {
                continue;
            };
            if !suits(&entry, &schedule, slot.starts_at) {
                continue;
            }
            match self
                .offer_to(entry, stored.version, &slot, &schedule, now)
                .await
            {
                Ok(()) => return Ok(()),
                // Someone took the slot or changed the entry meanwhile: nothing to offer.
                Err(BookingError::Taken { .. }) => return Ok(()),
                Err(e) if e.is_version_race() => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    async fn offer_to(
        &self,
        mut entry: Value,
        version: i64,
        slot: &crate::appointments::SlotRow,
        schedule: &IndexedSchedule,
        now: Timestamp,
    ) -> Result<(), BookingError> {
        let tz = zone(&schedule.zone)?;
        let expires = now + self.settings.waitlist_offer;
        entry["status"] = json!("pending");
        entry["slot"] = json!([{ "reference": format!("Slot/{}", slot.slot_id) }]);
        entry["start"] = json!(instant_text(from_seconds(slot.starts_at), &tz));
        entry["end"] = json!(instant_text(from_seconds(slot.ends_at), &tz));
        entry["extension"] =
            json!([{ "url": EXT_HOLD_EXPIRES, "valueInstant": instant_text(expires, &tz) }]);
        let mut participants: Vec<Value> = entry["participant"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|p| reference_id(&p["actor"], "Patient").is_some())
            .collect();
        participants.push(json!({
            "actor": reference_to("Practitioner", &schedule.practitioner_id, &schedule.practitioner_name),
            "required": "required", "status": "accepted"
        }));
        entry["participant"] = json!(participants);
        let patient = self
            .patient(&patient_of(&entry).unwrap_or_default())
            .await?;
        let id = entry["id"].as_str().unwrap_or_default().to_owned();
        let mut tx = self.repo.begin().await?;
        self.repo
            .update_in_tx(tx.as_mut(), entry, Some(version))
            .await?;
        let mail = visit_mail(&patient, &id, slot, schedule, &self.settings.public_url)?;
        notify::offered(tx.as_mut(), &mail, expires, now).await?;
        tx.commit().await.map_err(RepoError::from)?;
        Ok(())
    }

    /// Release holds that lapsed: a waitlist offer goes back to the waitlist, any other hold
    /// is cancelled; the slot is then offered to the next patient waiting. Any instance may
    /// run this; each hold is released once (the version check settles races).
    pub async fn release_lapsed_holds(&self, now: Timestamp) -> Result<usize, BookingError> {
        let store = self.repo.store();
        let s = statement(
            Dialect::of(store.backend()),
            "SELECT slot_id, appointment_id FROM slot_index \
             WHERE status = 'busy-tentative' AND hold_until < {} LIMIT 500",
            vec![Bind::Int(seconds(now))],
        );
        let mut released = 0;
        for row in store.query(s).await? {
            let slot_id = row.first().and_then(Cell::text).unwrap_or("").to_owned();
            let Some(appointment_id) = row.get(1).and_then(Cell::text) else {
                continue;
            };
            let Ok((mut a, version)) = self.current(appointment_id).await else {
                continue;
            };
            if a["status"] != "pending" || !slot_ids(&a).contains(&slot_id) {
                continue;
            }
            let lapsed = crate::schedule::extension(&a, EXT_HOLD_EXPIRES)
                .and_then(|e| e["valueInstant"].as_str())
                .and_then(parse_instant)
                .is_none_or(|t| t < now);
            if !lapsed {
                continue;
            }
            if a["requestedPeriod"].is_array() {
                // A waitlist offer not taken: back to waiting, without the offered time.
                let map = a.as_object_mut().expect("an appointment is an object");
                for key in ["slot", "start", "end", "extension", "minutesDuration"] {
                    map.remove(key);
                }
                a["status"] = json!("waitlist");
            } else {
                // Kept with its time, so the record says which hold lapsed; a cancelled
                // appointment holds no slot.
                a["status"] = json!("cancelled");
                a["cancelationReason"] =
                    json!({ "text": "the hold lapsed before it was confirmed" });
            }
            let mut tx = self.repo.begin().await?;
            match self.repo.update_in_tx(tx.as_mut(), a, Some(version)).await {
                Ok(_) => {
                    tx.commit().await.map_err(RepoError::from)?;
                    released += 1;
                    self.offer_freed(&slot_id, now).await;
                }
                Err(e) => tracing::debug!(error = %e, "lapsed hold changed meanwhile"),
            }
        }
        Ok(released)
    }
}

/// Whether a waitlist entry wants this slot.
fn suits(entry: &Value, schedule: &IndexedSchedule, starts_at: i64) -> bool {
    let concept = &entry["specialty"][0];
    let code = concept["coding"][0]["code"].as_str().map(str::to_lowercase);
    let text = concept["text"].as_str().map(str::to_lowercase);
    let specialty_ok = code.as_deref() == Some(schedule.specialty.as_str())
        || text.as_deref() == Some(schedule.specialty_name.to_lowercase().as_str());
    let modality_ok = match entry["serviceCategory"][0]["coding"][0]["code"].as_str() {
        Some(m) => m == schedule.modality,
        None => true,
    };
    let practitioner_ok = entry["participant"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| reference_id(&p["actor"], "Practitioner"))
        .all(|p| p == schedule.practitioner_id);
    let period = &entry["requestedPeriod"][0];
    let until_ok = period["end"]
        .as_str()
        .and_then(parse_instant)
        .is_none_or(|end| seconds(end) >= starts_at);
    let from_ok = period["start"]
        .as_str()
        .and_then(parse_instant)
        .is_none_or(|start| seconds(start) <= starts_at);
    specialty_ok && modality_ok && practitioner_ok && until_ok && from_ok
}
