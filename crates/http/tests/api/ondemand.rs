//! On-demand care over HTTP: joining from an urgent video triage outcome, the queue's order
//! (urgency, then waiting time), each patient's place as others are taken or leave, the
//! "your clinician is ready" event, and clinicians taking the next patient concurrently
//! without ever getting the same one. On SQLite and PostgreSQL.

use carefront_triage_service::record::{EXT_MODALITY, PROTOCOL_SYSTEM, URGENCY_SYSTEM};
use serde_json::{json, Value};

use crate::both_stores;
use crate::helpers::{session_for, Answer, TestApp};

impl TestApp {
    async fn ondemand_get(&self, path: &str) -> Answer {
        self.send(
            self.client
                .get(format!("{}/api/ondemand/{path}", self.root)),
        )
        .await
    }

    async fn ondemand_post(&self, path: &str, body: &Value) -> Answer {
        self.send(
            self.client
                .post(format!("{}/api/ondemand/{path}", self.root))
                .json(body),
        )
        .await
    }
}

/// A triage outcome for `patient` (as the triage service writes them).
async fn outcome(app: &TestApp, id: &str, patient: &str, level: &str, modality: &str) {
    app.upsert(&json!({
        "resourceType": "RiskAssessment", "id": id, "status": "preliminary",
        "subject": {"reference": format!("Patient/{patient}")},
        "occurrenceDateTime": "2026-03-02T09:00:00Z",
        "basis": [{"reference": format!("QuestionnaireResponse/qr-{id}")}],
        "method": {"coding": [{"system": PROTOCOL_SYSTEM, "code": "sore-throat"}]},
        "prediction": [{"qualitativeRisk": {"coding": [{"system": URGENCY_SYSTEM, "code": level}]}}],
        "extension": [{"url": EXT_MODALITY, "valueCode": modality}],
    }))
    .await;
}

async fn patient(app: &TestApp, id: &str) -> TestApp {
    app.upsert(&json!({"resourceType": "Patient", "id": id, "name": [{"text": id}]}))
        .await;
    outcome(app, &format!("ra-{id}"), id, "urgent", "video").await;
    app.as_user(&session_for(app, "patient", Some(&format!("Patient/{id}"))).await)
}

async fn clinician(app: &TestApp, id: &str) -> TestApp {
    app.upsert(&json!({"resourceType": "Practitioner", "id": id, "name": [{"text": id}]}))
        .await;
    app.as_user(&session_for(app, "practitioner", Some(&format!("Practitioner/{id}"))).await)
}

/// `who` joins; their entry id.
async fn join(who: &TestApp, patient: &str) -> String {
    let joined = who
        .ondemand_post("join", &json!({"assessment_id": format!("ra-{patient}")}))
        .await;
    joined.assert_status(201);
    assert_eq!(joined.body["state"], "waiting");
    joined.body["id"].as_str().unwrap().to_owned()
}

async fn place(who: &TestApp, id: &str) -> Value {
    let status = who.ondemand_get(&format!("entries/{id}")).await;
    status.assert_status(200);
    status.body["place"].clone()
}

both_stores! {
    async fn the_queue_goes_by_urgency_then_waiting_time_and_places_follow(app) {
        let (a, b) = (patient(&app, "pa").await, patient(&app, "pb").await);
        let dr = clinician(&app, "dr-1").await;
        let ea = join(&a, "pa").await;
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let eb = join(&b, "pb").await;
        assert_eq!(join(&a, "pa").await, ea, "joining again keeps one place");

        // An emergency entry written by a FHIR client, later than both: it goes first.
        app.upsert(&json!({"resourceType": "Patient", "id": "pc"})).await;
        app.upsert(&json!({"resourceType": "Encounter", "id": "ec", "status": "arrived",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "VR"},
            "type": [{"coding": [{"system": "https://carefront.health/fhir/CodeSystem/encounter-kind", "code": "on-demand"}]}],
            "priority": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActPriority", "code": "EM"}]},
            "subject": {"reference": "Patient/pc"}, "period": {"start": "2030-01-01T00:00:00Z"}})).await;

        let queue = dr.ondemand_get("queue").await;
        queue.assert_status(200);
        let order: Vec<&str> = queue.body["waiting"].as_array().unwrap().iter()
            .map(|w| w["id"].as_str().unwrap()).collect();
        assert_eq!(order, ["ec", ea.as_str(), eb.as_str()]);
        assert_eq!(place(&a, &ea).await, 2);
        assert_eq!(place(&b, &eb).await, 3);
        let wait = b.ondemand_get(&format!("entries/{eb}")).await.body["wait_minutes"].clone();
        assert_eq!(wait, 30, "10 minutes a place without recent history");

        // Patients see only their own entry; the queue is for clinicians.
        b.ondemand_get(&format!("entries/{ea}")).await.assert_status(404);
        a.ondemand_get("queue").await.assert_status(403);
        a.ondemand_post("take", &json!({})).await.assert_status(403);

        // Taking the first moves everyone up.
        let taken = dr.ondemand_post("take", &json!({})).await;
        taken.assert_status(201);
        assert_eq!(taken.body["id"], "ec");
        assert_eq!(place(&a, &ea).await, 1);
        assert_eq!(place(&b, &eb).await, 2);
        a.ondemand_post(&format!("entries/{ea}/leave"), &json!({})).await.assert_status(200);
        assert_eq!(place(&b, &eb).await, 1);

        // The patient taken hears that their clinician is ready.
        let mut events = app.state.repo.store().events().subscribe("patient:pb");
        let taken = dr.ondemand_post("take", &json!({})).await;
        taken.assert_status(201);
        assert_eq!(taken.body["id"], eb.as_str());
        let appointment_id = taken.body["appointment_id"].as_str().unwrap().to_owned();
        assert_eq!(taken.body["visit"], format!("/visits/{appointment_id}"));
        let mine = b.ondemand_get("me").await;
        assert_eq!(mine.body["entry"]["state"], "taken");
        assert_eq!(mine.body["entry"]["visit"], format!("/visits/{appointment_id}"));
        dr.ondemand_post("take", &json!({})).await.assert_status(409);

        let appointment = app.get(&format!("Appointment/{appointment_id}")).await.body;
        assert_eq!(appointment["status"], "booked");
        assert_eq!(appointment["participant"][0]["actor"]["reference"], "Patient/pb");
        assert_eq!(appointment["participant"][1]["actor"]["reference"], "Practitioner/dr-1");
        assert_eq!(appointment["supportingInformation"][0]["reference"], "RiskAssessment/ra-pb");
        assert!(appointment.get("slot").is_none());
        let encounter = app.get(&format!("Encounter/{eb}")).await.body;
        assert_eq!(encounter["appointment"][0]["reference"], format!("Appointment/{appointment_id}"));
        assert_eq!(encounter["priority"]["coding"][0]["code"], "UR");
        assert_eq!(app.get(&format!("Encounter/{ea}")).await.body["status"], "cancelled");

        let ready = tokio::time::timeout(std::time::Duration::from_secs(5), async {
            loop {
                let e = events.recv().await.unwrap();
                let data: Value = serde_json::from_str(&e.payload).unwrap();
                if data["kind"] == "ondemand-ready" {
                    return data;
                }
            }
        })
        .await
        .expect("the patient is told their clinician is ready");
        assert_eq!(ready["visit"], format!("/visits/{appointment_id}"));
    }

    async fn only_urgent_video_outcomes_join_and_only_their_patient(app) {
        let a = patient(&app, "pa").await;
        outcome(&app, "ra-routine", "pa", "routine", "video").await;
        a.ondemand_post("join", &json!({"assessment_id": "ra-routine"})).await.assert_status(409);
        let b = patient(&app, "pb").await;
        b.ondemand_post("join", &json!({"assessment_id": "ra-pa"})).await.assert_status(404);
        let dr = clinician(&app, "dr-1").await;
        dr.ondemand_post("join", &json!({"assessment_id": "ra-pa"})).await.assert_status(403);
        app.anonymous().ondemand_get("queue").await.assert_status(401);
    }

    async fn clinicians_taking_at_once_never_get_the_same_patient(app) {
        let mut ids = Vec::new();
        for n in 0..3 {
            let p = format!("p{n}");
            let who = patient(&app, &p).await;
            ids.push(join(&who, &p).await);
        }
        let mut clinicians = Vec::new();
        for n in 0..5 {
            clinicians.push(clinician(&app, &format!("dr-{n}")).await);
        }
        let nothing = json!({});
        let takes = clinicians.iter().map(|c| c.ondemand_post("take", &nothing));
        let answers = futures_util::future::join_all(takes).await;
        let mut taken: Vec<String> = answers.iter().filter(|a| a.status == 201)
            .map(|a| a.body["id"].as_str().unwrap().to_owned()).collect();
        let refused = answers.iter().filter(|a| a.status == 409).count();
        assert_eq!((taken.len(), refused), (3, 2), "{:?}", answers.iter().map(|a| &a.body).collect::<Vec<_>>());
        taken.sort();
        ids.sort();
        assert_eq!(taken, ids, "each patient taken once");
        let appointments = app.find_ids("Appointment", &[("status", "booked")]).await;
        assert_eq!(appointments.len(), 3, "one visit per patient taken");
    }
}
