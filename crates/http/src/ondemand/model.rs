//! The on-demand queue as FHIR: the Encounter of a patient waiting, and the ad-hoc video
//! Appointment made when a clinician takes them (see the module documentation of
//! [`super`]).

use carefront_booking::index::{reference_id, reference_to};
use carefront_booking::schedule::MODALITY_SYSTEM;
use carefront_triage::Level;
use serde_json::{json, Value};

/// Marks the Encounters that are on-demand queue entries (`Encounter.type`).
pub const KIND_SYSTEM: &str = "https://carefront.health/fhir/CodeSystem/encounter-kind";
pub const KIND_CODE: &str = "on-demand";
/// The triage outcome that sent the patient to the queue.
pub const EXT_TRIAGE: &str = "https://carefront.health/fhir/StructureDefinition/triage-outcome";
const ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
const ACT_PRIORITY: &str = "http://terminology.hl7.org/CodeSystem/v3-ActPriority";
const PARTICIPATION: &str = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType";
const APPOINTMENT_REASON: &str = "http://terminology.hl7.org/CodeSystem/v2-0276";
/// How long the ad-hoc appointment is booked for (the visit ends when it ends).
pub const VISIT_MINUTES: i64 = 15;

/// The HL7 priority of a triage level.
fn priority(level: Level) -> &'static str {
    match level {
        Level::Emergency => "EM",
        Level::Urgent => "UR",
        Level::Routine => "R",
        Level::SelfCare => "EL",
    }
}

/// A new queue entry for `patient_id`, sent by triage outcome `assessment_id`.
pub fn entry(patient_id: &str, assessment_id: &str, level: Level, now: &str) -> Value {
    json!({
        "resourceType": "Encounter",
        "status": "arrived",
        "statusHistory": [{ "status": "arrived", "period": { "start": now } }],
        "class": { "system": ACT_CODE, "code": "VR", "display": "virtual" },
        "type": [{ "coding": [{ "system": KIND_SYSTEM, "code": KIND_CODE, "display": "On-demand video visit" }] }],
        "priority": { "coding": [{ "system": ACT_PRIORITY, "code": priority(level) }] },
        "subject": { "reference": format!("Patient/{patient_id}") },
        "period": { "start": now },
        "extension": [{ "url": EXT_TRIAGE, "valueReference": { "reference": format!("RiskAssessment/{assessment_id}") } }],
    })
}

/// Whether `encounter` is an on-demand queue entry.
pub fn is_entry(encounter: &Value) -> bool {
    encounter["type"].as_array().is_some_and(|types| {
        types.iter().any(|t| {
            t["coding"].as_array().is_some_and(|cs| {
                cs.iter()
                    .any(|c| c["system"] == KIND_SYSTEM && c["code"] == KIND_CODE)
            })
        })
    })
}

/// The triage outcome of an entry.
pub fn assessment_of(encounter: &Value) -> Option<String> {
    encounter["extension"]
        .as_array()?
        .iter()
        .find(|e| e["url"] == EXT_TRIAGE)
        .and_then(|e| reference_id(&e["valueReference"], "RiskAssessment"))
}

/// The ad-hoc video visit for a taken entry: booked, starting now, no slot.
pub fn appointment(
    id: &str,
    patient: (&str, &str),
    practitioner: (&str, &str),
    assessment_id: Option<&str>,
    start: &str,
    end: &str,
) -> Value {
    let mut a = json!({
        "resourceType": "Appointment",
        "id": id,
        "status": "booked",
        "serviceCategory": [{ "coding": [{ "system": MODALITY_SYSTEM, "code": "video" }] }],
        // An unscheduled visit, as HL7 names a walk-in.
        "appointmentType": { "coding": [{ "system": APPOINTMENT_REASON, "code": "WALKIN" }] },
        "start": start,
        "end": end,
        "minutesDuration": VISIT_MINUTES,
        "created": start,
        "participant": [
            { "actor": reference_to("Patient", patient.0, patient.1), "required": "required", "status": "accepted" },
            { "actor": reference_to("Practitioner", practitioner.0, practitioner.1), "required": "required", "status": "accepted" },
        ],
    });
    if let Some(ra) = assessment_id {
        a["supportingInformation"] = json!([{ "reference": format!("RiskAssessment/{ra}") }]);
    }
    a
}

/// The entry once taken: it names the visit and the clinician (`practitioner`: id and
/// display name, which the patient's record shows), from `now`.
pub fn taken(encounter: &mut Value, appointment_id: &str, practitioner: (&str, &str), now: &str) {
    encounter["appointment"] = json!([{ "reference": format!("Appointment/{appointment_id}") }]);
    encounter["participant"] = json!([{
        "type": [{ "coding": [{ "system": PARTICIPATION, "code": "PPRF", "display": "primary performer" }] }],
        "period": { "start": now },
        "individual": reference_to("Practitioner", practitioner.0, practitioner.1),
    }]);
}

/// The entry once the patient left the queue.
pub fn left(encounter: &mut Value, now: &str) {
    encounter["status"] = json!("cancelled");
    encounter["period"]["end"] = json!(now);
    if let Some(history) = encounter["statusHistory"].as_array_mut() {
        if let Some(last) = history.last_mut() {
            last["period"]["end"] = json!(now);
        }
        history.push(json!({ "status": "cancelled", "period": { "start": now } }));
    }
}

/// Where an entry stands, as the index keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Waiting,
    Taken,
    Left,
}

impl State {
    pub fn code(self) -> &'static str {
        match self {
            State::Waiting => "waiting",
            State::Taken => "taken",
            State::Left => "left",
        }
    }

    pub fn parse(code: &str) -> State {
        match code {
            "waiting" => State::Waiting,
            "taken" => State::Taken,
            _ => State::Left,
        }
    }

    /// Read from the Encounter: taken once it names its visit; waiting while `arrived`.
    pub fn of(encounter: &Value) -> State {
        // A visit that is over ends the entry: the patient is no longer in the queue (and is
        // not sent back to an ended call).
        if matches!(
            encounter["status"].as_str(),
            Some("finished" | "cancelled" | "entered-in-error")
        ) {
            State::Left
        } else if encounter["appointment"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
        {
            State::Taken
        } else if encounter["status"] == "arrived" {
            State::Waiting
        } else {
            State::Left
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_waits_until_taken_or_left() {
        let mut e = entry("p1", "ra1", Level::Urgent, "2026-01-01T10:00:00Z");
        assert!(is_entry(&e));
        assert_eq!(assessment_of(&e).as_deref(), Some("ra1"));
        assert_eq!(e["priority"]["coding"][0]["code"], "UR");
        assert_eq!(State::of(&e), State::Waiting);
        let mut gone = e.clone();
        left(&mut gone, "2026-01-01T10:05:00Z");
        assert_eq!(State::of(&gone), State::Left);
        assert_eq!(gone["statusHistory"].as_array().unwrap().len(), 2);
        taken(&mut e, "a1", ("dr", "Dr Who"), "2026-01-01T10:06:00Z");
        assert_eq!(State::of(&e), State::Taken);
        let clinician = &e["participant"][0]["individual"];
        assert_eq!(clinician["reference"], "Practitioner/dr");
        assert_eq!(
            clinician["display"], "Dr Who",
            "the record names the clinician"
        );
        let mut over = e.clone();
        over["status"] = json!("finished");
        assert_eq!(
            State::of(&over),
            State::Left,
            "an ended visit ends the entry"
        );
        assert!(!is_entry(
            &json!({"resourceType": "Encounter", "status": "arrived"})
        ));
    }
}
