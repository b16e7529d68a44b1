//! The booking pages: patients search and book (`/book`), see and change their visits
//! (`/appointments`); clinicians read their agenda (`/agenda`); reception runs a clinic's day
//! (`/clinic/…`); administrators define schedules (`/admin/schedules`). Every page goes
//! through the booking service (`state.booking`), which enforces the rules (one appointment
//! per slot, notice, cancellation policy, patients' own appointments only); these pages show
//! what it says in the visitor's language.

mod agenda;
mod appointments;
mod clinic;
mod confirm;
pub mod display;
mod schedules;
mod search;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use carefront_auth::Role;
use carefront_booking::{Actor, BookingError};
use minijinja::Value;

use super::page::{html_status, internal_error_page, lang_cookie, message_page, with_cookie};
use super::session::{audit_page_access, ClientAddress, PageAccess, SignedIn};
use super::{i18n, LangQuery};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/book", get(search::show))
        .route("/book/waitlist", post(search::join_waitlist))
        .route(
            "/book/slot/{slot_id}",
            get(confirm::show).post(confirm::submit),
        )
        .route("/appointments", get(appointments::list))
        .route("/appointments/{id}", get(appointments::detail))
        .route("/appointments/{id}/cancel", post(appointments::cancel))
        .route(
            "/appointments/{id}/reschedule",
            post(appointments::reschedule),
        )
        .route("/appointments/{id}/checkin", post(appointments::check_in))
        .route("/appointments/{id}/take", post(appointments::take))
        .route("/agenda", get(agenda::show))
        .route("/clinic", get(clinic::choose))
        .route("/clinic/{location_id}/day", get(clinic::day))
        .route("/clinic/{location_id}/mark", post(clinic::mark))
        .route("/clinic/{location_id}/block", post(clinic::block))
        .route("/clinic/{location_id}/book", post(clinic::book))
        .route("/admin/schedules", get(schedules::list))
        .route(
            "/admin/schedules/new",
            get(schedules::new_show).post(schedules::new_submit),
        )
        .route(
            "/admin/schedules/{id}",
            get(schedules::edit_show).post(schedules::edit_submit),
        )
}

/// The roles that run clinics: they book for patients, mark arrivals, block time.
pub const STAFF: [Role; 3] = [Role::Practitioner, Role::Dispatcher, Role::Administrator];

/// A signed-in visitor (both factors), with their role, the page language and their address
/// for audit entries. Signed out: to `/signin`.
pub struct Visitor {
    pub who: SignedIn,
    pub role: Role,
    pub lang: &'static str,
    /// `?lang=` was given: the page remembers it in a cookie.
    pub lang_chosen: bool,
    pub source: String,
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let who = SignedIn::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let q: LangQuery =
            serde_urlencoded::from_str(parts.uri.query().unwrap_or("")).unwrap_or_default();
        let lang = i18n::choose(q.lang.as_deref(), &parts.headers);
        let ClientAddress(source) = ClientAddress::from_request_parts(parts, state)
            .await
            .unwrap_or_else(|never| match never {});
        // Accounts are written through `Role`: an unknown value is a damaged row, given the
        // least privileges.
        let role = Role::parse(&who.account.role).unwrap_or(Role::Patient);
        Ok(Visitor {
            who,
            role,
            lang,
            lang_chosen: q.lang.is_some(),
            source,
        })
    }
}

impl Visitor {
    /// The Patient this account is (patients only).
    pub fn patient_id(&self) -> Option<&str> {
        if self.role != Role::Patient {
            return None;
        }
        self.who
            .account
            .fhir_ref
            .as_deref()?
            .strip_prefix("Patient/")
    }

    /// The Practitioner this account is (practitioners only).
    pub fn practitioner_id(&self) -> Option<&str> {
        if self.role != Role::Practitioner {
            return None;
        }
        self.who
            .account
            .fhir_ref
            .as_deref()?
            .strip_prefix("Practitioner/")
    }

    pub fn is_staff(&self) -> bool {
        STAFF.contains(&self.role)
    }

    /// Staff acting for the clinic: recorded on what they override.
    pub fn staff_actor(&self) -> Actor {
        Actor::Staff {
            account_id: self.who.account.id.clone(),
            name: self.who.account.display_name.clone(),
        }
    }

    /// A 403 page: this role may not use the page.
    pub fn forbidden(&self) -> Response {
        message_page(
            StatusCode::FORBIDDEN,
            self.lang,
            "error.forbidden.title",
            "error.forbidden.body",
        )
    }

    /// A patient page opened by an account without a patient record (or by staff).
    pub fn patient_only(&self) -> Response {
        message_page(
            StatusCode::FORBIDDEN,
            self.lang,
            "booking.patient_only.title",
            "booking.patient_only.body",
        )
    }

    /// Render a page, remembering `?lang=` when it was given.
    pub fn render(&self, status: StatusCode, template: &str, ctx: Value) -> Response {
        let r = html_status(status, template, ctx, self.lang);
        with_cookie(
            r,
            self.lang_chosen.then(|| lang_cookie(self.lang)).flatten(),
        )
    }

    /// What this page did to a resource, into the audit chain.
    pub async fn audit(
        &self,
        state: &AppState,
        action: &str,
        resource_type: &str,
        resource_id: Option<&str>,
        ok: bool,
    ) {
        audit_page_access(
            state,
            PageAccess {
                account_id: &self.who.account.id,
                role: self.role.as_str(),
                source: &self.source,
                action,
                resource_type: Some(resource_type),
                resource_id,
                outcome: if ok { "success" } else { "error" },
            },
        )
        .await;
    }

    /// The page for a failure of the booking service that is ours, not the visitor's (the
    /// store failed): logged without personal data, answered with the generic 500 page.
    pub fn internal(&self, what: &str, e: &BookingError) -> Response {
        tracing::error!(
            status = e.status(),
            error_kind = what,
            "booking page failed"
        );
        internal_error_page(self.lang)
    }
}

/// The status a page answers with for a booking error (the service's own mapping).
pub fn status_of(e: &BookingError) -> StatusCode {
    StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// Whether an error is the store failing (a 5xx page) rather than something to explain.
pub fn is_internal(e: &BookingError) -> bool {
    matches!(e, BookingError::Repo(_)) && e.status() >= 500
}

/// What went wrong, in words for the page: the service's rules translated where we know
/// them, its own (English) explanation otherwise.
pub fn explain(lang: &str, e: &BookingError) -> String {
    use carefront_booking::scheduling::NotBookable;
    let t = |key: &str| i18n::translate(lang, key).into_owned();
    match e {
        BookingError::Taken { .. } => t("booking.error.taken"),
        BookingError::NotBookable(NotBookable::Past) => t("booking.error.past"),
        BookingError::NotBookable(NotBookable::TooSoon { .. }) => t("booking.error.too_soon"),
        BookingError::NotBookable(NotBookable::TooFar { .. }) => t("booking.error.too_far"),
        BookingError::NotFound(_) => t("booking.error.not_found"),
        BookingError::Refused(why) => refused(lang, why),
        BookingError::Invalid(why) => why.clone(),
        BookingError::Repo(_) => t("error.internal.body"),
    }
}

/// The service's refusals we know, translated; others as it words them.
fn refused(lang: &str, why: &str) -> String {
    let hours = || {
        why.split_whitespace()
            .find(|w| w.chars().all(|c| c.is_ascii_digit()))
            .unwrap_or("")
            .to_owned()
    };
    let known = |key: &str, args: &[(&str, String)]| super::forms::message(lang, key, args);
    if why.starts_with("this visit starts in less than") && why.ends_with("cancel it") {
        known("booking.error.cancel_late", &[("hours", hours())])
    } else if why.starts_with("this visit starts in less than") && why.ends_with("move it") {
        known("booking.error.move_late", &[("hours", hours())])
    } else if why.starts_with("check-in opens") {
        known("booking.error.checkin_window", &[])
    } else if why.starts_with("this time is blocked") {
        known("booking.error.blocked", &[])
    } else if why.starts_with("this appointment cannot be cancelled") {
        known("booking.error.cannot_cancel", &[])
    } else if why.starts_with("only a booked appointment can be moved") {
        known("booking.error.cannot_move", &[])
    } else if why.starts_with("this hold is") {
        known("booking.error.hold_gone", &[])
    } else {
        why.to_owned()
    }
}

/// A form's checkbox: present (any value but empty or "false") means ticked.
pub fn ticked(value: &str) -> bool {
    !value.is_empty() && value != "false"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_refusals_are_translated_with_their_numbers() {
        let why = "this visit starts in less than 24 hours; please call the clinic to cancel it";
        let en = explain("en", &BookingError::Refused(why.into()));
        let fr = explain("fr", &BookingError::Refused(why.into()));
        assert!(
            en.contains("24") && fr.contains("24") && en != fr,
            "{en} / {fr}"
        );
        let other = explain("fr", &BookingError::Refused("something new".into()));
        assert_eq!(other, "something new");
        let taken = explain(
            "en",
            &BookingError::Taken {
                alternatives: vec![],
            },
        );
        assert!(taken.contains("just been taken"), "{taken}");
        assert_eq!(
            status_of(&BookingError::Taken {
                alternatives: vec![]
            }),
            StatusCode::CONFLICT
        );
    }

    #[test]
    fn checkboxes() {
        assert!(ticked("on"));
        assert!(ticked("true"));
        assert!(!ticked(""));
        assert!(!ticked("false"));
    }
}
