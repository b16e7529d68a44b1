//! Password hashing: argon2id with the OWASP-recommended parameters, stored as PHC strings
//! (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`) so that each hash carries the parameters it
//! was made with and old hashes keep verifying after the parameters change.

use std::fmt;

use argon2::password_hash::{self, SaltString};
use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};

use crate::password::Password;
use crate::random::{random_bytes, RandomError};

/// OWASP Password Storage Cheat Sheet: argon2id, 19 MiB of memory, 2 passes, 1 lane.
pub const MEMORY_KIB: u32 = 19_456;
pub const ITERATIONS: u32 = 2;
pub const PARALLELISM: u32 = 1;
const OUTPUT_LEN: usize = 32;
const SALT_LEN: usize = 16;

/// A stored password hash in PHC string form. Not a secret in the strict sense, but it is what
/// an offline guessing attack starts from, so `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error(transparent)]
    Random(#[from] RandomError),
    #[error("password hashing failed: {0}")]
    Argon2(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the stored password hash is not a PHC string")]
pub struct PasswordHashParseError;

impl PasswordHash {
    /// Accepts a PHC string as read back from the database.
    pub fn parse(phc: &str) -> Result<Self, PasswordHashParseError> {
        password_hash::PasswordHash::new(phc).map_err(|_| PasswordHashParseError)?;
        Ok(Self(phc.to_owned()))
    }

    /// The PHC string, for storing.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

fn current_params() -> Params {
    // The constants are valid argon2 parameters; a failure here is a programming error that
    // the tests catch.
    Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, Some(OUTPUT_LEN))
        .expect("argon2 parameters are valid")
}

/// Hashes a new password with a fresh random salt. Slow on purpose (tens of milliseconds in a
/// release build): run it off the async executor.
pub fn hash_password(password: &Password) -> Result<PasswordHash, HashError> {
    hash_with(current_params(), password.expose_secret().as_bytes())
}

fn hash_with(params: Params, secret: &[u8]) -> Result<PasswordHash, HashError> {
    let salt = SaltString::encode_b64(&random_bytes::<SALT_LEN>()?)
        .map_err(|e| HashError::Argon2(e.to_string()))?;
    let hash = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(secret, &salt)
        .map_err(|e| HashError::Argon2(e.to_string()))?;
    Ok(PasswordHash(hash.to_string()))
}

/// True when `candidate` is the password behind `hash`. The parameters are read from the hash
/// itself, and the comparison of the outputs is constant-time (`password-hash`'s `Output`).
/// The candidate is not policy-checked: see [`Password`].
pub fn verify_password(candidate: &str, hash: &PasswordHash) -> bool {
    match password_hash::PasswordHash::new(&hash.0) {
        Ok(parsed) => Argon2::default()
            .verify_password(candidate.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// True when `hash` was made with another algorithm or other parameters than today's: after a
/// successful sign-in the caller hashes the password again and stores the new hash.
pub fn needs_rehash(hash: &PasswordHash) -> bool {
    let Ok(parsed) = password_hash::PasswordHash::new(&hash.0) else {
        return true;
    };
    if parsed.algorithm != Algorithm::Argon2id.ident() || parsed.version != Some(0x13) {
        return true;
    }
    let Ok(params) = Params::try_from(&parsed) else {
        return true;
    };
    let want = current_params();
    params.m_cost() != want.m_cost()
        || params.t_cost() != want.t_cost()
        || params.p_cost() != want.p_cost()
        || params.output_len() != want.output_len()
}

/// A hash of a random, forgotten password, made with the current parameters.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$EYdNtTILDcDayy6Y5VI+eQ$\
                          ERVkDo+xQh4NHunYiCR2kqk0jKUQP542Ze9EPyxW0/s";

/// Spends the time of one verification without an account to check against, so that a
/// sign-in for an unknown email takes as long as one with a wrong password and response times
/// do not reveal which addresses have accounts. Always false.
pub fn verify_password_without_account(candidate: &str) -> bool {
    let dummy = PasswordHash(DUMMY_HASH.to_owned());
    let _ = verify_password(candidate, &dummy);
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::email::EmailAddress;

    fn cheap() -> Params {
        Params::new(8, 1, 1, Some(OUTPUT_LEN)).unwrap()
    }

    #[test]
    fn hash_then_verify_with_the_real_parameters() {
        // The one test that pays for the real parameters (two argon2 runs at 19 MiB).
        let email = EmailAddress::parse("ada@example.com").unwrap();
        let pw = Password::parse("correct horse battery", &email).unwrap();
        let hash = hash_password(&pw).unwrap();
        assert!(hash.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(!needs_rehash(&hash));
        assert!(verify_password("correct horse battery", &hash));
        assert!(PasswordHash::parse(hash.as_str()).is_ok());
    }

    #[test]
    fn wrong_candidates_fail_and_salts_differ() {
        let a = hash_with(cheap(), b"correct horse battery").unwrap();
        let b = hash_with(cheap(), b"correct horse battery").unwrap();
        assert_ne!(a, b, "each hash has its own salt");
        assert!(verify_password("correct horse battery", &a));
        assert!(verify_password("correct horse battery", &b));
        assert!(!verify_password("correct horse batterY", &a));
        assert!(!verify_password("", &a));
        assert!(!verify_password("correct horse battery ", &a));
    }

    #[test]
    fn old_parameters_or_algorithms_need_a_rehash() {
        let old = hash_with(cheap(), b"correct horse battery").unwrap();
        assert!(needs_rehash(&old));
        // Still verifies: the parameters come from the stored string.
        assert!(verify_password("correct horse battery", &old));
        let argon2i = "$argon2i$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$\
                       CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc";
        assert!(needs_rehash(&PasswordHash::parse(argon2i).unwrap()));
    }

    #[test]
    fn any_changed_parameter_needs_a_rehash() {
        // Edited copies of a current hash: needs_rehash reads only the PHC fields.
        let current = DUMMY_HASH;
        let edited = |from: &str, to: &str| {
            assert!(current.contains(from));
            PasswordHash::parse(&current.replacen(from, to, 1)).unwrap()
        };
        assert!(!needs_rehash(&edited("m=19456,t=2,p=1", "m=19456,t=2,p=1")));
        assert!(needs_rehash(&edited("m=19456,t=2,p=1", "m=19456,t=3,p=1")));
        assert!(needs_rehash(&edited("m=19456,t=2,p=1", "m=65536,t=2,p=1")));
        assert!(needs_rehash(&edited("m=19456,t=2,p=1", "m=19456,t=2,p=2")));
        assert!(needs_rehash(&edited("v=19", "v=16")));
        // A 16-byte output instead of 32 (22 characters, the last with its low bits zero).
        let (head, output) = current.rsplit_once('$').unwrap();
        let short = PasswordHash::parse(&format!("{head}${}A", &output[..21])).unwrap();
        assert!(needs_rehash(&short));
    }

    #[test]
    fn parse_refuses_non_phc_and_debug_hides_the_hash() {
        assert_eq!(
            PasswordHash::parse("not a hash"),
            Err(PasswordHashParseError)
        );
        let h = hash_with(cheap(), b"x").unwrap();
        assert_eq!(format!("{h:?}"), "PasswordHash(<redacted>)");
        assert!(!verify_password("x", &PasswordHash("garbage".into())));
    }

    #[test]
    fn the_dummy_hash_is_current_and_never_matches() {
        let dummy = PasswordHash::parse(DUMMY_HASH).unwrap();
        assert!(
            !needs_rehash(&dummy),
            "regenerate DUMMY_HASH for the new parameters"
        );
        assert!(!verify_password_without_account("correct horse battery"));
    }
}
