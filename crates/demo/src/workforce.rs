//! Practitioners and their roles: who works where, in which specialty, speaking which
//! languages.

use serde_json::{json, Value};

use crate::calendar::{days_before, ymd, AS_OF};
use crate::fhir::{
    concept, reference, reference_to, resource, text_concept, BCP47, ID_SYSTEM_BASE, SNOMED,
};
use crate::names::ascii_fold;
use crate::places::{Clinic, ClinicGroup, Hours, Region};
use crate::rng::Rng;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    GeneralPractice,
    Paediatrics,
    Dermatology,
    MentalHealth,
    Nursing,
    Pharmacy,
}

pub struct Specialty {
    pub field: Field,
    /// How many of them each region has.
    pub per_region: usize,
    /// HL7 practitioner-role code and display.
    pub role: (&'static str, &'static str),
    /// SNOMED CT practice code, where SNOMED has one that fits.
    pub snomed: Option<(&'static str, &'static str)>,
    /// What the specialty is called, in French and in English.
    pub label: (&'static str, &'static str),
    /// HL7 v2 table 0360 degree, and the French and US licensing bodies.
    pub degree: (&'static str, &'static str),
    pub licensed_by: (&'static str, &'static str),
    pub doctor_title: bool,
}

pub const SPECIALTIES: &[Specialty] = &[
    Specialty {
        field: Field::GeneralPractice,
        per_region: 7,
        role: ("doctor", "Doctor"),
        snomed: Some(("394814009", "General practice")),
        label: ("Médecine générale", "General practice"),
        degree: ("MD", "Doctor of Medicine"),
        licensed_by: (
            "Conseil national de l'Ordre des médecins",
            "Massachusetts Board of Registration in Medicine",
        ),
        doctor_title: true,
    },
    Specialty {
        field: Field::Paediatrics,
        per_region: 3,
        role: ("doctor", "Doctor"),
        snomed: Some(("394537008", "Paediatric specialty")),
        label: ("Pédiatrie", "Paediatrics"),
        degree: ("MD", "Doctor of Medicine"),
        licensed_by: (
            "Conseil national de l'Ordre des médecins",
            "Massachusetts Board of Registration in Medicine",
        ),
        doctor_title: true,
    },
    Specialty {
        field: Field::Dermatology,
        per_region: 2,
        role: ("doctor", "Doctor"),
        snomed: Some(("394582007", "Dermatology")),
        label: ("Dermatologie", "Dermatology"),
        degree: ("MD", "Doctor of Medicine"),
        licensed_by: (
            "Conseil national de l'Ordre des médecins",
            "Massachusetts Board of Registration in Medicine",
        ),
        doctor_title: true,
    },
    Specialty {
        field: Field::MentalHealth,
        per_region: 3,
        role: ("doctor", "Doctor"),
        snomed: Some(("394587001", "Psychiatry")),
        label: ("Psychiatrie et santé mentale", "Mental health"),
        degree: ("MD", "Doctor of Medicine"),
        licensed_by: (
            "Conseil national de l'Ordre des médecins",
            "Massachusetts Board of Registration in Medicine",
        ),
        doctor_title: true,
    },
    Specialty {
        field: Field::Nursing,
        per_region: 3,
        role: ("nurse", "Nurse"),
        snomed: None,
        label: ("Soins infirmiers", "Nursing"),
        degree: ("RN", "Registered Nurse"),
        licensed_by: (
            "Ordre national des infirmiers",
            "Massachusetts Board of Registration in Nursing",
        ),
        doctor_title: false,
    },
    Specialty {
        field: Field::Pharmacy,
        per_region: 2,
        role: ("pharmacist", "Pharmacist"),
        snomed: None,
        label: ("Pharmacie", "Pharmacy"),
        degree: ("PharmD", "Doctor of Pharmacy"),
        licensed_by: (
            "Ordre national des pharmaciens",
            "Massachusetts Board of Registration in Pharmacy",
        ),
        doctor_title: true,
    },
];

/// Second languages practitioners speak besides the region's own, weighted.
const FR_SECOND: &[(u32, (&str, &str))] = &[
    (50, ("en", "English")),
    (12, ("es", "Spanish")),
    (10, ("ar", "Arabic")),
    (8, ("pt", "Portuguese")),
    (8, ("de", "German")),
    (6, ("it", "Italian")),
];
const US_SECOND: &[(u32, (&str, &str))] = &[
    (35, ("es", "Spanish")),
    (12, ("pt", "Portuguese")),
    (10, ("ht", "Haitian Creole")),
    (8, ("zh", "Chinese")),
    (6, ("vi", "Vietnamese")),
    (10, ("fr", "French")),
];

/// What the rest of the generator needs to know about a practitioner.
#[derive(Debug, Clone)]
pub struct StaffMember {
    pub practitioner_id: String,
    pub display: String,
    pub field: Field,
    /// Index of the clinic in the region (groups' clinics in order).
    pub clinic: usize,
    pub location_id: String,
    pub org_id: String,
}

/// The region's clinics in order, with their group.
pub fn clinics(region: &Region) -> Vec<(&ClinicGroup, &Clinic)> {
    region
        .groups
        .iter()
        .flat_map(|g| g.clinics.iter().map(move |c| (g, c)))
        .collect()
}

/// Practitioners and PractitionerRoles of a region, numbered from `first_number`.
pub fn workforce(
    region: &Region,
    first_number: usize,
    rng: &Rng,
) -> (Vec<Value>, Vec<StaffMember>) {
    let sites = clinics(region);
    let mut resources = Vec::new();
    let mut staff = Vec::new();
    let mut seat = 0;
    for specialty in SPECIALTIES {
        for _ in 0..specialty.per_region {
            let number = first_number + staff.len();
            let mut rng = rng.fork(number as u64);
            // Round-robin over the clinics: every clinic gets a GP first, then the others.
            let clinic = seat % sites.len();
            seat += 1;
            let (group, site) = sites[clinic];
            let practitioner_id = format!("demo-pract-{number:02}");
            let (practitioner, display) =
                practitioner(region, specialty, &practitioner_id, number, &mut rng);
            let member = StaffMember {
                practitioner_id,
                display,
                field: specialty.field,
                clinic,
                location_id: site.location_id(),
                org_id: group.org_id(),
            };
            let role = practitioner_role(region, specialty, &member, site, number, &mut rng);
            resources.push(practitioner);
            resources.push(role);
            staff.push(member);
        }
    }
    (resources, staff)
}

fn practitioner(
    region: &Region,
    specialty: &Specialty,
    id: &str,
    number: usize,
    rng: &mut Rng,
) -> (Value, String) {
    let female = rng.chance(0.55);
    let given = *rng.pick(if female {
        region.names.female
    } else {
        region.names.male
    });
    let family = *rng.pick(region.names.family);
    let mut name = json!({ "use": "official", "family": family, "given": [given] });
    let display = if specialty.doctor_title {
        name["prefix"] = json!(["Dr"]);
        format!("Dr {given} {family}")
    } else {
        format!("{given} {family}")
    };
    if !region.french {
        name["suffix"] = json!([specialty.degree.0]);
    }
    let age = rng.range(29, 63);
    let born = days_before(AS_OF, age * 365 + rng.range(0, 364));
    let graduated = days_before(AS_OF, (age - rng.range(24, 27)) * 365 + rng.range(100, 200));
    let mut languages = vec![language(region.languages[0].1)];
    let second = if region.french { FR_SECOND } else { US_SECOND };
    if rng.chance(0.6) {
        languages.push(language(*rng.weighted(second)));
    }
    let (degree_text, issuer) = if region.french {
        (
            match specialty.field {
                Field::Nursing => "Diplôme d'État d'infirmier",
                Field::Pharmacy => "Diplôme d'État de docteur en pharmacie",
                _ => "Diplôme d'État de docteur en médecine",
            },
            specialty.licensed_by.0,
        )
    } else {
        (specialty.degree.1, specialty.licensed_by.1)
    };
    let body = json!({
        "identifier": [{
            "system": format!("{ID_SYSTEM_BASE}/practitioner"),
            "value": format!("CF-{}-P{number:04}", region.key.to_uppercase()),
        }],
        "active": true,
        "name": [name],
        "telecom": [{
            "system": "email",
            "value": format!("{}.{}@{}", ascii_fold(given), ascii_fold(family), region.email_domain),
            "use": "work",
        }],
        "gender": if female { "female" } else { "male" },
        "birthDate": ymd(born),
        "qualification": [{
            "identifier": [{
                "system": format!("{ID_SYSTEM_BASE}/licence"),
                "value": format!("L-{}-{:06}", region.key.to_uppercase(), 104_729 * number % 1_000_000),
            }],
            "code": {
                "coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/v2-0360",
                    "code": specialty.degree.0,
                    "display": specialty.degree.1,
                }],
                "text": degree_text,
            },
            "period": { "start": ymd(graduated) },
            "issuer": { "display": issuer },
        }],
        "communication": languages,
    });
    (resource("Practitioner", id, body), display)
}

fn practitioner_role(
    region: &Region,
    specialty: &Specialty,
    member: &StaffMember,
    site: &Clinic,
    number: usize,
    rng: &mut Rng,
) -> Value {
    let label = if region.french {
        specialty.label.0
    } else {
        specialty.label.1
    };
    let specialty_concept = match specialty.snomed {
        Some((code, display)) => json!({
            "coding": [{ "system": SNOMED, "code": code, "display": display }],
            "text": label,
        }),
        None => text_concept(label),
    };
    // Most work every day the clinic opens; some take one weekday off.
    let day_off = if rng.chance(0.4) {
        Some(["mon", "tue", "wed", "thu", "fri"][rng.below(5)])
    } else {
        None
    };
    let available: Vec<Value> = site
        .hours
        .iter()
        .filter_map(|Hours(days, open, close)| {
            let days: Vec<&str> = days
                .iter()
                .copied()
                .filter(|d| Some(*d) != day_off)
                .collect();
            (!days.is_empty()).then(|| {
                json!({ "daysOfWeek": days, "availableStartTime": open, "availableEndTime": close })
            })
        })
        .collect();
    let mut body = json!({
        "active": true,
        "period": { "start": ymd(days_before(AS_OF, rng.range(200, 3600))) },
        "practitioner": reference_to("Practitioner", &member.practitioner_id, &member.display),
        "organization": reference("Organization", &member.org_id),
        "code": [concept(
            "http://terminology.hl7.org/CodeSystem/practitioner-role",
            specialty.role.0,
            specialty.role.1,
        )],
        "specialty": [specialty_concept],
        "location": [reference_to("Location", &member.location_id, site.name)],
        "telecom": [{ "system": "phone", "value": region.phone(rng, false), "use": "work" }],
        "availableTime": available,
    });
    if specialty.field == Field::MentalHealth {
        body["availabilityExceptions"] = if region.french {
            "Consultations en vidéo possibles"
        } else {
            "Also sees patients by video visit"
        }
        .into();
    }
    resource("PractitionerRole", &format!("demo-role-{number:02}"), body)
}

pub fn language((code, display): (&str, &str)) -> Value {
    json!({ "coding": [{ "system": BCP47, "code": code, "display": display }], "text": display })
}
