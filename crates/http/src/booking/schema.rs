//! How the booking JSON API's answers look, for `/api/openapi.json`. The booking crate's
//! types ([`carefront_booking::Offer`], [`carefront_booking::Booked`]...) stay free of HTTP
//! concerns: these describe their JSON, and the test below fails when the two drift apart.

#![allow(dead_code)]

use utoipa::ToSchema;

/// A clinician's bookable agenda (practitioner role, place, modality) with its first free
/// times.
#[derive(ToSchema)]
pub struct Offer {
    schedule_id: String,
    role_id: String,
    practitioner_id: String,
    practitioner_name: String,
    location_id: String,
    location_name: String,
    /// `in-clinic`, `video` or `home`.
    modality: String,
    /// SNOMED CT code.
    specialty: String,
    languages: Vec<String>,
    /// The clinic's IANA time zone.
    zone: String,
    /// From `near`, when given.
    distance_km: Option<f64>,
    slots: Vec<OfferedSlot>,
}

/// A free time.
#[derive(ToSchema)]
pub struct OfferedSlot {
    slot_id: String,
    /// FHIR instant with the clinic's offset.
    start: String,
    end: String,
}

/// `GET /api/booking/slots`.
#[derive(ToSchema)]
pub struct Offers {
    offers: Vec<Offer>,
}

/// A slot kept for the patient while they confirm.
#[derive(ToSchema)]
pub struct Held {
    /// The pending appointment; confirm with `hold` in `POST /api/booking/appointments`.
    appointment_id: String,
    slot_id: String,
    /// When the hold lapses (FHIR instant).
    expires: String,
}

/// A booked appointment.
#[derive(ToSchema)]
pub struct Booked {
    appointment_id: String,
    status: String,
    start: String,
    end: String,
    practitioner_name: String,
    location_name: String,
    modality: String,
}

/// One appointment of the patient (booked, pending, waitlist, past...).
#[derive(ToSchema)]
pub struct AgendaEntry {
    appointment_id: String,
    status: String,
    start: Option<String>,
    end: Option<String>,
    patient_id: Option<String>,
    patient_name: String,
    practitioner_id: Option<String>,
    practitioner_name: String,
    location_name: Option<String>,
    modality: Option<String>,
    specialty: Option<String>,
    reason: Option<String>,
    slot_id: Option<String>,
    /// Why staff overbooked, when they did.
    overbooked: Option<String>,
    /// A pending hold's expiry.
    hold_expires: Option<String>,
    /// The waitlist entry's latest acceptable time.
    wait_until: Option<String>,
    /// The triage outcome (RiskAssessment id) the visit was booked from.
    triage: Option<String>,
}

/// `GET /api/booking/appointments`.
#[derive(ToSchema)]
pub struct Appointments {
    appointments: Vec<AgendaEntry>,
}

/// An appointment's new status (`cancelled`, `arrived`, `noshow`, `fulfilled`, `waitlist`).
#[derive(ToSchema)]
pub struct StatusChange {
    appointment_id: String,
    status: String,
}

/// What saving a schedule changed in its slots.
#[derive(ToSchema)]
pub struct Regenerated {
    created: usize,
    removed: usize,
    /// Booked times the rules no longer offer.
    conflicts: Vec<Conflict>,
}

#[derive(ToSchema)]
pub struct Conflict {
    slot_id: String,
    start: String,
    appointment_id: String,
}

/// A booking failure.
#[derive(ToSchema)]
pub struct BookingErrorBody {
    /// What went wrong and what to fix.
    error: String,
    /// When the time was just taken (409): the nearest free ones instead.
    alternatives: Option<Vec<Offer>>,
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use carefront_booking as b;
    use serde::Serialize;
    use utoipa::openapi::{RefOr, Schema};
    use utoipa::PartialSchema;

    /// The property names `S` documents and the keys `value` serialises to are the same.
    fn same_fields<S: PartialSchema>(value: impl Serialize) {
        let RefOr::T(Schema::Object(schema)) = S::schema() else {
            panic!("not an object schema");
        };
        let documented: BTreeSet<String> = schema.properties.keys().cloned().collect();
        let json = serde_json::to_value(value).unwrap();
        let actual: BTreeSet<String> = json.as_object().unwrap().keys().cloned().collect();
        assert_eq!(documented, actual);
    }

    fn text() -> String {
        "x".into()
    }

    #[test]
    fn the_documented_bodies_match_the_booking_types() {
        let slot = b::OfferedSlot {
            slot_id: text(),
            start: text(),
            end: text(),
            starts_at: 0,
        };
        same_fields::<super::OfferedSlot>(&slot);
        same_fields::<super::Offer>(b::Offer {
            schedule_id: text(),
            role_id: text(),
            practitioner_id: text(),
            practitioner_name: text(),
            location_id: text(),
            location_name: text(),
            modality: text(),
            specialty: text(),
            languages: vec![],
            zone: text(),
            distance_km: Some(1.0),
            slots: vec![slot],
        });
        same_fields::<super::Held>(b::Held {
            appointment_id: text(),
            slot_id: text(),
            expires: text(),
        });
        same_fields::<super::Booked>(b::Booked {
            appointment_id: text(),
            status: text(),
            start: text(),
            end: text(),
            practitioner_name: text(),
            location_name: text(),
            modality: text(),
            appointment: serde_json::Value::Null,
        });
        same_fields::<super::AgendaEntry>(b::AgendaEntry {
            appointment_id: text(),
            status: text(),
            start: None,
            end: None,
            starts_at: None,
            patient_id: None,
            patient_name: text(),
            practitioner_id: None,
            practitioner_name: text(),
            location_name: None,
            modality: None,
            specialty: None,
            reason: None,
            slot_id: None,
            overbooked: None,
            hold_expires: None,
            wait_until: None,
            triage: Some(text()),
        });
        same_fields::<super::Regenerated>(b::Regenerated::default());
        same_fields::<super::Conflict>(b::Conflict {
            slot_id: text(),
            start: text(),
            appointment_id: text(),
        });
    }
}
