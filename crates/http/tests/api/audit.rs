//! Every `/fhir` interaction leaves one entry in the hash-chained audit log.

use carefront_store::tables::audit::{self, AuditEntry, AuditFilter};
use serde_json::json;

use crate::both_stores;
use crate::helpers::{session_for, transaction, TestApp};

/// The audit log, oldest first, once the sink has written what it holds.
pub async fn audit_log(app: &TestApp) -> Vec<AuditEntry> {
    app.state.audit.flush().await;
    let store = app.state.repo.store().as_ref();
    let mut entries: Vec<AuditEntry> = audit::list(store, &AuditFilter::default(), 10_000, 0)
        .await
        .expect("list the audit log")
        .into_iter()
        .map(|c| c.entry)
        .collect();
    entries.reverse();
    entries
}

/// The one entry for `action` on `Type/id` (or the type alone).
fn the_entry<'a>(
    log: &'a [AuditEntry],
    action: &str,
    rtype: &str,
    id: Option<&str>,
) -> &'a AuditEntry {
    let found: Vec<&AuditEntry> = log
        .iter()
        .filter(|e| {
            e.action == action
                && e.resource_type.as_deref() == Some(rtype)
                && e.resource_id.as_deref() == id
        })
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one {action} entry for {rtype}/{id:?} expected in {log:#?}"
    );
    found[0]
}

fn assert_entry(e: &AuditEntry, outcome: &str, status: u16) {
    assert_eq!(e.outcome, outcome, "{e:?}");
    assert_eq!(e.detail, status.to_string(), "{e:?}");
    assert_eq!(e.source, "127.0.0.1", "the peer address: {e:?}");
    // The helpers' `system/*.*` client, as the authentication layer found it.
    assert_eq!(e.actor, "client:tests", "{e:?}");
    assert_eq!(e.actor_role, "system", "{e:?}");
    assert!(
        e.at > 1_600_000_000_000_000,
        "microseconds since the epoch: {e:?}"
    );
}

both_stores! {
    async fn reads_searches_writes_and_failures_are_audited(app) {
        let created = app
            .create(&json!({"resourceType": "Patient", "name": [{"family": "Zanzibarová"}]}))
            .await;
        let id = created["id"].as_str().expect("id").to_owned();
        assert_eq!(app.get(&format!("Patient/{id}")).await.status, 200);
        let searched = app
            .find("Patient", &[("family", "Zanzibarová"), ("birthdate", "1970-01-02")])
            .await;
        assert_eq!(searched.status, 200, "{}", searched.describe());
        let mut updated = created.clone();
        updated["gender"] = json!("female");
        assert_eq!(app.put(&format!("Patient/{id}"), &updated).await.status, 200);
        assert_eq!(app.get("Patient/no-such-patient").await.status, 404);
        assert_eq!(app.get(&format!("Patient/{id}/_history/1")).await.status, 200);

        let log = audit_log(&app).await;
        assert_entry(the_entry(&log, "create", "Patient", Some(&id)), "success", 201);
        assert_entry(the_entry(&log, "read", "Patient", Some(&id)), "success", 200);
        assert_entry(the_entry(&log, "search", "Patient", None), "success", 200);
        assert_entry(the_entry(&log, "update", "Patient", Some(&id)), "success", 200);
        assert_entry(the_entry(&log, "vread", "Patient", Some(&id)), "success", 200);
        assert_entry(
            the_entry(&log, "read", "Patient", Some("no-such-patient")),
            "not-found",
            404,
        );
        assert_eq!(log.len(), 6, "one entry per interaction: {log:#?}");
        // In the order they happened.
        let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["create", "read", "search", "update", "read", "vread"]);
        // The query string (names, birth dates) is never recorded.
        let everything = format!("{log:?}");
        for secret in ["Zanzibar", "1970", "family", "birthdate"] {
            assert!(!everything.contains(secret), "{secret} leaked into {everything}");
        }
    }

    async fn bundles_invalid_writes_and_the_capability_statement_are_audited(app) {
        let bundle = transaction(vec![json!({
            "resource": {"resourceType": "Patient", "active": true},
            "request": {"method": "POST", "url": "Patient"},
        })]);
        assert_eq!(app.post_bundle(&bundle).await.status, 200);
        let invalid = app.post("Patient", &json!({"resourceType": "Patient", "gender": 7})).await;
        assert_eq!(invalid.status, 422, "{}", invalid.describe());
        assert_eq!(app.get("metadata").await.status, 200);
        let no_token = reqwest::Client::new().get(app.url("Patient/p1")).send().await.unwrap();
        assert_eq!(no_token.status(), 401);

        let log = audit_log(&app).await;
        let actions: Vec<(&str, &str, &str)> = log
            .iter()
            .map(|e| (e.action.as_str(), e.outcome.as_str(), e.detail.as_str()))
            .collect();
        assert_eq!(
            actions,
            [
                ("transaction", "success", "200"),
                ("create", "invalid", "422"),
                ("capabilities", "success", "200"),
                ("read", "denied", "401"),
            ]
        );
        let denied = log.last().unwrap();
        assert_eq!(denied.actor, "anonymous", "{denied:?}");
        assert_eq!(denied.resource_id.as_deref(), Some("p1"));
    }

    async fn the_audit_chain_verifies(app) {
        for i in 0..30 {
            assert_eq!(app.get(&format!("Patient/p{i}")).await.status, 404);
        }
        let log = audit_log(&app).await;
        assert_eq!(log.len(), 30);
        let checked = audit::verify(app.state.repo.store().as_ref())
            .await
            .expect("verify");
        assert_eq!(checked.entries, 30);
        assert_eq!(checked.first_broken, None);
    }

    async fn pages_audit_the_patient_records_they_read(app) {
        app.upsert(&json!({"resourceType": "Patient", "id": "pa",
            "name": [{"family": "Lovelace", "given": ["Ada"]}]}))
            .await;
        let cookie = session_for(&app, "patient", Some("Patient/pa")).await;
        let me = app.as_user(&cookie);
        let page = me
            .client
            .get(format!("{}/account", app.root))
            .send()
            .await
            .expect("profile page");
        assert_eq!(page.status().as_u16(), 200);
        assert!(page.text().await.unwrap().contains("Lovelace"));
        let log = audit_log(&app).await;
        let read = log
            .iter()
            .find(|e| e.detail == "web page" && e.action == "read")
            .unwrap_or_else(|| panic!("the profile read is audited: {log:#?}"));
        assert_eq!(read.resource_type.as_deref(), Some("Patient"));
        assert_eq!(read.resource_id.as_deref(), Some("pa"));
        assert_eq!(read.actor_role, "patient");
        assert!(read.actor.starts_with("account:"));
        assert_eq!(read.outcome, "success");
    }

}
