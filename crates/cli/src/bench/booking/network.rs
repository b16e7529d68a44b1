//! The synthetic care network of `bench booking`: clinics in two regions, practitioners in
//! six specialties, their schedules and patients. Everything is derived from indexes, so a
//! run is reproducible and the phases can name places and specialties without reading them.

use carefront_booking::scheduling::jiff::civil::{Time, Weekday};
use carefront_booking::scheduling::{Modality, WeeklyHours};
use carefront_booking::ScheduleSpec;
use serde_json::{json, Value};

use crate::bench::data::{self, Rng};

const SNOMED: &str = "http://snomed.info/sct";
const BCP47: &str = "urn:ietf:bcp:47";
const TIMEZONE: &str = "http://hl7.org/fhir/StructureDefinition/timezone";

/// A specialty: what the search asks for (a SNOMED CT code, or the name when SNOMED has
/// none), its name, and the share of practitioners in it (out of 20).
pub struct Specialty {
    pub search: &'static str,
    pub snomed: bool,
    pub name: &'static str,
    share: usize,
    /// Its practitioners also see patients by video.
    video: bool,
}

pub const SPECIALTIES: [Specialty; 6] = [
    Specialty {
        search: "394814009",
        snomed: true,
        name: "General practice",
        share: 8,
        video: true,
    },
    Specialty {
        search: "394537008",
        snomed: true,
        name: "Paediatric specialty",
        share: 3,
        video: false,
    },
    Specialty {
        search: "394582007",
        snomed: true,
        name: "Dermatology",
        share: 2,
        video: false,
    },
    Specialty {
        search: "394587001",
        snomed: true,
        name: "Psychiatry",
        share: 2,
        video: true,
    },
    Specialty {
        search: "nursing",
        snomed: false,
        name: "Nursing",
        share: 3,
        video: false,
    },
    Specialty {
        search: "physiotherapy",
        snomed: false,
        name: "Physiotherapy",
        share: 2,
        video: false,
    },
];

/// A region: its centre, how far clinics spread from it (degrees), zone and language.
struct Region {
    key: &'static str,
    name: &'static str,
    centre: (f64, f64),
    spread: (f64, f64),
    zone: &'static str,
    language: &'static str,
    city: &'static str,
    country: &'static str,
}

const REGIONS: [Region; 2] = [
    Region {
        key: "paris",
        name: "Paris area",
        centre: (48.8566, 2.3522),
        spread: (0.18, 0.30),
        zone: "Europe/Paris",
        language: "fr",
        city: "Paris",
        country: "FR",
    },
    Region {
        key: "boston",
        name: "Boston area",
        centre: (42.3601, -71.0589),
        spread: (0.20, 0.28),
        zone: "America/New_York",
        language: "en",
        city: "Boston",
        country: "US",
    },
];

/// How big the network is.
#[derive(Debug, Clone, Copy)]
pub struct Size {
    pub clinics: usize,
    pub practitioners: usize,
    pub patients: usize,
    pub weeks: u32,
}

/// A clinic as the phases need it: where it is.
#[derive(Debug, Clone, Copy)]
pub struct Clinic {
    pub position: (f64, f64),
}

fn region_of_clinic(c: usize) -> &'static Region {
    &REGIONS[c % REGIONS.len()]
}

/// Clinic `c`: spread around its region's centre, the same every run.
pub fn clinic(c: usize) -> Clinic {
    let region = region_of_clinic(c);
    let mut rng = Rng::new(0xC11_0000 + c as u64);
    // Uniform in [-1, 1], then scaled: a rectangle of a few tens of kilometres.
    let mut unit = || rng.below(20_001) as f64 / 10_000.0 - 1.0;
    let lat = region.centre.0 + unit() * region.spread.0;
    let lon = region.centre.1 + unit() * region.spread.1;
    Clinic {
        position: ((lat * 1e4).round() / 1e4, (lon * 1e4).round() / 1e4),
    }
}

pub fn clinic_id(c: usize) -> String {
    format!("bench-loc-{c:03}")
}

pub fn role_id(p: usize) -> String {
    format!("bench-role-{p:04}")
}

pub fn patient_id(n: usize) -> String {
    format!("bench-pat-{n:05}")
}

/// The specialty of practitioner `p`: the shares spread evenly over the practitioners.
pub fn specialty_of(p: usize) -> &'static Specialty {
    let total: usize = SPECIALTIES.iter().map(|s| s.share).sum();
    let mut k = p % total;
    for s in &SPECIALTIES {
        if k < s.share {
            return s;
        }
        k -= s.share;
    }
    unreachable!("the shares add up to the total")
}

/// The clinic practitioner `p` works at: practitioners are dealt out over the clinics.
pub fn clinic_of(p: usize, size: &Size) -> usize {
    p % size.clinics
}

/// The organisations and clinics.
pub fn places(size: &Size) -> Vec<Value> {
    let mut out: Vec<Value> = REGIONS
        .iter()
        .map(|r| {
            json!({
                "resourceType": "Organization",
                "id": format!("bench-org-{}", r.key),
                "active": true,
                "name": format!("Carefront bench {}", r.name),
            })
        })
        .collect();
    out.extend((0..size.clinics).map(|c| {
        let region = region_of_clinic(c);
        let (lat, lon) = clinic(c).position;
        json!({
            "resourceType": "Location",
            "id": clinic_id(c),
            "extension": [{ "url": TIMEZONE, "valueCode": region.zone }],
            "status": "active",
            "name": format!("Carefront {} clinic {:02}", region.city, c / REGIONS.len() + 1),
            "address": { "city": region.city, "country": region.country },
            "position": { "latitude": lat, "longitude": lon },
            "managingOrganization": { "reference": format!("Organization/bench-org-{}", region.key) },
        })
    }));
    out
}

/// Practitioner `p` and their role.
pub fn practitioner_and_role(p: usize, size: &Size) -> [Value; 2] {
    let c = clinic_of(p, size);
    let region = region_of_clinic(c);
    let specialty = specialty_of(p);
    let practitioner_id = format!("bench-prac-{p:04}");
    let mut languages = vec![region.language];
    // About a third speak the other region's language too.
    if data::mix(p as u64).is_multiple_of(3) {
        languages.push(if region.language == "fr" { "en" } else { "fr" });
    }
    let communication: Vec<Value> = languages
        .iter()
        .map(|code| json!({ "coding": [{ "system": BCP47, "code": code }] }))
        .collect();
    let practitioner = json!({
        "resourceType": "Practitioner",
        "id": practitioner_id,
        "active": true,
        "name": [{ "family": data::surname(p as u64 + 1_000_000), "given": [given(p)], "prefix": ["Dr"] }],
        "communication": communication,
    });
    let concept = if specialty.snomed {
        json!({ "coding": [{ "system": SNOMED, "code": specialty.search, "display": specialty.name }],
                "text": specialty.name })
    } else {
        json!({ "text": specialty.name })
    };
    let role = json!({
        "resourceType": "PractitionerRole",
        "id": role_id(p),
        "active": true,
        "practitioner": { "reference": format!("Practitioner/{practitioner_id}") },
        "organization": { "reference": format!("Organization/bench-org-{}", region.key) },
        "specialty": [concept],
        "location": [{ "reference": format!("Location/{}", clinic_id(c)) }],
    });
    [practitioner, role]
}

fn given(n: usize) -> &'static str {
    const GIVEN: [&str; 12] = [
        "Alice", "Bruno", "Chloé", "David", "Emma", "Farid", "Grace", "Hugo", "Inès", "Jonas",
        "Karim", "Léa",
    ];
    GIVEN[data::mix(n as u64 ^ 0xF00D) as usize % GIVEN.len()]
}

/// Patient `n`, with an email address (so each booking writes its confirmation mail).
pub fn patient(n: usize) -> Value {
    let mut p = data::patient(n as u64);
    p["id"] = json!(patient_id(n));
    p["telecom"] = json!([{ "system": "email", "value": format!("patient{n}@bench.example.org") }]);
    p
}

/// The schedules of practitioner `p`: at their clinic on weekdays 09:00-17:00, and for one
/// in three general practitioners and psychiatrists, video on weekday evenings.
pub fn schedules(p: usize, size: &Size) -> Vec<ScheduleSpec> {
    let c = clinic_of(p, size);
    let zone = region_of_clinic(c).zone;
    let weekdays = |start: Time, end: Time| -> Vec<WeeklyHours> {
        [
            Weekday::Monday,
            Weekday::Tuesday,
            Weekday::Wednesday,
            Weekday::Thursday,
            Weekday::Friday,
        ]
        .into_iter()
        .map(|day| WeeklyHours { day, start, end })
        .collect()
    };
    let spec = |modality: Modality, weekly: Vec<WeeklyHours>| ScheduleSpec {
        id: ScheduleSpec::id_for(&role_id(p), modality),
        active: true,
        role_id: role_id(p),
        location_id: clinic_id(c),
        service_id: None,
        modality,
        zone_name: zone.to_owned(),
        weekly,
        exceptions: Vec::new(),
        slot_minutes: 20,
        buffer_minutes: 0,
        notice_minutes: 60,
        horizon_days: size.weeks * 7,
        cancel_notice_hours: 24,
        comment: None,
    };
    let mut out = vec![spec(
        Modality::InClinic,
        weekdays(Time::constant(9, 0, 0, 0), Time::constant(17, 0, 0, 0)),
    )];
    if specialty_of(p).video && p.is_multiple_of(3) {
        out.push(spec(
            Modality::Video,
            weekdays(Time::constant(17, 0, 0, 0), Time::constant(19, 0, 0, 0)),
        ));
    }
    out
}

/// A transaction Bundle writing `resources` with `PUT`s to their ids.
pub fn transaction(resources: &[Value]) -> Value {
    let entries: Vec<Value> = resources
        .iter()
        .map(|r| {
            let url = format!(
                "{}/{}",
                r["resourceType"].as_str().unwrap_or_default(),
                r["id"].as_str().unwrap_or_default()
            );
            json!({ "resource": r, "request": { "method": "PUT", "url": url } })
        })
        .collect();
    json!({ "resourceType": "Bundle", "type": "transaction", "entry": entries })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_network_is_valid_fhir_and_spread_over_both_regions() {
        let size = Size {
            clinics: 10,
            practitioners: 40,
            patients: 3,
            weeks: 8,
        };
        let mut resources = places(&size);
        for p in 0..size.practitioners {
            resources.extend(practitioner_and_role(p, &size));
        }
        resources.push(patient(1));
        for r in &resources {
            carefront_fhir::validate::validate(r).unwrap_or_else(|e| panic!("{r}: {e:?}"));
        }
        for p in 0..size.practitioners {
            for s in schedules(p, &size) {
                s.rules().expect("valid rules");
            }
        }
        let specialties: std::collections::HashSet<&str> =
            (0..20).map(|p| specialty_of(p).search).collect();
        assert_eq!(specialties.len(), SPECIALTIES.len());
        let (paris, boston) = (clinic(0).position, clinic(1).position);
        assert!((paris.0 - 48.86).abs() < 0.3 && (paris.1 - 2.35).abs() < 0.4);
        assert!((boston.0 - 42.36).abs() < 0.3 && (boston.1 + 71.06).abs() < 0.4);
    }
}
