//! `/signup`: a patient creates their account. The FHIR Patient is written first (the account
//! points at it), then the account, then the confirmation mail goes to the outbox.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use carefront_auth::{BirthDate, EmailAddress, Password, PersonName, Role};
use carefront_store::repository::now_micros;
use carefront_store::tables::accounts::{self, Account};
use carefront_store::StoreError;
use minijinja::context;
use serde::Deserialize;
use serde_json::json;
use time::OffsetDateTime;

use super::forms::{self, FieldErrors};
use super::mailbox::{self, LinkMail};
use super::page::{csrf_failed_page, html_status, internal_error_page, with_cookie};
use super::session::{audit_page_access, ClientAddress, PageAccess};
use super::{csrf, i18n, LangQuery};
use crate::AppState;

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct SignUpForm {
    pub email: String,
    pub password: String,
    pub given: String,
    pub family: String,
    pub birth_date: String,
    pub csrf: String,
}

/// A sign-up form that passed every check.
pub struct ValidSignUp {
    pub email: EmailAddress,
    pub password: Password,
    pub name: PersonName,
    pub birth_date: BirthDate,
}

/// Check every field (so all errors show at once), in the visitor's language.
pub fn validate(f: &SignUpForm, lang: &str, today: time::Date) -> Result<ValidSignUp, FieldErrors> {
    let mut errors = FieldErrors::default();
    let email = EmailAddress::parse(&f.email)
        .map_err(|e| errors.add("email", forms::email_error(lang, &e)))
        .ok();
    // With the address unreadable the password is still checked (for its length), against
    // a stand-in address.
    let stand_in = EmailAddress::parse("someone@example.invalid").ok();
    let password = email.as_ref().or(stand_in.as_ref()).and_then(|email| {
        Password::parse(&f.password, email)
            .map_err(|e| errors.add("password", forms::password_error(lang, &e)))
            .ok()
    });
    // Each part is checked on its own so that both can be reported.
    for (given, family) in [(f.given.as_str(), "x"), ("x", f.family.as_str())] {
        if let Err(e) = PersonName::parse(given, family) {
            let (field, m) = forms::name_error(lang, &e);
            errors.add(field, m);
        }
    }
    let name = PersonName::parse(&f.given, &f.family).ok();
    let birth_date = BirthDate::parse(&f.birth_date, today)
        .map_err(|e| errors.add("birth_date", forms::birth_date_error(lang, &e)))
        .ok();
    match (email, password, name, birth_date) {
        (Some(email), Some(password), Some(name), Some(birth_date)) if errors.is_empty() => {
            Ok(ValidSignUp {
                email,
                password,
                name,
                birth_date,
            })
        }
        _ => Err(errors),
    }
}

fn form_page(
    status: StatusCode,
    lang: &str,
    csrf: &str,
    form: &SignUpForm,
    errors: &FieldErrors,
    notice: Option<&str>,
) -> Response {
    // The password is never sent back: the form keeps everything else.
    let values = context! {
        email => form.email, given => form.given, family => form.family,
        birth_date => form.birth_date,
    };
    html_status(
        status,
        "signup.html",
        context! { lang, csrf, values, errors, notice },
        lang,
    )
}

pub async fn show(
    State(state): State<AppState>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = i18n::choose(q.lang.as_deref(), &headers);
    let (token, cookie) = csrf::anon_token(&state, &headers);
    let mut r = form_page(
        StatusCode::OK,
        lang,
        &token,
        &SignUpForm::default(),
        &FieldErrors::default(),
        None,
    );
    if q.lang.is_some() {
        r = with_cookie(r, super::page::lang_cookie(lang));
    }
    with_cookie(r, cookie)
}

pub async fn submit(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = i18n::choose(None, &headers);
    let form: SignUpForm = forms::parse(&body);
    if !csrf::anon_ok(&headers, &form.csrf) {
        return csrf_failed_page(lang);
    }
    let again = |errors: &FieldErrors, notice: Option<&str>| {
        form_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            lang,
            &form.csrf,
            &form,
            errors,
            notice,
        )
    };
    let valid = match validate(&form, lang, OffsetDateTime::now_utc().date()) {
        Ok(v) => v,
        Err(errors) => return again(&errors, None),
    };
    let store = state.repo.store().as_ref();
    let email = valid.email.as_str().to_lowercase();
    match accounts::by_email(store, &email).await {
        Ok(None) => {}
        Ok(Some(_)) => return again(&FieldErrors::default(), Some("signup.taken")),
        Err(e) => {
            tracing::error!(error = %e, "sign-up: account lookup failed");
            return internal_error_page(lang);
        }
    }
    // argon2id takes tens of milliseconds of CPU: off the async workers.
    let password = valid.password.clone();
    let hash =
        match tokio::task::spawn_blocking(move || carefront_auth::hash_password(&password)).await {
            Ok(Ok(h)) => h,
            _ => {
                tracing::error!("sign-up: password hashing failed");
                return internal_error_page(lang);
            }
        };
    let patient = json!({
        "resourceType": "Patient",
        "active": true,
        "name": [{
            "use": "official",
            "family": valid.name.family(),
            "given": [valid.name.given()],
        }],
        "birthDate": valid.birth_date.to_fhir_date(),
        "telecom": [{ "system": "email", "value": email, "use": "home" }],
        "communication": [{
            "language": { "coding": [{ "system": "urn:ietf:bcp:47", "code": lang }] },
            "preferred": true,
        }],
    });
    let written = match state.repo.create("Patient", patient, None).await {
        Ok(w) => w,
        Err(e) => {
            tracing::error!(status = e.status(), "sign-up: creating the Patient failed");
            return internal_error_page(lang);
        }
    };
    let now = now_micros();
    let account = Account {
        id: uuid::Uuid::new_v4().to_string(),
        email: email.clone(),
        role: Role::Patient.as_str().to_owned(),
        display_name: valid.name.display_name(),
        password_hash: hash.as_str().to_owned(),
        email_confirmed: false,
        disabled: false,
        fhir_ref: Some(format!("Patient/{}", written.resource.id)),
        totp_secret: None,
        totp_last_step: None,
        locale: lang.to_owned(),
        created_at: now,
        updated_at: now,
    };
    let access = PageAccess {
        account_id: &account.id,
        role: &account.role,
        source: &source,
        action: "create",
        resource_type: Some("Patient"),
        resource_id: Some(&written.resource.id),
        outcome: "success",
    };
    audit_page_access(&state, access).await;
    if let Err(e) = accounts::insert(store, &account).await {
        // Two sign-ups raced for the address: remove the Patient this one made.
        let _ = state.repo.delete("Patient", &written.resource.id).await;
        if matches!(e, StoreError::Conflict(_)) {
            return again(&FieldErrors::default(), Some("signup.taken"));
        }
        tracing::error!(error = %e, "sign-up: storing the account failed");
        return internal_error_page(lang);
    }
    let base = mailbox::base_url(&state, &headers);
    if let Err(e) =
        mailbox::send_link(&state, &base, LinkMail::Confirm, &account.id, &email, lang).await
    {
        // The account exists; the person can ask for another link from the sign-in page.
        tracing::error!(error = %e, "sign-up: queueing the confirmation mail failed");
    }
    tracing::info!(account = %account.id, "patient signed up");
    html_status(
        StatusCode::OK,
        "notice.html",
        context! {
            lang,
            title => i18n::translate(lang, "signup.done.title"),
            message => i18n::translate(lang, "signup.done.body"),
            mailbox => state.config.mailbox_open(),
        },
        lang,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> SignUpForm {
        SignUpForm {
            email: " Ada@Example.com ".into(),
            password: "correct horse battery".into(),
            given: "Ada".into(),
            family: "Lovelace".into(),
            birth_date: "1990-04-23".into(),
            csrf: String::new(),
        }
    }

    fn today() -> time::Date {
        time::macros::date!(2026 - 01 - 01)
    }

    #[test]
    fn a_good_form_is_accepted() {
        let v = validate(&form(), "en", today()).ok().unwrap();
        assert_eq!(v.name.display_name(), "Ada Lovelace");
        assert_eq!(v.birth_date.to_fhir_date(), "1990-04-23");
    }

    #[test]
    fn every_wrong_field_is_reported_at_once() {
        let f = SignUpForm {
            email: "nope".into(),
            password: "short".into(),
            given: " ".into(),
            family: "".into(),
            birth_date: "23/04/1990".into(),
            csrf: String::new(),
        };
        let e = validate(&f, "fr", today()).err().unwrap();
        for field in ["email", "password", "given", "family", "birth_date"] {
            assert!(e.get(field).is_some(), "{field}: {e:?}");
        }
        let f = SignUpForm {
            password: "short".into(),
            ..form()
        };
        let e = validate(&f, "en", today()).err().unwrap();
        assert!(e.get("password").unwrap().contains("12"));
        assert!(e.get("email").is_none());
    }
}
