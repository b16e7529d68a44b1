//! Patients' demographics: names fitting their region, ages across the life span, a home
//! address, fictional telephone numbers and e-mail addresses, and their family doctor.

use serde_json::{json, Value};
use time::Date;

use crate::calendar::{days_before, ymd, AS_OF};
use crate::fhir::{concept, reference, reference_to, resource, ID_SYSTEM_BASE};
use crate::names::ascii_fold;
use crate::places::Region;
use crate::rng::Rng;
use crate::workforce::{language, Field, StaffMember};

/// Ages of the community's patients, weighted: `(weight, (youngest, oldest))`.
pub const AGE_BANDS: &[(u32, (i64, i64))] = &[
    (6, (0, 4)),
    (14, (5, 17)),
    (30, (18, 39)),
    (28, (40, 64)),
    (17, (65, 79)),
    (5, (80, 94)),
];

/// Below this age a paediatrician is the family doctor.
pub const PAEDIATRIC_AGE: i32 = 16;

/// What the clinical generator needs to know about a patient.
#[derive(Debug, Clone)]
pub struct Person {
    pub id: String,
    pub number: usize,
    pub display: String,
    pub female: bool,
    pub born: Date,
    /// Age on [`AS_OF`].
    pub age: i32,
    pub french: bool,
    pub home_clinic: usize,
    pub gp: StaffMember,
    pub given: &'static str,
    pub family: &'static str,
}

/// Staff of `field` in a region, preferring those at `clinic`, then by `pick`.
pub fn choose(staff: &[StaffMember], field: Field, clinic: usize, pick: usize) -> &StaffMember {
    let here: Vec<&StaffMember> = staff
        .iter()
        .filter(|s| s.field == field && s.clinic == clinic)
        .collect();
    if !here.is_empty() {
        return here[pick % here.len()];
    }
    let any: Vec<&StaffMember> = staff.iter().filter(|s| s.field == field).collect();
    any[pick % any.len()]
}

pub fn patient(
    region: &Region,
    number: usize,
    age: i64,
    staff: &[StaffMember],
    clinics: usize,
    rng: &mut Rng,
) -> (Value, Person) {
    let id = format!("demo-pat-{number:03}");
    let female = rng.chance(0.52);
    let given = *rng.pick(if female {
        region.names.female
    } else {
        region.names.male
    });
    let family = *rng.pick(region.names.family);
    // At least a month old: the youngest patients have had their first visits.
    let born = days_before(AS_OF, age * 365 + age / 4 + rng.range(30, 364));
    let age = crate::calendar::age_on(born, AS_OF);
    let home_clinic = rng.below(clinics);
    let doctor = if age < PAEDIATRIC_AGE {
        Field::Paediatrics
    } else {
        Field::GeneralPractice
    };
    let gp = choose(staff, doctor, home_clinic, rng.below(8)).clone();
    let mut name = json!({ "use": "official", "family": family, "given": [given] });
    if !region.french && rng.chance(0.4) {
        let middle = *rng.pick(if female {
            region.names.female
        } else {
            region.names.male
        });
        if middle != given {
            name["given"] = json!([given, middle]);
        }
    }
    let mut telecom = Vec::new();
    if age >= 14 {
        telecom
            .push(json!({ "system": "phone", "value": region.phone(rng, true), "use": "mobile" }));
        telecom.push(json!({
            "system": "email",
            "value": format!("{}.{}{}@{}", ascii_fold(given), ascii_fold(family), number % 97, region.email_domain),
            "use": "home",
        }));
    }
    let spoken = *rng.weighted(region.languages);
    let mut body = json!({
        "identifier": [{
            "use": "usual",
            "type": concept("http://terminology.hl7.org/CodeSystem/v2-0203", "MR", "Medical record number"),
            "system": format!("{ID_SYSTEM_BASE}/mrn"),
            "value": format!("CF-{}-{number:06}", region.key.to_uppercase()),
        }],
        "active": true,
        "name": [name],
    });
    if !telecom.is_empty() {
        body["telecom"] = telecom.into();
    }
    body["gender"] = if female { "female" } else { "male" }.into();
    body["birthDate"] = ymd(born).into();
    body["address"] = json!([region.home_address(rng)]);
    if age >= 18 {
        let (code, display) = *rng.weighted(&[
            (45, ("M", "Married")),
            (35, ("S", "Never Married")),
            (12, ("D", "Divorced")),
            (8, ("W", "Widowed")),
        ]);
        body["maritalStatus"] = concept(
            "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus",
            code,
            display,
        );
    }
    if age < 18 {
        // A parent to call, sharing the child's family name.
        let mother = rng.chance(0.6);
        let names = if mother {
            region.names.female
        } else {
            region.names.male
        };
        let mut parent = *rng.pick(names);
        while parent == given {
            parent = *rng.pick(names);
        }
        body["contact"] = json!([{
            "relationship": [concept("http://terminology.hl7.org/CodeSystem/v3-RoleCode", "PRN", "parent")],
            "name": { "use": "official", "family": family, "given": [parent] },
            "telecom": [{ "system": "phone", "value": region.phone(rng, true), "use": "mobile" }],
        }]);
    }
    body["communication"] = json!([{ "language": language(spoken), "preferred": true }]);
    body["generalPractitioner"] = json!([reference_to(
        "Practitioner",
        &gp.practitioner_id,
        &gp.display
    )]);
    body["managingOrganization"] = reference("Organization", &gp.org_id);
    let person = Person {
        display: format!("{given} {family}"),
        id: id.clone(),
        number,
        female,
        born,
        age,
        french: region.french,
        home_clinic,
        gp,
        given,
        family,
    };
    (resource("Patient", &id, body), person)
}
