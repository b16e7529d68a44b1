//! Secure messaging between patients and their care team: threads of FHIR `Communication`s
//! (see [`model`] for how they are written), attachments kept as `Binary`s ([`attachment`]),
//! an index for lists, unread counts and response times kept by a write hook ([`index`]),
//! mail that says only "you have a new message" ([`notify`]), live events to open pages,
//! and the JSON API under `/api/messages` ([`api`]). The pages (`web::messages`) call the
//! same [`service`].
//!
//! The care team is the Organization the patient's first message was addressed to: the
//! patient's managing organisation when the thread began. Any practitioner of that
//! organisation reads and answers the team's threads; practitioners and administrators of
//! it see the response times (no separate team-lead role).

pub mod api;
pub mod attachment;
pub mod index;
pub mod model;
pub mod notify;
pub mod service;

use std::sync::Arc;

pub use api::routes;
pub use service::{MsgError, Party};

/// The write hook that keeps the messaging index (register with `Repository::with_hook`).
pub fn hook() -> Arc<index::MessageIndex> {
    Arc::new(index::MessageIndex)
}
