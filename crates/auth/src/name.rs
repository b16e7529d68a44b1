//! A person's name as given at sign-up: the given and family parts, each checked on its own so
//! the error can say which one is wrong.

use std::fmt;

/// Given and family name, each trimmed, 1–100 characters, with no control characters and no
/// bidirectional-override characters (which can make a name display as something else).
///
/// Characters such as `'`, `-` or `<` are allowed: O'Brien is a name, and escaping for HTML is
/// the job of whatever renders it. Personal data, so `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct PersonName {
    given: String,
    family: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NamePart {
    Given,
    Family,
}

impl fmt::Display for NamePart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NamePart::Given => "given name",
            NamePart::Family => "family name",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("a {0} is required")]
    Empty(NamePart),
    #[error("a {part} has at most {max} characters")]
    TooLong { part: NamePart, max: usize },
    #[error("a {0} cannot contain control or text-direction characters")]
    ForbiddenCharacter(NamePart),
}

const MAX_CHARS: usize = 100;

impl PersonName {
    pub fn parse(given: &str, family: &str) -> Result<Self, NameError> {
        Ok(Self {
            given: part(given, NamePart::Given)?,
            family: part(family, NamePart::Family)?,
        })
    }

    pub fn given(&self) -> &str {
        &self.given
    }

    pub fn family(&self) -> &str {
        &self.family
    }

    /// "Given Family", for greetings and the account's display name.
    pub fn display_name(&self) -> String {
        format!("{} {}", self.given, self.family)
    }
}

fn part(raw: &str, which: NamePart) -> Result<String, NameError> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(NameError::Empty(which));
    }
    if s.chars().count() > MAX_CHARS {
        return Err(NameError::TooLong {
            part: which,
            max: MAX_CHARS,
        });
    }
    if s.chars().any(|c| c.is_control() || is_bidi_control(c)) {
        return Err(NameError::ForbiddenCharacter(which));
    }
    Ok(s.to_owned())
}

/// Embedding, override and isolate controls (U+202A–U+202E, U+2066–U+2069).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

impl fmt::Debug for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PersonName(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::{NameError, NamePart, PersonName};

    #[test]
    fn trims_and_keeps_real_names() {
        let n = PersonName::parse("  Siobhán ", " O'Brien-Ní Dhuibhir").unwrap();
        assert_eq!(n.given(), "Siobhán");
        assert_eq!(n.family(), "O'Brien-Ní Dhuibhir");
        assert_eq!(n.display_name(), "Siobhán O'Brien-Ní Dhuibhir");
        assert!(PersonName::parse("李", "小龙").is_ok());
    }

    #[test]
    fn length_is_counted_in_characters() {
        assert!(PersonName::parse(&"é".repeat(100), "X").is_ok());
        assert_eq!(
            PersonName::parse("X", &"é".repeat(101)).unwrap_err(),
            NameError::TooLong {
                part: NamePart::Family,
                max: 100
            }
        );
    }

    #[test]
    fn says_which_part_is_wrong() {
        assert_eq!(
            PersonName::parse(" ", "Lovelace").unwrap_err(),
            NameError::Empty(NamePart::Given)
        );
        assert_eq!(
            PersonName::parse("Ada", "").unwrap_err(),
            NameError::Empty(NamePart::Family)
        );
        assert_eq!(
            PersonName::parse("Ada\u{0}", "Lovelace").unwrap_err(),
            NameError::ForbiddenCharacter(NamePart::Given)
        );
        assert_eq!(
            PersonName::parse("Ada", "Love\u{202E}ecal").unwrap_err(),
            NameError::ForbiddenCharacter(NamePart::Family)
        );
        assert_eq!(
            PersonName::parse("", "x").unwrap_err().to_string(),
            "a given name is required"
        );
    }

    #[test]
    fn debug_hides_the_name() {
        let n = PersonName::parse("Ada", "Lovelace").unwrap();
        assert!(!format!("{n:?}").contains("Ada"));
    }
}
