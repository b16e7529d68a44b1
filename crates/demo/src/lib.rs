//! A demo care network as FHIR R4 resources, generated from a seed with no I/O.
//!
//! [`generate`] builds two regions (Île-de-France and Greater Boston), each with a regional
//! Organization, two clinic groups and six clinics (Locations with address, position, time
//! zone and opening hours); 40 practitioners with their roles (general practice,
//! paediatrics, dermatology, mental health, nursing, pharmacy); 200 patients with three years
//! of history (problems, allergies, visits, vital signs, prescriptions); and a client company
//! whose 30 employees among the patients are enrolled through Coverage.
//!
//! Every resource has a fixed id (`demo-…`) and refers to others as `Type/id`, so
//! [`DemoNetwork::transaction_bundles`] writes them with `PUT`: writing the network twice
//! changes nothing but version numbers. The same seed always gives the same network.

mod calendar;
mod clinical;
mod company;
mod fhir;
mod names;
mod patients;
mod places;
mod rng;
mod workforce;

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{json, Value};

pub use calendar::AS_OF;
pub use company::{COMPANY_ID, COMPANY_NAME};
pub use fhir::DEMO_TAG_SYSTEM;
pub use places::NETWORK_ID;

use places::REGIONS;
use rng::Rng;

/// Patients per region, the company's employees included.
pub const PATIENTS_PER_REGION: usize = 100;

/// The generated network, grouped for writing.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoNetwork {
    /// Organizations, Locations, Practitioners and PractitionerRoles.
    pub directory: Vec<Value>,
    /// One group per patient: the Patient, then its Coverage and clinical record.
    pub records: Vec<Vec<Value>>,
    /// The root Organization; written last, so that finding it means the network is whole.
    pub root: Value,
}

/// What the network holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub regions: usize,
    pub clinics: usize,
    pub practitioners: usize,
    pub patients: usize,
    pub employees: usize,
    pub resources: usize,
    pub by_type: BTreeMap<String, usize>,
}

/// Independent random streams, one per part of the network.
#[derive(Clone, Copy)]
enum Stream {
    Organizations = 1,
    Locations,
    Workforce,
    Patient,
    Company,
}

fn stream(root: &Rng, part: Stream, n: usize) -> Rng {
    root.fork(((part as u64) << 32) | n as u64)
}

pub fn generate(seed: u64) -> DemoNetwork {
    let root = Rng::new(seed);
    let mut network = DemoNetwork {
        directory: Vec::new(),
        records: Vec::new(),
        root: places::network(),
    };
    let (mut first_practitioner, mut first_patient) = (1, 1);
    for (r, region) in REGIONS.iter().enumerate() {
        let staff = region_directory(&mut network.directory, r, region, first_practitioner, &root);
        first_practitioner += staff.len();
        region_patients(&mut network.records, region, &staff, first_patient, &root);
        first_patient += PATIENTS_PER_REGION;
    }
    network
}

/// A region's organizations, clinics and staff (and the client company, in its region).
fn region_directory(
    directory: &mut Vec<Value>,
    r: usize,
    region: &places::Region,
    first_practitioner: usize,
    root: &Rng,
) -> Vec<workforce::StaffMember> {
    let (staff_resources, staff) = workforce::workforce(
        region,
        first_practitioner,
        &stream(root, Stream::Workforce, r),
    );
    let mut org_rng = stream(root, Stream::Organizations, r);
    directory.push(places::region_organization(region));
    for group in region.groups {
        directory.push(places::group_organization(region, group, &mut org_rng));
    }
    for (i, (group, clinic)) in workforce::clinics(region).into_iter().enumerate() {
        let pharmacy = staff
            .iter()
            .any(|s| s.clinic == i && s.field == workforce::Field::Pharmacy);
        let mut rng = stream(root, Stream::Locations, r * 100 + i);
        directory.push(places::clinic_location(
            region, group, clinic, pharmacy, &mut rng,
        ));
    }
    directory.extend(staff_resources);
    if region.key == company::REGION.key {
        let mut rng = stream(root, Stream::Company, 0);
        directory.push(company::company(&mut rng));
        directory.push(company::insurer(&mut rng));
    }
    staff
}

/// A region's patients with their records; in the company's region the last ones are its
/// employees.
fn region_patients(
    records: &mut Vec<Vec<Value>>,
    region: &places::Region,
    staff: &[workforce::StaffMember],
    first_patient: usize,
    root: &Rng,
) {
    let employees = if region.key == company::REGION.key {
        company::EMPLOYEES
    } else {
        0
    };
    let setting = clinical::Setting {
        region,
        staff,
        bmi_mean: region.adult_bmi_mean,
    };
    let clinics = workforce::clinics(region).len();
    let first_employee = PATIENTS_PER_REGION - employees;
    for i in 0..PATIENTS_PER_REGION {
        let number = first_patient + i;
        let mut rng = stream(root, Stream::Patient, number);
        let employee_number = (i >= first_employee).then(|| i - first_employee + 1);
        let age = match employee_number {
            Some(_) => rng.range(company::EMPLOYEE_AGES.0, company::EMPLOYEE_AGES.1),
            None => {
                let (youngest, oldest) = *rng.weighted(patients::AGE_BANDS);
                rng.range(youngest, oldest)
            }
        };
        let (mut patient, person) =
            patients::patient(region, number, age, staff, clinics, &mut rng);
        let mut record = Vec::new();
        if let Some(employee_number) = employee_number {
            if let Some(telecom) = patient["telecom"].as_array_mut() {
                telecom.push(company::work_email(&person));
            }
            record.push(company::coverage(&person, employee_number, &mut rng));
        }
        record.extend(clinical::record(&person, &setting, &mut rng));
        record.insert(0, patient);
        records.push(record);
    }
}

impl DemoNetwork {
    /// Every resource, in the order they are written.
    pub fn resources(&self) -> impl Iterator<Item = &Value> {
        self.directory
            .iter()
            .chain(self.records.iter().flatten())
            .chain(std::iter::once(&self.root))
    }

    /// Transaction Bundles of at most `max_entries` entries (at least 1), each entry a `PUT`
    /// to the resource's id, so writing them again is harmless. A patient's record stays in
    /// one Bundle when it fits, so a patient is never half written; the root Organization
    /// comes in the last Bundle.
    pub fn transaction_bundles(&self, max_entries: usize) -> Vec<Value> {
        let max = max_entries.max(1);
        let mut bundles = Vec::new();
        let mut current: Vec<&Value> = Vec::new();
        let groups = self
            .directory
            .iter()
            .map(std::slice::from_ref)
            .chain(self.records.iter().map(Vec::as_slice))
            .chain(std::iter::once(std::slice::from_ref(&self.root)));
        for group in groups {
            for part in group.chunks(max) {
                if current.len() + part.len() > max {
                    bundles.push(transaction(&current));
                    current.clear();
                }
                current.extend(part);
            }
        }
        if !current.is_empty() {
            bundles.push(transaction(&current));
        }
        bundles
    }

    pub fn summary(&self) -> Summary {
        let mut by_type = BTreeMap::new();
        for r in self.resources() {
            let t = r["resourceType"].as_str().unwrap_or_default().to_owned();
            *by_type.entry(t).or_insert(0) += 1;
        }
        let count = |t: &str| by_type.get(t).copied().unwrap_or(0);
        Summary {
            regions: REGIONS.len(),
            clinics: count("Location"),
            practitioners: count("Practitioner"),
            patients: count("Patient"),
            employees: count("Coverage"),
            resources: self.resources().count(),
            by_type,
        }
    }

    /// The id of a patient with a full history, for examples: a diabetic with visits,
    /// vital signs, HbA1c results and prescriptions.
    pub fn sample_patient(&self) -> &str {
        let rich = |record: &&Vec<Value>| {
            let has = |t: &str, code: &str| {
                record
                    .iter()
                    .any(|r| r["resourceType"] == t && r["code"]["coding"][0]["code"] == code)
            };
            has("Condition", "44054006") && has("Observation", "4548-4")
        };
        let record = self
            .records
            .iter()
            .find(rich)
            .or(self.records.first())
            .expect("the network has patients");
        record[0]["id"].as_str().unwrap_or_default()
    }
}

fn transaction(resources: &[&Value]) -> Value {
    let entries: Vec<Value> = resources
        .iter()
        .map(|r| {
            json!({
                "resource": r,
                "request": { "method": "PUT", "url": fhir::type_and_id(r) },
            })
        })
        .collect();
    json!({ "resourceType": "Bundle", "type": "transaction", "entry": entries })
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} regions, {} clinics, {} practitioners, {} patients ({} enrolled by {}), {} resources",
            self.regions,
            self.clinics,
            self.practitioners,
            self.patients,
            self.employees,
            COMPANY_NAME,
            self.resources
        )
    }
}
