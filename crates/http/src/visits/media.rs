//! Images shared in a visit's chat, kept in the record as FHIR `Media`: a photo of a rash or
//! of a document is clinical information, and `Media` says what it is (a photo, its type and
//! size, who took part, which Encounter) where a `Communication` would only say it was sent.
//! The chat's text stays out of the record (it is conversation; the visit note is the record),
//! except as the image's caption.

use base64::Engine;
use serde_json::{json, Value};

use super::access::{Visit, VisitRole};
use super::protocol::Image;
use super::room::Member;

/// The `Media` for `image`, shared by `by` during `visit` (its Encounter `encounter_id`).
pub fn chat_image(
    visit: &Visit,
    encounter_id: &str,
    by: &Member,
    caption: &str,
    image: &Image,
    now: &str,
) -> Value {
    let mut media = json!({
        "resourceType": "Media",
        "status": "completed",
        "type": { "coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/media-type",
            "code": "image", "display": "Image" }] },
        "encounter": { "reference": format!("Encounter/{encounter_id}") },
        "createdDateTime": now,
        "issued": now,
        "content": {
            "contentType": image.content_type,
            "data": base64::engine::general_purpose::STANDARD.encode(&image.bytes),
            "size": image.bytes.len(),
            "title": "Shared during the video visit",
            "creation": now,
        },
        "note": [{ "text": format!("Shared by {} ({})", by.name, by.role.as_str()) }],
    });
    if let Some(patient) = &visit.patient_id {
        media["subject"] = json!({ "reference": format!("Patient/{patient}") });
    }
    // Media.operator: the clinician who shared it (patients and guests have no reference here).
    if let (VisitRole::Clinician, Some(id)) = (by.role, &by.practitioner_id) {
        media["operator"] = json!({ "reference": format!("Practitioner/{id}") });
    }
    let caption = caption.trim();
    if !caption.is_empty() {
        media["content"]["title"] = json!(caption.chars().take(200).collect::<String>());
    }
    media
}
