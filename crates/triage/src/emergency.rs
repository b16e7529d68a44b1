//! Which number to call in an emergency, by country (ISO 3166 alpha-2).
//!
//! Sources: European Emergency Number Association (112 across the EU), France's SAMU (15)
//! and 112, North America's 911, the UK's 999 and 112.

/// The number to call first and, where a second one works too, that one.
pub fn numbers(country: &str) -> (&'static str, Option<&'static str>) {
    match country.to_ascii_uppercase().as_str() {
        "US" | "CA" | "MX" | "PR" => ("911", None),
        "FR" => ("15", Some("112")),
        "GB" | "UK" | "IE" => ("999", Some("112")),
        "AU" => ("000", Some("112")),
        "NZ" => ("111", None),
        _ => ("112", None),
    }
}

/// "Call 15 (or 112)" in the patient's language.
pub fn call(country: &str, lang: crate::Lang) -> String {
    let (first, second) = numbers(country);
    match (lang, second) {
        (crate::Lang::En, Some(s)) => format!("Call {first} (or {s}) now."),
        (crate::Lang::En, None) => format!("Call {first} now."),
        (crate::Lang::Fr, Some(s)) => format!("Appelez le {first} (ou le {s}) maintenant."),
        (crate::Lang::Fr, None) => format!("Appelez le {first} maintenant."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_country() {
        assert_eq!(numbers("us").0, "911");
        assert_eq!(numbers("FR"), ("15", Some("112")));
        assert_eq!(numbers("DE").0, "112");
        assert_eq!(
            call("FR", crate::Lang::Fr),
            "Appelez le 15 (ou le 112) maintenant."
        );
    }
}
