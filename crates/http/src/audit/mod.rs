//! The audit trail of the FHIR API: one entry per interaction (who, which resource, what,
//! with what outcome, from where), appended to the store's hash-chained audit log.
//!
//! [`layer`] records after each `/fhir` response; [`AuditSink`] takes the entries off the
//! request path and appends them in batches, so auditing every read costs little.

mod classify;
mod layer;
mod sink;

pub use classify::{classify, outcome, Interaction};
pub use layer::layer;
pub use sink::AuditSink;
