//! Secure messaging over HTTP: who sees which thread (a patient never another's, a team never
//! another team's), the team inbox, unread counts per account, attachment limits, mail
//! without clinical content, live events, and the pages, on SQLite and PostgreSQL.

use std::time::Duration;

use base64::Engine as _;
use carefront_store::sql::{statement, Dialect};
use serde_json::{json, Value};

use crate::both_stores;
use crate::helpers::{session_for, Answer, TestApp};

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR-not-really-an-image";
const PDF: &[u8] = b"%PDF-1.4\n%%EOF\n";
const TOPIC: &str = "Rash on my left arm";
const TEXT: &str = "It itches since Monday";

impl TestApp {
    async fn msg(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> Answer {
        let mut request = self
            .client
            .request(method, format!("{}/api/messages/{path}", self.root));
        if let Some(body) = body {
            request = request.json(body);
        }
        self.send(request).await
    }

    async fn msg_get(&self, path: &str) -> Answer {
        self.msg(reqwest::Method::GET, path, None).await
    }

    async fn msg_post(&self, path: &str, body: &Value) -> Answer {
        self.msg(reqwest::Method::POST, path, Some(body)).await
    }

    async fn unread(&self) -> i64 {
        let a = self.msg_get("unread").await;
        a.assert_status(200);
        a.body["unread"].as_i64().unwrap()
    }

    async fn page(&self, path: &str) -> (u16, String) {
        let r = self
            .client
            .get(format!("{}{path}", self.root))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    /// The thread id of a new thread started by this (patient) caller.
    async fn start_thread(&self, attachments: Value) -> String {
        let a = self
            .msg_post(
                "threads",
                &json!({"topic": TOPIC, "text": TEXT, "attachments": attachments}),
            )
            .await;
        a.assert_status(201);
        a.body["id"].as_str().unwrap().to_owned()
    }
}

fn file(name: &str, bytes: &[u8]) -> Value {
    json!({"filename": name, "data": base64::engine::general_purpose::STANDARD.encode(bytes)})
}

/// Two clinics; dr-a and dr-a2 work at clinic A, dr-b at clinic B; patients p1 and p2 at
/// clinic A, p3 at clinic B. Returns signed-in callers: p1, p2, dr-a, dr-a2, dr-b.
async fn fixtures(app: &TestApp) -> [TestApp; 5] {
    for org in ["clinic-a", "clinic-b"] {
        app.upsert(&json!({"resourceType": "Organization", "id": org, "name": org}))
            .await;
    }
    for (dr, org) in [
        ("dr-a", "clinic-a"),
        ("dr-a2", "clinic-a"),
        ("dr-b", "clinic-b"),
    ] {
        app.upsert(&json!({"resourceType": "Practitioner", "id": dr}))
            .await;
        app.upsert(
            &json!({"resourceType": "PractitionerRole", "id": format!("{dr}-role"),
            "practitioner": {"reference": format!("Practitioner/{dr}")},
            "organization": {"reference": format!("Organization/{org}")}}),
        )
        .await;
    }
    for (p, org) in [("p1", "clinic-a"), ("p2", "clinic-a"), ("p3", "clinic-b")] {
        app.upsert(&json!({"resourceType": "Patient", "id": p,
            "managingOrganization": {"reference": format!("Organization/{org}")}}))
            .await;
    }
    let user = |role: &'static str, r: String| async move {
        app.as_user(&session_for(app, role, Some(&r)).await)
    };
    [
        user("patient", "Patient/p1".into()).await,
        user("patient", "Patient/p2".into()).await,
        user("practitioner", "Practitioner/dr-a".into()).await,
        user("practitioner", "Practitioner/dr-a2".into()).await,
        user("practitioner", "Practitioner/dr-b".into()).await,
    ]
}

/// Every mail in the outbox: (to, subject, body).
async fn outbox(app: &TestApp) -> Vec<(String, String, String)> {
    let store = app.state.repo.store();
    store
        .query(statement(
            Dialect::of(store.backend()),
            "SELECT to_address, subject, body_text FROM mail_outbox ORDER BY created_at",
            Vec::new(),
        ))
        .await
        .unwrap()
        .into_iter()
        .map(|r| {
            let t = |i: usize| r[i].text().unwrap_or_default().to_owned();
            (t(0), t(1), t(2))
        })
        .collect()
}

/// The email of the account signed in as `caller`.
async fn email_of(app: &TestApp, fhir_ref: &str) -> Vec<String> {
    let store = app.state.repo.store();
    store
        .query(statement(
            Dialect::of(store.backend()),
            "SELECT email FROM accounts WHERE fhir_ref = {}",
            vec![carefront_store::sql::Bind::Text(fhir_ref.into())],
        ))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r[0].text().unwrap().to_owned())
        .collect()
}

both_stores! {
    async fn a_thread_is_seen_only_by_its_patient_and_their_team(app) {
        let [p1, p2, dr_a, _dr_a2, dr_b] = fixtures(&app).await;
        let id = p1.start_thread(json!([file("rash.png", PNG)])).await;
        let view = p1.msg_get(&format!("threads/{id}")).await;
        view.assert_status(200);
        assert_eq!(view.body["topic"], TOPIC);
        let attachment = &view.body["messages"][0]["attachments"][0];
        assert_eq!(attachment["content_type"], "image/png");
        let file_id = attachment["id"].as_str().unwrap().to_owned();
        let file_path = format!("threads/{id}/files/{file_id}");

        // Another patient of the same clinic, and a clinician of another: as if it did not exist.
        for stranger in [&p2, &dr_b] {
            let list = stranger.msg_get("threads").await;
            list.assert_status(200);
            assert_eq!(list.body["threads"], json!([]), "{}", list.describe());
            stranger.msg_get(&format!("threads/{id}")).await.assert_status(404);
            stranger.msg_post(&format!("threads/{id}/messages"), &json!({"text": "hi"})).await.assert_status(404);
            stranger.msg_get(&file_path).await.assert_status(404);
            assert_eq!(stranger.page(&format!("/messages/{id}")).await.0, 404);
            assert_eq!(stranger.page(&format!("/messages/{id}/files/{file_id}")).await.0, 404);
            assert_eq!(stranger.unread().await, 0);
        }
        // The attachment is no one's to read over /fhir either (it is in no compartment).
        let fhir = p1.get(&format!("Binary/{file_id}")).await;
        assert_eq!(fhir.status, 403, "{}", fhir.describe());
        // An unknown id answers the same as a foreign one.
        p2.msg_get("threads/no-such-thread").await.assert_status(404);
        // A program (client credentials) has no side in a conversation.
        app.with_client(crate::helpers::client_with(&[("authorization", &format!("Bearer {}", app.token))]))
            .msg_get("threads").await.assert_status(403);

        // The care team sees it in its inbox, and the picture as a picture that cannot run.
        let inbox = dr_a.msg_get("threads").await;
        inbox.assert_status(200);
        assert_eq!(inbox.body["threads"][0]["id"], id.as_str());
        assert_eq!(inbox.body["threads"][0]["topic"], TOPIC);
        let served = dr_a.msg_get(&file_path).await;
        served.assert_status(200);
        assert_eq!(served.header("content-type"), Some("image/png"));
        assert_eq!(served.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(served.header("content-disposition"), Some("inline; filename=\"rash.png\""));
        assert!(served.header("content-security-policy").unwrap().contains("sandbox"));
        assert_eq!(served.raw, PNG);
    }

    async fn unread_counts_follow_each_reader_and_the_team_answers(app) {
        let [p1, p2, dr_a, dr_a2, _dr_b] = fixtures(&app).await;
        let first = p1.start_thread(json!([])).await;
        assert_eq!(p1.unread().await, 0, "one's own message is read");
        assert_eq!(dr_a.unread().await, 1);
        assert_eq!(dr_a2.unread().await, 1);

        // Opening the thread reads it for that clinician only.
        dr_a.msg_get(&format!("threads/{first}")).await.assert_status(200);
        assert_eq!(dr_a.unread().await, 0);
        assert_eq!(dr_a2.unread().await, 1, "read markers are per account");

        let answer = dr_a.msg_post(&format!("threads/{first}/messages"), &json!({"text": "Please send a photo"})).await;
        answer.assert_status(201);
        assert_eq!(p1.unread().await, 1);
        let list = p1.msg_get("threads").await;
        assert_eq!(list.body["threads"][0]["unread"], 1);
        assert_eq!(list.body["threads"][0]["last_side"], "team");
        let view = p1.msg_get(&format!("threads/{first}")).await;
        let reply = &view.body["messages"][1];
        assert_eq!(reply["side"], "team");
        assert_eq!(reply["sender_ref"], "Practitioner/dr-a", "the patient sees who answered");
        assert_eq!(reply["sender"], "practitioner");
        assert_eq!(view.body["answered"], true);
        assert_eq!(p1.unread().await, 0);

        // The FHIR record: a reply is part of the thread and answers the first message.
        let stored = app.get(&format!("Communication/{}", answer.body["message"].as_str().unwrap())).await;
        stored.assert_status(200);
        assert_eq!(stored.body["partOf"][0]["reference"], format!("Communication/{first}"));
        assert_eq!(stored.body["inResponseTo"][0]["reference"], format!("Communication/{first}"));
        assert_eq!(stored.body["recipient"][0]["reference"], "Patient/p1");
        let root = app.get(&format!("Communication/{first}")).await;
        assert_eq!(root.body["recipient"][0]["reference"], "Organization/clinic-a");
        assert_eq!(root.body["topic"]["text"], TOPIC);

        // A newer unanswered thread comes first in the inbox.
        let second = p2.start_thread(json!([])).await;
        let inbox = dr_a2.msg_get("threads").await;
        let ids: Vec<&str> = inbox.body["threads"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
        assert_eq!(ids, [second.as_str(), first.as_str()]);
        assert_eq!(dr_a2.unread().await, 2, "the patients' messages of both threads");

        // Response times: one answered thread, one waiting; not for patients.
        let times = dr_a.msg_get("response-times").await;
        times.assert_status(200);
        let team = &times.body["teams"][0];
        assert_eq!(team["organization_id"], "clinic-a");
        assert_eq!(team["answered"], 1);
        assert!(team["median_seconds"].as_i64().is_some() && team["p90_seconds"].as_i64().is_some());
        assert_eq!(team["waiting"][0]["thread"], second.as_str());
        p1.msg_get("response-times").await.assert_status(403);
    }

    async fn attachments_are_limited_in_type_and_size(app) {
        let [p1, _p2, dr_a, _dr_a2, _dr_b] = fixtures(&app).await;
        let refused = |name: &'static str, bytes: Vec<u8>| json!({"topic": "x", "attachments": [file(name, &bytes)]});
        let svg = p1.msg_post("threads", &refused("a.png", b"<svg onload=alert(1)></svg>".to_vec())).await;
        svg.assert_status(422);
        assert!(svg.body["error"].as_str().unwrap().contains("not a PNG or JPEG image or a PDF"), "{}", svg.describe());
        let mut big = PNG.to_vec();
        big.resize(5 * 1024 * 1024 + 1, 0);
        let large = p1.msg_post("threads", &refused("big.png", big)).await;
        large.assert_status(422);
        assert!(large.body["error"].as_str().unwrap().contains("larger than 5 MB"));
        let many = p1.msg_post("threads", &json!({"topic": "x", "attachments": vec![file("a.pdf", PDF); 5]})).await;
        many.assert_status(422);
        let garbage = p1.msg_post("threads", &json!({"topic": "x", "attachments": [{"filename": "a.pdf", "data": "%%%"}]})).await;
        garbage.assert_status(422);
        let empty = p1.msg_post("threads", &json!({"topic": "x", "text": "  "})).await;
        empty.assert_status(422);
        let no_topic = p1.msg_post("threads", &json!({"text": "hello"})).await;
        no_topic.assert_status(422);
        assert_eq!(p1.msg_get("threads").await.body["threads"], json!([]), "nothing was written");

        // Just under the limit, and a PDF, which downloads rather than opens.
        let mut fits = PNG.to_vec();
        fits.resize(5 * 1024 * 1024, 0);
        let id = p1.start_thread(json!([file("scan.pdf", PDF), file("photo.png", &fits)])).await;
        let view = dr_a.msg_get(&format!("threads/{id}")).await;
        let pdf = view.body["messages"][0]["attachments"][0]["id"].as_str().unwrap().to_owned();
        let served = dr_a.msg_get(&format!("threads/{id}/files/{pdf}")).await;
        served.assert_status(200);
        assert_eq!(served.header("content-type"), Some("application/pdf"));
        assert_eq!(served.header("content-disposition"), Some("attachment; filename=\"scan.pdf\""));
        assert_eq!(view.body["messages"][0]["attachments"][1]["size"], 5 * 1024 * 1024);
    }

    async fn mail_says_only_that_there_is_a_message(app) {
        let [p1, _p2, dr_a, dr_a2, _dr_b] = fixtures(&app).await;
        let id = p1.start_thread(json!([file("rash.png", PNG)])).await;
        let team: Vec<String> = [email_of(&app, "Practitioner/dr-a").await, email_of(&app, "Practitioner/dr-a2").await].concat();
        let mail = outbox(&app).await;
        let mut to: Vec<String> = mail.iter().map(|m| m.0.clone()).collect();
        to.sort();
        let mut expected = team.clone();
        expected.sort();
        assert_eq!(to, expected, "one mail per practitioner of the team for a new thread");

        dr_a.msg_post(&format!("threads/{id}/messages"), &json!({"text": "Apply the cream twice a day"})).await.assert_status(201);
        p1.msg_post(&format!("threads/{id}/messages"), &json!({"text": "Thanks, doctor"})).await.assert_status(201);
        let mail = outbox(&app).await;
        assert_eq!(mail.len(), 3, "the patient hears of the answer; the team not of each reply");
        let to_patient = &mail[2];
        assert_eq!(to_patient.0, email_of(&app, "Patient/p1").await[0]);
        for (_, subject, body) in &mail {
            assert_eq!(subject, "You have a new message in Carefront");
            assert!(body.contains(&format!("/messages/{id}")), "{body}");
            for secret in [TOPIC, TEXT, "rash", "cream", "practitioner", "dr-a", "clinic-a"] {
                assert!(!body.to_lowercase().contains(&secret.to_lowercase()) && !subject.contains(secret), "{secret} in {body}");
            }
        }
        let _ = dr_a2;
    }

    async fn new_messages_are_published_live(app) {
        let [p1, _p2, dr_a, _dr_a2, _dr_b] = fixtures(&app).await;
        let bus = app.state.repo.store().events();
        let mut team = bus.subscribe("team:clinic-a");
        let mut patient = bus.subscribe("patient:p1");
        let mut other = bus.subscribe("team:clinic-b");
        let id = p1.start_thread(json!([])).await;
        for events in [&mut team, &mut patient] {
            let event = tokio::time::timeout(Duration::from_secs(5), events.recv()).await.unwrap().unwrap();
            let payload: Value = serde_json::from_str(&event.payload).unwrap();
            assert_eq!(payload, json!({"kind": "message", "thread": id}));
        }
        dr_a.msg_post(&format!("threads/{id}/messages"), &json!({"text": "ok"})).await.assert_status(201);
        let event = tokio::time::timeout(Duration::from_secs(5), patient.recv()).await.unwrap().unwrap();
        assert!(event.payload.contains(&id));
        assert!(other.try_recv().is_err(), "another team hears nothing");
    }

    async fn pages_list_show_and_post_messages(app) {
        let [p1, p2, dr_a, _dr_a2, _dr_b] = fixtures(&app).await;
        let id = p1.start_thread(json!([file("rash.png", PNG)])).await;
        let (status, list) = p1.page("/messages").await;
        assert_eq!(status, 200);
        assert!(list.contains(TOPIC) && list.contains("data-live=\"on\""));
        assert!(list.contains("<span class=\"count\" hx-get="), "the navigation loads the count");
        assert!(!p2.page("/messages").await.1.contains(TOPIC));
        let (status, inbox) = dr_a.page("/messages/inbox").await;
        assert_eq!(status, 200);
        assert!(inbox.contains(TOPIC));
        assert_eq!(dr_a.page("/messages/unread").await.1, " (1)");
        let (status, thread) = dr_a.page(&format!("/messages/{id}")).await;
        assert_eq!(status, 200);
        assert!(thread.contains(TEXT) && thread.contains("<img src=\"/messages/"));
        assert_eq!(dr_a.page("/messages/unread").await.1, "", "opened: read");
        let (status, times) = dr_a.page("/messages/response-times").await;
        assert_eq!(status, 200);
        assert!(times.contains("clinic-a"));

        // A reply with a refused file is shown again with the reason; a good one is sent.
        let store = app.state.repo.store();
        let token = "ab".repeat(32);
        store.execute(statement(Dialect::of(store.backend()), "UPDATE sessions SET csrf_token = {}",
            vec![carefront_store::sql::Bind::Text(token.clone())])).await.unwrap();
        let post = |text: &str, name: &str, bytes: &[u8]| {
            let boundary = "XyZboundary";
            let mut body = Vec::new();
            for (field, value) in [("csrf", token.as_str()), ("text", text)] {
                body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"\r\n\r\n{value}\r\n").as_bytes());
            }
            body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\nContent-Type: image/png\r\n\r\n").as_bytes());
            body.extend(bytes);
            body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
            dr_a.client.post(format!("{}/messages/{id}", app.root))
                .header("content-type", format!("multipart/form-data; boundary={boundary}"))
                .body(body)
        };
        let refused = post("see this", "evil.png", b"<html><script>alert(1)</script>").send().await.unwrap();
        assert_eq!(refused.status().as_u16(), 422);
        assert!(refused.text().await.unwrap().contains("is not a PNG or JPEG image or a PDF document"));
        // Sent: back to the thread (the redirect is followed).
        let sent = post("Looks fine", "ok.png", PNG).send().await.unwrap();
        assert_eq!(sent.status().as_u16(), 200);
        assert_eq!(sent.url().path(), format!("/messages/{id}"));
        assert!(sent.text().await.unwrap().contains("Looks fine"));
        assert_eq!(p1.unread().await, 1);
    }
}
