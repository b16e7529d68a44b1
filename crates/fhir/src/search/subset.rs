//! `_summary` and `_elements`: returning part of each resource, marked with the SUBSETTED tag
//! as the specification requires.
//!
//! Which top-level elements are summary or mandatory comes from the R4 StructureDefinitions
//! (`data/summary-elements.json`, made by `tools/gen_search_params.py`).

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::Summary;

const DATA: &str = include_str!("../../data/summary-elements.json");

const SUBSETTED_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue";

#[derive(Deserialize)]
struct TypeElements {
    summary: Vec<String>,
    mandatory: Vec<String>,
}

fn types() -> &'static HashMap<String, TypeElements> {
    static TYPES: OnceLock<HashMap<String, TypeElements>> = OnceLock::new();
    TYPES.get_or_init(|| serde_json::from_str(DATA).expect("embedded summary-elements.json"))
}

/// Keep only `elements` (top-level names, `Patient.name` also accepted), plus `id`, `meta`
/// and the mandatory elements of the type.
pub fn apply_elements(resource: &mut Value, elements: &[String]) {
    let Some(rt) = resource_type(resource) else {
        return;
    };
    let wanted: Vec<&str> = elements
        .iter()
        .map(|e| {
            e.strip_prefix(&rt)
                .and_then(|e| e.strip_prefix('.'))
                .unwrap_or(e)
        })
        .collect();
    let mandatory = types().get(&rt).map_or(&[][..], |t| &t.mandatory[..]);
    retain(resource, |key| {
        wanted
            .iter()
            .copied()
            .chain(mandatory.iter().map(String::as_str))
            .any(|e| names(e, key))
    });
}

/// Reduce the resource as `_summary` asks (`true`, `text`, `data`; `false` and `count` leave
/// it alone).
pub fn apply_summary(resource: &mut Value, summary: Summary) {
    let Some(rt) = resource_type(resource) else {
        return;
    };
    let Some(elements) = types().get(&rt) else {
        return;
    };
    match summary {
        Summary::False | Summary::Count => {}
        Summary::True => retain(resource, |key| {
            elements
                .summary
                .iter()
                .chain(&elements.mandatory)
                .any(|e| names(e, key))
        }),
        Summary::Text => retain(resource, |key| {
            key == "text" || elements.mandatory.iter().any(|e| names(e, key))
        }),
        Summary::Data => retain(resource, |key| key != "text"),
    }
}

fn resource_type(resource: &Value) -> Option<String> {
    resource
        .get("resourceType")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// Whether JSON key `key` holds element `element`: `name`, its `_name` sibling (extensions of
/// a primitive), and for a choice (`deceased[x]` or plain `deceased`) `deceasedBoolean` etc.
fn names(element: &str, key: &str) -> bool {
    let key = key.strip_prefix('_').unwrap_or(key);
    let base = element.strip_suffix("[x]").unwrap_or(element);
    match key.strip_prefix(base) {
        Some("") => true,
        Some(rest) => rest.starts_with(|c: char| c.is_ascii_uppercase()),
        None => false,
    }
}

/// Keep `resourceType`, `id`, `meta` and the keys `keep` accepts; tag the resource SUBSETTED.
fn retain(resource: &mut Value, keep: impl Fn(&str) -> bool) {
    let Some(map) = resource.as_object_mut() else {
        return;
    };
    map.retain(|key, _| matches!(key.as_str(), "resourceType" | "id" | "meta") || keep(key));
    mark_subsetted(map);
}

fn mark_subsetted(map: &mut Map<String, Value>) {
    let meta = map.entry("meta").or_insert_with(|| json!({}));
    let Some(meta) = meta.as_object_mut() else {
        return;
    };
    let tags = meta.entry("tag").or_insert_with(|| json!([]));
    let Some(tags) = tags.as_array_mut() else {
        return;
    };
    let present = tags.iter().any(|t| {
        t.get("system").and_then(Value::as_str) == Some(SUBSETTED_SYSTEM)
            && t.get("code").and_then(Value::as_str) == Some("SUBSETTED")
    });
    if !present {
        tags.push(json!({
            "system": SUBSETTED_SYSTEM,
            "code": "SUBSETTED",
            "display": "Resource encoded in summary mode",
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patient() -> Value {
        json!({"resourceType": "Patient", "id": "p1",
            "meta": {"versionId": "2"},
            "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"},
            "name": [{"family": "Chalmers"}], "birthDate": "1974-12-25",
            "_birthDate": {"extension": []}, "deceasedBoolean": false,
            "maritalStatus": {"text": "M"}, "contact": [{"name": {"family": "x"}}]})
    }

    fn keys(v: &Value) -> Vec<&str> {
        v.as_object().unwrap().keys().map(String::as_str).collect()
    }

    fn subsetted(v: &Value) -> bool {
        v["meta"]["tag"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t["code"] == "SUBSETTED"))
    }

    #[test]
    fn summary_true_keeps_summary_elements() {
        let mut p = patient();
        apply_summary(&mut p, Summary::True);
        assert_eq!(
            keys(&p),
            [
                "resourceType",
                "id",
                "meta",
                "name",
                "birthDate",
                "_birthDate",
                "deceasedBoolean"
            ]
        );
        assert!(subsetted(&p));
        assert_eq!(p["meta"]["versionId"], "2");
        // Applying twice does not repeat the tag.
        apply_summary(&mut p, Summary::True);
        assert_eq!(p["meta"]["tag"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn summary_text_and_data() {
        let mut p = patient();
        apply_summary(&mut p, Summary::Text);
        assert_eq!(keys(&p), ["resourceType", "id", "meta", "text"]);
        let mut p = patient();
        apply_summary(&mut p, Summary::Data);
        assert!(p.get("text").is_none() && p.get("contact").is_some() && subsetted(&p));
        let mut p = patient();
        apply_summary(&mut p, Summary::False);
        assert_eq!(p, patient());
        // Mandatory elements stay (Observation.status, Observation.code).
        let mut o = json!({"resourceType": "Observation", "status": "final",
            "code": {"text": "x"}, "text": {"div": ""}, "note": [{"text": "n"}]});
        apply_summary(&mut o, Summary::Text);
        assert_eq!(keys(&o), ["resourceType", "status", "code", "text", "meta"]);
    }

    #[test]
    fn elements_keep_what_is_asked_and_what_is_mandatory() {
        let mut p = patient();
        apply_elements(&mut p, &["birthDate".into(), "Patient.deceased".into()]);
        assert_eq!(
            keys(&p),
            [
                "resourceType",
                "id",
                "meta",
                "birthDate",
                "_birthDate",
                "deceasedBoolean"
            ]
        );
        assert!(subsetted(&p));
        let mut o = json!({"resourceType": "Observation", "id": "o", "status": "final",
            "code": {"text": "x"}, "subject": {"reference": "Patient/1"}, "note": []});
        apply_elements(&mut o, &["subject".into()]);
        assert_eq!(
            keys(&o),
            ["resourceType", "id", "status", "code", "subject", "meta"]
        );
    }
}
