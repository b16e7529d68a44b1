//! Writing a visit note, and reading visits back for the patient's record.

use carefront_booking::index::{person_name, reference_id};
use carefront_booking::scheduling::jiff::{SignedDuration, Timestamp};
use carefront_store::repository::{format_instant, RepoError};
use serde_json::Value;

use super::note::{self, Context, Note};
use crate::visits::encounter;
use crate::AppState;

#[derive(Debug, thiserror::Error)]
pub enum VisitError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    /// This visit has its note already (one note per visit).
    #[error("this visit's note is written already")]
    Written { encounter_id: String },
    #[error("the store failed ({status})")]
    Failed { status: u16 },
}

impl From<RepoError> for VisitError {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::NotFound(m) => VisitError::NotFound(m),
            RepoError::Gone(_) => VisitError::NotFound("deleted".into()),
            other => VisitError::Failed {
                status: other.status(),
            },
        }
    }
}

impl From<crate::ApiError> for VisitError {
    fn from(e: crate::ApiError) -> Self {
        match e.status.as_u16() {
            404 | 410 => VisitError::NotFound("not found".into()),
            status => VisitError::Failed { status },
        }
    }
}

type Result<T> = std::result::Result<T, VisitError>;

pub fn json(content: &[u8]) -> Result<Value> {
    serde_json::from_slice(content).map_err(|_| VisitError::Failed { status: 500 })
}

/// An appointment as the note needs it.
#[derive(Debug, Clone)]
pub struct Visit {
    pub appointment: Value,
    pub patient_id: String,
    pub practitioners: Vec<String>,
}

fn actors(appointment: &Value, resource_type: &str) -> Vec<String> {
    appointment["participant"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .filter_map(|p| reference_id(&p["actor"], resource_type))
                .collect()
        })
        .unwrap_or_default()
}

/// Appointment `id`, if `practitioner_id` is one of its practitioners (else not found: the
/// visit is not disclosed).
pub async fn visit_for(state: &AppState, id: &str, practitioner_id: &str) -> Result<Visit> {
    let not_found = || VisitError::NotFound(format!("no appointment {id}"));
    let stored = state
        .repo
        .read("Appointment", id)
        .await
        .map_err(|_| not_found())?;
    let appointment = json(&stored.content)?;
    let practitioners = actors(&appointment, "Practitioner");
    if !practitioners.iter().any(|p| p == practitioner_id) {
        return Err(not_found());
    }
    let patient_id = actors(&appointment, "Patient")
        .into_iter()
        .next()
        .ok_or_else(not_found)?;
    Ok(Visit {
        appointment,
        patient_id,
        practitioners,
    })
}

/// The display name of a Patient or Practitioner, or empty.
pub async fn name_of(state: &AppState, resource_type: &str, id: &str) -> String {
    match state.repo.read(resource_type, id).await {
        Ok(s) => json(&s.content)
            .map(|r| person_name(&r))
            .unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// Write `note` for appointment `appointment_id` by `practitioner_id` (one of its
/// practitioners): the Encounter, then Composition, Conditions, Observations and follow-up
/// Task in one transaction, then the Encounter finished. Answers the Encounter id.
pub async fn save(
    state: &AppState,
    appointment_id: &str,
    practitioner_id: &str,
    note: &Note,
) -> Result<String> {
    let visit = visit_for(state, appointment_id, practitioner_id).await?;
    let (encounter_id, _) = encounter::ensure(state, appointment_id).await?;
    let now = Timestamp::now();
    let cx = Context {
        patient_id: visit.patient_id.clone(),
        encounter_id: encounter_id.clone(),
        practitioner_id: practitioner_id.to_owned(),
        practitioner_name: name_of(state, "Practitioner", practitioner_id).await,
        now: format_instant(now.as_microsecond()),
        follow_up_by: note.follow_up_days.map(|d| {
            let by = now + SignedDuration::from_hours(24 * i64::from(d));
            by.to_string().get(..10).unwrap_or_default().to_owned()
        }),
    };
    // Validate and index outside the transaction (on SQLite it holds the single writer).
    let checked = note::resources(note, &cx)
        .into_iter()
        .map(|r| state.repo.check(r))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let mut tx = state.repo.begin().await?;
    let composition = note::composition_id(&encounter_id);
    if tx
        .read("Composition", &composition)
        .await
        .map_err(RepoError::from)?
        .is_some()
    {
        drop(tx);
        // Written before, but perhaps not closed: closing is idempotent.
        encounter::finish(state, appointment_id).await?;
        return Err(VisitError::Written { encounter_id });
    }
    for c in &checked {
        state.repo.create_checked_in_tx(tx.as_mut(), c).await?;
    }
    tx.commit().await.map_err(RepoError::from)?;
    encounter::finish(state, appointment_id).await?;
    Ok(encounter_id)
}

/// Resources of `resource_type` that point at the Encounter (`encounter=`).
async fn of_encounter(
    state: &AppState,
    resource_type: &str,
    encounter_id: &str,
) -> Result<Vec<Value>> {
    let pairs = [
        ("encounter".to_owned(), format!("Encounter/{encounter_id}")),
        ("_count".to_owned(), "100".to_owned()),
    ];
    let query = state
        .repo
        .parse_search(Some(resource_type), &pairs, false)?;
    let page = state.repo.search(&query).await?;
    page.matches.iter().map(|s| json(&s.content)).collect()
}

/// A visit as its record holds it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub encounter: Value,
    pub patient_id: String,
    pub note: Option<Value>,
    pub conditions: Vec<Value>,
    pub observations: Vec<Value>,
    pub tasks: Vec<Value>,
}

/// Encounter `id` and what was written on it; who may read it is the caller's business.
pub async fn recorded(state: &AppState, id: &str) -> Result<Recorded> {
    let not_found = || VisitError::NotFound(format!("no visit {id}"));
    let stored = state
        .repo
        .read("Encounter", id)
        .await
        .map_err(|_| not_found())?;
    let encounter = json(&stored.content)?;
    let patient_id = reference_id(&encounter["subject"], "Patient").ok_or_else(not_found)?;
    let note = state
        .repo
        .read("Composition", &note::composition_id(id))
        .await
        .ok()
        .map(|s| json(&s.content))
        .transpose()?;
    Ok(Recorded {
        note,
        conditions: of_encounter(state, "Condition", id).await?,
        observations: of_encounter(state, "Observation", id).await?,
        tasks: of_encounter(state, "Task", id).await?,
        encounter,
        patient_id,
    })
}

/// The patient's finished visits, newest first.
pub async fn finished_of(state: &AppState, patient_id: &str) -> Result<Vec<Value>> {
    let pairs = [
        ("subject".to_owned(), format!("Patient/{patient_id}")),
        ("status".to_owned(), "finished".to_owned()),
        ("_sort".to_owned(), "-date".to_owned()),
        ("_count".to_owned(), "100".to_owned()),
    ];
    let query = state.repo.parse_search(Some("Encounter"), &pairs, false)?;
    let page = state.repo.search(&query).await?;
    page.matches.iter().map(|s| json(&s.content)).collect()
}
