//! The access matrix: for each role, representative FHIR requests and the status a user sees,
//! including a patient reaching for another patient's records by id, by search, by
//! `_include` and inside a transaction. Accounts and sessions are made straight in the
//! tables; clinical fixtures through the API with the tests' system token.

use carefront_store::tables::sessions;
use reqwest::Method;
use serde_json::{json, Value};

use crate::both_stores;
use crate::helpers::{entries, post_entry, session_for, transaction, TestApp};

const ROLES: [&str; 5] = [
    "patient",
    "practitioner",
    "pharmacist",
    "employer-admin",
    "administrator",
];

fn observation(patient: &str, id: &str) -> Value {
    json!({"resourceType": "Observation", "id": id, "status": "final", "code": {"text": "weight"},
        "subject": {"reference": format!("Patient/{patient}")}})
}

/// Two clinics, a doctor at clinic A, patient p1 at A and p2 at B, their records.
async fn fixtures(app: &TestApp) {
    for org in ["clinic-a", "clinic-b"] {
        app.upsert(&json!({"resourceType": "Organization", "id": org, "name": org}))
            .await;
    }
    app.upsert(&json!({"resourceType": "Practitioner", "id": "dr-a"}))
        .await;
    app.upsert(
        &json!({"resourceType": "PractitionerRole", "id": "dr-a-at-a",
        "practitioner": {"reference": "Practitioner/dr-a"},
        "organization": {"reference": "Organization/clinic-a"}}),
    )
    .await;
    app.upsert(&json!({"resourceType": "Patient", "id": "p1",
        "managingOrganization": {"reference": "Organization/clinic-a"}}))
        .await;
    app.upsert(&json!({"resourceType": "Patient", "id": "p2",
        "managingOrganization": {"reference": "Organization/clinic-b"}}))
        .await;
    let mut o1 = observation("p1", "o1");
    // Another patient named inside p1's record: `_include` must not bring p2 along.
    o1["performer"] = json!([{"reference": "Patient/p2"}]);
    app.upsert(&o1).await;
    app.upsert(&observation("p2", "o2")).await;
    app.upsert(
        &json!({"resourceType": "MedicationRequest", "id": "m1", "status": "active",
        "intent": "order", "medicationCodeableConcept": {"text": "amoxicillin"},
        "subject": {"reference": "Patient/p1"}}),
    )
    .await;
}

/// (what, method, path, body, expected status per role in [`ROLES`] order)
type Row = (&'static str, Method, String, Option<Value>, [u16; 5]);

fn matrix() -> Vec<Row> {
    let get = |what, path: &str, expected| (what, Method::GET, path.to_owned(), None, expected);
    vec![
        get("own Patient by id", "Patient/p1", [200, 200, 200, 403, 200]),
        get(
            "other Patient by id",
            "Patient/p2",
            [403, 403, 200, 403, 200],
        ),
        get(
            "own Observation",
            "Observation/o1",
            [200, 200, 403, 403, 200],
        ),
        get(
            "other's Observation",
            "Observation/o2",
            [403, 403, 403, 403, 200],
        ),
        get(
            "other's Observation version",
            "Observation/o2/_history/1",
            [403, 403, 403, 403, 200],
        ),
        get(
            "other's history",
            "Observation/o2/_history",
            [403, 403, 403, 403, 200],
        ),
        get(
            "prescription",
            "MedicationRequest/m1",
            [200, 200, 200, 403, 200],
        ),
        get(
            "prescription search",
            "MedicationRequest",
            [200, 200, 200, 403, 200],
        ),
        get(
            "search of another's",
            "Observation?subject=Patient/p2",
            [200, 200, 403, 403, 200],
        ),
        get(
            "count only",
            "Observation?_summary=count",
            [200, 200, 403, 200, 200],
        ),
        get("system search", "?_id=o2", [403, 403, 403, 403, 200]),
        get(
            "type history",
            "Observation/_history",
            [403, 403, 403, 403, 200],
        ),
        get("directory", "Organization", [200, 200, 200, 200, 200]),
        (
            "record for own",
            Method::POST,
            "Observation".into(),
            Some(observation("p1", "x")),
            [201, 201, 403, 403, 403],
        ),
        (
            "record for another",
            Method::POST,
            "Observation".into(),
            Some(observation("p2", "x")),
            [403, 403, 403, 403, 403],
        ),
        (
            "move own into another's",
            Method::PUT,
            "Observation/o1".into(),
            Some(observation("p2", "o1")),
            [403, 403, 403, 403, 403],
        ),
        (
            "delete another's",
            Method::DELETE,
            "Observation/o2".into(),
            None,
            [403, 403, 403, 403, 403],
        ),
    ]
}

both_stores! {
    async fn access_matrix_by_role(app) {
        fixtures(&app).await;
        let links = [Some("Patient/p1"), Some("Practitioner/dr-a"), None, None, None];
        for (role, link) in ROLES.iter().zip(links) {
            let user = app.as_user(&session_for(&app, role, link).await);
            for (i, (what, method, path, body, expected)) in matrix().into_iter().enumerate() {
                let answer = user.request(method.clone(), &path, &[], body.as_ref()).await;
                let want = expected[ROLES.iter().position(|r| r == role).unwrap()];
                assert_eq!(answer.status, want, "{role}: {what} ({method} {path}): {}",
                    answer.describe());
                if want == 403 {
                    answer.assert_outcome(403, what);
                    assert_eq!(answer.body["issue"][0]["code"], "forbidden");
                }
                let _ = i;
            }
        }
    }

    async fn a_patient_sees_only_their_own_compartment(app) {
        fixtures(&app).await;
        let p1 = app.as_user(&session_for(&app, "patient", Some("Patient/p1")).await);
        // By search: what belongs to others is simply not there.
        assert!(p1.find_ids("Observation", &[("subject", "Patient/p2")]).await.is_empty());
        assert_eq!(p1.find_ids("Observation", &[]).await, ["o1"]);
        assert_eq!(p1.find_ids("Patient", &[]).await, ["p1"]);
        // By _include: p1's Observation names p2 as performer; p2 is left out.
        let answer = p1.find("Observation", &[("_include", "Observation:performer")]).await;
        assert_eq!(answer.status, 200, "{}", answer.describe());
        let ids: Vec<String> = entries(&answer.body).iter()
            .filter_map(|e| e["resource"]["id"].as_str().map(str::to_owned)).collect();
        assert_eq!(ids, ["o1"], "p2 must not come in through _include");
        // The system client does see the included Patient.
        let all = app.find("Observation", &[("_id", "o1"), ("_include", "Observation:performer")]).await;
        assert_eq!(entries(&all.body).len(), 2);
        // Inside a transaction: one entry about p2 refuses all of it, and nothing is written.
        let bundle = transaction(vec![
            post_entry(observation("p1", "t1"), None),
            post_entry(observation("p2", "t2"), None),
        ]);
        p1.post_bundle(&bundle).await.assert_outcome(403, "a transaction touching p2");
        assert_eq!(app.find_ids("Observation", &[]).await, ["o1", "o2"], "nothing was written");
        let own = transaction(vec![post_entry(observation("p1", "t1"), None)]);
        assert_eq!(p1.post_bundle(&own).await.status, 200);
        // A patient whose account is not linked sees no clinical record at all.
        let unlinked = app.as_user(&session_for(&app, "patient", None).await);
        unlinked.get("Patient/p1").await.assert_outcome(403, "unlinked account");
    }

    async fn a_practitioner_sees_the_patients_of_their_organisations(app) {
        fixtures(&app).await;
        let dr = app.as_user(&session_for(&app, "practitioner", Some("Practitioner/dr-a")).await);
        assert_eq!(dr.find_ids("Observation", &[]).await, ["o1"]);
        let answer = dr.find("Patient", &[("_total", "accurate")]).await;
        assert_eq!(crate::helpers::entry_ids(&answer.body), ["p1"]);
        assert!(answer.body.get("total").is_none(), "the total would count others' patients");
        // Registering a patient at their own clinic, but not at another.
        let at = |org: &str| json!({"resourceType": "Patient",
            "managingOrganization": {"reference": format!("Organization/{org}")}});
        assert_eq!(dr.post("Patient", &at("clinic-a")).await.status, 201);
        dr.post("Patient", &at("clinic-b")).await.assert_outcome(403, "another clinic's patient");
        // A new patient and their first record in one transaction.
        let urn = crate::helpers::urn_uuid();
        let bundle = transaction(vec![
            post_entry(at("clinic-a"), Some(&urn)),
            post_entry(json!({"resourceType": "Observation", "status": "final",
                "code": {"text": "bp"}, "subject": {"reference": urn}}), None),
        ]);
        let answer = dr.post_bundle(&bundle).await;
        assert_eq!(answer.status, 200, "{}", answer.describe());
    }

    async fn half_signed_in_is_anonymous(app) {
        fixtures(&app).await;
        let store = app.state.repo.store().as_ref();
        let token = session_for(&app, "administrator", None).await;
        // A second session for the same kind of account, TOTP still owed.
        let s = sessions::find(store, &token, 2).await.unwrap().unwrap();
        let pending = sessions::create(store, &sessions::Session {
            second_factor_pending: true, ..s
        }).await.unwrap();
        app.as_user(&pending).get("Patient/p1").await.assert_outcome(401, "TOTP owed");
        app.as_user("nonsense").get("Patient/p1").await.assert_outcome(401, "no session");
    }
}
