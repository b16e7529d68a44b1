//! The two regions of the demo network, their clinic groups and clinics (as tables), and the
//! Organization and Location resources built from them.
//!
//! Streets, towns, postal codes and coordinates are real places; the clinics are not.
//! Telephone numbers come from ranges reserved for fiction (France: 01 99 00 xx xx and
//! 06 39 98 xx xx; North America: 555-01xx).

use serde_json::{json, Value};

use crate::calendar::TimeZone;
use crate::fhir::{self, concept, reference, resource};
use crate::names::{NameTable, FRENCH, NEW_ENGLAND};
use crate::rng::Rng;

pub struct Region {
    /// Part of ids: `demo-org-<key>`.
    pub key: &'static str,
    pub name: &'static str,
    pub org_name: &'static str,
    /// ISO 3166 country code.
    pub country: &'static str,
    /// Written in addresses (US states only: French addresses do not name the région).
    pub state: Option<&'static str>,
    pub zone: TimeZone,
    pub names: &'static NameTable,
    pub email_domain: &'static str,
    pub french: bool,
    /// Mean adult body mass index (obesity is more common in the US than in France).
    pub adult_bmi_mean: f64,
    /// Languages patients speak, weighted: `(weight, (BCP 47 code, display))`.
    pub languages: &'static [(u32, (&'static str, &'static str))],
    pub groups: &'static [ClinicGroup],
    /// Streets where patients live: `(street, town, postal code)`.
    pub streets: &'static [(&'static str, &'static str, &'static str)],
}

pub struct ClinicGroup {
    pub key: &'static str,
    pub name: &'static str,
    pub clinics: &'static [Clinic],
}

pub struct Clinic {
    pub key: &'static str,
    pub name: &'static str,
    pub line: &'static str,
    pub city: &'static str,
    pub postal: &'static str,
    pub latitude: f64,
    pub longitude: f64,
    pub hours: &'static [Hours],
}

/// Opening hours: days (FHIR `daysOfWeek` codes), opening and closing time.
pub struct Hours(
    pub &'static [&'static str],
    pub &'static str,
    pub &'static str,
);

const WEEKDAYS: &[&str] = &["mon", "tue", "wed", "thu", "fri"];
const FR_LONG_DAYS: &[Hours] = &[
    Hours(WEEKDAYS, "08:30:00", "19:30:00"),
    Hours(&["sat"], "09:00:00", "12:30:00"),
];
const FR_DAYS: &[Hours] = &[Hours(WEEKDAYS, "08:00:00", "19:00:00")];
const US_DAYS: &[Hours] = &[Hours(WEEKDAYS, "08:00:00", "18:00:00")];
const US_LATE: &[Hours] = &[
    Hours(&["mon", "wed", "fri"], "08:00:00", "17:00:00"),
    Hours(&["tue", "thu"], "08:00:00", "20:00:00"),
    Hours(&["sat"], "09:00:00", "13:00:00"),
];

pub const ILE_DE_FRANCE: Region = Region {
    key: "idf",
    name: "Île-de-France",
    org_name: "Carefront Île-de-France",
    country: "FR",
    state: None,
    zone: TimeZone::Paris,
    names: &FRENCH,
    email_domain: "example.fr",
    french: true,
    adult_bmi_mean: 25.0,
    languages: &[
        (84, ("fr", "French")),
        (6, ("ar", "Arabic")),
        (4, ("pt", "Portuguese")),
        (3, ("en", "English")),
        (3, ("es", "Spanish")),
    ],
    groups: &[
        ClinicGroup {
            key: "idf-paris",
            name: "Centres de santé Carefront Paris",
            clinics: &[
                Clinic {
                    key: "bastille",
                    name: "Centre de santé Carefront Bastille",
                    line: "48 rue de la Roquette",
                    city: "Paris",
                    postal: "75011",
                    latitude: 48.8549,
                    longitude: 2.3738,
                    hours: FR_LONG_DAYS,
                },
                Clinic {
                    key: "vaugirard",
                    name: "Centre de santé Carefront Vaugirard",
                    line: "212 rue de Vaugirard",
                    city: "Paris",
                    postal: "75015",
                    latitude: 48.8403,
                    longitude: 2.3053,
                    hours: FR_LONG_DAYS,
                },
                Clinic {
                    key: "batignolles",
                    name: "Centre de santé Carefront Batignolles",
                    line: "27 rue des Batignolles",
                    city: "Paris",
                    postal: "75017",
                    latitude: 48.8838,
                    longitude: 2.3200,
                    hours: FR_DAYS,
                },
            ],
        },
        ClinicGroup {
            key: "idf-couronne",
            name: "Centres de santé Carefront Petite Couronne",
            clinics: &[
                Clinic {
                    key: "boulogne",
                    name: "Centre de santé Carefront Boulogne",
                    line: "120 boulevard Jean Jaurès",
                    city: "Boulogne-Billancourt",
                    postal: "92100",
                    latitude: 48.8398,
                    longitude: 2.2402,
                    hours: FR_LONG_DAYS,
                },
                Clinic {
                    key: "saint-denis",
                    name: "Centre de santé Carefront Saint-Denis",
                    line: "12 rue de la République",
                    city: "Saint-Denis",
                    postal: "93200",
                    latitude: 48.9358,
                    longitude: 2.3569,
                    hours: FR_DAYS,
                },
                Clinic {
                    key: "versailles",
                    name: "Centre de santé Carefront Versailles",
                    line: "30 rue de la Paroisse",
                    city: "Versailles",
                    postal: "78000",
                    latitude: 48.8072,
                    longitude: 2.1303,
                    hours: FR_DAYS,
                },
            ],
        },
    ],
    streets: &[
        ("rue Oberkampf", "Paris", "75011"),
        ("rue de Charonne", "Paris", "75011"),
        ("boulevard Voltaire", "Paris", "75011"),
        ("rue du Faubourg Saint-Antoine", "Paris", "75012"),
        ("avenue Daumesnil", "Paris", "75012"),
        ("rue d'Alésia", "Paris", "75014"),
        ("avenue du Général Leclerc", "Paris", "75014"),
        ("rue de la Convention", "Paris", "75015"),
        ("rue Lecourbe", "Paris", "75015"),
        ("rue du Commerce", "Paris", "75015"),
        ("rue de Lévis", "Paris", "75017"),
        ("avenue de Clichy", "Paris", "75017"),
        ("rue Ordener", "Paris", "75018"),
        ("rue de Belleville", "Paris", "75020"),
        ("rue des Pyrénées", "Paris", "75020"),
        ("route de la Reine", "Boulogne-Billancourt", "92100"),
        ("rue Gallieni", "Boulogne-Billancourt", "92100"),
        ("avenue Charles de Gaulle", "Neuilly-sur-Seine", "92200"),
        ("rue de Paris", "Montreuil", "93100"),
        ("boulevard Marcel Sembat", "Saint-Denis", "93200"),
        ("rue Gabriel Péri", "Saint-Denis", "93200"),
        ("rue de Fontenay", "Vincennes", "94300"),
        ("avenue de Paris", "Versailles", "78000"),
        ("rue de la Paroisse", "Versailles", "78000"),
    ],
};

pub const GREATER_BOSTON: Region = Region {
    key: "bos",
    name: "Greater Boston",
    org_name: "Carefront Greater Boston",
    country: "US",
    state: Some("MA"),
    zone: TimeZone::NewYork,
    names: &NEW_ENGLAND,
    email_domain: "example.org",
    french: false,
    adult_bmi_mean: 27.5,
    languages: &[
        (78, ("en", "English")),
        (10, ("es", "Spanish")),
        (4, ("ht", "Haitian Creole")),
        (4, ("pt", "Portuguese")),
        (2, ("zh", "Chinese")),
        (2, ("vi", "Vietnamese")),
    ],
    groups: &[
        ClinicGroup {
            key: "bos-city",
            name: "Carefront Health Boston",
            clinics: &[
                Clinic {
                    key: "back-bay",
                    name: "Carefront Back Bay Clinic",
                    line: "500 Boylston Street",
                    city: "Boston",
                    postal: "02116",
                    latitude: 42.3499,
                    longitude: -71.0735,
                    hours: US_LATE,
                },
                Clinic {
                    key: "jamaica-plain",
                    name: "Carefront Jamaica Plain Clinic",
                    line: "640 Centre Street",
                    city: "Boston",
                    postal: "02130",
                    latitude: 42.3127,
                    longitude: -71.1140,
                    hours: US_DAYS,
                },
                Clinic {
                    key: "north-end",
                    name: "Carefront North End Clinic",
                    line: "120 Hanover Street",
                    city: "Boston",
                    postal: "02113",
                    latitude: 42.3625,
                    longitude: -71.0562,
                    hours: US_DAYS,
                },
            ],
        },
        ClinicGroup {
            key: "bos-metro",
            name: "Carefront Health Metro Boston",
            clinics: &[
                Clinic {
                    key: "cambridge",
                    name: "Carefront Cambridge Clinic",
                    line: "1035 Cambridge Street",
                    city: "Cambridge",
                    postal: "02141",
                    latitude: 42.3733,
                    longitude: -71.0938,
                    hours: US_LATE,
                },
                Clinic {
                    key: "somerville",
                    name: "Carefront Somerville Clinic",
                    line: "240 Elm Street",
                    city: "Somerville",
                    postal: "02144",
                    latitude: 42.3962,
                    longitude: -71.1223,
                    hours: US_DAYS,
                },
                Clinic {
                    key: "brookline",
                    name: "Carefront Brookline Clinic",
                    line: "1330 Beacon Street",
                    city: "Brookline",
                    postal: "02446",
                    latitude: 42.3421,
                    longitude: -71.1212,
                    hours: US_DAYS,
                },
            ],
        },
    ],
    streets: &[
        ("Tremont Street", "Boston", "02118"),
        ("Columbus Avenue", "Boston", "02116"),
        ("Commonwealth Avenue", "Boston", "02215"),
        ("Dorchester Avenue", "Boston", "02125"),
        ("Centre Street", "Boston", "02130"),
        ("Washington Street", "Boston", "02119"),
        ("Blue Hill Avenue", "Boston", "02121"),
        ("Hanover Street", "Boston", "02113"),
        ("East Broadway", "Boston", "02127"),
        ("Bennington Street", "Boston", "02128"),
        ("Massachusetts Avenue", "Cambridge", "02139"),
        ("Cambridge Street", "Cambridge", "02141"),
        ("Huron Avenue", "Cambridge", "02138"),
        ("Highland Avenue", "Somerville", "02143"),
        ("Broadway", "Somerville", "02145"),
        ("Beacon Street", "Brookline", "02446"),
        ("Harvard Street", "Brookline", "02446"),
        ("Hancock Street", "Quincy", "02169"),
        ("Washington Street", "Newton", "02458"),
        ("Main Street", "Medford", "02155"),
        ("Mount Auburn Street", "Watertown", "02472"),
        ("Massachusetts Avenue", "Arlington", "02474"),
    ],
};

pub const REGIONS: [&Region; 2] = [&ILE_DE_FRANCE, &GREATER_BOSTON];

/// The root of the network. It is written last, so its presence means the whole network
/// was written (see [`crate::DemoNetwork::transaction_bundles`]).
pub const NETWORK_ID: &str = "demo-network";

const US_AREA_CODES: &[&str] = &["617", "857", "781", "339"];

impl Region {
    pub fn org_id(&self) -> String {
        format!("demo-org-{}", self.key)
    }

    /// A fictional number: landline (clinics, offices) or mobile (people).
    pub fn phone(&self, rng: &mut Rng, mobile: bool) -> String {
        let (a, b) = (rng.below(100), rng.below(100));
        if self.french {
            if mobile {
                format!("+33 6 39 98 {a:02} {b:02}")
            } else {
                format!("+33 1 99 00 {a:02} {b:02}")
            }
        } else {
            format!("+1 {}-555-01{a:02}", rng.pick(US_AREA_CODES))
        }
    }

    /// A home address on one of the region's streets.
    pub fn home_address(&self, rng: &mut Rng) -> Value {
        let (street, city, postal) = *rng.pick(self.streets);
        let number = rng.range(1, 180);
        let mut lines = vec![Value::from(format!("{number} {street}"))];
        if rng.chance(0.3) {
            lines.push(
                if self.french {
                    format!(
                        "Bâtiment {}, {}e étage",
                        ["A", "B", "C"][rng.below(3)],
                        rng.range(1, 6)
                    )
                } else {
                    format!(
                        "Apt {}{}",
                        rng.range(1, 6),
                        ["A", "B", "C", "D"][rng.below(4)]
                    )
                }
                .into(),
            );
        }
        self.address("home", lines, city, postal)
    }

    pub fn address(&self, use_: &str, lines: Vec<Value>, city: &str, postal: &str) -> Value {
        let mut a = json!({ "use": use_, "type": "both", "line": lines, "city": city });
        if let Some(state) = self.state {
            a["state"] = state.into();
        }
        a["postalCode"] = postal.into();
        a["country"] = self.country.into();
        a
    }

    fn say<'a>(&self, french: &'a str, english: &'a str) -> &'a str {
        if self.french {
            french
        } else {
            english
        }
    }
}

impl ClinicGroup {
    pub fn org_id(&self) -> String {
        format!("demo-org-{}", self.key)
    }
}

impl Clinic {
    pub fn location_id(&self) -> String {
        format!("demo-loc-{}", self.key)
    }
}

fn provider_type() -> Value {
    concept(
        "http://terminology.hl7.org/CodeSystem/organization-type",
        "prov",
        "Healthcare Provider",
    )
}

/// The network's root Organization.
pub fn network() -> Value {
    resource(
        "Organization",
        NETWORK_ID,
        json!({
            "active": true,
            "type": [provider_type()],
            "name": "Carefront Demo Care Network",
            "alias": ["Carefront"],
            "telecom": [{ "system": "url", "value": "https://carefront.example.org", "use": "work" }],
        }),
    )
}

pub fn region_organization(region: &Region) -> Value {
    resource(
        "Organization",
        &region.org_id(),
        json!({
            "active": true,
            "type": [provider_type()],
            "name": region.org_name,
            "address": [{ "use": "work", "city": region.name, "country": region.country }],
            "partOf": reference("Organization", NETWORK_ID),
        }),
    )
}

pub fn group_organization(region: &Region, group: &ClinicGroup, rng: &mut Rng) -> Value {
    let head = &group.clinics[0];
    resource(
        "Organization",
        &group.org_id(),
        json!({
            "active": true,
            "type": [provider_type()],
            "name": group.name,
            "telecom": [
                { "system": "phone", "value": region.phone(rng, false), "use": "work" },
                { "system": "email", "value": format!("contact.{}@{}", group.key, region.email_domain), "use": "work" },
            ],
            "address": [region.address("work", vec![head.line.into()], head.city, head.postal)],
            "partOf": reference("Organization", &region.org_id()),
        }),
    )
}

/// A clinic. `pharmacy`: a pharmacist works there, so the site is typed as a pharmacy too.
pub fn clinic_location(
    region: &Region,
    group: &ClinicGroup,
    clinic: &Clinic,
    pharmacy: bool,
    rng: &mut Rng,
) -> Value {
    let role_code = "http://terminology.hl7.org/CodeSystem/v3-RoleCode";
    let mut types = vec![concept(role_code, "PC", "primary care clinic")];
    if pharmacy {
        types.push(concept(role_code, "PHARM", "Pharmacy"));
    }
    let hours: Vec<Value> = clinic
        .hours
        .iter()
        .map(|Hours(days, open, close)| {
            json!({ "daysOfWeek": days, "openingTime": open, "closingTime": close })
        })
        .collect();
    resource(
        "Location",
        &clinic.location_id(),
        json!({
            // The R4 core extension for an IANA time zone: opening hours are local times.
            "extension": [{
                "url": "http://hl7.org/fhir/StructureDefinition/timezone",
                "valueCode": region.zone.iana(),
            }],
            "status": "active",
            "name": clinic.name,
            "description": region.say(
                "Centre de santé pluriprofessionnel : médecine générale, soins infirmiers et téléconsultation",
                "Primary care clinic: family medicine, nursing and virtual visits",
            ),
            "mode": "instance",
            "type": types,
            "telecom": [
                { "system": "phone", "value": region.phone(rng, false), "use": "work" },
                { "system": "email", "value": format!("{}@{}", clinic.key, region.email_domain), "use": "work" },
            ],
            "address": region.address("work", vec![clinic.line.into()], clinic.city, clinic.postal),
            "physicalType": concept(
                "http://terminology.hl7.org/CodeSystem/location-physical-type",
                "bu",
                "Building",
            ),
            "position": {
                "longitude": fhir::decimal(clinic.longitude, 4),
                "latitude": fhir::decimal(clinic.latitude, 4),
            },
            "managingOrganization": reference("Organization", &group.org_id()),
            "hoursOfOperation": hours,
            "availabilityExceptions": region.say(
                "Fermé les jours fériés",
                "Closed on public holidays",
            ),
        }),
    )
}
