//! Diagnoses on a visit note: a short pick-list of common primary-care problems with their
//! SNOMED CT codes (`diagnoses.json`, names in plain words in each language), or a code the
//! clinician types (SNOMED CT or ICD-10) with its name; each becomes a Condition.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

pub const SNOMED: &str = "http://snomed.info/sct";
pub const ICD10: &str = "http://hl7.org/fhir/sid/icd-10";
const CLINICAL: &str = "http://terminology.hl7.org/CodeSystem/condition-clinical";
const VERIFICATION: &str = "http://terminology.hl7.org/CodeSystem/condition-ver-status";
const CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/condition-category";

/// One entry of the pick-list.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Common {
    pub code: String,
    pub en: String,
    pub fr: String,
}

impl Common {
    pub fn name(&self, lang: &str) -> &str {
        if lang == "fr" {
            &self.fr
        } else {
            &self.en
        }
    }
}

/// The pick-list.
pub fn common() -> &'static [Common] {
    static LIST: OnceLock<Vec<Common>> = OnceLock::new();
    LIST.get_or_init(|| {
        serde_json::from_str(include_str!("diagnoses.json")).expect("diagnoses.json is valid")
    })
}

/// A diagnosis as given.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnosis {
    pub system: &'static str,
    pub code: String,
    pub display: String,
    /// Confirmed, or provisional (a working diagnosis).
    pub confirmed: bool,
}

/// Why a diagnosis row was refused (a translation key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    UnknownPick,
    BadSnomed,
    BadIcd10,
    NoSystem,
    NoName,
}

impl Refused {
    pub fn key(self) -> &'static str {
        match self {
            Refused::UnknownPick => "visit.error.dx_pick",
            Refused::BadSnomed => "visit.error.dx_snomed",
            Refused::BadIcd10 => "visit.error.dx_icd10",
            Refused::NoSystem => "visit.error.dx_system",
            Refused::NoName => "visit.error.dx_name",
        }
    }
}

/// SNOMED CT identifiers are 6 to 18 digits.
fn snomed_ok(code: &str) -> bool {
    (6..=18).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_digit())
}

/// ICD-10 codes: a letter, two digits (the third may be a letter in some chapters), then
/// optionally a dot and up to four more characters (`J06.9`, `E11`, `M54.5`).
fn icd10_ok(code: &str) -> bool {
    let (head, tail) = code.split_once('.').unwrap_or((code, ""));
    let h = head.as_bytes();
    h.len() == 3
        && h[0].is_ascii_uppercase()
        && h[1].is_ascii_digit()
        && h[2].is_ascii_alphanumeric()
        && tail.len() <= 4
        && tail.bytes().all(|b| b.is_ascii_alphanumeric())
        && !(code.contains('.') && tail.is_empty())
}

/// One row of the form: a pick (a SNOMED code from the list), or a typed system, code and
/// name. `Ok(None)` when the row is empty.
pub fn parse_row(
    pick: &str,
    system: &str,
    code: &str,
    display: &str,
    status: &str,
    lang: &str,
) -> Result<Option<Diagnosis>, Refused> {
    let confirmed = status != "provisional";
    let (pick, code, display) = (pick.trim(), code.trim().to_uppercase(), display.trim());
    if !pick.is_empty() {
        let c = common()
            .iter()
            .find(|c| c.code == pick)
            .ok_or(Refused::UnknownPick)?;
        return Ok(Some(Diagnosis {
            system: SNOMED,
            code: c.code.clone(),
            display: c.name(lang).to_owned(),
            confirmed,
        }));
    }
    if code.is_empty() && display.is_empty() {
        return Ok(None);
    }
    let system = match system {
        "snomed" if snomed_ok(&code) => SNOMED,
        "snomed" => return Err(Refused::BadSnomed),
        "icd10" if icd10_ok(&code) => ICD10,
        "icd10" => return Err(Refused::BadIcd10),
        _ => return Err(Refused::NoSystem),
    };
    if display.is_empty() || display.chars().count() > 200 {
        return Err(Refused::NoName);
    }
    Ok(Some(Diagnosis {
        system,
        code,
        display: display.to_owned(),
        confirmed,
    }))
}

/// The Condition of a diagnosis (`base` holds subject, encounter, recorder, date).
pub fn condition(d: &Diagnosis, base: &Value) -> Value {
    let mut c = base.clone();
    c["resourceType"] = json!("Condition");
    c["clinicalStatus"] = json!({ "coding": [{ "system": CLINICAL, "code": "active" }] });
    c["verificationStatus"] = json!({ "coding": [{ "system": VERIFICATION,
        "code": if d.confirmed { "confirmed" } else { "provisional" } }] });
    c["category"] = json!([{ "coding": [{ "system": CATEGORY, "code": "encounter-diagnosis", "display": "Encounter Diagnosis" }] }]);
    c["code"] = json!({ "coding": [{ "system": d.system, "code": d.code, "display": d.display }], "text": d.display });
    c
}

/// A Condition in plain words for the patient: the pick-list's name in their language when
/// it is one of those, else the name the clinician gave. With whether it is provisional.
pub fn plain(condition: &Value, lang: &str) -> (String, bool) {
    let coding = &condition["code"]["coding"][0];
    let known = (coding["system"] == SNOMED)
        .then(|| common().iter().find(|c| coding["code"] == c.code.as_str()))
        .flatten();
    let name = known.map_or_else(
        || {
            condition["code"]["text"]
                .as_str()
                .or(coding["display"].as_str())
                .unwrap_or_default()
                .to_owned()
        },
        |c| c.name(lang).to_owned(),
    );
    let provisional = condition["verificationStatus"]["coding"][0]["code"] == "provisional";
    (name, provisional)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pick_list_is_well_formed() {
        let list = common();
        assert!(list.len() >= 30);
        for c in list {
            assert!(snomed_ok(&c.code), "{}", c.code);
            assert!(!c.en.is_empty() && !c.fr.is_empty());
        }
        let mut codes: Vec<_> = list.iter().map(|c| &c.code).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), list.len(), "no code twice");
    }

    #[test]
    fn rows_are_picked_or_typed() {
        let d = parse_row("38341003", "", "", "", "confirmed", "fr")
            .unwrap()
            .unwrap();
        assert_eq!(
            (d.system, d.display.as_str()),
            (SNOMED, "Hypertension artérielle")
        );
        let d = parse_row("", "icd10", "j06.9", "URTI", "provisional", "en")
            .unwrap()
            .unwrap();
        assert_eq!((d.code.as_str(), d.confirmed), ("J06.9", false));
        assert_eq!(parse_row("", "snomed", "", "", "", "en"), Ok(None));
        assert_eq!(
            parse_row("999", "", "", "", "", "en"),
            Err(Refused::UnknownPick)
        );
        assert_eq!(
            parse_row("", "snomed", "12a", "x", "", "en"),
            Err(Refused::BadSnomed)
        );
        assert_eq!(
            parse_row("", "icd10", "J0", "x", "", "en"),
            Err(Refused::BadIcd10)
        );
        assert_eq!(
            parse_row("", "icd10", "E11", "", "", "en"),
            Err(Refused::NoName)
        );
        let c = condition(&d, &json!({}));
        assert_eq!(plain(&c, "en"), ("URTI".to_owned(), true));
    }
}
