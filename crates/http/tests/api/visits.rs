//! Video visits over a real WebSocket: who may enter a room (participants, a one-time invite),
//! the waiting room and admission, the relay of signalling and chat, and the end of the visit
//! in the record (Encounter finished, Appointment fulfilled), on SQLite and PostgreSQL.

use std::time::Duration;

use carefront_http::web::session::SESSION_COOKIE;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::both_stores;
use crate::helpers::{session_for, session_with_csrf, TestApp};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A well-formed CSRF token for the sessions whose forms the tests post.
const CSRF: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const MODALITY: &str = "https://carefront.health/fhir/CodeSystem/visit-modality";
const PNG_1PX: &str = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";

/// Patients p1 and p2, doctors d1 and d2; `video-1` (p1 with d1, by video, started five
/// minutes ago) and `clinic-1` (the same people, at the clinic).
async fn fixtures(app: &TestApp) {
    for (rt, id, name) in [
        ("Patient", "p1", "Ana Lima"),
        ("Patient", "p2", "Ben Okafor"),
        ("Practitioner", "d1", "Dr Chloé Martin"),
        ("Practitioner", "d2", "Dr Dev Rao"),
    ] {
        app.upsert(&json!({"resourceType": rt, "id": id, "name": [{"text": name}]}))
            .await;
    }
    let start = |minutes_ago: i64| {
        let now = carefront_booking::scheduling::jiff::Timestamp::now().as_second();
        carefront_booking::scheduling::jiff::Timestamp::from_second(now - minutes_ago * 60)
            .unwrap()
            .to_string()
    };
    for (id, modality) in [("video-1", "video"), ("clinic-1", "in-clinic")] {
        app.upsert(&json!({
            "resourceType": "Appointment", "id": id, "status": "booked",
            "serviceCategory": [{"coding": [{"system": MODALITY, "code": modality}]}],
            "serviceType": [{"text": "General practice"}],
            "reasonCode": [{"text": "HbA1c results"}],
            "start": start(5), "end": start(-15),
            "participant": [
                {"actor": {"reference": "Patient/p1", "display": "Ana Lima"}, "status": "accepted"},
                {"actor": {"reference": "Practitioner/d1", "display": "Dr Chloé Martin"}, "status": "accepted"},
            ],
        }))
        .await;
    }
}

/// Opens the room of `appointment` with `session` (a cookie) and `query`; the HTTP status
/// when refused before the upgrade.
async fn open(
    app: &TestApp,
    appointment: &str,
    session: Option<&str>,
    query: &str,
) -> Result<Socket, u16> {
    let url = format!(
        "{}/visits/{appointment}/ws{query}",
        app.root.replace("http://", "ws://")
    );
    let mut request = url.into_client_request().unwrap();
    if let Some(s) = session {
        request
            .headers_mut()
            .insert("cookie", format!("{SESSION_COOKIE}={s}").parse().unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, _)) => Ok(socket),
        Err(tungstenite::Error::Http(response)) => Err(response.status().as_u16()),
        Err(e) => panic!("cannot connect: {e}"),
    }
}

async fn send(socket: &mut Socket, value: Value) {
    socket
        .send(Message::Text(value.to_string().into()))
        .await
        .unwrap();
}

/// The next JSON frame of type `kind`, skipping others (presence chatter); fails after 5 s.
async fn next_of(socket: &mut Socket, kind: &str) -> Value {
    let wait = async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Text(text))) => {
                    let v: Value = serde_json::from_str(text.as_str()).unwrap();
                    if v["type"] == kind {
                        return v;
                    }
                }
                Some(Ok(_)) => {}
                other => panic!("the socket ended while waiting for {kind}: {other:?}"),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), wait)
        .await
        .unwrap_or_else(|_| panic!("no {kind} within 5 s"))
}

/// The next presence of `peer` in `state`.
async fn presence_of(socket: &mut Socket, peer: &str, state: &str) -> Value {
    loop {
        let p = next_of(socket, "presence").await;
        if p["peer"] == peer && p["state"] == state {
            return p;
        }
    }
}

/// The invite form of `video-1`, posted by the owner of `session`.
async fn post_invite(app: &TestApp, session: &str) -> reqwest::Response {
    app.as_user(session)
        .client
        .post(format!("{}/visits/video-1/invite", app.root))
        .form(&[("csrf", CSRF)])
        .send()
        .await
        .unwrap()
}

/// A one-time invite made on the clinician's invite page; the token of the link.
async fn invite(app: &TestApp, doctor: &str) -> String {
    let page = post_invite(app, doctor).await;
    assert_eq!(page.status(), 200);
    // The page escapes `/` in attributes.
    let html = page.text().await.unwrap().replace("&#x2f;", "/");
    let start = html
        .find("/visits/join/video-1~")
        .expect("a link on the page");
    let rest = &html[start + "/visits/join/video-1~".len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

both_stores! {
    async fn the_clinician_sees_the_symptom_check_the_visit_was_booked_from(app) {
        fixtures(&app).await;
        // A symptom check on p1's record (as the triage service writes it) and a video
        // visit booked from it.
        app.upsert(&json!({"resourceType": "QuestionnaireResponse", "id": "check-1", "status": "completed",
            "subject": {"reference": "Patient/p1"}})).await;
        app.upsert(&json!({"resourceType": "RiskAssessment", "id": "risk-1", "status": "preliminary",
            "subject": {"reference": "Patient/p1"}, "occurrenceDateTime": "2026-11-24T08:00:00Z",
            "basis": [{"reference": "QuestionnaireResponse/check-1"}],
            "method": {"coding": [{"system": carefront_triage_service::record::PROTOCOL_SYSTEM, "code": "sore-throat"}]},
            "prediction": [{"qualitativeRisk": {"coding": [{"system": carefront_triage_service::record::URGENCY_SYSTEM, "code": "urgent"}]}}]}))
            .await;
        let mut visit = app.get("Appointment/video-1").await.body;
        visit["id"] = json!("video-2");
        visit["supportingInformation"] = json!([{"reference": "RiskAssessment/risk-1"}]);
        app.upsert(&visit).await;

        let doctor = session_for(&app, "practitioner", Some("Practitioner/d1")).await;
        let page = app.as_user(&doctor).get_absolute(&format!("{}/visits/video-2?lang=en", app.root)).await;
        assert_eq!(page.status, 200);
        let html = String::from_utf8_lossy(&page.raw);
        assert!(html.contains("triage-summary") && html.contains("level-urgent"), "{html}");
        assert!(html.contains("/triage/check-1"), "links to the check");
        // The patient's own page does not show it in the lobby (there is no lobby).
        let patient = session_for(&app, "patient", Some("Patient/p1")).await;
        let page = app.as_user(&patient).get_absolute(&format!("{}/visits/video-2?lang=en", app.root)).await;
        assert!(!String::from_utf8_lossy(&page.raw).contains("triage-summary"));
    }

    async fn only_participants_and_invited_guests_enter(app) {
        fixtures(&app).await;
        let patient = session_with_csrf(&app, "patient", Some("Patient/p1"), CSRF).await;
        let other_patient = session_for(&app, "patient", Some("Patient/p2")).await;
        let doctor = session_with_csrf(&app, "practitioner", Some("Practitioner/d1"), CSRF).await;
        let other_doctor = session_for(&app, "practitioner", Some("Practitioner/d2")).await;

        let mut p = open(&app, "video-1", Some(&patient), "").await.unwrap();
        let w = next_of(&mut p, "welcome").await;
        assert_eq!((w["role"].as_str(), w["admitted"].as_bool()), (Some("patient"), Some(false)));
        assert_eq!(w["name"], "Ana Lima");
        let mut d = open(&app, "video-1", Some(&doctor), "").await.unwrap();
        let w = next_of(&mut d, "welcome").await;
        assert_eq!((w["role"].as_str(), w["admitted"].as_bool()), (Some("clinician"), Some(true)));
        assert_eq!(w["iceServers"], json!([]), "no STUN or TURN configured");

        assert_eq!(open(&app, "video-1", Some(&other_patient), "").await.err(), Some(403));
        assert_eq!(open(&app, "video-1", Some(&other_doctor), "").await.err(), Some(403));
        assert_eq!(open(&app, "video-1", None, "").await.err(), Some(401));
        assert_eq!(open(&app, "clinic-1", Some(&patient), "").await.err(), Some(403), "not by video");
        assert_eq!(open(&app, "nothing", Some(&patient), "").await.err(), Some(404));
        assert_eq!(open(&app, "video-1", None, "?invite=bogus.token").await.err(), Some(403));

        // A guest's link works once; the room hands back a token to reconnect with.
        let token = invite(&app, &doctor).await;
        let query = format!("?invite={token}&name=Marie%20(interpreter)");
        let mut g = open(&app, "video-1", None, &query).await.unwrap();
        let w = next_of(&mut g, "welcome").await;
        assert_eq!(w["role"], "guest");
        assert_eq!(w["name"], "Marie (interpreter)");
        assert_eq!(open(&app, "video-1", None, &query).await.err(), Some(403), "spent");
        let rejoin = w["rejoin"].as_str().expect("a reconnection token").to_owned();
        assert_eq!(rejoin.split('.').next(), token.split('.').next(), "the same guest");
        // The clinician lets the guest in: they are on the visit's record.
        let mut host = open(&app, "video-1", Some(&doctor), "").await.unwrap();
        next_of(&mut host, "welcome").await;
        let g_peer = w["peer"].as_str().unwrap().to_owned();
        presence_of(&mut host, &g_peer, "waiting").await;
        send(&mut host, json!({"type": "admit", "peer": g_peer})).await;
        next_of(&mut g, "admitted").await;
        let encounters = app.find("Encounter", &[("appointment", "Appointment/video-1")]).await;
        let guests: Vec<Value> = crate::helpers::entries(&encounters.body).into_iter()
            .flat_map(|e| e["resource"]["participant"].as_array().cloned().unwrap_or_default())
            .filter(|p| p["type"][0]["coding"][0]["code"] == "PART")
            .collect();
        assert_eq!(guests.len(), 1, "{}", encounters.body);
        assert_eq!(guests[0]["type"][0]["text"], "Guest: Marie (interpreter)");
        drop(host);
        assert!(open(&app, "video-1", None, &format!("?invite={rejoin}")).await.is_ok());
        // A patient may not make invitations.
        assert_eq!(post_invite(&app, &patient).await.status(), 403);

        // ICE servers: participants only.
        let ice = app.as_user(&patient).get_absolute(&format!("{}/visits/video-1/ice", app.root)).await;
        assert_eq!(ice.status, 200);
        assert_eq!(ice.body["iceServers"], json!([]));
        let ice = app.as_user(&other_patient).get_absolute(&format!("{}/visits/video-1/ice", app.root)).await;
        assert_eq!(ice.status, 403);
        // The visit page, likewise.
        let page = app.as_user(&other_patient).get_absolute(&format!("{}/visits/video-1", app.root)).await;
        assert_eq!(page.status, 403);
        let page = app.as_user(&patient).get_absolute(&format!("{}/visits/video-1", app.root)).await;
        assert_eq!(page.status, 200);
        drop((p, d, g));
    }

    async fn the_waiting_room_the_relay_and_the_end(app) {
        fixtures(&app).await;
        let patient = session_for(&app, "patient", Some("Patient/p1")).await;
        let doctor = session_for(&app, "practitioner", Some("Practitioner/d1")).await;
        let mut d = open(&app, "video-1", Some(&doctor), "").await.unwrap();
        let d_peer = next_of(&mut d, "welcome").await["peer"].as_str().unwrap().to_owned();
        let mut p = open(&app, "video-1", Some(&patient), "").await.unwrap();
        let p_peer = next_of(&mut p, "welcome").await["peer"].as_str().unwrap().to_owned();

        // The clinician sees the patient waiting; the patient sees the clinician is there.
        let waiting = presence_of(&mut d, &p_peer, "waiting").await;
        assert_eq!((waiting["name"].as_str(), waiting["role"].as_str()), (Some("Ana Lima"), Some("patient")));
        presence_of(&mut p, &d_peer, "in-call").await;

        // Before admission nothing is relayed, either way; and patients do not admit.
        send(&mut p, json!({"type": "signal", "to": d_peer, "data": {"sdp": "x"}})).await;
        assert!(next_of(&mut p, "error").await["message"].as_str().unwrap().contains("waiting room"));
        send(&mut d, json!({"type": "signal", "to": p_peer, "data": {"sdp": "x"}})).await;
        assert!(next_of(&mut d, "error").await["message"].as_str().unwrap().contains("not in the call"));
        send(&mut p, json!({"type": "chat", "text": "hello?"})).await;
        next_of(&mut p, "error").await;
        send(&mut p, json!({"type": "admit", "peer": p_peer})).await;
        next_of(&mut p, "error").await;
        send(&mut p, json!({"type": "end"})).await;
        next_of(&mut p, "error").await;

        send(&mut d, json!({"type": "admit", "peer": p_peer})).await;
        next_of(&mut p, "admitted").await;
        presence_of(&mut d, &p_peer, "in-call").await;

        // Signals go to the one peer, verbatim.
        let offer = json!({"description": {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}});
        send(&mut d, json!({"type": "signal", "to": p_peer, "data": offer})).await;
        let got = next_of(&mut p, "signal").await;
        assert_eq!((got["from"].as_str(), &got["data"]), (Some(d_peer.as_str()), &offer));
        let candidate = json!({"candidate": {"candidate": "candidate:1 1 udp 1 127.0.0.1 5000 typ host", "sdpMid": "0"}});
        send(&mut p, json!({"type": "signal", "to": d_peer, "data": candidate})).await;
        let got = next_of(&mut d, "signal").await;
        assert_eq!((got["from"].as_str(), &got["data"]), (Some(p_peer.as_str()), &candidate));

        // Chat reaches everyone in the call, the sender included; images are kept as Media.
        send(&mut p, json!({"type": "chat", "text": "the rash", "image": PNG_1PX})).await;
        for socket in [&mut d, &mut p] {
            let chat = next_of(socket, "chat").await;
            assert_eq!((chat["from"].as_str(), chat["role"].as_str()), (Some("Ana Lima"), Some("patient")));
            assert_eq!((chat["text"].as_str(), chat["image"].as_str()), (Some("the rash"), Some(PNG_1PX)));
        }
        send(&mut p, json!({"type": "chat", "image": "data:image/gif;base64,R0lGOD"})).await;
        assert!(next_of(&mut p, "error").await["message"].as_str().unwrap().contains("PNG or JPEG"));
        send(&mut d, json!({"type": "ping"})).await;
        next_of(&mut d, "pong").await;

        // The clinician ends the visit for everyone.
        send(&mut d, json!({"type": "end"})).await;
        next_of(&mut d, "ended").await;
        next_of(&mut p, "ended").await;

        let found = app.find("Encounter", &[("appointment", "Appointment/video-1")]).await;
        assert_eq!(found.body["total"], 1, "{}", found.describe());
        let e = &found.body["entry"][0]["resource"];
        assert_eq!(e["status"], "finished");
        assert_eq!(e["class"]["code"], "VR");
        assert_eq!(e["subject"]["reference"], "Patient/p1");
        assert_eq!(e["participant"][0]["individual"]["reference"], "Practitioner/d1");
        assert_eq!(e["reasonCode"][0]["text"], "HbA1c results");
        let (start, end) = (e["period"]["start"].as_str().unwrap(), e["period"]["end"].as_str().unwrap());
        assert!(start <= end, "{start} .. {end}");
        let encounter_id = e["id"].as_str().unwrap();
        let appointment = app.get("Appointment/video-1").await;
        assert_eq!(appointment.body["status"], "fulfilled");
        let media = app.find("Media", &[("encounter", &format!("Encounter/{encounter_id}"))]).await;
        assert_eq!(media.body["total"], 1, "{}", media.describe());
        let m = &media.body["entry"][0]["resource"];
        assert_eq!(m["subject"]["reference"], "Patient/p1");
        assert_eq!(m["content"]["contentType"], "image/png");

        // The ensure of the visit-note code finds the same Encounter.
        let (again, _) = carefront_http::visits::encounter::ensure(&app.state, "video-1").await.unwrap();
        assert_eq!(again, encounter_id);
        // An ended visit answers at once that it has ended.
        let mut late = open(&app, "video-1", Some(&patient), "").await.unwrap();
        next_of(&mut late, "ended").await;

        // Joins, the admission and the end are in the audit chain.
        let entries = crate::audit::audit_log(&app).await;
        for action in ["visit-join", "visit-admit", "visit-end"] {
            assert!(entries.iter().any(|e| e.action == action && e.resource_id.as_deref() == Some("video-1")), "{action}");
        }
    }

    async fn a_reconnecting_patient_is_let_in_again(app) {
        fixtures(&app).await;
        let patient = session_for(&app, "patient", Some("Patient/p1")).await;
        let doctor = session_for(&app, "practitioner", Some("Practitioner/d1")).await;
        let mut d = open(&app, "video-1", Some(&doctor), "").await.unwrap();
        next_of(&mut d, "welcome").await;
        let mut p = open(&app, "video-1", Some(&patient), "").await.unwrap();
        let p_peer = next_of(&mut p, "welcome").await["peer"].as_str().unwrap().to_owned();
        presence_of(&mut d, &p_peer, "waiting").await;
        send(&mut d, json!({"type": "admit", "peer": p_peer})).await;
        next_of(&mut p, "admitted").await;
        presence_of(&mut d, &p_peer, "in-call").await;
        // The network drops; the page connects again, as a new peer, and is admitted at once.
        drop(p);
        presence_of(&mut d, &p_peer, "left").await;
        let mut p = open(&app, "video-1", Some(&patient), "").await.unwrap();
        next_of(&mut p, "welcome").await;
        next_of(&mut p, "admitted").await;
    }
}
