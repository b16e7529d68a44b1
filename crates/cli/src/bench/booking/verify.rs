//! The end check: no slot holds two appointments. Read from the store itself (every current
//! Appointment resource, and the booking index), not from what the API answered.

use std::collections::HashMap;

use carefront_booking::Booking;
use carefront_store::sql::{statement, Bind};
use carefront_store::Cell;
use serde_json::Value;

use super::seed::Local;

pub struct Verdict {
    /// Current Appointments whose status holds their slot (booked, pending, ...).
    pub holding: usize,
    /// Slots named by more than one of them.
    pub double_booked: usize,
    /// Rows of the booking index that name an appointment.
    pub indexed: usize,
    /// Index rows and Appointments that disagree (a row naming an appointment that does not
    /// name its slot, or the other way round).
    pub mismatched: usize,
    /// Slot resources whose status says busy.
    pub busy_slots: u64,
    /// An example of what went wrong.
    pub example: Option<String>,
}

impl Verdict {
    pub fn passed(&self, expected: usize) -> bool {
        self.double_booked == 0
            && self.mismatched == 0
            && self.indexed == self.holding
            && self.holding == expected
    }
}

pub async fn check(local: &Local) -> Result<Verdict, String> {
    // Slot → the holding appointments that name it.
    let mut by_slot: HashMap<String, Vec<String>> = HashMap::new();
    let mut holding = 0;
    for appointment in appointments(local).await? {
        let status = appointment["status"].as_str().unwrap_or("");
        if !Booking::holds_slot(status) {
            continue;
        }
        holding += 1;
        let id = appointment["id"].as_str().unwrap_or("?").to_owned();
        for slot in appointment["slot"].as_array().into_iter().flatten() {
            if let Some(slot_id) = slot["reference"]
                .as_str()
                .and_then(|r| r.strip_prefix("Slot/"))
            {
                by_slot
                    .entry(slot_id.to_owned())
                    .or_default()
                    .push(id.clone());
            }
        }
    }
    let mut verdict = Verdict {
        holding,
        double_booked: 0,
        indexed: 0,
        mismatched: 0,
        busy_slots: busy_slots(local).await?,
        example: None,
    };
    for (slot, ids) in by_slot.iter().filter(|(_, ids)| ids.len() > 1) {
        verdict.double_booked += 1;
        verdict
            .example
            .get_or_insert_with(|| format!("Slot/{slot} is held by {}", ids.join(", ")));
    }
    let s = statement(
        local.dialect(),
        "SELECT slot_id, appointment_id FROM slot_index WHERE appointment_id IS NOT NULL",
        vec![],
    );
    let rows = local.store.query(s).await.map_err(|e| e.to_string())?;
    verdict.indexed = rows.len();
    for row in &rows {
        let slot = row.first().and_then(Cell::text).unwrap_or("");
        let appointment = row.get(1).and_then(Cell::text).unwrap_or("");
        let agrees = by_slot
            .get(slot)
            .is_some_and(|ids| ids.iter().any(|id| id == appointment));
        if !agrees {
            verdict.mismatched += 1;
            verdict.example.get_or_insert_with(|| {
                format!("the index gives Slot/{slot} to Appointment/{appointment}, which does not hold it")
            });
        }
    }
    Ok(verdict)
}

/// Every current Appointment, parsed.
async fn appointments(local: &Local) -> Result<Vec<Value>, String> {
    let s = statement(
        local.dialect(),
        "SELECT content FROM resources WHERE res_type = 'Appointment' AND deleted = {}",
        vec![Bind::Bool(false)],
    );
    let rows = local
        .store
        .query(s)
        .await
        .map_err(|e| format!("cannot read the appointments: {e}"))?;
    rows.into_iter()
        .map(|row| match row.into_iter().next() {
            Some(Cell::Bytes(b)) => serde_json::from_slice(&b).map_err(|e| e.to_string()),
            Some(Cell::Text(t)) => serde_json::from_str(&t).map_err(|e| e.to_string()),
            other => Err(format!("an Appointment's content reads as {other:?}")),
        })
        .collect()
}

/// `Slot?status=busy&_summary=count`: the FHIR view must agree with the index.
async fn busy_slots(local: &Local) -> Result<u64, String> {
    let repo = local.booking.repository();
    let params = [
        ("status".to_owned(), "busy".to_owned()),
        ("_summary".to_owned(), "count".to_owned()),
    ];
    let query = repo
        .parse_search(Some("Slot"), &params, false)
        .map_err(|e| e.to_string())?;
    let page = repo.search(&query).await.map_err(|e| e.to_string())?;
    Ok(page.total.unwrap_or(0))
}
