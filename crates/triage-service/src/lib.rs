//! Triage interviews over the FHIR store: start, answer, outcome, re-triage and review, and
//! the clinicians' queue. The engine and its clinical content are in `carefront-triage`
//! (no I/O); this crate keeps an interview on the patient's record as FHIR
//! ([`record`]) and indexes the outcomes for the queue ([`queue`]).
//!
//! Who may do what is the caller's business (the HTTP layer decides with
//! `carefront-auth`); this crate trusts the patient id it is given.

pub mod queue;
pub mod record;

use std::sync::Arc;

use carefront_fhir::{Issue, IssueCode};
use carefront_store::repository::{format_instant, now_micros, RepoError, Repository, WriteHook};
use carefront_triage::{
    AnswerError, Interview, Lang, Level, Library, Modality, Patient, Protocol, Step,
};
use serde_json::Value;

pub use queue::Waiting;
pub use record::{Assessment, Record, Status};

#[derive(Debug, thiserror::Error)]
pub enum TriageError {
    #[error("{0}")]
    NotFound(String),
    /// The request is wrong: the message says what to fix.
    #[error("{0}")]
    Invalid(String),
    /// Answered meanwhile from another window or device: reload and answer again.
    #[error("{0}")]
    Conflict(String),
    #[error("the store failed: {0:?}")]
    Store(RepoError),
}

impl From<RepoError> for TriageError {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::NotFound(m) => TriageError::NotFound(m),
            RepoError::Gone(_) => TriageError::NotFound("this triage interview was deleted".into()),
            RepoError::PreconditionFailed(_) => TriageError::Conflict(
                "this interview was answered meanwhile (another window?); reload it".into(),
            ),
            other => TriageError::Store(other),
        }
    }
}

impl From<AnswerError> for TriageError {
    fn from(e: AnswerError) -> Self {
        TriageError::Invalid(e.to_string())
    }
}

/// What starting an interview needs.
#[derive(Debug, Clone)]
pub struct Start {
    pub patient_id: String,
    pub patient: Patient,
    pub protocol: String,
    pub lang: Lang,
    pub for_child: bool,
    pub complaint_text: Option<String>,
}

/// A clinician acting on the queue.
#[derive(Debug, Clone)]
pub struct Clinician {
    /// Shown in notes.
    pub name: String,
    /// Their Practitioner resource, when known (the assessment's performer).
    pub practitioner_id: Option<String>,
}

#[derive(Clone)]
pub struct Triage {
    repo: Repository,
    library: &'static Library,
}

fn now_text() -> String {
    format_instant(now_micros())
}

fn read_json(content: &[u8]) -> Result<Value, TriageError> {
    serde_json::from_slice(content).map_err(|e| {
        TriageError::Store(RepoError::Store(carefront_store::StoreError::Database(
            e.to_string(),
        )))
    })
}

impl Triage {
    /// `repo` must run [`Triage::hook`].
    pub fn new(repo: Repository) -> Self {
        Triage {
            repo,
            library: Library::shared(),
        }
    }

    pub fn hook() -> Arc<dyn WriteHook> {
        Arc::new(queue::QueueIndex)
    }

    pub fn library(&self) -> &'static Library {
        self.library
    }

    fn protocol(&self, id: &str) -> Result<&'static Protocol, TriageError> {
        self.library
            .get(id)
            .ok_or_else(|| TriageError::Invalid(format!("\"{id}\" is not a known complaint")))
    }

    /// Starts an interview on the patient's record.
    pub async fn start(&self, start: Start) -> Result<Record, TriageError> {
        let protocol = self.protocol(&start.protocol)?;
        if !protocol.ages.admits(start.patient.age_years()) {
            return Err(TriageError::Invalid(format!(
                "\"{}\" is for {}; choose the complaint for the patient's age",
                protocol.id,
                match protocol.ages {
                    carefront_triage::protocol::Ages::Adult => "adults (16 and over)",
                    _ => "children (under 16)",
                }
            )));
        }
        if start.patient.age_months > 130 * 12 {
            return Err(TriageError::Invalid("age must be under 130 years".into()));
        }
        let record = Record {
            id: uuid::Uuid::new_v4().to_string(),
            version: 1,
            patient_id: start.patient_id,
            interview: Interview::new(protocol, start.patient),
            lang: start.lang,
            for_child: start.for_child,
            complaint_text: start.complaint_text,
            status: Status::InProgress,
            authored: now_text(),
        };
        let checked = self.repo.check(record.to_fhir(protocol))?;
        let mut tx = self.repo.begin().await?;
        let written = self
            .repo
            .create_checked_in_tx(tx.as_mut(), &checked)
            .await?;
        tx.commit().await.map_err(RepoError::from)?;
        Ok(Record {
            version: written.version,
            ..record
        })
    }

    /// The interview `id`.
    pub async fn load(&self, id: &str) -> Result<Record, TriageError> {
        let stored = self.repo.read("QuestionnaireResponse", id).await?;
        Record::from_fhir(&read_json(&stored.content)?, stored.version, self.library).ok_or_else(
            || {
                TriageError::NotFound(format!(
                    "QuestionnaireResponse/{id} is not a triage interview"
                ))
            },
        )
    }

    /// Records an answer; when it ends the interview, completes it and writes the
    /// assessment in the same transaction. `version`, when given, must be the version the
    /// patient answered (a stale page gets a conflict rather than a lost answer).
    pub async fn answer(
        &self,
        id: &str,
        question: &str,
        raw: &str,
        version: Option<i64>,
    ) -> Result<(Record, Option<Assessment>), TriageError> {
        let mut record = self.load(id).await?;
        if version.is_some_and(|v| v != record.version) {
            return Err(TriageError::Conflict(
                "this interview was answered meanwhile (another window?); reload it".into(),
            ));
        }
        if record.status == Status::Completed {
            return Err(TriageError::Invalid(AnswerError::Finished.to_string()));
        }
        let protocol = self.protocol(&record.interview.protocol)?;
        record.interview.answer(protocol, question, raw)?;
        let outcome = match record.interview.step(protocol) {
            Step::Done(outcome) => Some(outcome),
            Step::Ask(_) => None,
        };
        let now = now_text();
        let assessment = outcome.as_ref().map(|o| {
            let mut ra = record::assessment(&record, o, &now);
            ra["id"] = Value::String(uuid::Uuid::new_v4().to_string());
            ra
        });
        if outcome.is_some() {
            record.status = Status::Completed;
        }
        let qr = self.repo.check(record.to_fhir(protocol))?;
        let ra = assessment.map(|a| self.repo.check(a)).transpose()?;
        let mut tx = self.repo.begin().await?;
        let written = self
            .repo
            .update_checked_in_tx(tx.as_mut(), &qr, Some(record.version))
            .await?;
        let stored_ra = match &ra {
            Some(checked) => Some(self.repo.create_checked_in_tx(tx.as_mut(), checked).await?),
            None => None,
        };
        tx.commit().await.map_err(RepoError::from)?;
        record.version = written.resource.version;
        let assessment = match stored_ra {
            Some(s) => Assessment::from_fhir(&read_json(&s.content)?, s.version),
            None => None,
        };
        Ok((record, assessment))
    }

    /// The assessment of a finished interview.
    pub async fn assessment_of(
        &self,
        interview_id: &str,
    ) -> Result<Option<Assessment>, TriageError> {
        // The basis reference is not an R4 search parameter: the queue index knows it.
        let Some(id) = queue::of_interview(self.repo.store().as_ref(), interview_id).await? else {
            return Ok(None);
        };
        self.assessment(&id).await.map(Some)
    }

    pub async fn assessment(&self, id: &str) -> Result<Assessment, TriageError> {
        let stored = self.repo.read("RiskAssessment", id).await?;
        Assessment::from_fhir(&read_json(&stored.content)?, stored.version).ok_or_else(|| {
            TriageError::NotFound(format!("RiskAssessment/{id} is not a triage outcome"))
        })
    }

    /// A clinician changes the urgency (and the kind of visit) and says why.
    pub async fn retriage(
        &self,
        assessment_id: &str,
        level: Level,
        modality: Option<Modality>,
        reason: &str,
        clinician: &Clinician,
    ) -> Result<Assessment, TriageError> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(TriageError::Invalid(
                "say why the urgency changes (reason)".into(),
            ));
        }
        if reason.chars().count() > 2000 {
            return Err(TriageError::Invalid(
                "keep the reason under 2,000 characters".into(),
            ));
        }
        let modality = match (level, modality) {
            (Level::Emergency, _) => Some(Modality::Emergency),
            (Level::SelfCare, _) => None,
            (_, Some(Modality::Emergency)) => {
                return Err(TriageError::Invalid(
                    "only an emergency sends the patient to emergency services".into(),
                ))
            }
            (_, Some(m)) => Some(m),
            (_, None) => {
                return Err(TriageError::Invalid(
                    "say which kind of visit (video, in-clinic or home)".into(),
                ))
            }
        };
        self.revise(assessment_id, Some((level, modality)), reason, clinician)
            .await
    }

    /// A clinician has dealt with it: it leaves the queue.
    pub async fn review(
        &self,
        assessment_id: &str,
        note: &str,
        clinician: &Clinician,
    ) -> Result<Assessment, TriageError> {
        let note = if note.trim().is_empty() {
            "Reviewed"
        } else {
            note.trim()
        };
        self.revise(assessment_id, None, note, clinician).await
    }

    async fn revise(
        &self,
        assessment_id: &str,
        change: Option<(Level, Option<Modality>)>,
        text: &str,
        clinician: &Clinician,
    ) -> Result<Assessment, TriageError> {
        let stored = self.repo.read("RiskAssessment", assessment_id).await?;
        let mut ra = read_json(&stored.content)?;
        let before = Assessment::from_fhir(&ra, stored.version).ok_or_else(|| {
            TriageError::NotFound(format!(
                "RiskAssessment/{assessment_id} is not a triage outcome"
            ))
        })?;
        let text = match change {
            Some((level, _)) if level != before.level => {
                format!(
                    "Urgency changed from {} to {}: {text}",
                    before.level.code(),
                    level.code()
                )
            }
            _ => text.to_string(),
        };
        record::revise(
            &mut ra,
            change,
            &text,
            &clinician.name,
            clinician.practitioner_id.as_deref(),
            &now_text(),
        );
        let checked = self.repo.check(ra)?;
        let mut tx = self.repo.begin().await?;
        let written = self
            .repo
            .update_checked_in_tx(tx.as_mut(), &checked, Some(stored.version))
            .await?;
        tx.commit().await.map_err(RepoError::from)?;
        Assessment::from_fhir(
            &read_json(&written.resource.content)?,
            written.resource.version,
        )
        .ok_or_else(|| TriageError::Invalid("the assessment could not be read back".into()))
    }

    /// Waiting assessments, most urgent then longest waiting first.
    pub async fn queue(
        &self,
        patients: Option<&[String]>,
        limit: usize,
    ) -> Result<Vec<Waiting>, TriageError> {
        Ok(queue::waiting(self.repo.store().as_ref(), patients, limit).await?)
    }

    /// A patient's latest finished interviews: (assessment id, interview id), newest first.
    pub async fn history(
        &self,
        patient_id: &str,
        limit: usize,
    ) -> Result<Vec<(String, String)>, TriageError> {
        Ok(queue::of_patient(self.repo.store().as_ref(), patient_id, limit).await?)
    }
}

/// A problem as a FHIR issue (for OperationOutcome answers).
pub fn issue(e: &TriageError) -> Issue {
    match e {
        TriageError::NotFound(m) => Issue::error(IssueCode::NotFound, m.clone()),
        TriageError::Invalid(m) => Issue::error(IssueCode::Invalid, m.clone()),
        TriageError::Conflict(m) => Issue::error(IssueCode::Conflict, m.clone()),
        TriageError::Store(e) => e
            .issues()
            .into_iter()
            .next()
            .unwrap_or_else(|| Issue::error(IssueCode::Exception, "the store failed")),
    }
}
