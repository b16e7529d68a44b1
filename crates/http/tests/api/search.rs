//! Search as a FHIR R4 client sees it: each parameter type and modifier, the result
//! parameters (_sort, _include, _revinclude, _summary, _elements, _total), POST _search,
//! strict and lenient handling of unknown parameters, and paging.

use std::collections::HashSet;
use std::time::Duration;

use futures_util::future::join_all;
use serde_json::{json, Value};

use crate::both_stores;
use crate::helpers::{entries, link, query, transaction, TestApp};

const MRN: &str = "http://hospital.example.org/mrn";
const LOINC: &str = "http://loinc.org";
const UCUM: &str = "http://unitsofmeasure.org";

fn ids(list: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = list.iter().map(|s| (*s).to_owned()).collect();
    v.sort();
    v
}

/// Store every resource (each with its id) concurrently.
async fn store_all(app: &TestApp, resources: Vec<Value>) {
    join_all(resources.iter().map(|r| app.upsert(r))).await;
}

fn person(id: &str, family: &str, given: &[&str]) -> Value {
    let mut p = json!({ "resourceType": "Patient", "id": id, "name": [{ "family": family }] });
    if !given.is_empty() {
        p["name"][0]["given"] = json!(given);
    }
    p
}

fn observation(id: &str, extra: Value) -> Value {
    let mut o = json!({
        "resourceType": "Observation",
        "id": id,
        "status": "final",
        "code": { "coding": [{ "system": LOINC, "code": "8867-4" }] }
    });
    for (k, v) in extra.as_object().expect("an object of elements") {
        o[k] = v.clone();
    }
    o
}

fn observation_of(id: &str, subject: &str) -> Value {
    observation(id, json!({ "subject": { "reference": subject } }))
}

/// `[type]?params` match ids in the server's order (asserting 200).
async fn ordered_ids(app: &TestApp, resource_type: &str, params: &[(&str, &str)]) -> Vec<String> {
    app.search_ids(&format!("{resource_type}?{}", query(params)))
        .await
}

/// Ids of the entries with search mode `include`, sorted.
fn included_ids(bundle: &Value) -> Vec<String> {
    let mut v: Vec<String> = entries(bundle)
        .iter()
        .filter(|e| e["search"]["mode"] == "include")
        .map(|e| {
            format!(
                "{}/{}",
                e["resource"]["resourceType"].as_str().unwrap_or(""),
                e["resource"]["id"].as_str().unwrap_or("")
            )
        })
        .collect();
    v.sort();
    v
}

async fn string_fixture(app: &TestApp) {
    store_all(
        app,
        vec![
            person("chalmers", "Chalmers", &["Peter", "James"]),
            person("chalmerson", "Chalmerson", &["Anna"]),
            person("lower", "chalmers", &["Zed"]),
            person("muller", "Müller", &["Jürgen"]),
            person("windsor", "Windsor", &["Elizabeth"]),
        ],
    )
    .await;
}

both_stores! {
    async fn string_matches_a_prefix_ignoring_case_and_accents(app) {
        string_fixture(&app).await;
        let all_chalmers = ids(&["chalmers", "chalmerson", "lower"]);
        assert_eq!(
            app.find_ids("Patient", &[("family", "Chal")]).await,
            all_chalmers
        );
        assert_eq!(
            app.find_ids("Patient", &[("family", "chal")]).await,
            all_chalmers
        );
        assert_eq!(
            app.find_ids("Patient", &[("family", "CHALMERS")]).await,
            all_chalmers,
            "a whole word is a prefix too"
        );
        assert_eq!(
            app.find_ids("Patient", &[("family", "muller")]).await,
            ids(&["muller"]),
            "ü matches u"
        );
        assert_eq!(
            app.find_ids("Patient", &[("family", "MÜLL")]).await,
            ids(&["muller"])
        );
        assert!(
            app.find_ids("Patient", &[("family", "almers")])
                .await
                .is_empty(),
            "not a prefix"
        );
        assert_eq!(
            app.find_ids("Patient", &[("name", "peter")]).await,
            ids(&["chalmers"]),
            "name covers given names"
        );
        assert_eq!(
            app.find_ids("Patient", &[("name", "jurgen")]).await,
            ids(&["muller"])
        );
        assert_eq!(
            app.find_ids("Patient", &[("given", "eliz")]).await,
            ids(&["windsor"])
        );
        assert_eq!(
            app.find_ids("Patient", &[("family", "windsor,muller")])
                .await,
            ids(&["muller", "windsor"]),
            "a comma separates alternatives"
        );
        assert_eq!(
            app.find_ids("Patient", &[("family", "chal"), ("given", "anna")])
                .await,
            ids(&["chalmerson"]),
            "repeated parameters must all match"
        );
    }

    async fn string_exact_matches_the_whole_value_with_case_and_accents(app) {
        string_fixture(&app).await;
        assert_eq!(
            app.find_ids("Patient", &[("family:exact", "Chalmers")])
                .await,
            ids(&["chalmers"])
        );
        assert_eq!(
            app.find_ids("Patient", &[("family:exact", "chalmers")])
                .await,
            ids(&["lower"])
        );
        assert!(
            app.find_ids("Patient", &[("family:exact", "Chal")])
                .await
                .is_empty(),
            "no prefix match"
        );
        assert_eq!(
            app.find_ids("Patient", &[("family:exact", "Müller")]).await,
            ids(&["muller"])
        );
        assert!(
            app.find_ids("Patient", &[("family:exact", "Muller")])
                .await
                .is_empty(),
            "accents count"
        );
    }

    async fn string_contains_matches_anywhere_in_the_value(app) {
        string_fixture(&app).await;
        assert_eq!(
            app.find_ids("Patient", &[("family:contains", "ALMER")])
                .await,
            ids(&["chalmers", "chalmerson", "lower"])
        );
        assert_eq!(
            app.find_ids("Patient", &[("family:contains", "ller")])
                .await,
            ids(&["muller"])
        );
        assert_eq!(
            app.find_ids("Patient", &[("family:contains", "dso")]).await,
            ids(&["windsor"])
        );
    }

    async fn token_matches_code_system_and_code_and_no_system(app) {
        store_all(&app, vec![
            observation("loinc", json!({})),
            observation("other-system", json!({ "code": { "coding": [{ "system": "http://example.org/codes", "code": "8867-4" }] } })),
            observation("no-system", json!({ "code": { "coding": [{ "code": "8867-4" }] } })),
            observation("glucose", json!({ "code": { "coding": [{ "system": LOINC, "code": "2339-0" }] } })),
        ])
        .await;
        assert_eq!(
            app.find_ids("Observation", &[("code", "8867-4")]).await,
            ids(&["loinc", "no-system", "other-system"]),
            "a bare code matches in any system"
        );
        assert_eq!(
            app.find_ids("Observation", &[("code", "http://loinc.org|8867-4")])
                .await,
            ids(&["loinc"])
        );
        assert_eq!(
            app.find_ids("Observation", &[("code", "|8867-4")]).await,
            ids(&["no-system"]),
            "|code: no system"
        );
        assert_eq!(
            app.find_ids("Observation", &[("code", "http://loinc.org|")])
                .await,
            ids(&["glucose", "loinc"]),
            "system|: any code of it"
        );
        assert_eq!(
            app.find_ids(
                "Observation",
                &[("code", "http://loinc.org|2339-0,http://loinc.org|8867-4")]
            )
            .await,
            ids(&["glucose", "loinc"])
        );
    }

    async fn token_not_excludes_the_code_and_keeps_resources_without_one(app) {
        store_all(&app, vec![
            json!({ "resourceType": "Patient", "id": "man", "gender": "male", "active": true }),
            json!({ "resourceType": "Patient", "id": "woman", "gender": "female", "active": false }),
            json!({ "resourceType": "Patient", "id": "unstated" }),
        ])
        .await;
        assert_eq!(
            app.find_ids("Patient", &[("gender", "male")]).await,
            ids(&["man"])
        );
        assert_eq!(
            app.find_ids("Patient", &[("gender:not", "male")]).await,
            ids(&["unstated", "woman"])
        );
        assert_eq!(
            app.find_ids("Patient", &[("active", "true")]).await,
            ids(&["man"]),
            "booleans are tokens"
        );
        assert_eq!(
            app.find_ids("Patient", &[("active", "false")]).await,
            ids(&["woman"])
        );
    }

    async fn token_matches_identifiers(app) {
        store_all(&app, vec![
            json!({ "resourceType": "Patient", "id": "a", "identifier": [{ "system": MRN, "value": "123" }] }),
            json!({ "resourceType": "Patient", "id": "b", "identifier": [{ "system": "http://other.example.org/id", "value": "123" }] }),
            json!({ "resourceType": "Patient", "id": "c", "identifier": [{ "system": MRN, "value": "456" }] }),
        ])
        .await;
        assert_eq!(
            app.find_ids("Patient", &[("identifier", &format!("{MRN}|123"))])
                .await,
            ids(&["a"])
        );
        assert_eq!(
            app.find_ids("Patient", &[("identifier", "123")]).await,
            ids(&["a", "b"])
        );
        assert_eq!(
            app.find_ids("Patient", &[("identifier", &format!("{MRN}|"))])
                .await,
            ids(&["a", "c"])
        );
        assert!(
            app.find_ids("Patient", &[("identifier", &format!("{MRN}|12"))])
                .await
                .is_empty(),
            "tokens are not prefixes"
        );
    }

    async fn reference_matches_type_and_id_or_a_bare_id(app) {
        store_all(
            &app,
            vec![
                person("pa", "Chalmers", &["Peter"]),
                person("pb", "Windsor", &["Elizabeth"]),
                observation_of("oa", "Patient/pa"),
                observation_of("ob", "Patient/pb"),
                observation_of("og", "Group/g1"),
            ],
        )
        .await;
        assert_eq!(
            app.find_ids("Observation", &[("subject", "Patient/pa")])
                .await,
            ids(&["oa"])
        );
        assert_eq!(
            app.find_ids("Observation", &[("subject", "pa")]).await,
            ids(&["oa"])
        );
        assert_eq!(
            app.find_ids("Observation", &[("subject:Patient", "pa")])
                .await,
            ids(&["oa"])
        );
        assert_eq!(
            app.find_ids("Observation", &[("patient", "Patient/pb")])
                .await,
            ids(&["ob"])
        );
        assert_eq!(
            app.find_ids("Observation", &[("patient", "pb")]).await,
            ids(&["ob"])
        );
        assert_eq!(
            app.find_ids("Observation", &[("subject", "Group/g1")])
                .await,
            ids(&["og"])
        );
        assert_eq!(
            app.find_ids("Observation", &[("subject", "Patient/pa,Patient/pb")])
                .await,
            ids(&["oa", "ob"])
        );
        assert!(
            app.find_ids("Observation", &[("patient", "g1")])
                .await
                .is_empty(),
            "patient= only targets Patients"
        );
    }

    async fn chained_parameters_search_the_referenced_resource(app) {
        store_all(&app, vec![
            person("pa", "Chalmers", &["Peter"]),
            person("pb", "Windsor", &["Elizabeth"]),
            observation_of("oa", "Patient/pa"),
            observation_of("ob", "Patient/pb"),
            json!({
                "resourceType": "Appointment", "id": "apa", "status": "booked",
                "start": "2024-05-01T09:00:00Z", "end": "2024-05-01T09:30:00Z",
                "participant": [{ "actor": { "reference": "Patient/pa" }, "status": "accepted" }]
            }),
            json!({
                "resourceType": "Appointment", "id": "apb", "status": "booked",
                "start": "2024-05-01T10:00:00Z", "end": "2024-05-01T10:30:00Z",
                "participant": [{ "actor": { "reference": "Patient/pb" }, "status": "accepted" }]
            }),
        ])
        .await;
        assert_eq!(
            app.find_ids("Observation", &[("subject.family", "chalmers")])
                .await,
            ids(&["oa"])
        );
        assert_eq!(
            app.find_ids("Observation", &[("subject:Patient.name", "peter")])
                .await,
            ids(&["oa"])
        );
        assert_eq!(
            app.find_ids("Observation", &[("patient.family", "Windsor")])
                .await,
            ids(&["ob"])
        );
        assert_eq!(
            app.find_ids("Appointment", &[("patient.family", "Chalmers")])
                .await,
            ids(&["apa"])
        );
        assert!(app
            .find_ids("Observation", &[("subject.family", "nobody")])
            .await
            .is_empty());
    }

    async fn date_prefixes_and_partial_dates_compare_ranges(app) {
        store_all(
            &app,
            vec![
                json!({ "resourceType": "Patient", "id": "d1974", "birthDate": "1974-12-25" }),
                json!({ "resourceType": "Patient", "id": "d1980", "birthDate": "1980-01-01" }),
                json!({ "resourceType": "Patient", "id": "d1985", "birthDate": "1985-06-15" }),
                json!({ "resourceType": "Patient", "id": "d1990", "birthDate": "1990-03-10" }),
                json!({ "resourceType": "Patient", "id": "dnone" }),
            ],
        )
        .await;
        let cases: &[(&str, &[&str])] = &[
            ("1974", &["d1974"]),
            ("1980-01-01", &["d1980"]),
            ("eq1985-06", &["d1985"]),
            ("ge1980-01-01", &["d1980", "d1985", "d1990"]),
            ("gt1980-01-01", &["d1985", "d1990"]),
            ("le1980-01-01", &["d1974", "d1980"]),
            ("lt1980-01-01", &["d1974"]),
            ("ne1980-01-01", &["d1974", "d1985", "d1990"]),
            ("ge1980", &["d1980", "d1985", "d1990"]),
            ("lt1980", &["d1974"]),
        ];
        for (value, expected) in cases {
            assert_eq!(
                app.find_ids("Patient", &[("birthdate", value)]).await,
                ids(expected),
                "birthdate={value}"
            );
        }
        assert_eq!(
            app.find_ids(
                "Patient",
                &[("birthdate", "ge1980"), ("birthdate", "lt1990")]
            )
            .await,
            ids(&["d1980", "d1985"]),
            "two date parameters make a range"
        );
    }

    async fn date_times_compare_across_time_zones(app) {
        store_all(
            &app,
            vec![
                // 10:00 in UTC+1 is 09:00Z.
                observation(
                    "morning",
                    json!({ "effectiveDateTime": "2024-03-01T10:00:00+01:00" }),
                ),
                observation(
                    "next-day",
                    json!({ "effectiveDateTime": "2024-03-02T08:00:00Z" }),
                ),
            ],
        )
        .await;
        assert_eq!(
            app.find_ids("Observation", &[("date", "2024-03-01")]).await,
            ids(&["morning"])
        );
        assert_eq!(
            app.find_ids("Observation", &[("date", "lt2024-03-01T09:30:00Z")])
                .await,
            ids(&["morning"])
        );
        assert_eq!(
            app.find_ids("Observation", &[("date", "gt2024-03-01T09:30:00Z")])
                .await,
            ids(&["next-day"])
        );
        assert_eq!(
            app.find_ids("Observation", &[("date", "ge2024-03")]).await,
            ids(&["morning", "next-day"])
        );
    }

    async fn number_prefixes_compare_values(app) {
        let risk = |id: &str, p: f64| {
            json!({
                "resourceType": "RiskAssessment", "id": id, "status": "final",
                "subject": { "reference": "Patient/x" },
                "prediction": [{ "probabilityDecimal": p }]
            })
        };
        store_all(
            &app,
            vec![risk("r2", 0.2), risk("r5", 0.5), risk("r8", 0.8)],
        )
        .await;
        assert_eq!(
            app.find_ids("RiskAssessment", &[("probability", "gt0.5")])
                .await,
            ids(&["r8"])
        );
        assert_eq!(
            app.find_ids("RiskAssessment", &[("probability", "ge0.5")])
                .await,
            ids(&["r5", "r8"])
        );
        assert_eq!(
            app.find_ids("RiskAssessment", &[("probability", "lt0.5")])
                .await,
            ids(&["r2"])
        );
        assert_eq!(
            app.find_ids("RiskAssessment", &[("probability", "0.5")])
                .await,
            ids(&["r5"])
        );
        assert_eq!(
            app.find_ids("RiskAssessment", &[("probability", "le0.8")])
                .await,
            ids(&["r2", "r5", "r8"])
        );
    }

    async fn quantity_compares_value_system_and_unit(app) {
        let q = |id: &str, value: f64, system: &str, code: &str| {
            observation(
                id,
                json!({
                    "valueQuantity": { "value": value, "unit": code, "system": system, "code": code }
                }),
            )
        };
        store_all(
            &app,
            vec![
                q("q54", 5.4, UCUM, "mg"),
                q("q60", 6.0, UCUM, "mg"),
                q("q90", 9.0, UCUM, "mmol/L"),
                q("q70", 7.0, "http://example.org/units", "mg"),
            ],
        )
        .await;
        assert_eq!(
            app.find_ids(
                "Observation",
                &[("value-quantity", "gt5.4|http://unitsofmeasure.org|mg")]
            )
            .await,
            ids(&["q60"])
        );
        assert_eq!(
            app.find_ids(
                "Observation",
                &[("value-quantity", "5.4|http://unitsofmeasure.org|mg")]
            )
            .await,
            ids(&["q54"])
        );
        assert_eq!(
            app.find_ids("Observation", &[("value-quantity", "gt5.4||mg")])
                .await,
            ids(&["q60", "q70"]),
            "no system: any"
        );
        assert_eq!(
            app.find_ids("Observation", &[("value-quantity", "le6")])
                .await,
            ids(&["q54", "q60"]),
            "no unit: any"
        );
    }

    async fn uri_matches_exactly_or_below(app) {
        let vs = |id: &str, url: &str| json!({ "resourceType": "ValueSet", "id": id, "url": url, "status": "active" });
        store_all(
            &app,
            vec![
                vs("a", "http://example.org/fhir/ValueSet/a"),
                vs("ab", "http://example.org/fhir/ValueSet/a-b"),
                vs("other", "http://other.example.org/ValueSet/a"),
            ],
        )
        .await;
        assert_eq!(
            app.find_ids("ValueSet", &[("url", "http://example.org/fhir/ValueSet/a")])
                .await,
            ids(&["a"]),
            "uri is not a prefix match"
        );
        assert_eq!(
            app.find_ids("ValueSet", &[("url:below", "http://example.org/fhir/")])
                .await,
            ids(&["a", "ab"])
        );
    }

    async fn missing_true_and_false(app) {
        store_all(
            &app,
            vec![
                json!({ "resourceType": "Patient", "id": "with", "birthDate": "1990-01-01" }),
                json!({ "resourceType": "Patient", "id": "without" }),
            ],
        )
        .await;
        assert_eq!(
            app.find_ids("Patient", &[("birthdate:missing", "true")])
                .await,
            ids(&["without"])
        );
        assert_eq!(
            app.find_ids("Patient", &[("birthdate:missing", "false")])
                .await,
            ids(&["with"])
        );
    }

    async fn underscore_id_matches_ids(app) {
        store_all(
            &app,
            vec![
                person("i1", "A", &[]),
                person("i2", "B", &[]),
                person("i3", "C", &[]),
            ],
        )
        .await;
        assert_eq!(
            app.find_ids("Patient", &[("_id", "i1")]).await,
            ids(&["i1"])
        );
        assert_eq!(
            app.find_ids("Patient", &[("_id", "i1,i3")]).await,
            ids(&["i1", "i3"])
        );
        assert!(app.find_ids("Patient", &[("_id", "nope")]).await.is_empty());
    }

    async fn last_updated_compares_write_times(app) {
        let first = app.upsert(&person("early", "A", &[])).await;
        tokio::time::sleep(Duration::from_millis(30)).await;
        app.upsert(&person("late", "B", &[])).await;
        let t = first["meta"]["lastUpdated"]
            .as_str()
            .expect("meta.lastUpdated")
            .to_owned();
        assert_eq!(
            app.find_ids("Patient", &[("_lastUpdated", &format!("gt{t}"))])
                .await,
            ids(&["late"]),
            "gt{t}"
        );
        assert_eq!(
            app.find_ids("Patient", &[("_lastUpdated", &format!("le{t}"))])
                .await,
            ids(&["early"]),
            "le{t}"
        );
        assert_eq!(
            app.find_ids("Patient", &[("_lastUpdated", "gt2000-01-01")])
                .await,
            ids(&["early", "late"])
        );
        assert!(app
            .find_ids("Patient", &[("_lastUpdated", "lt2000-01-01")])
            .await
            .is_empty());
    }

    async fn sort_orders_by_family_date_and_last_updated(app) {
        // Written one after the other: Baker, then Adams, then Clark.
        for (id, family, born) in [
            ("b", "Baker", "1990-01-01"),
            ("a", "Adams", "1970-01-01"),
            ("c", "Clark", "1980-01-01"),
        ] {
            app.upsert(&json!({ "resourceType": "Patient", "id": id, "name": [{ "family": family }], "birthDate": born })).await;
        }
        assert_eq!(
            ordered_ids(&app, "Patient", &[("_sort", "family")]).await,
            ["a", "b", "c"]
        );
        assert_eq!(
            ordered_ids(&app, "Patient", &[("_sort", "-family")]).await,
            ["c", "b", "a"]
        );
        assert_eq!(
            ordered_ids(&app, "Patient", &[("_sort", "birthdate")]).await,
            ["a", "c", "b"]
        );
        assert_eq!(
            ordered_ids(&app, "Patient", &[("_sort", "-_lastUpdated")]).await,
            ["c", "a", "b"]
        );
        assert_eq!(
            ordered_ids(&app, "Patient", &[("_sort", "_lastUpdated")]).await,
            ["b", "a", "c"]
        );
    }

    async fn include_brings_the_referenced_patient(app) {
        store_all(
            &app,
            vec![
                person("pa", "Chalmers", &[]),
                person("pb", "Windsor", &[]),
                observation_of("oa1", "Patient/pa"),
                observation_of("oa2", "Patient/pa"),
                observation_of("ob", "Patient/pb"),
            ],
        )
        .await;
        let answer = app
            .find(
                "Observation",
                &[("_id", "oa1,oa2"), ("_include", "Observation:subject")],
            )
            .await;
        assert_eq!(answer.status, 200, "{}", answer.describe());
        let mut matched = crate::helpers::entry_ids(&answer.body);
        matched.sort();
        assert_eq!(matched, ["oa1", "oa2"]);
        assert_eq!(
            included_ids(&answer.body),
            ["Patient/pa"],
            "the subject, once, as include: {}",
            answer.body
        );
    }

    async fn revinclude_brings_the_observations_about_the_patient(app) {
        store_all(
            &app,
            vec![
                person("pa", "Chalmers", &[]),
                person("pb", "Windsor", &[]),
                observation_of("oa1", "Patient/pa"),
                observation_of("oa2", "Patient/pa"),
                observation_of("ob", "Patient/pb"),
            ],
        )
        .await;
        let answer = app
            .find(
                "Patient",
                &[("_id", "pa"), ("_revinclude", "Observation:subject")],
            )
            .await;
        assert_eq!(answer.status, 200, "{}", answer.describe());
        assert_eq!(crate::helpers::entry_ids(&answer.body), ["pa"]);
        assert_eq!(
            included_ids(&answer.body),
            ["Observation/oa1", "Observation/oa2"],
            "{}",
            answer.body
        );
    }

    async fn summary_count_gives_the_total_only(app) {
        store_all(
            &app,
            vec![
                json!({ "resourceType": "Patient", "id": "m1", "gender": "male" }),
                json!({ "resourceType": "Patient", "id": "m2", "gender": "male" }),
                json!({ "resourceType": "Patient", "id": "f1", "gender": "female" }),
            ],
        )
        .await;
        let all = app.find("Patient", &[("_summary", "count")]).await;
        assert_eq!(all.status, 200, "{}", all.describe());
        assert_eq!(all.body["total"], 3);
        assert!(
            entries(&all.body).is_empty(),
            "_summary=count has no entries: {}",
            all.body
        );
        let men = app
            .find("Patient", &[("gender", "male"), ("_summary", "count")])
            .await;
        assert_eq!(men.body["total"], 2);
        assert!(entries(&men.body).is_empty());
    }

    async fn elements_keeps_only_the_asked_elements_and_tags_subsetted(app) {
        store_all(&app, vec![json!({
            "resourceType": "Patient", "id": "e1", "gender": "female", "birthDate": "1970-01-01",
            "name": [{ "family": "Elements" }]
        })])
        .await;
        let answer = app.find("Patient", &[("_elements", "gender")]).await;
        assert_eq!(answer.status, 200, "{}", answer.describe());
        let resource = &entries(&answer.body)[0]["resource"];
        assert_eq!(resource["resourceType"], "Patient");
        assert_eq!(resource["id"], "e1", "the id is always kept");
        assert_eq!(resource["gender"], "female", "the asked element is kept");
        assert!(
            resource.get("name").is_none(),
            "name was not asked for: {resource}"
        );
        assert!(
            resource.get("birthDate").is_none(),
            "birthDate was not asked for: {resource}"
        );
        let subsetted = resource["meta"]["tag"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|t| {
                t["code"] == "SUBSETTED"
                    && t["system"] == "http://terminology.hl7.org/CodeSystem/v3-ObservationValue"
            });
        assert!(subsetted, "a subset is tagged SUBSETTED: {resource}");
    }

    async fn total_accurate_counts_beyond_the_page(app) {
        store_all(
            &app,
            vec![
                person("t1", "A", &[]),
                person("t2", "B", &[]),
                person("t3", "C", &[]),
            ],
        )
        .await;
        let answer = app
            .find("Patient", &[("_total", "accurate"), ("_count", "1")])
            .await;
        assert_eq!(answer.status, 200, "{}", answer.describe());
        assert_eq!(answer.body["total"], 3, "all matches are counted");
        assert_eq!(entries(&answer.body).len(), 1, "_count=1 gives one entry");
        assert!(link(&answer.body, "next").is_some(), "more pages follow");
    }

    async fn post_search_with_a_form_body_equals_get(app) {
        string_fixture(&app).await;
        let params = [("family", "chal"), ("_sort", "-family")];
        let via_get = ordered_ids(&app, "Patient", &params).await;
        let posted = app
            .send(
                app.client
                    .post(app.url("Patient/_search"))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(query(&params)),
            )
            .await;
        assert_eq!(posted.status, 200, "POST _search: {}", posted.describe());
        assert_eq!(posted.body["type"], "searchset");
        assert_eq!(
            crate::helpers::entry_ids(&posted.body),
            via_get,
            "same matches in the same order"
        );
        let mut found = via_get.clone();
        found.sort();
        assert_eq!(found, ids(&["chalmers", "chalmerson", "lower"]));
    }

    async fn unknown_parameter_is_400_naming_it(app) {
        string_fixture(&app).await;
        let answer = app.find("Patient", &[("nonsense", "1")]).await;
        answer.assert_outcome(400, "unknown search parameter");
        assert!(
            answer.diagnostics().contains("nonsense"),
            "the outcome names the parameter: {}",
            answer.diagnostics()
        );
        app.find("Patient", &[("family:sounds-like", "x")])
            .await
            .assert_outcome(400, "unknown modifier");
        app.find("Patient", &[("birthdate", "not-a-date")])
            .await
            .assert_outcome(400, "a date that is not a date");
    }

    async fn lenient_handling_ignores_an_unknown_parameter(app) {
        string_fixture(&app).await;
        let answer = app
            .get_with(
                &format!("Patient?{}", query(&[("nonsense", "1")])),
                &[("prefer", "handling=lenient")],
            )
            .await;
        assert_eq!(
            answer.status,
            200,
            "handling=lenient: {}",
            answer.describe()
        );
        assert_eq!(
            crate::helpers::entry_ids(&answer.body).len(),
            5,
            "the unknown parameter is ignored"
        );
        let filtered = app
            .get_with(
                &format!(
                    "Patient?{}",
                    query(&[("family", "windsor"), ("nonsense", "1")])
                ),
                &[("prefer", "handling=lenient")],
            )
            .await;
        assert_eq!(filtered.status, 200, "{}", filtered.describe());
        assert_eq!(
            crate::helpers::entry_ids(&filtered.body),
            ["windsor"],
            "known parameters still apply"
        );
    }

    async fn paging_through_1000_patients_returns_each_once(app) {
        for batch_no in 0..10 {
            let entries: Vec<Value> = (0..100)
                .map(|i| crate::helpers::post_entry(
                    json!({ "resourceType": "Patient", "name": [{ "family": format!("Page{batch_no:02}{i:02}") }] }),
                    None,
                ))
                .collect();
            let answer = app.post_bundle(&transaction(entries)).await;
            assert_eq!(
                answer.status,
                200,
                "loading batch {batch_no}: {}",
                answer.describe()
            );
        }
        // Patients the search must leave out, so the next links have to keep the filter.
        store_all(
            &app,
            (0..5)
                .map(|i| person(&format!("other{i}"), "Other", &[]))
                .collect(),
        )
        .await;

        let mut seen: Vec<String> = Vec::new();
        let first = app
            .find("Patient", &[("family", "page"), ("_count", "37")])
            .await;
        assert_eq!(first.status, 200, "{}", first.describe());
        if first.body["total"].is_number() {
            assert_eq!(first.body["total"], 1000);
        }
        let first_ids = crate::helpers::entry_ids(&first.body);
        let mut page = first.body;
        let mut pages = 1;
        loop {
            let ids = crate::helpers::entry_ids(&page);
            assert!(ids.len() <= 37, "page {pages} has {} entries", ids.len());
            seen.extend(ids);
            assert!(
                link(&page, "self").is_some(),
                "page {pages} has a self link"
            );
            if pages > 1 {
                let previous = link(&page, "previous").or_else(|| link(&page, "prev"));
                assert!(previous.is_some(), "page {pages} links back");
                if pages == 2 {
                    let back = app.get_absolute(&previous.unwrap()).await;
                    assert_eq!(
                        crate::helpers::entry_ids(&back.body),
                        first_ids,
                        "previous of page 2 is page 1"
                    );
                }
            }
            let Some(next) = link(&page, "next") else {
                break;
            };
            assert!(pages < 100, "the next links never end");
            let answer = app.get_absolute(&next).await;
            assert_eq!(answer.status, 200, "GET {next}: {}", answer.describe());
            page = answer.body;
            pages += 1;
        }
        let distinct: HashSet<&String> = seen.iter().collect();
        assert_eq!(
            distinct.len(),
            seen.len(),
            "no Patient appears on two pages"
        );
        assert!(
            !seen.iter().any(|id| id.starts_with("other")),
            "the family filter holds on every page"
        );
        assert_eq!(seen.len(), 1000, "every Patient is on some page");
        assert_eq!(pages, 28, "1000 / 37 makes 28 pages");
    }

    async fn search_sees_only_current_versions(app) {
        app.upsert(&person("changing", "Before", &[])).await;
        app.upsert(&person("changing", "After", &[])).await;
        assert!(
            app.find_ids("Patient", &[("family", "before")])
                .await
                .is_empty(),
            "the old value no longer matches"
        );
        assert_eq!(
            app.find_ids("Patient", &[("family", "after")]).await,
            ids(&["changing"])
        );
        assert_eq!(app.delete("Patient/changing").await.status, 204);
        assert!(
            app.find_ids("Patient", &[("family", "after")])
                .await
                .is_empty(),
            "a deleted resource is not found"
        );
        assert!(
            app.find_ids("Patient", &[("_id", "changing")])
                .await
                .is_empty(),
            "not even by _id"
        );
        let count = app.find("Patient", &[("_summary", "count")]).await;
        assert_eq!(count.body["total"], 0, "nor counted");
    }

    async fn format_and_pretty_are_accepted_everywhere(app) {
        app.upsert(&person("fmt", "Format", &[])).await;
        for path in [
            "Patient?_format=json",
            "Patient?family=format&_pretty=true",
            "Patient?_format=application/fhir%2Bjson",
            "Patient/fmt?_format=json",
            "Patient/fmt/_history?_format=json",
        ] {
            let answer = app.get(path).await;
            assert_eq!(answer.status, 200, "GET {path}: {}", answer.describe());
        }
        assert_eq!(
            app.find_ids("Patient", &[("family", "format"), ("_format", "json")])
                .await,
            ids(&["fmt"])
        );
    }

    async fn system_search_spans_every_type(app) {
        store_all(
            &app,
            vec![
                person("shared", "Shared", &[]),
                observation_of("shared", "Patient/shared"),
                person("alone", "Alone", &[]),
            ],
        )
        .await;
        let via_post = app
            .send(
                app.client
                    .post(app.url("_search"))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body("_id=shared"),
            )
            .await;
        assert_eq!(
            via_post.status,
            200,
            "POST [base]/_search: {}",
            via_post.describe()
        );
        let types_and_ids = |bundle: &Value| {
            let mut found: Vec<String> = entries(bundle)
                .iter()
                .map(|e| {
                    format!(
                        "{}/{}",
                        e["resource"]["resourceType"].as_str().unwrap_or(""),
                        e["resource"]["id"].as_str().unwrap_or("")
                    )
                })
                .collect();
            found.sort();
            found
        };
        assert_eq!(
            types_and_ids(&via_post.body),
            ["Observation/shared", "Patient/shared"]
        );
        // GET [base]?params (no slash before the query): the same search.
        let via_get = app.get_absolute(&format!("{}?_id=shared", app.base)).await;
        assert_eq!(
            via_get.status,
            200,
            "GET [base]?_id=shared: {}",
            via_get.describe()
        );
        assert_eq!(
            types_and_ids(&via_get.body),
            ["Observation/shared", "Patient/shared"]
        );
    }
}
