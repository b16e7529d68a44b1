//! On-demand care: a patient whose triage says "urgent, by video" joins a queue to see the
//! next free clinician now; clinicians of the on-demand pool take the next patient, most
//! urgent first, then longest waiting; the patient sees their place and estimated wait, live.
//!
//! How it is kept as FHIR ([`model`]): joining the queue creates an `Encounter` with class
//! `VR` (virtual), status `arrived` (the patient is present and not yet with a clinician), a
//! `priority` from the triage level, the on-demand `type`, and the triage `RiskAssessment` in
//! an extension (R4's `Encounter.reasonReference` may not point at a RiskAssessment). Taking
//! the patient creates an ad-hoc video `Appointment` (booked, starting now, no slot) and names
//! it in `Encounter.appointment` with the clinician as participant, so the video visit finds
//! this same Encounter and carries it through to `finished`. Leaving cancels the Encounter.
//! (Appointments with status `waitlist` are the booking waitlist's, hence not those.)
//!
//! Ordering and claiming use a plain index table, `ondemand_queue`, kept by a write hook
//! ([`index::QueueIndex`]) in the same transaction as every write of such an Encounter; a
//! clinician claims a row with one conditional UPDATE, so two never take the same patient.
//!
//! The on-demand pool ([`service::in_pool`]) is every practitioner account linked to a
//! Practitioner record: the simplest rule that works with existing data; narrowing it (for
//! example to PractitionerRoles with an on-demand code) changes that one function.
//!
//! The estimated wait is the patient's place times the minutes per patient the queue has
//! recently been served at (the mean gap between the last takes over two hours, between 2
//! and 30 minutes), or a fixed 10 minutes per place when fewer than three were taken.

pub mod api;
pub mod index;
pub mod model;
pub mod service;

pub use api::routes;
pub use index::QueueIndex;
