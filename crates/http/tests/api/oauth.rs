//! `POST /oauth2/token` (client credentials) and bearer tokens on `/fhir`.

use carefront_store::tables::clients;
use serde_json::{json, Value};

use crate::both_stores;
use crate::helpers::{client_with, TestApp};

/// Register a client with `scopes`; returns its secret.
async fn register(app: &TestApp, id: &str, scopes: &str) -> String {
    clients::register(app.state.repo.store().as_ref(), id, "feed", scopes, 0)
        .await
        .expect("register")
}

async fn token_request(
    app: &TestApp,
    form: &[(&str, &str)],
    basic: Option<(&str, &str)>,
) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{}/oauth2/token", app.root))
        .form(form);
    if let Some((id, secret)) = basic {
        request = request.basic_auth(id, Some(secret));
    }
    let response = request.send().await.expect("sent");
    let status = response.status().as_u16();
    assert_eq!(
        response
            .headers()
            .get("cache-control")
            .map(|v| v.to_str().unwrap()),
        Some("no-store")
    );
    (status, response.json().await.unwrap_or(Value::Null))
}

fn bearer(app: &TestApp, token: &str) -> TestApp {
    app.with_client(client_with(&[(
        "authorization",
        &format!("Bearer {token}"),
    )]))
}

both_stores! {
    async fn issues_a_token_that_opens_the_fhir_api(app) {
        let secret = register(&app, "lab", "system/Patient.read system/Observation.cru").await;
        let (status, body) = token_request(&app, &[
            ("grant_type", "client_credentials"),
            ("client_id", "lab"),
            ("client_secret", &secret),
        ], None).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["token_type"], "bearer");
        assert_eq!(body["expires_in"], 3600);
        assert_eq!(body["scope"], "system/Patient.read system/Observation.cru");
        let lab = bearer(&app, body["access_token"].as_str().unwrap());
        let patient = app.create(&json!({"resourceType": "Patient"})).await;
        let id = patient["id"].as_str().unwrap();
        assert_eq!(lab.get(&format!("Patient/{id}")).await.status, 200);
        assert_eq!(lab.get("Patient?_count=1").await.status, 200);
        // Registered for reads of Patient only.
        lab.put(&format!("Patient/{id}"), &patient).await.assert_outcome(403, "no write scope");
        lab.get("Condition").await.assert_outcome(403, "no Condition scope");
        lab.get("_history").await.assert_outcome(403, "system history needs system/*");
    }

    async fn basic_auth_and_scope_narrowing(app) {
        let secret = register(&app, "feed", "system/*.*").await;
        let (status, body) = token_request(
            &app,
            &[("grant_type", "client_credentials"), ("scope", "system/Patient.rs")],
            Some(("feed", &secret)),
        ).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["scope"], "system/Patient.rs");
        let narrow = bearer(&app, body["access_token"].as_str().unwrap());
        assert_eq!(narrow.get("Patient").await.status, 200);
        narrow.post("Patient", &json!({"resourceType": "Patient"})).await
            .assert_outcome(403, "the token was narrowed to reads");

        let reader = register(&app, "reader", "system/Patient.read").await;
        let (status, body) = token_request(
            &app,
            &[("grant_type", "client_credentials"), ("scope", "system/Patient.write")],
            Some(("reader", &reader)),
        ).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_scope")));
        let (status, body) = token_request(
            &app,
            &[("grant_type", "client_credentials"), ("scope", "system/Nonsense.read")],
            Some(("reader", &reader)),
        ).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_scope")));
    }

    async fn refuses_bad_credentials_and_grants(app) {
        let secret = register(&app, "lab", "system/*.read").await;
        for (form, basic) in [
            (vec![("grant_type", "client_credentials"), ("client_id", "lab"), ("client_secret", "wrong")], None),
            (vec![("grant_type", "client_credentials"), ("client_id", "nobody"), ("client_secret", secret.as_str())], None),
            (vec![("grant_type", "client_credentials")], Some(("lab", "wrong"))),
            (vec![("grant_type", "client_credentials")], None),
        ] {
            let (status, body) = token_request(&app, &form, basic).await;
            assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")), "{form:?}");
        }
        let (status, body) = token_request(&app, &[
            ("grant_type", "password"), ("client_id", "lab"), ("client_secret", &secret),
        ], None).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("unsupported_grant_type")));
        let (status, body) = token_request(&app, &[("client_id", "lab")], None).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")));
    }

    async fn unknown_and_expired_tokens_are_401(app) {
        register(&app, "old", "system/*.*").await;
        let store = app.state.repo.store().as_ref();
        let expired = clients::issue_token(store, "old", "system/*.*", 1).await.unwrap();
        for token in [expired.as_str(), "not-a-token"] {
            let answer = bearer(&app, token).get("Patient").await;
            answer.assert_outcome(401, "a dead token");
            assert_eq!(answer.header("www-authenticate"), Some("Bearer error=\"invalid_token\""));
        }
        let anonymous = app.anonymous().get("Patient").await;
        anonymous.assert_outcome(401, "no credentials");
        assert_eq!(anonymous.body["issue"][0]["code"], "login");
        assert_eq!(anonymous.header("www-authenticate"), Some("Bearer"));
        // The CapabilityStatement stays public.
        assert_eq!(app.anonymous().get("metadata").await.status, 200);
    }
}
