//! Small builders for the FHIR JSON shapes the generator repeats.

use serde_json::{json, Map, Value};

pub const SNOMED: &str = "http://snomed.info/sct";
pub const LOINC: &str = "http://loinc.org";
pub const RXNORM: &str = "http://www.nlm.nih.gov/research/umls/rxnorm";
pub const UCUM: &str = "http://unitsofmeasure.org";
pub const BCP47: &str = "urn:ietf:bcp:47";
pub const V3_ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";

/// Every demo resource carries this tag, so that demo data can be searched for
/// (`_tag=<system>|demo`) and told apart from real records.
pub const DEMO_TAG_SYSTEM: &str = "https://carefront.example.org/fhir/CodeSystem/data-origin";
/// Identifier systems of the demo: under example.org, so they never collide with real ones.
pub const ID_SYSTEM_BASE: &str = "https://carefront.example.org/fhir/sid/demo";

/// A resource: `resourceType`, `id`, the demo tag, then the fields of `body` in order.
pub fn resource(resource_type: &str, id: &str, body: Value) -> Value {
    let mut out = Map::new();
    out.insert("resourceType".into(), resource_type.into());
    out.insert("id".into(), id.into());
    out.insert(
        "meta".into(),
        json!({ "tag": [{ "system": DEMO_TAG_SYSTEM, "code": "demo", "display": "Carefront demo data" }] }),
    );
    match body {
        Value::Object(fields) => out.extend(fields),
        other => panic!("a resource body is an object, not {other}"),
    }
    Value::Object(out)
}

pub fn coding(system: &str, code: &str, display: &str) -> Value {
    json!({ "system": system, "code": code, "display": display })
}

/// A CodeableConcept with one coding, its display repeated as text.
pub fn concept(system: &str, code: &str, display: &str) -> Value {
    json!({ "coding": [coding(system, code, display)], "text": display })
}

pub fn text_concept(text: &str) -> Value {
    json!({ "text": text })
}

pub fn reference(resource_type: &str, id: &str) -> Value {
    json!({ "reference": format!("{resource_type}/{id}") })
}

pub fn reference_to(resource_type: &str, id: &str, display: &str) -> Value {
    json!({ "reference": format!("{resource_type}/{id}"), "display": display })
}

/// A UCUM quantity.
pub fn quantity(value: Value, unit: &str, code: &str) -> Value {
    json!({ "value": value, "unit": unit, "system": UCUM, "code": code })
}

/// A FHIR decimal with exactly `places` decimals (written as the JSON number text, so
/// `72.40` stays `72.40` rather than whatever float formatting makes of it).
pub fn decimal(x: f64, places: usize) -> Value {
    let text = format!("{x:.places$}");
    Value::Number(serde_json::from_str(&text).expect("a formatted float is a JSON number"))
}

/// The `Type/id` of a resource built by [`resource`].
pub fn type_and_id(resource: &Value) -> String {
    format!(
        "{}/{}",
        resource["resourceType"].as_str().unwrap_or_default(),
        resource["id"].as_str().unwrap_or_default()
    )
}
