//! Triage over HTTP: the interview loop (start, question, answer, outcome) and its record as
//! FHIR, the whole case-vignette suite driven through the API by a scripted patient, errors,
//! who may see what, re-triage and the clinicians' queue, on SQLite and PostgreSQL.

use carefront_triage::vignettes::{self, Report};
use carefront_triage::{Level, Modality};
use serde_json::{json, Value};

use crate::both_stores;
use crate::helpers::{session_for, Answer, TestApp};

impl TestApp {
    async fn triage(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> Answer {
        let mut request = self
            .client
            .request(method, format!("{}/api/triage/{path}", self.root));
        if let Some(body) = body {
            request = request.json(body);
        }
        self.send(request).await
    }

    async fn triage_get(&self, path: &str) -> Answer {
        self.triage(reqwest::Method::GET, path, None).await
    }

    async fn triage_get_with(&self, path: &str, headers: &[(&str, &str)]) -> Answer {
        let mut request = self.client.get(format!("{}/api/triage/{path}", self.root));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.send(request).await
    }

    async fn triage_post(&self, path: &str, body: &Value) -> Answer {
        self.triage(reqwest::Method::POST, path, Some(body)).await
    }

    /// Answers every question with what `reply` gives until the outcome; the final view.
    async fn run_interview(&self, mut view: Value, reply: impl Fn(&Value) -> String) -> Value {
        for _ in 0..40 {
            let Some(question) = view.get("question").cloned() else {
                return view;
            };
            let answer = self
                .triage_post(
                    &format!("interviews/{}/answers", view["id"].as_str().unwrap()),
                    &json!({"question": question["id"], "answer": reply(&question), "version": view["version"]}),
                )
                .await;
            answer.assert_status(200);
            view = answer.body;
        }
        panic!("the interview never ended: {view}");
    }
}

/// Two clinics; doctor A works at clinic A; patients p1 (clinic A) and p2 (clinic B).
async fn fixtures(app: &TestApp) {
    for org in ["clinic-a", "clinic-b"] {
        app.upsert(&json!({"resourceType": "Organization", "id": org, "name": org}))
            .await;
    }
    app.upsert(&json!({"resourceType": "Practitioner", "id": "dr-a"}))
        .await;
    app.upsert(
        &json!({"resourceType": "PractitionerRole", "id": "dr-a-at-a",
        "practitioner": {"reference": "Practitioner/dr-a"},
        "organization": {"reference": "Organization/clinic-a"}}),
    )
    .await;
    for (p, org) in [("p1", "clinic-a"), ("p2", "clinic-b")] {
        app.upsert(&json!({"resourceType": "Patient", "id": p,
            "managingOrganization": {"reference": format!("Organization/{org}")}}))
            .await;
    }
}

fn adult_start(complaint_text: &str) -> Value {
    json!({"age_years": 52, "sex": "male", "complaint_text": complaint_text})
}

/// The first option, the lowest number, or `answer` to yes-no questions.
fn always(answer: &'static str) -> impl Fn(&Value) -> String {
    move |q: &Value| match q["kind"].as_str().unwrap() {
        "choice" => q["options"][0]["id"].as_str().unwrap().to_owned(),
        "number" => q["min"].to_string(),
        _ => answer.to_owned(),
    }
}

both_stores! {
    async fn an_emergency_stops_the_interview_and_says_whom_to_call(app) {
        fixtures(&app).await;
        let patient = app.as_user(&session_for(&app, "patient", Some("Patient/p1")).await);
        let started = patient.triage_post("interviews", &adult_start("chest pian")).await;
        started.assert_status(201);
        let view = started.body;
        assert_eq!(view["complaint"]["id"], "chest-pain", "a misspelling is forgiven");
        assert_eq!(view["status"], "in-progress");
        let first = &view["question"];
        assert_eq!(first["number"], 1);
        assert_eq!(first["red_flag"], true, "warning signs are asked first: {first}");

        let done = patient.run_interview(view.clone(), always("yes")).await;
        let outcome = &done["outcome"];
        assert_eq!(done["status"], "completed");
        assert_eq!(outcome["level"], "emergency");
        assert_eq!(outcome["modality"], "emergency");
        assert_eq!(outcome["stopped_early"], true, "{done}");
        assert_eq!(done["answers"].as_array().unwrap().len(), 1, "stops at the first warning sign");
        assert_eq!(outcome["call"], "Call 911 now.");
        assert!(!outcome["while_waiting"].as_array().unwrap().is_empty());
        assert!(outcome.get("specialty").is_none(), "no booking offer for an emergency");
        let reasons = outcome["reasons"].as_array().unwrap();
        assert!(!reasons.is_empty() && reasons.iter().all(|r| r["url"].as_str().unwrap().starts_with("http")));

        // The record: the interview as a completed QuestionnaireResponse, the outcome as a
        // RiskAssessment based on it.
        let id = done["id"].as_str().unwrap();
        let qr = patient.get(&format!("QuestionnaireResponse/{id}")).await;
        qr.assert_status(200);
        assert_eq!(qr.body["status"], "completed");
        assert_eq!(qr.body["subject"]["reference"], "Patient/p1");
        let assessment = outcome["assessment_id"].as_str().unwrap();
        let ra = patient.get(&format!("RiskAssessment/{assessment}")).await;
        ra.assert_status(200);
        assert_eq!(ra.body["basis"][0]["reference"], format!("QuestionnaireResponse/{id}"));
        assert_eq!(ra.body["prediction"][0]["qualitativeRisk"]["coding"][0]["code"], "emergency");
        let found = patient.search_ids("RiskAssessment?risk=emergency&subject=Patient/p1").await;
        assert_eq!(found, vec![assessment.to_owned()]);

        // Read again in French from France: the local numbers.
        let fr = patient
            .triage_get_with(&format!("interviews/{id}"), &[("accept-language", "fr-FR")])
            .await;
        fr.assert_status(200);
        // The interview is in English; the number is France's.
        assert_eq!(fr.body["outcome"]["call"], "Call 15 (or 112) now.");
        // Finished: no more answers.
        let late = patient
            .triage_post(&format!("interviews/{id}/answers"), &json!({"question": first["id"], "answer": "no"}))
            .await;
        late.assert_status(422);
    }

    async fn a_calm_story_ends_with_a_visit_or_self_care_and_explains_why(app) {
        fixtures(&app).await;
        let patient = app.as_user(&session_for(&app, "patient", Some("Patient/p1")).await);
        let started = patient
            .triage_post("interviews", &json!({"age_years": 30, "sex": "female", "complaint": "sore-throat", "lang": "fr"}))
            .await;
        started.assert_status(201);
        assert_eq!(started.body["lang"], "fr");
        let done = patient.run_interview(started.body, always("no")).await;
        let outcome = &done["outcome"];
        assert_ne!(outcome["level"], "emergency", "{done}");
        assert!(!outcome["reasons"].as_array().unwrap().is_empty());
        assert!(outcome["within_hours"].as_u64().is_some());
        assert!(outcome["specialty"].as_str().is_some());
        if outcome["level"] == "self-care" {
            assert!(!outcome["advice"].as_array().unwrap().is_empty());
            assert!(!outcome["safety_net"].as_array().unwrap().is_empty());
        }
        // Every answer is listed in the patient's words (French here).
        let answers = done["answers"].as_array().unwrap();
        assert!(answers.iter().any(|a| a["words"] == "Non"), "{done}");
    }

    async fn bad_requests_say_what_to_fix(app) {
        fixtures(&app).await;
        let patient = app.as_user(&session_for(&app, "patient", Some("Patient/p1")).await);
        for (body, expected) in [
            (json!({"sex": "male", "complaint": "chest-pain"}), "age_years"),
            (json!({"age_years": 40, "sex": "robot", "complaint": "chest-pain"}), "sex must be"),
            (json!({"age_years": 40, "sex": "male"}), "name the complaint"),
            (json!({"age_years": 40, "sex": "male", "complaint": "time-travel"}), "not a known complaint"),
            (json!({"age_years": 40, "sex": "male", "complaint_text": "qwxz vbnm"}), "could not recognise"),
            (json!({"age_years": 40, "sex": "male", "complaint": "fever-child"}), "children"),
            (json!({"age_years": 40, "sex": "male", "complaint": "chest-pain", "conditions": ["gout"]}), "unknown condition"),
        ] {
            let answer = patient.triage_post("interviews", &body).await;
            answer.assert_status(422);
            assert!(answer.body["error"].as_str().unwrap().contains(expected), "{body}: {}", answer.body);
        }
        let unknown_field = patient
            .triage_post("interviews", &json!({"age_years": 40, "sex": "male", "complaint": "chest-pain", "colour": "red"}))
            .await;
        assert!(unknown_field.status == 422 || unknown_field.status == 400, "{}", unknown_field.status);

        let view = patient.triage_post("interviews", &adult_start("chest pain")).await.body;
        let id = view["id"].as_str().unwrap();
        let q = view["question"]["id"].as_str().unwrap();
        let path = format!("interviews/{id}/answers");
        let bad = patient.triage_post(&path, &json!({"question": q, "answer": "perhaps"})).await;
        bad.assert_status(422);
        assert!(bad.body["error"].as_str().unwrap().contains("yes, no or unsure"));
        let wrong = patient.triage_post(&path, &json!({"question": "not_a_question", "answer": "no"})).await;
        wrong.assert_status(422);
        // A stale page (older version) is refused, not silently merged.
        patient.triage_post(&path, &json!({"question": q, "answer": "no", "version": view["version"]})).await.assert_status(200);
        let stale = patient.triage_post(&path, &json!({"question": q, "answer": "yes", "version": view["version"]})).await;
        stale.assert_status(409);
        // Unknown interview.
        patient.triage_get("interviews/nope").await.assert_status(404);
        // Without signing in.
        app.anonymous().triage_get(&format!("interviews/{id}")).await.assert_status(401);
    }

    async fn patients_never_see_each_others_triage(app) {
        fixtures(&app).await;
        let p1 = app.as_user(&session_for(&app, "patient", Some("Patient/p1")).await);
        let p2 = app.as_user(&session_for(&app, "patient", Some("Patient/p2")).await);
        let view = p1.triage_post("interviews", &adult_start("chest pain")).await.body;
        let id = view["id"].as_str().unwrap();
        p2.triage_get(&format!("interviews/{id}")).await.assert_status(404);
        p2.triage_post(&format!("interviews/{id}/answers"), &json!({"question": view["question"]["id"], "answer": "yes"}))
            .await
            .assert_status(404);
        p2.get(&format!("QuestionnaireResponse/{id}")).await.assert_status(403);
        let for_other = p1
            .triage_post("interviews", &json!({"patient_id": "p2", "age_years": 40, "sex": "male", "complaint": "chest-pain"}))
            .await;
        for_other.assert_status(403);
        p1.triage_get("queue").await.assert_status(403);
        // The interview is untouched by the refused answer.
        let again = p1.triage_get(&format!("interviews/{id}")).await;
        assert_eq!(again.body["answers"].as_array().unwrap().len(), 0);
    }

    async fn clinicians_see_their_patients_most_urgent_first_and_can_retriage(app) {
        fixtures(&app).await;
        let p1 = app.as_user(&session_for(&app, "patient", Some("Patient/p1")).await);
        let p2 = app.as_user(&session_for(&app, "patient", Some("Patient/p2")).await);
        let dr = app.as_user(&session_for(&app, "practitioner", Some("Practitioner/dr-a")).await);
        let admin = app.as_user(&session_for(&app, "administrator", None).await);

        // p1: a calm sore throat first, then an emergency; p2 (not dr A's) an emergency.
        let calm = p1.triage_post("interviews", &json!({"age_years": 30, "sex": "female", "complaint": "sore-throat"})).await.body;
        let calm = p1.run_interview(calm, always("no")).await;
        let urgent = p1.triage_post("interviews", &adult_start("chest pain")).await.body;
        let urgent = p1.run_interview(urgent, always("yes")).await;
        let other = p2.triage_post("interviews", &adult_start("chest pain")).await.body;
        let other = p2.run_interview(other, always("yes")).await;

        let queue = dr.triage_get("queue").await;
        queue.assert_status(200);
        let ids: Vec<&str> = queue.body.as_array().unwrap().iter().map(|e| e["interview_id"].as_str().unwrap()).collect();
        assert_eq!(ids, [urgent["id"].as_str().unwrap(), calm["id"].as_str().unwrap()], "most urgent first, only dr A's patients");
        assert_eq!(queue.body[0]["level"], "emergency");
        let all = admin.triage_get("queue").await.body;
        assert_eq!(all.as_array().unwrap().len(), 3);
        assert_eq!(all[2]["interview_id"], calm["id"], "the calm story last, after both emergencies: {all}");
        assert_eq!(all[0]["interview_id"], urgent["id"], "among equals, the longest waiting first");

        // Equal urgency: waiting time decides. A RiskAssessment written over plain FHIR REST
        // joins the queue too (the index follows every write).
        let calm_ra = calm["outcome"]["assessment_id"].as_str().unwrap().to_owned();
        let stored = admin.get(&format!("RiskAssessment/{calm_ra}")).await.body;
        let mut older = stored.clone();
        older["id"] = json!("older-one");
        older["occurrenceDateTime"] = json!("2020-01-01T00:00:00Z");
        app.upsert(&older).await;
        let ids: Vec<String> = dr.triage_get("queue").await.body.as_array().unwrap().iter()
            .map(|e| e["assessment_id"].as_str().unwrap().to_owned()).collect();
        assert_eq!(ids[1..], ["older-one".to_owned(), calm_ra.clone()], "same urgency: longest waiting first");

        // Re-triage needs a reason, and is for clinicians of the patient only.
        let path = format!("assessments/{calm_ra}/retriage");
        dr.triage_post(&path, &json!({"level": "urgent", "modality": "video", "reason": " "})).await.assert_status(422);
        p1.triage_post(&path, &json!({"level": "urgent", "modality": "video", "reason": "x"})).await.assert_status(403);
        let other_ra = other["outcome"]["assessment_id"].as_str().unwrap();
        dr.triage_post(&format!("assessments/{other_ra}/retriage"), &json!({"level": "routine", "modality": "video", "reason": "x"}))
            .await
            .assert_status(403);
        let changed = dr.triage_post(&path, &json!({"level": "urgent", "modality": "video", "reason": "Pus on the tonsils on the photo sent"})).await;
        changed.assert_status(200);
        assert_eq!(changed.body["level"], "urgent");
        assert_eq!(changed.body["status"], "amended");
        assert!(changed.body["notes"][0].as_str().unwrap().contains("Pus on the tonsils"));
        // The patient's view follows the clinician; the engine's level stays on record.
        let seen = p1.triage_get(&format!("interviews/{}", calm["id"].as_str().unwrap())).await.body;
        assert_eq!(seen["outcome"]["level"], "urgent");
        assert_eq!(seen["outcome"]["modality"], "video");
        assert_eq!(seen["outcome"]["engine_level"], calm["outcome"]["level"]);
        let history = admin.get(&format!("RiskAssessment/{calm_ra}/_history")).await;
        assert_eq!(history.body["total"], 2, "the engine's version is kept");

        // Reviewed: it leaves the queue.
        dr.triage_post(&format!("assessments/{calm_ra}/review"), &json!({"note": "Called back"})).await.assert_status(200);
        let ids: Vec<String> = dr.triage_get("queue").await.body.as_array().unwrap().iter()
            .map(|e| e["assessment_id"].as_str().unwrap().to_owned()).collect();
        assert!(!ids.contains(&calm_ra));
        assert_eq!(ids.len(), 2);
    }

    async fn the_vignette_suite_through_the_interview_api(app) {
        fixtures(&app).await;
        let patient = app.as_user(&session_for(&app, "patient", Some("Patient/p1")).await);
        let library = carefront_triage::Library::shared();
        let cases = vignettes::embedded().unwrap();
        let mut report = Report::default();
        for case in &cases {
            let p = case.patient();
            let mut body = json!({
                "age_months": p.age_months, "sex": p.sex.code(), "pregnant": p.pregnant,
                "conditions": p.conditions.iter().map(|c| c.code()).collect::<Vec<_>>(),
                "complaint_text": case.says, "lang": case.lang.code(),
                "for_child": p.age_years() < 16.0,
            });
            let mut started = patient.triage_post("interviews", &body).await;
            // Words that could mean several complaints: the patient picks theirs, if offered.
            if let Some(candidates) = started.body["candidates"].as_array() {
                if candidates.iter().any(|c| c == case.protocol.as_str()) {
                    body["complaint"] = json!(case.protocol);
                    started = patient.triage_post("interviews", &body).await;
                }
            }
            if started.status != 201 || started.body["complaint"]["id"] != case.protocol.as_str() {
                report.record(case, Err(format!("{}: \"{}\" started as {}", case.id, case.says, started.body)));
                continue;
            }
            let mut view = started.body;
            let mut broken = None;
            while let Some(question) = view.get("question").cloned() {
                let id = question["id"].as_str().unwrap();
                let protocol = library.get(&case.protocol).unwrap();
                let reply = match case.reply(id, &protocol.question(id).unwrap().kind) {
                    Ok(r) => r,
                    Err(why) => { broken = Some(why); break; }
                };
                let answered = patient
                    .triage_post(&format!("interviews/{}/answers", view["id"].as_str().unwrap()),
                        &json!({"question": id, "answer": reply, "version": view["version"]}))
                    .await;
                answered.assert_status(200);
                view = answered.body;
            }
            let got = match broken {
                Some(why) => Err(why),
                None => Ok((
                    Level::parse(view["outcome"]["level"].as_str().unwrap()).unwrap(),
                    view["outcome"]["modality"].as_str().and_then(Modality::parse),
                )),
            };
            report.record(case, got);
        }
        println!("vignette suite over HTTP ({:?}):\n{report}", app.backend);
        assert!(cases.len() >= 120, "{} vignettes", cases.len());
        assert_eq!(report.emergencies_missed, 0, "{report}");
        assert!(report.misses.is_empty(), "{report}");
    }

    async fn complaints_are_recognised_in_english_and_french(app) {
        let patient = app.as_user(&session_for(&app, "patient", None).await);
        let found = patient.triage_get("complaints?q=douleur%20poitrine&lang=fr").await;
        found.assert_status(200);
        assert_eq!(found.body[0]["id"], "chest-pain", "{}", found.body);
        let title = &carefront_triage::Library::shared().get("chest-pain").unwrap().title.fr;
        assert_eq!(&found.body[0]["title"], title);
        let all = patient.triage_get("complaints?age=40").await.body;
        let all = all.as_array().unwrap();
        assert!(all.len() >= 30, "{}", all.len());
        assert!(all.iter().all(|c| c["id"] != "fever-child"), "adult list leaves out children's complaints");
    }
}
