//! `/account`: a patient edits their names, phone, address and language (written to their FHIR
//! Patient with If-Match, so an edit made elsewhere meanwhile is not overwritten); staff see
//! their account and choose their language.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use carefront_auth::PersonName;
use carefront_store::repository::{now_micros, Preconditions, RepoError};
use carefront_store::tables::accounts;
use minijinja::context;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::dashboard::user_context;
use super::forms::{self, message, FieldErrors};
use super::page::{
    csrf_failed_page, html_status, internal_error_page, lang_cookie, see_other, with_cookie,
};
use super::session::{audit_page_access, ClientAddress, PageAccess, SignedIn};
use super::{csrf, i18n};
use crate::AppState;

/// The editable part of the profile, as shown in and read from the form.
#[derive(Deserialize, Serialize, Default, Clone, Debug, PartialEq)]
#[serde(default)]
pub struct Profile {
    pub given: String,
    pub family: String,
    pub phone: String,
    pub line: String,
    pub postal_code: String,
    pub city: String,
    pub locale: String,
    /// The Patient version the form was filled from (If-Match).
    pub version: String,
    #[serde(skip_serializing)]
    pub csrf: String,
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    path.iter()
        .try_fold(v, |v, k| match k.parse::<usize>() {
            Ok(i) => v.get(i),
            Err(_) => v.get(k),
        })
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// The profile as it stands in a Patient resource.
pub fn from_patient(patient: &Value, version: i64, locale: &str) -> Profile {
    let phone = patient["telecom"]
        .as_array()
        .and_then(|t| t.iter().find(|c| c["system"] == "phone"))
        .map_or("", |c| str_at(c, &["value"]));
    Profile {
        given: str_at(patient, &["name", "0", "given", "0"]).to_owned(),
        family: str_at(patient, &["name", "0", "family"]).to_owned(),
        phone: phone.to_owned(),
        line: str_at(patient, &["address", "0", "line", "0"]).to_owned(),
        postal_code: str_at(patient, &["address", "0", "postalCode"]).to_owned(),
        city: str_at(patient, &["address", "0", "city"]).to_owned(),
        locale: locale.to_owned(),
        version: version.to_string(),
        csrf: String::new(),
    }
}

/// A checked profile, ready to be written.
#[derive(Debug, PartialEq)]
pub struct ValidProfile {
    pub given: String,
    pub family: String,
    pub phone: Option<String>,
    pub line: Option<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    pub locale: &'static str,
}

pub fn validate(p: &Profile, lang: &str) -> Result<ValidProfile, FieldErrors> {
    let mut errors = FieldErrors::default();
    for (given, family) in [(p.given.as_str(), "x"), ("x", p.family.as_str())] {
        if let Err(e) = PersonName::parse(given, family) {
            let (field, m) = forms::name_error(lang, &e);
            errors.add(field, m);
        }
    }
    let phone = forms::phone(&p.phone)
        .map_err(|k| errors.add("phone", message(lang, k, &[])))
        .unwrap_or_default();
    let mut text = |field: &'static str, value: &str, max: usize| {
        forms::free_text(value, max)
            .map_err(|k| errors.add(field, message(lang, k, &[("max", max.to_string())])))
            .unwrap_or_default()
    };
    let line = text("line", &p.line, 200);
    let postal_code = text("postal_code", &p.postal_code, 20);
    let city = text("city", &p.city, 100);
    let locale = i18n::LANGUAGES
        .iter()
        .copied()
        .find(|l| *l == p.locale)
        .unwrap_or(i18n::LANGUAGES[0]);
    match PersonName::parse(&p.given, &p.family) {
        Ok(name) if errors.is_empty() => Ok(ValidProfile {
            given: name.given().to_owned(),
            family: name.family().to_owned(),
            phone,
            line,
            postal_code,
            city,
            locale,
        }),
        _ => Err(errors),
    }
}

/// Write the profile into the Patient, keeping everything else it holds.
pub fn apply(patient: &mut Value, p: &ValidProfile) {
    let mut name = patient["name"][0].as_object().cloned().unwrap_or_default();
    name.insert("family".into(), json!(p.family));
    name.insert("given".into(), json!([p.given]));
    name.remove("text");
    match patient["name"].as_array_mut() {
        Some(names) if !names.is_empty() => names[0] = Value::Object(name),
        _ => patient["name"] = json!([name]),
    }
    let mut telecom: Vec<Value> = patient["telecom"]
        .as_array()
        .map(|t| {
            t.iter()
                .filter(|c| c["system"] != "phone")
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    if let Some(phone) = &p.phone {
        telecom.push(json!({ "system": "phone", "value": phone }));
    }
    set_or_remove(patient, "telecom", telecom);
    let mut address = serde_json::Map::new();
    if let Some(line) = &p.line {
        address.insert("line".into(), json!([line]));
    }
    if let Some(pc) = &p.postal_code {
        address.insert("postalCode".into(), json!(pc));
    }
    if let Some(city) = &p.city {
        address.insert("city".into(), json!(city));
    }
    let mut addresses: Vec<Value> = patient["address"]
        .as_array()
        .map(|a| a.iter().skip(1).cloned().collect())
        .unwrap_or_default();
    if !address.is_empty() {
        address.insert("use".into(), json!("home"));
        addresses.insert(0, Value::Object(address));
    }
    set_or_remove(patient, "address", addresses);
    patient["communication"] = json!([{
        "language": { "coding": [{ "system": "urn:ietf:bcp:47", "code": p.locale }] },
        "preferred": true,
    }]);
}

/// FHIR forbids empty arrays: an empty list removes the element.
fn set_or_remove(resource: &mut Value, key: &str, list: Vec<Value>) {
    if let Some(obj) = resource.as_object_mut() {
        if list.is_empty() {
            obj.remove(key);
        } else {
            obj.insert(key.into(), Value::Array(list));
        }
    }
}

fn patient_id(who: &SignedIn) -> Option<&str> {
    who.account.fhir_ref.as_deref()?.strip_prefix("Patient/")
}

fn page(
    status: StatusCode,
    lang: &str,
    who: &SignedIn,
    profile: Option<&Profile>,
    errors: &FieldErrors,
    notice: Option<&str>,
) -> Response {
    html_status(
        status,
        "account.html",
        context! {
            lang,
            user => user_context(who),
            account => context! {
                email => who.account.email,
                role => format!("role.{}", who.account.role),
                totp => who.account.totp_secret.is_some(),
                locale => who.account.locale,
            },
            profile,
            errors,
            notice,
            languages => i18n::LANGUAGES,
        },
        lang,
    )
}

pub async fn show(
    State(state): State<AppState>,
    who: SignedIn,
    ClientAddress(source): ClientAddress,
    Query(q): Query<ProfileQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = i18n::choose(q.lang.as_deref(), &headers);
    let notice = q.saved.then_some("account.saved");
    let Some(id) = patient_id(&who) else {
        return page(
            StatusCode::OK,
            lang,
            &who,
            None,
            &FieldErrors::default(),
            notice,
        );
    };
    let read = state.repo.read("Patient", id).await;
    audit_own_patient(&state, &who, &source, "read", id, read.is_ok()).await;
    match read {
        Ok(stored) => {
            let patient: Value = serde_json::from_slice(&stored.content).unwrap_or_default();
            let profile = from_patient(&patient, stored.version, &who.account.locale);
            page(
                StatusCode::OK,
                lang,
                &who,
                Some(&profile),
                &FieldErrors::default(),
                notice,
            )
        }
        Err(e) => {
            tracing::error!(status = e.status(), "profile: reading the Patient failed");
            internal_error_page(lang)
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ProfileQuery {
    lang: Option<String>,
    saved: bool,
}

pub async fn submit(
    State(state): State<AppState>,
    who: SignedIn,
    ClientAddress(source): ClientAddress,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = i18n::choose(None, &headers);
    let form: Profile = forms::parse(&body);
    if !csrf::session_ok(&who, &form.csrf) {
        return csrf_failed_page(lang);
    }
    let again = |errors: &FieldErrors, notice: Option<&str>| {
        page(
            StatusCode::UNPROCESSABLE_ENTITY,
            lang,
            &who,
            patient_id(&who).map(|_| &form),
            errors,
            notice,
        )
    };
    let store = state.repo.store().as_ref();
    let mut account = who.account.clone();
    if let Some(id) = patient_id(&who) {
        let valid = match validate(&form, lang) {
            Ok(v) => v,
            Err(errors) => return again(&errors, None),
        };
        let stored = match state.repo.read("Patient", id).await {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(status = e.status(), "profile: reading the Patient failed");
                return internal_error_page(lang);
            }
        };
        let mut patient: Value = serde_json::from_slice(&stored.content).unwrap_or_default();
        apply(&mut patient, &valid);
        let pre = Preconditions {
            if_match: Some(form.version.parse().unwrap_or(-1)),
        };
        let updated = state.repo.update("Patient", id, patient, &pre).await;
        audit_own_patient(&state, &who, &source, "update", id, updated.is_ok()).await;
        match updated {
            Ok(_) => {}
            Err(RepoError::PreconditionFailed(_)) => {
                return again(&FieldErrors::default(), Some("account.stale"))
            }
            Err(e) => {
                tracing::error!(status = e.status(), "profile: updating the Patient failed");
                return internal_error_page(lang);
            }
        }
        account.display_name = format!("{} {}", valid.given, valid.family);
        account.locale = valid.locale.to_owned();
    } else {
        account.locale = i18n::LANGUAGES
            .iter()
            .find(|l| **l == form.locale)
            .unwrap_or(&i18n::LANGUAGES[0])
            .to_string();
    }
    account.updated_at = now_micros();
    if let Err(e) = accounts::update(store, &account).await {
        tracing::error!(error = %e, "profile: updating the account failed");
        return internal_error_page(lang);
    }
    with_cookie(
        see_other("/account?saved=true"),
        lang_cookie(&account.locale),
    )
}

/// A patient's own record, read or changed on this page: into the audit chain.
async fn audit_own_patient(
    state: &AppState,
    who: &SignedIn,
    source: &str,
    action: &str,
    patient_id: &str,
    ok: bool,
) {
    let access = PageAccess {
        account_id: &who.account.id,
        role: &who.account.role,
        source,
        action,
        resource_type: Some("Patient"),
        resource_id: Some(patient_id),
        outcome: if ok { "success" } else { "error" },
    };
    audit_page_access(state, access).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patient() -> Value {
        json!({
            "resourceType": "Patient",
            "name": [{ "use": "official", "family": "Lovelace", "given": ["Ada"] }],
            "birthDate": "1990-04-23",
            "telecom": [{ "system": "email", "value": "ada@example.com" }],
        })
    }

    #[test]
    fn a_profile_round_trips_through_the_patient() {
        let mut p = patient();
        let profile = Profile {
            given: " Ada ".into(),
            family: "King".into(),
            phone: "+44 20 7946 0000".into(),
            line: "12 St James's Square".into(),
            postal_code: "SW1Y 4JH".into(),
            city: "London".into(),
            locale: "fr".into(),
            ..Profile::default()
        };
        apply(&mut p, &validate(&profile, "en").unwrap());
        assert_eq!(
            p["name"][0]["use"], "official",
            "other name fields are kept"
        );
        assert_eq!(
            p["telecom"].as_array().unwrap().len(),
            2,
            "email kept, phone added"
        );
        assert_eq!(p["birthDate"], "1990-04-23");
        let back = from_patient(&p, 3, "fr");
        assert_eq!(back.given, "Ada");
        assert_eq!(back.phone, "+44 20 7946 0000");
        assert_eq!(back.city, "London");
        assert_eq!(back.version, "3");
    }

    #[test]
    fn cleared_fields_leave_no_empty_arrays() {
        let mut p = patient();
        let profile = Profile {
            given: "Ada".into(),
            family: "Lovelace".into(),
            ..Profile::default()
        };
        apply(&mut p, &validate(&profile, "en").unwrap());
        assert!(p.get("address").is_none());
        assert_eq!(p["telecom"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn wrong_fields_are_reported_by_name() {
        let profile = Profile {
            given: "".into(),
            family: "Lovelace".into(),
            phone: "call me".into(),
            city: "x".repeat(101),
            locale: "xx".into(),
            ..Profile::default()
        };
        let e = validate(&profile, "fr").unwrap_err();
        for field in ["given", "phone", "city"] {
            assert!(e.get(field).is_some(), "{field}");
        }
        assert!(e.get("family").is_none());
    }
}
