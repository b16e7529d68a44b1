//! Who may use triage: a patient for themselves; clinicians for the patients of their
//! organisations (the same rule as reading their record on `/fhir`); re-triage and review
//! for practitioners and administrators only.

use axum::http::StatusCode;
use carefront_auth::{Action, Principal, Role};
use carefront_triage_service::{Clinician, Waiting};
use serde_json::json;

use super::api::JsonError;
use super::view::{country, InterviewView};
use crate::auth::Caller;
use crate::fhir::access::Facts;
use crate::AppState;

fn forbidden(message: &str) -> JsonError {
    JsonError(StatusCode::FORBIDDEN, message.into())
}

/// The patient an interview is for.
pub fn patient_for(caller: &Caller, named: Option<&str>) -> Result<String, JsonError> {
    match &caller.principal {
        Principal::Account(a) if a.role == Role::Patient => {
            let me = a
                .patient_id
                .as_ref()
                .map(|p| p.id().to_owned())
                .ok_or_else(|| forbidden("this account is not linked to a patient record"))?;
            match named {
                Some(other) if other != me => {
                    Err(forbidden("patients start interviews for themselves only"))
                }
                _ => Ok(me),
            }
        }
        _ => named
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| {
                JsonError(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "name the patient (patient_id)".into(),
                )
            }),
    }
}

/// Whether `caller` may do `action` on a `resource_type` in `patient_id`'s record.
pub async fn check(
    state: &AppState,
    caller: &Caller,
    action: Action,
    resource_type: &str,
    patient_id: &str,
) -> Result<(), JsonError> {
    let body = json!({ "resourceType": resource_type, "subject": { "reference": format!("Patient/{patient_id}") } });
    let decision = Facts::default()
        .decide(state, caller, action, resource_type, Some(&body), None)
        .await;
    if decision.is_allowed() {
        Ok(())
    } else {
        Err(forbidden("you may not see or change this patient's triage"))
    }
}

/// The interview `id` if `caller` may do `action` on it, as a view. A refused interview
/// answers 404, like an unknown one: its existence is not disclosed.
pub async fn interview(
    state: &AppState,
    caller: &Caller,
    id: &str,
    action: Action,
    accept_language: Option<&str>,
) -> Result<InterviewView, JsonError> {
    let not_found = || JsonError(StatusCode::NOT_FOUND, format!("no triage interview {id}"));
    let record = state.triage.load(id).await.map_err(|_| not_found())?;
    check(
        state,
        caller,
        action,
        "QuestionnaireResponse",
        &record.patient_id,
    )
    .await
    .map_err(|_| not_found())?;
    let assessment = state.triage.assessment_of(id).await?;
    InterviewView::of(
        &record,
        state.triage.library(),
        assessment.as_ref(),
        &country(accept_language, record.lang),
    )
    .ok_or_else(not_found)
}

fn is_clinician(caller: &Caller) -> bool {
    matches!(&caller.principal, Principal::Account(a) if matches!(a.role, Role::Practitioner | Role::Administrator))
}

/// The queue as `caller` may see it: practitioners their organisations' patients,
/// administrators everyone.
pub async fn queue(
    state: &AppState,
    caller: &Caller,
    limit: usize,
) -> Result<Vec<Waiting>, JsonError> {
    if !is_clinician(caller) {
        return Err(forbidden("the triage queue is for clinicians"));
    }
    let admin = matches!(&caller.principal, Principal::Account(a) if a.role == Role::Administrator);
    if admin {
        return Ok(state.triage.queue(None, limit).await?);
    }
    // Read a few pages of the queue and keep the patients this clinician cares for.
    let candidates = state.triage.queue(None, limit * 4).await?;
    let mut facts = Facts::default();
    let mut mine = Vec::new();
    for w in candidates {
        let body = json!({ "resourceType": "RiskAssessment", "subject": { "reference": format!("Patient/{}", w.patient_id) } });
        if facts
            .decide(
                state,
                caller,
                Action::Read,
                "RiskAssessment",
                Some(&body),
                None,
            )
            .await
            .is_allowed()
        {
            mine.push(w);
            if mine.len() == limit {
                break;
            }
        }
    }
    Ok(mine)
}

/// The clinician changing assessment `id`, if they may.
pub async fn clinician(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<Clinician, JsonError> {
    if !is_clinician(caller) {
        return Err(forbidden("only clinicians re-triage or review"));
    }
    let a = state.triage.assessment(id).await?;
    check(
        state,
        caller,
        Action::Update,
        "RiskAssessment",
        &a.patient_id,
    )
    .await?;
    Ok(Clinician {
        name: caller.actor.clone(),
        practitioner_id: None,
    })
}
