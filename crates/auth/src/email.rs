//! An email address that has been checked once, at the edge, so the rest of the code can take
//! `&EmailAddress` and never re-check a string.

use std::fmt;

/// A syntactically sane email address: trimmed, one `@`, no spaces or control characters, a
/// dotted domain that is stored lower-cased (domains are case-insensitive; the local part may
/// not be, so it is kept as typed).
///
/// It is personal data: `Debug` hides it and there is no `Display`, so putting one in a log
/// line takes a deliberate `as_str()`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct EmailAddress(String);

/// Why a string is not an email address. Messages never repeat the input: they may be logged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("an email address is required")]
    Empty,
    #[error("an email address has at most {max} characters")]
    TooLong { max: usize },
    #[error("an email address cannot contain spaces")]
    ContainsWhitespace,
    #[error("an email address cannot contain control characters")]
    ControlCharacter,
    #[error("an email address needs exactly one @")]
    NotOneAt,
    #[error("the part before the @ is empty")]
    EmptyLocalPart,
    #[error("the part before the @ has at most {max} characters")]
    LocalPartTooLong { max: usize },
    #[error("the part before the @ has a character or dot that is not allowed")]
    InvalidLocalPart,
    #[error("the part after the @ is not a valid domain such as example.com")]
    InvalidDomain,
}

/// RFC 5321 limits (in octets): 254 for the whole address as used in a path, 64 for the local
/// part, 253 for a domain and 63 for one of its labels.
const MAX_LEN: usize = 254;
const MAX_LOCAL: usize = 64;
const MAX_DOMAIN: usize = 253;
const MAX_LABEL: usize = 63;

impl EmailAddress {
    pub fn parse(input: &str) -> Result<Self, EmailError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(EmailError::Empty);
        }
        if s.len() > MAX_LEN {
            return Err(EmailError::TooLong { max: MAX_LEN });
        }
        if s.chars().any(char::is_whitespace) {
            return Err(EmailError::ContainsWhitespace);
        }
        if s.chars().any(char::is_control) {
            return Err(EmailError::ControlCharacter);
        }
        let (local, domain) = match s.split_once('@') {
            Some((l, d)) if !d.contains('@') => (l, d),
            _ => return Err(EmailError::NotOneAt),
        };
        if local.is_empty() {
            return Err(EmailError::EmptyLocalPart);
        }
        if local.len() > MAX_LOCAL {
            return Err(EmailError::LocalPartTooLong { max: MAX_LOCAL });
        }
        // Quoted local parts and their specials are legal but practically unused, and they are
        // what header-injection and parser-confusion tricks are made of.
        if local.starts_with('.')
            || local.ends_with('.')
            || local.contains("..")
            || local.chars().any(|c| "\"(),:;<>[\\]".contains(c))
        {
            return Err(EmailError::InvalidLocalPart);
        }
        let domain = domain.to_lowercase();
        if !is_domain(&domain) {
            return Err(EmailError::InvalidDomain);
        }
        Ok(Self(format!("{local}@{domain}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn local_part(&self) -> &str {
        self.split().0
    }

    pub fn domain(&self) -> &str {
        self.split().1
    }

    fn split(&self) -> (&str, &str) {
        // parse() guarantees exactly one '@'.
        self.0.split_once('@').unwrap_or((&self.0, ""))
    }
}

/// A dotted host name: labels of letters, digits and inner hyphens (letters may be non-ASCII
/// for internationalised domains), and a top-level label that is not all digits, which keeps
/// out bare IP addresses.
fn is_domain(d: &str) -> bool {
    if d.is_empty() || d.len() > MAX_DOMAIN || !d.contains('.') {
        return false;
    }
    let labels_ok = d.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= MAX_LABEL
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_alphanumeric() || c == '-')
    });
    let tld = d.rsplit('.').next().unwrap_or("");
    labels_ok && !tld.chars().all(|c| c.is_ascii_digit())
}

impl AsRef<str> for EmailAddress {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EmailAddress(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::{EmailAddress, EmailError};

    fn ok(s: &str) -> String {
        EmailAddress::parse(s).unwrap().as_str().to_owned()
    }

    fn err(s: &str) -> EmailError {
        EmailAddress::parse(s).unwrap_err()
    }

    #[test]
    fn accepts_ordinary_addresses_trimmed_with_lower_cased_domain() {
        assert_eq!(
            ok("  Ada.Lovelace+care@Example.ORG \n"),
            "Ada.Lovelace+care@example.org"
        );
        assert_eq!(ok("x@sub.example.co.uk"), "x@sub.example.co.uk");
        assert_eq!(ok("zoë@bücher.de"), "zoë@bücher.de");
        let e = EmailAddress::parse("Ada@Example.com").unwrap();
        assert_eq!(e.local_part(), "Ada");
        assert_eq!(e.domain(), "example.com");
    }

    #[test]
    fn rejects_with_the_reason() {
        assert_eq!(err("   "), EmailError::Empty);
        assert_eq!(
            err("ada lovelace@example.com"),
            EmailError::ContainsWhitespace
        );
        assert_eq!(err("ada\u{7}@example.com"), EmailError::ControlCharacter);
        assert_eq!(err("ada.example.com"), EmailError::NotOneAt);
        assert_eq!(err("ada@b@example.com"), EmailError::NotOneAt);
        assert_eq!(err("@example.com"), EmailError::EmptyLocalPart);
        assert_eq!(err(".ada@example.com"), EmailError::InvalidLocalPart);
        assert_eq!(err("a..da@example.com"), EmailError::InvalidLocalPart);
        assert_eq!(err("<ada>@example.com"), EmailError::InvalidLocalPart);
        for bad in [
            "ada@",
            "ada@localhost",
            "ada@example..com",
            "ada@-example.com",
            "ada@example.com.",
            "ada@exa_mple.com",
            "ada@10.0.0.1",
        ] {
            assert_eq!(err(bad), EmailError::InvalidDomain, "{bad}");
        }
    }

    #[test]
    fn enforces_length_limits() {
        let local = "a".repeat(64);
        assert!(EmailAddress::parse(&format!("{local}@example.com")).is_ok());
        assert_eq!(
            err(&format!("a{local}@example.com")),
            EmailError::LocalPartTooLong { max: 64 }
        );
        let long_domain = format!("{}.com", vec!["a".repeat(61); 4].join("."));
        assert_eq!(
            err(&format!("ada@{long_domain}")),
            EmailError::TooLong { max: 254 }
        );
        let long_label = format!("ada@{}.com", "a".repeat(64));
        assert_eq!(err(&long_label), EmailError::InvalidDomain);
    }

    #[test]
    fn debug_and_errors_do_not_leak_the_address() {
        let e = EmailAddress::parse("secret.person@example.com").unwrap();
        assert!(!format!("{e:?}").contains("secret"));
        let msg = err("secret person@example.com").to_string();
        assert!(!msg.contains("secret"), "{msg}");
        assert_eq!(msg, "an email address cannot contain spaces");
    }
}
