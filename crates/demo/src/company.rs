//! The client company: an employer in Boston whose employees are enrolled in a Carefront
//! care programme, paid for through the company's health plan.

use serde_json::{json, Value};

use crate::calendar::{days_before, ymd, AS_OF};
use crate::fhir::{concept, reference, reference_to, resource, V3_ACT_CODE};
use crate::names::ascii_fold;
use crate::patients::Person;
use crate::places::{Region, GREATER_BOSTON};
use crate::rng::Rng;

pub const COMPANY_ID: &str = "demo-org-harborlight";
pub const COMPANY_NAME: &str = "Harborlight Analytics, Inc.";
pub const INSURER_ID: &str = "demo-org-harbor-mutual";
const INSURER_NAME: &str = "Harbor Mutual Health Plan";
const EMAIL_DOMAIN: &str = "harborlight.example.com";

/// How many of the Boston patients work for the company.
pub const EMPLOYEES: usize = 30;
/// Employees' ages.
pub const EMPLOYEE_AGES: (i64, i64) = (23, 62);
/// The company's region.
pub const REGION: &Region = &GREATER_BOSTON;

pub fn company(rng: &mut Rng) -> Value {
    resource(
        "Organization",
        COMPANY_ID,
        json!({
            "active": true,
            "type": [concept(
                "http://terminology.hl7.org/CodeSystem/organization-type",
                "bus",
                "Non-Healthcare Business or Corporation",
            )],
            "name": COMPANY_NAME,
            "alias": ["Harborlight"],
            "telecom": [
                { "system": "phone", "value": REGION.phone(rng, false), "use": "work" },
                { "system": "url", "value": format!("https://{EMAIL_DOMAIN}"), "use": "work" },
            ],
            "address": [REGION.address("work", vec!["88 Seaport Boulevard".into(), "Floor 9".into()], "Boston", "02210")],
            "contact": [{
                "purpose": concept("http://terminology.hl7.org/CodeSystem/contactentity-type", "HR", "Human Resource"),
                "name": { "use": "official", "family": "Okafor", "given": ["Adaeze"] },
                "telecom": [{ "system": "email", "value": format!("benefits@{EMAIL_DOMAIN}"), "use": "work" }],
            }],
        }),
    )
}

pub fn insurer(rng: &mut Rng) -> Value {
    resource(
        "Organization",
        INSURER_ID,
        json!({
            "active": true,
            "type": [concept(
                "http://terminology.hl7.org/CodeSystem/organization-type",
                "ins",
                "Insurance Company",
            )],
            "name": INSURER_NAME,
            "telecom": [{ "system": "phone", "value": REGION.phone(rng, false), "use": "work" }],
            "address": [REGION.address("work", vec!["100 Summer Street".into()], "Boston", "02110")],
        }),
    )
}

/// The employee's work e-mail, added to their Patient.
pub fn work_email(person: &Person) -> Value {
    json!({
        "system": "email",
        "value": format!("{}.{}@{EMAIL_DOMAIN}", ascii_fold(person.given), ascii_fold(person.family)),
        "use": "work",
    })
}

/// The employee's enrolment: the company holds the policy, the insurer pays.
pub fn coverage(person: &Person, employee_number: usize, rng: &mut Rng) -> Value {
    // Enrolled when the programme started (1 January 2024) or when hired since.
    let programme_start = time::macros::date!(2024 - 01 - 01);
    let enrolled = days_before(AS_OF, rng.range(30, 6 * 365)).max(programme_start);
    resource(
        "Coverage",
        &format!("demo-coverage-{:03}", person.number),
        json!({
            "status": "active",
            "type": concept(V3_ACT_CODE, "HIP", "health insurance plan policy"),
            "policyHolder": reference_to("Organization", COMPANY_ID, COMPANY_NAME),
            "subscriber": reference("Patient", &person.id),
            "subscriberId": format!("HLA-{:05}", 10_000 + employee_number * 37),
            "beneficiary": reference_to("Patient", &person.id, &person.display),
            "relationship": concept("http://terminology.hl7.org/CodeSystem/subscriber-relationship", "self", "Self"),
            "period": { "start": ymd(enrolled) },
            "payor": [reference_to("Organization", INSURER_ID, INSURER_NAME)],
            "class": [
                {
                    "type": concept("http://terminology.hl7.org/CodeSystem/coverage-class", "group", "Group"),
                    "value": "HLA-EMP-01",
                    "name": "Harborlight Analytics employees",
                },
                {
                    "type": concept("http://terminology.hl7.org/CodeSystem/coverage-class", "plan", "Plan"),
                    "value": "CF-VIRTUAL-FIRST",
                    "name": "Carefront virtual-first primary care",
                },
            ],
        }),
    )
}
