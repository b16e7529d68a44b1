//! A protocol: the questions and rules for one presenting complaint, read from its TOML
//! file and checked when loaded (every name in a condition exists, every rule names a
//! source, every text is in English and French), so a bad file fails at start-up and in
//! tests rather than in front of a patient.

use std::collections::HashMap;

use serde::Deserialize;

use crate::expr::{Expr, Literal};
use crate::{Lang, Level, Modality};

/// A text in each language the product speaks.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Text {
    pub en: String,
    pub fr: String,
}

impl Text {
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.en,
            Lang::Fr => &self.fr,
        }
    }
}

/// Lists of texts in each language (advice, safety-netting).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Texts {
    pub en: Vec<String>,
    pub fr: Vec<String>,
}

impl Texts {
    pub fn get(&self, lang: Lang) -> &[String] {
        match lang {
            Lang::En => &self.en,
            Lang::Fr => &self.fr,
        }
    }
}

/// Who a protocol is for.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Ages {
    #[default]
    Any,
    /// 16 and over.
    Adult,
    /// Under 16.
    Child,
}

impl Ages {
    pub const ADULT_FROM_YEARS: f64 = 16.0;

    pub fn admits(self, age_years: f64) -> bool {
        match self {
            Ages::Any => true,
            Ages::Adult => age_years >= Self::ADULT_FROM_YEARS,
            Ages::Child => age_years < Self::ADULT_FROM_YEARS,
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub id: String,
    pub title: String,
    pub url: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    pub id: String,
    pub text: Text,
}

#[derive(Debug, Clone, PartialEq)]
pub enum QuestionKind {
    YesNo,
    Choice(Vec<Choice>),
    Number { unit: String, min: f64, max: f64 },
}

#[derive(Debug, Clone)]
pub struct Question {
    pub id: String,
    pub text: Text,
    pub help: Option<Text>,
    pub red_flag: bool,
    pub kind: QuestionKind,
    pub ask_if: Option<Expr>,
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub condition: Expr,
    /// The condition as written, for reviewers and the record.
    pub source_text: String,
    pub level: Level,
    pub modality: Option<Modality>,
    pub because: Text,
    pub source: String,
}

#[derive(Debug, Clone)]
pub struct Protocol {
    pub id: String,
    pub title: Text,
    pub ages: Ages,
    pub specialty: Option<String>,
    pub synonyms_en: Vec<String>,
    pub synonyms_fr: Vec<String>,
    pub sources: Vec<Source>,
    /// In asking order: red flags first, then the others, each in file order.
    pub questions: Vec<Question>,
    pub rules: Vec<Rule>,
    pub default: Rule,
    pub advice: Texts,
    pub safety_net: Texts,
    pub while_waiting: Texts,
}

/// Facts about the patient that conditions may name besides question ids.
pub const FACTS: &[&str] = &[
    "age",
    "age_months",
    "sex",
    "pregnant",
    "diabetes",
    "immunosuppressed",
    "anticoagulant",
    "heart_disease",
    "lung_disease",
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("protocol {file}: {message}")]
pub struct ProtocolError {
    pub file: String,
    pub message: String,
}

impl Protocol {
    pub fn source(&self, id: &str) -> Option<&Source> {
        self.sources.iter().find(|s| s.id == id)
    }

    pub fn question(&self, id: &str) -> Option<&Question> {
        self.questions.iter().find(|q| q.id == id)
    }

    /// Parses and checks one protocol file named `file` (its id).
    pub fn parse(file: &str, source: &str) -> Result<Protocol, ProtocolError> {
        let fail = |message: String| ProtocolError {
            file: file.to_string(),
            message,
        };
        let raw: RawProtocol = toml::from_str(source).map_err(|e| fail(e.to_string()))?;
        if raw.id != file {
            return Err(fail(format!("id \"{}\" is not the file name", raw.id)));
        }
        let mut questions = Vec::new();
        let mut kinds: HashMap<String, QuestionKind> = HashMap::new();
        for q in raw.question {
            let kind = q
                .kind()
                .map_err(|m| fail(format!("question {}: {m}", q.id)))?;
            if !valid_id(&q.id) || FACTS.contains(&q.id.as_str()) {
                return Err(fail(format!(
                    "question id \"{}\" must be lower-case letters, digits and '_' and not a patient fact",
                    q.id
                )));
            }
            if kinds.insert(q.id.clone(), kind.clone()).is_some() {
                return Err(fail(format!("question {} is defined twice", q.id)));
            }
            questions.push(Question {
                ask_if: q
                    .ask_if
                    .as_deref()
                    .map(Expr::parse)
                    .transpose()
                    .map_err(|e| fail(format!("question {}: ask_if: {e}", q.id)))?,
                id: q.id,
                text: q.text,
                help: q.help,
                red_flag: q.red_flag,
                kind,
            });
        }
        // Red flags first; a stable sort keeps file order within each group.
        questions.sort_by_key(|q| !q.red_flag);
        let check_expr = |expr: &Expr, what: &str| -> Result<(), ProtocolError> {
            for name in expr.names() {
                if !kinds.contains_key(name) && !FACTS.contains(&name) {
                    return Err(fail(format!("{what}: unknown name \"{name}\"")));
                }
            }
            for (name, literal) in expr.comparisons() {
                let ok = match (kinds.get(name), literal) {
                    (Some(QuestionKind::Choice(options)), Literal::Text(t)) => {
                        options.iter().any(|o| &o.id == t)
                    }
                    (Some(QuestionKind::Number { .. }), Literal::Number(_)) => true,
                    (None, Literal::Number(_)) => matches!(name, "age" | "age_months"),
                    (None, Literal::Text(t)) => name == "sex" && (t == "female" || t == "male"),
                    _ => false,
                };
                if !ok {
                    return Err(fail(format!(
                        "{what}: {name} cannot be compared with {literal:?}"
                    )));
                }
            }
            Ok(())
        };
        for q in &questions {
            if let Some(expr) = &q.ask_if {
                check_expr(expr, &format!("question {} ask_if", q.id))?;
            }
        }
        let source_ids: Vec<&str> = raw.source.iter().map(|s| s.id.as_str()).collect();
        let compile_rule = |raw: RawRule, what: &str| -> Result<Rule, ProtocolError> {
            // No condition (the default outcome): always true.
            let condition = match raw.condition.as_deref() {
                Some(source) => Expr::parse(source).map_err(|e| fail(format!("{what}: {e}")))?,
                None => Expr::And(Vec::new()),
            };
            check_expr(&condition, what)?;
            if !source_ids.contains(&raw.source.as_str()) {
                return Err(fail(format!("{what}: unknown source \"{}\"", raw.source)));
            }
            match (raw.level, raw.modality) {
                (Level::SelfCare, Some(_)) => {
                    return Err(fail(format!("{what}: self-care has no modality")))
                }
                (Level::SelfCare, None) => {}
                (Level::Emergency, Some(m)) if m != Modality::Emergency => {
                    return Err(fail(format!(
                        "{what}: an emergency's modality is \"emergency\""
                    )))
                }
                (level, Some(Modality::Emergency)) if level != Level::Emergency => {
                    return Err(fail(format!(
                        "{what}: only an emergency sends to emergency services"
                    )))
                }
                (_, None) => return Err(fail(format!("{what}: modality is required"))),
                _ => {}
            }
            nonempty(&raw.because).map_err(|m| fail(format!("{what}: because {m}")))?;
            Ok(Rule {
                source_text: raw.condition.unwrap_or_default(),
                condition,
                level: raw.level,
                modality: raw.modality,
                because: raw.because,
                source: raw.source,
            })
        };
        let mut rules = Vec::new();
        for (n, rule) in raw.rule.into_iter().enumerate() {
            if rule.condition.is_none() {
                return Err(fail(format!("rule {} has no `if`", n + 1)));
            }
            rules.push(compile_rule(rule, &format!("rule {}", n + 1))?);
        }
        if raw.default.condition.is_some() {
            return Err(fail("[default] takes no `if`".into()));
        }
        let default = compile_rule(raw.default, "[default]")?;
        let levels: Vec<Level> = rules
            .iter()
            .chain(std::iter::once(&default))
            .map(|r| r.level)
            .collect();
        let self_care = raw.self_care.unwrap_or_default();
        if levels.contains(&Level::SelfCare)
            && (self_care.advice.en.is_empty() || self_care.safety_net.en.is_empty())
        {
            return Err(fail(
                "self-care outcomes need [self_care] advice and safety_net".into(),
            ));
        }
        let emergency = raw.emergency.unwrap_or_default();
        if levels.contains(&Level::Emergency) && emergency.while_waiting.en.is_empty() {
            return Err(fail(
                "emergency outcomes need [emergency] while_waiting".into(),
            ));
        }
        for (what, texts) in [
            ("advice", &self_care.advice),
            ("safety_net", &self_care.safety_net),
            ("while_waiting", &emergency.while_waiting),
        ] {
            if texts.en.len() != texts.fr.len() {
                return Err(fail(format!(
                    "{what} has not as many French lines as English"
                )));
            }
        }
        for q in &questions {
            nonempty(&q.text).map_err(|m| fail(format!("question {}: text {m}", q.id)))?;
        }
        if raw.synonyms.en.is_empty() || raw.synonyms.fr.is_empty() {
            return Err(fail("synonyms.en and synonyms.fr are both needed".into()));
        }
        for s in &raw.source {
            if !s.url.starts_with("https://") && !s.url.starts_with("http://") {
                return Err(fail(format!("source {}: url must be a web address", s.id)));
            }
        }
        Ok(Protocol {
            id: raw.id,
            title: raw.title,
            ages: raw.ages,
            specialty: raw.specialty,
            synonyms_en: raw.synonyms.en,
            synonyms_fr: raw.synonyms.fr,
            sources: raw.source,
            questions,
            rules,
            default,
            advice: self_care.advice,
            safety_net: self_care.safety_net,
            while_waiting: emergency.while_waiting,
        })
    }
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn nonempty(text: &Text) -> Result<(), String> {
    if text.en.trim().is_empty() || text.fr.trim().is_empty() {
        Err("needs both en and fr".into())
    } else {
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProtocol {
    id: String,
    title: Text,
    #[serde(default)]
    ages: Ages,
    specialty: Option<String>,
    synonyms: RawSynonyms,
    #[serde(default)]
    source: Vec<Source>,
    #[serde(default)]
    question: Vec<RawQuestion>,
    #[serde(default)]
    rule: Vec<RawRule>,
    default: RawRule,
    self_care: Option<RawSelfCare>,
    emergency: Option<RawEmergency>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSynonyms {
    #[serde(default)]
    en: Vec<String>,
    #[serde(default)]
    fr: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuestion {
    id: String,
    #[serde(default)]
    red_flag: bool,
    text: Text,
    help: Option<Text>,
    #[serde(default = "yes_no")]
    kind: String,
    #[serde(default)]
    options: Vec<Choice>,
    unit: Option<String>,
    min: Option<f64>,
    max: Option<f64>,
    ask_if: Option<String>,
}

fn yes_no() -> String {
    "yes-no".into()
}

impl RawQuestion {
    fn kind(&self) -> Result<QuestionKind, String> {
        match self.kind.as_str() {
            "yes-no" => Ok(QuestionKind::YesNo),
            "choice" => {
                if self.options.len() < 2 {
                    return Err("a choice needs at least two options".into());
                }
                for o in &self.options {
                    if !valid_id(&o.id)
                        && !o
                            .id
                            .chars()
                            .all(|c| c.is_ascii_lowercase() || c == '-' || c.is_ascii_digit())
                    {
                        return Err(format!("option id \"{}\" is not a plain id", o.id));
                    }
                    nonempty(&o.text).map_err(|m| format!("option {}: {m}", o.id))?;
                }
                Ok(QuestionKind::Choice(self.options.clone()))
            }
            "number" => {
                let (Some(min), Some(max)) = (self.min, self.max) else {
                    return Err("a number needs min and max".into());
                };
                if min >= max {
                    return Err("min must be below max".into());
                }
                Ok(QuestionKind::Number {
                    unit: self.unit.clone().unwrap_or_default(),
                    min,
                    max,
                })
            }
            other => Err(format!("unknown kind \"{other}\" (yes-no, choice, number)")),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    #[serde(rename = "if")]
    condition: Option<String>,
    level: Level,
    modality: Option<Modality>,
    because: Text,
    source: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSelfCare {
    #[serde(default)]
    advice: Texts,
    #[serde(default)]
    safety_net: Texts,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawEmergency {
    #[serde(default)]
    while_waiting: Texts,
}
