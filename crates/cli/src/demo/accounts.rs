//! The demo's sign-ins: one account per role, with published passwords. They exist only in
//! the demo store (`demo.db` unless another database is named), which is for trying Carefront.

use carefront_auth::{EmailAddress, Password, Role};
use carefront_http::staff::{self, NewStaff, StaffError};
use carefront_store::repository::Repository;
use carefront_store::tables::accounts;

/// The password of every demo account (long enough for the password policy).
pub const PASSWORD: &str = "carefront-demo-2026";

/// (role, email, display name, FHIR resource the account belongs to: the patient is the
/// guide's sample patient, the practitioner a general practitioner of the network).
const PEOPLE: [(Role, &str, &str, Option<&str>); 6] = [
    (
        Role::Patient,
        "patient@demo.carefront.example",
        "Demo patient",
        None,
    ),
    (
        Role::Practitioner,
        "practitioner@demo.carefront.example",
        "Demo practitioner",
        None,
    ),
    (
        Role::Pharmacist,
        "pharmacist@demo.carefront.example",
        "Demo pharmacist",
        None,
    ),
    (
        Role::Dispatcher,
        "dispatcher@demo.carefront.example",
        "Demo dispatcher",
        None,
    ),
    (
        Role::EmployerAdmin,
        "employer@demo.carefront.example",
        "Demo employer administrator",
        None,
    ),
    (
        Role::Administrator,
        "admin@demo.carefront.example",
        "Demo administrator",
        None,
    ),
];

/// Create the demo accounts that do not exist yet. The practitioner is the sample patient's
/// own general practitioner (else the first of the network), so their agenda, triage queue
/// and access show real patients, the sample patient among them.
pub async fn ensure(repo: &Repository, sample_patient: &str) -> Result<(), String> {
    let store = repo.store().as_ref();
    let practitioner = match own_general_practitioner(repo, sample_patient).await {
        Some(p) => Some(p),
        None => first_general_practitioner(repo).await?,
    };
    for (role, email, name, fhir_ref) in PEOPLE {
        if accounts::by_email(store, email)
            .await
            .map_err(|e| e.to_string())?
            .is_some()
        {
            continue;
        }
        let email = EmailAddress::parse(email).map_err(|e| e.to_string())?;
        let password = Password::parse(PASSWORD, &email).map_err(|e| e.to_string())?;
        let fhir_ref = match role {
            Role::Patient => Some(format!("Patient/{sample_patient}")),
            Role::Practitioner => practitioner.clone(),
            _ => fhir_ref.map(str::to_owned),
        };
        let new = NewStaff {
            role,
            email,
            display_name: name.to_owned(),
            password,
            locale: "en".to_owned(),
            fhir_ref,
        };
        match staff::store_vouched(store, new).await {
            Ok(_) | Err(StaffError::EmailTaken) => {}
            Err(e) => return Err(format!("cannot create the demo accounts: {e}")),
        }
    }
    Ok(())
}

/// The Practitioner among the sample patient's `generalPractitioner`, if any.
async fn own_general_practitioner(repo: &Repository, patient: &str) -> Option<String> {
    let stored = repo.read("Patient", patient).await.ok()?;
    let json: serde_json::Value = serde_json::from_slice(&stored.content).ok()?;
    json["generalPractitioner"]
        .as_array()?
        .iter()
        .filter_map(|r| r["reference"].as_str())
        .find(|r| r.starts_with("Practitioner/"))
        .map(str::to_owned)
}

async fn first_general_practitioner(repo: &Repository) -> Result<Option<String>, String> {
    let params = [
        (
            "specialty".to_owned(),
            "http://snomed.info/sct|394814009".to_owned(),
        ),
        ("_sort".to_owned(), "_id".to_owned()),
        ("_count".to_owned(), "1".to_owned()),
    ];
    let query = repo
        .parse_search(Some("PractitionerRole"), &params, false)
        .map_err(|e| e.to_string())?;
    let page = repo.search(&query).await.map_err(|e| e.to_string())?;
    Ok(page.matches.first().and_then(|role| {
        let json: serde_json::Value = serde_json::from_slice(&role.content).ok()?;
        json["practitioner"]["reference"]
            .as_str()
            .map(str::to_owned)
    }))
}

/// Print the sign-ins for the guide.
pub fn print(base: &str) {
    println!("Sign in at {base}/signin with password {PASSWORD} as:");
    for (role, email, _, _) in PEOPLE {
        println!("  {:<16} {email}", role.as_str());
    }
    println!("Staff accounts enrol an authenticator app (QR code) at their first sign-in.");
    println!("Patients can also sign up at {base}/signup; confirmation mail is at {base}/mailbox.");
}
