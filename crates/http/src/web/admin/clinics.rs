//! `/admin/clinics`: the care network's clinics, kept as FHIR Locations (active, with address,
//! phone, map position and the Organization that runs them).

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{
    list_resources, organization_choice, organizations, organizations_or_error_page, str_at, Admin,
    Choice,
};
use crate::web::dashboard::user_context;
use crate::web::forms::{self, message, FieldErrors};
use crate::web::page::{
    csrf_failed_page, html_status, internal_error_page, see_other, with_cookie,
};
use crate::web::{csrf, page::lang_cookie};
use crate::AppState;

#[derive(Deserialize, Serialize, Default, Clone, Debug)]
#[serde(default)]
pub struct ClinicForm {
    pub name: String,
    pub street: String,
    pub city: String,
    pub postal_code: String,
    pub country: String,
    pub phone: String,
    pub latitude: String,
    pub longitude: String,
    /// An Organization id, or empty for none.
    pub organization: String,
    #[serde(skip_serializing)]
    pub csrf: String,
}

/// A checked clinic, ready to become a Location.
#[derive(Debug, PartialEq)]
pub struct ValidClinic {
    pub name: String,
    pub street: Option<String>,
    pub city: String,
    pub postal_code: Option<String>,
    pub country: Option<String>,
    pub phone: Option<String>,
    /// Latitude, longitude (WGS84 degrees).
    pub position: Option<(f64, f64)>,
    pub organization: Option<String>,
}

/// A coordinate in decimal degrees within `±limit`; a decimal comma is accepted (French
/// keyboards). Empty means "not given"; anything else wrong is `error` (a message key).
pub fn coordinate(
    input: &str,
    limit: f64,
    error: &'static str,
) -> Result<Option<f64>, &'static str> {
    let t = input.trim().replace(',', ".");
    if t.is_empty() {
        return Ok(None);
    }
    // Only plain decimals: `f64::from_str` also takes "inf", "NaN" and exponents.
    if !t
        .char_indices()
        .all(|(i, c)| c.is_ascii_digit() || c == '.' || (i == 0 && (c == '-' || c == '+')))
    {
        return Err(error);
    }
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() && v.abs() <= limit => Ok(Some(v)),
        _ => Err(error),
    }
}

pub fn validate(
    f: &ClinicForm,
    lang: &str,
    organizations: &[Choice],
) -> Result<ValidClinic, FieldErrors> {
    let mut errors = FieldErrors::default();
    let mut text =
        |field: &'static str, value: &str, max: usize, required: bool| match forms::free_text(
            value, max,
        ) {
            Ok(None) if required => {
                errors.add(field, message(lang, "form.required", &[]));
                None
            }
            Ok(v) => v,
            Err(k) => {
                errors.add(field, message(lang, k, &[("max", max.to_string())]));
                None
            }
        };
    let name = text("name", &f.name, 200, true);
    let street = text("street", &f.street, 200, false);
    let city = text("city", &f.city, 100, true);
    let postal_code = text("postal_code", &f.postal_code, 20, false);
    let country = text("country", &f.country, 100, false);
    let phone = forms::phone(&f.phone)
        .map_err(|k| errors.add("phone", message(lang, k, &[])))
        .unwrap_or_default();
    let latitude = coordinate(&f.latitude, 90.0, "admin.clinic.latitude")
        .map_err(|k| errors.add("latitude", message(lang, k, &[])))
        .unwrap_or_default();
    let longitude = coordinate(&f.longitude, 180.0, "admin.clinic.longitude")
        .map_err(|k| errors.add("longitude", message(lang, k, &[])))
        .unwrap_or_default();
    // A position needs both numbers; the missing one is named.
    let position = match (latitude, longitude) {
        (Some(lat), Some(lon)) => Some((lat, lon)),
        (Some(_), None) if f.longitude.trim().is_empty() => {
            errors.add("longitude", message(lang, "admin.clinic.pair", &[]));
            None
        }
        (None, Some(_)) if f.latitude.trim().is_empty() => {
            errors.add("latitude", message(lang, "admin.clinic.pair", &[]));
            None
        }
        _ => None,
    };
    let organization = organization_choice(&f.organization, organizations)
        .map_err(|k| errors.add("organization", message(lang, k, &[])))
        .unwrap_or_default();
    match (name, city) {
        (Some(name), Some(city)) if errors.is_empty() => Ok(ValidClinic {
            name,
            street,
            city,
            postal_code,
            country,
            phone,
            position,
            organization,
        }),
        _ => Err(errors),
    }
}

/// The FHIR Location for a clinic.
pub fn to_location(c: &ValidClinic) -> Value {
    let mut address = serde_json::Map::new();
    address.insert("use".into(), json!("work"));
    if let Some(street) = &c.street {
        address.insert("line".into(), json!([street]));
    }
    address.insert("city".into(), json!(c.city));
    if let Some(pc) = &c.postal_code {
        address.insert("postalCode".into(), json!(pc));
    }
    if let Some(country) = &c.country {
        address.insert("country".into(), json!(country));
    }
    let mut location = json!({
        "resourceType": "Location",
        "status": "active",
        "name": c.name,
        "mode": "instance",
        "address": address,
    });
    if let Some(phone) = &c.phone {
        location["telecom"] = json!([{ "system": "phone", "value": phone, "use": "work" }]);
    }
    if let Some((lat, lon)) = c.position {
        location["position"] = json!({ "latitude": lat, "longitude": lon });
    }
    if let Some(org) = &c.organization {
        location["managingOrganization"] = json!({ "reference": format!("Organization/{org}") });
    }
    location
}

#[derive(Serialize)]
struct Row {
    name: String,
    city: String,
}

async fn page(
    state: &AppState,
    admin: &Admin,
    status: StatusCode,
    form: &ClinicForm,
    errors: &FieldErrors,
    added: bool,
) -> Response {
    let lang = admin.lang;
    let (locations, orgs) = match (
        list_resources(state, "Location", &[("_count", "200"), ("_sort", "name")]).await,
        organizations(state).await,
    ) {
        (Ok(l), Ok(o)) => (l, o),
        (Err(e), _) | (_, Err(e)) => {
            tracing::error!(status = e.status(), "admin: listing clinics failed");
            return internal_error_page(lang);
        }
    };
    admin
        .audit(state, "search", Some("Location"), None, "success")
        .await;
    let rows: Vec<Row> = locations
        .iter()
        .map(|(_, l)| Row {
            name: str_at(l, &["name"]).to_owned(),
            city: str_at(l, &["address", "city"]).to_owned(),
        })
        .collect();
    let r = html_status(
        status,
        "admin_clinics.html",
        context! {
            lang,
            user => user_context(&admin.who),
            rows,
            organizations => orgs,
            values => form,
            errors,
            added,
        },
        lang,
    );
    with_cookie(r, admin.lang_chosen.then(|| lang_cookie(lang)).flatten())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AddedQuery {
    pub added: bool,
}

pub async fn show(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<AddedQuery>,
) -> Response {
    let form = ClinicForm::default();
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
    let form: ClinicForm = forms::parse(&body);
    if !csrf::session_ok(&admin.who, &form.csrf) {
        return csrf_failed_page(lang);
    }
    let orgs = match organizations_or_error_page(&state, lang).await {
        Ok(o) => o,
        Err(page) => return page,
    };
    let valid = match validate(&form, lang, &orgs) {
        Ok(v) => v,
        Err(errors) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return page(&state, &admin, status, &form, &errors, false).await;
        }
    };
    match state
        .repo
        .create("Location", to_location(&valid), None)
        .await
    {
        Ok(w) => {
            admin
                .audit(
                    &state,
                    "create",
                    Some("Location"),
                    Some(&w.resource.id),
                    "success",
                )
                .await;
            see_other("/admin/clinics?added=true")
        }
        Err(e) => {
            admin
                .audit(&state, "create", Some("Location"), None, "error")
                .await;
            tracing::error!(status = e.status(), "admin: creating a Location failed");
            internal_error_page(lang)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> ClinicForm {
        ClinicForm {
            name: " Lyon Part-Dieu Clinic ".into(),
            street: "12 rue Garibaldi".into(),
            city: "Lyon".into(),
            postal_code: "69003".into(),
            country: "FR".into(),
            phone: "+33 4 72 00 00 00".into(),
            latitude: "45,7606".into(),
            longitude: "4.8590".into(),
            organization: "org-1".into(),
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
    fn a_clinic_becomes_an_active_location() {
        let v = validate(&form(), "en", &orgs()).unwrap();
        let l = to_location(&v);
        assert_eq!(l["status"], "active");
        assert_eq!(l["name"], "Lyon Part-Dieu Clinic");
        assert_eq!(l["address"]["line"][0], "12 rue Garibaldi");
        assert_eq!(l["address"]["postalCode"], "69003");
        assert_eq!(l["telecom"][0]["system"], "phone");
        assert_eq!(l["position"]["latitude"], 45.7606);
        assert_eq!(l["managingOrganization"]["reference"], "Organization/org-1");
    }

    #[test]
    fn optional_fields_may_be_left_out() {
        let f = ClinicForm {
            name: "Annecy".into(),
            city: "Annecy".into(),
            ..ClinicForm::default()
        };
        let l = to_location(&validate(&f, "en", &[]).unwrap());
        for absent in ["telecom", "position", "managingOrganization"] {
            assert!(l.get(absent).is_none(), "{absent}");
        }
        assert!(l["address"].get("line").is_none());
    }

    #[test]
    fn wrong_fields_are_reported_by_name() {
        let f = ClinicForm {
            name: " ".into(),
            city: "".into(),
            phone: "call us".into(),
            latitude: "91".into(),
            longitude: "inf".into(),
            organization: "org-2".into(),
            ..ClinicForm::default()
        };
        let e = validate(&f, "fr", &orgs()).unwrap_err();
        for field in [
            "name",
            "city",
            "phone",
            "latitude",
            "longitude",
            "organization",
        ] {
            let m = e.get(field).unwrap_or_else(|| panic!("{field}"));
            assert!(!m.starts_with("form.") && !m.starts_with("admin."), "{m}");
        }
    }

    #[test]
    fn a_position_needs_both_coordinates() {
        let f = ClinicForm {
            longitude: "".into(),
            ..form()
        };
        let e = validate(&f, "en", &orgs()).unwrap_err();
        assert!(e.get("longitude").is_some());
        assert!(e.get("latitude").is_none());
        assert_eq!(coordinate(" -45.5 ", 90.0, "x"), Ok(Some(-45.5)));
        assert_eq!(coordinate("1e2", 180.0, "x"), Err("x"));
        assert_eq!(coordinate("180.1", 180.0, "x"), Err("x"));
        assert_eq!(coordinate("", 90.0, "x"), Ok(None));
    }
}
