//! Cross-site request forgery protection for every form. Signed-in forms carry the session's
//! token; forms shown before sign-in use a double-submit cookie (another site can make a
//! browser post a form, but it can neither read nor set our cookie, so it cannot make the
//! field match). SameSite=Lax cookies are a second line of defence, not the only one.

use axum::http::{HeaderMap, HeaderValue};
use carefront_store::tables::random_token;

use super::session::{cookie, same_token, set_cookie, SignedIn, CSRF_COOKIE};
use crate::AppState;

/// How long an anonymous form token lives; a form older than this asks for a reload.
const ANON_LIFETIME_SECS: i64 = 12 * 3600;

/// The token for an anonymous form: the visitor's cookie if it is well-formed, else a new
/// one together with the `Set-Cookie` to send.
pub fn anon_token(state: &AppState, headers: &HeaderMap) -> (String, Option<HeaderValue>) {
    match cookie(headers, CSRF_COOKIE).filter(|t| well_formed(t)) {
        Some(t) => (t.to_owned(), None),
        None => {
            let t = random_token();
            let set = set_cookie(state, CSRF_COOKIE, &t, ANON_LIFETIME_SECS);
            (t, Some(set))
        }
    }
}

/// An anonymous form is genuine when its `csrf` field equals the cookie.
pub fn anon_ok(headers: &HeaderMap, field: &str) -> bool {
    cookie(headers, CSRF_COOKIE).is_some_and(|c| token_matches(c, field))
}

/// A signed-in form is genuine when its `csrf` field equals the session's token.
pub fn session_ok(who: &SignedIn, field: &str) -> bool {
    token_matches(&who.session.csrf_token, field)
}

/// Pure core of both checks: a non-empty, well-formed token equal to the expected one.
pub fn token_matches(expected: &str, field: &str) -> bool {
    well_formed(expected) && same_token(expected, field)
}

/// Our tokens are 64 hex digits; anything else (empty, tampered) is refused up front.
fn well_formed(t: &str) -> bool {
    t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::header;

    #[test]
    fn the_field_must_equal_a_well_formed_token() {
        let t = random_token();
        assert!(token_matches(&t, &t));
        assert!(!token_matches(&t, ""));
        assert!(!token_matches(&t, &random_token()));
        assert!(!token_matches("", ""), "empty never matches");
        assert!(!token_matches("abc", "abc"), "short tokens are not ours");
    }

    #[test]
    fn anonymous_forms_compare_the_field_with_the_cookie() {
        let t = random_token();
        let mut h = HeaderMap::new();
        assert!(!anon_ok(&h, &t), "no cookie, no post");
        h.insert(
            header::COOKIE,
            format!("lang=fr; {CSRF_COOKIE}={t}").parse().unwrap(),
        );
        assert!(anon_ok(&h, &t));
        assert!(!anon_ok(&h, &random_token()));
    }
}
