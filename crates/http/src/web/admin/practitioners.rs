//! `/admin/practitioners`: the network's practitioners. Adding one writes a FHIR Practitioner
//! and a PractitionerRole (specialty, organisation) and, when asked, a staff account linked to
//! the Practitioner.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use carefront_auth::{EmailAddress, Password, PersonName, Role};
use carefront_store::tables::accounts;
use minijinja::context;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::clinics::AddedQuery;
use super::{
    list_resources, organization_choice, organizations, organizations_or_error_page, str_at, Admin,
    Choice,
};
use crate::staff::{self, NewStaff, StaffError};
use crate::web::dashboard::user_context;
use crate::web::forms::{self, message, FieldErrors};
use crate::web::page::{
    csrf_failed_page, html_status, internal_error_page, lang_cookie, see_other, with_cookie,
};
use crate::web::{csrf, i18n};
use crate::AppState;

/// A specialty on offer; those with a SNOMED CT code are coded, the others are text only.
pub struct Specialty {
    /// The form value; the label is `admin.specialty.<key>`.
    pub key: &'static str,
    pub snomed: Option<&'static str>,
    /// The coding's display (English, as SNOMED CT names it).
    pub display: &'static str,
}

pub const SPECIALTIES: [Specialty; 6] = [
    Specialty {
        key: "general-practice",
        snomed: Some("394814009"),
        display: "General practice",
    },
    Specialty {
        key: "paediatrics",
        snomed: Some("394537008"),
        display: "Paediatrics",
    },
    Specialty {
        key: "dermatology",
        snomed: Some("394582007"),
        display: "Dermatology",
    },
    Specialty {
        key: "psychiatry",
        snomed: Some("394587001"),
        display: "Psychiatry",
    },
    Specialty {
        key: "nursing",
        snomed: None,
        display: "Nursing",
    },
    Specialty {
        key: "pharmacy",
        snomed: None,
        display: "Pharmacy",
    },
];

/// The roles a practitioner's sign-in may have (patients sign up themselves).
pub const STAFF_ROLES: [Role; 5] = [
    Role::Practitioner,
    Role::Pharmacist,
    Role::Dispatcher,
    Role::EmployerAdmin,
    Role::Administrator,
];

#[derive(Deserialize, Serialize, Default, Clone, Debug)]
#[serde(default)]
pub struct PractitionerForm {
    pub given: String,
    pub family: String,
    pub specialty: String,
    pub organization: String,
    /// Empty: no sign-in for this practitioner.
    pub email: String,
    pub role: String,
    #[serde(skip_serializing)]
    pub password: String,
    #[serde(skip_serializing)]
    pub csrf: String,
}

pub struct SignIn {
    pub email: EmailAddress,
    pub role: Role,
    pub password: Password,
}

pub struct ValidPractitioner {
    pub name: PersonName,
    pub specialty: &'static Specialty,
    pub organization: Option<String>,
    pub sign_in: Option<SignIn>,
}

pub fn validate(
    f: &PractitionerForm,
    lang: &str,
    organizations: &[Choice],
) -> Result<ValidPractitioner, FieldErrors> {
    let mut errors = FieldErrors::default();
    // Each part is checked on its own so that both can be reported.
    for (given, family) in [(f.given.as_str(), "x"), ("x", f.family.as_str())] {
        if let Err(e) = PersonName::parse(given, family) {
            let (field, m) = forms::name_error(lang, &e);
            errors.add(field, m);
        }
    }
    let name = PersonName::parse(&f.given, &f.family).ok();
    let specialty = SPECIALTIES.iter().find(|s| s.key == f.specialty);
    if specialty.is_none() {
        errors.add(
            "specialty",
            message(lang, "admin.practitioner.specialty", &[]),
        );
    }
    let organization = organization_choice(&f.organization, organizations)
        .map_err(|k| errors.add("organization", message(lang, k, &[])))
        .unwrap_or_default();
    let sign_in = if f.email.trim().is_empty() && f.password.is_empty() {
        None
    } else {
        sign_in(f, lang, &mut errors)
    };
    match (name, specialty) {
        (Some(name), Some(specialty)) if errors.is_empty() => Ok(ValidPractitioner {
            name,
            specialty,
            organization,
            sign_in,
        }),
        _ => Err(errors),
    }
}

fn sign_in(f: &PractitionerForm, lang: &str, errors: &mut FieldErrors) -> Option<SignIn> {
    let email = EmailAddress::parse(&f.email)
        .map_err(|e| errors.add("email", forms::email_error(lang, &e)))
        .ok();
    let role = STAFF_ROLES.into_iter().find(|r| r.as_str() == f.role);
    if role.is_none() {
        errors.add("role", message(lang, "admin.practitioner.role", &[]));
    }
    // With the address unreadable the password is still checked, against a stand-in.
    let stand_in = EmailAddress::parse("someone@example.invalid").ok();
    let password = email.as_ref().or(stand_in.as_ref()).and_then(|e| {
        Password::parse(&f.password, e)
            .map_err(|err| errors.add("password", forms::password_error(lang, &err)))
            .ok()
    });
    Some(SignIn {
        email: email?,
        role: role?,
        password: password?,
    })
}

fn specialty_concept(s: &Specialty) -> Value {
    match s.snomed {
        Some(code) => json!({
            "coding": [{ "system": "http://snomed.info/sct", "code": code, "display": s.display }],
            "text": s.display,
        }),
        None => json!({ "text": s.display }),
    }
}

pub fn to_practitioner(v: &ValidPractitioner) -> Value {
    json!({
        "resourceType": "Practitioner",
        "active": true,
        "name": [{ "use": "official", "family": v.name.family(), "given": [v.name.given()] }],
    })
}

pub fn to_role(v: &ValidPractitioner, practitioner_id: &str) -> Value {
    let mut role = json!({
        "resourceType": "PractitionerRole",
        "active": true,
        "practitioner": { "reference": format!("Practitioner/{practitioner_id}") },
        "specialty": [specialty_concept(v.specialty)],
    });
    if let Some(org) = &v.organization {
        role["organization"] = json!({ "reference": format!("Organization/{org}") });
    }
    role
}

#[derive(Serialize)]
struct Row {
    name: String,
    specialty: String,
}

/// One row per Practitioner, with the specialties of its roles.
fn rows(resources: &[(String, Value)]) -> Vec<Row> {
    resources
        .iter()
        .filter(|(_, r)| r["resourceType"] == "Practitioner")
        .map(|(id, p)| {
            let reference = format!("Practitioner/{id}");
            let specialties: Vec<&str> = resources
                .iter()
                .filter(|(_, r)| {
                    r["resourceType"] == "PractitionerRole"
                        && str_at(r, &["practitioner", "reference"]) == reference
                })
                .map(|(_, r)| str_at(r, &["specialty", "0", "text"]))
                .filter(|s| !s.is_empty())
                .collect();
            Row {
                name: format!(
                    "{} {}",
                    str_at(p, &["name", "0", "given", "0"]),
                    str_at(p, &["name", "0", "family"])
                )
                .trim()
                .to_owned(),
                specialty: specialties.join(", "),
            }
        })
        .collect()
}

async fn page(
    state: &AppState,
    admin: &Admin,
    status: StatusCode,
    form: &PractitionerForm,
    errors: &FieldErrors,
    added: bool,
) -> Response {
    let lang = admin.lang;
    let params = [
        ("_count", "200"),
        ("_sort", "family"),
        ("_revinclude", "PractitionerRole:practitioner"),
    ];
    let (found, orgs) = match (
        list_resources(state, "Practitioner", &params).await,
        organizations(state).await,
    ) {
        (Ok(f), Ok(o)) => (f, o),
        (Err(e), _) | (_, Err(e)) => {
            tracing::error!(status = e.status(), "admin: listing practitioners failed");
            return internal_error_page(lang);
        }
    };
    admin
        .audit(state, "search", Some("Practitioner"), None, "success")
        .await;
    let specialties: Vec<Choice> = SPECIALTIES
        .iter()
        .map(|s| Choice {
            value: s.key.to_owned(),
            label: i18n::translate(lang, &format!("admin.specialty.{}", s.key)).into_owned(),
        })
        .collect();
    let roles: Vec<Choice> = STAFF_ROLES
        .iter()
        .map(|r| Choice {
            value: r.as_str().to_owned(),
            label: i18n::translate(lang, &format!("role.{}", r.as_str())).into_owned(),
        })
        .collect();
    let r = html_status(
        status,
        "admin_practitioners.html",
        context! {
            lang,
            user => user_context(&admin.who),
            rows => rows(&found),
            organizations => orgs,
            specialties,
            roles,
            values => form,
            errors,
            added,
        },
        lang,
    );
    with_cookie(r, admin.lang_chosen.then(|| lang_cookie(lang)).flatten())
}

pub async fn show(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<AddedQuery>,
) -> Response {
    let form = PractitionerForm::default();
    page(
        &state,
        &admin,
        StatusCode::OK,
        &form,
        &FieldErrors::default(),
        q.added,
    )
    .await
}

pub async fn submit(State(state): State<AppState>, admin: Admin, body: Bytes) -> Response {
    let lang = admin.lang;
    let form: PractitionerForm = forms::parse(&body);
    if !csrf::session_ok(&admin.who, &form.csrf) {
        return csrf_failed_page(lang);
    }
    let orgs = match organizations_or_error_page(&state, lang).await {
        Ok(o) => o,
        Err(page) => return page,
    };
    let invalid = StatusCode::UNPROCESSABLE_ENTITY;
    let email_taken = || {
        let mut e = FieldErrors::default();
        e.add(
            "email",
            message(lang, "admin.practitioner.email_taken", &[]),
        );
        e
    };
    let valid = match validate(&form, lang, &orgs) {
        Ok(v) => v,
        Err(errors) => return page(&state, &admin, invalid, &form, &errors, false).await,
    };
    let store = state.repo.store().as_ref();
    if let Some(s) = &valid.sign_in {
        match accounts::by_email(store, &s.email.as_str().to_lowercase()).await {
            Ok(None) => {}
            Ok(Some(_)) => {
                return page(&state, &admin, invalid, &form, &email_taken(), false).await
            }
            Err(e) => {
                tracing::error!(error = %e, "admin: account lookup failed");
                return internal_error_page(lang);
            }
        }
    }
    let created = match state
        .repo
        .create("Practitioner", to_practitioner(&valid), None)
        .await
    {
        Ok(w) => w.resource.id,
        Err(e) => {
            admin
                .audit(&state, "create", Some("Practitioner"), None, "error")
                .await;
            tracing::error!(status = e.status(), "admin: creating a Practitioner failed");
            return internal_error_page(lang);
        }
    };
    admin
        .audit(
            &state,
            "create",
            Some("Practitioner"),
            Some(&created),
            "success",
        )
        .await;
    let role_id = match state
        .repo
        .create("PractitionerRole", to_role(&valid, &created), None)
        .await
    {
        Ok(w) => {
            admin
                .audit(
                    &state,
                    "create",
                    Some("PractitionerRole"),
                    Some(&w.resource.id),
                    "success",
                )
                .await;
            w.resource.id
        }
        Err(e) => {
            admin
                .audit(&state, "create", Some("PractitionerRole"), None, "error")
                .await;
            tracing::error!(
                status = e.status(),
                "admin: creating a PractitionerRole failed"
            );
            return internal_error_page(lang);
        }
    };
    if let Some(s) = valid.sign_in {
        let new = NewStaff {
            role: s.role,
            email: s.email,
            display_name: valid.name.display_name(),
            password: s.password,
            locale: lang.to_owned(),
            fhir_ref: Some(format!("Practitioner/{created}")),
        };
        match staff::create(store, new).await {
            Ok(account) => {
                tracing::info!(account = %account.id, "administrator created a staff account");
            }
            // Another request took the address meanwhile: undo, so that sending the form
            // again does not make the practitioner twice.
            Err(StaffError::EmailTaken) => {
                for (t, id) in [("PractitionerRole", &role_id), ("Practitioner", &created)] {
                    let outcome = match state.repo.delete(t, id).await {
                        Ok(_) => "success",
                        Err(_) => "error",
                    };
                    admin
                        .audit(&state, "delete", Some(t), Some(id), outcome)
                        .await;
                }
                return page(&state, &admin, invalid, &form, &email_taken(), false).await;
            }
            Err(e) => {
                tracing::error!(error = %e, "admin: creating the staff account failed");
                return internal_error_page(lang);
            }
        }
    }
    see_other("/admin/practitioners?added=true")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> PractitionerForm {
        PractitionerForm {
            given: "Grace".into(),
            family: "Hopper".into(),
            specialty: "paediatrics".into(),
            organization: "org-1".into(),
            email: "Grace@Example.org".into(),
            role: "practitioner".into(),
            password: "a long enough pass phrase".into(),
            csrf: String::new(),
        }
    }

    fn orgs() -> Vec<Choice> {
        vec![Choice {
            value: "org-1".into(),
            label: "Lyon Health".into(),
        }]
    }

    #[test]
    fn a_practitioner_gets_a_coded_specialty_and_an_organization() {
        let v = validate(&form(), "en", &orgs()).ok().unwrap();
        assert_eq!(v.sign_in.as_ref().unwrap().role, Role::Practitioner);
        let p = to_practitioner(&v);
        assert_eq!(p["name"][0]["family"], "Hopper");
        let r = to_role(&v, "p1");
        assert_eq!(r["practitioner"]["reference"], "Practitioner/p1");
        assert_eq!(r["organization"]["reference"], "Organization/org-1");
        assert_eq!(r["specialty"][0]["coding"][0]["code"], "394537008");
        assert_eq!(
            r["specialty"][0]["coding"][0]["system"],
            "http://snomed.info/sct"
        );
    }

    #[test]
    fn nursing_is_text_and_the_sign_in_is_optional() {
        let f = PractitionerForm {
            specialty: "nursing".into(),
            organization: "".into(),
            email: " ".into(),
            role: "".into(),
            password: "".into(),
            ..form()
        };
        let v = validate(&f, "en", &orgs()).ok().unwrap();
        assert!(v.sign_in.is_none());
        let r = to_role(&v, "p1");
        assert_eq!(r["specialty"][0], json!({ "text": "Nursing" }));
        assert!(r.get("organization").is_none());
    }

    #[test]
    fn wrong_fields_are_reported_by_name() {
        let f = PractitionerForm {
            given: "".into(),
            specialty: "surgery".into(),
            organization: "nope".into(),
            email: "grace".into(),
            role: "patient".into(),
            password: "short".into(),
            ..form()
        };
        let e = validate(&f, "fr", &orgs()).err().unwrap();
        for field in [
            "given",
            "specialty",
            "organization",
            "email",
            "role",
            "password",
        ] {
            let m = e.get(field).unwrap_or_else(|| panic!("{field}"));
            assert!(!m.starts_with("admin.") && !m.starts_with("form."), "{m}");
        }
        assert!(e.get("family").is_none());
    }

    #[test]
    fn the_list_shows_each_practitioner_with_their_specialties() {
        let v = validate(&form(), "en", &orgs()).ok().unwrap();
        let found = vec![
            ("p1".to_owned(), to_practitioner(&v)),
            ("r1".to_owned(), to_role(&v, "p1")),
            ("r2".to_owned(), to_role(&v, "other")),
        ];
        let rows = rows(&found);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].name, "Grace Hopper");
        assert_eq!(rows[0].specialty, "Paediatrics");
    }
}
