//! Time-based one-time passwords for staff sign-in (RFC 6238 with the defaults every
//! authenticator app assumes: HMAC-SHA-1, 30-second steps, 6 digits).

use hmac::{Hmac, Mac};
use sha1::Sha1;
use time::OffsetDateTime;

use crate::base32;
use crate::email::EmailAddress;
use crate::random::{random_bytes, RandomError};
use crate::secret::Secret;

pub const STEP_SECONDS: i64 = 30;
pub const DIGITS: u32 = 6;
/// 160 bits, the length RFC 4226 recommends (and the HMAC-SHA-1 block it keys).
const SECRET_LEN: usize = 20;
/// RFC 4226's minimum, 128 bits, for secrets read back from storage.
const MIN_SECRET_LEN: usize = 16;
const ISSUER: &str = "Carefront";

/// A shared TOTP secret. Never printed; `expose_base32` is for storing it and for showing it
/// once, at enrolment, to someone who cannot scan the QR code.
#[derive(Clone, Debug)]
pub struct TotpSecret(Secret<Vec<u8>>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TotpSecretError {
    #[error("the TOTP secret is not base32: {0}")]
    Base32(#[from] base32::Base32Error),
    #[error("the TOTP secret is shorter than {min} bytes")]
    TooShort { min: usize },
}

/// Why a code was refused. For the audit log; the person signing in should be told only that
/// the code was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TotpRejection {
    #[error("the code is not six digits")]
    Malformed,
    #[error("the code does not match")]
    Wrong,
    #[error("the code was already used")]
    Replayed,
}

impl TotpSecret {
    /// A fresh 20-byte secret from the operating system's random number generator.
    pub fn generate() -> Result<Self, RandomError> {
        Ok(Self(Secret::new(random_bytes::<SECRET_LEN>()?.to_vec())))
    }

    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, TotpSecretError> {
        if bytes.len() < MIN_SECRET_LEN {
            return Err(TotpSecretError::TooShort {
                min: MIN_SECRET_LEN,
            });
        }
        Ok(Self(Secret::new(bytes)))
    }

    /// Reads back the form `expose_base32` wrote (case and padding are forgiven).
    pub fn from_base32(text: &str) -> Result<Self, TotpSecretError> {
        Self::from_bytes(base32::decode(text)?)
    }

    /// Base32 without padding: for the database, and for manual entry in an authenticator.
    pub fn expose_base32(&self) -> String {
        base32::encode(self.0.expose_secret())
    }

    /// The key URI an authenticator app reads from the enrolment QR code:
    /// `otpauth://totp/Carefront:{email}?secret=…&issuer=Carefront`. It contains the secret.
    pub fn provisioning_uri(&self, account: &EmailAddress) -> Secret<String> {
        Secret::new(format!(
            "otpauth://totp/{ISSUER}:{}?secret={}&issuer={ISSUER}",
            percent_encode(account.as_str()),
            self.expose_base32()
        ))
    }

    /// The code an authenticator shows at `at`: for tests and tools that have to sign in as
    /// staff, not for the server's own checks.
    pub fn code_at(&self, at: OffsetDateTime) -> Option<String> {
        time_step(at).map(|step| self.code_for_step(step))
    }

    fn code_for_step(&self, step: u64) -> String {
        let code = hotp(self.0.expose_secret(), step, DIGITS);
        format!("{code:0width$}", width = DIGITS as usize)
    }

    /// Checks a code typed at `at`. The steps just before and after the current one are
    /// accepted too (clock drift, and the seconds it takes to type), but only steps after
    /// `last_accepted_step`, so a code cannot be used twice and an older code is dead once a
    /// newer one was accepted. On success returns the step to store as the new last one.
    pub fn verify(
        &self,
        candidate: &str,
        at: OffsetDateTime,
        last_accepted_step: Option<u64>,
    ) -> Result<u64, TotpRejection> {
        // Apps show "123 456"; people type it that way.
        let typed: String = candidate.chars().filter(|c| *c != ' ').collect();
        if typed.len() != DIGITS as usize || !typed.bytes().all(|b| b.is_ascii_digit()) {
            return Err(TotpRejection::Malformed);
        }
        let now = time_step(at).ok_or(TotpRejection::Wrong)?;
        let mut accepted = None;
        let mut replayed = false;
        // All three windows are always computed, so the time taken says nothing about which
        // one matched.
        for step in [now.checked_sub(1), Some(now), now.checked_add(1)]
            .into_iter()
            .flatten()
        {
            if constant_time_eq(self.code_for_step(step).as_bytes(), typed.as_bytes()) {
                if last_accepted_step.is_some_and(|last| step <= last) {
                    replayed = true;
                } else {
                    accepted = Some(step);
                }
            }
        }
        match (accepted, replayed) {
            (Some(step), _) => Ok(step),
            (None, true) => Err(TotpRejection::Replayed),
            (None, false) => Err(TotpRejection::Wrong),
        }
    }
}

/// The RFC 6238 time step of `at`; none before the Unix epoch.
pub fn time_step(at: OffsetDateTime) -> Option<u64> {
    u64::try_from(at.unix_timestamp().div_euclid(STEP_SECONDS)).ok()
}

/// RFC 4226 HOTP: HMAC-SHA-1 of the big-endian counter, dynamic truncation, modulo 10^digits.
fn hotp(secret: &[u8], counter: u64, digits: u32) -> u32 {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(&counter.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let offset = usize::from(h[19] & 0x0f);
    let binary =
        u32::from_be_bytes([h[offset], h[offset + 1], h[offset + 2], h[offset + 3]]) & 0x7fff_ffff;
    binary % 10u32.pow(digits)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Percent-encodes everything but RFC 3986's unreserved characters and `@`, which key URI
/// labels conventionally leave as is.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_SECRET: &[u8] = b"12345678901234567890";

    fn at(unix: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(unix).unwrap()
    }

    fn rfc_secret() -> TotpSecret {
        TotpSecret::from_bytes(RFC_SECRET.to_vec()).unwrap()
    }

    /// RFC 6238 appendix B, the SHA-1 rows: (time, 8-digit TOTP).
    const RFC_6238_SHA1: [(i64, u32); 6] = [
        (59, 94_287_082),
        (1_111_111_109, 7_081_804),
        (1_111_111_111, 14_050_471),
        (1_234_567_890, 89_005_924),
        (2_000_000_000, 69_279_037),
        (20_000_000_000, 65_353_130),
    ];

    #[test]
    fn rfc_6238_sha1_vectors() {
        let secret = rfc_secret();
        for (t, expected8) in RFC_6238_SHA1 {
            let step = time_step(at(t)).unwrap();
            assert_eq!(hotp(RFC_SECRET, step, 8), expected8, "t={t}");
            let six = format!("{:06}", expected8 % 1_000_000);
            assert_eq!(secret.code_at(at(t)).unwrap(), six, "t={t}");
            assert_eq!(secret.verify(&six, at(t), None), Ok(step), "t={t}");
        }
    }

    #[test]
    fn rfc_4226_hotp_vectors() {
        let expected = [
            755_224, 287_082, 359_152, 969_429, 338_314, 254_676, 287_922, 162_583, 399_871,
            520_489,
        ];
        for (counter, want) in expected.into_iter().enumerate() {
            assert_eq!(
                hotp(RFC_SECRET, counter as u64, 6),
                want,
                "counter {counter}"
            );
        }
    }

    #[test]
    fn accepts_one_step_either_side_and_no_further() {
        let s = rfc_secret();
        let t = 1_111_111_111;
        let now = time_step(at(t)).unwrap();
        for (offset, ok) in [(-2, false), (-1, true), (0, true), (1, true), (2, false)] {
            let code = s.code_for_step((now as i64 + offset) as u64);
            let got = s.verify(&code, at(t), None);
            if ok {
                assert_eq!(got, Ok((now as i64 + offset) as u64), "offset {offset}");
            } else {
                assert_eq!(got, Err(TotpRejection::Wrong), "offset {offset}");
            }
        }
    }

    #[test]
    fn refuses_reuse_and_older_codes_after_a_newer_one() {
        let s = rfc_secret();
        let t = 1_234_567_890;
        let code = s.code_at(at(t)).unwrap();
        let step = s.verify(&code, at(t), None).unwrap();
        assert_eq!(
            s.verify(&code, at(t + 5), Some(step)),
            Err(TotpRejection::Replayed)
        );
        let previous = s.code_for_step(step - 1);
        assert_eq!(
            s.verify(&previous, at(t), Some(step)),
            Err(TotpRejection::Replayed)
        );
        let next = s.code_at(at(t + 30)).unwrap();
        assert_eq!(s.verify(&next, at(t + 30), Some(step)), Ok(step + 1));
    }

    #[test]
    fn malformed_codes_and_spaces() {
        let s = rfc_secret();
        let t = 59;
        assert_eq!(s.verify("287 082", at(t), None), Ok(1));
        for bad in ["", "28708", "2870821", "28708a", "２８７０８２"] {
            assert_eq!(
                s.verify(bad, at(t), None),
                Err(TotpRejection::Malformed),
                "{bad:?}"
            );
        }
        assert_eq!(s.verify("000000", at(t), None), Err(TotpRejection::Wrong));
        assert_eq!(time_step(at(-1)), None);
    }

    #[test]
    fn secrets_generate_encode_and_read_back() {
        let s = TotpSecret::generate().unwrap();
        let b32 = s.expose_base32();
        assert_eq!(b32.len(), 32, "20 bytes are 32 base32 characters");
        assert_ne!(b32, TotpSecret::generate().unwrap().expose_base32());
        let back = TotpSecret::from_base32(&b32.to_lowercase()).unwrap();
        assert_eq!(back.expose_base32(), b32);
        assert_eq!(
            TotpSecret::from_base32("GEZDGNBVGY3TQOJQ").unwrap_err(),
            TotpSecretError::TooShort { min: 16 }
        );
        assert!(matches!(
            TotpSecret::from_base32("not base32!"),
            Err(TotpSecretError::Base32(_))
        ));
        assert!(!format!("{s:?}").contains(&b32));
    }

    #[test]
    fn provisioning_uri_for_the_qr_code() {
        let email = EmailAddress::parse("Ada+staff@Example.org").unwrap();
        let uri = rfc_secret().provisioning_uri(&email);
        assert_eq!(
            uri.expose_secret(),
            "otpauth://totp/Carefront:Ada%2Bstaff@example.org\
             ?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Carefront"
        );
        assert_eq!(format!("{uri}"), "[REDACTED]");
    }
}
