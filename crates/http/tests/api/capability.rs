//! `GET /fhir/metadata`: the CapabilityStatement a client discovers the server with.

use serde_json::Value;

use crate::both_stores;

fn codes(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v[key].as_str().map(str::to_owned))
        .collect()
}

both_stores! {
    async fn metadata_is_an_r4_capability_statement(app) {
        let answer = app.get("metadata").await;
        assert_eq!(answer.status, 200, "{}", answer.describe());
        assert_eq!(answer.media_type(), "application/fhir+json");
        let cs = &answer.body;
        assert_eq!(cs["resourceType"], "CapabilityStatement");
        assert_eq!(cs["fhirVersion"], "4.0.1");
        assert_eq!(cs["kind"], "instance");
        assert!(
            cs["status"].is_string() && cs["date"].is_string(),
            "status and date are required"
        );
        let formats: Vec<&str> = cs["format"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        assert!(
            formats.iter().any(|f| f.contains("json")),
            "JSON is a listed format: {formats:?}"
        );

        let rest = &cs["rest"][0];
        assert_eq!(rest["mode"], "server");
        let system = codes(&rest["interaction"], "code");
        for interaction in ["transaction", "batch", "history-system"] {
            assert!(
                system.iter().any(|c| c == interaction),
                "system interaction {interaction}: {system:?}"
            );
        }

        let patient = rest["resource"]
            .as_array()
            .and_then(|r| r.iter().find(|r| r["type"] == "Patient"))
            .expect("Patient is listed");
        let interactions = codes(&patient["interaction"], "code");
        for interaction in [
            "read",
            "vread",
            "update",
            "patch",
            "delete",
            "history-instance",
            "history-type",
            "create",
            "search-type",
        ] {
            assert!(
                interactions.iter().any(|c| c == interaction),
                "Patient {interaction}: {interactions:?}"
            );
        }
        let params: Vec<(String, String)> = patient["searchParam"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| {
                (
                    p["name"].as_str().unwrap_or("").to_owned(),
                    p["type"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect();
        for (name, kind) in [
            ("family", "string"),
            ("birthdate", "date"),
            ("identifier", "token"),
            ("gender", "token"),
            ("organization", "reference"),
        ] {
            assert!(
                params.iter().any(|(n, k)| n == name && k == kind),
                "Patient search parameter {name} of type {kind}: {params:?}"
            );
        }
        let observation = rest["resource"]
            .as_array()
            .and_then(|r| r.iter().find(|r| r["type"] == "Observation"))
            .expect("Observation is listed");
        let obs_params = codes(&observation["searchParam"], "name");
        for name in ["code", "subject", "patient", "date", "value-quantity"] {
            assert!(
                obs_params.iter().any(|n| n == name),
                "Observation search parameter {name}: {obs_params:?}"
            );
        }
    }
}
