//! Patients' clinical records: problems, allergies, three years of past visits with their
//! vital signs and results, and prescriptions, kept consistent with each other (diabetics
//! have a raised HbA1c and take metformin, hypertensive patients have higher blood pressure,
//! adults with a BMI of 30 or more have obesity on their problem list, no amoxicillin for
//! those allergic to penicillin).

mod body;
mod codes;
mod observations;

use serde_json::{json, Value};
use time::Date;

use crate::calendar::{days_after, days_before, local_time, weekday_on_or_after, ymd, AS_OF};
use crate::fhir::{
    coding, concept, reference, reference_to, resource, RXNORM, SNOMED, V3_ACT_CODE,
};
use crate::patients::{choose, Person, PAEDIATRIC_AGE};
use crate::places::Region;
use crate::rng::Rng;
use crate::workforce::{Field, StaffMember};

use body::Body;
use codes::{
    Acute, Allergy, AllergyCategory, Chronic, Drug, Kind, ACUTE, ALLERGIES, CHECK_UP, CHRONIC,
    OBESITY, PENICILLIN_ALLERGY, PROBLEM, SYMPTOM, WELL_CHILD,
};
use observations::Taken;

/// How far back visits go.
const HISTORY_DAYS: i64 = 3 * 365;
/// Chronic problems started at most this long ago.
const MAX_PROBLEM_DAYS: i64 = 12 * 365;

/// What a patient's record is drawn from besides the patient.
pub struct Setting<'a> {
    pub region: &'a Region,
    /// The region's practitioners.
    pub staff: &'a [StaffMember],
    /// The region's mean adult body mass index.
    pub bmi_mean: f64,
}

struct Problem<'a> {
    chronic: &'static Chronic,
    id: String,
    onset: Date,
    clinician: &'a StaffMember,
}

enum Purpose {
    CheckUp,
    FollowUp(usize),
    Symptom(&'static Acute),
}

struct Visit<'a> {
    day: Date,
    minutes: u32,
    purpose: Purpose,
    clinician: &'a StaffMember,
    video: bool,
}

/// The clinical record of `person`: every resource but the Patient itself.
pub fn record(person: &Person, setting: &Setting, rng: &mut Rng) -> Vec<Value> {
    Record {
        person,
        setting,
        body: Body::new(rng, person.female, setting.bmi_mean),
        pick: rng.below(8),
        out: Vec::new(),
    }
    .build(rng)
}

struct Record<'a> {
    person: &'a Person,
    setting: &'a Setting<'a>,
    body: Body,
    /// Chooses among colleagues of the same field, stable for the patient.
    pick: usize,
    out: Vec<Value>,
}

impl<'a> Record<'a> {
    fn build(mut self, rng: &mut Rng) -> Vec<Value> {
        let problems = self.problems(rng);
        let allergies = self.allergies(rng);
        let mut visits = self.visits(&problems, rng);
        visits.sort_by_key(|v| (v.day, v.minutes));
        let penicillin_allergy = allergies.iter().any(|a| a.snomed == PENICILLIN_ALLERGY);
        for (n, visit) in visits.iter().enumerate() {
            self.encounter(n + 1, visit, &problems, penicillin_allergy, rng);
        }
        self.prescriptions(&problems, rng);
        self.out
    }

    fn num(&self) -> usize {
        self.person.number
    }

    /// The text shown with a code: French, or the English display without SNOMED's
    /// semantic tag (`Viral sinusitis (disorder)` → `Viral sinusitis`).
    fn text<'t>(&self, english: &'t str, french: &'t str) -> &'t str {
        if self.person.french {
            return french;
        }
        match english.rsplit_once(" (") {
            Some((plain, tag)) if ["disorder)", "procedure)", "finding)"].contains(&tag) => plain,
            _ => english,
        }
    }

    fn subject(&self) -> Value {
        reference_to("Patient", &self.person.id, &self.person.display)
    }

    fn age_on(&self, day: Date) -> f64 {
        (day - self.person.born).whole_days() as f64 / 365.25
    }

    /// Who sees the patient for `field` at `age`: children see a paediatrician rather than
    /// a GP.
    fn clinician(&self, field: Field, age: f64) -> &'a StaffMember {
        let (staff, home) = (self.setting.staff, self.person.home_clinic);
        match field {
            Field::GeneralPractice if age < f64::from(PAEDIATRIC_AGE) => {
                if self.person.gp.field == Field::Paediatrics {
                    self.person_gp()
                } else {
                    choose(staff, Field::Paediatrics, home, self.pick)
                }
            }
            Field::GeneralPractice if self.person.gp.field == Field::GeneralPractice => {
                self.person_gp()
            }
            other => choose(staff, other, home, self.pick),
        }
    }

    fn person_gp(&self) -> &'a StaffMember {
        self.setting
            .staff
            .iter()
            .find(|s| s.practitioner_id == self.person.gp.practitioner_id)
            .expect("the family doctor works in the region")
    }

    fn problems(&mut self, rng: &mut Rng) -> Vec<Problem<'a>> {
        let age = self.person.age;
        let days_alive = (AS_OF - self.person.born).whole_days();
        let obese = age >= 18 && self.body.adult_bmi >= 30.0;
        let mut problems = Vec::new();
        for chronic in CHRONIC.iter().chain(obese.then_some(&OBESITY)) {
            let mut p = chronic.prevalence_at(age);
            match chronic.kind {
                Kind::Obesity => p = 1.0,
                // Both are more common with a high BMI.
                Kind::Hypertension | Kind::Diabetes if self.body.adult_bmi >= 30.0 => p *= 1.8,
                _ => {}
            }
            if !rng.chance(p) {
                continue;
            }
            let first_age = chronic
                .prevalence
                .iter()
                .find(|(_, p)| *p > 0.0)
                .map_or(18, |(a, _)| *a);
            let span = (days_alive - i64::from(first_age) * 365).min(MAX_PROBLEM_DAYS);
            if span < 60 {
                continue;
            }
            let onset = days_before(AS_OF, rng.range(30, span));
            let clinician = self.clinician(chronic.follow_up, self.age_on(onset));
            let id = format!("demo-cond-{:03}-{}", self.num(), problems.len() + 1);
            let recorded = days_after(onset, rng.range(0, 14)).min(AS_OF);
            self.out.push(resource(
                "Condition",
                &id,
                json!({
                    "clinicalStatus": concept("http://terminology.hl7.org/CodeSystem/condition-clinical", "active", "Active"),
                    "verificationStatus": concept("http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed", "Confirmed"),
                    "category": [concept("http://terminology.hl7.org/CodeSystem/condition-category", "problem-list-item", "Problem List Item")],
                    "code": { "coding": [coding(SNOMED, chronic.snomed, chronic.display)], "text": self.text(chronic.display, chronic.fr) },
                    "subject": self.subject(),
                    "onsetDateTime": ymd(onset),
                    "recordedDate": ymd(recorded),
                    "recorder": reference_to("Practitioner", &clinician.practitioner_id, &clinician.display),
                }),
            ));
            problems.push(Problem {
                chronic,
                id,
                onset,
                clinician,
            });
        }
        problems
    }

    fn allergies(&mut self, rng: &mut Rng) -> Vec<&'static Allergy> {
        let count = *rng.weighted(&[(70, 0), (24, 1), (6, 2)]);
        let mut chosen: Vec<&'static Allergy> = Vec::new();
        for _ in 0..count {
            let allergy = rng.weighted(ALLERGIES);
            if chosen.iter().any(|a| a.snomed == allergy.snomed) {
                continue;
            }
            let days_alive = (AS_OF - self.person.born).whole_days();
            if days_alive < 200 {
                break;
            }
            let recorded = days_before(AS_OF, rng.range(20, days_alive.min(MAX_PROBLEM_DAYS)));
            let (reaction, display, fr) = allergy.reaction;
            let category = match allergy.category {
                AllergyCategory::Food => "food",
                AllergyCategory::Medication => "medication",
                AllergyCategory::Environment => "environment",
            };
            let gp = self.clinician(Field::GeneralPractice, self.age_on(recorded));
            self.out.push(resource(
                "AllergyIntolerance",
                &format!("demo-allergy-{:03}-{}", self.num(), chosen.len() + 1),
                json!({
                    "clinicalStatus": concept("http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "active", "Active"),
                    "verificationStatus": concept("http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", "confirmed", "Confirmed"),
                    "type": "allergy",
                    "category": [category],
                    "criticality": allergy.criticality,
                    "code": { "coding": [coding(SNOMED, allergy.snomed, allergy.display)], "text": self.text(allergy.display, allergy.fr) },
                    "patient": self.subject(),
                    "recordedDate": ymd(recorded),
                    "recorder": reference_to("Practitioner", &gp.practitioner_id, &gp.display),
                    "reaction": [{
                        "manifestation": [{ "coding": [coding(SNOMED, reaction, display)], "text": self.text(display, fr) }],
                        "severity": allergy.severity,
                    }],
                }),
            ));
            chosen.push(allergy);
        }
        chosen
    }

    fn visits(&self, problems: &[Problem<'a>], rng: &mut Rng) -> Vec<Visit<'a>> {
        let born = self.person.born;
        let history_start = days_before(AS_OF, HISTORY_DAYS).max(days_after(born, 14));
        let mut visits = Vec::new();
        let slot = |rng: &mut Rng| 510 + 15 * rng.range(0, 35) as u32;
        let check_up_chance = match self.person.age {
            0..=2 => 1.0,
            65.. => 0.9,
            _ => 0.7,
        };
        for year in 0..3 {
            let day = days_before(AS_OF, year * 365 + rng.range(10, 355));
            if rng.chance(check_up_chance) && day >= history_start {
                let clinician = self.clinician(Field::GeneralPractice, self.age_on(day));
                visits.push(Visit {
                    day: weekday_on_or_after(day),
                    minutes: slot(rng),
                    purpose: Purpose::CheckUp,
                    clinician,
                    video: false,
                });
            }
        }
        for (index, problem) in problems.iter().enumerate() {
            if problem.chronic.kind == Kind::Obesity {
                continue;
            }
            let start = days_after(problem.onset, 7).max(history_start);
            let end = days_before(AS_OF, 7);
            let window = (end - start).whole_days();
            if window <= 0 {
                continue;
            }
            for _ in 0..rng.range(1, 3) {
                let day = days_after(start, rng.range(0, window));
                visits.push(Visit {
                    day: weekday_on_or_after(day),
                    minutes: slot(rng),
                    purpose: Purpose::FollowUp(index),
                    clinician: problem.clinician,
                    video: rng.chance(problem.chronic.virtual_share),
                });
            }
        }
        for _ in 0..*rng.weighted(&[(45, 0), (35, 1), (20, 2)]) {
            let day = days_before(AS_OF, rng.range(21, HISTORY_DAYS));
            if day < days_after(born, 30) {
                continue;
            }
            let age = self.age_on(day) as i32;
            let fits: Vec<&'static Acute> = ACUTE
                .iter()
                .filter(|a| (a.ages.0..=a.ages.1).contains(&age))
                .collect();
            if fits.is_empty() {
                continue;
            }
            let weighted: Vec<(u32, &'static Acute)> =
                fits.iter().map(|a| (a.weight, *a)).collect();
            let acute = *rng.weighted(&weighted);
            visits.push(Visit {
                day: weekday_on_or_after(day),
                minutes: slot(rng),
                purpose: Purpose::Symptom(acute),
                clinician: self.clinician(Field::GeneralPractice, self.age_on(day)),
                video: !acute.in_person && rng.chance(0.35),
            });
        }
        visits
    }

    fn encounter(
        &mut self,
        n: usize,
        visit: &Visit<'a>,
        problems: &[Problem<'a>],
        penicillin_allergy: bool,
        rng: &mut Rng,
    ) {
        let zone = self.setting.region.zone;
        let id = format!("demo-enc-{:03}-{n:02}", self.num());
        let age = self.age_on(visit.day);
        let (kind, minutes) = match visit.purpose {
            Purpose::CheckUp if age < 18.0 => (WELL_CHILD, 30),
            Purpose::CheckUp => (CHECK_UP, 30),
            Purpose::FollowUp(_) => (PROBLEM, 20),
            Purpose::Symptom(_) => (SYMPTOM, 15),
        };
        let start = local_time(visit.day, visit.minutes, zone);
        let end = local_time(visit.day, visit.minutes + minutes, zone);
        let clinician = visit.clinician;
        let mut body = json!({
            "status": "finished",
            "class": if visit.video {
                coding(V3_ACT_CODE, "VR", "virtual")
            } else {
                coding(V3_ACT_CODE, "AMB", "ambulatory")
            },
            "type": [{ "coding": [coding(SNOMED, kind.0, kind.1)], "text": self.text(kind.1, kind.2) }],
            "subject": self.subject(),
            "participant": [{
                "type": [concept("http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "PPRF", "primary performer")],
                "individual": reference_to("Practitioner", &clinician.practitioner_id, &clinician.display),
            }],
            "period": { "start": start, "end": end },
        });
        let acute_id = format!("demo-cond-{:03}-a{n}", self.num());
        match visit.purpose {
            Purpose::FollowUp(i) => {
                body["reasonReference"] = json!([reference("Condition", &problems[i].id)])
            }
            Purpose::Symptom(_) => {
                body["reasonReference"] = json!([reference("Condition", &acute_id)])
            }
            Purpose::CheckUp => {}
        }
        if !visit.video {
            body["location"] = json!([{ "location": reference("Location", &clinician.location_id), "status": "completed" }]);
        }
        body["serviceProvider"] = reference("Organization", &clinician.org_id);
        self.out.push(resource("Encounter", &id, body));

        if let Purpose::Symptom(acute) = visit.purpose {
            self.acute(
                acute,
                &acute_id,
                &id,
                visit,
                &start,
                penicillin_allergy,
                rng,
            );
        }
        if visit.video {
            return;
        }
        let has = |kind: Kind| {
            problems
                .iter()
                .any(|p| p.chronic.kind == kind && p.onset <= visit.day)
        };
        let taken = Taken {
            patient_id: &self.person.id,
            encounter_id: &id,
            effective: &start,
            performer_id: &clinician.practitioner_id,
        };
        let prefix = format!("demo-obs-{:03}-{n:02}", self.num());
        let vitals = match visit.purpose {
            Purpose::CheckUp => Some(true),
            Purpose::FollowUp(i) if problems[i].chronic.vitals_at_follow_up => Some(false),
            _ => None,
        };
        if let Some(full) = vitals {
            let v = self.body.vitals(age, has(Kind::Hypertension), rng);
            let obs = observations::vital_signs(&prefix, &v, age, full, &taken);
            self.out.extend(obs);
        }
        let diabetes_visit = match visit.purpose {
            Purpose::CheckUp => true,
            Purpose::FollowUp(i) => problems[i].chronic.kind == Kind::Diabetes,
            Purpose::Symptom(_) => false,
        };
        if diabetes_visit && has(Kind::Diabetes) {
            let a1c = rng.around(7.2, 0.5).clamp(6.5, 9.8);
            self.out.push(observations::hba1c(&prefix, a1c, &taken));
        } else if matches!(visit.purpose, Purpose::CheckUp) && age >= 45.0 && rng.chance(0.3) {
            // Screening of adults without diabetes: normal results.
            let a1c = rng.around(5.4, 0.2).min(6.2);
            self.out.push(observations::hba1c(&prefix, a1c, &taken));
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn acute(
        &mut self,
        acute: &Acute,
        id: &str,
        encounter_id: &str,
        visit: &Visit<'a>,
        start: &str,
        penicillin_allergy: bool,
        rng: &mut Rng,
    ) {
        let clinician = visit.clinician;
        self.out.push(resource(
            "Condition",
            id,
            json!({
                "clinicalStatus": concept("http://terminology.hl7.org/CodeSystem/condition-clinical", "resolved", "Resolved"),
                "verificationStatus": concept("http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed", "Confirmed"),
                "category": [concept("http://terminology.hl7.org/CodeSystem/condition-category", "encounter-diagnosis", "Encounter Diagnosis")],
                "code": { "coding": [coding(SNOMED, acute.snomed, acute.display)], "text": self.text(acute.display, acute.fr) },
                "subject": self.subject(),
                "encounter": reference("Encounter", encounter_id),
                "onsetDateTime": ymd(days_before(visit.day, rng.range(1, 4))),
                "abatementDateTime": ymd(days_after(visit.day, rng.range(7, 14))),
                "recordedDate": ymd(visit.day),
                "recorder": reference_to("Practitioner", &clinician.practitioner_id, &clinician.display),
            }),
        ));
        if let (Some(drug), false) = (acute.antibiotic, penicillin_allergy) {
            let rx_id = format!("{}-rx", id.replace("demo-cond-", "demo-medrx-"));
            let mut rx = self.medication_request(&rx_id, drug, "completed", start, clinician, id);
            rx["encounter"] = reference("Encounter", encounter_id);
            self.out.push(rx);
        }
    }

    fn prescriptions(&mut self, problems: &[Problem<'a>], rng: &mut Rng) {
        let age = self.person.age;
        let mut n = 0;
        for problem in problems {
            for (i, (drug, youngest, oldest)) in problem.chronic.treatments.iter().enumerate() {
                if !(*youngest..=*oldest).contains(&age) || (i > 0 && !rng.chance(0.33)) {
                    continue;
                }
                n += 1;
                let authored = days_after(problem.onset, rng.range(0, 21)).min(AS_OF);
                let rx = self.medication_request(
                    &format!("demo-medrx-{:03}-{n}", self.num()),
                    drug,
                    "active",
                    &ymd(authored),
                    problem.clinician,
                    &problem.id,
                );
                self.out.push(rx);
            }
        }
    }

    fn medication_request(
        &self,
        id: &str,
        drug: &Drug,
        status: &str,
        authored: &str,
        requester: &StaffMember,
        reason_id: &str,
    ) -> Value {
        let mut dosage = json!({ "text": self.text(drug.dose.0, drug.dose.1) });
        match drug.per_day {
            Some(times) => {
                dosage["timing"] =
                    json!({ "repeat": { "frequency": times, "period": 1, "periodUnit": "d" } })
            }
            None => dosage["asNeededBoolean"] = true.into(),
        }
        resource(
            "MedicationRequest",
            id,
            json!({
                "status": status,
                "intent": "order",
                "medicationCodeableConcept": {
                    "coding": [coding(RXNORM, drug.rxnorm, drug.display)],
                    "text": self.text(drug.display, drug.fr),
                },
                "subject": self.subject(),
                "authoredOn": authored,
                "requester": reference_to("Practitioner", &requester.practitioner_id, &requester.display),
                "reasonReference": [reference("Condition", reason_id)],
                "dosageInstruction": [dosage],
            }),
        )
    }
}
