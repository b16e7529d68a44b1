//! Errors as a client sees them: the right status, always an OperationOutcome sent as
//! application/fhir+json, with the location of the problem; and the operator endpoints.

use carefront_http::HttpConfig;
use reqwest::Method;
use serde_json::{json, Value};

use crate::both_stores;
use crate::helpers::{spawn_app_with, Answer, Backend, TestApp};

fn patient() -> Value {
    json!({ "resourceType": "Patient", "name": [{ "family": "Valid" }], "birthDate": "1990-01-01" })
}

fn with(mut base: Value, key: &str, value: Value) -> Value {
    base[key] = value;
    base
}

/// No Patient was ever written (history does not depend on search).
async fn assert_no_patient_written(app: &TestApp, what: &str) {
    let history = app.get("Patient/_history").await;
    assert_eq!(
        history.body["total"], 0,
        "{what}: nothing may be stored: {}",
        history.body
    );
}

both_stores! {
    async fn malformed_json_is_400(app) {
        app.raw(
            Method::POST,
            "Patient",
            "application/fhir+json",
            r#"{"resourceType": "Patient","#,
        )
        .await
        .assert_outcome(400, "malformed JSON");
        app.raw(
            Method::PUT,
            "Patient/x",
            "application/fhir+json",
            "not json at all",
        )
        .await
        .assert_outcome(400, "a body that is not JSON");
        app.raw(Method::POST, "Patient", "application/fhir+json", "")
            .await
            .assert_outcome(400, "an empty body");
        app.raw(Method::POST, "Patient", "application/fhir+json", "[1, 2]")
            .await
            .assert_outcome(400, "a JSON array instead of a resource");
        assert_no_patient_written(&app, "malformed bodies").await;
    }

    async fn unknown_resource_type_in_the_url_is_404(app) {
        app.get("Patients/1")
            .await
            .assert_outcome(404, "read of an unknown type");
        app.get("Patients")
            .await
            .assert_outcome(404, "search of an unknown type");
        app.post("Patients", &json!({ "resourceType": "Patients" }))
            .await
            .assert_outcome(404, "create of an unknown type");
        app.get("DomainResource/1")
            .await
            .assert_outcome(404, "an abstract type is not a resource type");
    }

    async fn body_resource_type_differing_from_the_url_is_400(app) {
        let observation =
            json!({ "resourceType": "Observation", "status": "final", "code": { "text": "x" } });
        app.post("Patient", &observation)
            .await
            .assert_outcome(400, "an Observation posted to /Patient");
        app.put("Patient/x", &with(observation, "id", json!("x")))
            .await
            .assert_outcome(400, "an Observation put to /Patient/x");
        app.post("Patient", &json!({ "name": [{ "family": "NoType" }] }))
            .await
            .assert_outcome(400, "a body without resourceType");
        assert_no_patient_written(&app, "wrong resource types").await;
    }

    async fn invalid_resource_is_422_naming_the_path(app) {
        let cases = [
            (
                "a birthDate that is no date",
                with(patient(), "birthDate", json!("1990-13-45")),
                "Patient.birthDate",
            ),
            (
                "a gender outside its code list",
                with(patient(), "gender", json!("mal")),
                "Patient.gender",
            ),
            (
                "name given as an object, not an array",
                with(patient(), "name", json!({ "family": "X" })),
                "Patient.name",
            ),
            (
                "an element R4 does not define",
                with(patient(), "colour", json!("red")),
                "Patient.colour",
            ),
            (
                "active given as a string",
                with(patient(), "active", json!("yes")),
                "Patient.active",
            ),
        ];
        for (what, body, path) in cases {
            let answer = app.post("Patient", &body).await;
            answer.assert_outcome(422, what);
            let expressions = answer.expressions();
            assert!(
                expressions
                    .iter()
                    .any(|e| e == path || e.starts_with(&format!("{path}["))),
                "{what}: issue.expression names {path}, got {expressions:?} ({})",
                answer.diagnostics()
            );
        }
        let nested = app
            .post(
                "Patient",
                &with(
                    patient(),
                    "name",
                    json!([{ "family": "X", "nickname": "Y" }]),
                ),
            )
            .await;
        nested.assert_outcome(422, "an unknown nested element");
        assert!(
            nested
                .expressions()
                .iter()
                .any(|e| e == "Patient.name[0].nickname"),
            "the nested path is named: {:?}",
            nested.expressions()
        );
        let update = app
            .put(
                "Patient/p1",
                &with(with(patient(), "id", json!("p1")), "gender", json!("mal")),
            )
            .await;
        update.assert_outcome(422, "an invalid update");
        assert_no_patient_written(&app, "invalid resources").await;
    }

    async fn invalid_id_in_the_url_is_400(app) {
        let long = "x".repeat(65);
        app.put(
            &format!("Patient/{long}"),
            &with(patient(), "id", json!(long)),
        )
        .await
        .assert_outcome(400, "an id of 65 characters");
        app.put("Patient/a_b", &with(patient(), "id", json!("a_b")))
            .await
            .assert_outcome(400, "an id with an underscore");
    }

    async fn xml_content_type_is_415(app) {
        let xml = r#"<Patient xmlns="http://hl7.org/fhir"><gender value="male"/></Patient>"#;
        app.raw(Method::POST, "Patient", "application/fhir+xml", xml)
            .await
            .assert_outcome(415, "a FHIR XML body");
        app.raw(Method::PUT, "Patient/x", "application/xml", xml)
            .await
            .assert_outcome(415, "an XML body");
        assert_no_patient_written(&app, "XML bodies").await;
    }

    async fn unknown_route_is_404(app) {
        app.get("Patient/1/comments")
            .await
            .assert_outcome(404, "a path FHIR does not define");
        app.get("Patient/1/_history/1/more")
            .await
            .assert_outcome(404, "a path too deep");
    }

    async fn operator_endpoints_answer(app) {
        let health = app
            .send(app.client.get(format!("{}/healthz", app.root)))
            .await;
        assert_eq!(health.status, 200, "/healthz");
        let ready = app
            .send(app.client.get(format!("{}/readyz", app.root)))
            .await;
        assert_eq!(ready.status, 200, "/readyz: the store answers");
        app.get("Patient/missing").await;
        let metrics = app
            .send(app.client.get(format!("{}/metrics", app.root)))
            .await;
        assert_eq!(metrics.status, 200, "/metrics");
        let text = String::from_utf8_lossy(&metrics.raw);
        assert!(
            text.contains("carefront_http_requests_seconds"),
            "the request histogram: {text}"
        );
        assert!(
            text.contains(r#"carefront_http_requests_seconds_count{route="/fhir/{rtype}/{id}",method="GET",status="404"} 1"#),
            "the read of Patient/missing is counted by route template: {text}"
        );
        assert!(
            !text.contains("missing"),
            "no concrete URL reaches the metrics"
        );
    }

    async fn every_error_is_an_operation_outcome_in_fhir_json(app) {
        app.upsert(&json!({ "resourceType": "Patient", "id": "gone" }))
            .await;
        app.delete("Patient/gone").await;
        app.upsert(&json!({ "resourceType": "Patient", "id": "here" }))
            .await;
        let bad = r#"{"resourceType": "Patient""#;
        let cases: Vec<(&str, u16, Answer)> = vec![
            (
                "malformed JSON",
                400,
                app.raw(Method::POST, "Patient", "application/fhir+json", bad)
                    .await,
            ),
            ("unknown type", 404, app.get("Nothing/1").await),
            ("unknown id", 404, app.get("Patient/nobody").await),
            ("deleted", 410, app.get("Patient/gone").await),
            (
                "unknown version",
                404,
                app.get("Patient/here/_history/9").await,
            ),
            (
                "version not a number",
                404,
                app.get("Patient/here/_history/x").await,
            ),
            (
                "type mismatch",
                400,
                app.post(
                    "Patient",
                    &json!({ "resourceType": "Basic", "code": { "text": "x" } }),
                )
                .await,
            ),
            (
                "invalid",
                422,
                app.post("Patient", &with(patient(), "gender", json!("mal")))
                    .await,
            ),
            (
                "XML",
                415,
                app.raw(
                    Method::POST,
                    "Patient",
                    "application/fhir+xml",
                    "<Patient/>",
                )
                .await,
            ),
            ("unknown route", 404, app.get("Patient/here/extra").await),
            (
                "If-Match not a version",
                400,
                app.put_with(
                    "Patient/here",
                    &json!({ "resourceType": "Patient", "id": "here" }),
                    &[("if-match", "yesterday")],
                )
                .await,
            ),
            (
                "stale If-Match",
                412,
                app.put_with(
                    "Patient/here",
                    &json!({ "resourceType": "Patient", "id": "here" }),
                    &[("if-match", "W/\"7\"")],
                )
                .await,
            ),
            (
                "bad history parameter",
                400,
                app.get("Patient/_history?_count=many").await,
            ),
            (
                "unknown search parameter",
                400,
                app.get("Patient?nonsense=1").await,
            ),
            (
                "PATCH as fhir+json",
                415,
                app.patch("Patient/here", &json!([]), "application/fhir+json", &[])
                    .await,
            ),
            (
                "PATCH of a deleted resource",
                410,
                app.patch(
                    "Patient/gone",
                    &json!([]),
                    "application/json-patch+json",
                    &[],
                )
                .await,
            ),
            (
                "method not allowed",
                405,
                app.request(Method::DELETE, "metadata", &[], None).await,
            ),
            (
                "Bundle of the wrong type",
                400,
                app.post_bundle(&json!({ "resourceType": "Bundle", "type": "searchset" }))
                    .await,
            ),
        ];
        let mut failures = Vec::new();
        for (what, status, answer) in &cases {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                answer.assert_outcome(*status, what)
            }));
            if let Err(panic) = outcome {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default();
                failures.push(message);
            }
        }
        assert!(
            failures.is_empty(),
            "{} error answers are wrong:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}

async fn body_over_the_limit_is_413(backend: Backend) {
    let config = HttpConfig {
        max_body_bytes: 2048,
        ..HttpConfig::default()
    };
    let app = spawn_app_with(backend, config).await;
    let big = with(
        patient(),
        "text",
        json!({
            "status": "generated",
            "div": format!("<div xmlns=\"http://www.w3.org/1999/xhtml\">{}</div>", "x".repeat(4096))
        }),
    );
    app.post("Patient", &big)
        .await
        .assert_outcome(413, "a body over the limit");
    let bundle = json!({ "resourceType": "Bundle", "type": "transaction", "entry": [
        { "resource": big, "request": { "method": "POST", "url": "Patient" } }
    ] });
    app.post_bundle(&bundle)
        .await
        .assert_outcome(413, "a Bundle over the limit");
    let small = app.post("Patient", &patient()).await;
    assert_eq!(
        small.status,
        201,
        "a body under the limit is fine: {}",
        small.describe()
    );
}

mod body_over_the_limit_is_413 {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        body_over_the_limit_is_413(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        body_over_the_limit_is_413(Backend::Postgres).await;
    }
}
