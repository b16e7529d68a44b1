//! Symptom triage: a patient names what is wrong, answers focused questions (red flags
//! first) and gets an explainable urgency (emergency now, urgent, routine, self-care) with
//! the right kind of visit.
//!
//! The clinical content is data: one protocol file per presenting complaint under
//! `protocols/`, each rule naming the published guidance it follows, and case vignettes
//! under `vignettes/` (see `PROTOCOLS.md`). This crate has no I/O: an [`Interview`] is
//! the answers so far, replayed against its protocol at each step, so a server stores it
//! anywhere (Carefront keeps it as a FHIR QuestionnaireResponse) and any instance can take
//! the next step.

pub mod emergency;
pub mod expr;
mod interview;
mod library;
pub mod matching;
pub mod protocol;
pub mod vignettes;

use serde::{Deserialize, Serialize};

pub use interview::{
    Answer, AnswerError, Asked, Condition, Explained, Interview, Outcome, Patient, Sex, Step,
};
pub use library::{Library, Match, Understood};
pub use protocol::{Protocol, ProtocolError, Question, QuestionKind, Text};

/// The content compiled into the binary.
mod content {
    include!(concat!(env!("OUT_DIR"), "/content.rs"));
}

/// How urgently to seek care, lowest first (so `max` is the most urgent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    SelfCare,
    Routine,
    Urgent,
    Emergency,
}

impl Level {
    pub const ALL: [Level; 4] = [
        Level::Emergency,
        Level::Urgent,
        Level::Routine,
        Level::SelfCare,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Level::SelfCare => "self-care",
            Level::Routine => "routine",
            Level::Urgent => "urgent",
            Level::Emergency => "emergency",
        }
    }

    pub fn parse(code: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.code() == code)
    }

    /// How soon care is needed, in words.
    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Level::Emergency, Lang::En) => "Emergency: get help now",
            (Level::Emergency, Lang::Fr) => "Urgence : appelez les secours maintenant",
            (Level::Urgent, Lang::En) => "Urgent: be seen today",
            (Level::Urgent, Lang::Fr) => "Urgent : consultez aujourd'hui",
            (Level::Routine, Lang::En) => "Routine: be seen within a few days",
            (Level::Routine, Lang::Fr) => "Non urgent : consultez dans les prochains jours",
            (Level::SelfCare, Lang::En) => "Self-care: look after yourself at home",
            (Level::SelfCare, Lang::Fr) => "Soins à domicile : prenez soin de vous",
        }
    }

    /// Within how many hours a visit should happen (booking offers slots up to then).
    pub fn within_hours(self) -> Option<u32> {
        match self {
            Level::Emergency => None,
            Level::Urgent => Some(24),
            Level::Routine => Some(24 * 14),
            Level::SelfCare => Some(24 * 30),
        }
    }
}

/// Where care should happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Modality {
    /// Emergency services or the emergency department.
    Emergency,
    Video,
    InClinic,
    Home,
}

impl Modality {
    pub fn code(self) -> &'static str {
        match self {
            Modality::Emergency => "emergency",
            Modality::Video => "video",
            Modality::InClinic => "in-clinic",
            Modality::Home => "home",
        }
    }

    pub fn parse(code: &str) -> Option<Modality> {
        [
            Modality::Emergency,
            Modality::Video,
            Modality::InClinic,
            Modality::Home,
        ]
        .into_iter()
        .find(|m| m.code() == code)
    }
}

/// The languages protocols are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    Fr,
}

impl Lang {
    /// `fr`, `fr-FR`, `fr_CA`... are French; anything else English.
    pub fn parse(tag: &str) -> Lang {
        if tag.to_ascii_lowercase().starts_with("fr") {
            Lang::Fr
        } else {
            Lang::En
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }
}

/// The SNOMED CT specialty a visit is booked in when a protocol names none.
pub const GENERAL_PRACTICE: &str = "394814009";
/// Offered first to children when the protocol's specialty is general practice.
pub const PAEDIATRICS: &str = "394537008";
