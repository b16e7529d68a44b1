//! The Encounter of a visit: what the clinical record keeps of it (times, participants, the
//! appointment it came from). One per appointment, found by `Encounter?appointment=`; the
//! video room opens it when the clinician admits someone, and closes it at the end; the visit
//! note code calls [`ensure`] too, so a note written first still lands on the same Encounter.

use axum::http::StatusCode;
use carefront_booking::scheduling::jiff::Timestamp;
use carefront_booking::{Actor, BookingError, Mark};
use carefront_fhir::IssueCode;
use carefront_store::repository::Preconditions;
use serde_json::{json, Value};

use crate::{ApiError, AppState};

/// `class` of a visit over video (v3 ActCode `VR`, virtual).
const ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
const PARTICIPATION: &str = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType";

/// The Encounter of `appointment_id`, created (in progress, starting now) if there is none.
/// Racing callers on any instance get the same one: the create is conditional, and the store
/// serialises conditional creates with the same criteria.
pub async fn ensure(state: &AppState, appointment_id: &str) -> Result<(String, Value), ApiError> {
    let appointment = read_json(state, "Appointment", appointment_id).await?;
    let encounter = new_encounter(&appointment, appointment_id, &now_text());
    let criteria = format!("appointment=Appointment/{appointment_id}");
    let written = state
        .repo
        .create("Encounter", encounter, Some(&criteria))
        .await?;
    let json = parse(&written.resource.content)?;
    // An on-demand visit's Encounter exists before the call (the patient waited in the
    // queue, status arrived): the call starts it.
    if matches!(json["status"].as_str(), Some("arrived" | "planned")) {
        let started = move_to(state, &written.resource.id, json, "in-progress", "start").await?;
        return Ok((written.resource.id, started));
    }
    Ok((written.resource.id, json))
}

/// Records a guest the clinician let in (an interpreter, a family member) among the
/// Encounter's participants: they have no FHIR resource, so by name, as a participation.
pub async fn add_guest(state: &AppState, appointment_id: &str, name: &str) -> Result<(), ApiError> {
    let (id, mut encounter) = ensure(state, appointment_id).await?;
    let text = format!("Guest: {name}");
    let participants = encounter["participant"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if participants
        .iter()
        .any(|p| p["type"][0]["text"] == text.as_str())
    {
        return Ok(());
    }
    let version = encounter["meta"]["versionId"]
        .as_str()
        .and_then(|v| v.parse().ok());
    let mut participants = participants;
    participants.push(json!({
        "type": [{ "coding": [{ "system": PARTICIPATION, "code": "PART", "display": "Participation" }], "text": text }],
    }));
    encounter["participant"] = Value::Array(participants);
    state
        .repo
        .update(
            "Encounter",
            &id,
            encounter,
            &Preconditions { if_match: version },
        )
        .await?;
    Ok(())
}

/// `encounter` (stored as `id`) in `status`, with `period.<end>` now, if still at the
/// version read.
async fn move_to(
    state: &AppState,
    id: &str,
    mut encounter: Value,
    status: &str,
    end: &str,
) -> Result<Value, ApiError> {
    let version = encounter["meta"]["versionId"]
        .as_str()
        .and_then(|v| v.parse().ok());
    encounter["status"] = json!(status);
    if encounter["period"].is_null() {
        encounter["period"] = json!({});
    }
    if end == "end" || encounter["period"]["start"].is_null() {
        encounter["period"][end] = json!(now_text());
    }
    let written = state
        .repo
        .update(
            "Encounter",
            id,
            encounter,
            &Preconditions { if_match: version },
        )
        .await?;
    parse(&written.resource.content)
}

/// Closes the visit: the Encounter finished (its `period.end` now) and the Appointment
/// fulfilled. Finishing twice changes nothing the second time.
pub async fn finish(state: &AppState, appointment_id: &str) -> Result<(String, Value), ApiError> {
    let (id, mut encounter) = ensure(state, appointment_id).await?;
    if encounter["status"] != "finished" {
        encounter = move_to(state, &id, encounter, "finished", "end").await?;
    }
    // The booking service's own rule decides (booked, arrived or checked-in may become
    // fulfilled); an appointment already fulfilled or cancelled is left as it is.
    let actor = Actor::Staff {
        account_id: "video-visit".into(),
        name: "Video visit".into(),
    };
    match state
        .booking
        .mark(&actor, appointment_id, Mark::Fulfilled, Timestamp::now())
        .await
    {
        Ok(()) | Err(BookingError::Refused(_)) => {}
        Err(e) => {
            tracing::error!(
                status = e.status(),
                "the appointment could not be fulfilled"
            );
            return Err(ApiError::new(
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                IssueCode::Exception,
                "the appointment could not be marked fulfilled",
            ));
        }
    }
    Ok((id, encounter))
}

/// A new in-progress Encounter for `appointment`: its patient, practitioners, service type and
/// reason.
fn new_encounter(appointment: &Value, appointment_id: &str, now: &str) -> Value {
    let actors = appointment["participant"]
        .as_array()
        .map(|list| list.iter().map(|p| &p["actor"]).collect::<Vec<_>>())
        .unwrap_or_default();
    let of_type = |rt: &str| {
        actors
            .iter()
            .filter(|a| {
                a["reference"]
                    .as_str()
                    .is_some_and(|r| r.starts_with(&format!("{rt}/")))
            })
            .map(|a| (*a).clone())
            .collect::<Vec<_>>()
    };
    let participants: Vec<Value> = of_type("Practitioner")
        .into_iter()
        .map(|individual| {
            json!({
                "type": [{ "coding": [{ "system": PARTICIPATION, "code": "PPRF", "display": "primary performer" }] }],
                "individual": individual,
            })
        })
        .collect();
    let mut encounter = json!({
        "resourceType": "Encounter",
        "status": "in-progress",
        "class": { "system": ACT_CODE, "code": "VR", "display": "virtual" },
        "appointment": [{ "reference": format!("Appointment/{appointment_id}") }],
        "period": { "start": now },
    });
    if let Some(patient) = of_type("Patient").into_iter().next() {
        encounter["subject"] = patient;
    }
    if !participants.is_empty() {
        encounter["participant"] = json!(participants);
    }
    // Appointment.serviceType is a list, Encounter.serviceType a single concept.
    if let Some(service) = appointment["serviceType"].get(0) {
        encounter["serviceType"] = service.clone();
    }
    if let Some(reasons) = appointment.get("reasonCode") {
        encounter["reasonCode"] = reasons.clone();
    }
    encounter
}

async fn read_json(state: &AppState, resource_type: &str, id: &str) -> Result<Value, ApiError> {
    let stored = state.repo.read(resource_type, id).await?;
    parse(&stored.content)
}

fn parse(content: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(content).map_err(|_| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            IssueCode::Exception,
            "a stored resource is not JSON",
        )
    })
}

/// Now, as a FHIR `dateTime` in UTC to the second.
fn now_text() -> String {
    Timestamp::now()
        .round(carefront_booking::scheduling::jiff::Unit::Second)
        .map_or_else(|_| Timestamp::now().to_string(), |t| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_encounter_copies_the_appointment() {
        let appointment = json!({
            "participant": [
                { "actor": { "reference": "Patient/p1", "display": "Ana" } },
                { "actor": { "reference": "Practitioner/d1", "display": "Dr B" } },
            ],
            "serviceType": [{ "text": "General practice" }],
            "reasonCode": [{ "text": "HbA1c results" }],
        });
        let e = new_encounter(&appointment, "a1", "2026-01-01T10:00:00Z");
        assert_eq!(e["subject"]["reference"], "Patient/p1");
        assert_eq!(
            e["participant"][0]["individual"]["reference"],
            "Practitioner/d1"
        );
        assert_eq!(e["appointment"][0]["reference"], "Appointment/a1");
        assert_eq!(e["class"]["code"], "VR");
        assert_eq!(e["serviceType"]["text"], "General practice");
        assert_eq!(e["reasonCode"][0]["text"], "HbA1c results");
        assert_eq!(e["period"]["start"], "2026-01-01T10:00:00Z");
    }
}
