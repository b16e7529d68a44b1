//! Who may enter a visit's room: the appointment's patient, its practitioner(s), and holders of
//! an invite from the clinician. Decided from the Appointment itself on every connection, so
//! any instance decides the same.

use carefront_auth::Role;
use carefront_store::tables::accounts::Account;
use carefront_store::tables::one_time;
use serde::Serialize;
use serde_json::Value;

use crate::AppState;

/// A participant's part in the visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VisitRole {
    Patient,
    Clinician,
    Guest,
}

impl VisitRole {
    pub fn as_str(self) -> &'static str {
        match self {
            VisitRole::Patient => "patient",
            VisitRole::Clinician => "clinician",
            VisitRole::Guest => "guest",
        }
    }
}

/// A video appointment, as the room needs it.
#[derive(Debug, Clone)]
pub struct Visit {
    pub appointment_id: String,
    pub status: String,
    pub start: Option<String>,
    pub reason: Option<String>,
    pub patient_id: Option<String>,
    pub patient_name: String,
    /// `(id, name)` of each Practitioner participant.
    pub practitioners: Vec<(String, String)>,
    /// The symptom check (RiskAssessment id) the visit was booked from, if any.
    pub triage: Option<String>,
}

/// Why a visit cannot be entered.
#[derive(Debug, PartialEq, Eq)]
pub enum Closed {
    NotFound,
    /// Not a video appointment.
    NotVideo,
    /// Cancelled, a no-show, entered in error: there is no visit to hold.
    Cancelled,
}

/// Appointment statuses with no visit to hold.
const NO_VISIT: [&str; 3] = ["cancelled", "noshow", "entered-in-error"];

impl Visit {
    pub async fn load(state: &AppState, appointment_id: &str) -> Result<Visit, Closed> {
        let (a, _) = state
            .booking
            .current(appointment_id)
            .await
            .map_err(|_| Closed::NotFound)?;
        let visit = Visit::from_json(appointment_id, &a)?;
        if NO_VISIT.contains(&visit.status.as_str()) {
            return Err(Closed::Cancelled);
        }
        Ok(visit)
    }

    fn from_json(appointment_id: &str, a: &Value) -> Result<Visit, Closed> {
        let video = a["serviceCategory"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|c| c["coding"].as_array().into_iter().flatten())
            .any(|c| {
                c["system"] == carefront_booking::schedule::MODALITY_SYSTEM && c["code"] == "video"
            });
        if !video {
            return Err(Closed::NotVideo);
        }
        let actors_of = |rt: &str| -> Vec<(String, String)> {
            a["participant"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| {
                    let id = p["actor"]["reference"]
                        .as_str()?
                        .strip_prefix(rt)?
                        .strip_prefix('/')?;
                    let name = p["actor"]["display"].as_str().unwrap_or("");
                    Some((id.to_owned(), name.to_owned()))
                })
                .collect()
        };
        let patient = actors_of("Patient").into_iter().next();
        Ok(Visit {
            appointment_id: appointment_id.to_owned(),
            status: a["status"].as_str().unwrap_or("").to_owned(),
            start: a["start"].as_str().map(str::to_owned),
            reason: a["reasonCode"][0]["text"].as_str().map(str::to_owned),
            patient_id: patient.as_ref().map(|(id, _)| id.clone()),
            patient_name: patient.map(|(_, name)| name).unwrap_or_default(),
            practitioners: actors_of("Practitioner"),
            triage: carefront_booking::triage_of(a),
        })
    }

    /// The part `account` plays in this visit, if any: a patient account linked to its
    /// Patient, a practitioner account linked to one of its Practitioners.
    pub fn role_of(&self, account: &Account) -> Option<VisitRole> {
        let linked = account.fhir_ref.as_deref()?;
        match Role::parse(&account.role).ok()? {
            Role::Patient => {
                let id = linked.strip_prefix("Patient/")?;
                (self.patient_id.as_deref() == Some(id)).then_some(VisitRole::Patient)
            }
            Role::Practitioner => {
                let id = linked.strip_prefix("Practitioner/")?;
                self.practitioners
                    .iter()
                    .any(|(p, _)| p == id)
                    .then_some(VisitRole::Clinician)
            }
            _ => None,
        }
    }

    pub fn is_ended(&self) -> bool {
        self.status == "fulfilled"
    }
}

/// Invites: one-time links (the `one_time_tokens` table, spent on first use) whose purpose
/// names the appointment and the guest. The link's token is `<guest>.<secret>`: the guest id
/// stays the same across the fresh token each connection hands back for reconnecting, so the
/// clinician's room re-admits the same guest.
pub mod invite {
    use super::*;

    /// How long an unused invite (or a guest's reconnection token) stays valid.
    pub const TTL_SECS: i64 = 24 * 3600;

    fn purpose(appointment_id: &str, guest: &str) -> String {
        format!("visit-invite:{appointment_id}:{guest}")
    }

    /// A new invite to `appointment_id`, issued by the clinician `account_id`: the link token.
    pub async fn issue(
        state: &AppState,
        account_id: &str,
        appointment_id: &str,
        guest: Option<&str>,
        now_micros: i64,
    ) -> carefront_store::StoreResult<String> {
        let guest = guest
            .map(str::to_owned)
            .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string()[..12].to_owned());
        let secret = one_time::issue(
            state.repo.store().as_ref(),
            account_id,
            &purpose(appointment_id, &guest),
            now_micros + TTL_SECS * 1_000_000,
        )
        .await?;
        Ok(format!("{guest}.{secret}"))
    }

    /// Spends `token` for `appointment_id`: the guest id and the inviting account, once.
    pub async fn redeem(
        state: &AppState,
        appointment_id: &str,
        token: &str,
        now_micros: i64,
    ) -> carefront_store::StoreResult<Option<(String, String)>> {
        let Some((guest, secret)) = token.split_once('.') else {
            return Ok(None);
        };
        if guest.is_empty() || !guest.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Ok(None);
        }
        let inviter = one_time::redeem(
            state.repo.store().as_ref(),
            secret,
            &purpose(appointment_id, guest),
            now_micros,
        )
        .await?;
        Ok(inviter.map(|account| (guest.to_owned(), account)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn appointment(modality: &str) -> Value {
        json!({
            "status": "booked",
            "serviceCategory": [{ "coding": [{ "system": carefront_booking::schedule::MODALITY_SYSTEM, "code": modality }] }],
            "participant": [
                { "actor": { "reference": "Patient/p1", "display": "Ana" } },
                { "actor": { "reference": "Practitioner/d1", "display": "Dr B" } },
            ],
        })
    }

    fn account(role: &str, fhir_ref: &str) -> Account {
        Account {
            id: "x".into(),
            email: "x@example.org".into(),
            role: role.into(),
            display_name: "X".into(),
            password_hash: String::new(),
            email_confirmed: true,
            disabled: false,
            fhir_ref: Some(fhir_ref.into()),
            totp_secret: None,
            totp_last_step: None,
            locale: "en".into(),
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn only_the_appointments_people_have_a_role() {
        let v = Visit::from_json("a1", &appointment("video")).unwrap();
        assert_eq!(
            v.role_of(&account("patient", "Patient/p1")),
            Some(VisitRole::Patient)
        );
        assert_eq!(
            v.role_of(&account("practitioner", "Practitioner/d1")),
            Some(VisitRole::Clinician)
        );
        assert_eq!(v.role_of(&account("patient", "Patient/p2")), None);
        assert_eq!(v.role_of(&account("practitioner", "Practitioner/d2")), None);
        // A patient account pointing at the practitioner is not the practitioner.
        assert_eq!(v.role_of(&account("patient", "Practitioner/d1")), None);
        assert_eq!(v.patient_name, "Ana");
    }

    #[test]
    fn only_video_appointments_have_a_room() {
        assert_eq!(
            Visit::from_json("a1", &appointment("in-clinic")).unwrap_err(),
            Closed::NotVideo
        );
    }
}
