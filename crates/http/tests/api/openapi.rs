//! `GET /api/openapi.json`: one OpenAPI document describing every JSON API under `/api/`
//! (triage, booking, messaging, on-demand, live updates) with their key schemas and how to
//! authenticate, on SQLite and PostgreSQL.

use std::collections::BTreeSet;

use crate::both_stores;

/// Every route under `/api/` the router serves, as (method, path). Adding one to the router
/// means describing it and adding it here.
const API_ROUTES: &[(&str, &str)] = &[
    ("get", "/api/openapi.json"),
    ("get", "/api/live"),
    ("get", "/api/triage/complaints"),
    ("post", "/api/triage/interviews"),
    ("get", "/api/triage/interviews/{id}"),
    ("post", "/api/triage/interviews/{id}/answers"),
    ("get", "/api/triage/queue"),
    ("post", "/api/triage/assessments/{id}/retriage"),
    ("post", "/api/triage/assessments/{id}/review"),
    ("get", "/api/booking/slots"),
    ("post", "/api/booking/holds"),
    ("get", "/api/booking/appointments"),
    ("post", "/api/booking/appointments"),
    ("post", "/api/booking/appointments/{id}/cancel"),
    ("post", "/api/booking/appointments/{id}/reschedule"),
    ("post", "/api/booking/appointments/{id}/mark"),
    ("post", "/api/booking/waitlist"),
    ("put", "/api/booking/schedules/{id}"),
    ("get", "/api/messages/threads"),
    ("post", "/api/messages/threads"),
    ("get", "/api/messages/threads/{id}"),
    ("post", "/api/messages/threads/{id}/messages"),
    ("get", "/api/messages/threads/{id}/files/{file}"),
    ("get", "/api/messages/unread"),
    ("get", "/api/messages/response-times"),
    ("post", "/api/ondemand/join"),
    ("get", "/api/ondemand/me"),
    ("get", "/api/ondemand/entries/{id}"),
    ("post", "/api/ondemand/entries/{id}/leave"),
    ("get", "/api/ondemand/queue"),
    ("post", "/api/ondemand/take"),
];

both_stores! {
    async fn the_api_is_described_in_openapi(app) {
        let anonymous = app.anonymous();
        let doc = anonymous.send(anonymous.client.get(format!("{}/api/openapi.json", app.root))).await;
        doc.assert_status(200);
        let doc = doc.body;

        // Exactly the routes the router serves, each with its method.
        let described: BTreeSet<(String, String)> = doc["paths"]
            .as_object()
            .unwrap()
            .iter()
            .flat_map(|(path, item)| {
                item.as_object().unwrap().keys().map(move |method| (method.clone(), path.clone()))
            })
            .collect();
        let served: BTreeSet<(String, String)> =
            API_ROUTES.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
        assert_eq!(described, served);

        // The list is the router's: each route is there (and asks who is calling).
        for (method, path) in API_ROUTES {
            let url = format!("{}{}", app.root, path.replace("{id}", "x").replace("{file}", "f"));
            let method: reqwest::Method = method.to_uppercase().parse().unwrap();
            let answer = anonymous.send(anonymous.client.request(method.clone(), url)).await;
            let expected = if *path == "/api/openapi.json" { 200 } else { 401 };
            assert_eq!(answer.status, expected, "{method} {path}: {}", answer.body);
        }

        // A tag per area, every operation in one of them.
        let tags: BTreeSet<&str> =
            doc["tags"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
        for tag in ["triage", "booking", "messaging", "ondemand", "live"] {
            assert!(tags.contains(tag), "tag {tag} missing");
        }
        let path = |p: &str, m: &str| &doc["paths"][p][m];
        for (method, p) in API_ROUTES {
            let tag = path(p, method)["tags"][0].as_str().unwrap_or_default();
            assert!(tags.contains(tag), "{method} {p} has no known tag");
        }

        // How to authenticate: a bearer token from /oauth2/token, or the session cookie.
        let description = doc["info"]["description"].as_str().unwrap();
        assert!(description.contains("/oauth2/token") && description.contains("cookie"), "{description}");
        let schemes = &doc["components"]["securitySchemes"];
        assert_eq!(schemes["bearer"]["scheme"], "bearer");
        assert_eq!(schemes["session"]["in"], "cookie");
        assert_eq!(schemes["session"]["name"], "cf_session");
        assert_eq!(path("/api/openapi.json", "get")["security"], serde_json::json!([{}]));

        // Key bodies of each area.
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for schema in [
            "ErrorBody",
            "InterviewView", "QuestionView", "OutcomeView", "StartBody", "AnswerBody",
            "Offers", "Offer", "OfferedSlot", "Held", "Booked", "Appointments", "AgendaEntry",
            "Regenerated", "BookingErrorBody", "HoldBody", "BookBody", "WaitBody",
            "ThreadList", "ThreadSummary", "ThreadView", "Message", "AttachmentRef", "MessageBody",
            "FileBody", "ResponseTimes", "TeamTimes",
            "Status", "Queued", "Taken", "JoinBody",
        ] {
            assert!(schemas.contains_key(schema), "{schema} missing");
        }
        let booked = path("/api/booking/appointments", "post");
        assert_eq!(booked["requestBody"]["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/BookBody");
        assert_eq!(booked["responses"]["201"]["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/Booked");
        assert!(booked["responses"]["409"].is_object(), "a taken slot is described");
        let slots = path("/api/booking/slots", "get")["parameters"].as_array().unwrap();
        assert!(slots.iter().any(|p| p["name"] == "near" && p["in"] == "query"));
        let complaints = path("/api/triage/complaints", "get")["parameters"].as_array().unwrap();
        assert!(complaints.iter().all(|p| p["in"] == "query"), "{complaints:?}");
        assert!(schemas["Offer"]["properties"]["slots"].is_object());
        assert!(schemas["MessageBody"]["properties"]["attachments"].is_object());
        assert_eq!(
            path("/api/messages/threads", "post")["responses"]["201"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/ThreadView"
        );
        assert_eq!(
            path("/api/ondemand/join", "post")["responses"]["201"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/Status"
        );
        assert!(path("/api/live", "get")["responses"]["200"]["content"]["text/event-stream"].is_object());
    }
}
