//! Booking over HTTP: availability generation (weekly hours, exceptions, daylight saving),
//! search, hold, book, cancel, reschedule, waitlist, reminders, the Argonaut operations, and
//! "one slot, one appointment" under 200 racing clients, on SQLite and PostgreSQL.

use carefront_booking::scheduling::jiff::Timestamp;
use carefront_booking::ScheduleSpec;
use carefront_store::tables::outbox;
use serde_json::{json, Value};

use crate::both_stores;
use crate::helpers::{entries, session_for, Answer, TestApp};

const GP: &str = "394814009";

/// A clinic in `zone` with one GP (speaking `lang`) and a patient with an email address.
async fn network(app: &TestApp, key: &str, zone: &str, position: (f64, f64), lang: &str) {
    app.upsert(&json!({"resourceType": "Organization", "id": format!("org-{key}"), "name": key}))
        .await;
    app.upsert(&json!({"resourceType": "Location", "id": format!("loc-{key}"), "name": format!("Clinic {key}"),
        "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/timezone", "valueCode": zone}],
        "position": {"latitude": position.0, "longitude": position.1},
        "managingOrganization": {"reference": format!("Organization/org-{key}")}}))
        .await;
    app.upsert(
        &json!({"resourceType": "Practitioner", "id": format!("dr-{key}"),
        "name": [{"family": format!("Doc{key}"), "prefix": ["Dr"]}],
        "communication": [{"coding": [{"system": "urn:ietf:bcp:47", "code": lang}]}]}),
    )
    .await;
    app.upsert(&json!({"resourceType": "PractitionerRole", "id": format!("role-{key}"),
        "practitioner": {"reference": format!("Practitioner/dr-{key}")},
        "organization": {"reference": format!("Organization/org-{key}")},
        "specialty": [{"coding": [{"system": "http://snomed.info/sct", "code": GP, "display": "General practice"}]}],
        "location": [{"reference": format!("Location/loc-{key}")}]}))
        .await;
}

async fn patient(app: &TestApp, id: &str) {
    app.upsert(
        &json!({"resourceType": "Patient", "id": id, "name": [{"family": id, "given": ["Pat"]}],
        "telecom": [{"system": "email", "value": format!("{id}@example.org")}]}),
    )
    .await;
}

/// A schedule open every day, all day, so that free times exist whenever the test runs.
fn always_open(key: &str, zone: &str) -> ScheduleSpec {
    use carefront_booking::scheduling::Modality;
    let mut spec = ScheduleSpec::new(
        &format!("role-{key}"),
        &format!("loc-{key}"),
        Modality::InClinic,
        zone,
    )
    .open_all_week();
    spec.slot_minutes = 30;
    spec.notice_minutes = 60;
    spec.horizon_days = 2;
    spec.cancel_notice_hours = 0;
    spec
}

impl TestApp {
    async fn api(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> Answer {
        let mut request = self
            .client
            .request(method, format!("{}/api/booking/{path}", self.root));
        if let Some(body) = body {
            request = request.json(body);
        }
        self.send(request).await
    }

    async fn api_get(&self, path: &str) -> Answer {
        self.api(reqwest::Method::GET, path, None).await
    }

    async fn api_post(&self, path: &str, body: &Value) -> Answer {
        self.api(reqwest::Method::POST, path, Some(body)).await
    }
}

/// A Paris clinic with an always-open schedule, patients p1..p3; the free slot ids in order.
async fn open_clinic(app: &TestApp) -> Vec<String> {
    network(app, "paris", "Europe/Paris", (48.8566, 2.3522), "fr").await;
    for p in ["p1", "p2", "p3"] {
        patient(app, p).await;
    }
    let spec = always_open("paris", "Europe/Paris");
    let answer = app
        .send(
            app.client
                .put(format!("{}/api/booking/schedules/{}", app.root, spec.id))
                .json(&spec.to_fhir().unwrap()),
        )
        .await;
    answer.assert_status(200);
    assert!(
        answer.body["created"].as_u64().unwrap() >= 48,
        "{}",
        answer.body
    );
    let offers = app
        .api_get(&format!("slots?specialty={GP}&per=12&limit=1"))
        .await;
    offers.assert_status(200);
    offers.body["offers"][0]["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["slot_id"].as_str().unwrap().to_owned())
        .collect()
}

async fn slot_status(app: &TestApp, slot: &str) -> String {
    let answer = app.get(&format!("Slot/{slot}")).await;
    answer.assert_status(200);
    answer.body["status"].as_str().unwrap().to_owned()
}

both_stores! {
    async fn availability_follows_local_time_across_daylight_saving(app) {
        network(&app, "ny", "America/New_York", (42.36, -71.06), "en").await;
        network(&app, "fr", "Europe/Paris", (48.85, 2.35), "fr").await;
        use carefront_booking::scheduling::jiff::civil::{Time, Weekday};
        use carefront_booking::scheduling::WeeklyHours;
        for (key, zone, before, after) in [
            // Paris springs forward on 2027-03-28: 09:00 is 08:00Z before, 07:00Z after.
            ("fr", "Europe/Paris", "2027-03-22T08:00:00Z", "2027-03-29T07:00:00Z"),
            // Paris falls back on 2026-10-25: 09:00 is 07:00Z before, 08:00Z after.
            ("fr", "Europe/Paris", "2026-10-19T07:00:00Z", "2026-10-26T08:00:00Z"),
            // New York springs forward on 2027-03-14: 09:00 is 14:00Z before, 13:00Z after.
            ("ny", "America/New_York", "2027-03-08T14:00:00Z", "2027-03-15T13:00:00Z"),
            // New York falls back on 2026-11-01: 09:00 is 13:00Z before, 14:00Z after.
            ("ny", "America/New_York", "2026-10-26T13:00:00Z", "2026-11-02T14:00:00Z"),
        ] {
            let mut spec = always_open(key, zone);
            spec.weekly = vec![WeeklyHours { day: Weekday::Monday, start: Time::constant(9, 0, 0, 0), end: Time::constant(12, 0, 0, 0) }];
            spec.slot_minutes = 50;
            spec.buffer_minutes = 10;
            spec.horizon_days = 14;
            let now: Timestamp = before.parse::<Timestamp>().unwrap() - carefront_booking::scheduling::jiff::SignedDuration::from_hours(72);
            let made = app.state.booking.save_schedule(&spec, now).await.unwrap();
            // Three 50-minute visits with 10-minute gaps each Monday, two or three Mondays.
            assert!(made.created >= 6, "{made:?}");
            for start in [before, after] {
                let answer = app.find("Slot", &[("schedule", &format!("Schedule/{}", spec.id)), ("start", start)]).await;
                answer.assert_status(200);
                assert_eq!(entries(&answer.body).len(), 1, "a slot at {start} in {zone}");
            }
            // The second visit starts an hour after the first (50 minutes and a 10-minute buffer).
            let second = (after.parse::<Timestamp>().unwrap() + carefront_booking::scheduling::jiff::SignedDuration::from_mins(60)).to_string();
            let answer = app.find("Slot", &[("schedule", &format!("Schedule/{}", spec.id)), ("start", &second)]).await;
            assert_eq!(entries(&answer.body).len(), 1, "a slot at {second} in {zone}");
            // Regenerating is idempotent.
            let again = app.state.booking.regenerate(&spec.id, now).await.unwrap();
            assert_eq!((again.created, again.removed), (0, 0));
        }
    }

    async fn exceptions_notice_and_horizon_shape_what_patients_see(app) {
        use carefront_booking::scheduling::jiff::civil::{date, Time, Weekday};
        use carefront_booking::scheduling::{AvailabilityException, ExceptionKind, WeeklyHours};
        use carefront_booking::SlotQuery;
        network(&app, "fr", "Europe/Paris", (48.85, 2.35), "fr").await;
        let mut spec = always_open("fr", "Europe/Paris");
        spec.weekly = vec![WeeklyHours { day: Weekday::Monday, start: Time::constant(9, 0, 0, 0), end: Time::constant(12, 0, 0, 0) }];
        spec.slot_minutes = 60;
        spec.notice_minutes = 24 * 60;
        spec.horizon_days = 20;
        spec.exceptions = vec![
            // A holiday: Monday 2027-01-11 closed all day.
            AvailabilityException { kind: ExceptionKind::Unavailable, start: date(2027, 1, 11).at(0, 0, 0, 0), end: date(2027, 1, 12).at(0, 0, 0, 0), note: Some("holiday".into()) },
            // Extra hours on Saturday 2027-01-16, 10:00-12:00.
            AvailabilityException { kind: ExceptionKind::Extra, start: date(2027, 1, 16).at(10, 0, 0, 0), end: date(2027, 1, 16).at(12, 0, 0, 0), note: None },
        ];
        // Now: Sunday 2027-01-03 10:00 in Paris.
        let now: Timestamp = "2027-01-03T09:00:00Z".parse().unwrap();
        app.state.booking.save_schedule(&spec, now).await.unwrap();
        let starts = |day: &str| {
            let app = &app;
            let id = spec.id.clone();
            let day = day.to_owned();
            async move {
                let answer = app.find("Slot", &[("schedule", &format!("Schedule/{id}")), ("start", &day)]).await;
                entries(&answer.body).len()
            }
        };
        assert_eq!(starts("2027-01-04").await, 3, "Monday: 09, 10, 11");
        assert_eq!(starts("2027-01-11").await, 0, "the holiday");
        assert_eq!(starts("2027-01-16").await, 2, "Saturday's extra hours");
        assert_eq!(starts("2027-01-17").await, 0);
        // With a day of notice at 10:00 on Sunday, Monday 09:00 is too soon; 10:00 is not.
        let query = SlotQuery { limit: 1, slots_per_result: 12, ..Default::default() };
        let offers = app.state.booking.search(&query, now).await.unwrap();
        let first: Vec<&str> = offers[0].slots.iter().map(|s| s.start.as_str()).collect();
        assert_eq!(first[0], "2027-01-04T10:00:00+01:00", "09:00 is within 24 h of notice");
        // The horizon ends 20 days after today: Saturday 16th is in, nothing after the 23rd.
        assert!(first.contains(&"2027-01-16T10:00:00+01:00"), "{first:?}");
        assert!(first.iter().all(|s| *s < "2027-01-24"), "{first:?}");
    }

    async fn leave_removes_free_times_and_reports_booked_ones(app) {
        let slots = open_clinic(&app).await;
        let booked = app.api_post("appointments", &json!({"slot_id": slots[0], "patient_id": "p1"})).await;
        booked.assert_status(201);
        let mut spec = always_open("paris", "Europe/Paris");
        spec.active = false;
        let answer = app.send(app.client.put(format!("{}/api/booking/schedules/{}", app.root, spec.id)).json(&spec.to_fhir().unwrap())).await;
        answer.assert_status(200);
        assert!(answer.body["removed"].as_u64().unwrap() > 40, "{}", answer.body);
        let conflicts = answer.body["conflicts"].as_array().unwrap();
        assert_eq!(conflicts.len(), 1, "{}", answer.body);
        assert_eq!(conflicts[0]["slot_id"], slots[0].as_str());
        // The booked appointment is still there and still holds its slot.
        assert_eq!(slot_status(&app, &slots[0]).await, "busy");
        let free = app.api_get(&format!("slots?specialty={GP}")).await;
        assert_eq!(free.body["offers"].as_array().unwrap().len(), 0);
    }

    async fn search_filters_and_orders(app) {
        open_clinic(&app).await;
        network(&app, "boston", "America/New_York", (42.3601, -71.0589), "en").await;
        let spec = always_open("boston", "America/New_York");
        app.state.booking.save_schedule(&spec, Timestamp::now()).await.unwrap();
        // Nearest to Boston first, with distances.
        let near = app.api_get(&format!("slots?specialty={GP}&near=42.35,-71.06&sort=nearest")).await;
        near.assert_status(200);
        let offers = near.body["offers"].as_array().unwrap();
        assert_eq!(offers.len(), 2);
        assert_eq!(offers[0]["location_id"], "loc-boston");
        assert!(offers[0]["distance_km"].as_f64().unwrap() < 2.0);
        assert!(offers[1]["distance_km"].as_f64().unwrap() > 5000.0);
        // Within 100 km of Paris: only Paris. French speakers: only Paris.
        let within = app.api_get("slots?near=48.85,2.35&within_km=100").await;
        assert_eq!(within.body["offers"].as_array().unwrap().len(), 1);
        let french = app.api_get("slots?language=fr").await;
        assert_eq!(french.body["offers"][0]["practitioner_id"], "dr-paris");
        assert_eq!(french.body["offers"].as_array().unwrap().len(), 1);
        // Every offered time respects the hour of notice and is in the clinic's offset.
        let soonest = Timestamp::now() + carefront_booking::scheduling::jiff::SignedDuration::from_mins(59);
        for offer in offers {
            for slot in offer["slots"].as_array().unwrap() {
                let start: Timestamp = slot["start"].as_str().unwrap().parse().unwrap();
                assert!(start >= soonest, "{slot}");
            }
        }
        assert!(offers[0]["slots"][0]["start"].as_str().unwrap().ends_with("-05:00")
            || offers[0]["slots"][0]["start"].as_str().unwrap().ends_with("-04:00"));
        // Clear errors for bad input.
        let bad = app.api_get("slots?modality=teleport").await;
        bad.assert_status(400);
        assert!(bad.body["error"].as_str().unwrap().contains("modality"));
        let bad = app.api_get("slots?sort=nearest").await;
        bad.assert_status(400);
    }

    async fn booking_takes_the_slot_mails_and_releases_it_on_cancel(app) {
        let slots = open_clinic(&app).await;
        let booked = app.api_post("appointments", &json!({"slot_id": slots[0], "patient_id": "p1", "reason": "sore throat"})).await;
        booked.assert_status(201);
        let id = booked.body["appointment_id"].as_str().unwrap().to_owned();
        assert_eq!(slot_status(&app, &slots[0]).await, "busy");
        let appointment = app.get(&format!("Appointment/{id}")).await;
        assert_eq!(appointment.body["status"], "booked");
        assert_eq!(appointment.body["slot"][0]["reference"], format!("Slot/{}", slots[0]));
        // The same slot again: 409 with alternatives.
        let again = app.api_post("appointments", &json!({"slot_id": slots[0], "patient_id": "p2"})).await;
        again.assert_status(409);
        assert!(again.body["error"].as_str().unwrap().contains("taken"));
        assert!(!again.body["alternatives"][0]["slots"].as_array().unwrap().is_empty());
        // Plain FHIR REST gets the same answer.
        let rest = app.post("Appointment", &json!({"resourceType": "Appointment", "status": "booked",
            "slot": [{"reference": format!("Slot/{}", slots[0])}],
            "participant": [{"actor": {"reference": "Patient/p2"}, "status": "accepted"}]})).await;
        rest.assert_status(409);
        // Confirmation with an invitation; reminders only for times still ahead.
        let store = app.state.repo.store().as_ref();
        let mail = outbox::of_topic(store, &id).await.unwrap();
        assert!(mail[0].subject.starts_with("Rendez-vous confirmé") || mail[0].subject.starts_with("Appointment confirmed"), "{:?}", mail[0].subject);
        let ics = mail[0].attachment.as_ref().expect("an .ics invitation");
        assert!(ics.body.contains("BEGIN:VEVENT") && ics.body.contains("METHOD:REQUEST"));
        assert!(!mail[0].body_text.contains("sore throat"), "no clinical content in mail");
        // Cancel: the slot is free again, reminders withdrawn, a cancellation sent.
        let cancelled = app.api_post(&format!("appointments/{id}/cancel"), &json!({})).await;
        cancelled.assert_status(200);
        assert_eq!(slot_status(&app, &slots[0]).await, "free");
        assert!(outbox::of_topic(store, &id).await.unwrap().iter().all(|m| m.sent_at.is_some() || m.send_after.is_none()));
        let rebook = app.api_post("appointments", &json!({"slot_id": slots[0], "patient_id": "p2"})).await;
        rebook.assert_status(201);
    }

    async fn reminders_wait_until_their_time(app) {
        network(&app, "paris", "Europe/Paris", (48.85, 2.35), "fr").await;
        patient(&app, "p1").await;
        let mut spec = always_open("paris", "Europe/Paris");
        spec.horizon_days = 3;
        app.state.booking.save_schedule(&spec, Timestamp::now()).await.unwrap();
        // A slot two days ahead gets both reminders (24 h and 2 h before).
        let from = Timestamp::now() + carefront_booking::scheduling::jiff::SignedDuration::from_hours(48);
        let offers = app.api_get(&format!("slots?from={from}&limit=1&per=1")).await;
        let slot = offers.body["offers"][0]["slots"][0].clone();
        let booked = app.api_post("appointments", &json!({"slot_id": slot["slot_id"], "patient_id": "p1"})).await;
        booked.assert_status(201);
        let id = booked.body["appointment_id"].as_str().unwrap();
        let start: Timestamp = slot["start"].as_str().unwrap().parse().unwrap();
        let mail = outbox::of_topic(app.state.repo.store().as_ref(), id).await.unwrap();
        let mut waits: Vec<i64> = mail.iter().filter_map(|m| m.send_after).collect();
        waits.sort();
        let hours = |h: i64| start.as_microsecond() - h * 3_600_000_000;
        assert_eq!(waits, vec![hours(24), hours(2)]);
        // Not due yet: the sender leaves them alone.
        let due = outbox::due(app.state.repo.store().as_ref(), Timestamp::now().as_microsecond(), 10, 100).await.unwrap();
        assert!(due.iter().all(|m| m.send_after.is_none()));
    }

    async fn reschedule_moves_in_one_step(app) {
        let slots = open_clinic(&app).await;
        let booked = app.api_post("appointments", &json!({"slot_id": slots[0], "patient_id": "p1"})).await;
        let id = booked.body["appointment_id"].as_str().unwrap().to_owned();
        let other = app.api_post("appointments", &json!({"slot_id": slots[2], "patient_id": "p2"})).await;
        other.assert_status(201);
        // Moving onto a taken time changes nothing.
        let refused = app.api_post(&format!("appointments/{id}/reschedule"), &json!({"slot_id": slots[2]})).await;
        refused.assert_status(409);
        assert_eq!(slot_status(&app, &slots[0]).await, "busy");
        let moved = app.api_post(&format!("appointments/{id}/reschedule"), &json!({"slot_id": slots[1]})).await;
        moved.assert_status(200);
        assert_eq!(slot_status(&app, &slots[0]).await, "free");
        assert_eq!(slot_status(&app, &slots[1]).await, "busy");
        let a = app.get(&format!("Appointment/{id}")).await;
        assert_eq!(a.body["slot"][0]["reference"], format!("Slot/{}", slots[1]));
    }

    async fn holds_keep_a_slot_for_one_patient(app) {
        let slots = open_clinic(&app).await;
        let held = app.api_post("holds", &json!({"slot_id": slots[0], "patient_id": "p1"})).await;
        held.assert_status(201);
        assert_eq!(slot_status(&app, &slots[0]).await, "busy-tentative");
        let hold = held.body["appointment_id"].as_str().unwrap();
        // Asking again (a reloaded page) keeps the same hold.
        let again = app.api_post("holds", &json!({"slot_id": slots[0], "patient_id": "p1"})).await;
        again.assert_status(201);
        assert_eq!(again.body["appointment_id"], hold);
        // A blocked time cannot be held.
        let staff = carefront_booking::Actor::Staff { account_id: "a".into(), name: "Reception".into() };
        app.state.booking.block(&staff, &slots[1], true).await.unwrap();
        let blocked = app.api_post("holds", &json!({"slot_id": slots[1], "patient_id": "p1"})).await;
        blocked.assert_status(403);
        assert!(blocked.body["error"].as_str().unwrap().contains("blocked"));
        let other = app.api_post("appointments", &json!({"slot_id": slots[0], "patient_id": "p2"})).await;
        other.assert_status(409);
        let mine = app.api_post("appointments", &json!({"slot_id": slots[0], "patient_id": "p1", "hold": hold})).await;
        mine.assert_status(201);
        assert_eq!(mine.body["appointment_id"], hold);
        assert_eq!(slot_status(&app, &slots[0]).await, "busy");
    }

    async fn a_freed_slot_is_offered_to_the_waitlist(app) {
        let slots = open_clinic(&app).await;
        let booked = app.api_post("appointments", &json!({"slot_id": slots[0], "patient_id": "p1"})).await;
        let id = booked.body["appointment_id"].as_str().unwrap().to_owned();
        let until = Timestamp::now() + carefront_booking::scheduling::jiff::SignedDuration::from_hours(48);
        let wait = app.api_post("waitlist", &json!({"specialty": GP, "until": until.to_string(), "patient_id": "p2"})).await;
        wait.assert_status(201);
        let entry = wait.body["appointment_id"].as_str().unwrap().to_owned();
        app.api_post(&format!("appointments/{id}/cancel"), &json!({})).await.assert_status(200);
        // p2's entry now holds the freed slot for them, and they were told.
        let offered = app.get(&format!("Appointment/{entry}")).await;
        assert_eq!(offered.body["status"], "pending");
        assert_eq!(offered.body["slot"][0]["reference"], format!("Slot/{}", slots[0]));
        let mail = outbox::of_topic(app.state.repo.store().as_ref(), &entry).await.unwrap();
        assert!(mail.iter().any(|m| m.subject.contains("earlier") || m.subject.contains("plus tôt")), "{mail:?}");
        let taken = app.api_post("appointments", &json!({"slot_id": slots[0], "patient_id": "p2", "hold": entry})).await;
        taken.assert_status(201);
    }

    async fn patients_book_and_cancel_only_for_themselves(app) {
        let slots = open_clinic(&app).await;
        let p1 = app.as_user(&session_for(&app, "patient", Some("Patient/p1")).await);
        let p2 = app.as_user(&session_for(&app, "patient", Some("Patient/p2")).await);
        let for_other = p1.api_post("appointments", &json!({"slot_id": slots[0], "patient_id": "p2"})).await;
        for_other.assert_status(403);
        let mine = p1.api_post("appointments", &json!({"slot_id": slots[0]})).await;
        mine.assert_status(201);
        let id = mine.body["appointment_id"].as_str().unwrap();
        let theirs = p2.api_post(&format!("appointments/{id}/cancel"), &json!({})).await;
        theirs.assert_status(404);
        let listed = p2.api_get("appointments").await;
        assert_eq!(listed.body["appointments"].as_array().unwrap().len(), 0);
        let overbook = p2.api_post("appointments", &json!({"slot_id": slots[0], "overbook": "urgent"})).await;
        overbook.assert_status(403);
        // Staff may overbook with a recorded reason.
        let staff = app.api_post("appointments", &json!({"slot_id": slots[0], "patient_id": "p2", "overbook": "urgent review"})).await;
        staff.assert_status(201);
        let a = app.get(&format!("Appointment/{}", staff.body["appointment_id"].as_str().unwrap())).await;
        assert!(a.body.to_string().contains("urgent review"));
        // An override on a free time books it normally: it is claimed like any other.
        let free = app.api_post("appointments", &json!({"slot_id": slots[1], "patient_id": "p2", "overbook": "just in case"})).await;
        free.assert_status(201);
        let a = app.get(&format!("Appointment/{}", free.body["appointment_id"].as_str().unwrap())).await;
        assert!(!a.body.to_string().contains("just in case"));
        let late = app.api_post("appointments", &json!({"slot_id": slots[1], "patient_id": "p3"})).await;
        late.assert_status(409);
        let anonymous = app.anonymous().api_get("slots").await;
        anonymous.assert_status(401);
    }

    async fn argonaut_find_hold_and_book(app) {
        open_clinic(&app).await;
        let found = app.get(&format!("Appointment/$find?specialty={GP}&_count=1")).await;
        found.assert_status(200);
        assert_eq!(found.body["resourceType"], "Bundle", "{}", found.body);
        let proposed = entries(&found.body)[0]["resource"].clone();
        assert_eq!(proposed["status"], "proposed");
        let mut appointment = proposed.clone();
        appointment["participant"].as_array_mut().unwrap().push(json!({"actor": {"reference": "Patient/p1"}, "status": "accepted"}));
        let params = json!({"resourceType": "Parameters", "parameter": [{"name": "appt-resource", "resource": appointment}]});
        let held = app.post("Appointment/$hold", &params).await;
        held.assert_status(200);
        let pending = entries(&held.body)[0]["resource"].clone();
        assert_eq!(pending["status"], "pending");
        let book = json!({"resourceType": "Parameters", "parameter": [{"name": "appt-id", "valueUri": format!("Appointment/{}", pending["id"].as_str().unwrap())}]});
        let booked = app.post("Appointment/$book", &book).await;
        booked.assert_status(200);
        assert_eq!(entries(&booked.body)[0]["resource"]["status"], "booked");
        let again = app.post("Appointment/$book", &params).await;
        again.assert_status(409);
        assert!(again.diagnostics().contains("free instead"), "{}", again.diagnostics());
    }

    async fn first_available_anywhere_scans_many_clinicians_in_time_order(app) {
        // 70 clinicians, more than are asked one by one; the i-th needs i half-hours more
        // notice, so the earliest free times belong to the first ones.
        for i in 0..70 {
            let key = format!("c{i:02}");
            network(&app, &key, "Europe/Paris", (48.85, 2.35), "fr").await;
            let mut spec = always_open(&key, "Europe/Paris");
            spec.notice_minutes = 60 + 30 * i;
            spec.horizon_days = 3;
            app.state.booking.save_schedule(&spec, Timestamp::now()).await.unwrap();
        }
        let answer = app.api_get("slots?limit=10&per=2").await;
        answer.assert_status(200);
        let offers = answer.body["offers"].as_array().unwrap();
        let who: Vec<&str> = offers.iter().map(|o| o["practitioner_id"].as_str().unwrap()).collect();
        let expected: Vec<String> = (0..10).map(|i| format!("dr-c{i:02}")).collect();
        assert_eq!(who, expected);
        let firsts: Vec<&str> = offers.iter().map(|o| o["slots"][0]["start"].as_str().unwrap()).collect();
        assert!(firsts.windows(2).all(|w| w[0] <= w[1]), "{firsts:?}");
        assert!(offers.iter().all(|o| o["slots"].as_array().unwrap().len() == 2));
    }

    async fn two_hundred_clients_racing_for_one_slot_get_one_booking(app) {
        let slots = open_clinic(&app).await;
        for i in 0..200 {
            patient(&app, &format!("racer{i}")).await;
        }
        let app = std::sync::Arc::new(app);
        let mut tasks = Vec::new();
        for i in 0..200 {
            let app = app.clone();
            let slot = slots[3].clone();
            tasks.push(tokio::spawn(async move {
                app.api_post("appointments", &json!({"slot_id": slot, "patient_id": format!("racer{i}")})).await.status
            }));
        }
        let mut statuses = Vec::new();
        for t in tasks {
            statuses.push(t.await.unwrap());
        }
        assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
        assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 199, "{statuses:?}");
        let held = app.find("Appointment", &[("slot", &format!("Slot/{}", slots[3])), ("status", "booked")]).await;
        assert_eq!(entries(&held.body).len(), 1);
    }
}
