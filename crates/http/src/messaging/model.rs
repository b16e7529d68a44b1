//! Messages as FHIR `Communication`s, and back.
//!
//! - Every message is a completed Communication with the category
//!   [`CATEGORY_SYSTEM`]|`secure-message` (other Communications are not messages), `subject`
//!   the Patient, `sent` the server's time, `sender` the Patient or the Practitioner (with
//!   their name as `display`, so that the patient sees who answered), `recipient` the care
//!   team's Organization (patient to team) or the Patient (team to patient).
//! - A thread is its first message: that one carries the topic (`topic.text`) and is
//!   addressed to the Organization that is the thread's care team. Every reply has `partOf`
//!   the first message and `inResponseTo` the newest message before it.
//! - Text is `payload.contentString`; each attachment is a `payload.contentAttachment` whose
//!   `url` is a `Binary/<id>` holding the bytes (so that listing a thread does not load
//!   megabytes, and a patient cannot read the Binary over `/fhir`: it is in no compartment).

use serde::Serialize;
use serde_json::{json, Value};

pub const CATEGORY_SYSTEM: &str = "https://carefront.health/fhir/CodeSystem/communication-category";
pub const CATEGORY_CODE: &str = "secure-message";

/// Who wrote a message: the patient, or someone of their care team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Patient,
    Team,
}

impl Side {
    pub fn code(self) -> &'static str {
        match self {
            Side::Patient => "patient",
            Side::Team => "team",
        }
    }

    /// Anything but `team` is the patient's (the index only writes these two).
    pub fn parse(code: &str) -> Side {
        if code == "team" {
            Side::Team
        } else {
            Side::Patient
        }
    }
}

/// Whether `resource` is a secure message.
pub fn is_message(resource: &Value) -> bool {
    resource["resourceType"] == "Communication"
        && resource["category"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|c| c["coding"].as_array().into_iter().flatten())
            .any(|c| c["system"] == CATEGORY_SYSTEM && c["code"] == CATEGORY_CODE)
}

/// The id in a relative reference to `resource_type` (`Patient/p1`).
pub fn ref_id<'a>(reference: &'a Value, resource_type: &str) -> Option<&'a str> {
    let text = reference["reference"].as_str()?;
    let (t, id) = text.rsplit_once('/')?;
    let t = t.rsplit('/').next().unwrap_or(t);
    (t == resource_type && !id.is_empty()).then_some(id)
}

/// Microseconds since the epoch of an instant.
pub fn micros_of(instant: &str) -> Option<i64> {
    let t = time::OffsetDateTime::parse(instant, &time::format_description::well_known::Rfc3339)
        .ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1000).ok()
}

/// What the index needs from one message.
#[derive(Debug, Clone, PartialEq)]
pub struct Indexed {
    pub thread_id: String,
    pub patient_id: String,
    pub side: Side,
    pub sent_at: i64,
    /// The care team, when this message starts its thread.
    pub starts_thread_for: Option<String>,
}

impl Indexed {
    /// `None` for Communications that are not messages (or lack a patient or team).
    pub fn of(id: &str, c: &Value, last_updated: i64) -> Option<Indexed> {
        if !is_message(c) {
            return None;
        }
        let patient_id = ref_id(&c["subject"], "Patient")?.to_owned();
        let side = if ref_id(&c["sender"], "Patient").is_some() {
            Side::Patient
        } else {
            Side::Team
        };
        let sent_at = c["sent"]
            .as_str()
            .and_then(micros_of)
            .unwrap_or(last_updated);
        let part_of = c["partOf"]
            .as_array()
            .into_iter()
            .flatten()
            .find_map(|r| ref_id(r, "Communication"));
        Some(match part_of {
            Some(root) => Indexed {
                thread_id: root.to_owned(),
                patient_id,
                side,
                sent_at,
                starts_thread_for: None,
            },
            None => Indexed {
                thread_id: id.to_owned(),
                patient_id,
                side,
                sent_at,
                starts_thread_for: Some(team_of(c)?),
            },
        })
    }
}

/// The Organization a first message is addressed to.
fn team_of(c: &Value) -> Option<String> {
    c["recipient"]
        .as_array()
        .into_iter()
        .flatten()
        .find_map(|r| ref_id(r, "Organization"))
        .map(str::to_owned)
}

/// An attachment stored as a Binary.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AttachmentRef {
    /// The Binary's id.
    pub id: String,
    pub content_type: String,
    pub title: String,
    pub size: u64,
}

impl AttachmentRef {
    pub fn is_image(&self) -> bool {
        self.content_type.starts_with("image/")
    }

    fn of(a: &Value) -> Option<AttachmentRef> {
        Some(AttachmentRef {
            id: a["url"].as_str()?.strip_prefix("Binary/")?.to_owned(),
            content_type: a["contentType"].as_str()?.to_owned(),
            title: a["title"].as_str().unwrap_or("attachment").to_owned(),
            size: a["size"].as_u64().unwrap_or(0),
        })
    }

    fn to_fhir(&self) -> Value {
        json!({
            "contentType": self.content_type,
            "url": format!("Binary/{}", self.id),
            "size": self.size,
            "title": self.title,
        })
    }
}

/// A message as pages and the API show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Message {
    pub id: String,
    pub side: Side,
    /// Who wrote it, as they were named when they wrote it.
    pub sender: String,
    /// `Patient/…` or `Practitioner/…`.
    pub sender_ref: Option<String>,
    pub sent: String,
    #[serde(skip)]
    pub sent_at: i64,
    pub text: Option<String>,
    pub attachments: Vec<AttachmentRef>,
    /// The thread's topic (first message only).
    pub topic: Option<String>,
}

impl Message {
    pub fn of(id: &str, c: &Value) -> Message {
        let payload = c["payload"].as_array().cloned().unwrap_or_default();
        let text = payload
            .iter()
            .filter_map(|p| p["contentString"].as_str())
            .collect::<Vec<_>>()
            .join("\n");
        let sent = c["sent"].as_str().unwrap_or_default().to_owned();
        Message {
            id: id.to_owned(),
            side: if ref_id(&c["sender"], "Patient").is_some() {
                Side::Patient
            } else {
                Side::Team
            },
            sender: c["sender"]["display"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            sender_ref: c["sender"]["reference"].as_str().map(str::to_owned),
            sent_at: micros_of(&sent).unwrap_or(0),
            sent,
            text: (!text.is_empty()).then_some(text),
            attachments: payload
                .iter()
                .filter_map(|p| AttachmentRef::of(&p["contentAttachment"]))
                .collect(),
            topic: c["topic"]["text"].as_str().map(str::to_owned),
        }
    }
}

/// What a new message says and where it goes.
pub struct Draft<'a> {
    pub patient_id: &'a str,
    /// `Patient/p1` or `Practitioner/x`, and the name to show.
    pub sender: (String, String),
    /// Its recipient: the team's Organization for a patient's message, else the Patient.
    pub recipient: String,
    /// A new thread's topic; `None` for a reply.
    pub topic: Option<&'a str>,
    /// A reply's thread and the message it answers.
    pub reply_to: Option<(&'a str, &'a str)>,
    pub text: Option<&'a str>,
    pub attachments: &'a [AttachmentRef],
    pub sent: String,
}

impl Draft<'_> {
    pub fn to_fhir(&self) -> Value {
        let mut payload: Vec<Value> = self
            .text
            .map(|t| json!({ "contentString": t }))
            .into_iter()
            .collect();
        payload.extend(
            self.attachments
                .iter()
                .map(|a| json!({ "contentAttachment": a.to_fhir() })),
        );
        let mut c = json!({
            "resourceType": "Communication",
            "status": "completed",
            "category": [{ "coding": [{ "system": CATEGORY_SYSTEM, "code": CATEGORY_CODE }] }],
            "subject": { "reference": format!("Patient/{}", self.patient_id) },
            "sent": self.sent,
            "sender": { "reference": self.sender.0, "display": self.sender.1 },
            "recipient": [{ "reference": self.recipient }],
            "payload": payload,
        });
        if let Some(topic) = self.topic {
            c["topic"] = json!({ "text": topic });
        }
        if let Some((root, previous)) = self.reply_to {
            c["partOf"] = json!([{ "reference": format!("Communication/{root}") }]);
            c["inResponseTo"] = json!([{ "reference": format!("Communication/{previous}") }]);
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_belongs_to_its_thread_and_a_first_message_to_its_team() {
        let att = [AttachmentRef {
            id: "b1".into(),
            content_type: "image/png".into(),
            title: "rash.png".into(),
            size: 10,
        }];
        let first = Draft {
            patient_id: "p1",
            sender: ("Patient/p1".into(), "Ann".into()),
            recipient: "Organization/clinic-a".into(),
            topic: Some("Rash"),
            reply_to: None,
            text: Some("It itches"),
            attachments: &att,
            sent: "2026-01-02T03:04:05Z".into(),
        }
        .to_fhir();
        let i = Indexed::of("m1", &first, 0).unwrap();
        assert_eq!(i.thread_id, "m1");
        assert_eq!(i.side, Side::Patient);
        assert_eq!(i.starts_thread_for.as_deref(), Some("clinic-a"));
        assert_eq!(i.sent_at, 1_767_323_045_000_000);
        let m = Message::of("m1", &first);
        assert_eq!(m.topic.as_deref(), Some("Rash"));
        assert_eq!(m.attachments, att);

        let reply = Draft {
            patient_id: "p1",
            sender: ("Practitioner/dr".into(), "Dr A".into()),
            recipient: "Patient/p1".into(),
            topic: None,
            reply_to: Some(("m1", "m1")),
            text: Some("Come in"),
            attachments: &[],
            sent: "2026-01-02T04:04:05Z".into(),
        }
        .to_fhir();
        let i = Indexed::of("m2", &reply, 0).unwrap();
        assert_eq!((i.thread_id.as_str(), i.side), ("m1", Side::Team));
        assert_eq!(i.starts_thread_for, None);
        assert_eq!(Message::of("m2", &reply).sender, "Dr A");

        let other = json!({"resourceType": "Communication", "status": "completed",
            "subject": {"reference": "Patient/p1"}});
        assert_eq!(Indexed::of("x", &other, 0), None);
    }
}
