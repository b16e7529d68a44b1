//! Reading posted forms and turning what is wrong with them into translated messages shown
//! next to each field. Pure: no I/O, so it is unit-tested here.

use std::collections::BTreeMap;

use carefront_auth::{BirthDateError, EmailError, NameError, PasswordError};
use serde::de::DeserializeOwned;

use super::i18n::translate;

/// An `application/x-www-form-urlencoded` body as `T`; missing fields take their defaults (so
/// every form struct derives `Default` and uses `#[serde(default)]`).
pub fn parse<T: DeserializeOwned + Default>(body: &[u8]) -> T {
    serde_urlencoded::from_bytes(body).unwrap_or_default()
}

/// What is wrong with a form, field by field, already translated; rendered next to the field
/// (with `aria-describedby`) and summarised at the top of the form (`role="alert"`).
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct FieldErrors(BTreeMap<&'static str, String>);

impl FieldErrors {
    pub fn add(&mut self, field: &'static str, message: String) {
        self.0.entry(field).or_insert(message);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }
}

/// A translated message with `{name}` placeholders filled in.
pub fn message(lang: &str, key: &str, args: &[(&str, String)]) -> String {
    let mut text = translate(lang, key).into_owned();
    for (name, value) in args {
        text = text.replace(&format!("{{{name}}}"), value);
    }
    text
}

pub fn email_error(lang: &str, e: &EmailError) -> String {
    let (key, args): (&str, Vec<(&str, String)>) = match e {
        EmailError::Empty => ("form.email.empty", vec![]),
        EmailError::TooLong { max } | EmailError::LocalPartTooLong { max } => {
            ("form.email.too_long", vec![("max", max.to_string())])
        }
        EmailError::ContainsWhitespace => ("form.email.spaces", vec![]),
        _ => ("form.email.invalid", vec![]),
    };
    message(lang, key, &args)
}

pub fn password_error(lang: &str, e: &PasswordError) -> String {
    match e {
        PasswordError::TooShort { min } => {
            message(lang, "form.password.too_short", &[("min", min.to_string())])
        }
        PasswordError::TooLong { max } => {
            message(lang, "form.password.too_long", &[("max", max.to_string())])
        }
        PasswordError::OneCharacterRepeated => message(lang, "form.password.repeated", &[]),
        PasswordError::SameAsEmail => message(lang, "form.password.same_as_email", &[]),
    }
}

/// The field a name error belongs to, and its message.
pub fn name_error(lang: &str, e: &NameError) -> (&'static str, String) {
    use carefront_auth::NamePart;
    let part = |p: &NamePart| match p {
        NamePart::Given => "given",
        NamePart::Family => "family",
    };
    match e {
        NameError::Empty(p) => (part(p), message(lang, "form.name.empty", &[])),
        NameError::TooLong { part: p, max } => (
            part(p),
            message(lang, "form.name.too_long", &[("max", max.to_string())]),
        ),
        NameError::ForbiddenCharacter(p) => (part(p), message(lang, "form.name.forbidden", &[])),
    }
}

pub fn birth_date_error(lang: &str, e: &BirthDateError) -> String {
    let key = match e {
        BirthDateError::Format => "form.birth_date.format",
        BirthDateError::NoSuchDay => "form.birth_date.no_such_day",
        BirthDateError::InFuture => "form.birth_date.future",
        BirthDateError::TooEarly => "form.birth_date.too_early",
    };
    message(lang, key, &[])
}

/// A phone number as people type it: digits with spaces, dots, dashes, brackets and a
/// leading `+`; 4 to 20 digits. Empty means "no phone". Kept as typed (trimmed).
pub fn phone(input: &str) -> Result<Option<String>, &'static str> {
    let t = input.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let allowed =
        |(i, c): (usize, char)| c.is_ascii_digit() || " .-()".contains(c) || (c == '+' && i == 0);
    if !t.char_indices().all(allowed) {
        return Err("form.phone.invalid");
    }
    let digits = t.chars().filter(char::is_ascii_digit).count();
    if !(4..=20).contains(&digits) {
        return Err("form.phone.invalid");
    }
    Ok(Some(t.to_owned()))
}

/// A free-text field such as an address line: trimmed, at most `max` characters, no control
/// characters. Empty means "not given".
pub fn free_text(input: &str, max: usize) -> Result<Option<String>, &'static str> {
    let t = input.trim();
    if t.is_empty() {
        return Ok(None);
    }
    if t.chars().count() > max {
        return Err("form.text.too_long");
    }
    if t.chars().any(char::is_control) {
        return Err("form.text.forbidden");
    }
    Ok(Some(t.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Default)]
    #[serde(default)]
    struct SignUp {
        email: String,
        given: String,
    }

    #[test]
    fn forms_parse_with_missing_fields_defaulted() {
        let f: SignUp = parse(b"email=ada%40example.com&other=1");
        assert_eq!(f.email, "ada@example.com");
        assert_eq!(f.given, "");
        let f: SignUp = parse(b"given=Ren%C3%A9+Jean");
        assert_eq!(f.given, "René Jean");
        let garbage: SignUp = parse(&[0xff, 0xfe]);
        assert_eq!(garbage.email, "");
    }

    #[test]
    fn errors_are_translated_with_their_numbers() {
        let en = password_error("en", &PasswordError::TooShort { min: 12 });
        assert!(en.contains("12"), "{en}");
        let fr = password_error("fr", &PasswordError::TooShort { min: 12 });
        assert!(fr.contains("12") && fr != en, "{fr}");
        let (field, _) = name_error("en", &NameError::Empty(carefront_auth::NamePart::Family));
        assert_eq!(field, "family");
        assert!(!email_error("fr", &EmailError::NotOneAt).starts_with("form."));
        assert!(!birth_date_error("fr", &BirthDateError::InFuture).starts_with("form."));
    }

    #[test]
    fn the_first_error_of_a_field_is_kept() {
        let mut e = FieldErrors::default();
        assert!(e.is_empty());
        e.add("email", "first".into());
        e.add("email", "second".into());
        assert_eq!(e.get("email"), Some("first"));
        assert_eq!(e.get("password"), None);
    }

    #[test]
    fn phones_are_checked_loosely_and_kept_as_typed() {
        assert_eq!(phone("  "), Ok(None));
        assert_eq!(
            phone(" +33 6 12-34.56 78 ").unwrap().as_deref(),
            Some("+33 6 12-34.56 78")
        );
        assert_eq!(phone("(555) 0100").unwrap().as_deref(), Some("(555) 0100"));
        assert!(phone("12").is_err());
        assert!(phone("06 12 + 34").is_err());
        assert!(phone("call me").is_err());
        assert!(phone(&"1".repeat(21)).is_err());
    }

    #[test]
    fn free_text_is_trimmed_and_bounded() {
        assert_eq!(
            free_text(" 1 rue de la Paix ", 10),
            Err("form.text.too_long")
        );
        assert_eq!(free_text(" Lyon ", 10).unwrap().as_deref(), Some("Lyon"));
        assert_eq!(free_text("a\u{0}b", 10), Err("form.text.forbidden"));
        assert_eq!(free_text("", 10), Ok(None));
    }
}
