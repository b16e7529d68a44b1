//! The plain tables: what has no home in FHIR (accounts, sessions, one-time links, OAuth2
//! clients and tokens, the mail outbox, sign-in failures and the audit chain).
//!
//! Each module is written once against [`Store::execute`] and [`Store::query`], so both
//! backends share it; values are always bound, never interpolated.

pub mod accounts;
pub mod audit;
pub mod clients;
pub mod login_failures;
pub mod one_time;
pub mod outbox;
pub mod sessions;

use sha2::{Digest, Sha256};

use crate::sql::{Dialect, Sql};
use crate::{Cell, Store, StoreError, StoreResult};

/// A new statement in the store's dialect.
pub(crate) fn sql(store: &dyn Store) -> Sql {
    Sql::new(dialect(store))
}

pub(crate) fn dialect(store: &dyn Store) -> Dialect {
    Dialect::of(store.backend())
}

pub(crate) use crate::sql::statement;

/// A fresh random secret: 32 bytes from the operating system, hex-encoded.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).expect("the operating system provides randomness");
    hex(&bytes)
}

/// SHA-256 of `value`, hex-encoded: what is stored in place of a token.
pub fn sha256_hex(value: &str) -> String {
    hex(&Sha256::digest(value.as_bytes()))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 15) as usize] as char);
    }
    out
}

/// Read cell `i` of a row as text, failing clearly when the schema and code disagree.
pub(crate) fn text(row: &[Cell], i: usize) -> StoreResult<String> {
    row.get(i)
        .and_then(Cell::text)
        .map(str::to_owned)
        .ok_or_else(|| StoreError::Database(format!("column {i} is not text")))
}

pub(crate) fn opt_text(row: &[Cell], i: usize) -> Option<String> {
    row.get(i).and_then(Cell::text).map(str::to_owned)
}

pub(crate) fn int(row: &[Cell], i: usize) -> StoreResult<i64> {
    row.get(i)
        .and_then(Cell::int)
        .ok_or_else(|| StoreError::Database(format!("column {i} is not an integer")))
}

pub(crate) fn opt_int(row: &[Cell], i: usize) -> Option<i64> {
    row.get(i).and_then(Cell::int)
}

pub(crate) fn flag(row: &[Cell], i: usize) -> bool {
    row.get(i).is_some_and(Cell::bool)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::Bind;

    #[test]
    fn statement_binds_in_order() {
        let s = statement(
            Dialect::Postgres,
            "SELECT a FROM t WHERE b = {} AND c = {}",
            vec![Bind::Int(1), Bind::Text("x".into())],
        );
        assert_eq!(s.text, "SELECT a FROM t WHERE b = $1 AND c = $2");
    }

    #[test]
    fn tokens_are_random_and_hashes_stable() {
        assert_ne!(random_token(), random_token());
        assert_eq!(random_token().len(), 64);
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
