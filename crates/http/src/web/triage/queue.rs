//! `/triage/queue`: the outcomes waiting for a clinician, most urgent then longest waiting
//! first (practitioners see their organisations' patients, administrators everyone); from
//! an interview's page a clinician re-triages it (new urgency and kind of visit, with the
//! reason kept in the record) or marks it reviewed, which takes it off the queue.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use carefront_auth::Action;
use carefront_store::repository::now_micros;
use carefront_triage::{Level, Modality};
use carefront_triage_service::{Clinician, TriageError};
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::interview::{load, page, Shown};
use super::{caller, content_lang, failed, is_clinician, level_key, patient_name};
use crate::triage::access;
use crate::triage::view::QueueEntryView;
use crate::web::booking::display::modality_key;
use crate::web::booking::Visitor;
use crate::web::csrf;
use crate::web::dashboard::user_context;
use crate::web::forms::{self, message, FieldErrors};
use crate::web::i18n::translate;
use crate::web::page::{csrf_failed_page, see_other};
use crate::AppState;

/// Rows on the queue page.
const LIMIT: usize = 100;

/// A queue row as the page shows it.
#[derive(Serialize)]
struct Row {
    #[serde(flatten)]
    entry: QueueEntryView,
    patient: String,
    level_label: String,
    modality_label: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct QueueNotices {
    reviewed: bool,
}

pub async fn show(
    State(state): State<AppState>,
    v: Visitor,
    Query(notices): Query<QueueNotices>,
) -> Response {
    if !is_clinician(&v) {
        return v.forbidden();
    }
    let caller = caller(&state, &v).await;
    let waiting = access::queue(&state, &caller, LIMIT).await;
    v.audit(&state, "search", "RiskAssessment", None, waiting.is_ok())
        .await;
    let waiting = match waiting {
        Ok(w) => w,
        Err(e) => return failed(&v, e),
    };
    let now = now_micros() / 1_000_000;
    let library = state.triage.library();
    let mut names: Vec<(String, String)> = Vec::new();
    let mut rows = Vec::with_capacity(waiting.len());
    for w in &waiting {
        let patient = match names.iter().find(|(id, _)| *id == w.patient_id) {
            Some((_, name)) => name.clone(),
            None => {
                let name = patient_name(&state, &v, &w.patient_id).await;
                names.push((w.patient_id.clone(), name.clone()));
                name
            }
        };
        let entry = QueueEntryView::of(w, library, content_lang(&v), now);
        rows.push(Row {
            level_label: translate(v.lang, &level_key(&entry.level)).into_owned(),
            modality_label: entry
                .modality
                .as_deref()
                .map(|m| match m {
                    "emergency" => translate(v.lang, "triage.modality.emergency").into_owned(),
                    m => translate(v.lang, &modality_key(m)).into_owned(),
                })
                .unwrap_or_default(),
            patient,
            entry,
        });
    }
    let ctx = context! {
        lang => v.lang,
        user => user_context(&v.who),
        rows,
        notice => notices.reviewed.then_some("triage.notice.reviewed"),
    };
    v.render(StatusCode::OK, "triage_queue.html", ctx)
}

#[derive(Deserialize, Serialize, Default, Clone, Debug)]
#[serde(default)]
pub struct RetriageForm {
    pub level: String,
    /// `video`, `in-clinic` or `home` (urgent and routine visits).
    pub modality: String,
    pub reason: String,
    #[serde(skip_serializing)]
    pub csrf: String,
}

/// The level, kind of visit and reason of a re-triage, checked.
fn check(f: &RetriageForm, lang: &str) -> Result<(Level, Option<Modality>, String), FieldErrors> {
    let mut errors = FieldErrors::default();
    let level = Level::parse(f.level.trim());
    if level.is_none() {
        errors.add("level", message(lang, "triage.error.level", &[]));
    }
    let modality = match f.modality.trim() {
        "" => None,
        m => Modality::parse(m).filter(|m| *m != Modality::Emergency),
    };
    if matches!(level, Some(Level::Urgent | Level::Routine)) && modality.is_none() {
        errors.add("modality", message(lang, "triage.error.modality", &[]));
    }
    let reason = match forms::free_text(&f.reason, 2000) {
        Ok(Some(r)) => Some(r),
        Ok(None) => {
            errors.add("reason", message(lang, "triage.error.reason", &[]));
            None
        }
        Err(k) => {
            errors.add("reason", message(lang, k, &[("max", "2000".into())]));
            None
        }
    };
    match (level, reason) {
        (Some(level), Some(reason)) if errors.is_empty() => Ok((level, modality, reason)),
        _ => Err(errors),
    }
}

/// The clinician acting on interview `id`'s outcome, and that outcome's id; or the page to
/// answer with.
async fn acting(
    state: &AppState,
    v: &Visitor,
    id: &str,
    body: &Bytes,
) -> Result<(Clinician, String), Response> {
    let form: RetriageForm = forms::parse(body);
    if !csrf::session_ok(&v.who, &form.csrf) {
        return Err(csrf_failed_page(v.lang));
    }
    if !is_clinician(v) {
        return Err(v.forbidden());
    }
    let assessment = match state.triage.assessment_of(id).await {
        Ok(Some(a)) => a,
        Ok(None) => return Err(crate::web::page::not_found_page(v.lang)),
        Err(e) => return Err(failed(v, e.into())),
    };
    let caller = caller(state, v).await;
    match access::clinician(state, &caller, &assessment.id).await {
        Ok(mut clinician) => {
            clinician.name = v.who.account.display_name.clone();
            clinician.practitioner_id = v.practitioner_id().map(str::to_owned);
            Ok((clinician, assessment.id))
        }
        Err(e) => {
            v.audit(
                state,
                "update",
                "RiskAssessment",
                Some(&assessment.id),
                false,
            )
            .await;
            Err(failed(v, e))
        }
    }
}

/// The interview's page again, with what is wrong with the re-triage form.
async fn again(
    state: &AppState,
    v: &Visitor,
    id: &str,
    headers: &HeaderMap,
    form: RetriageForm,
    errors: FieldErrors,
) -> Response {
    match load(state, v, id, Action::Read, headers).await {
        Ok(view) => {
            let shown = Shown {
                status: Some(StatusCode::UNPROCESSABLE_ENTITY),
                retriage: form,
                retriage_errors: errors,
                ..Shown::default()
            };
            page(state, v, view, shown).await
        }
        Err(page) => page,
    }
}

/// A clinician's change to outcome `assessment_id`, audited.
async fn audited<T>(
    state: &AppState,
    v: &Visitor,
    assessment_id: &str,
    done: Result<T, TriageError>,
) -> Result<T, TriageError> {
    v.audit(
        state,
        "update",
        "RiskAssessment",
        Some(assessment_id),
        done.is_ok(),
    )
    .await;
    done
}

pub async fn retriage(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (clinician, assessment_id) = match acting(&state, &v, &id, &body).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    let form: RetriageForm = forms::parse(&body);
    let (level, modality, reason) = match check(&form, v.lang) {
        Ok(x) => x,
        Err(errors) => return again(&state, &v, &id, &headers, form, errors).await,
    };
    let done = state
        .triage
        .retriage(&assessment_id, level, modality, &reason, &clinician)
        .await;
    match audited(&state, &v, &assessment_id, done).await {
        Ok(_) => see_other(&format!("/triage/{id}?retriaged=true")),
        Err(TriageError::Invalid(why)) => {
            let mut errors = FieldErrors::default();
            errors.add("reason", why);
            again(&state, &v, &id, &headers, form, errors).await
        }
        Err(e) => failed(&v, e.into()),
    }
}

pub async fn review(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (clinician, assessment_id) = match acting(&state, &v, &id, &body).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    let note = translate(v.lang, "triage.review.note");
    let done = state.triage.review(&assessment_id, &note, &clinician).await;
    match audited(&state, &v, &assessment_id, done).await {
        Ok(_) => see_other("/triage/queue?reviewed=true"),
        Err(e) => failed(&v, e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(level: &str, modality: &str, reason: &str) -> RetriageForm {
        RetriageForm {
            level: level.into(),
            modality: modality.into(),
            reason: reason.into(),
            ..RetriageForm::default()
        }
    }

    #[test]
    fn a_retriage_needs_a_level_a_visit_kind_and_a_reason() {
        let (level, modality, reason) = check(&form("routine", "video", " Seen the photo "), "en")
            .ok()
            .unwrap();
        assert_eq!((level, modality), (Level::Routine, Some(Modality::Video)));
        assert_eq!(reason, "Seen the photo");
        let e = check(&form("urgent", "", ""), "fr").err().unwrap();
        assert!(e.get("modality").is_some() && e.get("reason").is_some());
        let e = check(&form("soon", "video", "x"), "en").err().unwrap();
        assert!(e.get("level").is_some());
        let e = check(&form("urgent", "emergency", "x"), "en")
            .err()
            .unwrap();
        assert!(
            e.get("modality").is_some(),
            "emergency services only for emergencies"
        );
        let (_, modality, _) = check(&form("self-care", "", "Advice given"), "en")
            .ok()
            .unwrap();
        assert_eq!(modality, None);
    }
}
