//! The booking indexes and the one-appointment-per-slot rule, kept inside every write
//! transaction by a [`WriteHook`]: whoever writes a Schedule, Slot or Appointment (a page,
//! the booking service, a FHIR client with plain REST or a transaction Bundle) goes through
//! here, so no path can double-book a slot.
//!
//! An Appointment that holds its slots (pending, booked, arrived, checked-in, fulfilled,
//! noshow) claims each with one conditional UPDATE of the slot's index row; the row's primary
//! key and the condition make a second claim fail, on SQLite (single writer) and on
//! PostgreSQL (the row lock makes a racing claim re-check the condition after the first
//! commits). The Slot resource's status then follows (busy, busy-tentative or free).

use async_trait::async_trait;
use carefront_fhir::{Issue, IssueCode};
use carefront_store::repository::{now_micros, RepoError, Repository, WriteHook};
use carefront_store::sql::{statement, Bind, Dialect, Sql};
use carefront_store::{Cell, NewVersion, StoreTx};
use serde_json::Value;

use crate::schedule::{extension, is_bookable, ScheduleSpec, EXT_HOLD_EXPIRES, EXT_OVERBOOK};
use crate::time::{parse_instant, seconds};

/// Appointment statuses that hold their slots.
pub const HOLDING: [&str; 6] = [
    "pending",
    "booked",
    "arrived",
    "checked-in",
    "fulfilled",
    "noshow",
];

/// The hook to register on the repository (`Repository::with_hook`).
pub struct BookingIndex;

#[async_trait]
impl WriteHook for BookingIndex {
    async fn after_write(
        &self,
        repo: &Repository,
        tx: &mut dyn StoreTx,
        version: &NewVersion,
    ) -> Result<(), RepoError> {
        match version.resource_type.as_str() {
            "Schedule" => schedule_written(tx, version).await,
            "Slot" => slot_written(tx, version).await,
            "Appointment" => appointment_written(repo, tx, version).await,
            "PractitionerRole" | "Practitioner" | "Location" => {
                refresh_schedules_of(tx, &version.resource_type, &version.id).await
            }
            _ => Ok(()),
        }
    }
}

fn content(version: &NewVersion) -> Result<Value, RepoError> {
    serde_json::from_slice(&version.content)
        .map_err(|e| RepoError::Store(carefront_store::StoreError::Database(e.to_string())))
}

fn sql(tx: &dyn StoreTx, text: &str, binds: Vec<Bind>) -> Sql {
    statement(Dialect::of(tx.backend()), text, binds)
}

fn now_seconds() -> i64 {
    now_micros() / 1_000_000
}

fn invalid(why: impl Into<String>) -> RepoError {
    RepoError::BadRequest(Issue::error(IssueCode::Invalid, why))
}

async fn schedule_written(tx: &mut dyn StoreTx, version: &NewVersion) -> Result<(), RepoError> {
    let remove = sql(
        tx,
        "DELETE FROM schedule_index WHERE schedule_id = {}",
        vec![Bind::Text(version.id.clone())],
    );
    if version.deleted {
        tx.execute(remove).await?;
        return Ok(());
    }
    let schedule = content(version)?;
    if !is_bookable(&schedule) {
        tx.execute(remove).await?;
        return Ok(());
    }
    let spec = ScheduleSpec::from_fhir(&schedule).map_err(|e| invalid(e.to_string()))?;
    spec.rules().map_err(|e| invalid(e.to_string()))?;
    index_schedule(tx, &spec).await
}

/// What a schedule is searched by, gathered from the resources it names.
async fn index_schedule(tx: &mut dyn StoreTx, spec: &ScheduleSpec) -> Result<(), RepoError> {
    let role = read_current(tx, "PractitionerRole", &spec.role_id).await?;
    let location = read_current(tx, "Location", &spec.location_id).await?;
    let practitioner_id = reference_id(&role["practitioner"], "Practitioner").ok_or_else(|| {
        invalid(format!(
            "PractitionerRole/{} names no practitioner",
            spec.role_id
        ))
    })?;
    let practitioner = read_current(tx, "Practitioner", &practitioner_id).await?;
    let organization_id = reference_id(&role["organization"], "Organization")
        .or_else(|| reference_id(&location["managingOrganization"], "Organization"))
        .unwrap_or_default();
    let (specialty, specialty_name) = specialty(&role);
    let position = &location["position"];
    let coordinate = |key: &str| position[key].as_f64();
    let s = sql(
        tx,
        "INSERT INTO schedule_index (schedule_id, active, role_id, practitioner_id, \
         practitioner_name, organization_id, location_id, location_name, service_id, modality, \
         specialty, specialty_name, languages, latitude, longitude, zone, notice_s, horizon_s, \
         cancel_notice_s) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, \
         {}, {}, {}) ON CONFLICT (schedule_id) DO UPDATE SET active = excluded.active, \
         role_id = excluded.role_id, practitioner_id = excluded.practitioner_id, \
         practitioner_name = excluded.practitioner_name, \
         organization_id = excluded.organization_id, location_id = excluded.location_id, \
         location_name = excluded.location_name, service_id = excluded.service_id, \
         modality = excluded.modality, specialty = excluded.specialty, \
         specialty_name = excluded.specialty_name, languages = excluded.languages, \
         latitude = excluded.latitude, longitude = excluded.longitude, zone = excluded.zone, \
         notice_s = excluded.notice_s, horizon_s = excluded.horizon_s, \
         cancel_notice_s = excluded.cancel_notice_s",
        vec![
            Bind::Text(spec.id.clone()),
            Bind::Int(i64::from(
                spec.active && role["active"].as_bool() != Some(false),
            )),
            Bind::Text(spec.role_id.clone()),
            Bind::Text(practitioner_id),
            Bind::Text(person_name(&practitioner)),
            Bind::Text(organization_id),
            Bind::Text(spec.location_id.clone()),
            Bind::Text(location["name"].as_str().unwrap_or("").to_owned()),
            Bind::OptText(spec.service_id.clone()),
            Bind::Text(spec.modality.code().to_owned()),
            Bind::Text(specialty),
            Bind::Text(specialty_name),
            Bind::Text(languages(&practitioner)),
            Bind::OptFloat(coordinate("latitude")),
            Bind::OptFloat(coordinate("longitude")),
            Bind::Text(spec.zone_name.clone()),
            Bind::Int(i64::from(spec.notice_minutes) * 60),
            Bind::Int(i64::from(spec.horizon_days) * 86_400),
            Bind::Int(i64::from(spec.cancel_notice_hours) * 3_600),
        ],
    );
    tx.execute(s).await?;
    Ok(())
}

/// A change to a role, practitioner or place reaches the schedules that copy from it.
async fn refresh_schedules_of(
    tx: &mut dyn StoreTx,
    resource_type: &str,
    id: &str,
) -> Result<(), RepoError> {
    let column = match resource_type {
        "PractitionerRole" => "role_id",
        "Practitioner" => "practitioner_id",
        _ => "location_id",
    };
    let s = sql(
        tx,
        &format!("SELECT schedule_id FROM schedule_index WHERE {column} = {{}}"),
        vec![Bind::Text(id.to_owned())],
    );
    let rows = tx.query(s).await?;
    for row in rows {
        let Some(schedule_id) = row.first().and_then(Cell::text) else {
            continue;
        };
        let Some(stored) = tx.read("Schedule", schedule_id).await? else {
            continue;
        };
        if stored.deleted {
            continue;
        }
        let schedule: Value =
            serde_json::from_slice(&stored.content).map_err(|e| invalid(e.to_string()))?;
        // A schedule whose role or place became unusable stays as it was indexed.
        if let Ok(spec) = ScheduleSpec::from_fhir(&schedule) {
            if let Err(e) = index_schedule(tx, &spec).await {
                tracing::warn!(schedule = %schedule_id, error = %e, "schedule not re-indexed");
            }
        }
    }
    Ok(())
}

async fn read_current(
    tx: &mut dyn StoreTx,
    resource_type: &str,
    id: &str,
) -> Result<Value, RepoError> {
    match tx.read(resource_type, id).await? {
        Some(r) if !r.deleted => {
            serde_json::from_slice(&r.content).map_err(|e| invalid(e.to_string()))
        }
        _ => Err(invalid(format!(
            "the schedule refers to {resource_type}/{id}, which does not exist"
        ))),
    }
}

/// A Reference to `resource_type/id`, with its display only when there are words to show
/// (FHIR forbids empty strings).
pub fn reference_to(resource_type: &str, id: &str, display: &str) -> Value {
    let mut r = serde_json::json!({ "reference": format!("{resource_type}/{id}") });
    if !display.trim().is_empty() {
        r["display"] = Value::String(display.to_owned());
    }
    r
}

pub fn reference_id(reference: &Value, resource_type: &str) -> Option<String> {
    reference["reference"]
        .as_str()?
        .strip_prefix(resource_type)?
        .strip_prefix('/')
        .map(str::to_owned)
}

/// The role's first specialty: its code (lower-cased) to search by and its words to show.
fn specialty(role: &Value) -> (String, String) {
    let concept = &role["specialty"][0];
    let text = concept["text"]
        .as_str()
        .or(concept["coding"][0]["display"].as_str())
        .unwrap_or("")
        .to_owned();
    let key = concept["coding"][0]["code"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| text.clone());
    (key.to_lowercase(), text)
}

pub fn person_name(resource: &Value) -> String {
    let name = &resource["name"][0];
    if let Some(text) = name["text"].as_str() {
        return text.to_owned();
    }
    let mut parts: Vec<&str> = Vec::new();
    for key in ["prefix", "given"] {
        if let Some(list) = name[key].as_array() {
            parts.extend(list.iter().filter_map(Value::as_str));
        }
    }
    if let Some(family) = name["family"].as_str() {
        parts.push(family);
    }
    parts.join(" ")
}

/// ` fr en `: the languages the practitioner speaks, as BCP 47 codes between spaces.
fn languages(practitioner: &Value) -> String {
    let mut out = String::from(" ");
    for c in practitioner["communication"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if let Some(code) = c["coding"][0]["code"].as_str() {
            out.push_str(&code.to_lowercase());
            out.push(' ');
        }
    }
    out
}

async fn slot_written(tx: &mut dyn StoreTx, version: &NewVersion) -> Result<(), RepoError> {
    if version.deleted {
        let held = sql(
            tx,
            "SELECT appointment_id FROM slot_index WHERE slot_id = {} AND appointment_id IS NOT NULL",
            vec![Bind::Text(version.id.clone())],
        );
        if let Some(row) = tx.query(held).await?.first() {
            let appointment = row.first().and_then(Cell::text).unwrap_or("?");
            return Err(RepoError::Conflict(Issue::error(
                IssueCode::Conflict,
                format!(
                    "Slot/{} holds Appointment/{appointment}; cancel or move the appointment first",
                    version.id
                ),
            )));
        }
        let s = sql(
            tx,
            "DELETE FROM slot_index WHERE slot_id = {}",
            vec![Bind::Text(version.id.clone())],
        );
        tx.execute(s).await?;
        return Ok(());
    }
    let slot = content(version)?;
    let schedule_id = reference_id(&slot["schedule"], "Schedule")
        .ok_or_else(|| invalid("a Slot needs a schedule reference (Schedule/…)"))?;
    let (Some(start), Some(end)) = (
        slot["start"].as_str().and_then(parse_instant),
        slot["end"].as_str().and_then(parse_instant),
    ) else {
        return Err(invalid("a Slot needs start and end instants"));
    };
    if end <= start {
        return Err(invalid("a Slot must end after it starts"));
    }
    let status = slot["status"].as_str().unwrap_or("free");
    let s = sql(
        tx,
        "INSERT INTO slot_index (slot_id, schedule_id, starts_at, ends_at, status) \
         VALUES ({}, {}, {}, {}, {}) ON CONFLICT (slot_id) DO UPDATE SET \
         schedule_id = excluded.schedule_id, starts_at = excluded.starts_at, \
         ends_at = excluded.ends_at, status = excluded.status",
        vec![
            Bind::Text(version.id.clone()),
            Bind::Text(schedule_id),
            Bind::Int(seconds(start)),
            Bind::Int(seconds(end)),
            Bind::Text(status.to_owned()),
        ],
    );
    tx.execute(s).await?;
    Ok(())
}

/// The slots an appointment names (`Slot/<id>` references).
pub fn slot_ids(appointment: &Value) -> Vec<String> {
    appointment["slot"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| reference_id(r, "Slot"))
        .collect()
}

async fn appointment_written(
    repo: &Repository,
    tx: &mut dyn StoreTx,
    version: &NewVersion,
) -> Result<(), RepoError> {
    let id = &version.id;
    let wanted: Vec<String>;
    let mut slot_status = "busy";
    let mut hold_until = None;
    if version.deleted {
        wanted = Vec::new();
    } else {
        let appointment = content(version)?;
        let status = appointment["status"].as_str().unwrap_or("");
        let overbooked = extension(&appointment, EXT_OVERBOOK).is_some();
        wanted = if HOLDING.contains(&status) && !overbooked {
            slot_ids(&appointment)
        } else {
            Vec::new()
        };
        if status == "pending" {
            slot_status = "busy-tentative";
            hold_until = extension(&appointment, EXT_HOLD_EXPIRES)
                .and_then(|e| e["valueInstant"].as_str())
                .and_then(parse_instant)
                .map(seconds);
        }
    }
    let now = now_seconds();
    let mut changed: Vec<(String, &str)> = Vec::new();
    for slot in &wanted {
        let claim = sql(
            tx,
            "UPDATE slot_index SET appointment_id = {}, status = {}, hold_until = {} \
             WHERE slot_id = {} AND ((appointment_id IS NULL AND status = 'free') \
             OR appointment_id = {} \
             OR (status = 'busy-tentative' AND hold_until IS NOT NULL AND hold_until < {}))",
            vec![
                Bind::Text(id.clone()),
                Bind::Text(slot_status.to_owned()),
                Bind::OptInt(hold_until),
                Bind::Text(slot.clone()),
                Bind::Text(id.clone()),
                Bind::Int(now),
            ],
        );
        if tx.execute(claim).await? == 0 {
            let known = sql(
                tx,
                "SELECT status FROM slot_index WHERE slot_id = {}",
                vec![Bind::Text(slot.clone())],
            );
            return Err(if tx.query(known).await?.is_empty() {
                invalid(format!("Slot/{slot} is not known"))
            } else {
                RepoError::Conflict(
                    Issue::error(
                        IssueCode::Conflict,
                        format!("Slot/{slot} is already taken by another appointment"),
                    )
                    .at("Appointment.slot"),
                )
            });
        }
        changed.push((slot.clone(), slot_status));
    }
    // Slots this appointment held but no longer names (moved, cancelled, deleted) are free.
    let held = sql(
        tx,
        "SELECT slot_id FROM slot_index WHERE appointment_id = {}",
        vec![Bind::Text(id.clone())],
    );
    let released: Vec<String> = tx
        .query(held)
        .await?
        .into_iter()
        .filter_map(|row| row.into_iter().next().and_then(Cell::into_text))
        .filter(|slot| !wanted.contains(slot))
        .collect();
    for slot in &released {
        let free = sql(
            tx,
            "UPDATE slot_index SET appointment_id = NULL, hold_until = NULL, status = 'free' \
             WHERE slot_id = {} AND appointment_id = {}",
            vec![Bind::Text(slot.clone()), Bind::Text(id.clone())],
        );
        tx.execute(free).await?;
        changed.push((slot.clone(), "free"));
    }
    for (slot, status) in changed {
        set_slot_status(repo, tx, &slot, status).await?;
    }
    Ok(())
}

/// Make the Slot resource say what its index row says (FHIR clients read `Slot.status`).
async fn set_slot_status(
    repo: &Repository,
    tx: &mut dyn StoreTx,
    slot_id: &str,
    status: &str,
) -> Result<(), RepoError> {
    let Some(stored) = tx.read("Slot", slot_id).await? else {
        return Ok(());
    };
    if stored.deleted {
        return Ok(());
    }
    let mut slot: Value =
        serde_json::from_slice(&stored.content).map_err(|e| invalid(e.to_string()))?;
    if slot["status"] == status {
        return Ok(());
    }
    slot["status"] = Value::String(status.to_owned());
    repo.derive_in_tx(tx, slot, stored.version).await?;
    Ok(())
}
