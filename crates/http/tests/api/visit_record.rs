//! The visit record over HTTP: a clinician's note writes the Encounter (finished), the
//! Composition, Conditions, Observations and follow-up Task with the right references;
//! mistakes are shown on the form and nothing is written; patients read only their own
//! summaries. On SQLite and PostgreSQL.

use serde_json::{json, Value};

use crate::both_stores;
use crate::helpers::{session_with_csrf, TestApp};

const CSRF: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// Clinics A and B; Dr A (clinic A) sees patient p1 (clinic A) in appointment appt-1; Dr B
/// works at clinic B; p2 is another patient.
async fn fixtures(app: &TestApp) {
    for org in ["clinic-a", "clinic-b"] {
        app.upsert(&json!({"resourceType": "Organization", "id": org, "name": org}))
            .await;
    }
    for (dr, org) in [("dr-a", "clinic-a"), ("dr-b", "clinic-b")] {
        app.upsert(&json!({"resourceType": "Practitioner", "id": dr, "name": [{"text": format!("Doctor {dr}")}]}))
            .await;
        app.upsert(
            &json!({"resourceType": "PractitionerRole", "id": format!("{dr}-role"),
            "practitioner": {"reference": format!("Practitioner/{dr}")},
            "organization": {"reference": format!("Organization/{org}")}}),
        )
        .await;
    }
    for (p, org) in [("p1", "clinic-a"), ("p2", "clinic-b")] {
        app.upsert(
            &json!({"resourceType": "Patient", "id": p, "name": [{"text": format!("Patient {p}")}],
            "managingOrganization": {"reference": format!("Organization/{org}")}}),
        )
        .await;
    }
    app.upsert(&json!({"resourceType": "Appointment", "id": "appt-1", "status": "booked",
        "start": "2026-03-02T09:00:00Z", "end": "2026-03-02T09:20:00Z",
        "participant": [
            {"actor": {"reference": "Patient/p1", "display": "Patient p1"}, "status": "accepted"},
            {"actor": {"reference": "Practitioner/dr-a", "display": "Doctor dr-a"}, "status": "accepted"}]}))
        .await;
}

/// A browser signed in as `role` linked to `fhir_ref`, that does not follow redirects.
async fn browser(app: &TestApp, role: &str, fhir_ref: &str) -> reqwest::Client {
    let session = session_with_csrf(app, role, Some(fhir_ref), CSRF).await;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "cookie",
        format!("{}={session}", carefront_http::web::session::SESSION_COOKIE)
            .parse()
            .unwrap(),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn page(client: &reqwest::Client, app: &TestApp, path: &str) -> (u16, String) {
    let r = client
        .get(format!("{}{path}", app.root))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn post_note(
    client: &reqwest::Client,
    app: &TestApp,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut form: Vec<(&str, &str)> = vec![("csrf", CSRF)];
    form.extend_from_slice(fields);
    client
        .post(format!("{}/visits/appt-1/notes", app.root))
        .form(&form)
        .send()
        .await
        .unwrap()
}

const FULL_NOTE: &[(&str, &str)] = &[
    ("reason", "Sore throat for three days"),
    ("history", "No fever until yesterday."),
    ("findings", "Red throat, no exudate."),
    ("assessment", "Likely viral upper respiratory infection."),
    ("plan", "Rest, fluids, paracetamol.\nCome back if worse."),
    ("dx0_pick", "54150009"),
    ("dx1_system", "icd10"),
    ("dx1_code", "J02.9"),
    ("dx1_display", "Acute pharyngitis"),
    ("dx1_status", "provisional"),
    ("vitals_source", "reported"),
    ("temperature", "38,2"),
    ("systolic", "128"),
    ("diastolic", "82"),
    ("spo2", "97"),
    ("follow_up", "book"),
    ("follow_up_days", "7"),
];

async fn resources(app: &TestApp, resource_type: &str, params: &[(&str, &str)]) -> Vec<Value> {
    let found = app.find(resource_type, params).await;
    found.assert_status(200);
    crate::helpers::entries(&found.body)
        .into_iter()
        .map(|e| e["resource"].clone())
        .collect()
}

/// Dr A writes the full note; the Encounter's id.
async fn write_note(app: &TestApp) -> String {
    let dr = browser(app, "practitioner", "Practitioner/dr-a").await;
    let (status, form) = page(&dr, app, "/visits/appt-1/notes").await;
    assert_eq!(status, 200, "{form}");
    assert!(
        form.contains("name=\"assessment\"") && form.contains("Upper respiratory tract infection")
    );
    let saved = post_note(&dr, app, FULL_NOTE).await;
    assert_eq!(
        saved.status().as_u16(),
        303,
        "{}",
        saved.text().await.unwrap()
    );
    let to = saved.headers()["location"].to_str().unwrap().to_owned();
    to.strip_prefix("/record/visits/")
        .and_then(|rest| rest.strip_suffix("?saved=1"))
        .unwrap_or_else(|| panic!("{to}"))
        .to_owned()
}

both_stores! {
    async fn a_note_writes_the_encounter_note_diagnoses_vitals_and_follow_up(app) {
        fixtures(&app).await;
        let encounter_id = write_note(&app).await;
        let at = format!("Encounter/{encounter_id}");

        let encounter = app.get(&format!("Encounter/{encounter_id}")).await.body;
        assert_eq!(encounter["status"], "finished");
        assert_eq!(encounter["appointment"][0]["reference"], "Appointment/appt-1");
        assert_eq!(encounter["subject"]["reference"], "Patient/p1");
        assert!(encounter["period"]["end"].is_string());
        assert_eq!(app.get("Appointment/appt-1").await.body["status"], "fulfilled");

        let notes = resources(&app, "Composition", &[("encounter", &at)]).await;
        assert_eq!(notes.len(), 1);
        let note = &notes[0];
        assert_eq!(note["status"], "final");
        assert_eq!(note["type"]["coding"][0]["code"], "11506-3");
        assert_eq!(note["subject"]["reference"], "Patient/p1");
        assert_eq!(note["author"][0]["reference"], "Practitioner/dr-a");
        let sections: Vec<&str> = note["section"].as_array().unwrap().iter()
            .map(|s| s["code"]["coding"][0]["code"].as_str().unwrap()).collect();
        assert_eq!(sections, ["29299-5", "10164-2", "29545-1", "51848-0", "18776-5"]);

        let conditions = resources(&app, "Condition", &[("encounter", &at)]).await;
        assert_eq!(conditions.len(), 2);
        for c in &conditions {
            assert_eq!(c["subject"]["reference"], "Patient/p1");
            assert_eq!(c["recorder"]["reference"], "Practitioner/dr-a");
            assert_eq!(c["clinicalStatus"]["coding"][0]["code"], "active");
        }
        let codes: Vec<(&str, &str, &str)> = conditions.iter().map(|c| (
            c["code"]["coding"][0]["system"].as_str().unwrap(),
            c["code"]["coding"][0]["code"].as_str().unwrap(),
            c["verificationStatus"]["coding"][0]["code"].as_str().unwrap(),
        )).collect();
        assert!(codes.contains(&("http://snomed.info/sct", "54150009", "confirmed")), "{codes:?}");
        assert!(codes.contains(&("http://hl7.org/fhir/sid/icd-10", "J02.9", "provisional")), "{codes:?}");

        let vitals = resources(&app, "Observation", &[("encounter", &at)]).await;
        assert_eq!(vitals.len(), 3, "temperature, SpO2, one blood pressure panel");
        for o in &vitals {
            assert_eq!(o["status"], "final");
            assert_eq!(o["category"][0]["coding"][0]["code"], "vital-signs");
            assert_eq!(o["performer"][0]["reference"], "Patient/p1", "reported by the patient");
        }
        let by_code = |code: &str| vitals.iter().find(|o| o["code"]["coding"][0]["code"] == code).unwrap();
        assert_eq!(by_code("8310-5")["valueQuantity"]["value"], 38.2);
        assert_eq!(by_code("8310-5")["valueQuantity"]["code"], "Cel");
        assert_eq!(by_code("85354-9")["component"][0]["valueQuantity"]["value"], 128.0);

        let tasks = resources(&app, "Task", &[("encounter", &at)]).await;
        assert_eq!(tasks.len(), 1);
        assert_eq!(tasks[0]["for"]["reference"], "Patient/p1");
        assert_eq!(tasks[0]["requester"]["reference"], "Practitioner/dr-a");
        assert_eq!(tasks[0]["status"], "requested");

        // Saving again adds nothing: one note per visit.
        let dr = browser(&app, "practitioner", "Practitioner/dr-a").await;
        let again = post_note(&dr, &app, FULL_NOTE).await;
        assert_eq!(again.status().as_u16(), 303);
        assert_eq!(resources(&app, "Condition", &[("encounter", &at)]).await.len(), 2);
    }

    async fn bad_vitals_are_refused_with_what_to_fix(app) {
        fixtures(&app).await;
        let dr = browser(&app, "practitioner", "Practitioner/dr-a").await;
        let mut fields = FULL_NOTE.to_vec();
        fields.retain(|(k, _)| !["temperature", "diastolic"].contains(k));
        fields.push(("temperature", "375"));
        let refused = post_note(&dr, &app, &fields).await;
        assert_eq!(refused.status().as_u16(), 422);
        let html = refused.text().await.unwrap();
        assert!(html.contains("Enter a number from 30 to 45 °C."), "{html}");
        assert!(html.contains("Give both blood pressure values"), "{html}");
        assert!(html.contains("Sore throat for three days"), "what was typed is kept");
        assert!(app.find_ids("Encounter", &[("appointment", "Appointment/appt-1")]).await.is_empty());
        assert!(app.find_ids("Condition", &[("subject", "Patient/p1")]).await.is_empty());

        // Only the appointment's practitioners write its note.
        let other = browser(&app, "practitioner", "Practitioner/dr-b").await;
        assert_eq!(post_note(&other, &app, FULL_NOTE).await.status().as_u16(), 404);
        let patient = browser(&app, "patient", "Patient/p1").await;
        assert_eq!(page(&patient, &app, "/visits/appt-1/notes").await.0, 403);
    }

    async fn patients_read_only_their_own_visit_summaries(app) {
        fixtures(&app).await;
        let encounter_id = write_note(&app).await;
        let summary = format!("/record/visits/{encounter_id}");

        let p1 = browser(&app, "patient", "Patient/p1").await;
        let (status, list) = page(&p1, &app, "/record/visits").await;
        assert_eq!(status, 200);
        assert!(list.contains(&summary), "{list}");
        let (status, html) = page(&p1, &app, &summary).await;
        assert_eq!(status, 200);
        for text in ["Likely viral upper respiratory infection.", "Upper respiratory tract infection",
                     "Acute pharyngitis", "38.2 °C", "82 mmHg", "book?practitioner=dr-a", "Doctor dr-a"] {
            assert!(html.contains(text), "{text} missing: {html}");
        }
        assert!(!html.contains("Red throat"), "the examination stays in the clinical note");
        let (status, _) = page(&p1, &app, "/record/visits/appointment/appt-1").await;
        assert_eq!(status, 303, "a past appointment leads to its summary");

        let p2 = browser(&app, "patient", "Patient/p2").await;
        assert_eq!(page(&p2, &app, &summary).await.0, 404);
        assert!(!page(&p2, &app, "/record/visits").await.1.contains(&summary));
        let dr_b = browser(&app, "practitioner", "Practitioner/dr-b").await;
        assert_eq!(page(&dr_b, &app, &summary).await.0, 404, "another organisation's patient");
        let dr_a = browser(&app, "practitioner", "Practitioner/dr-a").await;
        let (status, html) = page(&dr_a, &app, &summary).await;
        assert_eq!(status, 200);
        assert!(html.contains("Red throat"), "clinicians read the whole note");
    }
}
