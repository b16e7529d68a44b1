//! Conditional create, update and delete, and what concurrent writers see.

use std::collections::HashSet;

use futures_util::future::join_all;
use serde_json::{json, Value};

use crate::both_stores;
use crate::helpers::{entries, query, TestApp};

const SYSTEM: &str = "http://hospital.example.org/mrn";

fn patient_with_mrn(mrn: &str, family: &str) -> Value {
    json!({
        "resourceType": "Patient",
        "identifier": [{ "system": SYSTEM, "value": mrn }],
        "name": [{ "family": family }]
    })
}

fn mrn_criteria(mrn: &str) -> String {
    query(&[("identifier", &format!("{SYSTEM}|{mrn}"))])
}

/// Ids of the Patients with this MRN, found by search.
async fn patients_with_mrn(app: &TestApp, mrn: &str) -> Vec<String> {
    app.find_ids("Patient", &[("identifier", &format!("{SYSTEM}|{mrn}"))])
        .await
}

both_stores! {
    async fn if_none_exist_returns_the_existing_resource_without_a_duplicate(app) {
        let first = app
            .post_with(
                "Patient",
                &patient_with_mrn("1001", "Original"),
                &[("if-none-exist", &mrn_criteria("1001"))],
            )
            .await;
        assert_eq!(
            first.status,
            201,
            "nothing matched yet, so it is created: {}",
            first.describe()
        );
        let id = first.body["id"].as_str().expect("id").to_owned();
        let second = app
            .post_with(
                "Patient",
                &patient_with_mrn("1001", "Duplicate"),
                &[("if-none-exist", &mrn_criteria("1001"))],
            )
            .await;
        assert_eq!(
            second.status,
            200,
            "one match: the create is skipped: {}",
            second.describe()
        );
        if second.body.is_object() {
            assert_eq!(
                second.body["id"],
                id.as_str(),
                "the existing resource is returned"
            );
        }
        assert_eq!(
            patients_with_mrn(&app, "1001").await,
            vec![id.clone()],
            "no duplicate"
        );
        let read = app.get(&format!("Patient/{id}")).await;
        assert_eq!(
            read.body["name"][0]["family"], "Original",
            "the existing one is unchanged"
        );
        assert_eq!(read.header("etag"), Some("W/\"1\""));
    }

    async fn if_none_exist_ignores_deleted_resources(app) {
        let first = app.create(&patient_with_mrn("1501", "Deleted")).await;
        let id = first["id"].as_str().unwrap();
        assert_eq!(app.delete(&format!("Patient/{id}")).await.status, 204);
        let again = app
            .post_with(
                "Patient",
                &patient_with_mrn("1501", "New"),
                &[("if-none-exist", &mrn_criteria("1501"))],
            )
            .await;
        assert_eq!(
            again.status,
            201,
            "the only match was deleted, so a new Patient is made: {}",
            again.describe()
        );
        assert_ne!(again.body["id"], id);
    }

    async fn if_none_exist_with_several_matches_is_412(app) {
        app.create(&patient_with_mrn("2002", "A")).await;
        app.create(&patient_with_mrn("2002", "B")).await;
        app.post_with(
            "Patient",
            &patient_with_mrn("2002", "C"),
            &[("if-none-exist", &mrn_criteria("2002"))],
        )
        .await
        .assert_outcome(412, "If-None-Exist matching two Patients");
        assert_eq!(
            patients_with_mrn(&app, "2002").await.len(),
            2,
            "nothing was created"
        );
    }

    async fn conditional_update_creates_then_updates_the_match(app) {
        let url = format!("Patient?{}", mrn_criteria("3003"));
        let created = app.put(&url, &patient_with_mrn("3003", "First")).await;
        assert_eq!(
            created.status,
            201,
            "no match: the resource is created: {}",
            created.describe()
        );
        let id = created.body["id"].as_str().expect("id").to_owned();
        let updated = app.put(&url, &patient_with_mrn("3003", "Second")).await;
        assert_eq!(
            updated.status,
            200,
            "one match: it is updated: {}",
            updated.describe()
        );
        assert_eq!(updated.body["id"], id.as_str(), "the match keeps its id");
        assert_eq!(updated.header("etag"), Some("W/\"2\""));
        let read = app.get(&format!("Patient/{id}")).await;
        assert_eq!(read.body["name"][0]["family"], "Second");
        assert_eq!(patients_with_mrn(&app, "3003").await, [id]);
    }

    async fn conditional_update_with_several_matches_is_412(app) {
        app.create(&patient_with_mrn("4004", "A")).await;
        app.create(&patient_with_mrn("4004", "B")).await;
        app.put(
            &format!("Patient?{}", mrn_criteria("4004")),
            &patient_with_mrn("4004", "C"),
        )
        .await
        .assert_outcome(412, "conditional update matching two Patients");
        let families: HashSet<String> = entries(
            &app.find("Patient", &[("identifier", &format!("{SYSTEM}|4004"))])
                .await
                .body,
        )
        .iter()
        .filter_map(|e| {
            e["resource"]["name"][0]["family"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
        assert_eq!(
            families,
            HashSet::from(["A".to_owned(), "B".to_owned()]),
            "nothing changed"
        );
    }

    async fn conditional_delete_removes_the_single_match(app) {
        let keep = app.create(&patient_with_mrn("5005", "Keep")).await;
        let gone = app.create(&patient_with_mrn("5006", "Gone")).await;
        let answer = app
            .delete(&format!("Patient?{}", mrn_criteria("5006")))
            .await;
        assert!(
            answer.status == 200 || answer.status == 204,
            "conditional delete of one match: {}",
            answer.describe()
        );
        let gone_id = gone["id"].as_str().unwrap();
        assert_eq!(
            app.get(&format!("Patient/{gone_id}")).await.status,
            410,
            "the match is deleted"
        );
        let keep_id = keep["id"].as_str().unwrap();
        assert_eq!(
            app.get(&format!("Patient/{keep_id}")).await.status,
            200,
            "others are kept"
        );
        assert!(patients_with_mrn(&app, "5006").await.is_empty());
    }

    async fn conditional_delete_with_several_matches_is_412(app) {
        app.create(&patient_with_mrn("6006", "A")).await;
        app.create(&patient_with_mrn("6006", "B")).await;
        app.delete(&format!("Patient?{}", mrn_criteria("6006")))
            .await
            .assert_outcome(412, "conditional delete matching two Patients");
        assert_eq!(
            patients_with_mrn(&app, "6006").await.len(),
            2,
            "nothing was deleted"
        );
    }

    async fn racing_conditional_creates_make_exactly_one_resource(app) {
        let criteria = mrn_criteria("7007");
        let answers = join_all((0..24).map(|i| {
            let app = &app;
            let criteria = criteria.clone();
            async move {
                app.post_with(
                    "Patient",
                    &patient_with_mrn("7007", &format!("Racer{i}")),
                    &[("if-none-exist", &criteria)],
                )
                .await
            }
        }))
        .await;
        let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
        for answer in &answers {
            assert!(
                answer.status == 200 || answer.status == 201,
                "every racer is answered 200 or 201 ({statuses:?}): {}",
                answer.describe()
            );
        }
        assert_eq!(
            statuses.iter().filter(|s| **s == 201).count(),
            1,
            "exactly one racer created the Patient: {statuses:?}"
        );
        let ids: HashSet<String> = answers
            .iter()
            .filter_map(|a| a.body["id"].as_str().map(str::to_owned))
            .collect();
        assert_eq!(
            ids.len(),
            1,
            "every racer was given the same Patient: {ids:?}"
        );
        let history = app.get("Patient/_history").await;
        assert_eq!(
            history.body["total"], 1,
            "one Patient version was ever written"
        );
        assert_eq!(
            patients_with_mrn(&app, "7007").await.len(),
            1,
            "one Patient exists"
        );
    }
}

both_stores! {
    async fn concurrent_updates_with_the_same_if_match_let_exactly_one_win(app) {
        for round in 0..5 {
            let id = format!("race-{round}");
            let mut body = patient_with_mrn("8008", "Start");
            body["id"] = json!(id);
            app.upsert(&body).await;
            let puts = (0..2).map(|writer| {
                let mut body = body.clone();
                body["name"][0]["family"] = json!(format!("Writer{writer}"));
                let (app, id) = (&app, id.clone());
                async move {
                    app.put_with(&format!("Patient/{id}"), &body, &[("if-match", "W/\"1\"")])
                        .await
                }
            });
            let answers = join_all(puts).await;
            let mut statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
            statuses.sort();
            assert_eq!(
                statuses,
                [200, 412],
                "round {round}: one update wins, the other fails its precondition ({})",
                answers
                    .iter()
                    .map(|a| a.describe())
                    .collect::<Vec<_>>()
                    .join(" / ")
            );
            let winner = answers.iter().find(|a| a.status == 200).unwrap();
            let read = app.get(&format!("Patient/{id}")).await;
            assert_eq!(
                read.header("etag"),
                Some("W/\"2\""),
                "round {round}: one new version"
            );
            assert_eq!(
                read.body["name"], winner.body["name"],
                "round {round}: the winner's content"
            );
        }
    }

    async fn concurrent_updates_without_if_match_lose_no_version(app) {
        app.upsert(
            &json!({ "resourceType": "Patient", "id": "busy", "name": [{ "family": "Start" }] }),
        )
        .await;
        let writers = 20;
        let answers = join_all((0..writers).map(|w| {
            let app = &app;
            async move {
                let body = json!({
                    "resourceType": "Patient",
                    "id": "busy",
                    "name": [{ "family": format!("Writer{w}") }]
                });
                app.put("Patient/busy", &body).await
            }
        }))
        .await;
        let failed: Vec<String> = answers
            .iter()
            .filter(|a| a.status != 200)
            .map(|a| a.describe())
            .collect();
        assert!(
            failed.is_empty(),
            "every update succeeds, but {} of {writers} failed: {}",
            failed.len(),
            failed.join(" / ")
        );
        let mut versions: Vec<i64> = answers
            .iter()
            .filter_map(|a| {
                a.body["meta"]["versionId"]
                    .as_str()
                    .and_then(|v| v.parse().ok())
            })
            .collect();
        versions.sort();
        assert_eq!(
            versions,
            (2..=21).collect::<Vec<_>>(),
            "each update got its own version"
        );

        let read = app.get("Patient/busy").await;
        assert_eq!(
            read.header("etag"),
            Some("W/\"21\""),
            "20 updates after version 1"
        );
        let history = app.get("Patient/busy/_history?_count=100").await;
        assert_eq!(history.status, 200, "{}", history.describe());
        let mut in_history: Vec<i64> = entries(&history.body)
            .iter()
            .filter_map(|e| {
                e["resource"]["meta"]["versionId"]
                    .as_str()
                    .and_then(|v| v.parse().ok())
            })
            .collect();
        in_history.sort();
        assert_eq!(
            in_history,
            (1..=21).collect::<Vec<_>>(),
            "versions 1 to 21, none missing"
        );
        let families: HashSet<String> = entries(&history.body)
            .iter()
            .filter_map(|e| {
                e["resource"]["name"][0]["family"]
                    .as_str()
                    .map(str::to_owned)
            })
            .collect();
        for w in 0..writers {
            assert!(
                families.contains(&format!("Writer{w}")),
                "Writer{w}'s update is in the history"
            );
        }
    }
}
