//! What the triage API sends: an interview with its next question or its outcome, in the
//! patient's language. The web pages render the same views.

use carefront_triage::{emergency, Lang, Level, Library, QuestionKind, Step};
use carefront_triage_service::{Assessment, Record, Status, Waiting};
use serde::Serialize;
use utoipa::ToSchema;

/// An interview: where it stands, the question to answer now or the outcome.
#[derive(Debug, Serialize, ToSchema)]
pub struct InterviewView {
    /// The QuestionnaireResponse id.
    pub id: String,
    /// Send it back with the answer: a stale page gets 409 instead of a lost answer.
    pub version: i64,
    /// `in-progress` or `completed`.
    pub status: String,
    pub patient_id: String,
    pub complaint: ComplaintView,
    /// `en` or `fr`.
    pub lang: String,
    /// The question to answer next (absent once finished).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub question: Option<QuestionView>,
    /// The outcome (present once finished).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<OutcomeView>,
    /// The answers so far, in words.
    pub answers: Vec<AnsweredView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ComplaintView {
    pub id: String,
    pub title: String,
    /// How well typed text matched (only in complaint searches).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuestionView {
    pub id: String,
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// `yes-no` (answer `yes`, `no` or `unsure`), `choice` (an option id) or `number`.
    pub kind: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<OptionView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// A warning sign, asked first.
    pub red_flag: bool,
    /// 1 for the first question.
    pub number: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OptionView {
    pub id: String,
    pub text: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AnsweredView {
    pub question: String,
    pub text: String,
    /// As sent: `yes`, `no`, `unsure`, an option id or a number.
    pub answer: String,
    pub words: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OutcomeView {
    /// `emergency`, `urgent`, `routine` or `self-care`.
    pub level: String,
    pub label: String,
    /// `emergency`, `video`, `in-clinic` or `home`; absent for self-care.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modality: Option<String>,
    /// Why, most urgent first, with the guidance each reason follows.
    pub reasons: Vec<ReasonView>,
    pub advice: Vec<String>,
    /// When to seek care after self-care advice.
    pub safety_net: Vec<String>,
    /// Emergencies: the number to call, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emergency_number: Option<String>,
    /// Emergencies: what to do and not do while help comes.
    pub while_waiting: Vec<String>,
    /// The interview ended at a warning sign, before every question.
    pub stopped_early: bool,
    /// The SNOMED CT specialty to book in (absent for emergencies).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub specialty: Option<String>,
    /// Book a visit starting within this many hours (absent for emergencies).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub within_hours: Option<u32>,
    /// The RiskAssessment on the patient's record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assessment_id: Option<String>,
    /// A clinician's change: what the engine said first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engine_level: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReasonView {
    pub text: String,
    pub source: String,
    pub url: String,
}

/// One patient waiting in the clinicians' queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueEntryView {
    pub assessment_id: String,
    pub interview_id: String,
    pub patient_id: String,
    pub complaint: String,
    pub level: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modality: Option<String>,
    /// When the interview finished (FHIR instant).
    pub raised_at: String,
    pub waiting_minutes: i64,
}

/// A triage outcome after a clinician's change.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssessmentView {
    pub id: String,
    pub interview_id: String,
    pub level: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modality: Option<String>,
    /// `preliminary` (the engine's), `amended` (re-triaged) or `final` (reviewed).
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engine_level: Option<String>,
    pub notes: Vec<String>,
}

impl AssessmentView {
    pub fn of(a: &Assessment) -> Self {
        AssessmentView {
            id: a.id.clone(),
            interview_id: a.interview_id.clone(),
            level: a.level.code().into(),
            modality: a.modality.map(|m| m.code().into()),
            status: a.status.clone(),
            engine_level: a.engine_level.map(|l| l.code().into()),
            notes: a
                .notes
                .iter()
                .map(|(who, _, text)| format!("{who}: {text}"))
                .collect(),
        }
    }
}

impl QueueEntryView {
    /// `now` in microseconds since the Unix epoch.
    pub fn of(w: &Waiting, library: &Library, lang: Lang, now: i64) -> Self {
        QueueEntryView {
            assessment_id: w.assessment_id.clone(),
            interview_id: w.interview_id.clone(),
            patient_id: w.patient_id.clone(),
            complaint: library
                .get(&w.protocol)
                .map_or_else(|| w.protocol.clone(), |p| p.title.get(lang).to_string()),
            level: w.level.code().into(),
            modality: w.modality.map(|m| m.code().into()),
            raised_at: carefront_store::repository::format_instant(w.raised_at),
            waiting_minutes: ((now - w.raised_at) / 60_000_000).max(0),
        }
    }
}

/// The country whose emergency number to show: the region of the first language the
/// browser or client prefers (`fr-FR`, `en-GB`), else by language (French: France).
pub fn country(accept_language: Option<&str>, lang: Lang) -> String {
    accept_language
        .and_then(|h| h.split(',').next())
        .and_then(|tag| tag.split(';').next())
        .and_then(|tag| tag.trim().split(['-', '_']).nth(1))
        .filter(|r| r.len() == 2)
        .map(|r| r.to_ascii_uppercase())
        .unwrap_or_else(|| if lang == Lang::Fr { "FR" } else { "US" }.to_string())
}

impl InterviewView {
    pub fn of(
        record: &Record,
        library: &Library,
        assessment: Option<&Assessment>,
        country: &str,
    ) -> Option<Self> {
        let protocol = record.protocol(library)?;
        let lang = record.lang;
        let answers = record
            .interview
            .answers
            .iter()
            .filter_map(|(id, answer)| {
                let q = protocol.question(id)?;
                Some(AnsweredView {
                    question: id.clone(),
                    text: q.text.get(lang).to_string(),
                    answer: answer.code(),
                    words: answer.words(q, lang),
                })
            })
            .collect();
        let (question, outcome) = match record.interview.step(protocol) {
            Step::Ask(asked) if record.status == Status::InProgress => {
                let q = asked.question;
                let (kind, options, unit, min, max) = match &q.kind {
                    QuestionKind::YesNo => ("yes-no", Vec::new(), None, None, None),
                    QuestionKind::Choice(options) => (
                        "choice",
                        options
                            .iter()
                            .map(|o| OptionView {
                                id: o.id.clone(),
                                text: o.text.get(lang).to_string(),
                            })
                            .collect(),
                        None,
                        None,
                        None,
                    ),
                    QuestionKind::Number { unit, min, max } => (
                        "number",
                        Vec::new(),
                        Some(unit.clone()),
                        Some(*min),
                        Some(*max),
                    ),
                };
                (
                    Some(QuestionView {
                        id: q.id.clone(),
                        text: q.text.get(lang).to_string(),
                        help: q.help.as_ref().map(|h| h.get(lang).to_string()),
                        kind: kind.into(),
                        options,
                        unit,
                        min,
                        max,
                        red_flag: q.red_flag,
                        number: asked.number,
                    }),
                    None,
                )
            }
            Step::Ask(_) => (None, None),
            Step::Done(outcome) => {
                // A clinician's re-triage overrides the engine's level and visit kind.
                let level = assessment.map_or(outcome.level, |a| a.level);
                let modality = assessment.map_or(outcome.modality, |a| a.modality);
                let emergency = level == Level::Emergency;
                let (number, _) = emergency::numbers(country);
                let view = OutcomeView {
                    level: level.code().into(),
                    label: level.label(lang).into(),
                    modality: modality.map(|m| m.code().into()),
                    reasons: outcome
                        .reasons
                        .iter()
                        .map(|r| ReasonView {
                            text: r.because(lang).to_string(),
                            source: r.source_title().to_string(),
                            url: r.source_url().to_string(),
                        })
                        .collect(),
                    advice: if level == Level::SelfCare {
                        protocol.advice.get(lang).to_vec()
                    } else {
                        Vec::new()
                    },
                    safety_net: if level == Level::SelfCare {
                        protocol.safety_net.get(lang).to_vec()
                    } else {
                        Vec::new()
                    },
                    call: emergency.then(|| emergency::call(country, lang)),
                    emergency_number: emergency.then(|| number.to_string()),
                    while_waiting: if emergency {
                        protocol.while_waiting.get(lang).to_vec()
                    } else {
                        Vec::new()
                    },
                    stopped_early: outcome.stopped_early,
                    specialty: (!emergency)
                        .then(|| outcome.specialty(&record.interview.patient).to_string()),
                    within_hours: level.within_hours(),
                    assessment_id: assessment.map(|a| a.id.clone()),
                    engine_level: assessment
                        .and_then(|a| a.engine_level)
                        .map(|l| l.code().to_string()),
                };
                (None, Some(view))
            }
        };
        Some(InterviewView {
            id: record.id.clone(),
            version: record.version,
            status: match record.status {
                Status::InProgress => "in-progress",
                Status::Completed => "completed",
            }
            .into(),
            patient_id: record.patient_id.clone(),
            complaint: ComplaintView {
                id: protocol.id.clone(),
                title: protocol.title.get(lang).to_string(),
                score: None,
            },
            lang: lang.code().into(),
            question,
            outcome,
            answers,
        })
    }
}
