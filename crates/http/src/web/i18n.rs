//! Translations of the web pages. Strings live in `locales/<lang>.toml`; a key missing in a
//! language falls back to English, and a key missing everywhere shows itself (so it is seen and
//! fixed rather than silently blank).

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::http::{header, HeaderMap};

/// The languages the pages are written in; the first is the default.
pub const LANGUAGES: [&str; 2] = ["en", "fr"];

const SOURCES: [(&str, &str); 2] = [
    ("en", include_str!("../../locales/en.toml")),
    ("fr", include_str!("../../locales/fr.toml")),
];

type Catalog = HashMap<&'static str, HashMap<String, String>>;

fn catalogs() -> &'static Catalog {
    static CATALOGS: OnceLock<Catalog> = OnceLock::new();
    CATALOGS.get_or_init(|| {
        SOURCES
            .iter()
            .map(|(lang, text)| {
                // The files are part of the build and tested: a broken one is a bug.
                let strings: HashMap<String, String> =
                    toml::from_str(text).unwrap_or_else(|e| panic!("locales/{lang}.toml: {e}"));
                (*lang, strings)
            })
            .collect()
    })
}

/// `key` in `lang`, else in English, else the key itself.
pub fn translate<'a>(lang: &str, key: &'a str) -> std::borrow::Cow<'a, str> {
    let all = catalogs();
    all.get(lang)
        .and_then(|c| c.get(key))
        .or_else(|| all.get("en").and_then(|c| c.get(key)))
        .map(|s| std::borrow::Cow::Owned(s.clone()))
        .unwrap_or(std::borrow::Cow::Borrowed(key))
}

/// The page language: `?lang=` first, then the `lang` cookie, then Accept-Language.
pub fn choose(query_lang: Option<&str>, headers: &HeaderMap) -> &'static str {
    let supported = |l: &str| LANGUAGES.iter().copied().find(|s| l.starts_with(s));
    if let Some(l) = query_lang.and_then(supported) {
        return l;
    }
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().strip_prefix("lang="))
        .find_map(supported);
    if let Some(l) = cookie {
        return l;
    }
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.split(',')
                .map(|part| {
                    part.split(';')
                        .next()
                        .unwrap_or("")
                        .trim()
                        .to_ascii_lowercase()
                })
                .find_map(|l| supported(&l))
        })
        .unwrap_or(LANGUAGES[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_english_key_is_translated_to_french() {
        let all = catalogs();
        let missing: Vec<&String> = all["en"]
            .keys()
            .filter(|k| !all["fr"].contains_key(*k))
            .collect();
        assert!(missing.is_empty(), "missing in fr.toml: {missing:?}");
        let extra: Vec<&String> = all["fr"]
            .keys()
            .filter(|k| !all["en"].contains_key(*k))
            .collect();
        assert!(extra.is_empty(), "in fr.toml but not en.toml: {extra:?}");
    }

    #[test]
    fn falls_back_to_english_then_to_the_key() {
        assert_eq!(translate("fr", "nav.home"), "Accueil");
        assert_eq!(translate("de", "nav.home"), "Home");
        assert_eq!(translate("en", "no.such.key"), "no.such.key");
    }

    #[test]
    fn language_comes_from_query_then_cookie_then_header() {
        let mut h = HeaderMap::new();
        assert_eq!(choose(None, &h), "en");
        h.insert(
            header::ACCEPT_LANGUAGE,
            "fr-FR,fr;q=0.9,en;q=0.5".parse().unwrap(),
        );
        assert_eq!(choose(None, &h), "fr");
        h.insert(header::COOKIE, "theme=x; lang=en".parse().unwrap());
        assert_eq!(choose(None, &h), "en");
        assert_eq!(choose(Some("fr"), &h), "fr");
        assert_eq!(choose(Some("xx"), &h), "en");
    }
}
