//! Joins, admissions, ends and invites into the audit chain, like the pages' own entries
//! (`web::session::audit_page_access`), with guests named as `guest:<id>`.

use carefront_store::tables::audit::AuditEntry;

use super::room::Member;
use crate::AppState;

pub async fn record(state: &AppState, who: &Member, action: &str, appointment_id: &str) {
    state
        .audit
        .record(AuditEntry {
            at: carefront_store::repository::now_micros(),
            actor: who.identity.clone(),
            actor_role: who.audit_role.clone(),
            action: action.to_owned(),
            resource_type: Some("Appointment".to_owned()),
            resource_id: Some(appointment_id.to_owned()),
            outcome: "success".to_owned(),
            source: who.source.clone(),
            detail: "video visit".to_owned(),
        })
        .await;
}
