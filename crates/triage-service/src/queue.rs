//! The clinicians' triage queue: one index row per triage RiskAssessment, kept by a write
//! hook in the same transaction as the resource (whoever writes it: this service, a page,
//! FHIR REST), and read most urgent first, then longest waiting first.

use async_trait::async_trait;
use carefront_store::repository::{now_micros, RepoError, Repository, WriteHook};
use carefront_store::sql::{statement, Bind, Dialect};
use carefront_store::{NewVersion, Store, StoreTx};
use carefront_triage::{Level, Modality};
use serde_json::Value;

use crate::record::Assessment;

/// The hook to register on the repository (`Repository::with_hook`).
pub struct QueueIndex;

#[async_trait]
impl WriteHook for QueueIndex {
    async fn after_write(
        &self,
        _repo: &Repository,
        tx: &mut dyn StoreTx,
        version: &NewVersion,
    ) -> Result<(), RepoError> {
        if version.resource_type != "RiskAssessment" {
            return Ok(());
        }
        let dialect = Dialect::of(tx.backend());
        tx.execute(statement(
            dialect,
            "DELETE FROM triage_queue WHERE assessment_id = {}",
            vec![Bind::Text(version.id.clone())],
        ))
        .await?;
        if version.deleted {
            return Ok(());
        }
        let Some(a) = serde_json::from_slice::<Value>(&version.content)
            .ok()
            .and_then(|json| Assessment::from_fhir(&json, version.version))
        else {
            // Not one of ours (another kind of risk assessment): nothing to index.
            return Ok(());
        };
        let raised_at =
            a.at.parse::<jiff::Timestamp>()
                .map(|t| t.as_microsecond())
                .unwrap_or_else(|_| now_micros());
        tx.execute(statement(
            dialect,
            "INSERT INTO triage_queue (assessment_id, interview_id, patient_id, protocol, urgency, modality, raised_at, waiting) \
             VALUES ({}, {}, {}, {}, {}, {}, {}, {})",
            vec![
                Bind::Text(a.id),
                Bind::Text(a.interview_id),
                Bind::Text(a.patient_id),
                Bind::Text(a.protocol),
                Bind::Int(rank(a.level)),
                Bind::OptText(a.modality.map(|m| m.code().to_string())),
                Bind::Int(raised_at),
                Bind::Int(i64::from(Assessment::waiting(&a.status))),
            ],
        ))
        .await?;
        Ok(())
    }
}

/// A level as the queues order it (larger is more urgent); other queues rank the same way.
pub fn rank(level: Level) -> i64 {
    match level {
        Level::SelfCare => 0,
        Level::Routine => 1,
        Level::Urgent => 2,
        Level::Emergency => 3,
    }
}

/// The level of a [`rank`].
pub fn level_of(rank: i64) -> Level {
    match rank {
        3 => Level::Emergency,
        2 => Level::Urgent,
        1 => Level::Routine,
        _ => Level::SelfCare,
    }
}

/// One patient waiting for a clinician's look.
#[derive(Debug, Clone, PartialEq)]
pub struct Waiting {
    pub assessment_id: String,
    pub interview_id: String,
    pub patient_id: String,
    pub protocol: String,
    pub level: Level,
    pub modality: Option<Modality>,
    /// Microseconds since the Unix epoch.
    pub raised_at: i64,
}

/// Waiting assessments, most urgent first, then longest waiting; `patients` limits the
/// queue to those patients (a clinician's), `None` for everyone.
pub async fn waiting(
    store: &dyn Store,
    patients: Option<&[String]>,
    limit: usize,
) -> Result<Vec<Waiting>, RepoError> {
    let dialect = Dialect::of(store.backend());
    let mut binds = Vec::new();
    let mut filter = String::new();
    if let Some(ids) = patients {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        filter.push_str(" AND patient_id IN (");
        for (n, id) in ids.iter().enumerate() {
            if n > 0 {
                filter.push_str(", ");
            }
            filter.push_str("{}");
            binds.push(Bind::Text(id.clone()));
        }
        filter.push(')');
    }
    binds.push(Bind::Int(limit as i64));
    let rows = store
        .query(statement(
            dialect,
            &format!(
                "SELECT assessment_id, interview_id, patient_id, protocol, urgency, modality, raised_at \
                 FROM triage_queue WHERE waiting = 1{filter} ORDER BY urgency DESC, raised_at ASC LIMIT {{}}"
            ),
            binds,
        ))
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let mut cells = row.into_iter();
            let mut text = || cells.next().and_then(|c| c.into_text()).unwrap_or_default();
            let assessment_id = text();
            let interview_id = text();
            let patient_id = text();
            let protocol = text();
            let rest: Vec<_> = cells.collect();
            Waiting {
                assessment_id,
                interview_id,
                patient_id,
                protocol,
                level: level_of(rest[0].int().unwrap_or(0)),
                modality: rest[1].text().and_then(Modality::parse),
                raised_at: rest[2].int().unwrap_or(0),
            }
        })
        .collect())
}

/// The latest triage assessments of one patient, newest first.
pub async fn of_patient(
    store: &dyn Store,
    patient_id: &str,
    limit: usize,
) -> Result<Vec<(String, String)>, RepoError> {
    let rows = store
        .query(statement(
            Dialect::of(store.backend()),
            "SELECT assessment_id, interview_id FROM triage_queue WHERE patient_id = {} ORDER BY raised_at DESC LIMIT {}",
            vec![Bind::Text(patient_id.to_string()), Bind::Int(limit as i64)],
        ))
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let mut cells = row.into_iter();
            Some((cells.next()?.into_text()?, cells.next()?.into_text()?))
        })
        .collect())
}

/// The latest assessment of interview `interview_id`, if it has finished.
pub async fn of_interview(
    store: &dyn Store,
    interview_id: &str,
) -> Result<Option<String>, RepoError> {
    let rows = store
        .query(statement(
            Dialect::of(store.backend()),
            "SELECT assessment_id FROM triage_queue WHERE interview_id = {} ORDER BY raised_at DESC LIMIT 1",
            vec![Bind::Text(interview_id.to_string())],
        ))
        .await?;
    Ok(rows
        .into_iter()
        .next()
        .and_then(|row| row.into_iter().next()?.into_text()))
}
