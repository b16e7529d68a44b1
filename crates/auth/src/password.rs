//! A new password that meets the policy. Only passwords being *set* (sign-up, reset, change)
//! are parsed; a sign-in compares whatever was typed against the stored hash, so tightening
//! the policy never locks anyone out.

use crate::email::EmailAddress;
use crate::secret::Secret;

/// A password that passed the policy: 12 to 128 characters, not one character repeated, not
/// the account's email address. Kept exactly as typed (no trimming: a trailing space is part
/// of a password) and wrapped in a [`Secret`], so it never prints.
#[derive(Clone, Debug)]
pub struct Password(Secret<String>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("a password needs at least {min} characters")]
    TooShort { min: usize },
    // The upper bound keeps a multi-megabyte "password" from being fed to the hash.
    #[error("a password has at most {max} characters")]
    TooLong { max: usize },
    #[error("a password cannot be one character repeated")]
    OneCharacterRepeated,
    #[error("a password cannot be your email address")]
    SameAsEmail,
}

pub const MIN_PASSWORD_CHARS: usize = 12;
pub const MAX_PASSWORD_CHARS: usize = 128;

impl Password {
    pub fn parse(candidate: &str, email: &EmailAddress) -> Result<Self, PasswordError> {
        let chars = candidate.chars().count();
        if chars < MIN_PASSWORD_CHARS {
            return Err(PasswordError::TooShort {
                min: MIN_PASSWORD_CHARS,
            });
        }
        if chars > MAX_PASSWORD_CHARS {
            return Err(PasswordError::TooLong {
                max: MAX_PASSWORD_CHARS,
            });
        }
        let mut it = candidate.chars();
        let first = it.next();
        if it.all(|c| Some(c) == first) {
            return Err(PasswordError::OneCharacterRepeated);
        }
        if candidate.trim().to_lowercase() == email.as_str().to_lowercase() {
            return Err(PasswordError::SameAsEmail);
        }
        Ok(Self(Secret::new(candidate.to_owned())))
    }

    pub fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }
}

#[cfg(test)]
mod tests {
    use super::{Password, PasswordError};
    use crate::email::EmailAddress;

    fn email() -> EmailAddress {
        EmailAddress::parse("ada.lovelace@example.com").unwrap()
    }

    fn check(p: &str) -> Result<Password, PasswordError> {
        Password::parse(p, &email())
    }

    #[test]
    fn accepts_a_good_passphrase_as_typed() {
        let p = check(" correct horse battery ").unwrap();
        assert_eq!(p.expose_secret(), " correct horse battery ");
        assert!(check("ünïcödé-pässwörd").is_ok());
    }

    #[test]
    fn length_bounds_are_in_characters() {
        assert_eq!(
            check("abcdefghijk").unwrap_err(),
            PasswordError::TooShort { min: 12 }
        );
        assert!(check("abcdefghijkl").is_ok());
        assert!(check(&"ab".repeat(64)).is_ok());
        assert_eq!(
            check(&("ab".repeat(64) + "c")).unwrap_err(),
            PasswordError::TooLong { max: 128 }
        );
        // 11 two-byte characters are 22 bytes but still too short.
        assert_eq!(
            check(&"é".repeat(11)).unwrap_err(),
            PasswordError::TooShort { min: 12 }
        );
    }

    #[test]
    fn rejects_repetition_and_the_email() {
        assert_eq!(
            check("aaaaaaaaaaaaaaaa").unwrap_err(),
            PasswordError::OneCharacterRepeated
        );
        assert_eq!(
            check("ADA.LOVELACE@EXAMPLE.COM").unwrap_err(),
            PasswordError::SameAsEmail
        );
        assert_eq!(
            check("ada.lovelace@example.com").unwrap_err().to_string(),
            "a password cannot be your email address"
        );
        assert!(check("ada.lovelace@example.com!").is_ok());
    }

    #[test]
    fn debug_never_shows_it() {
        let p = check("correct horse battery").unwrap();
        assert!(!format!("{p:?}").contains("horse"));
    }
}
