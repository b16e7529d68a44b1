//! Create, read, vread, update, patch, delete and their headers (ETag, Location, If-Match,
//! If-None-Match, Prefer).

use reqwest::Method;
use serde_json::{json, Value};

use crate::both_stores;
use crate::helpers::TestApp;

fn chalmers() -> Value {
    json!({
        "resourceType": "Patient",
        "name": [{ "family": "Chalmers", "given": ["Peter", "James"] }],
        "gender": "male",
        "birthDate": "1974-12-25"
    })
}

/// Create a Patient and return its server-assigned id.
async fn create_patient(app: &TestApp) -> String {
    let created = app.create(&chalmers()).await;
    created["id"]
        .as_str()
        .expect("server assigned an id")
        .to_owned()
}

/// PUT `resource` to `Patient/{id}` and assert the status.
async fn update(app: &TestApp, id: &str, resource: &Value, headers: &[(&str, &str)]) -> u16 {
    let answer = app
        .put_with(&format!("Patient/{id}"), resource, headers)
        .await;
    answer.status
}

both_stores! {
    async fn create_then_read_gives_back_the_resource(app) {
        let created = app.create(&chalmers()).await;
        let id = created["id"].as_str().expect("server assigned an id");
        assert_eq!(created["meta"]["versionId"], "1");
        let read = app.get(&format!("Patient/{id}")).await;
        assert_eq!(read.status, 200);
        assert_eq!(read.header("etag"), Some("W/\"1\""));
        assert!(read.header("last-modified").is_some());
        assert_eq!(read.body["name"][0]["family"], "Chalmers");
        assert_eq!(read.body["birthDate"], "1974-12-25");
    }

    async fn create_answers_201_with_location_etag_and_meta(app) {
        let answer = app.post("Patient", &chalmers()).await;
        assert_eq!(answer.status, 201, "create: {}", answer.describe());
        assert_eq!(answer.media_type(), "application/fhir+json");
        let id = answer.body["id"]
            .as_str()
            .expect("the created resource has an id");
        let location = answer
            .header("location")
            .expect("201 Created needs a Location");
        assert_eq!(
            location,
            format!("{}/Patient/{id}/_history/1", app.base),
            "Location is the new version's URL"
        );
        assert_eq!(answer.header("etag"), Some("W/\"1\""));
        assert!(
            answer.header("last-modified").is_some(),
            "Last-Modified is set"
        );
        assert_eq!(answer.body["meta"]["versionId"], "1");
        assert!(
            answer.body["meta"]["lastUpdated"].is_string(),
            "meta.lastUpdated is set: {}",
            answer.body
        );
        let read = app.get_absolute(location).await;
        assert_eq!(
            read.status,
            200,
            "the Location reads back: {}",
            read.describe()
        );
        assert_eq!(read.body["id"], id);
    }

    async fn create_ignores_an_id_in_the_body(app) {
        let mut patient = chalmers();
        patient["id"] = json!("chosen-by-client");
        let created = app.create(&patient).await;
        assert_ne!(
            created["id"], "chosen-by-client",
            "POST assigns a new id; the body's id is ignored"
        );
        assert_eq!(app.get("Patient/chosen-by-client").await.status, 404);
    }

    async fn create_accepts_plain_application_json(app) {
        let answer = app
            .raw(
                Method::POST,
                "Patient",
                "application/json",
                chalmers().to_string(),
            )
            .await;
        assert_eq!(
            answer.status,
            201,
            "application/json is FHIR JSON too: {}",
            answer.describe()
        );
        let with_charset = app
            .raw(
                Method::POST,
                "Patient",
                "application/fhir+json; charset=utf-8",
                chalmers().to_string(),
            )
            .await;
        assert_eq!(with_charset.status, 201, "{}", with_charset.describe());
    }

    async fn read_of_an_unknown_id_is_404(app) {
        app.get("Patient/does-not-exist")
            .await
            .assert_outcome(404, "read of an unknown id");
    }

    async fn update_makes_version_2(app) {
        let id = create_patient(&app).await;
        let mut changed = chalmers();
        changed["id"] = json!(id);
        changed["gender"] = json!("other");
        let answer = app.put(&format!("Patient/{id}"), &changed).await;
        assert_eq!(answer.status, 200, "update: {}", answer.describe());
        assert_eq!(answer.header("etag"), Some("W/\"2\""));
        assert_eq!(answer.body["meta"]["versionId"], "2");
        assert_eq!(answer.body["gender"], "other");
        let read = app.get(&format!("Patient/{id}")).await;
        assert_eq!(read.header("etag"), Some("W/\"2\""));
        assert_eq!(read.body["gender"], "other", "the read shows the update");
    }

    async fn update_with_a_new_client_id_creates_the_resource(app) {
        let mut patient = chalmers();
        patient["id"] = json!("client-chosen-1");
        let answer = app.put("Patient/client-chosen-1", &patient).await;
        assert_eq!(
            answer.status,
            201,
            "update as create: {}",
            answer.describe()
        );
        assert_eq!(answer.header("etag"), Some("W/\"1\""));
        assert_eq!(
            answer.body["id"], "client-chosen-1",
            "the client's id is kept"
        );
        assert_eq!(answer.body["meta"]["versionId"], "1");
        assert!(
            answer
                .header("location")
                .is_some_and(|l| l.ends_with("/Patient/client-chosen-1/_history/1")),
            "201 Created has a Location: {:?}",
            answer.header("location")
        );
        assert_eq!(app.get("Patient/client-chosen-1").await.status, 200);
    }

    async fn update_whose_body_id_differs_from_the_url_is_400(app) {
        let id = create_patient(&app).await;
        let mut other = chalmers();
        other["id"] = json!("someone-else");
        app.put(&format!("Patient/{id}"), &other)
            .await
            .assert_outcome(400, "update with a mismatched id");
        app.put(&format!("Patient/{id}"), &chalmers())
            .await
            .assert_outcome(400, "update without an id in the body");
        let read = app.get(&format!("Patient/{id}")).await;
        assert_eq!(read.header("etag"), Some("W/\"1\""), "nothing was written");
    }

    async fn delete_then_read_is_410_and_earlier_versions_stay_readable(app) {
        let id = create_patient(&app).await;
        let deleted = app.delete(&format!("Patient/{id}")).await;
        assert_eq!(deleted.status, 204, "delete: {}", deleted.describe());
        assert!(deleted.raw.is_empty(), "204 has no body");
        app.get(&format!("Patient/{id}"))
            .await
            .assert_outcome(410, "read after delete");
        let v1 = app.get(&format!("Patient/{id}/_history/1")).await;
        assert_eq!(
            v1.status,
            200,
            "vread of the version before the delete: {}",
            v1.describe()
        );
        assert_eq!(v1.body["name"][0]["family"], "Chalmers");
        assert_eq!(v1.header("etag"), Some("W/\"1\""));
        app.get(&format!("Patient/{id}/_history/2"))
            .await
            .assert_outcome(410, "vread of the deletion itself");
    }

    async fn delete_of_something_that_does_not_exist_succeeds(app) {
        let answer = app.delete("Patient/never-existed").await;
        assert!(
            answer.status == 200 || answer.status == 204,
            "deleting an unknown resource is not an error: {}",
            answer.describe()
        );
        let id = create_patient(&app).await;
        assert_eq!(app.delete(&format!("Patient/{id}")).await.status, 204);
        let again = app.delete(&format!("Patient/{id}")).await;
        assert!(
            again.status == 200 || again.status == 204,
            "deleting twice is not an error: {}",
            again.describe()
        );
    }

    async fn update_after_delete_brings_the_resource_back(app) {
        let id = create_patient(&app).await;
        app.delete(&format!("Patient/{id}")).await;
        let mut back = chalmers();
        back["id"] = json!(id);
        let answer = app.put(&format!("Patient/{id}"), &back).await;
        assert!(
            answer.status == 200 || answer.status == 201,
            "update of a deleted resource: {}",
            answer.describe()
        );
        assert_eq!(
            answer.body["meta"]["versionId"], "3",
            "versions continue after the delete"
        );
        assert_eq!(app.get(&format!("Patient/{id}")).await.status, 200);
    }

    async fn vread_gives_each_version_and_404_for_one_that_never_was(app) {
        let id = create_patient(&app).await;
        let mut changed = chalmers();
        changed["id"] = json!(id);
        changed["birthDate"] = json!("1975-01-01");
        assert_eq!(update(&app, &id, &changed, &[]).await, 200);
        let v1 = app.get(&format!("Patient/{id}/_history/1")).await;
        let v2 = app.get(&format!("Patient/{id}/_history/2")).await;
        assert_eq!((v1.status, v2.status), (200, 200));
        assert_eq!(v1.body["birthDate"], "1974-12-25");
        assert_eq!(v1.body["meta"]["versionId"], "1");
        assert_eq!(v2.body["birthDate"], "1975-01-01");
        assert_eq!(v2.header("etag"), Some("W/\"2\""));
        app.get(&format!("Patient/{id}/_history/3"))
            .await
            .assert_outcome(404, "vread of a version that does not exist");
    }

    async fn json_patch_changes_the_resource(app) {
        let id = create_patient(&app).await;
        let patch = json!([
            { "op": "replace", "path": "/gender", "value": "female" },
            { "op": "add", "path": "/name/0/given/-", "value": "Jo" },
            { "op": "remove", "path": "/birthDate" }
        ]);
        let answer = app
            .patch(
                &format!("Patient/{id}"),
                &patch,
                "application/json-patch+json",
                &[],
            )
            .await;
        assert_eq!(answer.status, 200, "patch: {}", answer.describe());
        assert_eq!(answer.header("etag"), Some("W/\"2\""));
        let read = app.get(&format!("Patient/{id}")).await;
        assert_eq!(read.body["gender"], "female");
        assert_eq!(
            read.body["name"][0]["given"],
            json!(["Peter", "James", "Jo"])
        );
        assert!(read.body.get("birthDate").is_none(), "removed by the patch");
        assert_eq!(read.body["meta"]["versionId"], "2");
    }

    async fn patch_with_another_content_type_is_415(app) {
        let id = create_patient(&app).await;
        let patch = json!([{ "op": "replace", "path": "/gender", "value": "female" }]);
        app.patch(
            &format!("Patient/{id}"),
            &patch,
            "application/fhir+json",
            &[],
        )
        .await
        .assert_outcome(415, "PATCH sent as application/fhir+json");
        let read = app.get(&format!("Patient/{id}")).await;
        assert_eq!(read.body["gender"], "male", "nothing was patched");
    }

    async fn patch_that_cannot_apply_changes_nothing(app) {
        let id = create_patient(&app).await;
        let patch = json!([
            { "op": "test", "path": "/gender", "value": "female" },
            { "op": "replace", "path": "/gender", "value": "other" }
        ]);
        let answer = app
            .patch(
                &format!("Patient/{id}"),
                &patch,
                "application/json-patch+json",
                &[],
            )
            .await;
        assert!(
            (400..500).contains(&answer.status),
            "a failing patch test is a client error: {}",
            answer.describe()
        );
        answer.assert_outcome(answer.status, "failed patch");
        let invalid = json!([{ "op": "replace", "path": "/gender", "value": "mal" }]);
        app.patch(
            &format!("Patient/{id}"),
            &invalid,
            "application/json-patch+json",
            &[],
        )
        .await
        .assert_outcome(422, "a patch that makes the resource invalid");
        let read = app.get(&format!("Patient/{id}")).await;
        assert_eq!(read.header("etag"), Some("W/\"1\""), "still version 1");
        assert_eq!(read.body["gender"], "male");
    }

    async fn update_with_a_stale_if_match_is_412(app) {
        let id = create_patient(&app).await;
        let mut body = chalmers();
        body["id"] = json!(id);
        assert_eq!(
            update(&app, &id, &body, &[("if-match", "W/\"1\"")]).await,
            200
        );
        body["gender"] = json!("female");
        let stale = app
            .put_with(&format!("Patient/{id}"), &body, &[("if-match", "W/\"1\"")])
            .await;
        stale.assert_outcome(412, "update with If-Match of an old version");
        let read = app.get(&format!("Patient/{id}")).await;
        assert_eq!(
            read.header("etag"),
            Some("W/\"2\""),
            "the stale update wrote nothing"
        );
        assert_eq!(read.body["gender"], "male");
        let patch = json!([{ "op": "replace", "path": "/gender", "value": "female" }]);
        app.patch(
            &format!("Patient/{id}"),
            &patch,
            "application/json-patch+json",
            &[("if-match", "W/\"1\"")],
        )
        .await
        .assert_outcome(412, "patch with If-Match of an old version");
    }

    async fn update_with_if_match_of_a_resource_that_does_not_exist_is_412(app) {
        let mut body = chalmers();
        body["id"] = json!("not-there");
        app.put_with("Patient/not-there", &body, &[("if-match", "W/\"1\"")])
            .await
            .assert_outcome(412, "If-Match on a resource that does not exist");
        assert_eq!(
            app.get("Patient/not-there").await.status,
            404,
            "nothing was created"
        );
    }

    async fn update_with_the_current_if_match_succeeds(app) {
        let id = create_patient(&app).await;
        let mut body = chalmers();
        body["id"] = json!(id);
        body["gender"] = json!("female");
        let answer = app
            .put_with(&format!("Patient/{id}"), &body, &[("if-match", "W/\"1\"")])
            .await;
        assert_eq!(
            answer.status,
            200,
            "If-Match of the current version: {}",
            answer.describe()
        );
        assert_eq!(answer.header("etag"), Some("W/\"2\""));
        let patch = json!([{ "op": "replace", "path": "/gender", "value": "other" }]);
        let patched = app
            .patch(
                &format!("Patient/{id}"),
                &patch,
                "application/json-patch+json",
                &[("if-match", "W/\"2\"")],
            )
            .await;
        assert_eq!(
            patched.status,
            200,
            "patch with the current If-Match: {}",
            patched.describe()
        );
        assert_eq!(patched.header("etag"), Some("W/\"3\""));
    }

    async fn read_with_if_none_match_of_the_current_version_is_304(app) {
        let id = create_patient(&app).await;
        let fresh = app
            .get_with(&format!("Patient/{id}"), &[("if-none-match", "W/\"1\"")])
            .await;
        assert_eq!(
            fresh.status,
            304,
            "the client has the current version: {}",
            fresh.describe()
        );
        assert!(fresh.raw.is_empty(), "304 has no body");
        let mut body = chalmers();
        body["id"] = json!(id);
        assert_eq!(update(&app, &id, &body, &[]).await, 200);
        let stale = app
            .get_with(&format!("Patient/{id}"), &[("if-none-match", "W/\"1\"")])
            .await;
        assert_eq!(
            stale.status,
            200,
            "the client's version is old: {}",
            stale.describe()
        );
        assert_eq!(stale.header("etag"), Some("W/\"2\""));
        assert_eq!(stale.body["resourceType"], "Patient");
    }

    async fn prefer_return_minimal_sends_no_body(app) {
        let answer = app
            .post_with("Patient", &chalmers(), &[("prefer", "return=minimal")])
            .await;
        assert_eq!(answer.status, 201, "create: {}", answer.describe());
        assert!(
            answer.raw.is_empty(),
            "return=minimal: no body, got {:?}",
            answer.body
        );
        assert_eq!(answer.header("etag"), Some("W/\"1\""));
        let location = answer.header("location").expect("Location").to_owned();
        let path = crate::helpers::type_and_id(&location);
        let mut body = chalmers();
        body["id"] = json!(path.trim_start_matches("Patient/"));
        let updated = app
            .put_with(&path, &body, &[("prefer", "return=minimal")])
            .await;
        assert_eq!(updated.status, 200, "update: {}", updated.describe());
        assert!(updated.raw.is_empty(), "return=minimal on update: no body");
        assert_eq!(updated.header("etag"), Some("W/\"2\""));
    }

    async fn prefer_return_representation_sends_the_resource(app) {
        let answer = app
            .post_with(
                "Patient",
                &chalmers(),
                &[("prefer", "return=representation")],
            )
            .await;
        assert_eq!(answer.status, 201, "create: {}", answer.describe());
        assert_eq!(answer.media_type(), "application/fhir+json");
        assert_eq!(answer.body["resourceType"], "Patient");
        assert_eq!(answer.body["name"][0]["family"], "Chalmers");
        assert_eq!(answer.body["meta"]["versionId"], "1");
    }

    async fn prefer_return_operation_outcome_sends_an_outcome(app) {
        let answer = app
            .post_with(
                "Patient",
                &chalmers(),
                &[("prefer", "return=OperationOutcome")],
            )
            .await;
        assert_eq!(answer.status, 201, "create: {}", answer.describe());
        assert_eq!(answer.media_type(), "application/fhir+json");
        assert_eq!(
            answer.body["resourceType"], "OperationOutcome",
            "return=OperationOutcome: {}",
            answer.body
        );
        assert!(
            answer.header("location").is_some(),
            "the Location is still given"
        );
    }

    async fn decimal_precision_survives_a_round_trip(app) {
        // FHIR decimals keep their precision: 5.40 is not 5.4 and 0.010 is not 0.01.
        let body = r#"{"resourceType":"Observation","status":"final","code":{"text":"weight"},"valueQuantity":{"value":5.40,"unit":"kg"},"component":[{"code":{"text":"x"},"valueQuantity":{"value":0.010}}]}"#;
        let created = app
            .raw(Method::POST, "Observation", "application/fhir+json", body)
            .await;
        assert_eq!(created.status, 201, "create: {}", created.describe());
        let id = created.body["id"].as_str().expect("id").to_owned();
        let read = app.get(&format!("Observation/{id}")).await;
        let text = String::from_utf8_lossy(&read.raw);
        assert!(
            text.contains("5.40") && text.contains("0.010"),
            "the decimals 5.40 and 0.010 came back as: {text}"
        );
    }
}
