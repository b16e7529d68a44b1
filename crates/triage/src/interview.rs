//! One triage interview: who the patient is, the complaint's protocol and the answers so
//! far. Each step replays the answers: an emergency rule that is already true ends the
//! interview at once; otherwise the next question whose `ask_if` is not false is asked
//! (red flags first); when none is left, the most urgent rule that fired decides.

use serde::{Deserialize, Serialize};

use crate::expr::{Truth, Value};
use crate::protocol::{Protocol, Question, QuestionKind, Rule};
use crate::{Lang, Level, Modality, GENERAL_PRACTICE, PAEDIATRICS};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sex {
    Female,
    Male,
}

impl Sex {
    pub fn code(self) -> &'static str {
        match self {
            Sex::Female => "female",
            Sex::Male => "male",
        }
    }
}

/// Known conditions that change how urgent a complaint is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    Diabetes,
    Immunosuppressed,
    Anticoagulant,
    HeartDisease,
    LungDisease,
}

impl Condition {
    pub const ALL: [Condition; 5] = [
        Condition::Diabetes,
        Condition::Immunosuppressed,
        Condition::Anticoagulant,
        Condition::HeartDisease,
        Condition::LungDisease,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Condition::Diabetes => "diabetes",
            Condition::Immunosuppressed => "immunosuppressed",
            Condition::Anticoagulant => "anticoagulant",
            Condition::HeartDisease => "heart_disease",
            Condition::LungDisease => "lung_disease",
        }
    }

    pub fn parse(code: &str) -> Option<Condition> {
        Condition::ALL.into_iter().find(|c| c.code() == code)
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Condition::Diabetes, Lang::En) => "Diabetes",
            (Condition::Diabetes, Lang::Fr) => "Diabète",
            (Condition::Immunosuppressed, Lang::En) => {
                "A weakened immune system (chemotherapy, transplant, steroids, HIV...)"
            }
            (Condition::Immunosuppressed, Lang::Fr) => {
                "Des défenses immunitaires affaiblies (chimiothérapie, greffe, corticoïdes, VIH...)"
            }
            (Condition::Anticoagulant, Lang::En) => "Taking blood thinners (anticoagulants)",
            (Condition::Anticoagulant, Lang::Fr) => "Un traitement anticoagulant",
            (Condition::HeartDisease, Lang::En) => "Heart disease",
            (Condition::HeartDisease, Lang::Fr) => "Une maladie du cœur",
            (Condition::LungDisease, Lang::En) => "Lung disease (asthma, COPD...)",
            (Condition::LungDisease, Lang::Fr) => "Une maladie des poumons (asthme, BPCO...)",
        }
    }
}

/// What the engine needs to know about the patient before the first question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Patient {
    pub age_months: u32,
    pub sex: Sex,
    #[serde(default)]
    pub pregnant: bool,
    #[serde(default)]
    pub conditions: Vec<Condition>,
}

impl Patient {
    pub fn age_years(&self) -> f64 {
        f64::from(self.age_months) / 12.0
    }

    fn fact(&self, name: &str) -> Option<Value> {
        Some(match name {
            "age" => Value::Number(self.age_years()),
            "age_months" => Value::Number(f64::from(self.age_months)),
            "sex" => Value::Text(self.sex.code().into()),
            "pregnant" => Value::Bool(self.pregnant && self.sex == Sex::Female),
            other => Value::Bool(self.conditions.iter().any(|c| c.code() == other)),
        })
    }
}

/// One answer to one question.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Yes,
    No,
    /// "Not sure": counts as yes for a yes-no question (when in doubt, triage up), as not
    /// measured for a number.
    Unsure,
    Choice(String),
    Number(f64),
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AnswerError {
    #[error("the interview is finished")]
    Finished,
    #[error("\"{0}\" is not a question of this interview")]
    UnknownQuestion(String),
    #[error("\"{0}\" has not been asked yet; answer \"{1}\" first")]
    NotAsked(String, String),
    #[error("answer {0} with yes, no or unsure")]
    YesNo(String),
    #[error("answer {question} with one of: {options}")]
    Choice { question: String, options: String },
    #[error("answer {question} with a number from {min} to {max}, or unsure")]
    Number {
        question: String,
        min: f64,
        max: f64,
    },
}

impl Answer {
    /// Reads an answer to `question` as sent by a form or the API.
    pub fn parse(question: &Question, raw: &str) -> Result<Answer, AnswerError> {
        let raw = raw.trim();
        match &question.kind {
            QuestionKind::YesNo => match raw.to_ascii_lowercase().as_str() {
                "yes" | "true" => Ok(Answer::Yes),
                "no" | "false" => Ok(Answer::No),
                "unsure" => Ok(Answer::Unsure),
                _ => Err(AnswerError::YesNo(question.id.clone())),
            },
            QuestionKind::Choice(options) => options
                .iter()
                .find(|o| o.id == raw)
                .map(|o| Answer::Choice(o.id.clone()))
                .ok_or_else(|| AnswerError::Choice {
                    question: question.id.clone(),
                    options: options
                        .iter()
                        .map(|o| o.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                }),
            QuestionKind::Number { min, max, .. } => {
                if raw.eq_ignore_ascii_case("unsure") {
                    return Ok(Answer::Unsure);
                }
                match raw.replace(',', ".").parse::<f64>() {
                    Ok(n) if n.is_finite() && n >= *min && n <= *max => Ok(Answer::Number(n)),
                    _ => Err(AnswerError::Number {
                        question: question.id.clone(),
                        min: *min,
                        max: *max,
                    }),
                }
            }
        }
    }

    /// The answer as stored and sent: `yes`, `no`, `unsure`, an option id or a number.
    pub fn code(&self) -> String {
        match self {
            Answer::Yes => "yes".into(),
            Answer::No => "no".into(),
            Answer::Unsure => "unsure".into(),
            Answer::Choice(id) => id.clone(),
            Answer::Number(n) => n.to_string(),
        }
    }

    /// The answer in words, as the patient saw it.
    pub fn words(&self, question: &Question, lang: Lang) -> String {
        match (self, &question.kind) {
            (Answer::Yes, _) => if lang == Lang::Fr { "Oui" } else { "Yes" }.into(),
            (Answer::No, _) => if lang == Lang::Fr { "Non" } else { "No" }.into(),
            (Answer::Unsure, _) => if lang == Lang::Fr {
                "Je ne sais pas"
            } else {
                "Not sure"
            }
            .into(),
            (Answer::Choice(id), QuestionKind::Choice(options)) => options
                .iter()
                .find(|o| &o.id == id)
                .map_or_else(|| id.clone(), |o| o.text.get(lang).to_string()),
            (Answer::Number(n), QuestionKind::Number { unit, .. }) => {
                format!("{n} {unit}").trim().to_string()
            }
            (other, _) => other.code(),
        }
    }

    fn value(&self) -> Value {
        match self {
            Answer::Yes => Value::Bool(true),
            Answer::No => Value::Bool(false),
            // The safe reading of "not sure" for yes-no; a number not measured is unknown.
            Answer::Unsure => Value::Bool(true),
            Answer::Choice(id) => Value::Text(id.clone()),
            Answer::Number(n) => Value::Number(*n),
        }
    }
}

/// An interview in progress or finished.
#[derive(Debug, Clone, PartialEq)]
pub struct Interview {
    pub protocol: String,
    pub patient: Patient,
    /// In the order asked.
    pub answers: Vec<(String, Answer)>,
}

/// The question to ask now.
#[derive(Debug, Clone, Copy)]
pub struct Asked<'a> {
    pub question: &'a Question,
    /// 1 for the first question asked.
    pub number: usize,
}

/// A rule that fired, to explain the outcome.
#[derive(Debug, Clone, Copy)]
pub struct Explained<'a> {
    pub rule: &'a Rule,
    pub protocol: &'a Protocol,
}

impl Explained<'_> {
    pub fn because(&self, lang: Lang) -> &str {
        self.rule.because.get(lang)
    }

    pub fn source_title(&self) -> &str {
        self.protocol
            .source(&self.rule.source)
            .map_or("", |s| s.title.as_str())
    }

    pub fn source_url(&self) -> &str {
        self.protocol
            .source(&self.rule.source)
            .map_or("", |s| s.url.as_str())
    }
}

/// Where the interview leads.
#[derive(Debug, Clone)]
pub struct Outcome<'a> {
    pub level: Level,
    /// None for self-care.
    pub modality: Option<Modality>,
    /// The reasons, most urgent first (at least one).
    pub reasons: Vec<Explained<'a>>,
    /// Ended by an emergency before every question was asked.
    pub stopped_early: bool,
    pub protocol: &'a Protocol,
}

impl Outcome<'_> {
    /// The specialty to book in: the protocol's, or for a child paediatrics (then general
    /// practice as a fallback, which the caller tries when no paediatrician is free).
    pub fn specialty(&self, patient: &Patient) -> &str {
        match self.protocol.specialty.as_deref() {
            Some(s) => s,
            None if patient.age_years() < crate::protocol::Ages::ADULT_FROM_YEARS => PAEDIATRICS,
            None => GENERAL_PRACTICE,
        }
    }

    pub fn advice(&self, lang: Lang) -> &[String] {
        if self.level == Level::SelfCare {
            self.protocol.advice.get(lang)
        } else {
            &[]
        }
    }

    pub fn safety_net(&self, lang: Lang) -> &[String] {
        if self.level == Level::SelfCare {
            self.protocol.safety_net.get(lang)
        } else {
            &[]
        }
    }

    pub fn while_waiting(&self, lang: Lang) -> &[String] {
        if self.level == Level::Emergency {
            self.protocol.while_waiting.get(lang)
        } else {
            &[]
        }
    }
}

#[derive(Debug, Clone)]
pub enum Step<'a> {
    Ask(Asked<'a>),
    Done(Outcome<'a>),
}

impl Interview {
    pub fn new(protocol: &Protocol, patient: Patient) -> Interview {
        Interview {
            protocol: protocol.id.clone(),
            patient,
            answers: Vec::new(),
        }
    }

    fn lookup(&self, protocol: &Protocol, name: &str) -> Value {
        if let Some((_, answer)) = self.answers.iter().find(|(q, _)| q == name) {
            return match (answer, protocol.question(name).map(|q| &q.kind)) {
                (Answer::Unsure, Some(QuestionKind::Number { .. })) => Value::Unknown,
                _ => answer.value(),
            };
        }
        if protocol.question(name).is_some() {
            return Value::Unknown;
        }
        self.patient.fact(name).unwrap_or(Value::Unknown)
    }

    fn fired<'a>(&self, protocol: &'a Protocol) -> Vec<&'a Rule> {
        let lookup = |name: &str| self.lookup(protocol, name);
        protocol
            .rules
            .iter()
            .filter(|rule| rule.condition.eval(&lookup) == Truth::True)
            .collect()
    }

    fn answered(&self, id: &str) -> bool {
        self.answers.iter().any(|(q, _)| q == id)
    }

    /// What comes next: a question, or the outcome.
    pub fn step<'a>(&self, protocol: &'a Protocol) -> Step<'a> {
        let fired = self.fired(protocol);
        let emergency = fired.iter().any(|r| r.level == Level::Emergency);
        let lookup = |name: &str| self.lookup(protocol, name);
        if !emergency {
            let next = protocol.questions.iter().find(|q| {
                !self.answered(&q.id)
                    && q.ask_if
                        .as_ref()
                        .is_none_or(|c| c.eval(&lookup) != Truth::False)
            });
            if let Some(question) = next {
                return Step::Ask(Asked {
                    question,
                    number: self.answers.len() + 1,
                });
            }
        }
        Step::Done(self.decide(protocol, fired, emergency))
    }

    fn decide<'a>(
        &self,
        protocol: &'a Protocol,
        mut fired: Vec<&'a Rule>,
        early: bool,
    ) -> Outcome<'a> {
        if fired.is_empty() {
            fired.push(&protocol.default);
        }
        // Most urgent first; among equals, file order.
        fired.sort_by_key(|r| std::cmp::Reverse(r.level));
        let mut reasons: Vec<Explained<'a>> = Vec::new();
        for rule in &fired {
            if !reasons.iter().any(|e| e.rule.because == rule.because) {
                reasons.push(Explained { rule, protocol });
            }
        }
        let top = fired[0];
        let stopped_early = early && protocol.questions.iter().any(|q| !self.answered(&q.id));
        Outcome {
            level: top.level,
            modality: top.modality,
            reasons,
            stopped_early,
            protocol,
        }
    }

    /// Records the answer to `question_id`, which must be the question asked now or one
    /// asked before (changing an earlier answer drops the answers given after it, since the
    /// questions that follow may change).
    pub fn answer(
        &mut self,
        protocol: &Protocol,
        question_id: &str,
        raw: &str,
    ) -> Result<(), AnswerError> {
        let question = protocol
            .question(question_id)
            .ok_or_else(|| AnswerError::UnknownQuestion(question_id.to_string()))?;
        let answer = Answer::parse(question, raw)?;
        if let Some(at) = self.answers.iter().position(|(q, _)| q == question_id) {
            self.answers.truncate(at);
            self.answers.push((question_id.to_string(), answer));
            return Ok(());
        }
        match self.step(protocol) {
            Step::Done(_) => Err(AnswerError::Finished),
            Step::Ask(asked) if asked.question.id == question_id => {
                self.answers.push((question_id.to_string(), answer));
                Ok(())
            }
            Step::Ask(asked) => Err(AnswerError::NotAsked(
                question_id.to_string(),
                asked.question.id.clone(),
            )),
        }
    }

    /// The questions asked and the answers given, in words.
    pub fn transcript(&self, protocol: &Protocol, lang: Lang) -> Vec<(String, String)> {
        self.answers
            .iter()
            .filter_map(|(id, answer)| {
                let question = protocol.question(id)?;
                Some((
                    question.text.get(lang).to_string(),
                    answer.words(question, lang),
                ))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROTOCOL: &str = r#"
id = "test-fever"
title = { en = "Fever", fr = "Fièvre" }
synonyms.en = ["fever"]
synonyms.fr = ["fièvre"]
[[source]]
id = "nice"
title = "NICE NG143"
url = "https://www.nice.org.uk/guidance/ng143"
[[question]]
id = "how_long"
kind = "choice"
text = { en = "How long?", fr = "Depuis quand ?" }
options = [ { id = "hours", text = { en = "Hours", fr = "Heures" } }, { id = "days", text = { en = "Days", fr = "Jours" } } ]
[[question]]
id = "floppy"
red_flag = true
text = { en = "Floppy?", fr = "Mou ?" }
[[question]]
id = "rash"
red_flag = true
text = { en = "Rash that does not fade?", fr = "Taches ?" }
[[question]]
id = "temperature"
kind = "number"
unit = "°C"
min = 34
max = 43
text = { en = "Temperature?", fr = "Température ?" }
ask_if = "how_long = \"days\""
[[rule]]
if = "floppy or rash"
level = "emergency"
modality = "emergency"
because = { en = "Floppy or rash", fr = "Mou ou taches" }
source = "nice"
[[rule]]
if = "age_months < 3"
level = "urgent"
modality = "in-clinic"
because = { en = "Young baby", fr = "Jeune bébé" }
source = "nice"
[[rule]]
if = "temperature >= 39 or immunosuppressed"
level = "urgent"
modality = "video"
because = { en = "High fever or weak immunity", fr = "Forte fièvre" }
source = "nice"
[default]
level = "self-care"
because = { en = "No warning sign", fr = "Aucun signe" }
source = "nice"
[self_care]
advice = { en = ["Drink"], fr = ["Buvez"] }
safety_net = { en = ["Come back if worse"], fr = ["Revenez"] }
[emergency]
while_waiting = { en = ["Stay"], fr = ["Restez"] }
"#;

    fn protocol() -> Protocol {
        Protocol::parse("test-fever", PROTOCOL).unwrap()
    }

    fn adult() -> Patient {
        Patient {
            age_months: 30 * 12,
            sex: Sex::Female,
            pregnant: false,
            conditions: vec![],
        }
    }

    fn asked(interview: &Interview, p: &Protocol) -> String {
        match interview.step(p) {
            Step::Ask(a) => a.question.id.clone(),
            Step::Done(o) => format!("done:{}", o.level.code()),
        }
    }

    #[test]
    fn red_flags_come_first_and_an_emergency_stops_the_interview() {
        let p = protocol();
        let mut i = Interview::new(&p, adult());
        assert_eq!(asked(&i, &p), "floppy");
        i.answer(&p, "floppy", "yes").unwrap();
        let Step::Done(outcome) = i.step(&p) else {
            panic!("must stop")
        };
        assert_eq!(outcome.level, Level::Emergency);
        assert_eq!(outcome.modality, Some(Modality::Emergency));
        assert!(outcome.stopped_early);
        assert_eq!(outcome.reasons[0].because(Lang::Fr), "Mou ou taches");
        assert_eq!(outcome.while_waiting(Lang::En), ["Stay"]);
        assert_eq!(i.answer(&p, "rash", "no"), Err(AnswerError::Finished));
    }

    #[test]
    fn not_sure_counts_as_yes() {
        let p = protocol();
        let mut i = Interview::new(&p, adult());
        i.answer(&p, "floppy", "no").unwrap();
        i.answer(&p, "rash", "unsure").unwrap();
        assert_eq!(asked(&i, &p), "done:emergency");
    }

    #[test]
    fn ask_if_skips_and_the_highest_rule_decides() {
        let p = protocol();
        let mut i = Interview::new(&p, adult());
        for (q, a) in [("floppy", "no"), ("rash", "no"), ("how_long", "hours")] {
            i.answer(&p, q, a).unwrap();
        }
        // temperature is only asked after days of fever
        let Step::Done(outcome) = i.step(&p) else {
            panic!()
        };
        assert_eq!(outcome.level, Level::SelfCare);
        assert_eq!(outcome.advice(Lang::En), ["Drink"]);
        assert_eq!(outcome.safety_net(Lang::Fr), ["Revenez"]);

        // Changing an earlier answer drops what followed and asks again.
        i.answer(&p, "how_long", "days").unwrap();
        assert_eq!(asked(&i, &p), "temperature");
        i.answer(&p, "temperature", "39,4").unwrap();
        let Step::Done(outcome) = i.step(&p) else {
            panic!()
        };
        assert_eq!(
            (outcome.level, outcome.modality),
            (Level::Urgent, Some(Modality::Video))
        );
    }

    #[test]
    fn age_and_conditions_raise_urgency() {
        let p = protocol();
        let baby = Patient {
            age_months: 2,
            ..adult()
        };
        let mut i = Interview::new(&p, baby);
        for (q, a) in [("floppy", "no"), ("rash", "no"), ("how_long", "hours")] {
            i.answer(&p, q, a).unwrap();
        }
        let Step::Done(outcome) = i.step(&p) else {
            panic!()
        };
        assert_eq!(outcome.level, Level::Urgent);
        assert_eq!(
            outcome.modality,
            Some(Modality::InClinic),
            "first urgent rule in file order"
        );
        assert_eq!(outcome.specialty(&i.patient), crate::PAEDIATRICS);

        let weak = Patient {
            conditions: vec![Condition::Immunosuppressed],
            ..adult()
        };
        let mut i = Interview::new(&p, weak);
        for (q, a) in [("floppy", "no"), ("rash", "no"), ("how_long", "hours")] {
            i.answer(&p, q, a).unwrap();
        }
        assert_eq!(asked(&i, &p), "done:urgent");
    }

    #[test]
    fn bad_answers_say_what_is_expected() {
        let p = protocol();
        let mut i = Interview::new(&p, adult());
        assert_eq!(
            i.answer(&p, "floppy", "maybe"),
            Err(AnswerError::YesNo("floppy".into()))
        );
        assert_eq!(
            i.answer(&p, "rash", "no"),
            Err(AnswerError::NotAsked("rash".into(), "floppy".into()))
        );
        assert_eq!(
            i.answer(&p, "nope", "no"),
            Err(AnswerError::UnknownQuestion("nope".into()))
        );
        i.answer(&p, "floppy", "no").unwrap();
        i.answer(&p, "rash", "no").unwrap();
        assert!(matches!(
            i.answer(&p, "how_long", "weeks"),
            Err(AnswerError::Choice { .. })
        ));
        i.answer(&p, "how_long", "days").unwrap();
        assert!(matches!(
            i.answer(&p, "temperature", "90"),
            Err(AnswerError::Number { .. })
        ));
        i.answer(&p, "temperature", "unsure").unwrap();
        assert_eq!(asked(&i, &p), "done:self-care");
    }

    #[test]
    fn broken_protocols_are_refused_with_the_reason() {
        let bad = PROTOCOL.replace("if = \"floppy or rash\"", "if = \"floppy or rashh\"");
        let err = Protocol::parse("test-fever", &bad).unwrap_err();
        assert!(err.message.contains("unknown name \"rashh\""), "{err}");
        let bad = PROTOCOL.replace("how_long = \\\"days\\\"", "how_long = \\\"weeks\\\"");
        assert!(Protocol::parse("test-fever", &bad).is_err());
        let bad = PROTOCOL.replace(
            "source = \"nice\"\n[default]",
            "source = \"nhs\"\n[default]",
        );
        assert!(Protocol::parse("test-fever", &bad)
            .unwrap_err()
            .message
            .contains("unknown source"));
        assert!(Protocol::parse("other-name", PROTOCOL).is_err());
    }
}
