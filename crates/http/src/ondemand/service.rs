//! The on-demand queue's workflow: join, see one's place, leave, and take the next patient.
//! Who may do what is decided from the [`Caller`] here, so the JSON API and the pages share
//! it; every change is published to the live topic `ondemand` (queue pages) and to the
//! patient (their own page).

use carefront_auth::{Principal, Role};
use carefront_booking::scheduling::jiff::{SignedDuration, Timestamp};
use carefront_store::repository::{format_instant, now_micros, RepoError};
use carefront_store::tables::accounts;
use carefront_triage::{Level, Modality};
use serde::Serialize;
use serde_json::{json, Value};

use super::index::{self, Row};
use super::model::{self, State};
use crate::auth::Caller;
use crate::live::{self, Topic};
use crate::AppState;

/// Places shown on the clinicians' queue.
pub const SHOWN: usize = 50;
/// Minutes per patient ahead when the queue has no recent history.
pub const DEFAULT_MINUTES: i64 = 10;
/// Candidates tried, in order, when others take the first ones meanwhile.
const CANDIDATES: usize = 5;

#[derive(Debug, thiserror::Error)]
pub enum OnDemandError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    /// The request cannot be done as things stand: the message says why.
    #[error("{0}")]
    Refused(String),
    #[error("the store failed")]
    Store(RepoError),
}

impl From<RepoError> for OnDemandError {
    fn from(e: RepoError) -> Self {
        OnDemandError::Store(e)
    }
}

impl OnDemandError {
    pub fn status(&self) -> u16 {
        match self {
            OnDemandError::NotFound(_) => 404,
            OnDemandError::Forbidden(_) => 403,
            OnDemandError::Refused(_) => 409,
            OnDemandError::Store(e) => e.status(),
        }
    }
}

type Result<T> = std::result::Result<T, OnDemandError>;

/// The live topic of the queue pages.
pub fn topic() -> Topic {
    Topic::Named("ondemand".into())
}

/// The patient record of a patient caller.
pub fn patient_of(caller: &Caller) -> Result<String> {
    match &caller.principal {
        Principal::Account(a) if a.role == Role::Patient => a
            .patient_id
            .as_ref()
            .map(|p| p.id().to_owned())
            .ok_or_else(|| {
                OnDemandError::Forbidden("this account is not linked to a patient record".into())
            }),
        _ => Err(OnDemandError::Forbidden(
            "only patients join the on-demand queue".into(),
        )),
    }
}

/// The on-demand pool: practitioner accounts linked to a Practitioner record (see the module
/// documentation). Their Practitioner id.
pub async fn in_pool(state: &AppState, caller: &Caller) -> Result<String> {
    let refused = || OnDemandError::Forbidden("the on-demand queue is for its clinicians".into());
    let Principal::Account(a) = &caller.principal else {
        return Err(refused());
    };
    if a.role != Role::Practitioner {
        return Err(refused());
    }
    let account = accounts::by_id(state.repo.store().as_ref(), &a.id)
        .await
        .map_err(RepoError::from)?
        .ok_or_else(refused)?;
    account
        .fhir_ref
        .as_deref()
        .and_then(|r| r.strip_prefix("Practitioner/"))
        .map(str::to_owned)
        .ok_or_else(refused)
}

/// Where a patient stands.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Status {
    pub id: String,
    pub patient_id: String,
    /// `waiting`, `taken` or `left`.
    pub state: &'static str,
    pub level: &'static str,
    /// 1 for the next patient taken (waiting only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub place: Option<i64>,
    /// Estimated minutes until a clinician takes them (waiting only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wait_minutes: Option<i64>,
    /// The video visit, once taken.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub appointment_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub visit: Option<String>,
}

/// Minutes per patient at the pace the queue was recently served (see the module
/// documentation).
pub fn minutes_per_patient(takes: &[i64]) -> i64 {
    if takes.len() < 3 {
        return DEFAULT_MINUTES;
    }
    let span = takes[takes.len() - 1] - takes[0];
    let gaps = (takes.len() - 1) as i64;
    (span / gaps / 60_000_000).clamp(2, 30)
}

async fn status_of(state: &AppState, row: Row) -> Result<Status> {
    let store = state.repo.store().as_ref();
    let (place, wait_minutes) = if row.state == State::Waiting {
        let place = index::place(store, &row).await?;
        let since = now_micros() - 2 * 3600 * 1_000_000;
        let pace = minutes_per_patient(&index::takes_since(store, since).await?);
        (Some(place), Some(place * pace))
    } else {
        (None, None)
    };
    Ok(Status {
        visit: row.appointment_id.as_ref().map(|a| format!("/visits/{a}")),
        id: row.encounter_id,
        patient_id: row.patient_id,
        state: row.state.code(),
        level: row.level.code(),
        place,
        wait_minutes,
        appointment_id: row.appointment_id,
    })
}

/// The entry `id` as `caller` may see it: the patient's own; clinicians of the pool any.
pub async fn status(state: &AppState, caller: &Caller, id: &str) -> Result<Status> {
    let not_found = || OnDemandError::NotFound(format!("no on-demand entry {id}"));
    let row = index::get(state.repo.store().as_ref(), id)
        .await?
        .ok_or_else(not_found)?;
    let mine = patient_of(caller).is_ok_and(|p| p == row.patient_id);
    if !mine && in_pool(state, caller).await.is_err() {
        // Another patient's entry is not disclosed.
        return Err(not_found());
    }
    status_of(state, row).await
}

/// The caller's current entry, if they are waiting or were just taken.
pub async fn current(state: &AppState, caller: &Caller) -> Result<Option<Status>> {
    let patient = patient_of(caller)?;
    match index::latest_of(state.repo.store().as_ref(), &patient).await? {
        Some(row) if row.state != State::Left => Ok(Some(status_of(state, row).await?)),
        _ => Ok(None),
    }
}

/// Whether a triage outcome sends the patient to the on-demand queue: urgent, by video.
pub fn eligible(level: Level, modality: Option<Modality>) -> bool {
    level == Level::Urgent && modality == Some(Modality::Video)
}

/// The patient joins the queue from triage outcome `assessment_id` (theirs, urgent, by
/// video). Joining again while waiting answers the same entry.
pub async fn join(state: &AppState, caller: &Caller, assessment_id: &str) -> Result<Status> {
    let patient = patient_of(caller)?;
    let not_found = || OnDemandError::NotFound(format!("no triage outcome {assessment_id}"));
    let a = state
        .triage
        .assessment(assessment_id)
        .await
        .map_err(|_| not_found())?;
    if a.patient_id != patient {
        return Err(not_found());
    }
    if !eligible(a.level, a.modality) {
        return Err(OnDemandError::Refused(
            "the on-demand queue is for urgent problems a video visit can deal with".into(),
        ));
    }
    // One entry per patient while waiting: conditional creates serialise per criteria.
    let criteria = format!(
        "subject=Patient/{patient}&status=arrived&type={}|{}",
        model::KIND_SYSTEM,
        model::KIND_CODE
    );
    let entry = model::entry(
        &patient,
        assessment_id,
        a.level,
        &format_instant(now_micros()),
    );
    let written = state
        .repo
        .create("Encounter", entry, Some(&criteria))
        .await?;
    let row = index::get(state.repo.store().as_ref(), &written.resource.id)
        .await?
        .ok_or_else(|| OnDemandError::Refused("the queue entry could not be read back".into()))?;
    if written.created {
        changed(state, &row.patient_id, &row.encounter_id, "joined").await;
    }
    status_of(state, row).await
}

/// The patient leaves the queue (before a clinician takes them).
pub async fn leave(state: &AppState, caller: &Caller, id: &str) -> Result<Status> {
    let patient = patient_of(caller)?;
    let not_found = || OnDemandError::NotFound(format!("no on-demand entry {id}"));
    let stored = state
        .repo
        .read("Encounter", id)
        .await
        .map_err(|_| not_found())?;
    let mut e: Value = serde_json::from_slice(&stored.content).map_err(|_| not_found())?;
    let theirs = carefront_booking::index::reference_id(&e["subject"], "Patient")
        .is_some_and(|p| p == patient);
    if !model::is_entry(&e) || !theirs {
        return Err(not_found());
    }
    match State::of(&e) {
        State::Waiting => {}
        State::Taken => {
            return Err(OnDemandError::Refused(
                "a clinician has already taken you: join the visit".into(),
            ))
        }
        State::Left => return status(state, caller, id).await,
    }
    model::left(&mut e, &format_instant(now_micros()));
    let checked = state.repo.check(e)?;
    let mut tx = state.repo.begin().await?;
    state
        .repo
        .update_checked_in_tx(tx.as_mut(), &checked, Some(stored.version))
        .await
        .map_err(|e| match e {
            RepoError::PreconditionFailed(_) => {
                OnDemandError::Refused("the entry changed meanwhile; reload".into())
            }
            other => other.into(),
        })?;
    tx.commit().await.map_err(RepoError::from)?;
    changed(state, &patient, id, "left").await;
    status(state, caller, id).await
}

/// One patient on the clinicians' queue.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Queued {
    pub id: String,
    pub patient_id: String,
    pub assessment_id: Option<String>,
    pub level: &'static str,
    pub place: usize,
    pub waited_minutes: i64,
}

/// The queue, as the pool's clinicians see it.
pub async fn queue(state: &AppState, caller: &Caller) -> Result<Vec<Queued>> {
    in_pool(state, caller).await?;
    let now = now_micros();
    Ok(index::waiting(state.repo.store().as_ref(), SHOWN)
        .await?
        .into_iter()
        .enumerate()
        .map(|(n, r)| Queued {
            waited_minutes: ((now - r.joined_at) / 60_000_000).max(0),
            place: n + 1,
            id: r.encounter_id,
            patient_id: r.patient_id,
            assessment_id: r.assessment_id,
            level: r.level.code(),
        })
        .collect())
}

/// What taking a patient made.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Taken {
    pub id: String,
    pub patient_id: String,
    pub appointment_id: String,
    /// The video visit page, for both.
    pub visit: String,
}

/// The clinician takes the next patient: most urgent, then longest waiting. Exactly one
/// clinician gets each patient (the index row is claimed in the same transaction as the
/// writes); when others take the first candidates meanwhile, the next ones are tried.
pub async fn take(state: &AppState, caller: &Caller) -> Result<Taken> {
    let practitioner = in_pool(state, caller).await?;
    for _round in 0..3 {
        let candidates = index::waiting(state.repo.store().as_ref(), CANDIDATES).await?;
        if candidates.is_empty() {
            break;
        }
        for row in candidates {
            if let Some(taken) = try_take(state, &row, &practitioner).await? {
                changed(state, &taken.patient_id, &taken.id, "taken").await;
                live::publish(
                    state,
                    &Topic::Patient(taken.patient_id.clone()),
                    "ondemand-ready",
                    json!({ "id": taken.id, "appointment_id": taken.appointment_id, "visit": taken.visit }),
                )
                .await;
                return Ok(taken);
            }
        }
    }
    Err(OnDemandError::Refused("nobody is waiting".into()))
}

async fn display_name(state: &AppState, resource_type: &str, id: &str) -> String {
    state
        .repo
        .read(resource_type, id)
        .await
        .ok()
        .and_then(|s| serde_json::from_slice::<Value>(&s.content).ok())
        .map(|r| carefront_booking::index::person_name(&r))
        .unwrap_or_default()
}

/// Take `row` for `practitioner`, or `None` when another clinician (or leaving) won.
async fn try_take(state: &AppState, row: &Row, practitioner: &str) -> Result<Option<Taken>> {
    let stored = match state.repo.read("Encounter", &row.encounter_id).await {
        Ok(s) => s,
        Err(RepoError::NotFound(_) | RepoError::Gone(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let mut encounter: Value = serde_json::from_slice(&stored.content)
        .map_err(|_| OnDemandError::Refused("a queue entry is damaged".into()))?;
    if State::of(&encounter) != State::Waiting {
        return Ok(None);
    }
    let now = Timestamp::now();
    let start = format_instant(now.as_microsecond());
    let end =
        format_instant((now + SignedDuration::from_mins(model::VISIT_MINUTES)).as_microsecond());
    let appointment_id = uuid::Uuid::new_v4().to_string();
    let patient_name = display_name(state, "Patient", &row.patient_id).await;
    let practitioner_name = display_name(state, "Practitioner", practitioner).await;
    let appointment = state.repo.check(model::appointment(
        &appointment_id,
        (&row.patient_id, &patient_name),
        (practitioner, &practitioner_name),
        row.assessment_id.as_deref(),
        &start,
        &end,
    ))?;
    model::taken(
        &mut encounter,
        &appointment_id,
        (practitioner, &practitioner_name),
        &start,
    );
    let encounter = state.repo.check(encounter)?;
    let mut tx = state.repo.begin().await?;
    if !index::claim(tx.as_mut(), &row.encounter_id, practitioner).await? {
        return Ok(None);
    }
    state
        .repo
        .create_checked_in_tx(tx.as_mut(), &appointment)
        .await?;
    match state
        .repo
        .update_checked_in_tx(tx.as_mut(), &encounter, Some(stored.version))
        .await
    {
        Ok(_) => {}
        Err(RepoError::PreconditionFailed(_) | RepoError::Conflict(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    tx.commit().await.map_err(RepoError::from)?;
    Ok(Some(Taken {
        id: row.encounter_id.clone(),
        patient_id: row.patient_id.clone(),
        visit: format!("/visits/{appointment_id}"),
        appointment_id,
    }))
}

/// Most patients told of a change in the queue (their place moved).
const TOLD: usize = 200;

/// Tell the queue pages, the patient concerned and everyone still waiting (their place may
/// have moved) that the queue changed.
async fn changed(state: &AppState, patient_id: &str, id: &str, what: &str) {
    let data = json!({ "id": id, "change": what });
    live::publish(state, &topic(), "queue", data.clone()).await;
    let mut patients = vec![patient_id.to_owned()];
    match index::waiting(state.repo.store().as_ref(), TOLD).await {
        Ok(rows) => patients.extend(rows.into_iter().map(|r| r.patient_id)),
        Err(_) => tracing::warn!("the patients waiting could not be told of a change"),
    }
    patients.sort();
    patients.dedup();
    for p in patients {
        live::publish(state, &Topic::Patient(p), "queue", data.clone()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pace_follows_recent_takes_within_bounds() {
        assert_eq!(minutes_per_patient(&[]), DEFAULT_MINUTES);
        assert_eq!(minutes_per_patient(&[1, 2]), DEFAULT_MINUTES);
        let min = 60_000_000;
        assert_eq!(minutes_per_patient(&[0, 6 * min, 12 * min]), 6);
        assert_eq!(minutes_per_patient(&[0, 1, 2]), 2, "never below 2 minutes");
        assert_eq!(minutes_per_patient(&[0, 60 * min, 120 * min]), 30);
    }

    #[test]
    fn only_urgent_video_outcomes_join() {
        assert!(eligible(Level::Urgent, Some(Modality::Video)));
        assert!(!eligible(Level::Urgent, Some(Modality::InClinic)));
        assert!(!eligible(Level::Routine, Some(Modality::Video)));
        assert!(!eligible(Level::Emergency, Some(Modality::Emergency)));
    }
}
