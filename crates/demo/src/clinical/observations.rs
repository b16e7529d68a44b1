//! Observation resources: vital signs (the FHIR vital-signs codes and UCUM units) and the
//! HbA1c of diabetic patients.

use serde_json::{json, Value};

use crate::fhir::{self, concept, quantity, reference, resource, LOINC};

use super::body::Vitals;

/// Where and when a set of observations was taken.
pub struct Taken<'a> {
    pub patient_id: &'a str,
    pub encounter_id: &'a str,
    pub effective: &'a str,
    pub performer_id: &'a str,
}

const VITAL_SIGNS: (&str, &str) = ("vital-signs", "Vital Signs");
const LABORATORY: (&str, &str) = ("laboratory", "Laboratory");

fn observation(
    id: &str,
    category: (&str, &str),
    (code, display): (&str, &str),
    value: (&str, Value),
    taken: &Taken,
) -> Value {
    let mut body = json!({
        "status": "final",
        "category": [concept(
            "http://terminology.hl7.org/CodeSystem/observation-category",
            category.0,
            category.1,
        )],
        "code": concept(LOINC, code, display),
        "subject": reference("Patient", taken.patient_id),
        "encounter": reference("Encounter", taken.encounter_id),
        "effectiveDateTime": taken.effective,
        "performer": [reference("Practitioner", taken.performer_id)],
    });
    body[value.0] = value.1;
    resource("Observation", id, body)
}

/// The vital signs of one visit; `full`: a check-up (height and BMI too), not a follow-up.
pub fn vital_signs(id_prefix: &str, v: &Vitals, age: f64, full: bool, taken: &Taken) -> Vec<Value> {
    let id = |suffix: &str| format!("{id_prefix}-{suffix}");
    let mut out = Vec::new();
    if age >= 3.0 {
        let component = |code: &str, display: &str, value: i64| {
            json!({
                "code": concept(LOINC, code, display),
                "valueQuantity": quantity(value.into(), "mmHg", "mm[Hg]"),
            })
        };
        out.push(observation(
            &id("bp"),
            VITAL_SIGNS,
            ("85354-9", "Blood pressure panel with all children optional"),
            (
                "component",
                json!([
                    component("8480-6", "Systolic blood pressure", v.systolic),
                    component("8462-4", "Diastolic blood pressure", v.diastolic),
                ]),
            ),
            taken,
        ));
    }
    out.push(observation(
        &id("hr"),
        VITAL_SIGNS,
        ("8867-4", "Heart rate"),
        (
            "valueQuantity",
            quantity(v.heart_rate.into(), "beats/minute", "/min"),
        ),
        taken,
    ));
    if full {
        out.push(observation(
            &id("height"),
            VITAL_SIGNS,
            ("8302-2", "Body height"),
            (
                "valueQuantity",
                quantity(fhir::decimal(v.height_cm, 1), "cm", "cm"),
            ),
            taken,
        ));
    }
    out.push(observation(
        &id("weight"),
        VITAL_SIGNS,
        ("29463-7", "Body weight"),
        (
            "valueQuantity",
            quantity(
                fhir::decimal(v.weight_kg, if age < 2.0 { 2 } else { 1 }),
                "kg",
                "kg",
            ),
        ),
        taken,
    ));
    if full && age >= 2.0 {
        out.push(observation(
            &id("bmi"),
            VITAL_SIGNS,
            ("39156-5", "Body mass index (BMI) [Ratio]"),
            (
                "valueQuantity",
                quantity(fhir::decimal(v.bmi, 1), "kg/m2", "kg/m2"),
            ),
            taken,
        ));
    }
    out
}

/// HbA1c in percent; 6.5 % and above is flagged high (the diagnostic threshold).
pub fn hba1c(id_prefix: &str, percent: f64, taken: &Taken) -> Value {
    let mut obs = observation(
        &format!("{id_prefix}-hba1c"),
        LABORATORY,
        ("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood"),
        (
            "valueQuantity",
            quantity(fhir::decimal(percent, 1), "%", "%"),
        ),
        taken,
    );
    if percent >= 6.5 {
        obs["interpretation"] = json!([concept(
            "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
            "H",
            "High",
        )]);
    }
    obs
}
