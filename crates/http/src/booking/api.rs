//! `/api/booking`: search free times, hold, book, cancel, move, mark arrivals, waitlist and
//! schedules, as JSON.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use carefront_booking::scheduling::jiff::Timestamp;
use carefront_booking::scheduling::Modality;
use carefront_booking::{
    BookRequest, BookingError, Mark, ScheduleSpec, SlotQuery, Sort, WaitRequest,
};
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use super::actor::{actor_of, patient_for};
use super::schema::{
    Appointments, Booked, BookingErrorBody, Held, Offers, Regenerated, StatusChange,
};
use super::JsonError;
use crate::auth::Caller;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/booking/slots", get(slots))
        .route("/api/booking/holds", post(hold))
        .route("/api/booking/appointments", get(list).post(book))
        .route("/api/booking/appointments/{id}/cancel", post(cancel))
        .route(
            "/api/booking/appointments/{id}/reschedule",
            post(reschedule),
        )
        .route("/api/booking/appointments/{id}/mark", post(mark))
        .route("/api/booking/waitlist", post(waitlist))
        .route("/api/booking/schedules/{id}", put(save_schedule))
        .route_layer(axum::middleware::from_fn(crate::auth::require))
}

type Answer = Result<Response, JsonError>;

/// Query parameters of a slot search; see [`SlotQuery`].
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SlotParams {
    /// SNOMED CT code or name.
    pub specialty: Option<String>,
    /// `in-clinic`, `video`, `home` or `any`.
    pub modality: Option<String>,
    /// A language the clinician speaks (`fr`).
    pub language: Option<String>,
    /// `lat,lon`.
    pub near: Option<String>,
    /// Only places this close to `near`.
    pub within_km: Option<f64>,
    /// A Practitioner id.
    pub practitioner: Option<String>,
    /// A Location id.
    pub location: Option<String>,
    /// A date (`2026-11-24`) or an instant.
    pub from: Option<String>,
    /// A date (`2026-11-24`) or an instant.
    pub to: Option<String>,
    /// `earliest` (default) or `nearest` (needs `near`).
    pub sort: Option<String>,
    /// At most this many clinicians (default 10).
    pub limit: Option<usize>,
    /// Free times per clinician (default 3).
    pub per: Option<usize>,
}

fn blank(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Parse `lat,lon`.
pub fn parse_point(text: &str) -> Result<(f64, f64), BookingError> {
    let bad = || {
        BookingError::invalid(format!(
            "'{text}' is not a position: use latitude,longitude"
        ))
    };
    let (lat, lon) = text.split_once(',').ok_or_else(bad)?;
    let lat: f64 = lat.trim().parse().map_err(|_| bad())?;
    let lon: f64 = lon.trim().parse().map_err(|_| bad())?;
    if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
        return Err(bad());
    }
    Ok((lat, lon))
}

/// A date (`2026-11-24`, start of that day in UTC) or an instant.
pub fn parse_time(text: &str) -> Result<Timestamp, BookingError> {
    if let Ok(t) = text.parse::<Timestamp>() {
        return Ok(t);
    }
    text.parse::<carefront_booking::scheduling::jiff::civil::Date>()
        .ok()
        .and_then(|d| {
            d.to_zoned(carefront_booking::scheduling::jiff::tz::TimeZone::UTC)
                .ok()
        })
        .map(|z| z.timestamp())
        .ok_or_else(|| {
            BookingError::invalid(format!("'{text}' is not a date (YYYY-MM-DD) or an instant"))
        })
}

impl SlotParams {
    pub fn to_query(&self) -> Result<SlotQuery, BookingError> {
        let modality = match blank(&self.modality) {
            None | Some("any") => None,
            Some(m) => Some(Modality::parse(m).ok_or_else(|| {
                BookingError::invalid(format!("'{m}' is not a modality: in-clinic, video or home"))
            })?),
        };
        let sort = match blank(&self.sort) {
            None => Sort::Earliest,
            Some(s) => Sort::parse(s)
                .ok_or_else(|| BookingError::invalid("sort is earliest or nearest"))?,
        };
        let near = blank(&self.near).map(parse_point).transpose()?;
        if sort == Sort::Nearest && near.is_none() {
            return Err(BookingError::invalid(
                "sorting by distance needs a place (near=lat,lon)",
            ));
        }
        Ok(SlotQuery {
            specialty: blank(&self.specialty).map(str::to_owned),
            modality,
            language: blank(&self.language).map(str::to_owned),
            near,
            within_km: self.within_km,
            practitioner_id: blank(&self.practitioner).map(str::to_owned),
            location_id: blank(&self.location).map(str::to_owned),
            from: blank(&self.from).map(parse_time).transpose()?,
            to: blank(&self.to).map(parse_time).transpose()?,
            sort,
            limit: self.limit.unwrap_or(10),
            slots_per_result: self.per.unwrap_or(3),
            role_id: None,
            ignore_notice: false,
        })
    }
}

/// Free times: each matching clinician's first free slots.
#[utoipa::path(get, path = "/api/booking/slots", tag = "booking", params(SlotParams),
    responses((status = 200, body = Offers),
              (status = 400, description = "A parameter to fix", body = BookingErrorBody)))]
async fn slots(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<SlotParams>,
) -> Answer {
    actor_of(&caller)?;
    let query = params.to_query()?;
    let offers = state.booking.search(&query, Timestamp::now()).await?;
    Ok(Json(json!({ "offers": offers })).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
struct HoldBody {
    slot_id: String,
    /// Staff only: the patient the slot is for (a patient holds for themselves).
    patient_id: Option<String>,
}

/// Hold a slot while the patient confirms.
#[utoipa::path(post, path = "/api/booking/holds", tag = "booking", request_body = HoldBody,
    responses((status = 201, description = "Held", body = Held),
              (status = 403, description = "Not this patient, or the time is blocked", body = BookingErrorBody),
              (status = 409, description = "Just taken: `alternatives` are the nearest free times", body = BookingErrorBody),
              (status = 422, description = "Too soon or too far ahead", body = BookingErrorBody)))]
async fn hold(State(state): State<AppState>, caller: Caller, Json(body): Json<HoldBody>) -> Answer {
    let actor = actor_of(&caller)?;
    let patient = patient_for(&actor, body.patient_id.as_deref())?;
    let held = state
        .booking
        .hold(&actor, &body.slot_id, &patient, Timestamp::now())
        .await?;
    Ok((StatusCode::CREATED, Json(held)).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
struct BookBody {
    slot_id: String,
    /// Staff only: the patient the appointment is for.
    patient_id: Option<String>,
    /// Why the patient comes.
    reason: Option<String>,
    /// The `appointment_id` of a hold to confirm.
    hold: Option<String>,
    /// Staff only: book a taken time anyway, and why.
    overbook: Option<String>,
}

/// Book a slot (confirming a hold when `hold` is given); the confirmation goes by mail.
#[utoipa::path(post, path = "/api/booking/appointments", tag = "booking", request_body = BookBody,
    responses((status = 201, description = "Booked", body = Booked),
              (status = 403, body = BookingErrorBody),
              (status = 409, description = "Just taken: `alternatives` are the nearest free times", body = BookingErrorBody),
              (status = 422, description = "Too soon or too far ahead", body = BookingErrorBody)))]
async fn book(State(state): State<AppState>, caller: Caller, Json(body): Json<BookBody>) -> Answer {
    let actor = actor_of(&caller)?;
    let patient_id = patient_for(&actor, body.patient_id.as_deref())?;
    let request = BookRequest {
        slot_id: body.slot_id,
        patient_id,
        reason: body.reason,
        hold: body.hold,
        overbook: body.overbook,
        triage: None,
    };
    let booked = state
        .booking
        .book(&actor, &request, Timestamp::now())
        .await?;
    state.mail_wake.notify_one();
    Ok((StatusCode::CREATED, Json(booked)).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListParams {
    /// Staff only: whose appointments (a patient sees their own).
    patient_id: Option<String>,
}

/// The patient's appointments.
#[utoipa::path(get, path = "/api/booking/appointments", tag = "booking", params(ListParams),
    responses((status = 200, body = Appointments), (status = 403, body = BookingErrorBody)))]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ListParams>,
) -> Answer {
    let actor = actor_of(&caller)?;
    let patient = patient_for(&actor, params.patient_id.as_deref())?;
    let entries = state.booking.appointments_of_patient(&patient).await?;
    Ok(Json(json!({ "appointments": entries })).into_response())
}

#[derive(Debug, Default, Deserialize, ToSchema)]
struct CancelBody {
    reason: Option<String>,
}

/// Cancel an appointment (within the clinic's notice for patients); the body is optional.
#[utoipa::path(post, path = "/api/booking/appointments/{id}/cancel", tag = "booking",
    request_body(content = Option<CancelBody>),
    params(("id" = String, Path, description = "The Appointment id")),
    responses((status = 200, description = "Cancelled", body = StatusChange),
              (status = 403, description = "Not yours, or too late to cancel", body = BookingErrorBody),
              (status = 404, body = BookingErrorBody)))]
async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Option<Json<CancelBody>>,
) -> Answer {
    let actor = actor_of(&caller)?;
    let reason = body.and_then(|Json(b)| b.reason);
    state
        .booking
        .cancel(&actor, &id, reason.as_deref(), Timestamp::now())
        .await?;
    state.mail_wake.notify_one();
    Ok(Json(json!({ "appointment_id": id, "status": "cancelled" })).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
struct RescheduleBody {
    /// The new time.
    slot_id: String,
}

/// Move a booked appointment: the new slot is taken and the old released together.
#[utoipa::path(post, path = "/api/booking/appointments/{id}/reschedule", tag = "booking",
    request_body = RescheduleBody,
    params(("id" = String, Path, description = "The Appointment id")),
    responses((status = 200, description = "Moved", body = Booked),
              (status = 403, body = BookingErrorBody),
              (status = 404, body = BookingErrorBody),
              (status = 409, description = "The new time was just taken", body = BookingErrorBody)))]
async fn reschedule(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<RescheduleBody>,
) -> Answer {
    let actor = actor_of(&caller)?;
    let booked = state
        .booking
        .reschedule(&actor, &id, &body.slot_id, Timestamp::now())
        .await?;
    state.mail_wake.notify_one();
    Ok(Json(booked).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
struct MarkBody {
    /// `arrived`, `noshow` or `fulfilled`.
    status: String,
}

/// Record an arrival (the patient checking in, or reception), a no-show or a completed visit.
#[utoipa::path(post, path = "/api/booking/appointments/{id}/mark", tag = "booking",
    request_body = MarkBody,
    params(("id" = String, Path, description = "The Appointment id")),
    responses((status = 200, body = StatusChange),
              (status = 400, body = BookingErrorBody),
              (status = 403, body = BookingErrorBody)))]
async fn mark(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<MarkBody>,
) -> Answer {
    let actor = actor_of(&caller)?;
    let mark = Mark::parse(&body.status)
        .ok_or_else(|| BookingError::invalid("status is arrived, noshow or fulfilled"))?;
    state
        .booking
        .mark(&actor, &id, mark, Timestamp::now())
        .await?;
    Ok(Json(json!({ "appointment_id": id, "status": body.status })).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
struct WaitBody {
    /// SNOMED CT code.
    specialty: String,
    /// `in-clinic`, `video` or `home`.
    modality: Option<String>,
    practitioner_id: Option<String>,
    /// The latest acceptable time: a date (`2026-11-24`) or an instant.
    until: String,
    /// Staff only: the patient who waits.
    patient_id: Option<String>,
}

/// Join the waitlist: a freed time that suits is held for the longest-waiting patient and
/// offered by mail.
#[utoipa::path(post, path = "/api/booking/waitlist", tag = "booking", request_body = WaitBody,
    responses((status = 201, description = "Waiting", body = StatusChange),
              (status = 400, body = BookingErrorBody),
              (status = 403, body = BookingErrorBody)))]
async fn waitlist(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<WaitBody>,
) -> Answer {
    let actor = actor_of(&caller)?;
    let patient = patient_for(&actor, body.patient_id.as_deref())?;
    let modality = match blank(&body.modality) {
        None => None,
        Some(m) => Some(Modality::parse(m).ok_or_else(|| {
            BookingError::invalid(format!("'{m}' is not a modality: in-clinic, video or home"))
        })?),
    };
    let request = WaitRequest {
        specialty: body.specialty,
        modality,
        practitioner_id: body.practitioner_id,
        until: parse_time(&body.until)?,
    };
    let id = state
        .booking
        .join_waitlist(&actor, &patient, &request, Timestamp::now())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "appointment_id": id, "status": "waitlist" })),
    )
        .into_response())
}

/// Schedules as JSON: the FHIR Schedule written by `ScheduleSpec`, administrators only.
#[utoipa::path(put, path = "/api/booking/schedules/{id}", tag = "booking",
    request_body(content = serde_json::Value, description = "A FHIR `Schedule` with its availability rules as extensions (weekly hours, exceptions, visit length, buffer, notice, horizon, time zone); its id must be `id`"),
    params(("id" = String, Path, description = "The Schedule id")),
    responses((status = 200, description = "Saved; its slots regenerated up to the horizon", body = Regenerated),
              (status = 400, description = "Not a valid schedule", body = BookingErrorBody),
              (status = 403, description = "Administrators only", body = BookingErrorBody)))]
async fn save_schedule(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(schedule): Json<serde_json::Value>,
) -> Answer {
    let is_admin = matches!(&caller.principal,
        carefront_auth::Principal::Account(a) if a.role == carefront_auth::Role::Administrator)
        || matches!(&caller.principal,
        carefront_auth::Principal::Client(c) if c.scopes.allows("Schedule", carefront_auth::Action::Update));
    if !is_admin {
        return Err(BookingError::Refused("only administrators change schedules".into()).into());
    }
    let mut spec = ScheduleSpec::from_fhir(&schedule)?;
    if spec.id != id {
        return Err(BookingError::invalid("the Schedule's id does not match the URL").into());
    }
    spec.id = id;
    let result = state.booking.save_schedule(&spec, Timestamp::now()).await?;
    Ok(Json(result).into_response())
}

/// The booking part of `/api/openapi.json` (see [`crate::openapi`]).
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(slots, hold, list, book, cancel, reschedule, mark, waitlist, save_schedule),
    tags((name = "booking", description = "Booking: search free times, hold, book, cancel, reschedule, mark arrivals, the waitlist, and schedules (administrators)"))
)]
pub struct BookingApi;
