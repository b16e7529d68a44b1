//! The Argonaut Scheduling operations on `/fhir/Appointment`:
//! - `$find` (GET or POST): open times as proposed Appointments, one per free slot;
//! - `$hold` (POST Parameters with `appt-resource`): keep a proposed Appointment's slot for a
//!   few minutes, answered with the pending Appointment;
//! - `$book` (POST Parameters with `appt-resource`, or `appt-id` of a hold): book it.
//!
//! Answers are Bundles (searchset) of Appointments; failures are OperationOutcomes, a lost
//! slot 409 with the alternatives named in the diagnostics.

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use carefront_booking::index::{reference_id, reference_to, slot_ids};
use carefront_booking::scheduling::jiff::Timestamp;
use carefront_booking::{BookRequest, BookingError, Offer};
use carefront_fhir::{Issue, IssueCode};
use serde_json::{json, Value};

use super::actor::{actor_of, patient_for};
use super::api::SlotParams;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::fhir::FHIR_JSON;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/Appointment/$find", get(find_get).post(find_post))
        .route("/Appointment/$hold", post(hold))
        .route("/Appointment/$book", post(book))
        .route_layer(axum::middleware::from_fn(crate::auth::require))
}

fn outcome(e: BookingError) -> ApiError {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let code = match status.as_u16() {
        404 => IssueCode::NotFound,
        409 => IssueCode::Conflict,
        403 => IssueCode::Forbidden,
        422 => IssueCode::Processing,
        s if s >= 500 => IssueCode::Exception,
        _ => IssueCode::Invalid,
    };
    let mut diagnostics = if status.is_server_error() {
        "the server could not complete the request".to_owned()
    } else {
        e.to_string()
    };
    if let BookingError::Taken { alternatives } = &e {
        let free: Vec<String> = alternatives
            .iter()
            .flat_map(|o| {
                o.slots
                    .iter()
                    .map(|s| format!("Slot/{} ({})", s.slot_id, s.start))
            })
            .collect();
        if !free.is_empty() {
            diagnostics.push_str(&format!("; free instead: {}", free.join(", ")));
        }
    }
    ApiError {
        status,
        issues: vec![Issue::error(code, diagnostics)],
    }
}

fn bundle(entries: Vec<Value>) -> Response {
    let body = json!({
        "resourceType": "Bundle",
        "type": "searchset",
        "total": entries.len(),
        "entry": entries.into_iter().map(|r| json!({ "resource": r, "search": { "mode": "match" } })).collect::<Vec<_>>(),
    });
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, FHIR_JSON)],
        Json(body),
    )
        .into_response()
}

/// A free slot as a proposed Appointment.
fn proposed(offer: &Offer, slot: &carefront_booking::OfferedSlot) -> Value {
    let mut participant = vec![json!({
        "actor": reference_to("Practitioner", &offer.practitioner_id, &offer.practitioner_name),
        "required": "required", "status": "needs-action"
    })];
    if offer.modality == "in-clinic" {
        participant.push(json!({
            "actor": reference_to("Location", &offer.location_id, &offer.location_name),
            "required": "required", "status": "needs-action"
        }));
    }
    let mut appointment = json!({
        "resourceType": "Appointment",
        "status": "proposed",
        "serviceCategory": [{ "coding": [{
            "system": carefront_booking::schedule::MODALITY_SYSTEM, "code": offer.modality }] }],
        "start": slot.start,
        "end": slot.end,
        "slot": [{ "reference": format!("Slot/{}", slot.slot_id) }],
        "participant": participant,
    });
    if !offer.specialty.is_empty() {
        appointment["specialty"] = json!([{ "text": offer.specialty }]);
    }
    appointment
}

/// `$find` parameters in Argonaut's names, mapped to a slot search.
fn find_params(pairs: &[(String, String)]) -> Result<SlotParams, BookingError> {
    let mut p = SlotParams::default();
    for (name, value) in pairs {
        let v = Some(value.clone());
        match name.as_str() {
            "start" => p.from = v,
            "end" => p.to = v,
            "specialty" => p.specialty = Some(value.rsplit('|').next().unwrap_or(value).to_owned()),
            "visit-type" | "modality" => p.modality = v,
            "practitioner" | "provider" => {
                p.practitioner = Some(value.trim_start_matches("Practitioner/").to_owned())
            }
            "location" => p.location = Some(value.trim_start_matches("Location/").to_owned()),
            "near" => p.near = v,
            "_count" => p.limit = value.parse().ok(),
            _ => {}
        }
    }
    p.per = Some(p.per.unwrap_or(5));
    Ok(p)
}

async fn find(
    state: &AppState,
    caller: &Caller,
    pairs: &[(String, String)],
) -> Result<Response, ApiError> {
    actor_of(caller).map_err(outcome)?;
    let query = find_params(pairs)
        .and_then(|p| p.to_query())
        .map_err(outcome)?;
    let offers = state
        .booking
        .search(&query, Timestamp::now())
        .await
        .map_err(outcome)?;
    let entries = offers
        .iter()
        .flat_map(|o| o.slots.iter().map(move |s| proposed(o, s)))
        .collect();
    Ok(bundle(entries))
}

async fn find_get(
    State(state): State<AppState>,
    caller: Caller,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    find(&state, &caller, &pairs).await
}

/// POST `$find` with a Parameters resource.
async fn find_post(
    State(state): State<AppState>,
    caller: Caller,
    Json(parameters): Json<Value>,
) -> Result<Response, ApiError> {
    let pairs: Vec<(String, String)> = parameters["parameter"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| {
            let name = p["name"].as_str()?;
            let value = [
                "valueString",
                "valueDate",
                "valueDateTime",
                "valueCode",
                "valueUri",
            ]
            .iter()
            .find_map(|k| p[*k].as_str())
            .or_else(|| p["valueReference"]["reference"].as_str())?;
            Some((name.to_owned(), value.to_owned()))
        })
        .collect();
    find(&state, &caller, &pairs).await
}

/// The `appt-resource` (an Appointment) or `appt-id` of an operation's Parameters.
fn appointment_param(parameters: &Value) -> Result<(Option<Value>, Option<String>), BookingError> {
    if parameters["resourceType"] != "Parameters" {
        return Err(BookingError::invalid(
            "the body must be a Parameters resource with appt-resource or appt-id",
        ));
    }
    let mut resource = None;
    let mut id = None;
    for p in parameters["parameter"].as_array().into_iter().flatten() {
        match p["name"].as_str() {
            Some("appt-resource") => resource = Some(p["resource"].clone()),
            Some("appt-id") => {
                id = p["valueUri"]
                    .as_str()
                    .or(p["valueString"].as_str())
                    .map(|s| s.rsplit('/').next().unwrap_or(s).to_owned())
            }
            _ => {}
        }
    }
    if resource.is_none() && id.is_none() {
        return Err(BookingError::invalid(
            "appt-resource or appt-id is required",
        ));
    }
    Ok((resource, id))
}

fn slot_and_patient(appointment: &Value) -> Result<(String, Option<String>), BookingError> {
    let slot = slot_ids(appointment)
        .into_iter()
        .next()
        .ok_or_else(|| BookingError::invalid("the Appointment names no slot (Appointment.slot)"))?;
    let patient = appointment["participant"]
        .as_array()
        .into_iter()
        .flatten()
        .find_map(|p| reference_id(&p["actor"], "Patient"));
    Ok((slot, patient))
}

async fn hold(
    State(state): State<AppState>,
    caller: Caller,
    Json(parameters): Json<Value>,
) -> Result<Response, ApiError> {
    let actor = actor_of(&caller).map_err(outcome)?;
    let (resource, _) = appointment_param(&parameters).map_err(outcome)?;
    let resource =
        resource.ok_or_else(|| outcome(BookingError::invalid("$hold needs appt-resource")))?;
    let (slot, patient) = slot_and_patient(&resource).map_err(outcome)?;
    let patient = patient_for(&actor, patient.as_deref()).map_err(outcome)?;
    let held = state
        .booking
        .hold(&actor, &slot, &patient, Timestamp::now())
        .await
        .map_err(outcome)?;
    let (appointment, _) = state
        .booking
        .current(&held.appointment_id)
        .await
        .map_err(outcome)?;
    Ok(bundle(vec![appointment]))
}

async fn book(
    State(state): State<AppState>,
    caller: Caller,
    Json(parameters): Json<Value>,
) -> Result<Response, ApiError> {
    let actor = actor_of(&caller).map_err(outcome)?;
    let (resource, id) = appointment_param(&parameters).map_err(outcome)?;
    // A hold named by id, or a resource that is a hold (has an id), or a proposal.
    let (appointment, hold) = match (resource, id) {
        (Some(r), _) if r["id"].is_string() => {
            let id = r["id"].as_str().unwrap_or_default().to_owned();
            (
                state.booking.current(&id).await.map_err(outcome)?.0,
                Some(id),
            )
        }
        (Some(r), _) => (r, None),
        (None, Some(id)) => (
            state.booking.current(&id).await.map_err(outcome)?.0,
            Some(id),
        ),
        (None, None) => unreachable!("appointment_param requires one"),
    };
    let (slot_id, patient) = slot_and_patient(&appointment).map_err(outcome)?;
    let patient_id = patient_for(&actor, patient.as_deref()).map_err(outcome)?;
    let reason = appointment["reasonCode"][0]["text"]
        .as_str()
        .map(str::to_owned);
    let booked = state
        .booking
        .book(
            &actor,
            &BookRequest {
                slot_id,
                patient_id,
                reason,
                hold,
                overbook: None,
                triage: None,
            },
            Timestamp::now(),
        )
        .await
        .map_err(outcome)?;
    state.mail_wake.notify_one();
    let (stored, _) = state
        .booking
        .current(&booked.appointment_id)
        .await
        .map_err(outcome)?;
    Ok(bundle(vec![stored]))
}
