//! All protocols, and recognising which one a typed complaint is about.

use std::sync::OnceLock;

use crate::matching;
use crate::protocol::{Protocol, ProtocolError};

/// What typed text was understood as.
#[derive(Debug, Clone)]
pub enum Understood<'a> {
    /// One complaint clearly fits best.
    One(&'a Protocol),
    /// Several fit equally well: the patient chooses (best first).
    Several(Vec<&'a Protocol>),
    /// Nothing fits: the patient picks from the list.
    Nothing,
}

/// A complaint the typed text may be about.
#[derive(Debug, Clone)]
pub struct Match<'a> {
    pub protocol: &'a Protocol,
    pub score: f64,
}

pub struct Library {
    protocols: Vec<Protocol>,
    /// Per protocol, its synonyms and titles in both languages, split into folded words.
    phrases: Vec<Vec<Vec<String>>>,
}

impl Library {
    /// Builds a library from `(id, file text)` pairs; every file's errors are reported.
    pub fn parse(files: &[(&str, &str)]) -> Result<Library, Vec<ProtocolError>> {
        let mut protocols = Vec::new();
        let mut errors = Vec::new();
        for (id, text) in files {
            match Protocol::parse(id, text) {
                Ok(p) => protocols.push(p),
                Err(e) => errors.push(e),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let phrases = protocols
            .iter()
            .map(|p| {
                p.synonyms_en
                    .iter()
                    .chain(&p.synonyms_fr)
                    .chain([&p.title.en, &p.title.fr])
                    .map(|s| matching::words(s))
                    .filter(|w| !w.is_empty())
                    .collect()
            })
            .collect();
        Ok(Library { protocols, phrases })
    }

    /// The protocols compiled into this binary.
    pub fn embedded() -> Result<Library, Vec<ProtocolError>> {
        Library::parse(crate::content::PROTOCOLS)
    }

    /// The embedded library, loaded once. Panics on a broken protocol file, which the
    /// crate's tests refuse to let through.
    pub fn shared() -> &'static Library {
        static SHARED: OnceLock<Library> = OnceLock::new();
        SHARED.get_or_init(|| {
            Library::embedded().unwrap_or_else(|errors| {
                let list: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
                panic!("triage protocols do not load:\n{}", list.join("\n"))
            })
        })
    }

    pub fn get(&self, id: &str) -> Option<&Protocol> {
        self.protocols.iter().find(|p| p.id == id)
    }

    /// Every protocol, in file-name order.
    pub fn all(&self) -> &[Protocol] {
        &self.protocols
    }

    /// The protocols for a patient of this age.
    pub fn for_age(&self, age_years: f64) -> impl Iterator<Item = &Protocol> {
        self.protocols
            .iter()
            .filter(move |p| p.ages.admits(age_years))
    }

    /// The complaint `text` is about, if one fits best; else the ones to choose from.
    pub fn understand(&self, text: &str, age_years: Option<f64>) -> Understood<'_> {
        let found = self.recognise(text, age_years, 5);
        match found.as_slice() {
            [] => Understood::Nothing,
            [best, rest @ ..] if rest.first().is_none_or(|next| best.score > next.score) => {
                Understood::One(best.protocol)
            }
            several => {
                let top = several[0].score;
                Understood::Several(
                    several
                        .iter()
                        .filter(|m| m.score >= top - 2.0)
                        .map(|m| m.protocol)
                        .collect(),
                )
            }
        }
    }

    /// The complaints `text` may be about, best first (at most `limit`), among those for
    /// a patient of `age_years` (all ages when `None`).
    pub fn recognise(&self, text: &str, age_years: Option<f64>, limit: usize) -> Vec<Match<'_>> {
        let typed = matching::Typed::new(text);
        if typed.is_empty() {
            return Vec::new();
        }
        let mut found: Vec<Match<'_>> = self
            .protocols
            .iter()
            .zip(&self.phrases)
            .filter(|(p, _)| age_years.is_none_or(|age| p.ages.admits(age)))
            .filter_map(|(protocol, phrases)| {
                let score = phrases
                    .iter()
                    .filter_map(|phrase| typed.score(phrase))
                    .fold(None, |best: Option<f64>, s| {
                        Some(best.map_or(s, |b| b.max(s)))
                    })?;
                Some(Match { protocol, score })
            })
            .collect();
        found.sort_by(|a, b| b.score.total_cmp(&a.score));
        found.truncate(limit);
        found
    }
}
