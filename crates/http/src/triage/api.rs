//! `/api/triage`: the interview loop as JSON (start, answer, read the outcome), the
//! complaint list, and the clinicians' queue with re-triage and review. Described in
//! `/api/openapi.json`.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use carefront_triage::{Condition, Lang, Level, Modality, Patient, Sex, Understood};
use carefront_triage_service::{Start, TriageError};
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use super::access;
use super::view::{country, AssessmentView, ComplaintView, InterviewView, QueueEntryView};
use crate::auth::Caller;
use crate::openapi::ErrorBody;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/triage/complaints", get(complaints))
        .route("/api/triage/interviews", post(start))
        .route("/api/triage/interviews/{id}", get(read))
        .route("/api/triage/interviews/{id}/answers", post(answer))
        .route("/api/triage/queue", get(queue))
        .route("/api/triage/assessments/{id}/retriage", post(retriage))
        .route("/api/triage/assessments/{id}/review", post(review))
        .route_layer(axum::middleware::from_fn(crate::auth::require))
}

/// A triage failure as JSON: `{"error": "..."}` with its status.
pub struct JsonError(pub StatusCode, pub String);

impl From<TriageError> for JsonError {
    fn from(e: TriageError) -> Self {
        match e {
            TriageError::NotFound(m) => JsonError(StatusCode::NOT_FOUND, m),
            TriageError::Invalid(m) => JsonError(StatusCode::UNPROCESSABLE_ENTITY, m),
            TriageError::Conflict(m) => JsonError(StatusCode::CONFLICT, m),
            TriageError::Store(e) => {
                let status =
                    StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                if status.is_server_error() {
                    tracing::error!(status = status.as_u16(), "triage request failed");
                    JsonError(
                        status,
                        "the server could not complete the request; try again".into(),
                    )
                } else {
                    JsonError(
                        status,
                        e.issues()
                            .first()
                            .map(|i| i.diagnostics.clone())
                            .unwrap_or_default(),
                    )
                }
            }
        }
    }
}

impl IntoResponse for JsonError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

type Answer = Result<Response, JsonError>;

fn invalid(message: impl Into<String>) -> JsonError {
    JsonError(StatusCode::UNPROCESSABLE_ENTITY, message.into())
}

fn lang_of(explicit: Option<&str>, headers: &HeaderMap) -> Lang {
    explicit.map(Lang::parse).unwrap_or_else(|| {
        Lang::parse(
            headers
                .get("accept-language")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("en"),
        )
    })
}

fn accept_language(headers: &HeaderMap) -> Option<&str> {
    headers.get("accept-language").and_then(|v| v.to_str().ok())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ComplaintParams {
    /// What the patient typed ("chest pian", "mal à l'oreille"); empty: every complaint.
    q: Option<String>,
    /// The patient's age in years, to leave out complaints for other ages.
    age: Option<f64>,
    /// `en` or `fr` (default: Accept-Language).
    lang: Option<String>,
}

/// Complaints matching typed text, best first.
#[utoipa::path(get, path = "/api/triage/complaints", tag = "triage", params(ComplaintParams),
    responses((status = 200, description = "Matching complaints, best first", body = [ComplaintView])))]
async fn complaints(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<ComplaintParams>,
) -> Answer {
    let library = state.triage.library();
    let lang = lang_of(params.lang.as_deref(), &headers);
    let list: Vec<ComplaintView> =
        match params.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            Some(q) => library
                .recognise(q, params.age, 8)
                .into_iter()
                .map(|m| ComplaintView {
                    id: m.protocol.id.clone(),
                    title: m.protocol.title.get(lang).into(),
                    score: Some(m.score),
                })
                .collect(),
            None => {
                let mut all: Vec<ComplaintView> = match params.age {
                    Some(age) => library.for_age(age).collect::<Vec<_>>(),
                    None => library.all().iter().collect(),
                }
                .into_iter()
                .map(|p| ComplaintView {
                    id: p.id.clone(),
                    title: p.title.get(lang).into(),
                    score: None,
                })
                .collect();
                all.sort_by(|a, b| a.title.cmp(&b.title));
                all
            }
        };
    Ok(Json(list).into_response())
}

/// Starting an interview.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartBody {
    /// Staff only: the patient the interview is for (a patient is always for themselves).
    patient_id: Option<String>,
    /// Age in whole years (or give `age_months` for a baby).
    age_years: Option<u32>,
    age_months: Option<u32>,
    /// `female` or `male`.
    sex: String,
    #[serde(default)]
    pregnant: bool,
    /// Any of `diabetes`, `immunosuppressed`, `anticoagulant`, `heart_disease`, `lung_disease`.
    #[serde(default)]
    conditions: Vec<String>,
    /// A complaint id from `/api/triage/complaints`, or
    complaint: Option<String>,
    /// what the patient typed: the best match is used (422 with candidates when unclear).
    complaint_text: Option<String>,
    /// A parent or carer answers for a child.
    #[serde(default)]
    for_child: bool,
    /// `en` or `fr` (default: Accept-Language).
    lang: Option<String>,
}

/// Start an interview: the answer holds the first question.
#[utoipa::path(post, path = "/api/triage/interviews", tag = "triage", request_body = StartBody,
    responses((status = 201, description = "Started; answer `question`", body = InterviewView),
              (status = 403, description = "Not this patient", body = ErrorBody),
              (status = 422, description = "What to fix (and candidate complaints when the text is unclear)", body = ErrorBody)))]
async fn start(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Json(body): Json<StartBody>,
) -> Answer {
    let patient_id = access::patient_for(&caller, body.patient_id.as_deref())?;
    access::check(
        &state,
        &caller,
        carefront_auth::Action::Create,
        "QuestionnaireResponse",
        &patient_id,
    )
    .await?;
    let lang = lang_of(body.lang.as_deref(), &headers);
    let age_months = match (body.age_years, body.age_months) {
        (Some(y), None) => y.saturating_mul(12),
        (None, Some(m)) => m,
        (Some(y), Some(m)) => y.saturating_mul(12).saturating_add(m),
        (None, None) => return Err(invalid("give age_years (or age_months for a baby)")),
    };
    let sex = match body.sex.as_str() {
        "female" => Sex::Female,
        "male" => Sex::Male,
        _ => return Err(invalid("sex must be female or male")),
    };
    let conditions = body
        .conditions
        .iter()
        .map(|c| {
            Condition::parse(c).ok_or_else(|| {
                invalid(format!(
                    "unknown condition \"{c}\" (diabetes, immunosuppressed, anticoagulant, heart_disease, lung_disease)"
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let patient = Patient {
        age_months,
        sex,
        pregnant: body.pregnant && sex == Sex::Female,
        conditions,
    };
    let library = state.triage.library();
    let protocol = match (body.complaint.as_deref(), body.complaint_text.as_deref()) {
        (Some(id), _) => id.to_string(),
        (None, Some(text)) => {
            match library.understand(text, Some(patient.age_years())) {
                Understood::One(p) => p.id.clone(),
                Understood::Nothing => return Err(invalid(
                    "we could not recognise the complaint; pick one from /api/triage/complaints",
                )),
                Understood::Several(list) => {
                    let names: Vec<&str> = list.iter().map(|p| p.id.as_str()).collect();
                    return Ok((
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Json(json!({
                        "error": "the complaint could mean several things; choose one and send it as `complaint`",
                        "candidates": names,
                    })),
                )
                    .into_response());
                }
            }
        }
        (None, None) => {
            return Err(invalid(
                "name the complaint (complaint) or describe it (complaint_text)",
            ))
        }
    };
    let record = state
        .triage
        .start(Start {
            patient_id,
            patient,
            protocol,
            lang,
            for_child: body.for_child,
            complaint_text: body.complaint_text.filter(|t| t.chars().count() <= 500),
        })
        .await?;
    let view = InterviewView::of(
        &record,
        library,
        None,
        &country(accept_language(&headers), lang),
    )
    .ok_or_else(|| invalid("the interview could not be shown"))?;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

/// The interview, with its next question or its outcome.
#[utoipa::path(get, path = "/api/triage/interviews/{id}", tag = "triage",
    params(("id" = String, Path, description = "The interview (QuestionnaireResponse) id")),
    responses((status = 200, body = InterviewView), (status = 404, body = ErrorBody)))]
async fn read(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Answer {
    let view = access::interview(
        &state,
        &caller,
        &id,
        carefront_auth::Action::Read,
        accept_language(&headers),
    )
    .await?;
    Ok(Json(view).into_response())
}

/// One answer.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerBody {
    /// The id of the question asked (or of an earlier one, to change that answer).
    question: String,
    /// `yes`, `no`, `unsure`; an option id; or a number.
    answer: String,
    /// The interview version the answer is to (409 if it changed meanwhile).
    version: Option<i64>,
}

/// Answer the current question: the answer holds the next question or the outcome.
#[utoipa::path(post, path = "/api/triage/interviews/{id}/answers", tag = "triage", request_body = AnswerBody,
    params(("id" = String, Path, description = "The interview id")),
    responses((status = 200, body = InterviewView),
              (status = 409, description = "Answered meanwhile elsewhere", body = ErrorBody),
              (status = 422, description = "Not a valid answer to that question", body = ErrorBody)))]
async fn answer(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<AnswerBody>,
) -> Answer {
    access::interview(&state, &caller, &id, carefront_auth::Action::Update, None).await?;
    let (record, assessment) = state
        .triage
        .answer(&id, &body.question, &body.answer, body.version)
        .await?;
    let view = InterviewView::of(
        &record,
        state.triage.library(),
        assessment.as_ref(),
        &country(accept_language(&headers), record.lang),
    )
    .ok_or_else(|| invalid("the interview could not be shown"))?;
    Ok(Json(view).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueParams {
    /// At most this many (default 50, at most 200).
    limit: Option<usize>,
    lang: Option<String>,
}

/// Patients waiting for a clinician, most urgent first, then longest waiting.
#[utoipa::path(get, path = "/api/triage/queue", tag = "triage", params(QueueParams),
    responses((status = 200, body = [QueueEntryView]), (status = 403, body = ErrorBody)))]
async fn queue(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Query(params): Query<QueueParams>,
) -> Answer {
    let limit = params.limit.unwrap_or(50).clamp(1, 200);
    let waiting = access::queue(&state, &caller, limit).await?;
    let lang = lang_of(params.lang.as_deref(), &headers);
    let now = carefront_store::repository::now_micros();
    let list: Vec<QueueEntryView> = waiting
        .iter()
        .map(|w| QueueEntryView::of(w, state.triage.library(), lang, now))
        .collect();
    Ok(Json(list).into_response())
}

/// A clinician's change of urgency.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetriageBody {
    /// `emergency`, `urgent`, `routine` or `self-care`.
    level: String,
    /// `video`, `in-clinic` or `home` (not for emergency or self-care).
    modality: Option<String>,
    /// Why: kept in the record.
    reason: String,
}

/// Re-triage: change the urgency and say why (the engine's level stays in the record).
#[utoipa::path(post, path = "/api/triage/assessments/{id}/retriage", tag = "triage", request_body = RetriageBody,
    params(("id" = String, Path, description = "The RiskAssessment id")),
    responses((status = 200, body = AssessmentView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn retriage(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<RetriageBody>,
) -> Answer {
    let clinician = access::clinician(&state, &caller, &id).await?;
    let level = Level::parse(&body.level)
        .ok_or_else(|| invalid("level must be emergency, urgent, routine or self-care"))?;
    let modality = match body.modality.as_deref() {
        Some(m) => Some(
            Modality::parse(m)
                .ok_or_else(|| invalid("modality must be video, in-clinic or home"))?,
        ),
        None => None,
    };
    let a = state
        .triage
        .retriage(&id, level, modality, &body.reason, &clinician)
        .await?;
    Ok(Json(AssessmentView::of(&a)).into_response())
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    note: Option<String>,
}

/// Mark as dealt with: it leaves the queue.
#[utoipa::path(post, path = "/api/triage/assessments/{id}/review", tag = "triage", request_body = ReviewBody,
    params(("id" = String, Path, description = "The RiskAssessment id")),
    responses((status = 200, body = AssessmentView), (status = 403, body = ErrorBody)))]
async fn review(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Option<Json<ReviewBody>>,
) -> Answer {
    let clinician = access::clinician(&state, &caller, &id).await?;
    let note = body.and_then(|b| b.0.note).unwrap_or_default();
    let a = state.triage.review(&id, &note, &clinician).await?;
    Ok(Json(AssessmentView::of(&a)).into_response())
}

/// The triage part of `/api/openapi.json` (see [`crate::openapi`]).
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(complaints, start, read, answer, queue, retriage, review),
    tags((name = "triage", description = "Symptom triage: the interview loop (start, next question, answer, outcome) and the clinicians' queue"))
)]
pub struct TriageApi;
