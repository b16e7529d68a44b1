//! Who may use booking, and as what: a patient books for themselves; clinic staff
//! (practitioners, dispatchers at the front desk, administrators) and system clients allowed
//! to write Appointments book on a patient's behalf. Other roles are refused.

use carefront_auth::{Action, Principal, Role};
use carefront_booking::{Actor, BookingError};

use crate::auth::Caller;

pub fn actor_of(caller: &Caller) -> Result<Actor, BookingError> {
    match &caller.principal {
        Principal::Account(account) => match account.role {
            Role::Patient => account
                .patient_id
                .as_ref()
                .map(|p| Actor::Patient(p.id().to_owned()))
                .ok_or_else(|| {
                    BookingError::Refused("this account is not linked to a patient record".into())
                }),
            Role::Practitioner | Role::Dispatcher | Role::Administrator => Ok(Actor::Staff {
                account_id: account.id.clone(),
                name: caller.actor.clone(),
            }),
            Role::Pharmacist | Role::EmployerAdmin => Err(BookingError::Refused(
                "this role does not book appointments".into(),
            )),
        },
        Principal::Client(client) if client.scopes.allows("Appointment", Action::Create) => {
            Ok(Actor::Staff {
                account_id: format!("client:{}", client.id),
                name: caller.actor.clone(),
            })
        }
        Principal::Client(_) => Err(BookingError::Refused(
            "this client's scopes do not allow writing Appointments".into(),
        )),
        Principal::Anonymous => Err(BookingError::Refused("sign in first".into())),
    }
}

/// The patient a request is for: a patient's own record, or the one staff name.
pub fn patient_for(actor: &Actor, named: Option<&str>) -> Result<String, BookingError> {
    match (actor, named) {
        (Actor::Patient(me), None) => Ok(me.clone()),
        (Actor::Patient(me), Some(p)) if p == me => Ok(me.clone()),
        (Actor::Patient(_), Some(_)) => Err(BookingError::Refused(
            "patients book for themselves only".into(),
        )),
        (Actor::Staff { .. }, Some(p)) if !p.trim().is_empty() => Ok(p.trim().to_owned()),
        (Actor::Staff { .. }, _) => Err(BookingError::invalid(
            "name the patient (patient_id) to book on their behalf",
        )),
    }
}
