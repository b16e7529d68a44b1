//! Recognising the complaint a patient typed: "chest pian", "mal à l'oreille", "nose bleed".
//!
//! Text and synonyms are folded (lower case, no accents, no punctuation) into words; a
//! synonym matches when each of its words is found in the text, exactly or within a small
//! edit distance that grows with the word's length, or as two adjacent typed words written
//! together ("ear ache" for "earache"). Longer synonyms matched more exactly score higher.

/// Lower case, accents removed, anything but letters and digits turned into spaces.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => out.push('a'),
            'ç' => out.push('c'),
            'è' | 'é' | 'ê' | 'ë' => out.push('e'),
            'ì' | 'í' | 'î' | 'ï' => out.push('i'),
            'ñ' => out.push('n'),
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' => out.push('o'),
            'ù' | 'ú' | 'û' | 'ü' => out.push('u'),
            'ý' | 'ÿ' => out.push('y'),
            'œ' => out.push_str("oe"),
            'æ' => out.push_str("ae"),
            c if c.is_alphanumeric() => out.push(c),
            _ => out.push(' '),
        }
    }
    out
}

/// Words too common to tell complaints apart.
const STOP_WORDS: &[&str] = &[
    "i", "a", "an", "the", "my", "have", "has", "got", "and", "of", "in", "on", "is", "it", "me",
    "im", "am", "been", "having", "feel", "feeling", "very", "really", "some", "with", "j", "ai",
    "je", "le", "la", "les", "l", "un", "une", "des", "de", "du", "d", "et", "au", "aux", "mon",
    "ma", "mes", "suis", "tres", "est", "a",
];

/// Folded words, without stop words.
pub fn words(text: &str) -> Vec<String> {
    fold(text)
        .split_whitespace()
        .filter(|w| !STOP_WORDS.contains(w))
        .map(str::to_string)
        .collect()
}

/// How many edits a word of this length may carry and still count.
fn tolerance(len: usize) -> usize {
    match len {
        0..=3 => 0,
        4..=6 => 1,
        _ => 2,
    }
}

/// Typed text, ready to be matched against many phrases: its words and each pair of
/// adjacent words written together, with a memo of the words already looked up (synonyms
/// share many words).
pub struct Typed {
    candidates: Vec<String>,
    memo: std::cell::RefCell<std::collections::HashMap<String, Option<usize>>>,
}

impl Typed {
    pub fn new(text: &str) -> Typed {
        let words = words(text);
        let mut candidates = words.clone();
        candidates.extend(
            words
                .windows(2)
                .map(|pair| format!("{}{}", pair[0], pair[1])),
        );
        Typed {
            candidates,
            memo: Default::default(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.candidates.is_empty()
    }

    /// The best cost (0 = exact) at which `word` appears, if it does.
    fn find(&self, word: &str) -> Option<usize> {
        if let Some(known) = self.memo.borrow().get(word) {
            return *known;
        }
        let length = word.chars().count();
        let allowed = tolerance(length);
        let best = self
            .candidates
            .iter()
            // Lengths further apart than the tolerance cannot be within it.
            .filter(|c| c.chars().count().abs_diff(length) <= allowed)
            .map(|c| strsim::osa_distance(word, c))
            .filter(|d| *d <= allowed)
            .min();
        self.memo.borrow_mut().insert(word.to_string(), best);
        best
    }

    /// How well `synonym` (already split into words) matches; `None` if some word of the
    /// synonym is missing.
    pub fn score(&self, synonym: &[String]) -> Option<f64> {
        if synonym.is_empty() {
            return None;
        }
        let mut total = 0.0;
        for word in synonym {
            let cost = self.find(word)?;
            total += word.chars().count() as f64 - 1.5 * cost as f64;
        }
        Some(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str, synonym: &str) -> Option<f64> {
        Typed::new(text).score(&words(synonym))
    }

    #[test]
    fn folds_accents_and_punctuation() {
        assert_eq!(fold("Mal à l'OREILLE!"), "mal a l oreille ");
        assert_eq!(fold("cœur"), "coeur");
    }

    #[test]
    fn forgives_small_misspellings_in_long_words() {
        assert!(s("chest pian", "chest pain").is_some());
        assert!(s("dizzyness", "dizziness").is_some());
        // Short words must be exact: "ear" is not "eye".
        assert!(s("eye", "ear").is_none());
    }

    #[test]
    fn joins_split_words() {
        assert!(s("nose bleed", "nosebleed").is_some());
        assert!(s("ear ache", "earache").is_some());
    }

    #[test]
    fn exact_beats_approximate_and_longer_beats_shorter() {
        let exact = s("chest pain", "chest pain").unwrap();
        let approximate = s("chest pian", "chest pain").unwrap();
        assert!(exact > approximate);
        assert!(s("chest pain", "chest pain").unwrap() > s("chest pain", "pain").unwrap());
    }
}
