//! Case vignettes: short patient stories with the outcome a clinician following the
//! guidance expects, and a scripted patient that answers the engine's questions from the
//! story. The same stories run through the engine here, through the HTTP interview API in
//! the server's tests and in `carefront bench triage`.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

use crate::protocol::{Question, QuestionKind};
use crate::{Condition, Interview, Lang, Level, Library, Modality, Patient, Sex, Step, Understood};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vignette {
    pub id: String,
    pub story: String,
    pub age: Option<f64>,
    pub age_months: Option<u32>,
    pub sex: Sex,
    #[serde(default)]
    pub pregnant: bool,
    #[serde(default)]
    pub conditions: Vec<Condition>,
    pub says: String,
    #[serde(default)]
    pub lang: Lang,
    #[serde(default)]
    pub yes: Vec<String>,
    #[serde(default)]
    pub unsure: Vec<String>,
    #[serde(default)]
    pub answers: BTreeMap<String, toml::Value>,
    pub expect: Level,
    pub expect_modality: Option<Modality>,
    /// The protocol file the case is in (set when loaded).
    #[serde(skip)]
    pub protocol: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VignetteFile {
    case: Vec<Vignette>,
}

impl Vignette {
    pub fn patient(&self) -> Patient {
        let months = self
            .age_months
            .unwrap_or_else(|| (self.age.unwrap_or(0.0) * 12.0).round() as u32);
        Patient {
            age_months: months,
            sex: self.sex,
            pregnant: self.pregnant,
            conditions: self.conditions.clone(),
        }
    }

    /// The scripted patient's reply to `question`, as a form or the API would send it.
    pub fn reply(&self, question_id: &str, kind: &QuestionKind) -> Result<String, String> {
        if let Some(value) = self.answers.get(question_id) {
            return Ok(match value {
                toml::Value::String(s) => s.clone(),
                toml::Value::Integer(n) => n.to_string(),
                toml::Value::Float(f) => f.to_string(),
                toml::Value::Boolean(true) => "yes".into(),
                toml::Value::Boolean(false) => "no".into(),
                other => format!("{other:?}"),
            });
        }
        match kind {
            QuestionKind::YesNo if self.yes.iter().any(|q| q == question_id) => Ok("yes".into()),
            QuestionKind::YesNo if self.unsure.iter().any(|q| q == question_id) => {
                Ok("unsure".into())
            }
            QuestionKind::YesNo => Ok("no".into()),
            _ => Err(format!(
                "{}: the story does not say how to answer \"{question_id}\"",
                self.id
            )),
        }
    }

    /// The complaint the patient means, given what their words were understood as: when
    /// several fit, the patient picks theirs from the list, as on the page.
    pub fn choose<'a>(&self, understood: &Understood<'a>) -> Result<&'a crate::Protocol, String> {
        let candidates: Vec<&crate::Protocol> = match understood {
            Understood::One(p) => vec![*p],
            Understood::Several(list) => list.clone(),
            Understood::Nothing => Vec::new(),
        };
        match candidates.iter().find(|p| p.id == self.protocol) {
            Some(p) if matches!(understood, Understood::One(_)) || candidates.len() <= 5 => Ok(p),
            _ => Err(format!(
                "{}: \"{}\" is understood as {:?}, not {}",
                self.id,
                self.says,
                candidates.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
                self.protocol
            )),
        }
    }

    /// Runs the story through the engine: the outcome, or why the script broke.
    pub fn run(&self, library: &Library) -> Result<(Level, Option<Modality>, usize), String> {
        let understood = library.understand(&self.says, Some(self.patient().age_years()));
        let protocol = self.choose(&understood)?;
        let mut interview = Interview::new(protocol, self.patient());
        loop {
            match interview.step(protocol) {
                Step::Ask(asked) => {
                    let q: &Question = asked.question;
                    let reply = self.reply(&q.id, &q.kind)?;
                    interview
                        .answer(protocol, &q.id, &reply)
                        .map_err(|e| format!("{}: {e}", self.id))?;
                }
                Step::Done(outcome) => {
                    return Ok((outcome.level, outcome.modality, interview.answers.len()))
                }
            }
        }
    }
}

/// Every vignette compiled into this binary, with their protocol set.
pub fn embedded() -> Result<Vec<Vignette>, String> {
    parse(crate::content::VIGNETTES)
}

pub fn parse(files: &[(&str, &str)]) -> Result<Vec<Vignette>, String> {
    let mut out = Vec::new();
    for (protocol, text) in files {
        let file: VignetteFile =
            toml::from_str(text).map_err(|e| format!("vignettes/{protocol}.toml: {e}"))?;
        for mut case in file.case {
            case.protocol = protocol.to_string();
            out.push(case);
        }
    }
    Ok(out)
}

/// What a run of the suite found, per expected level.
#[derive(Debug, Default)]
pub struct Report {
    /// expected level → (cases, correct)
    pub per_level: BTreeMap<Level, (usize, usize)>,
    pub under_triaged: usize,
    pub over_triaged: usize,
    /// Emergencies given a lower level: must be zero.
    pub emergencies_missed: usize,
    pub modality_wrong: usize,
    /// Lines describing each miss or broken script.
    pub misses: Vec<String>,
    pub broken: usize,
}

impl Report {
    pub fn record(&mut self, case: &Vignette, got: Result<(Level, Option<Modality>), String>) {
        let entry = self.per_level.entry(case.expect).or_default();
        entry.0 += 1;
        match got {
            Err(why) => {
                self.broken += 1;
                if case.expect == Level::Emergency {
                    self.emergencies_missed += 1;
                }
                self.misses.push(why);
            }
            Ok((level, modality)) => {
                if level == case.expect {
                    entry.1 += 1;
                    if let Some(expected) = case.expect_modality {
                        if modality != Some(expected) {
                            self.modality_wrong += 1;
                            self.misses.push(format!(
                                "{}: modality {:?}, expected {:?}",
                                case.id, modality, expected
                            ));
                        }
                    }
                } else {
                    if level < case.expect {
                        self.under_triaged += 1;
                        if case.expect == Level::Emergency {
                            self.emergencies_missed += 1;
                        }
                    } else {
                        self.over_triaged += 1;
                    }
                    self.misses.push(format!(
                        "{}: {} expected, engine said {}",
                        case.id,
                        case.expect.code(),
                        level.code()
                    ));
                }
            }
        }
    }

    pub fn cases(&self) -> usize {
        self.per_level.values().map(|(n, _)| n).sum()
    }

    pub fn correct(&self) -> usize {
        self.per_level.values().map(|(_, c)| c).sum()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<12} {:>6} {:>8} {:>9}",
            "expected", "cases", "correct", "accuracy"
        )?;
        for level in Level::ALL {
            let (n, c) = self.per_level.get(&level).copied().unwrap_or_default();
            let pct = if n == 0 {
                0.0
            } else {
                100.0 * c as f64 / n as f64
            };
            writeln!(f, "{:<12} {n:>6} {c:>8} {pct:>8.1}%", level.code())?;
        }
        let (n, c) = (self.cases(), self.correct());
        writeln!(
            f,
            "{:<12} {n:>6} {c:>8} {:>8.1}%",
            "all",
            if n == 0 {
                0.0
            } else {
                100.0 * c as f64 / n as f64
            }
        )?;
        writeln!(
            f,
            "under-triaged {} (emergencies under-triaged {}), over-triaged {}, modality differs {}, scripts broken {}",
            self.under_triaged, self.emergencies_missed, self.over_triaged, self.modality_wrong, self.broken
        )?;
        for miss in &self.misses {
            writeln!(f, "  {miss}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole suite through the engine: every protocol loads, no emergency is missed,
    /// and the accuracy per level is printed (`cargo test -p carefront-triage -- --nocapture`).
    #[test]
    fn vignette_suite() {
        let library = Library::embedded().unwrap_or_else(|errors| {
            panic!(
                "{}",
                errors
                    .iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        });
        let cases = embedded().unwrap();
        let mut report = Report::default();
        for case in &cases {
            report.record(case, case.run(&library).map(|(l, m, _)| (l, m)));
        }
        println!("{report}");
        assert!(
            library.all().len() >= 40,
            "{} protocols",
            library.all().len()
        );
        assert!(cases.len() >= 120, "{} vignettes", cases.len());
        assert_eq!(report.emergencies_missed, 0, "{report}");
        assert_eq!(report.broken, 0, "{report}");
        assert!(report.misses.is_empty(), "{report}");
    }

    #[test]
    fn every_protocol_has_vignettes_at_each_of_its_levels() {
        let library = Library::embedded().unwrap();
        let cases = embedded().unwrap();
        for protocol in library.all() {
            let mine: Vec<_> = cases.iter().filter(|c| c.protocol == protocol.id).collect();
            assert!(
                mine.len() >= 3,
                "{} has {} vignettes",
                protocol.id,
                mine.len()
            );
            assert!(
                mine.iter().any(|c| c.expect >= Level::Urgent),
                "{} has no urgent or emergency vignette",
                protocol.id
            );
        }
    }

    #[test]
    fn patients_speak_french_too() {
        // The suite recognises their French words (a miss fails `vignette_suite`); here, that
        // enough stories are told in French to mean something.
        let cases = embedded().unwrap();
        let french = cases.iter().filter(|c| c.lang == Lang::Fr).count();
        assert!(french >= 15, "{french} French vignettes");
    }
}
