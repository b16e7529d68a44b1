//! Holding, booking, cancelling, moving and closing appointments.
//!
//! Each workflow writes the Appointment (and its mail) in one transaction; the write hook
//! claims or releases the slots, so a lost race surfaces here as [`BookingError::Taken`],
//! answered with fresh alternatives.

use carefront_scheduling::jiff::Timestamp;
use carefront_scheduling::{check_bookable, may_check_in, patient_may_cancel, Modality};
use carefront_store::repository::{RepoError, Repository};
use carefront_store::sql::{statement, Bind, Dialect};
use carefront_store::{Cell, StoreTx};
use serde::Serialize;
use serde_json::{json, Value};

use crate::error::BookingError;
use crate::index::{person_name, reference_id, reference_to, slot_ids, HOLDING};
use crate::notify::{self, VisitMail};
use crate::schedule::{
    extension, specialty_concept, zone, EXT_HOLD_EXPIRES, EXT_OVERBOOK, MODALITY_SYSTEM,
};
use crate::search::{schedule_from_row, IndexedSchedule, Offer, SlotQuery, Sort, SCHEDULE_COLUMNS};
use crate::time::{from_seconds, instant_text};
use crate::Booking;

/// Who is acting: rules differ for patients (notice, cancellation policy, their own
/// appointments only) and staff (may book at short notice, overbook with a reason).
#[derive(Debug, Clone)]
pub enum Actor {
    /// A patient acting for themselves: their Patient id.
    Patient(String),
    /// A member of staff: account id and name, recorded on what they override.
    Staff { account_id: String, name: String },
}

impl Actor {
    fn is_staff(&self) -> bool {
        matches!(self, Actor::Staff { .. })
    }
}

#[derive(Debug, Clone, Default)]
pub struct BookRequest {
    pub slot_id: String,
    pub patient_id: String,
    /// Why the patient comes, in their words (kept on the Appointment, never in mail).
    pub reason: Option<String>,
    /// The pending Appointment of a hold on this slot, to confirm.
    pub hold: Option<String>,
    /// Staff only: book although the slot is taken, for this recorded reason.
    pub overbook: Option<String>,
    /// The triage outcome (RiskAssessment id) that led to this visit, kept on the
    /// Appointment as `supportingInformation` for the clinician.
    pub triage: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Booked {
    pub appointment_id: String,
    pub status: String,
    pub start: String,
    pub end: String,
    pub practitioner_name: String,
    pub location_name: String,
    pub modality: String,
    #[serde(skip)]
    pub appointment: Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct Held {
    pub appointment_id: String,
    pub slot_id: String,
    /// When the hold lapses (FHIR instant).
    pub expires: String,
}

/// What reception (or the patient, for arrival) records about a visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Arrived,
    NoShow,
    Fulfilled,
}

impl Mark {
    pub fn parse(text: &str) -> Option<Mark> {
        match text {
            "arrived" => Some(Mark::Arrived),
            "noshow" => Some(Mark::NoShow),
            "fulfilled" => Some(Mark::Fulfilled),
            _ => None,
        }
    }

    fn status(self) -> &'static str {
        match self {
            Mark::Arrived => "arrived",
            Mark::NoShow => "noshow",
            Mark::Fulfilled => "fulfilled",
        }
    }
}

/// A slot as indexed.
#[derive(Debug, Clone)]
pub(crate) struct SlotRow {
    pub slot_id: String,
    pub schedule_id: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub status: String,
    pub appointment_id: Option<String>,
}

pub(crate) async fn slot_row(repo: &Repository, slot_id: &str) -> Result<SlotRow, BookingError> {
    let store = repo.store();
    let s = statement(
        Dialect::of(store.backend()),
        "SELECT slot_id, schedule_id, starts_at, ends_at, status, appointment_id \
         FROM slot_index WHERE slot_id = {}",
        vec![Bind::Text(slot_id.to_owned())],
    );
    let rows = store.query(s).await?;
    let row = rows
        .first()
        .ok_or_else(|| BookingError::NotFound(format!("Slot/{slot_id} is not known")))?;
    let text = |i: usize| row.get(i).and_then(Cell::text).unwrap_or("").to_owned();
    Ok(SlotRow {
        slot_id: text(0),
        schedule_id: text(1),
        starts_at: row.get(2).and_then(Cell::int).unwrap_or(0),
        ends_at: row.get(3).and_then(Cell::int).unwrap_or(0),
        status: text(4),
        appointment_id: row.get(5).and_then(Cell::text).map(str::to_owned),
    })
}

pub(crate) async fn schedule_row(
    repo: &Repository,
    schedule_id: &str,
) -> Result<IndexedSchedule, BookingError> {
    let store = repo.store();
    let s = statement(
        Dialect::of(store.backend()),
        &format!("SELECT {SCHEDULE_COLUMNS} FROM schedule_index WHERE schedule_id = {{}}"),
        vec![Bind::Text(schedule_id.to_owned())],
    );
    let rows = store.query(s).await?;
    rows.first().map(|r| schedule_from_row(r)).ok_or_else(|| {
        BookingError::NotFound(format!("Schedule/{schedule_id} is not open for booking"))
    })
}

/// Notice and horizon, for patients.
pub(crate) fn check_window(
    schedule: &IndexedSchedule,
    starts_at: i64,
    now: Timestamp,
) -> Result<(), BookingError> {
    check_bookable(&schedule.policy()?, from_seconds(starts_at), now).map_err(BookingError::from)
}

fn read_json(stored: &carefront_store::StoredResource) -> Result<Value, BookingError> {
    serde_json::from_slice(&stored.content)
        .map_err(|e| BookingError::invalid(format!("stored resource is not JSON: {e}")))
}

/// The patient named by an appointment.
pub fn patient_of(appointment: &Value) -> Option<String> {
    appointment["participant"]
        .as_array()?
        .iter()
        .find_map(|p| reference_id(&p["actor"], "Patient"))
}

/// The Appointment for `slot` of `schedule`, for `patient`.
#[allow(clippy::too_many_arguments)]
fn appointment_json(
    id: Option<&str>,
    status: &str,
    slot: &SlotRow,
    schedule: &IndexedSchedule,
    patient_id: &str,
    patient_name: &str,
    reason: Option<&str>,
    now: Timestamp,
) -> Result<Value, BookingError> {
    let tz = zone(&schedule.zone)?;
    let minutes = (slot.ends_at - slot.starts_at) / 60;
    let mut participant = vec![
        json!({ "actor": reference_to("Patient", patient_id, patient_name),
                "required": "required", "status": "accepted" }),
        json!({ "actor": reference_to("Practitioner", &schedule.practitioner_id, &schedule.practitioner_name),
                "required": "required", "status": "accepted" }),
    ];
    if schedule.modality == Modality::InClinic.code() {
        participant.push(json!({
            "actor": reference_to("Location", &schedule.location_id, &schedule.location_name),
            "required": "required", "status": "accepted"
        }));
    }
    let mut a = json!({
        "resourceType": "Appointment",
        "status": status,
        "serviceCategory": [{ "coding": [{ "system": MODALITY_SYSTEM, "code": schedule.modality }] }],
        "start": instant_text(from_seconds(slot.starts_at), &tz),
        "end": instant_text(from_seconds(slot.ends_at), &tz),
        "minutesDuration": minutes.max(1),
        "slot": [{ "reference": format!("Slot/{}", slot.slot_id) }],
        "created": instant_text(now, &tz),
        "participant": participant,
    });
    if let Some(id) = id {
        a["id"] = json!(id);
    }
    if let Some(concept) = specialty_concept(&schedule.specialty, &schedule.specialty_name) {
        a["specialty"] = json!([concept]);
    }
    if let Some(reason) = reason.map(str::trim).filter(|r| !r.is_empty()) {
        a["reasonCode"] = json!([{ "text": reason }]);
    }
    Ok(a)
}

impl Booking {
    /// Keep `slot_id` for the patient while they confirm ([`Settings::hold`]).
    pub async fn hold(
        &self,
        actor: &Actor,
        slot_id: &str,
        patient_id: &str,
        now: Timestamp,
    ) -> Result<Held, BookingError> {
        self.check_patient(actor, patient_id)?;
        let slot = slot_row(&self.repo, slot_id).await?;
        let schedule = schedule_row(&self.repo, &slot.schedule_id).await?;
        if !actor.is_staff() {
            check_window(&schedule, slot.starts_at, now)?;
        }
        if slot.status == "busy-unavailable" {
            return Err(BookingError::Refused(
                "this time is blocked by the clinic".into(),
            ));
        }
        // Asking again (a reloaded page) keeps the patient's own live hold.
        if let Some(held) = self.own_hold(&slot, patient_id, now).await? {
            return Ok(held);
        }
        let patient_name = self.patient_name(patient_id).await?;
        let expires = now + self.settings.hold;
        let tz = zone(&schedule.zone)?;
        let mut a = appointment_json(
            None,
            "pending",
            &slot,
            &schedule,
            patient_id,
            &patient_name,
            None,
            now,
        )?;
        a["extension"] =
            json!([{ "url": EXT_HOLD_EXPIRES, "valueInstant": instant_text(expires, &tz) }]);
        let mut tx = self.repo.begin().await?;
        let written = match self.repo.create_in_tx(tx.as_mut(), a).await {
            Ok(w) => w,
            Err(e) => return Err(self.taken_or(e, &schedule, &slot, now).await),
        };
        tx.commit().await.map_err(RepoError::from)?;
        Ok(Held {
            appointment_id: written.id,
            slot_id: slot.slot_id,
            expires: instant_text(expires, &tz),
        })
    }

    /// Book a slot (confirming a hold when `hold` is given), send the confirmation with its
    /// calendar invitation and schedule the reminders, all in one transaction.
    pub async fn book(
        &self,
        actor: &Actor,
        request: &BookRequest,
        now: Timestamp,
    ) -> Result<Booked, BookingError> {
        self.check_patient(actor, &request.patient_id)?;
        if request.overbook.is_some() && !actor.is_staff() {
            return Err(BookingError::Refused(
                "only clinic staff may book a time that is already taken".into(),
            ));
        }
        let slot = slot_row(&self.repo, &request.slot_id).await?;
        let schedule = schedule_row(&self.repo, &slot.schedule_id).await?;
        if !actor.is_staff() {
            check_window(&schedule, slot.starts_at, now)?;
        }
        if slot.status == "busy-unavailable" && request.overbook.is_none() {
            return Err(BookingError::Refused(
                "this time is blocked by the clinic".into(),
            ));
        }
        let patient = self.patient(&request.patient_id).await?;
        let patient_name = person_name(&patient);
        let mut a = appointment_json(
            request.hold.as_deref(),
            "booked",
            &slot,
            &schedule,
            &request.patient_id,
            &patient_name,
            request.reason.as_deref(),
            now,
        )?;
        if let Some(id) = request.triage.as_deref().filter(|id| !id.is_empty()) {
            a["supportingInformation"] = json!([{ "reference": format!("RiskAssessment/{id}") }]);
        }
        // An override is for a time that is taken or blocked; a free time is booked normally,
        // so that it is claimed like any other.
        let needs_override = slot.appointment_id.is_some() || slot.status != "free";
        let overbook = request.overbook.as_ref().filter(|_| needs_override);
        if let (Some(reason), Actor::Staff { account_id, name }) = (overbook, actor) {
            a["extension"] = json!([{ "url": EXT_OVERBOOK, "extension": [
                { "url": "reason", "valueString": reason },
                { "url": "by", "valueString": format!("{name} (account {account_id})") },
            ]}]);
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self
                .book_once(&mut a, request, &slot, &schedule, &patient, now)
                .await;
            match result {
                Err(e) if e.is_version_race() && attempt < 5 => continue,
                Err(BookingError::Taken { .. }) => {
                    return Err(BookingError::Taken {
                        alternatives: self.alternatives(&schedule, &slot, now).await,
                    })
                }
                other => return other,
            }
        }
    }

    async fn book_once(
        &self,
        a: &mut Value,
        request: &BookRequest,
        slot: &SlotRow,
        schedule: &IndexedSchedule,
        patient: &Value,
        now: Timestamp,
    ) -> Result<Booked, BookingError> {
        // Validation and indexing outside the transaction (SQLite's single writer).
        let checked = self.repo.check(a.clone())?;
        let mut tx = self.repo.begin().await?;
        let written = match &request.hold {
            Some(hold_id) => {
                let held = self.current_in(tx.as_mut(), hold_id).await?;
                let (held_json, version) = held;
                if patient_of(&held_json).as_deref() != Some(request.patient_id.as_str())
                    || slot_ids(&held_json) != [slot.slot_id.clone()]
                {
                    return Err(BookingError::Refused(
                        "this hold is for another patient or another time".into(),
                    ));
                }
                if held_json["status"] != "pending" {
                    return Err(BookingError::Refused(format!(
                        "this hold is no longer pending (it is {})",
                        held_json["status"].as_str().unwrap_or("?")
                    )));
                }
                self.repo
                    .update_checked_in_tx(tx.as_mut(), &checked, Some(version))
                    .await?
                    .resource
            }
            None => {
                self.repo
                    .create_checked_in_tx(tx.as_mut(), &checked)
                    .await?
            }
        };
        a["id"] = json!(written.id);
        let mail = visit_mail(
            patient,
            &written.id,
            slot,
            schedule,
            &self.settings.public_url,
        )?;
        notify::booked(tx.as_mut(), &mail, &self.settings, now, 0).await?;
        tx.commit().await.map_err(RepoError::from)?;
        booked(&written.id, "booked", a, slot, schedule)
    }

    /// Cancel an appointment (or a hold, or a waitlist entry). Patients may cancel their own
    /// until the clinic's notice; staff always. The freed slot is offered to the waitlist.
    pub async fn cancel(
        &self,
        actor: &Actor,
        appointment_id: &str,
        reason: Option<&str>,
        now: Timestamp,
    ) -> Result<(), BookingError> {
        let (mut a, version) = self.current(appointment_id).await?;
        self.check_owner(actor, &a)?;
        let status = a["status"].as_str().unwrap_or("").to_owned();
        if !matches!(
            status.as_str(),
            "pending" | "booked" | "waitlist" | "proposed"
        ) {
            return Err(BookingError::Refused(format!(
                "this appointment cannot be cancelled: it is {status}"
            )));
        }
        let slots = slot_ids(&a);
        let held = match slots.first() {
            Some(slot_id) => Some((
                slot_row(&self.repo, slot_id).await?,
                self.schedule_of(slot_id).await?,
            )),
            None => None,
        };
        if let (Actor::Patient(_), Some((slot, schedule)), "booked") =
            (actor, &held, status.as_str())
        {
            if !patient_may_cancel(&schedule.policy()?, from_seconds(slot.starts_at), now) {
                return Err(BookingError::Refused(format!(
                    "this visit starts in less than {} hours; please call the clinic to cancel it",
                    schedule.cancel_notice_s / 3600
                )));
            }
        }
        a["status"] = json!("cancelled");
        let why = reason
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .unwrap_or(match actor {
                Actor::Patient(_) => "cancelled by the patient",
                Actor::Staff { .. } => "cancelled by the clinic",
            });
        a["cancelationReason"] = json!({ "text": why });
        let mut tx = self.repo.begin().await?;
        self.repo
            .update_in_tx(tx.as_mut(), a.clone(), Some(version))
            .await?;
        carefront_store::tables::outbox::withdraw_in(tx.as_mut(), appointment_id).await?;
        if let (Some((slot, schedule)), "booked") = (&held, status.as_str()) {
            let patient = self.patient(&patient_of(&a).unwrap_or_default()).await?;
            let mail = visit_mail(
                &patient,
                appointment_id,
                slot,
                schedule,
                &self.settings.public_url,
            )?;
            notify::cancelled(tx.as_mut(), &mail, now).await?;
        }
        tx.commit().await.map_err(RepoError::from)?;
        for slot_id in slots {
            self.offer_freed(&slot_id, now).await;
        }
        Ok(())
    }

    /// Move a booked appointment to `new_slot_id` in one step: the new slot is taken and the
    /// old released in the same transaction, or nothing changes.
    pub async fn reschedule(
        &self,
        actor: &Actor,
        appointment_id: &str,
        new_slot_id: &str,
        now: Timestamp,
    ) -> Result<Booked, BookingError> {
        let (a, version) = self.current(appointment_id).await?;
        self.check_owner(actor, &a)?;
        if a["status"] != "booked" {
            return Err(BookingError::Refused(
                "only a booked appointment can be moved".into(),
            ));
        }
        let old_slots = slot_ids(&a);
        if let (Actor::Patient(_), Some(old)) = (actor, old_slots.first()) {
            let slot = slot_row(&self.repo, old).await?;
            let schedule = self.schedule_of(old).await?;
            if !patient_may_cancel(&schedule.policy()?, from_seconds(slot.starts_at), now) {
                return Err(BookingError::Refused(format!(
                    "this visit starts in less than {} hours; please call the clinic to move it",
                    schedule.cancel_notice_s / 3600
                )));
            }
        }
        let slot = slot_row(&self.repo, new_slot_id).await?;
        let schedule = schedule_row(&self.repo, &slot.schedule_id).await?;
        if !actor.is_staff() {
            check_window(&schedule, slot.starts_at, now)?;
        }
        let patient_id = patient_of(&a).unwrap_or_default();
        let patient = self.patient(&patient_id).await?;
        let reason = a["reasonCode"][0]["text"].as_str().map(str::to_owned);
        let mut moved = appointment_json(
            Some(appointment_id),
            "booked",
            &slot,
            &schedule,
            &patient_id,
            &person_name(&patient),
            reason.as_deref(),
            now,
        )?;
        moved["created"] = a["created"].clone();
        if let Some(info) = a.get("supportingInformation") {
            moved["supportingInformation"] = info.clone();
        }
        let mut tx = self.repo.begin().await?;
        if let Err(e) = self
            .repo
            .update_in_tx(tx.as_mut(), moved.clone(), Some(version))
            .await
        {
            drop(tx);
            return Err(self.taken_or(e, &schedule, &slot, now).await);
        }
        carefront_store::tables::outbox::withdraw_in(tx.as_mut(), appointment_id).await?;
        let mail = visit_mail(
            &patient,
            appointment_id,
            &slot,
            &schedule,
            &self.settings.public_url,
        )?;
        let sequence = a["meta"]["versionId"]
            .as_str()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1);
        notify::booked(tx.as_mut(), &mail, &self.settings, now, sequence).await?;
        tx.commit().await.map_err(RepoError::from)?;
        for old in old_slots.iter().filter(|s| *s != new_slot_id) {
            self.offer_freed(old, now).await;
        }
        booked(appointment_id, "booked", &moved, &slot, &schedule)
    }

    /// Record an arrival, a no-show or the end of a visit. A patient may only say they have
    /// arrived, and only around the visit's start.
    pub async fn mark(
        &self,
        actor: &Actor,
        appointment_id: &str,
        mark: Mark,
        now: Timestamp,
    ) -> Result<(), BookingError> {
        let (mut a, version) = self.current(appointment_id).await?;
        self.check_owner(actor, &a)?;
        let start = a["start"]
            .as_str()
            .and_then(crate::time::parse_instant)
            .ok_or_else(|| BookingError::invalid("the appointment has no start"))?;
        let status = a["status"].as_str().unwrap_or("");
        let allowed = match mark {
            Mark::Arrived => matches!(status, "booked" | "checked-in"),
            Mark::NoShow => matches!(status, "booked") && now >= start,
            Mark::Fulfilled => matches!(status, "arrived" | "checked-in" | "booked"),
        };
        if !allowed {
            return Err(BookingError::Refused(format!(
                "an appointment that is {status} cannot be marked {}{}",
                mark.status(),
                if mark == Mark::NoShow && now < start {
                    " before it starts"
                } else {
                    ""
                }
            )));
        }
        if let Actor::Patient(_) = actor {
            if mark != Mark::Arrived {
                return Err(BookingError::Refused("only the clinic records this".into()));
            }
            if !may_check_in(start, now) {
                return Err(BookingError::Refused(
                    "check-in opens an hour before your visit".into(),
                ));
            }
        }
        a["status"] = json!(mark.status());
        let mut tx = self.repo.begin().await?;
        self.repo
            .update_in_tx(tx.as_mut(), a, Some(version))
            .await?;
        if mark == Mark::NoShow {
            carefront_store::tables::outbox::withdraw_in(tx.as_mut(), appointment_id).await?;
        }
        tx.commit().await.map_err(RepoError::from)?;
        Ok(())
    }

    /// The patient's live hold on `slot`, if they already have one.
    async fn own_hold(
        &self,
        slot: &SlotRow,
        patient_id: &str,
        now: Timestamp,
    ) -> Result<Option<Held>, BookingError> {
        let Some(holder) = &slot.appointment_id else {
            return Ok(None);
        };
        let Ok((a, _)) = self.current(holder).await else {
            return Ok(None);
        };
        let expires = extension(&a, EXT_HOLD_EXPIRES)
            .and_then(|e| e["valueInstant"].as_str())
            .and_then(crate::time::parse_instant);
        match expires {
            Some(t)
                if a["status"] == "pending"
                    && t > now
                    && patient_of(&a).as_deref() == Some(patient_id) =>
            {
                let schedule = schedule_row(&self.repo, &slot.schedule_id).await?;
                Ok(Some(Held {
                    appointment_id: holder.clone(),
                    slot_id: slot.slot_id.clone(),
                    expires: instant_text(t, &zone(&schedule.zone)?),
                }))
            }
            _ => Ok(None),
        }
    }

    /// The current Appointment and its version.
    pub async fn current(&self, appointment_id: &str) -> Result<(Value, i64), BookingError> {
        let stored = self.repo.read("Appointment", appointment_id).await?;
        Ok((read_json(&stored)?, stored.version))
    }

    async fn current_in(
        &self,
        tx: &mut dyn StoreTx,
        appointment_id: &str,
    ) -> Result<(Value, i64), BookingError> {
        match tx.read("Appointment", appointment_id).await? {
            Some(s) if !s.deleted => Ok((read_json(&s)?, s.version)),
            _ => Err(BookingError::NotFound(format!(
                "Appointment/{appointment_id} is not known"
            ))),
        }
    }

    pub(crate) async fn schedule_of(&self, slot_id: &str) -> Result<IndexedSchedule, BookingError> {
        let slot = slot_row(&self.repo, slot_id).await?;
        schedule_row(&self.repo, &slot.schedule_id).await
    }

    pub(crate) async fn patient(&self, patient_id: &str) -> Result<Value, BookingError> {
        let stored = self
            .repo
            .read("Patient", patient_id)
            .await
            .map_err(|e| match e {
                RepoError::NotFound(_) | RepoError::Gone(_) => {
                    BookingError::NotFound(format!("Patient/{patient_id} is not known"))
                }
                other => other.into(),
            })?;
        read_json(&stored)
    }

    async fn patient_name(&self, patient_id: &str) -> Result<String, BookingError> {
        Ok(person_name(&self.patient(patient_id).await?))
    }

    fn check_patient(&self, actor: &Actor, patient_id: &str) -> Result<(), BookingError> {
        match actor {
            Actor::Patient(me) if me != patient_id => Err(BookingError::Refused(
                "patients book for themselves only".into(),
            )),
            _ => Ok(()),
        }
    }

    fn check_owner(&self, actor: &Actor, appointment: &Value) -> Result<(), BookingError> {
        match actor {
            Actor::Patient(me) if patient_of(appointment).as_deref() != Some(me.as_str()) => {
                // Not "forbidden": whether someone else's appointment exists is not shown.
                Err(BookingError::NotFound(
                    "this appointment is not known".into(),
                ))
            }
            _ => Ok(()),
        }
    }

    /// A lost race becomes [`BookingError::Taken`] with alternatives; other errors pass.
    async fn taken_or(
        &self,
        e: RepoError,
        schedule: &IndexedSchedule,
        slot: &SlotRow,
        now: Timestamp,
    ) -> BookingError {
        match BookingError::from(e) {
            BookingError::Taken { .. } => BookingError::Taken {
                alternatives: self.alternatives(schedule, slot, now).await,
            },
            other => other,
        }
    }

    /// Free times like the one that was lost: the same clinician first, then others of the
    /// same specialty and modality nearest to the same place.
    pub(crate) async fn alternatives(
        &self,
        schedule: &IndexedSchedule,
        slot: &SlotRow,
        now: Timestamp,
    ) -> Vec<Offer> {
        let query = SlotQuery {
            specialty: Some(schedule.specialty.clone()),
            modality: Modality::parse(&schedule.modality),
            near: schedule.position,
            from: Some(from_seconds(slot.starts_at).max(now)),
            sort: Sort::Nearest,
            limit: 3,
            slots_per_result: 3,
            ..SlotQuery::default()
        };
        match self.search(&query, now).await {
            Ok(offers) => offers,
            Err(e) => {
                tracing::warn!(error = %e, "no alternatives for a lost slot");
                Vec::new()
            }
        }
    }

    /// Search free slots as of `now`.
    pub async fn search(
        &self,
        query: &SlotQuery,
        now: Timestamp,
    ) -> Result<Vec<Offer>, BookingError> {
        crate::search::search(self.repo.store().as_ref(), query, now).await
    }

    /// Whether an appointment's status still holds its slot.
    pub fn holds_slot(status: &str) -> bool {
        HOLDING.contains(&status)
    }

    /// Whether the patient may still cancel or move the visit themselves.
    pub async fn patient_may_change(&self, appointment: &Value, now: Timestamp) -> bool {
        let Some(slot_id) = slot_ids(appointment).into_iter().next() else {
            return appointment["status"] == "waitlist";
        };
        match (
            slot_row(&self.repo, &slot_id).await,
            self.schedule_of(&slot_id).await,
        ) {
            (Ok(slot), Ok(schedule)) => {
                appointment["status"] == "booked"
                    && schedule.policy().is_ok_and(|rules| {
                        patient_may_cancel(&rules, from_seconds(slot.starts_at), now)
                    })
            }
            _ => false,
        }
    }

    /// Whether the overbooking extension is on an appointment (shown to staff).
    pub fn overbooking(appointment: &Value) -> Option<String> {
        extension(appointment, EXT_OVERBOOK)
            .and_then(|e| e["extension"][0]["valueString"].as_str())
            .map(str::to_owned)
    }
}

fn booked(
    id: &str,
    status: &str,
    a: &Value,
    slot: &SlotRow,
    schedule: &IndexedSchedule,
) -> Result<Booked, BookingError> {
    let tz = zone(&schedule.zone)?;
    Ok(Booked {
        appointment_id: id.to_owned(),
        status: status.to_owned(),
        start: instant_text(from_seconds(slot.starts_at), &tz),
        end: instant_text(from_seconds(slot.ends_at), &tz),
        practitioner_name: schedule.practitioner_name.clone(),
        location_name: schedule.location_name.clone(),
        modality: schedule.modality.clone(),
        appointment: a.clone(),
    })
}

pub(crate) fn visit_mail(
    patient: &Value,
    appointment_id: &str,
    slot: &SlotRow,
    schedule: &IndexedSchedule,
    public_url: &str,
) -> Result<VisitMail, BookingError> {
    let email = patient["telecom"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|t| t["system"] == "email")
        .and_then(|t| t["value"].as_str())
        .map(str::to_owned);
    let french = patient["communication"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| {
            c["language"]["coding"][0]["code"]
                .as_str()
                .is_some_and(|l| l.starts_with("fr"))
        })
        || schedule.zone == "Europe/Paris" && patient["communication"].is_null();
    Ok(VisitMail {
        to: email,
        french,
        appointment_id: appointment_id.to_owned(),
        start: from_seconds(slot.starts_at),
        end: from_seconds(slot.ends_at),
        zone: zone(&schedule.zone)?,
        location_name: schedule.location_name.clone(),
        modality: Modality::parse(&schedule.modality).unwrap_or(Modality::InClinic),
        public_url: public_url.trim_end_matches('/').to_owned(),
    })
}
