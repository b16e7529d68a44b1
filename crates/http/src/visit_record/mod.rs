//! The visit record: what a clinician writes at the end of a visit (the structured note,
//! coded diagnoses, vitals, follow-up) and the summary the patient reads afterwards.
//!
//! A note is kept as FHIR on the visit's Encounter (found or made by
//! [`crate::visits::encounter`], one per appointment): a `Composition` (LOINC 11506-3
//! "Progress note", one narrative section per part of the note), one `Condition` per
//! diagnosis, one vital-signs `Observation` per measurement, and a `Task` for the patient to
//! book a follow-up. Those are written in one transaction ([`record::save`]); the Encounter
//! is then closed (finished, appointment fulfilled) by `visits::encounter::finish`, which
//! commits on its own; saving again after a failure there only closes it.
//!
//! The pages are in `crate::web::visit_record`.

pub mod diagnoses;
pub mod note;
pub mod record;
pub mod vitals;
