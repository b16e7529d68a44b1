//! History: instance, type and system level, `_count` paging and `_since`.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::{json, Value};

use crate::both_stores;
use crate::helpers::{entries, link, query, TestApp};

fn patient(id: &str, family: &str) -> Value {
    json!({ "resourceType": "Patient", "id": id, "name": [{ "family": family }] })
}

/// The version of a history entry: its resource's `meta.versionId`, or for a deletion
/// (no resource) the version in `response.etag`.
fn entry_version(entry: &Value) -> String {
    if let Some(v) = entry["resource"]["meta"]["versionId"].as_str() {
        return v.to_owned();
    }
    entry["response"]["etag"]
        .as_str()
        .map(|t| t.trim_start_matches("W/").trim_matches('"').to_owned())
        .unwrap_or_else(|| panic!("a history entry without a version: {entry}"))
}

/// GET a history URL, asserting a 200 history Bundle.
async fn history(app: &TestApp, path: &str) -> Value {
    let answer = app.get(path).await;
    assert_eq!(answer.status, 200, "GET {path}: {}", answer.describe());
    assert_eq!(answer.body["resourceType"], "Bundle");
    assert_eq!(
        answer.body["type"], "history",
        "GET {path} answers a history Bundle"
    );
    answer.body
}

/// create (v1), update (v2), delete (v3) of `Patient/{id}`.
async fn create_update_delete(app: &TestApp, id: &str) {
    app.upsert(&patient(id, "First")).await;
    app.upsert(&patient(id, "Second")).await;
    assert_eq!(app.delete(&format!("Patient/{id}")).await.status, 204);
}

both_stores! {
    async fn instance_history_lists_every_version_newest_first_with_the_delete(app) {
        create_update_delete(&app, "h1").await;
        let bundle = history(&app, "Patient/h1/_history").await;
        let entries = entries(&bundle);
        let versions: Vec<String> = entries.iter().map(entry_version).collect();
        assert_eq!(versions, ["3", "2", "1"], "newest first: {bundle}");
        assert_eq!(bundle["total"], 3);

        let deletion = &entries[0];
        assert_eq!(deletion["request"]["method"], "DELETE", "{deletion}");
        assert_eq!(deletion["request"]["url"], "Patient/h1");
        assert!(
            deletion.get("resource").is_none(),
            "a deletion has no resource: {deletion}"
        );

        assert_eq!(entries[1]["request"]["method"], "PUT");
        assert_eq!(entries[1]["resource"]["name"][0]["family"], "Second");
        assert_eq!(
            entries[2]["request"]["method"], "PUT",
            "the first version came from a PUT"
        );
        assert_eq!(entries[2]["resource"]["name"][0]["family"], "First");
        for entry in &entries {
            assert!(
                entry["fullUrl"]
                    .as_str()
                    .is_some_and(|u| u.ends_with("/Patient/h1")),
                "fullUrl names the resource: {entry}"
            );
            assert!(
                entry["response"]["status"].is_string(),
                "entry.response.status: {entry}"
            );
        }
    }

    async fn instance_history_records_post_and_patch(app) {
        let created = app
            .create(&json!({ "resourceType": "Patient", "gender": "male" }))
            .await;
        let id = created["id"].as_str().unwrap();
        let patch = json!([{ "op": "replace", "path": "/gender", "value": "female" }]);
        let patched = app
            .patch(
                &format!("Patient/{id}"),
                &patch,
                "application/json-patch+json",
                &[],
            )
            .await;
        assert_eq!(patched.status, 200, "{}", patched.describe());
        let bundle = history(&app, &format!("Patient/{id}/_history")).await;
        let methods: Vec<&str> = bundle["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["request"]["method"].as_str().unwrap_or(""))
            .collect();
        assert_eq!(methods, ["PATCH", "POST"], "{bundle}");
        assert_eq!(bundle["entry"][1]["request"]["url"], "Patient");
    }

    async fn history_of_an_unknown_resource_is_404(app) {
        app.get("Patient/nobody/_history")
            .await
            .assert_outcome(404, "history of an unknown resource");
    }

    async fn type_history_lists_the_versions_of_that_type_only(app) {
        app.upsert(&patient("t1", "A")).await;
        app.upsert(&patient("t1", "B")).await;
        app.upsert(&patient("t2", "C")).await;
        app.create(&json!({
            "resourceType": "Observation", "status": "final", "code": { "text": "x" }
        }))
        .await;
        let bundle = history(&app, "Patient/_history").await;
        assert_eq!(bundle["total"], 3, "{bundle}");
        let seen: Vec<(String, String)> = entries(&bundle)
            .iter()
            .map(|e| {
                (
                    e["resource"]["id"].as_str().unwrap_or("").to_owned(),
                    entry_version(e),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                ("t2".to_owned(), "1".to_owned()),
                ("t1".into(), "2".into()),
                ("t1".into(), "1".into())
            ],
            "newest first, Patients only"
        );
        let observations = history(&app, "Observation/_history").await;
        assert_eq!(observations["total"], 1);
    }

    async fn system_history_lists_every_type(app) {
        app.upsert(&patient("s1", "A")).await;
        app.create(&json!({
            "resourceType": "Observation", "status": "final", "code": { "text": "x" }
        }))
        .await;
        app.upsert(&json!({ "resourceType": "Organization", "id": "o1", "name": "Acme" }))
            .await;
        assert_eq!(app.delete("Organization/o1").await.status, 204);
        let bundle = history(&app, "_history").await;
        assert_eq!(bundle["total"], 4, "{bundle}");
        let kinds: Vec<String> = entries(&bundle)
            .iter()
            .map(|e| {
                format!(
                    "{} {}",
                    e["request"]["method"].as_str().unwrap_or(""),
                    e["request"]["url"].as_str().unwrap_or("")
                )
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "DELETE Organization/o1",
                "PUT Organization/o1",
                "POST Observation",
                "PUT Patient/s1"
            ]
        );
    }

    async fn history_count_pages_through_next_links(app) {
        for family in ["A", "B", "C", "D", "E"] {
            app.upsert(&patient("paged", family)).await;
        }
        let first = history(&app, "Patient/paged/_history?_count=2").await;
        assert_eq!(
            entries(&first).len(),
            2,
            "_count=2 gives 2 entries: {first}"
        );
        assert_eq!(first["total"], 5, "total counts all versions, not the page");
        let mut versions: Vec<String> = entries(&first).iter().map(entry_version).collect();
        let mut next = link(&first, "next");
        let mut pages = 1;
        while let Some(url) = next {
            pages += 1;
            assert!(pages <= 5, "the next links never end");
            let page = app.get_absolute(&url).await;
            assert_eq!(page.status, 200, "GET {url}: {}", page.describe());
            assert!(
                entries(&page.body).len() <= 2,
                "every page honours _count=2"
            );
            versions.extend(entries(&page.body).iter().map(entry_version));
            next = link(&page.body, "next");
        }
        assert_eq!(pages, 3);
        assert_eq!(
            versions,
            ["5", "4", "3", "2", "1"],
            "every version once, newest first"
        );
    }

    async fn history_since_leaves_out_older_versions(app) {
        app.upsert(&patient("since", "A")).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        let v2 = app.upsert(&patient("since", "B")).await;
        app.upsert(&patient("since", "C")).await;
        let since = v2["meta"]["lastUpdated"]
            .as_str()
            .expect("meta.lastUpdated")
            .to_owned();
        let bundle = history(
            &app,
            &format!("Patient/since/_history?{}", query(&[("_since", &since)])),
        )
        .await;
        let versions: Vec<String> = entries(&bundle).iter().map(entry_version).collect();
        assert_eq!(
            versions,
            ["3", "2"],
            "_since={since} includes versions at or after it"
        );
        let all: HashSet<String> =
            entries(&history(&app, &format!("_history?{}", query(&[("_since", &since)]))).await)
                .iter()
                .map(entry_version)
                .collect();
        assert_eq!(
            all,
            HashSet::from(["3".to_owned(), "2".to_owned()]),
            "system history too"
        );
        let future = history(&app, "Patient/since/_history?_since=2999-01-01T00:00:00Z").await;
        assert!(
            entries(&future).is_empty(),
            "nothing was written after 2999: {future}"
        );
    }

    async fn history_with_an_unknown_parameter_is_400(app) {
        app.upsert(&patient("bad", "A")).await;
        app.get("Patient/bad/_history?_sincee=2020-01-01")
            .await
            .assert_outcome(400, "history with a misspelt parameter");
        app.get("Patient/bad/_history?_since=yesterday")
            .await
            .assert_outcome(400, "history with a _since that is not an instant");
    }
}
