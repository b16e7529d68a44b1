//! Transaction and batch Bundles: reference resolution, atomicity, per-entry outcomes,
//! ifNoneExist, and real Synthea transaction bundles.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use futures_util::stream::{self, StreamExt};
use serde_json::{json, Value};

use crate::both_stores;
use crate::helpers::{batch, entries, post_entry, transaction, type_and_id, urn_uuid, TestApp};

const SYSTEM: &str = "http://hospital.example.org/mrn";

fn patient(mrn: &str) -> Value {
    json!({
        "resourceType": "Patient",
        "identifier": [{ "system": SYSTEM, "value": mrn }],
        "name": [{ "family": "Bundled" }]
    })
}

fn observation_about(subject: &str) -> Value {
    json!({
        "resourceType": "Observation",
        "status": "final",
        "code": { "coding": [{ "system": "http://loinc.org", "code": "8867-4" }] },
        "subject": { "reference": subject },
        "valueQuantity": { "value": 72, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min" }
    })
}

/// GET a response entry's `location` (relative to the base, or absolute).
async fn read_location(app: &TestApp, location: &str) -> crate::helpers::Answer {
    if location.starts_with("http://") || location.starts_with("https://") {
        app.get_absolute(location).await
    } else {
        app.get(location).await
    }
}

/// POST a transaction/batch and assert a 200 Bundle of `response_type`.
async fn post_ok(app: &TestApp, bundle: &Value, response_type: &str) -> Value {
    let answer = app.post_bundle(bundle).await;
    assert_eq!(answer.status, 200, "{response_type}: {}", answer.describe());
    assert_eq!(answer.body["resourceType"], "Bundle");
    assert_eq!(answer.body["type"], response_type, "{}", answer.body);
    assert_eq!(
        entries(&answer.body).len(),
        entries(bundle).len(),
        "one response entry per request entry"
    );
    answer.body
}

fn status_of(entry: &Value) -> &str {
    entry["response"]["status"].as_str().unwrap_or("")
}

both_stores! {
    async fn transaction_resolves_urn_uuid_references_between_entries(app) {
        let patient_url = urn_uuid();
        // The Observation comes first: references may point forward.
        let bundle = transaction(vec![
            post_entry(observation_about(&patient_url), Some(&urn_uuid())),
            post_entry(patient("tx-1"), Some(&patient_url)),
        ]);
        let answer = post_ok(&app, &bundle, "transaction-response").await;
        let entries = entries(&answer);
        for entry in &entries {
            assert!(
                status_of(entry).starts_with("201"),
                "each entry is created: {entry}"
            );
        }
        let obs_location = entries[0]["response"]["location"]
            .as_str()
            .expect("location");
        let pat_location = entries[1]["response"]["location"]
            .as_str()
            .expect("location");
        assert!(
            type_and_id(obs_location).starts_with("Observation/"),
            "entry order is kept: {obs_location}"
        );
        assert!(
            type_and_id(pat_location).starts_with("Patient/"),
            "entry order is kept: {pat_location}"
        );
        assert!(
            obs_location.contains("/_history/1"),
            "the location names the version: {obs_location}"
        );

        let observation = read_location(&app, obs_location).await;
        assert_eq!(observation.status, 200, "{}", observation.describe());
        assert_eq!(
            observation.body["subject"]["reference"],
            type_and_id(pat_location).as_str(),
            "the urn:uuid reference now names the Patient the transaction created"
        );
        assert_eq!(read_location(&app, pat_location).await.status, 200);
    }

    async fn transaction_with_an_invalid_entry_writes_nothing(app) {
        let mut broken = patient("tx-bad-2");
        broken["gender"] = json!("mal");
        let bundle = transaction(vec![
            post_entry(patient("tx-bad-1"), Some(&urn_uuid())),
            post_entry(broken, Some(&urn_uuid())),
            post_entry(observation_about("Patient/whoever"), None),
        ]);
        let answer = app.post_bundle(&bundle).await;
        assert!(
            (400..500).contains(&answer.status),
            "an invalid entry fails the transaction: {}",
            answer.describe()
        );
        answer.assert_outcome(answer.status, "failed transaction");
        let named = answer.diagnostics().contains("entry[1]")
            || answer.expressions().iter().any(|e| e.contains("entry[1]"));
        assert!(
            named,
            "the outcome names the failing entry (entry[1]): {}",
            answer.body
        );

        let patients = app.get("Patient/_history").await;
        assert_eq!(
            patients.body["total"], 0,
            "no Patient was written: {}",
            patients.body
        );
        let observations = app.get("Observation/_history").await;
        assert_eq!(observations.body["total"], 0, "no Observation was written");
        assert!(app
            .find_ids("Patient", &[("identifier", &format!("{SYSTEM}|tx-bad-1"))])
            .await
            .is_empty());
    }

    async fn batch_with_one_failing_entry_writes_the_others(app) {
        let mut broken = patient("batch-2");
        broken["birthDate"] = json!("1990-13-45");
        let bundle = batch(vec![
            post_entry(patient("batch-1"), None),
            post_entry(broken, None),
            post_entry(observation_about("Patient/someone"), None),
        ]);
        let answer = post_ok(&app, &bundle, "batch-response").await;
        let entries = entries(&answer);
        assert!(status_of(&entries[0]).starts_with("201"), "{}", entries[0]);
        assert!(status_of(&entries[2]).starts_with("201"), "{}", entries[2]);
        assert!(
            status_of(&entries[1]).starts_with('4'),
            "the invalid entry fails on its own: {}",
            entries[1]
        );
        assert_eq!(
            entries[1]["response"]["outcome"]["resourceType"], "OperationOutcome",
            "the failing entry explains why: {}",
            entries[1]
        );
        for i in [0, 2] {
            let location = entries[i]["response"]["location"]
                .as_str()
                .expect("location");
            assert_eq!(
                read_location(&app, location).await.status,
                200,
                "entry {i} was written"
            );
        }
        assert_eq!(
            app.get("Patient/_history").await.body["total"],
            1,
            "only the valid Patient"
        );
    }

    async fn transaction_if_none_exist_reuses_the_existing_resource(app) {
        let existing = app.create(&patient("ine-1")).await;
        let existing_id = existing["id"].as_str().unwrap();
        let patient_url = urn_uuid();
        let mut conditional = post_entry(patient("ine-1"), Some(&patient_url));
        conditional["request"]["ifNoneExist"] = json!(format!("identifier={SYSTEM}|ine-1"));
        let bundle = transaction(vec![
            conditional,
            post_entry(observation_about(&patient_url), Some(&urn_uuid())),
        ]);
        let answer = post_ok(&app, &bundle, "transaction-response").await;
        let entries = entries(&answer);
        assert!(
            status_of(&entries[0]).starts_with("200"),
            "the match is reused: {}",
            entries[0]
        );
        let location = entries[0]["response"]["location"]
            .as_str()
            .expect("location");
        assert_eq!(type_and_id(location), format!("Patient/{existing_id}"));
        let observation =
            read_location(&app, entries[1]["response"]["location"].as_str().unwrap()).await;
        assert_eq!(
            observation.body["subject"]["reference"],
            format!("Patient/{existing_id}"),
            "the reference resolves to the existing Patient"
        );
        assert_eq!(
            app.get("Patient/_history").await.body["total"],
            1,
            "no second Patient"
        );
        assert_eq!(
            app.find_ids("Patient", &[("identifier", &format!("{SYSTEM}|ine-1"))])
                .await,
            [existing_id.to_owned()]
        );
    }

    async fn transaction_mixes_put_delete_and_read(app) {
        app.upsert(&json!({ "resourceType": "Patient", "id": "to-delete" }))
            .await;
        app.upsert(&json!({ "resourceType": "Patient", "id": "to-read", "gender": "female" }))
            .await;
        let bundle = transaction(vec![
            json!({ "request": { "method": "DELETE", "url": "Patient/to-delete" } }),
            json!({
                "resource": { "resourceType": "Patient", "id": "to-put", "gender": "male" },
                "request": { "method": "PUT", "url": "Patient/to-put" }
            }),
            json!({ "request": { "method": "GET", "url": "Patient/to-read" } }),
        ]);
        let answer = post_ok(&app, &bundle, "transaction-response").await;
        let entries = entries(&answer);
        assert!(
            status_of(&entries[0]).starts_with("20"),
            "delete: {}",
            entries[0]
        );
        assert!(
            status_of(&entries[1]).starts_with("201"),
            "put as create: {}",
            entries[1]
        );
        assert!(
            status_of(&entries[2]).starts_with("200"),
            "read: {}",
            entries[2]
        );
        assert_eq!(
            entries[2]["resource"]["gender"], "female",
            "the read entry holds the resource"
        );
        assert_eq!(app.get("Patient/to-delete").await.status, 410);
        assert_eq!(app.get("Patient/to-put").await.status, 200);
    }

    async fn transaction_touching_one_resource_twice_fails(app) {
        // R4 (transaction processing rules): if resource identities overlap, the
        // transaction SHALL fail.
        let put = |gender: &str| {
            json!({
                "resource": { "resourceType": "Patient", "id": "twice", "gender": gender },
                "request": { "method": "PUT", "url": "Patient/twice" }
            })
        };
        let answer = app
            .post_bundle(&transaction(vec![put("male"), put("female")]))
            .await;
        assert!(
            (400..500).contains(&answer.status),
            "two PUTs of Patient/twice: {}",
            answer.describe()
        );
        answer.assert_outcome(answer.status, "overlapping transaction entries");
        assert_eq!(
            app.get("Patient/twice").await.status,
            404,
            "nothing was written"
        );
    }

    async fn only_transactions_and_batches_can_be_posted_to_the_base(app) {
        let collection = json!({ "resourceType": "Bundle", "type": "collection", "entry": [
            { "fullUrl": "urn:uuid:8c0a4a4a-8f3e-4bfa-9d8e-8a7f0f3c1b21", "resource": patient("c-1") }
        ] });
        app.post_bundle(&collection)
            .await
            .assert_outcome(400, "a collection Bundle posted to the base");
        app.post_bundle(&patient("c-2"))
            .await
            .assert_outcome(400, "a Patient posted to the base");
    }

    async fn synthea_bundles_load_and_every_reference_resolves(app) {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/synthea");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("the Synthea test data")
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        assert_eq!(files.len(), 3, "three Synthea bundles in {}", dir.display());
        for file in files {
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            let bundle: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
            let answer = app.post_bundle(&bundle).await;
            assert_eq!(answer.status, 200, "{name}: {}", answer.describe());
            assert_eq!(answer.body["type"], "transaction-response", "{name}");
            let response_entries = entries(&answer.body);
            assert_eq!(
                response_entries.len(),
                entries(&bundle).len(),
                "{name}: one response per entry"
            );
            let locations: Vec<String> = response_entries
                .iter()
                .map(|e| {
                    assert!(status_of(e).starts_with("201"), "{name}: {e}");
                    e["response"]["location"]
                        .as_str()
                        .expect("location")
                        .to_owned()
                })
                .collect();

            // Read every written resource back and gather its references.
            let stored: Vec<(String, crate::helpers::Answer)> = stream::iter(locations)
                .map(|l| {
                    let app = &app;
                    async move { (l.clone(), read_location(app, &l).await) }
                })
                .buffer_unordered(8)
                .collect()
                .await;
            let mut targets = HashSet::new();
            let mut problems = Vec::new();
            let mut types: BTreeMap<String, usize> = BTreeMap::new();
            for (location, read) in &stored {
                if read.status != 200 {
                    problems.push(format!("{location} reads {}", read.status));
                    continue;
                }
                *types
                    .entry(read.body["resourceType"].as_str().unwrap_or("?").to_owned())
                    .or_default() += 1;
                for reference in references(&read.body) {
                    if reference.starts_with('#') {
                        continue; // contained
                    } else if reference.starts_with("urn:") {
                        problems.push(format!("{location} still has the reference {reference}"));
                    } else if is_relative_reference(&reference) {
                        targets.insert(reference);
                    }
                }
            }
            let target_reads: Vec<(String, u16)> = stream::iter(targets.iter().cloned())
                .map(|t| {
                    let app = &app;
                    async move { (t.clone(), app.get(&t).await.status) }
                })
                .buffer_unordered(8)
                .collect()
                .await;
            for (target, status) in target_reads {
                if status != 200 {
                    problems.push(format!("the reference {target} reads {status}"));
                }
            }
            println!(
                "{name}: {types:?}, {} distinct references checked",
                targets.len()
            );
            assert!(
                problems.is_empty(),
                "{name}: {} problems, first ones:\n{}",
                problems.len(),
                problems
                    .iter()
                    .take(20)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("\n")
            );
        }
    }
}

/// Every `reference` string anywhere in `value`.
fn references(value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                for (k, x) in map {
                    match (k.as_str(), x) {
                        ("reference", Value::String(s)) => out.push(s.clone()),
                        _ => walk(x, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    walk(value, &mut out);
    out
}

/// `Type/id`: a relative reference to a resource on this server.
fn is_relative_reference(reference: &str) -> bool {
    let Some((rtype, id)) = reference.split_once('/') else {
        return false;
    };
    rtype.starts_with(|c: char| c.is_ascii_uppercase())
        && rtype.chars().all(|c| c.is_ascii_alphanumeric())
        && !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}
