use std::path::Path;
use std::time::Instant;

use serde_json::{json, Value};

use super::{validate, MAX_ISSUES};
use crate::outcome::{Issue, IssueCode};

fn patient() -> Value {
    json!({
        "resourceType": "Patient",
        "id": "example",
        "meta": {"versionId": "1", "lastUpdated": "2024-05-01T10:20:30.123+02:00"},
        "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">Peter</div>"},
        "extension": [{"url": "http://example.org/ext", "valueCode": "x"}],
        "identifier": [{"use": "usual", "system": "urn:oid:1.2.36.146.595.217.0.1", "value": "12345"}],
        "active": true,
        "name": [{"use": "official", "family": "Chalmers", "given": ["Peter", "James"]}],
        "telecom": [{"system": "phone", "value": "(03) 5555 6473", "use": "work", "rank": 1}],
        "gender": "male",
        "_gender": {"extension": [{"url": "http://example.org/g", "valueString": "m"}]},
        "birthDate": "1974-12-25",
        "deceasedBoolean": false,
        "address": [{"line": ["534 Erewhon St"], "city": "PleasantVille", "postalCode": "3999",
                     "period": {"start": "1974-12-25"}}],
        "contact": [{"relationship": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0131", "code": "N"}]}],
                     "gender": "female"}],
        "managingOrganization": {"reference": "Organization/1"}
    })
}

/// `patient()` with `edit` applied to it.
fn patient_with(edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Value {
    let mut p = patient();
    edit(p.as_object_mut().unwrap());
    p
}

fn issues(resource: &Value) -> Vec<Issue> {
    validate(resource).err().unwrap_or_default()
}

fn show(issues: &[Issue]) -> String {
    issues
        .iter()
        .map(|i| format!("  {:?} {}\n", i.code, i))
        .collect()
}

#[test]
fn valid_patient_passes() {
    assert_eq!(
        validate(&patient()),
        Ok(()),
        "{}",
        show(&issues(&patient()))
    );
}

#[test]
fn each_kind_of_error_is_reported_where_it_is() {
    let observation =
        json!({"resourceType": "Observation", "code": {"text": "x"}, "status": "final"});
    let cases: Vec<(&str, Value, IssueCode, &str)> = vec![
        (
            "missing status",
            without(&observation, "status"),
            IssueCode::Required,
            "Observation.status",
        ),
        (
            "missing code",
            without(&observation, "code"),
            IssueCode::Required,
            "Observation.code",
        ),
        (
            "bad gender code",
            patient_with(|p| _ = p.insert("gender".into(), json!("M"))),
            IssueCode::Value,
            "Patient.gender",
        ),
        (
            "month 13",
            patient_with(|p| _ = p.insert("birthDate".into(), json!("1990-13-01"))),
            IssueCode::Value,
            "Patient.birthDate",
        ),
        (
            "name not an array",
            patient_with(|p| _ = p.insert("name".into(), json!({"family": "X"}))),
            IssueCode::Structure,
            "Patient.name",
        ),
        (
            "max 1 given as array",
            patient_with(|p| _ = p.insert("gender".into(), json!(["male"]))),
            IssueCode::Structure,
            "Patient.gender",
        ),
        (
            "unknown element",
            patient_with(|p| _ = p.insert("colour".into(), json!("red"))),
            IssueCode::Structure,
            "Patient.colour",
        ),
        (
            "unknown nested element",
            patient_with(|p| p["name"][0]["nickname"] = json!("Pete")),
            IssueCode::Structure,
            "Patient.name[0].nickname",
        ),
        (
            "choice type not allowed",
            patient_with(|p| _ = p.insert("deceasedString".into(), json!("yes"))),
            IssueCode::Structure,
            "Patient.deceasedString",
        ),
        (
            "two choice variants",
            patient_with(|p| _ = p.insert("deceasedDateTime".into(), json!("2020-01-01"))),
            IssueCode::Invalid,
            "Patient.deceasedDateTime",
        ),
        (
            "empty string in array",
            patient_with(|p| p["name"][0]["given"][1] = json!("")),
            IssueCode::Value,
            "Patient.name[0].given[1]",
        ),
        (
            "null",
            patient_with(|p| _ = p.insert("birthDate".into(), Value::Null)),
            IssueCode::Structure,
            "Patient.birthDate",
        ),
        (
            "null in array",
            patient_with(|p| p["name"][0]["given"][0] = Value::Null),
            IssueCode::Structure,
            "Patient.name[0].given[0]",
        ),
        (
            "empty object",
            patient_with(|p| _ = p.insert("maritalStatus".into(), json!({}))),
            IssueCode::Structure,
            "Patient.maritalStatus",
        ),
        (
            "empty array",
            patient_with(|p| _ = p.insert("photo".into(), json!([]))),
            IssueCode::Structure,
            "Patient.photo",
        ),
        (
            "string for boolean",
            patient_with(|p| _ = p.insert("active".into(), json!("true"))),
            IssueCode::Structure,
            "Patient.active",
        ),
        (
            "number for string",
            patient_with(|p| p["name"][0]["family"] = json!(42)),
            IssueCode::Structure,
            "Patient.name[0].family",
        ),
        (
            "string for integer",
            patient_with(|p| p["telecom"][0]["rank"] = json!("1")),
            IssueCode::Structure,
            "Patient.telecom[0].rank",
        ),
        (
            "positiveInt zero",
            patient_with(|p| p["telecom"][0]["rank"] = json!(0)),
            IssueCode::Value,
            "Patient.telecom[0].rank",
        ),
        (
            "instant without zone",
            patient_with(|p| p["meta"]["lastUpdated"] = json!("2024-05-01T10:20:30")),
            IssueCode::Value,
            "Patient.meta.lastUpdated",
        ),
        (
            "bad id",
            patient_with(|p| _ = p.insert("id".into(), json!("a b"))),
            IssueCode::Value,
            "Patient.id",
        ),
        (
            "extension without url",
            patient_with(|p| p["extension"][0] = json!({"valueCode": "x"})),
            IssueCode::Required,
            "Patient.extension[0].url",
        ),
        (
            "extension value of unknown type",
            patient_with(|p| p["extension"][0] = json!({"url": "http://x", "valueFoo": 1})),
            IssueCode::Structure,
            "Patient.extension[0].valueFoo",
        ),
        (
            "primitive extension error",
            patient_with(|p| p["_gender"]["extension"][0]["url"] = json!("has space")),
            IssueCode::Value,
            "Patient.gender.extension[0].url",
        ),
        (
            "extension on a non-primitive",
            patient_with(|p| _ = p.insert("_name".into(), json!({"id": "a"}))),
            IssueCode::Structure,
            "Patient._name",
        ),
        (
            "choice value type",
            json!({"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "valueQuantity": {"value": "7"}}),
            IssueCode::Structure,
            "Observation.value.ofType(Quantity).value",
        ),
        (
            "backbone element code",
            patient_with(|p| p["contact"][0]["gender"] = json!("f")),
            IssueCode::Value,
            "Patient.contact[0].gender",
        ),
        (
            "contained resource error",
            patient_with(|p| {
                p.insert("contained".into(), json!([{"resourceType": "Organization", "id": "o"},
                                                     {"resourceType": "Practitioner", "id": "p", "gender": "x"}]));
            }),
            IssueCode::Value,
            "Patient.contained[1].gender",
        ),
        (
            "contained unknown type",
            patient_with(|p| _ = p.insert("contained".into(), json!([{"resourceType": "Doctor"}]))),
            IssueCode::Invalid,
            "Patient.contained[0]",
        ),
        (
            "bundle entry resource",
            json!({"resourceType": "Bundle", "type": "collection",
                   "entry": [{"fullUrl": "urn:uuid:c757873d-ec9a-4326-a141-556f43239520",
                              "resource": {"resourceType": "Patient", "birthDate": "2000-02-30"}}]}),
            IssueCode::Value,
            "Bundle.entry[0].resource.birthDate",
        ),
        (
            "content reference",
            json!({"resourceType": "Questionnaire", "status": "draft",
                   "item": [{"linkId": "1", "type": "group", "item": [{"linkId": "1.1", "type": "boolean", "colour": 1}]}]}),
            IssueCode::Structure,
            "Questionnaire.item[0].item[0].colour",
        ),
        (
            "content reference required",
            json!({"resourceType": "Questionnaire", "status": "draft",
                   "item": [{"linkId": "1", "type": "group", "item": [{"type": "boolean"}]}]}),
            IssueCode::Required,
            "Questionnaire.item[0].item[0].linkId",
        ),
        (
            "primitive array length mismatch",
            patient_with(|p| p["name"][0]["_given"] = json!([null])),
            IssueCode::Structure,
            "Patient.name[0].given",
        ),
        (
            "resourceType nested in datatype",
            patient_with(|p| p["name"][0]["resourceType"] = json!("HumanName")),
            IssueCode::Structure,
            "Patient.name[0].resourceType",
        ),
    ];
    let mut failures = String::new();
    for (name, resource, code, path) in cases {
        let found = issues(&resource);
        if !found
            .iter()
            .any(|i| i.code == code && i.expression == [path])
        {
            failures += &format!("{name}: expected {code:?} at {path}, got\n{}", show(&found));
        }
    }
    assert!(failures.is_empty(), "{failures}");
}

fn without(resource: &Value, key: &str) -> Value {
    let mut r = resource.clone();
    r.as_object_mut().unwrap().remove(key);
    r
}

#[test]
fn primitive_extension_pairs_with_nulls() {
    let ok = patient_with(|p| {
        p["name"][0]["given"] = json!(["Peter", null]);
        p["name"][0]["_given"] =
            json!([null, {"extension": [{"url": "http://x", "valueString": "J"}]}]);
        p.insert("_birthDate".into(), json!({"id": "b"}));
        p.remove("birthDate");
    });
    assert_eq!(validate(&ok), Ok(()), "{}", show(&issues(&ok)));
    let both_null = patient_with(|p| {
        p["name"][0]["given"] = json!(["Peter", null]);
        p["name"][0]["_given"] = json!([null, null]);
    });
    let found = issues(&both_null);
    assert_eq!(found.len(), 1, "{}", show(&found));
    assert_eq!(found[0].expression, ["Patient.name[0].given[1]"]);
}

#[test]
fn root_problems() {
    let unknown = issues(&json!({"resourceType": "Patients"}));
    assert_eq!(unknown.len(), 1);
    assert_eq!(unknown[0].code, IssueCode::NotSupported);
    assert!(unknown[0].diagnostics.contains("Patients"));
    for abstract_type in ["Resource", "DomainResource", "HumanName"] {
        let found = issues(&json!({"resourceType": abstract_type}));
        assert_eq!(found[0].code, IssueCode::NotSupported, "{abstract_type}");
    }
    assert_eq!(issues(&json!([]))[0].code, IssueCode::Structure);
    assert_eq!(issues(&json!({"id": "x"}))[0].code, IssueCode::Required);
    let bad_type = issues(&json!({"resourceType": 1}));
    assert_eq!(bad_type[0].expression, ["resourceType"]);
    assert_eq!(validate(&json!({"resourceType": "Patient"})), Ok(()));
    assert_eq!(
        validate(&json!({"resourceType": "Patient", "fhir_comments": ["hi"]})),
        Ok(())
    );
}

#[test]
fn reports_every_problem_up_to_the_cap() {
    let few = patient_with(|p| {
        p.insert("gender".into(), json!("M"));
        p.insert("birthDate".into(), json!("x"));
        p.insert("foo".into(), json!(1));
    });
    assert_eq!(issues(&few).len(), 3, "{}", show(&issues(&few)));

    let many: Vec<Value> = (0..100).map(|_| json!({"family": 1})).collect();
    let found = issues(&patient_with(|p| _ = p.insert("name".into(), json!(many))));
    assert_eq!(found.len(), MAX_ISSUES + 1);
    assert_eq!(found[MAX_ISSUES].code, IssueCode::Informational);
}

/// The official R4 examples (not in a fresh clone: they live in ../shared).
const EXAMPLES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/fhir-r4/examples"
);

/// Official examples that do not conform to the base R4 definitions themselves, with why.
const NON_CONFORMANT_EXAMPLES: &[(&str, &str)] = &[
    (
        "Questionnaire-qs1.json",
        "display items without linkId (Questionnaire.item.linkId is 1..1)",
    ),
    (
        "SearchParameter-codesystem-extensions-CodeSystem-author.json",
        NO_BASE,
    ),
    (
        "SearchParameter-codesystem-extensions-CodeSystem-effective.json",
        NO_BASE,
    ),
    (
        "SearchParameter-codesystem-extensions-CodeSystem-end.json",
        NO_BASE,
    ),
    (
        "SearchParameter-codesystem-extensions-CodeSystem-keyword.json",
        NO_BASE,
    ),
    (
        "SearchParameter-codesystem-extensions-CodeSystem-workflow.json",
        NO_BASE,
    ),
    (
        "SearchParameter-valueset-extensions-ValueSet-author.json",
        NO_BASE,
    ),
    (
        "SearchParameter-valueset-extensions-ValueSet-effective.json",
        NO_BASE,
    ),
    (
        "SearchParameter-valueset-extensions-ValueSet-end.json",
        NO_BASE,
    ),
    (
        "SearchParameter-valueset-extensions-ValueSet-keyword.json",
        NO_BASE,
    ),
    (
        "SearchParameter-valueset-extensions-ValueSet-workflow.json",
        NO_BASE,
    ),
    (
        "SearchParameter-questionnaireresponse-extensions-QuestionnaireResponse-item-subject.json",
        "id is 67 characters; ids are limited to 64",
    ),
];
const NO_BASE: &str = "no base (SearchParameter.base is 1..*)";

#[test]
fn every_official_example_is_valid() {
    let Ok(dir) = std::fs::read_dir(EXAMPLES) else {
        eprintln!("skipped: {EXAMPLES} not found");
        return;
    };
    let mut files: Vec<_> = dir.filter_map(|e| e.ok().map(|e| e.path())).collect();
    // package.json is the npm package manifest, not an example.
    files.retain(|p| p.extension().is_some_and(|e| e == "json") && !p.ends_with("package.json"));
    files.sort();
    let (mut passed, mut excepted, mut failures) = (0, 0, String::new());
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy();
        let expected_to_fail = NON_CONFORMANT_EXAMPLES.iter().any(|(f, _)| *f == name);
        match (validate(&read(file)), expected_to_fail) {
            (Ok(()), false) => passed += 1,
            (Err(_), true) => excepted += 1,
            (Ok(()), true) => failures += &format!("{name}: listed as non-conformant but passes\n"),
            (Err(found), false) => failures += &format!("{name}:\n{}", show(&found)),
        }
    }
    eprintln!(
        "official examples: {passed} of {} valid, {excepted} known non-conformant",
        files.len()
    );
    assert!(failures.is_empty(), "{failures}");
    assert!(passed > 2000, "only {passed} examples found");
}

fn read(file: &Path) -> Value {
    let text = std::fs::read_to_string(file).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

/// Not a benchmark: prints the time per validation of a typical Patient (see --nocapture).
#[test]
fn time_a_typical_patient() {
    let p = patient();
    validate(&p).unwrap(); // loads the definitions
    let runs = 2000;
    let start = Instant::now();
    for _ in 0..runs {
        assert!(validate(std::hint::black_box(&p)).is_ok());
    }
    eprintln!(
        "validating a typical Patient: {:?} each",
        start.elapsed() / runs
    );
}
