//! The `ondemand_queue` table: one row per on-demand Encounter, kept by a write hook in the
//! same transaction as the resource (whoever writes it: this service or a FHIR client), read
//! most urgent first, then longest waiting; and the claim that lets one clinician only take
//! a patient.

use async_trait::async_trait;
use carefront_store::repository::{now_micros, RepoError, Repository, WriteHook};
use carefront_store::sql::{statement, Bind, Dialect, Sql};
use carefront_store::{Cell, NewVersion, Store, StoreTx};
use carefront_triage::Level;
use carefront_triage_service::queue::{level_of, rank};
use serde_json::Value;

use super::model::{self, State};

/// The hook to register on the repository (`Repository::with_hook`).
pub struct QueueIndex;

fn instant(text: Option<&str>) -> Option<i64> {
    text?
        .parse::<carefront_booking::scheduling::jiff::Timestamp>()
        .ok()
        .map(|t| t.as_microsecond())
}

fn priority_rank(encounter: &Value) -> i64 {
    let level = match encounter["priority"]["coding"][0]["code"].as_str() {
        Some("EM") => Level::Emergency,
        Some("UR") => Level::Urgent,
        Some("R") => Level::Routine,
        _ => Level::SelfCare,
    };
    rank(level)
}

#[async_trait]
impl WriteHook for QueueIndex {
    async fn after_write(
        &self,
        _repo: &Repository,
        tx: &mut dyn StoreTx,
        version: &NewVersion,
    ) -> Result<(), RepoError> {
        if version.resource_type != "Encounter" {
            return Ok(());
        }
        let dialect = Dialect::of(tx.backend());
        tx.execute(statement(
            dialect,
            "DELETE FROM ondemand_queue WHERE encounter_id = {}",
            vec![Bind::Text(version.id.clone())],
        ))
        .await?;
        if version.deleted {
            return Ok(());
        }
        let Some(e) = serde_json::from_slice::<Value>(&version.content)
            .ok()
            .filter(model::is_entry)
        else {
            // Any other encounter: not queued.
            return Ok(());
        };
        let Some(patient_id) = carefront_booking::index::reference_id(&e["subject"], "Patient")
        else {
            return Ok(());
        };
        let participant = &e["participant"][0];
        tx.execute(statement(
            dialect,
            "INSERT INTO ondemand_queue (encounter_id, patient_id, assessment_id, urgency, joined_at, state, appointment_id, practitioner_id, taken_at) \
             VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {})",
            vec![
                Bind::Text(version.id.clone()),
                Bind::Text(patient_id),
                Bind::OptText(model::assessment_of(&e)),
                Bind::Int(priority_rank(&e)),
                Bind::Int(instant(e["period"]["start"].as_str()).unwrap_or_else(now_micros)),
                Bind::Text(State::of(&e).code().to_owned()),
                Bind::OptText(carefront_booking::index::reference_id(&e["appointment"][0], "Appointment")),
                Bind::OptText(carefront_booking::index::reference_id(&participant["individual"], "Practitioner")),
                Bind::OptInt(instant(participant["period"]["start"].as_str())),
            ],
        ))
        .await?;
        Ok(())
    }
}

/// One row of the queue.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub encounter_id: String,
    pub patient_id: String,
    pub assessment_id: Option<String>,
    pub level: Level,
    /// Microseconds since the Unix epoch.
    pub joined_at: i64,
    pub state: State,
    pub appointment_id: Option<String>,
    pub practitioner_id: Option<String>,
}

const COLUMNS: &str = "encounter_id, patient_id, assessment_id, urgency, joined_at, state, appointment_id, practitioner_id";
/// Most urgent first, then longest waiting (the encounter id breaks ties so every reader
/// sees the same order).
const ORDER: &str = "ORDER BY urgency DESC, joined_at ASC, encounter_id ASC";

fn row(cells: Vec<Cell>) -> Row {
    let mut cells = cells.into_iter();
    let mut next = || cells.next().unwrap_or(Cell::Null);
    Row {
        encounter_id: next().into_text().unwrap_or_default(),
        patient_id: next().into_text().unwrap_or_default(),
        assessment_id: next().into_text(),
        level: level_of(next().int().unwrap_or(0)),
        joined_at: next().int().unwrap_or(0),
        state: State::parse(next().text().unwrap_or("")),
        appointment_id: next().into_text(),
        practitioner_id: next().into_text(),
    }
}

fn sql(store: &dyn Store, text: &str, binds: Vec<Bind>) -> Sql {
    statement(Dialect::of(store.backend()), text, binds)
}

/// Patients waiting, in the order they will be taken.
pub async fn waiting(store: &dyn Store, limit: usize) -> Result<Vec<Row>, RepoError> {
    let rows = store
        .query(sql(
            store,
            &format!(
                "SELECT {COLUMNS} FROM ondemand_queue WHERE state = 'waiting' {ORDER} LIMIT {{}}"
            ),
            vec![Bind::Int(limit as i64)],
        ))
        .await?;
    Ok(rows.into_iter().map(row).collect())
}

/// The entry `encounter_id`.
pub async fn get(store: &dyn Store, encounter_id: &str) -> Result<Option<Row>, RepoError> {
    let rows = store
        .query(sql(
            store,
            &format!("SELECT {COLUMNS} FROM ondemand_queue WHERE encounter_id = {{}}"),
            vec![Bind::Text(encounter_id.to_owned())],
        ))
        .await?;
    Ok(rows.into_iter().next().map(row))
}

/// The patient's latest entry.
pub async fn latest_of(store: &dyn Store, patient_id: &str) -> Result<Option<Row>, RepoError> {
    let rows = store
        .query(sql(
            store,
            &format!("SELECT {COLUMNS} FROM ondemand_queue WHERE patient_id = {{}} ORDER BY joined_at DESC LIMIT 1"),
            vec![Bind::Text(patient_id.to_owned())],
        ))
        .await?;
    Ok(rows.into_iter().next().map(row))
}

/// How many wait before `entry` (1 for the next one taken).
pub async fn place(store: &dyn Store, entry: &Row) -> Result<i64, RepoError> {
    let rank = rank(entry.level);
    let rows = store
        .query(sql(
            store,
            "SELECT COUNT(*) FROM ondemand_queue WHERE state = 'waiting' AND (urgency > {} \
             OR (urgency = {} AND (joined_at < {} OR (joined_at = {} AND encounter_id < {}))))",
            vec![
                Bind::Int(rank),
                Bind::Int(rank),
                Bind::Int(entry.joined_at),
                Bind::Int(entry.joined_at),
                Bind::Text(entry.encounter_id.clone()),
            ],
        ))
        .await?;
    let ahead = rows
        .first()
        .and_then(|r| r.first())
        .and_then(Cell::int)
        .unwrap_or(0);
    Ok(ahead + 1)
}

/// When patients were taken since `since` (microseconds), oldest first.
pub async fn takes_since(store: &dyn Store, since: i64) -> Result<Vec<i64>, RepoError> {
    let rows = store
        .query(sql(
            store,
            "SELECT taken_at FROM ondemand_queue WHERE taken_at IS NOT NULL AND taken_at > {} ORDER BY taken_at ASC",
            vec![Bind::Int(since)],
        ))
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| r.first().and_then(Cell::int))
        .collect())
}

/// Claim the waiting entry `encounter_id` for a clinician inside `tx`: false when someone
/// else took it (or it left) first. On PostgreSQL the row lock makes a racing claim wait
/// and re-check `state` after the first commits; on SQLite writers are serial.
pub async fn claim(
    tx: &mut dyn StoreTx,
    encounter_id: &str,
    practitioner_id: &str,
) -> Result<bool, RepoError> {
    let claimed = tx
        .execute(statement(
            Dialect::of(tx.backend()),
            "UPDATE ondemand_queue SET state = 'taken', practitioner_id = {}, taken_at = {} \
             WHERE encounter_id = {} AND state = 'waiting'",
            vec![
                Bind::Text(practitioner_id.to_owned()),
                Bind::Int(now_micros()),
                Bind::Text(encounter_id.to_owned()),
            ],
        ))
        .await?;
    Ok(claimed == 1)
}
