//! A triage interview as FHIR on the patient's record: the interview is a
//! `QuestionnaireResponse` (in progress while the patient answers, completed at the end),
//! the outcome a `RiskAssessment` based on it. The interview is read back from the
//! QuestionnaireResponse at every step, so any server instance can take the next one.

use carefront_triage::{
    Answer, Condition, Interview, Lang, Level, Library, Modality, Outcome, Patient, Protocol, Sex,
};
use serde_json::{json, Value};

pub const QUESTIONNAIRE_BASE: &str = "https://carefront.health/fhir/Questionnaire/triage-";
pub const URGENCY_SYSTEM: &str = "https://carefront.health/fhir/CodeSystem/triage-urgency";
pub const PROTOCOL_SYSTEM: &str = "https://carefront.health/fhir/CodeSystem/triage-protocol";
const ANSWER_SYSTEM: &str = "https://carefront.health/fhir/CodeSystem/triage-answer";
const CONDITION_SYSTEM: &str = "https://carefront.health/fhir/CodeSystem/triage-condition";
const GENDER_SYSTEM: &str = "http://hl7.org/fhir/administrative-gender";
pub const EXT_MODALITY: &str = "https://carefront.health/fhir/StructureDefinition/triage-modality";
pub const EXT_ENGINE_URGENCY: &str =
    "https://carefront.health/fhir/StructureDefinition/triage-engine-urgency";
const EXT_FOR_CHILD: &str = "https://carefront.health/fhir/StructureDefinition/triage-for-child";

/// Where an interview stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    InProgress,
    Completed,
}

/// An interview read from its QuestionnaireResponse.
#[derive(Debug, Clone)]
pub struct Record {
    pub id: String,
    pub version: i64,
    pub patient_id: String,
    pub interview: Interview,
    pub lang: Lang,
    pub for_child: bool,
    /// What the patient typed, when they typed the complaint.
    pub complaint_text: Option<String>,
    pub status: Status,
    /// FHIR instant.
    pub authored: String,
}

impl Record {
    pub fn protocol<'a>(&self, library: &'a Library) -> Option<&'a Protocol> {
        library.get(&self.interview.protocol)
    }

    /// The QuestionnaireResponse for this interview.
    pub fn to_fhir(&self, protocol: &Protocol) -> Value {
        let patient = &self.interview.patient;
        let mut context = vec![
            json!({ "linkId": "complaint", "text": "Main complaint", "answer": [{ "valueCoding": {
                "system": PROTOCOL_SYSTEM, "code": protocol.id, "display": protocol.title.en } }] }),
            json!({ "linkId": "age-months", "text": "Age in months", "answer": [{ "valueInteger": patient.age_months }] }),
            json!({ "linkId": "sex", "text": "Sex", "answer": [{ "valueCoding": {
                "system": GENDER_SYSTEM, "code": patient.sex.code() } }] }),
            json!({ "linkId": "pregnant", "text": "Pregnant", "answer": [{ "valueBoolean": patient.pregnant }] }),
        ];
        if let Some(text) = self
            .complaint_text
            .as_deref()
            .filter(|t| !t.trim().is_empty())
        {
            context.push(
                json!({ "linkId": "complaint-text", "text": "In the patient's words",
                "answer": [{ "valueString": text }] }),
            );
        }
        if !patient.conditions.is_empty() {
            let answers: Vec<Value> = patient
                .conditions
                .iter()
                .map(|c| json!({ "valueCoding": { "system": CONDITION_SYSTEM, "code": c.code() } }))
                .collect();
            context.push(
                json!({ "linkId": "conditions", "text": "Known conditions", "answer": answers }),
            );
        }
        let mut items =
            vec![json!({ "linkId": "context", "text": "About the patient", "item": context })];
        let answered: Vec<Value> = self
            .interview
            .answers
            .iter()
            .filter_map(|(id, answer)| {
                let question = protocol.question(id)?;
                let value = match answer {
                    Answer::Yes => json!({ "valueBoolean": true }),
                    Answer::No => json!({ "valueBoolean": false }),
                    Answer::Unsure => json!({ "valueCoding": { "system": ANSWER_SYSTEM, "code": "unsure", "display": "Not sure" } }),
                    Answer::Choice(option) => json!({ "valueCoding": {
                        "system": format!("{QUESTIONNAIRE_BASE}{}", protocol.id), "code": option,
                        "display": answer.words(question, self.lang) } }),
                    Answer::Number(n) => json!({ "valueDecimal": n }),
                };
                Some(json!({ "linkId": id, "text": question.text.get(self.lang), "answer": [value] }))
            })
            .collect();
        if !answered.is_empty() {
            items.push(json!({ "linkId": "answers", "text": "Questions", "item": answered }));
        }
        let mut qr = json!({
            "resourceType": "QuestionnaireResponse",
            "id": self.id,
            "language": self.lang.code(),
            "questionnaire": format!("{QUESTIONNAIRE_BASE}{}", protocol.id),
            "status": match self.status { Status::InProgress => "in-progress", Status::Completed => "completed" },
            "subject": { "reference": format!("Patient/{}", self.patient_id) },
            "authored": self.authored,
            "item": items,
        });
        if self.for_child {
            qr["extension"] = json!([{ "url": EXT_FOR_CHILD, "valueBoolean": true }]);
        }
        qr
    }

    /// Reads an interview back; `None` when the resource is not a triage interview (or its
    /// protocol is no longer in this binary).
    pub fn from_fhir(qr: &Value, version: i64, library: &Library) -> Option<Record> {
        let protocol_id = qr["questionnaire"]
            .as_str()?
            .strip_prefix(QUESTIONNAIRE_BASE)?;
        let protocol = library.get(protocol_id)?;
        let items = qr["item"].as_array()?;
        let group = |link: &str| {
            items
                .iter()
                .find(|i| i["linkId"] == link)
                .and_then(|i| i["item"].as_array())
        };
        let context = group("context")?;
        let first = |link: &str| {
            context
                .iter()
                .find(|i| i["linkId"] == link)
                .map(|i| &i["answer"][0])
        };
        let sex = match first("sex")?["valueCoding"]["code"].as_str()? {
            "female" => Sex::Female,
            _ => Sex::Male,
        };
        let conditions = context
            .iter()
            .find(|i| i["linkId"] == "conditions")
            .and_then(|i| i["answer"].as_array())
            .map(|answers| {
                answers
                    .iter()
                    .filter_map(|a| Condition::parse(a["valueCoding"]["code"].as_str()?))
                    .collect()
            })
            .unwrap_or_default();
        let patient = Patient {
            age_months: first("age-months")?["valueInteger"].as_u64()? as u32,
            sex,
            pregnant: first("pregnant")
                .and_then(|a| a["valueBoolean"].as_bool())
                .unwrap_or(false),
            conditions,
        };
        let mut answers = Vec::new();
        for item in group("answers").map(Vec::as_slice).unwrap_or_default() {
            let id = item["linkId"].as_str()?;
            let question = protocol.question(id)?;
            let value = &item["answer"][0];
            let raw = if let Some(b) = value["valueBoolean"].as_bool() {
                if b { "yes" } else { "no" }.to_string()
            } else if let Some(code) = value["valueCoding"]["code"].as_str() {
                code.to_string()
            } else {
                value["valueDecimal"].to_string()
            };
            answers.push((id.to_string(), Answer::parse(question, &raw).ok()?));
        }
        Some(Record {
            id: qr["id"].as_str()?.to_string(),
            version,
            patient_id: qr["subject"]["reference"]
                .as_str()?
                .strip_prefix("Patient/")?
                .to_string(),
            interview: Interview {
                protocol: protocol.id.clone(),
                patient,
                answers,
            },
            lang: Lang::parse(qr["language"].as_str().unwrap_or("en")),
            for_child: qr["extension"].as_array().is_some_and(|e| {
                e.iter()
                    .any(|x| x["url"] == EXT_FOR_CHILD && x["valueBoolean"] == true)
            }),
            complaint_text: context
                .iter()
                .find(|i| i["linkId"] == "complaint-text")
                .and_then(|i| i["answer"][0]["valueString"].as_str())
                .map(str::to_string),
            status: if qr["status"] == "completed" {
                Status::Completed
            } else {
                Status::InProgress
            },
            authored: qr["authored"].as_str().unwrap_or_default().to_string(),
        })
    }
}

/// The urgency as a codeable concept of Carefront's urgency code system.
fn urgency_concept(level: Level) -> Value {
    json!({ "coding": [{ "system": URGENCY_SYSTEM, "code": level.code(), "display": level.label(Lang::En) }],
            "text": level.label(Lang::En) })
}

/// The RiskAssessment for a finished interview (status preliminary: the engine's view,
/// until a clinician reviews it).
pub fn assessment(record: &Record, outcome: &Outcome<'_>, at: &str) -> Value {
    let protocol = outcome.protocol;
    let rationale: Vec<String> = outcome
        .reasons
        .iter()
        .map(|r| format!("{} ({})", r.because(Lang::En), r.source_title()))
        .collect();
    let mut ra = json!({
        "resourceType": "RiskAssessment",
        "status": "preliminary",
        "subject": { "reference": format!("Patient/{}", record.patient_id) },
        "occurrenceDateTime": at,
        "basis": [{ "reference": format!("QuestionnaireResponse/{}", record.id) }],
        "code": { "text": "Symptom triage" },
        "method": { "coding": [{ "system": PROTOCOL_SYSTEM, "code": protocol.id, "display": protocol.title.en }] },
        "prediction": [prediction(outcome.level, &rationale.join("; "))],
    });
    if let Some(modality) = outcome.modality {
        ra["extension"] = json!([{ "url": EXT_MODALITY, "valueCode": modality.code() }]);
    }
    ra
}

fn prediction(level: Level, rationale: &str) -> Value {
    json!({ "outcome": urgency_concept(level), "qualitativeRisk": urgency_concept(level), "rationale": rationale })
}

/// A triage RiskAssessment as the queue and pages show it.
#[derive(Debug, Clone)]
pub struct Assessment {
    pub id: String,
    pub version: i64,
    pub patient_id: String,
    pub interview_id: String,
    pub protocol: String,
    pub level: Level,
    pub modality: Option<Modality>,
    /// preliminary (engine), amended (re-triaged), final (reviewed).
    pub status: String,
    /// What the engine said, when a clinician changed it.
    pub engine_level: Option<Level>,
    pub rationale: String,
    pub at: String,
    /// Clinicians' notes: (who, when, text).
    pub notes: Vec<(String, String, String)>,
}

impl Assessment {
    pub fn from_fhir(ra: &Value, version: i64) -> Option<Assessment> {
        let method = &ra["method"]["coding"][0];
        if method["system"] != PROTOCOL_SYSTEM {
            return None;
        }
        let extension = |url: &str| {
            ra["extension"]
                .as_array()
                .and_then(|e| e.iter().find(|x| x["url"] == url))
                .and_then(|x| x["valueCode"].as_str())
        };
        let prediction = &ra["prediction"][0];
        Some(Assessment {
            id: ra["id"].as_str()?.to_string(),
            version,
            patient_id: ra["subject"]["reference"]
                .as_str()?
                .strip_prefix("Patient/")?
                .to_string(),
            interview_id: ra["basis"][0]["reference"]
                .as_str()?
                .strip_prefix("QuestionnaireResponse/")?
                .to_string(),
            protocol: method["code"].as_str()?.to_string(),
            level: Level::parse(prediction["qualitativeRisk"]["coding"][0]["code"].as_str()?)?,
            modality: extension(EXT_MODALITY).and_then(Modality::parse),
            status: ra["status"].as_str()?.to_string(),
            engine_level: extension(EXT_ENGINE_URGENCY).and_then(Level::parse),
            rationale: prediction["rationale"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            at: ra["occurrenceDateTime"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            notes: ra["note"]
                .as_array()
                .map(|notes| {
                    notes
                        .iter()
                        .map(|n| {
                            (
                                n["authorString"].as_str().unwrap_or_default().to_string(),
                                n["time"].as_str().unwrap_or_default().to_string(),
                                n["text"].as_str().unwrap_or_default().to_string(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
        })
    }

    /// Whether a clinician still has to look at it.
    pub fn waiting(status: &str) -> bool {
        matches!(status, "preliminary" | "amended" | "registered")
    }
}

/// A clinician's change of the urgency (re-triage) or review, written onto the stored
/// RiskAssessment `ra` (its earlier versions keep what was there before).
pub fn revise(
    ra: &mut Value,
    change: Option<(Level, Option<Modality>)>,
    reason: &str,
    clinician: &str,
    practitioner: Option<&str>,
    at: &str,
) {
    if let Some((level, modality)) = change {
        let engine = ra["prediction"][0]["qualitativeRisk"]["coding"][0]["code"].clone();
        let mut extensions: Vec<Value> = ra["extension"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|x| x["url"] != EXT_MODALITY)
            .collect();
        if !extensions.iter().any(|x| x["url"] == EXT_ENGINE_URGENCY) {
            extensions.push(json!({ "url": EXT_ENGINE_URGENCY, "valueCode": engine }));
        }
        if let Some(m) = modality {
            extensions.push(json!({ "url": EXT_MODALITY, "valueCode": m.code() }));
        }
        ra["extension"] = Value::Array(extensions);
        let rationale = ra["prediction"][0]["rationale"].clone();
        ra["prediction"] = json!([prediction(level, rationale.as_str().unwrap_or_default())]);
        ra["status"] = json!("amended");
    } else {
        ra["status"] = json!("final");
    }
    if let Some(p) = practitioner {
        ra["performer"] = json!({ "reference": format!("Practitioner/{p}") });
    }
    let note = json!({ "authorString": clinician, "time": at, "text": reason });
    match ra["note"].as_array_mut() {
        Some(notes) => notes.push(note),
        None => ra["note"] = json!([note]),
    }
}
