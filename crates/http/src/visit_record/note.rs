//! The visit note form: the structured note (reason, history, findings, assessment, plan),
//! diagnoses, vitals and follow-up; what is wrong with it, field by field; and the FHIR
//! resources it becomes (a Composition, Conditions, Observations and a follow-up Task).

use std::collections::HashMap;

use serde_json::{json, Value};

use super::diagnoses::{self, Diagnosis};
use super::vitals::{self, Vitals};

const LOINC: &str = "http://loinc.org";
/// The Composition of a visit note: LOINC "Progress note".
pub const NOTE_TYPE: (&str, &str) = ("11506-3", "Progress note");
/// Marks the follow-up Task (`Task.code`).
pub const TASK_SYSTEM: &str = "https://carefront.health/fhir/CodeSystem/task";
pub const FOLLOW_UP: &str = "book-follow-up";
/// The longest a section may be, in characters.
const MAX_TEXT: usize = 10_000;
/// Diagnosis rows on the form.
pub const DX_ROWS: [&str; 4] = ["dx0", "dx1", "dx2", "dx3"];

/// The note's sections: form field, LOINC section code and title.
pub const SECTIONS: [(&str, &str, &str); 5] = [
    ("reason", "29299-5", "Reason for visit"),
    ("history", "10164-2", "History of present illness"),
    ("findings", "29545-1", "Physical findings"),
    ("assessment", "51848-0", "Assessment"),
    ("plan", "18776-5", "Plan of care"),
];
/// Sections a note cannot be saved without.
const REQUIRED: [&str; 3] = ["reason", "assessment", "plan"];

/// The posted form, field by field (a missing field reads as empty).
#[derive(Debug, Default, Clone)]
pub struct Form(pub HashMap<String, String>);

impl Form {
    pub fn parse(body: &[u8]) -> Form {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
        Form(pairs.into_iter().collect())
    }

    pub fn get(&self, field: &str) -> String {
        self.0.get(field).cloned().unwrap_or_default()
    }
}

/// A checked note.
#[derive(Debug, Clone, Default)]
pub struct Note {
    /// Section field → text (empty sections left out).
    pub sections: Vec<(&'static str, String)>,
    pub diagnoses: Vec<Diagnosis>,
    pub vitals: Vitals,
    /// Measured by the clinician (else reported by the patient).
    pub vitals_measured: bool,
    /// Book a follow-up within this many days.
    pub follow_up_days: Option<u32>,
}

/// Something to fix: the field and a translation key with its values.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub field: &'static str,
    pub key: &'static str,
    pub args: Vec<(&'static str, String)>,
}

fn problem(field: &'static str, key: &'static str) -> Problem {
    Problem {
        field,
        key,
        args: vec![],
    }
}

fn text_problem(field: &'static str, text: &str) -> Option<Problem> {
    if text.chars().count() > MAX_TEXT {
        return Some(Problem {
            field,
            key: "visit.error.too_long",
            args: vec![("max", MAX_TEXT.to_string())],
        });
    }
    // Line breaks and tabs are writing; other control characters are not.
    text.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        .then(|| problem(field, "form.text.forbidden"))
}

/// Check the form; every problem at once, so the clinician fixes them in one go.
pub fn check(form: &Form, lang: &str) -> Result<Note, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut note = Note::default();
    for (field, _, _) in SECTIONS {
        let text = form.get(field).trim().replace("\r\n", "\n");
        if text.is_empty() {
            if REQUIRED.contains(&field) {
                problems.push(problem(field, "visit.error.required"));
            }
            continue;
        }
        match text_problem(field, &text) {
            Some(p) => problems.push(p),
            None => note.sections.push((field, text)),
        }
    }
    for row in DX_ROWS {
        let f = |part: &str| form.get(&format!("{row}_{part}"));
        match diagnoses::parse_row(
            &f("pick"),
            &f("system"),
            &f("code"),
            &f("display"),
            &f("status"),
            lang,
        ) {
            Ok(Some(d)) => note.diagnoses.push(d),
            Ok(None) => {}
            Err(e) => problems.push(problem(row, e.key())),
        }
    }
    match vitals::parse(|f| form.get(f)) {
        Ok(v) => note.vitals = v,
        Err(refused) => problems.extend(refused.into_iter().map(|r| Problem {
            field: r.field,
            key: r.key,
            args: r.args,
        })),
    }
    note.vitals_measured = form.get("vitals_source") == "measured";
    match form.get("follow_up").as_str() {
        "book" => match form.get("follow_up_days").trim().parse::<u32>() {
            Ok(n) if (1..=365).contains(&n) => note.follow_up_days = Some(n),
            _ => problems.push(problem("follow_up_days", "visit.error.follow_up_days")),
        },
        "" | "none" => {}
        _ => problems.push(problem("follow_up", "visit.error.follow_up")),
    }
    if problems.is_empty() {
        Ok(note)
    } else {
        Err(problems)
    }
}

/// Who and what a note is about.
#[derive(Debug, Clone)]
pub struct Context {
    pub patient_id: String,
    pub encounter_id: String,
    pub practitioner_id: String,
    pub practitioner_name: String,
    /// FHIR dateTime.
    pub now: String,
    /// FHIR dateTime: the day the follow-up should happen by.
    pub follow_up_by: Option<String>,
}

/// The Composition's id: one note per visit, so a second save cannot add another.
pub fn composition_id(encounter_id: &str) -> String {
    format!("note-{encounter_id}")
}

/// Narrative XHTML of plain text: escaped, line breaks kept.
fn narrative(text: &str) -> String {
    let escaped = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\n', "<br/>");
    format!("<div xmlns=\"http://www.w3.org/1999/xhtml\">{escaped}</div>")
}

/// The plain text of a section's narrative (for the patient's summary).
pub fn section_text(composition: &Value, code: &str) -> Option<String> {
    let section = composition["section"]
        .as_array()?
        .iter()
        .find(|s| s["code"]["coding"][0]["code"] == code)?;
    let div = section["text"]["div"].as_str()?;
    let inner = div.split_once('>')?.1.rsplit_once("</div>")?.0;
    Some(
        inner
            .replace("<br/>", "\n")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

/// The resources of a note: Composition first, then Conditions, Observations and the
/// follow-up Task.
pub fn resources(note: &Note, cx: &Context) -> Vec<Value> {
    let patient = json!({ "reference": format!("Patient/{}", cx.patient_id) });
    let encounter = json!({ "reference": format!("Encounter/{}", cx.encounter_id) });
    let practitioner = json!({ "reference": format!("Practitioner/{}", cx.practitioner_id), "display": cx.practitioner_name });
    let sections: Vec<Value> = SECTIONS
        .iter()
        .filter_map(|(field, code, title)| {
            let text = note.sections.iter().find(|(f, _)| f == field)?;
            Some(json!({
                "title": title,
                "code": { "coding": [{ "system": LOINC, "code": code, "display": title }] },
                "text": { "status": "generated", "div": narrative(&text.1) },
            }))
        })
        .collect();
    let mut out = vec![json!({
        "resourceType": "Composition",
        "id": composition_id(&cx.encounter_id),
        "status": "final",
        "type": { "coding": [{ "system": LOINC, "code": NOTE_TYPE.0, "display": NOTE_TYPE.1 }] },
        "subject": patient,
        "encounter": encounter,
        "date": cx.now,
        "author": [practitioner],
        "title": "Visit note",
        "section": sections,
    })];
    let recorded = json!({ "subject": patient, "encounter": encounter, "recorder": practitioner, "recordedDate": cx.now });
    out.extend(
        note.diagnoses
            .iter()
            .map(|d| diagnoses::condition(d, &recorded)),
    );
    let performer = if note.vitals_measured {
        &practitioner
    } else {
        &patient
    };
    let measured = json!({ "subject": patient, "encounter": encounter, "effectiveDateTime": cx.now, "performer": [performer] });
    out.extend(vitals::observations(&note.vitals, &measured));
    if let (Some(days), Some(by)) = (note.follow_up_days, &cx.follow_up_by) {
        out.push(json!({
            "resourceType": "Task",
            "status": "requested",
            "intent": "order",
            "code": { "coding": [{ "system": TASK_SYSTEM, "code": FOLLOW_UP, "display": "Book a follow-up visit" }] },
            "description": format!("Book a follow-up visit within {days} days"),
            "for": patient,
            "encounter": encounter,
            "authoredOn": cx.now,
            "requester": practitioner,
            // The patient books it (from their visit summary).
            "owner": patient,
            "restriction": { "period": { "end": by } },
        }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Form {
        Form(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn a_full_note_becomes_its_resources() {
        let f = form(&[
            ("reason", "Sore throat"),
            ("assessment", "Viral pharyngitis <likely>"),
            ("plan", "Rest\nFluids"),
            ("dx0_pick", "54150009"),
            ("dx1_system", "icd10"),
            ("dx1_code", "J02.9"),
            ("dx1_display", "Pharyngitis"),
            ("dx1_status", "provisional"),
            ("temperature", "38.2"),
            ("follow_up", "book"),
            ("follow_up_days", "7"),
        ]);
        let note = check(&f, "en").unwrap();
        let cx = Context {
            patient_id: "p".into(),
            encounter_id: "e".into(),
            practitioner_id: "d".into(),
            practitioner_name: "Dr D".into(),
            now: "2026-01-01T10:00:00Z".into(),
            follow_up_by: Some("2026-01-08".into()),
        };
        let r = resources(&note, &cx);
        let types: Vec<_> = r
            .iter()
            .map(|x| x["resourceType"].as_str().unwrap())
            .collect();
        assert_eq!(
            types,
            [
                "Composition",
                "Condition",
                "Condition",
                "Observation",
                "Task"
            ]
        );
        assert_eq!(r[0]["section"].as_array().unwrap().len(), 3);
        assert_eq!(
            section_text(&r[0], "51848-0").unwrap(),
            "Viral pharyngitis <likely>"
        );
        assert_eq!(section_text(&r[0], "18776-5").unwrap(), "Rest\nFluids");
        assert_eq!(
            r[2]["verificationStatus"]["coding"][0]["code"],
            "provisional"
        );
        assert_eq!(
            r[3]["performer"][0]["reference"], "Patient/p",
            "reported by the patient"
        );
        assert_eq!(r[4]["for"]["reference"], "Patient/p");
    }

    #[test]
    fn every_problem_is_named() {
        let f = form(&[
            ("reason", "x"),
            ("dx2_system", "snomed"),
            ("dx2_code", "abc"),
            ("follow_up", "book"),
        ]);
        let fields: Vec<_> = check(&f, "en")
            .unwrap_err()
            .iter()
            .map(|p| p.field)
            .collect();
        assert_eq!(fields, ["assessment", "plan", "dx2", "follow_up_days"]);
    }
}
