//! Extraction on official R4 examples (trimmed copies, so the tests need no data files).

use serde_json::{json, Value};

use super::*;
use crate::search::datetime::date_range;

fn entries<'a>(all: &'a [IndexEntry], param: &str) -> Vec<&'a IndexValue> {
    all.iter()
        .filter(|e| e.param == param)
        .map(|e| &e.value)
        .collect()
}

fn string(normalized: &str, exact: &str) -> IndexValue {
    IndexValue::String {
        normalized: normalized.into(),
        exact: exact.into(),
    }
}

fn token(system: Option<&str>, code: &str) -> IndexValue {
    IndexValue::Token {
        system: system.map(Into::into),
        code: Some(code.into()),
    }
}

fn reference(t: &str, id: &str) -> IndexValue {
    IndexValue::Reference {
        target_type: Some(t.into()),
        target_id: Some(id.into()),
        url: None,
    }
}

fn date(s: &str) -> IndexValue {
    let (start, end) = date_range(s).unwrap();
    IndexValue::Date { start, end }
}

/// Patient/example from the R4 examples (narrative and a few elements left out).
pub(crate) fn patient_example() -> Value {
    json!({"resourceType": "Patient", "id": "example",
        "meta": {"lastUpdated": "2020-01-01T00:00:00Z",
                 "tag": [{"system": "http://example.org/tags", "code": "vip"}]},
        "identifier": [{"use": "usual", "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]},
            "system": "urn:oid:1.2.36.146.595.217.0.1", "value": "12345", "period": {"start": "2001-05-06"},
            "assigner": {"display": "Acme Healthcare"}}],
        "active": true,
        "name": [{"use": "official", "family": "Chalmers", "given": ["Peter", "James"]},
                 {"use": "usual", "given": ["Jim"]},
                 {"use": "maiden", "family": "Windsor", "given": ["Peter", "James"], "period": {"end": "2002"}}],
        "telecom": [{"use": "home"}, {"system": "phone", "value": "(03) 5555 6473", "use": "work", "rank": 1},
            {"system": "phone", "value": "(03) 3410 5613", "use": "mobile", "rank": 2},
            {"system": "email", "value": "peter@example.org"}],
        "gender": "male", "birthDate": "1974-12-25",
        "_birthDate": {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/patient-birthTime",
            "valueDateTime": "1974-12-25T14:35:45-05:00"}]},
        "deceasedBoolean": false,
        "address": [{"use": "home", "type": "both", "text": "534 Erewhon St PeasantVille, Rainbow, Vic  3999",
            "line": ["534 Erewhon St"], "city": "PleasantVille", "district": "Rainbow", "state": "Vic",
            "postalCode": "3999", "period": {"start": "1974-12-25"}}],
        "contact": [{"name": {"family": "du Marché", "given": ["Bénédicte"]}}],
        "generalPractitioner": [{"reference": "Practitioner/gp-1"}],
        "managingOrganization": {"reference": "Organization/1"}})
}

#[test]
fn patient_example_names_identifiers_and_dates() {
    let all = extract(&patient_example());
    assert_eq!(
        entries(&all, "family"),
        vec![
            &string("chalmers", "Chalmers"),
            &string("windsor", "Windsor")
        ]
    );
    let given = entries(&all, "given");
    assert_eq!(given.len(), 3, "duplicates removed: {given:?}");
    let name = entries(&all, "name");
    assert!(name.contains(&&string("peter", "Peter")));
    assert!(name.contains(&&string("chalmers", "Chalmers")));
    assert!(entries(&all, "address-city").contains(&&string("pleasantville", "PleasantVille")));
    assert!(entries(&all, "address").contains(&&string(
        "534 erewhon st peasantville, rainbow, vic 3999",
        "534 Erewhon St PeasantVille, Rainbow, Vic  3999"
    )));
    assert_eq!(
        entries(&all, "identifier"),
        vec![&token(Some("urn:oid:1.2.36.146.595.217.0.1"), "12345")]
    );
    assert_eq!(entries(&all, "gender"), vec![&token(None, "male")]);
    assert_eq!(entries(&all, "active"), vec![&token(None, "true")]);
    assert_eq!(entries(&all, "deceased"), vec![&token(None, "false")]);
    assert_eq!(entries(&all, "birthdate"), vec![&date("1974-12-25")]);
    assert_eq!(
        entries(&all, "email"),
        vec![&token(None, "peter@example.org")]
    );
    assert_eq!(entries(&all, "phone").len(), 2);
    assert_eq!(entries(&all, "telecom").len(), 3);
    assert_eq!(
        entries(&all, "organization"),
        vec![&reference("Organization", "1")]
    );
    assert_eq!(
        entries(&all, "general-practitioner"),
        vec![&reference("Practitioner", "gp-1")]
    );
    assert_eq!(
        entries(&all, "_tag"),
        vec![&token(Some("http://example.org/tags"), "vip")]
    );
    // Row columns, not index entries.
    assert!(entries(&all, "_id").is_empty());
    assert!(entries(&all, "_lastUpdated").is_empty());
}

#[test]
fn observation_value_quantity_code_and_subject() {
    let obs = json!({"resourceType": "Observation", "id": "example", "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7", "display": "Body Weight"},
                            {"system": "http://snomed.info/sct", "code": "27113001"}]},
        "subject": {"reference": "Patient/example"}, "encounter": {"reference": "Encounter/example"},
        "effectiveDateTime": "2016-03-28",
        "valueQuantity": {"value": 185, "unit": "lbs", "system": "http://unitsofmeasure.org", "code": "[lb_av]"}});
    let all = extract(&obs);
    let q = IndexValue::Quantity {
        low: 184.5,
        high: 185.5,
        system: Some("http://unitsofmeasure.org".into()),
        code: Some("[lb_av]".into()),
    };
    assert_eq!(entries(&all, "value-quantity"), vec![&q]);
    assert_eq!(entries(&all, "combo-value-quantity"), vec![&q]);
    assert_eq!(
        entries(&all, "code"),
        vec![
            &token(Some("http://loinc.org"), "29463-7"),
            &token(Some("http://snomed.info/sct"), "27113001")
        ]
    );
    assert_eq!(
        entries(&all, "subject"),
        vec![&reference("Patient", "example")]
    );
    assert_eq!(
        entries(&all, "patient"),
        vec![&reference("Patient", "example")]
    );
    assert_eq!(entries(&all, "date"), vec![&date("2016-03-28")]);
    assert!(entries(&all, "value-concept").is_empty());
    // Composite parameters are not indexed.
    assert!(entries(&all, "code-value-quantity").is_empty());
}

#[test]
fn quantity_unit_falls_back_and_ranges_and_money() {
    let obs = json!({"resourceType": "Observation", "status": "final", "code": {"text": "x"},
        "valueQuantity": {"value": 6.3, "unit": "mmol/l"}});
    let all = extract(&obs);
    let [IndexValue::Quantity {
        low,
        high,
        system,
        code,
    }] = entries(&all, "value-quantity")[..]
    else {
        panic!("{all:?}")
    };
    assert!((low - 6.25).abs() < 1e-9 && (high - 6.35).abs() < 1e-9);
    assert_eq!((system.as_deref(), code.as_deref()), (None, Some("mmol/l")));

    let condition = json!({"resourceType": "Condition", "subject": {"reference": "Patient/1"},
        "onsetRange": {"low": {"value": 10, "unit": "a"}, "high": {"value": 20, "unit": "a"}}});
    let all = extract(&condition);
    assert_eq!(
        entries(&all, "onset-age"),
        vec![&IndexValue::Quantity {
            low: 9.5,
            high: 20.5,
            system: None,
            code: Some("a".into())
        }]
    );

    let item = json!({"resourceType": "ChargeItem", "subject": {"reference": "Patient/1"},
        "priceOverride": {"value": 40, "currency": "EUR"}});
    let all = extract(&item);
    assert_eq!(
        entries(&all, "price-override"),
        vec![&IndexValue::Quantity {
            low: 39.5,
            high: 40.5,
            system: Some("urn:iso:std:iso:4217".into()),
            code: Some("EUR".into())
        }]
    );
}

#[test]
fn encounter_period_and_participants() {
    // Encounter/f203, trimmed.
    let enc = json!({"resourceType": "Encounter", "id": "f203", "status": "finished",
        "identifier": [{"use": "temp", "value": "Encounter_Roel_20130311"}],
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
        "subject": {"reference": "Patient/f201", "display": "Roel"},
        "participant": [{"individual": {"reference": "Practitioner/f201"}}],
        "period": {"start": "2013-03-11", "end": "2013-03-20"},
        "length": {"value": 9, "unit": "days"},
        "partOf": {"reference": "Encounter/f203"}});
    let all = extract(&enc);
    let start = date_range("2013-03-11").unwrap().0;
    let end = date_range("2013-03-20").unwrap().1;
    assert_eq!(
        entries(&all, "date"),
        vec![&IndexValue::Date { start, end }]
    );
    assert_eq!(
        entries(&all, "class"),
        vec![&token(
            Some("http://terminology.hl7.org/CodeSystem/v3-ActCode"),
            "IMP"
        )]
    );
    assert_eq!(
        entries(&all, "identifier"),
        vec![&token(None, "Encounter_Roel_20130311")]
    );
    assert_eq!(
        entries(&all, "practitioner"),
        vec![&reference("Practitioner", "f201")]
    );
    assert_eq!(
        entries(&all, "participant"),
        vec![&reference("Practitioner", "f201")]
    );
    assert_eq!(
        entries(&all, "patient"),
        vec![&reference("Patient", "f201")]
    );
    assert_eq!(entries(&all, "length").len(), 1);
    assert!(matches!(
        entries(&all, "length")[0],
        IndexValue::Quantity { .. }
    ));
}

#[test]
fn open_periods_and_timing() {
    let plan = json!({"resourceType": "CarePlan", "status": "active", "intent": "plan",
        "subject": {"reference": "Patient/1"}, "period": {"start": "2020-01-01"},
        "activity": [{"detail": {"status": "scheduled",
            "scheduledTiming": {"event": ["2020-02-01", "2020-03-01"]}}}]});
    let all = extract(&plan);
    assert_eq!(
        entries(&all, "date"),
        vec![&IndexValue::Date {
            start: date_range("2020-01-01").unwrap().0,
            end: OPEN_END
        }]
    );
    assert_eq!(
        entries(&all, "activity-date"),
        vec![&date("2020-02-01"), &date("2020-03-01")]
    );
}

#[test]
fn references_of_every_form() {
    assert_eq!(
        parse_reference("Patient/1/_history/2"),
        Some(reference("Patient", "1"))
    );
    assert_eq!(
        parse_reference("http://other.org/fhir/Patient/1"),
        Some(IndexValue::Reference {
            target_type: Some("Patient".into()),
            target_id: Some("1".into()),
            url: Some("http://other.org/fhir/Patient/1".into())
        })
    );
    let url_only = |u: &str| IndexValue::Reference {
        target_type: None,
        target_id: None,
        url: Some(u.into()),
    };
    assert_eq!(
        parse_reference("urn:uuid:0c3151bd"),
        Some(url_only("urn:uuid:0c3151bd"))
    );
    // Canonical: the version is dropped; the URL has the Type/id form, so both are kept.
    assert_eq!(
        parse_reference("http://hl7.org/fhir/ValueSet/x|4.0.1"),
        Some(IndexValue::Reference {
            target_type: Some("ValueSet".into()),
            target_id: Some("x".into()),
            url: Some("http://hl7.org/fhir/ValueSet/x".into())
        })
    );
    assert_eq!(
        parse_reference("http://loinc.org/vs|2.6"),
        Some(url_only("http://loinc.org/vs"))
    );
    assert_eq!(parse_reference("#contained"), None);
    assert_eq!(parse_reference("Foo/1"), Some(url_only("Foo/1")));

    // Canonical references (ConceptMap.source as canonical) and inline resources.
    let map = json!({"resourceType": "ConceptMap", "status": "draft",
        "sourceCanonical": "http://hl7.org/fhir/ValueSet/a", "targetUri": "http://b"});
    let all = extract(&map);
    assert_eq!(
        entries(&all, "source"),
        vec![&IndexValue::Reference {
            target_type: Some("ValueSet".into()),
            target_id: Some("a".into()),
            url: Some("http://hl7.org/fhir/ValueSet/a".into())
        }]
    );
    assert_eq!(entries(&all, "target-uri"), vec![&url_only("http://b")]);
    let bundle = json!({"resourceType": "Bundle", "type": "document",
        "entry": [{"resource": {"resourceType": "Composition", "id": "c1"}}]});
    assert_eq!(
        entries(&extract(&bundle), "composition"),
        vec![&reference("Composition", "c1")]
    );
}

#[test]
fn extensions_and_contained_references() {
    let p = json!({"resourceType": "Patient", "extension": [{
        "url": "http://hl7.org/fhir/StructureDefinition/patient-extensions-Patient-mothersMaidenName",
        "valueString": "Ødegård"}]});
    assert_eq!(
        entries(&extract(&p), "mothersMaidenName"),
        vec![&string("odegard", "Ødegård")]
    );
    let obs = json!({"resourceType": "Observation", "status": "final", "code": {"text": "x"},
        "subject": {"reference": "#p"}, "contained": [{"resourceType": "Patient", "id": "p"}]});
    // Matches `where(resolve() is Patient)` but has no searchable target.
    assert!(entries(&extract(&obs), "patient").is_empty());
}

#[test]
fn not_a_resource_gives_nothing() {
    assert!(extract(&json!({"id": "x"})).is_empty());
    assert!(extract(&json!({"resourceType": "Nope", "id": "x"})).is_empty());
}
