//! Availability: schedules saved by staff and the Slot resources they produce.
//!
//! Slots are generated for the booking horizon with ids derived from schedule and start, so
//! regenerating is idempotent (any instance may do it, at any time) and only writes the
//! difference: new times are created, free times no longer offered are deleted, and booked
//! times no longer offered are kept and reported as conflicts for staff to resolve; a booked
//! appointment is never dropped silently.

use std::collections::{HashMap, HashSet};

use carefront_scheduling::jiff::{SignedDuration, Timestamp};
use carefront_scheduling::{generate, SlotTime};
use carefront_store::repository::RepoError;
use carefront_store::sql::{statement, Bind, Dialect};
use carefront_store::Cell;
use serde::Serialize;
use serde_json::{json, Value};

use crate::appointments::{slot_row, Actor};
use crate::error::BookingError;
use crate::schedule::ScheduleSpec;
use crate::time::{from_seconds, instant_text, seconds};
use crate::Booking;

/// Slots written per transaction when generating.
const WRITE_BATCH: usize = 200;

#[derive(Debug, Clone, Default, Serialize)]
pub struct Regenerated {
    pub created: usize,
    pub removed: usize,
    /// Booked times the rules no longer offer.
    pub conflicts: Vec<Conflict>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Conflict {
    pub slot_id: String,
    pub start: String,
    pub appointment_id: String,
}

struct Existing {
    slot_id: String,
    starts_at: i64,
    ends_at: i64,
    appointment_id: Option<String>,
}

/// The id of the slot of `schedule_id` starting at `start`: the same every time.
pub fn slot_id(schedule_id: &str, start: Timestamp) -> String {
    let t = start.to_zoned(carefront_scheduling::jiff::tz::TimeZone::UTC);
    format!("{schedule_id}-{}", t.strftime("%Y%m%d%H%M"))
}

impl Booking {
    /// Save a schedule (create or replace its rules) and bring its slots in line.
    pub async fn save_schedule(
        &self,
        spec: &ScheduleSpec,
        now: Timestamp,
    ) -> Result<Regenerated, BookingError> {
        spec.rules()?;
        self.repo
            .update("Schedule", &spec.id, spec.to_fhir()?, &Default::default())
            .await?;
        self.regenerate(&spec.id, now).await
    }

    /// The schedule's rules as stored.
    pub async fn schedule(&self, schedule_id: &str) -> Result<ScheduleSpec, BookingError> {
        let stored = self.repo.read("Schedule", schedule_id).await?;
        let json: Value = serde_json::from_slice(&stored.content)
            .map_err(|e| BookingError::invalid(e.to_string()))?;
        ScheduleSpec::from_fhir(&json)
    }

    /// Bring the slots of `schedule_id` in line with its rules from the start of today to
    /// the end of the booking horizon.
    pub async fn regenerate(
        &self,
        schedule_id: &str,
        now: Timestamp,
    ) -> Result<Regenerated, BookingError> {
        let spec = self.schedule(schedule_id).await?;
        let rules = spec.rules()?;
        let tz = rules.zone.clone();
        let today = now.to_zoned(tz.clone()).date();
        let (from, _) = carefront_scheduling::local_day(&tz, today);
        let to = now + SignedDuration::from_hours(24 * (i64::from(rules.horizon_days) + 1));
        let wanted: Vec<SlotTime> = if spec.active {
            generate(&rules, from, to)
        } else {
            Vec::new()
        };
        let existing = self.existing_slots(schedule_id, from).await?;
        let by_id: HashMap<&str, &Existing> =
            existing.iter().map(|e| (e.slot_id.as_str(), e)).collect();
        let mut want_ids = HashSet::new();
        let mut create = Vec::new();
        for slot in &wanted {
            let id = slot_id(schedule_id, slot.start);
            match by_id.get(id.as_str()) {
                Some(e) if e.starts_at == seconds(slot.start) && e.ends_at == seconds(slot.end) => {
                }
                _ => create.push((id.clone(), *slot)),
            }
            want_ids.insert(id);
        }
        let mut result = Regenerated::default();
        let mut remove = Vec::new();
        for e in &existing {
            if want_ids.contains(&e.slot_id) {
                continue;
            }
            match &e.appointment_id {
                Some(appointment) => result.conflicts.push(Conflict {
                    slot_id: e.slot_id.clone(),
                    start: instant_text(from_seconds(e.starts_at), &tz),
                    appointment_id: appointment.clone(),
                }),
                None => remove.push(e.slot_id.clone()),
            }
        }
        for batch in create.chunks(WRITE_BATCH) {
            let mut tx = self.repo.begin().await?;
            for (id, slot) in batch {
                let resource = json!({
                    "resourceType": "Slot",
                    "id": id,
                    "schedule": { "reference": format!("Schedule/{schedule_id}") },
                    "status": "free",
                    "start": instant_text(slot.start, &tz),
                    "end": instant_text(slot.end, &tz),
                });
                self.repo.update_in_tx(tx.as_mut(), resource, None).await?;
            }
            tx.commit().await.map_err(RepoError::from)?;
            result.created += batch.len();
        }
        for batch in remove.chunks(WRITE_BATCH) {
            let mut tx = self.repo.begin().await?;
            for id in batch {
                // A slot booked since it was listed refuses deletion: the whole batch is
                // retried on the next run instead.
                self.repo.delete_in_tx(tx.as_mut(), "Slot", id).await?;
            }
            tx.commit().await.map_err(RepoError::from)?;
            result.removed += batch.len();
        }
        Ok(result)
    }

    /// Booked times that the schedule's rules no longer offer, without changing anything.
    pub async fn conflicts(
        &self,
        schedule_id: &str,
        now: Timestamp,
    ) -> Result<Vec<Conflict>, BookingError> {
        let spec = self.schedule(schedule_id).await?;
        let rules = spec.rules()?;
        let tz = rules.zone.clone();
        let to = now + SignedDuration::from_hours(24 * (i64::from(rules.horizon_days) + 1));
        let offered: HashSet<String> = if spec.active {
            generate(&rules, now, to)
                .iter()
                .map(|s| slot_id(schedule_id, s.start))
                .collect()
        } else {
            HashSet::new()
        };
        Ok(self
            .existing_slots(schedule_id, now)
            .await?
            .into_iter()
            .filter(|e| e.appointment_id.is_some() && !offered.contains(&e.slot_id))
            .map(|e| Conflict {
                start: instant_text(from_seconds(e.starts_at), &tz),
                slot_id: e.slot_id,
                appointment_id: e.appointment_id.unwrap_or_default(),
            })
            .collect())
    }

    /// Extend every bookable schedule to its horizon (run daily by each instance; idempotent).
    pub async fn extend_all(&self, now: Timestamp) -> Result<Regenerated, BookingError> {
        let store = self.repo.store();
        let s = statement(
            Dialect::of(store.backend()),
            "SELECT schedule_id FROM schedule_index ORDER BY schedule_id",
            vec![],
        );
        let mut total = Regenerated::default();
        for row in store.query(s).await? {
            let Some(id) = row.first().and_then(Cell::text) else {
                continue;
            };
            match self.regenerate(id, now).await {
                Ok(r) => {
                    total.created += r.created;
                    total.removed += r.removed;
                    total.conflicts.extend(r.conflicts);
                }
                Err(e) => tracing::warn!(schedule = %id, error = %e, "schedule not extended"),
            }
        }
        Ok(total)
    }

    /// Block a free time (staff): the slot stays but cannot be booked without an override.
    pub async fn block(
        &self,
        actor: &Actor,
        slot_id: &str,
        blocked: bool,
    ) -> Result<(), BookingError> {
        if !matches!(actor, Actor::Staff { .. }) {
            return Err(BookingError::Refused("only clinic staff block time".into()));
        }
        let row = slot_row(&self.repo, slot_id).await?;
        if row.appointment_id.is_some() {
            return Err(BookingError::Refused(
                "this time holds an appointment; cancel or move it first".into(),
            ));
        }
        let stored = self.repo.read("Slot", slot_id).await?;
        let mut slot: Value = serde_json::from_slice(&stored.content)
            .map_err(|e| BookingError::invalid(e.to_string()))?;
        slot["status"] = json!(if blocked { "busy-unavailable" } else { "free" });
        let mut tx = self.repo.begin().await?;
        self.repo
            .update_in_tx(tx.as_mut(), slot, Some(stored.version))
            .await?;
        tx.commit().await.map_err(RepoError::from)?;
        Ok(())
    }

    async fn existing_slots(
        &self,
        schedule_id: &str,
        from: Timestamp,
    ) -> Result<Vec<Existing>, BookingError> {
        let store = self.repo.store();
        let s = statement(
            Dialect::of(store.backend()),
            "SELECT slot_id, starts_at, ends_at, appointment_id FROM slot_index \
             WHERE schedule_id = {} AND starts_at >= {} ORDER BY starts_at",
            vec![Bind::Text(schedule_id.to_owned()), Bind::Int(seconds(from))],
        );
        Ok(store
            .query(s)
            .await?
            .into_iter()
            .map(|r| Existing {
                slot_id: r.first().and_then(Cell::text).unwrap_or("").to_owned(),
                starts_at: r.get(1).and_then(Cell::int).unwrap_or(0),
                ends_at: r.get(2).and_then(Cell::int).unwrap_or(0),
                appointment_id: r.get(3).and_then(Cell::text).map(str::to_owned),
            })
            .collect())
    }
}
