//! `/triage/{id}`: one question per page while the interview runs (yes / no / not sure,
//! a choice or a number; warning signs marked), then the outcome: the urgency with its
//! reasons and the guidance they follow, what to do (call emergency services, book one of
//! the offered visits, or look after yourself and when to seek care) and the answers given.
//! Staff see the same interview with the clinician's tools (see [`super::queue`]).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use carefront_auth::{Action, Role};
use carefront_booking::scheduling::jiff::Timestamp;
use carefront_triage::{Lang, Level};
use carefront_triage_service::{Assessment, Record, TriageError};
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::queue::RetriageForm;
use super::{accept_language, caller, failed, is_clinician, level_key, offers, patient_name};
use crate::triage::access;
use crate::triage::view::InterviewView;
use crate::web::admin::Choice;
use crate::web::booking::{ticked, Visitor};
use crate::web::csrf;
use crate::web::dashboard::user_context;
use crate::web::forms::{self, message, FieldErrors};
use crate::web::i18n::translate;
use crate::web::page::{csrf_failed_page, see_other};
use crate::AppState;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Notices {
    retriaged: bool,
    reviewed: bool,
}

impl Notices {
    fn key(&self) -> Option<&'static str> {
        [
            (self.retriaged, "triage.notice.retriaged"),
            (self.reviewed, "triage.notice.reviewed"),
        ]
        .into_iter()
        .find_map(|(on, key)| on.then_some(key))
    }
}

/// What a page shows besides the interview.
#[derive(Default)]
pub(super) struct Shown {
    pub status: Option<StatusCode>,
    pub notice: Option<&'static str>,
    pub error: Option<String>,
    pub retriage: RetriageForm,
    pub retriage_errors: FieldErrors,
}

/// The assessment as the clinician's page shows it.
#[derive(Serialize)]
struct AssessmentView {
    status: String,
    waiting: bool,
    notes: Vec<Note>,
}

#[derive(Serialize)]
struct Note {
    who: String,
    at: String,
    text: String,
}

impl AssessmentView {
    fn of(a: &Assessment) -> Self {
        AssessmentView {
            status: a.status.clone(),
            waiting: Assessment::waiting(&a.status),
            notes: a
                .notes
                .iter()
                .map(|(who, at, text)| Note {
                    who: who.clone(),
                    at: at.get(..16).unwrap_or(at).replace('T', " "),
                    text: text.clone(),
                })
                .collect(),
        }
    }
}

/// Who the interview is about, as the clinician reads it.
#[derive(Serialize)]
struct About {
    age: String,
    sex: String,
    pregnant: bool,
    for_child: bool,
    conditions: Vec<&'static str>,
    /// The complaint in the patient's words.
    words: Option<String>,
}

impl About {
    fn of(r: &Record, lang: &str) -> Self {
        let p = &r.interview.patient;
        let age = if p.age_months < 24 {
            message(
                lang,
                "triage.review.months",
                &[("n", p.age_months.to_string())],
            )
        } else {
            message(
                lang,
                "triage.review.years",
                &[("n", (p.age_months / 12).to_string())],
            )
        };
        About {
            age,
            sex: translate(lang, &format!("triage.start.{}", p.sex.code())).into_owned(),
            pregnant: p.pregnant,
            for_child: r.for_child,
            conditions: p
                .conditions
                .iter()
                .map(|c| c.label(Lang::parse(lang)))
                .collect(),
            words: r.complaint_text.clone(),
        }
    }
}

/// The interview `id` as `action` allows it, with the read or change audited on failure.
pub(super) async fn load(
    state: &AppState,
    v: &Visitor,
    id: &str,
    action: Action,
    headers: &HeaderMap,
) -> Result<InterviewView, Response> {
    let caller = caller(state, v).await;
    access::interview(state, &caller, id, action, accept_language(headers))
        .await
        .map_err(|e| failed(v, e))
}

pub async fn show(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    Query(notices): Query<Notices>,
    headers: HeaderMap,
) -> Response {
    let loaded = load(&state, &v, &id, Action::Read, &headers).await;
    v.audit(
        &state,
        "read",
        "QuestionnaireResponse",
        Some(&id),
        loaded.is_ok(),
    )
    .await;
    match loaded {
        Ok(view) => {
            let shown = Shown {
                notice: notices.key(),
                ..Shown::default()
            };
            page(&state, &v, view, shown).await
        }
        Err(page) => page,
    }
}

/// The page for the interview as it stands: a question, the outcome, or the clinician's
/// view.
pub(super) async fn page(
    state: &AppState,
    v: &Visitor,
    view: InterviewView,
    shown: Shown,
) -> Response {
    if v.role != Role::Patient {
        return staff_page(state, v, view, shown).await;
    }
    let status = shown.status.unwrap_or(StatusCode::OK);
    let lang = v.lang;
    if let Some(q) = &view.question {
        let most = state
            .triage
            .library()
            .get(&view.complaint.id)
            .map_or(q.number, |p| p.questions.len());
        let ctx = context! {
            lang,
            user => user_context(&v.who),
            view,
            most,
            notice => shown.notice,
            error => shown.error,
        };
        return v.render(status, "triage_question.html", ctx);
    }
    let Some(outcome) = &view.outcome else {
        return crate::web::page::not_found_page(lang);
    };
    let level = Level::parse(&outcome.level).unwrap_or(Level::Urgent);
    let offered = if matches!(level, Level::Urgent | Level::Routine) {
        match offers::offered(state, lang, outcome, Timestamp::now()).await {
            Ok(o) => Some(o),
            Err(e) => return v.internal("offering visits after triage", &e),
        }
    } else {
        None
    };
    let ctx = context! {
        lang,
        user => user_context(&v.who),
        view,
        level_label => translate(lang, &level_key(level.code())),
        offered,
        book_anyway => (level == Level::SelfCare).then(|| offers::search_link(outcome)).flatten(),
        notice => shown.notice,
        // Urgent by video: the on-demand queue is offered before booking a time.
        ondemand => crate::ondemand::service::eligible(level, outcome.modality.as_deref().and_then(carefront_triage::Modality::parse)),
    };
    v.render(status, "triage_outcome.html", ctx)
}

/// The levels and kinds of visit a clinician chooses from.
fn choices(lang: &str) -> (Vec<Choice>, Vec<Choice>) {
    let levels = Level::ALL
        .iter()
        .map(|l| Choice {
            value: l.code().to_owned(),
            label: translate(lang, &level_key(l.code())).into_owned(),
        })
        .collect();
    let modalities = ["video", "in-clinic", "home"]
        .iter()
        .map(|m| Choice {
            value: (*m).to_owned(),
            label: translate(lang, &format!("modality.{m}")).into_owned(),
        })
        .collect();
    (levels, modalities)
}

async fn staff_page(state: &AppState, v: &Visitor, view: InterviewView, shown: Shown) -> Response {
    let lang = v.lang;
    let assessment = match view
        .outcome
        .as_ref()
        .and_then(|o| o.assessment_id.as_deref())
    {
        Some(id) => {
            let read = state.triage.assessment(id).await;
            v.audit(state, "read", "RiskAssessment", Some(id), read.is_ok())
                .await;
            match read {
                Ok(a) => Some(AssessmentView::of(&a)),
                Err(e) => return failed(v, e.into()),
            }
        }
        None => None,
    };
    let patient = patient_name(state, v, &view.patient_id).await;
    // Re-triage and review change the record: administrators read the queue, but only a
    // practitioner caring for the patient changes it.
    let may_change = is_clinician(v)
        && access::check(
            state,
            &caller(state, v).await,
            Action::Update,
            "RiskAssessment",
            &view.patient_id,
        )
        .await
        .is_ok();
    let about = state
        .triage
        .load(&view.id)
        .await
        .ok()
        .map(|r| About::of(&r, v.lang));
    let (levels, modalities) = choices(lang);
    let mut retriage = shown.retriage;
    if retriage.level.is_empty() {
        if let Some(o) = &view.outcome {
            retriage.level = o.level.clone();
            retriage.modality = o.modality.clone().unwrap_or_default();
        }
    }
    let ctx = context! {
        lang,
        user => user_context(&v.who),
        view,
        patient,
        about,
        assessment,
        clinician => may_change,
        levels,
        modalities,
        values => retriage,
        errors => shown.retriage_errors,
        notice => shown.notice,
        level_label => view.outcome.as_ref().map(|o| translate(lang, &level_key(&o.level)).into_owned()),
    };
    v.render(
        shown.status.unwrap_or(StatusCode::OK),
        "triage_review.html",
        ctx,
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AnswerForm {
    question: String,
    answer: String,
    /// The "Not sure" button of a number question.
    unsure: String,
    version: String,
    csrf: String,
}

/// A number as a person writes it: `30`, `37.5`.
fn number(n: f64) -> String {
    if n.fract() == 0.0 {
        format!("{n:.0}")
    } else {
        n.to_string()
    }
}

pub async fn answer(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form: AnswerForm = forms::parse(&body);
    if !csrf::session_ok(&v.who, &form.csrf) {
        return csrf_failed_page(v.lang);
    }
    if let Err(page) = load(&state, &v, &id, Action::Update, &headers).await {
        v.audit(&state, "update", "QuestionnaireResponse", Some(&id), false)
            .await;
        return page;
    }
    let raw = if ticked(&form.unsure) {
        "unsure"
    } else {
        form.answer.trim()
    };
    let version = form.version.trim().parse::<i64>().ok();
    let done = state
        .triage
        .answer(&id, form.question.trim(), raw, version)
        .await;
    v.audit(
        &state,
        "update",
        "QuestionnaireResponse",
        Some(&id),
        done.is_ok(),
    )
    .await;
    let refused = match done {
        Ok(_) => return see_other(&format!("/triage/{id}")),
        Err(TriageError::Conflict(_)) => None,
        Err(TriageError::Invalid(_)) => Some(raw.is_empty()),
        Err(e) => return failed(&v, e.into()),
    };
    // Show the interview as it now stands: answered meanwhile elsewhere, or what to fix.
    let view = match load(&state, &v, &id, Action::Read, &headers).await {
        Ok(view) => view,
        Err(page) => return page,
    };
    let same_question = view
        .question
        .as_ref()
        .is_some_and(|q| q.id == form.question.trim());
    let shown = match (refused, &view.question) {
        (Some(empty), Some(q)) if same_question => Shown {
            status: Some(StatusCode::UNPROCESSABLE_ENTITY),
            error: Some(match (q.kind.as_str(), q.min, q.max) {
                ("number", Some(min), Some(max)) if !empty => message(
                    v.lang,
                    "triage.error.number",
                    &[("min", number(min)), ("max", number(max))],
                ),
                _ => message(v.lang, "triage.error.answer", &[]),
            }),
            ..Shown::default()
        },
        _ => Shown {
            status: Some(StatusCode::CONFLICT),
            notice: Some("triage.notice.reloaded"),
            ..Shown::default()
        },
    };
    page(&state, &v, view, shown).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_naturally() {
        assert_eq!(number(30.0), "30");
        assert_eq!(number(37.5), "37.5");
    }

    #[test]
    fn clinicians_choose_among_every_level_and_kind_of_visit() {
        let (levels, modalities) = choices("fr");
        assert_eq!(levels.len(), 4);
        assert_eq!(modalities.len(), 3);
        assert!(levels.iter().all(|c| !c.label.starts_with("triage.")));
    }
}
