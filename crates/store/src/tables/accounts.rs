//! Accounts: who may sign in, with which role, linked to which FHIR resource.

use crate::sql::Bind;
use crate::{Store, StoreError, StoreResult};

use super::{flag, int, opt_int, opt_text, statement, text};

#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    pub id: String,
    /// Lower-cased, unique.
    pub email: String,
    /// `patient`, `practitioner`, `pharmacist`, `dispatcher`, `employer-admin`, `administrator`.
    pub role: String,
    pub display_name: String,
    /// An argon2id PHC string; never logged.
    pub password_hash: String,
    pub email_confirmed: bool,
    pub disabled: bool,
    /// `Patient/…` or `Practitioner/…`.
    pub fhir_ref: Option<String>,
    pub totp_secret: Option<String>,
    pub totp_last_step: Option<i64>,
    pub locale: String,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, email, role, display_name, password_hash, email_confirmed, disabled, \
     fhir_ref, totp_secret, totp_last_step, locale, created_at, updated_at";

fn from_row(row: &[crate::Cell]) -> StoreResult<Account> {
    Ok(Account {
        id: text(row, 0)?,
        email: text(row, 1)?,
        role: text(row, 2)?,
        display_name: text(row, 3)?,
        password_hash: text(row, 4)?,
        email_confirmed: flag(row, 5),
        disabled: flag(row, 6),
        fhir_ref: opt_text(row, 7),
        totp_secret: opt_text(row, 8),
        totp_last_step: opt_int(row, 9),
        locale: text(row, 10)?,
        created_at: int(row, 11)?,
        updated_at: int(row, 12)?,
    })
}

/// Store a new account. An account with the same email answers [`StoreError::Conflict`].
pub async fn insert(store: &dyn Store, a: &Account) -> StoreResult<()> {
    let s = statement(
        super::dialect(store),
        &format!("INSERT INTO accounts ({COLUMNS}) VALUES ({{}}, {{}}, {{}}, {{}}, {{}}, {{}}, {{}}, {{}}, {{}}, {{}}, {{}}, {{}}, {{}})"),
        vec![
            Bind::Text(a.id.clone()),
            Bind::Text(a.email.clone()),
            Bind::Text(a.role.clone()),
            Bind::Text(a.display_name.clone()),
            Bind::Text(a.password_hash.clone()),
            Bind::Bool(a.email_confirmed),
            Bind::Bool(a.disabled),
            Bind::OptText(a.fhir_ref.clone()),
            Bind::OptText(a.totp_secret.clone()),
            Bind::OptInt(a.totp_last_step),
            Bind::Text(a.locale.clone()),
            Bind::Int(a.created_at),
            Bind::Int(a.updated_at),
        ],
    );
    store.execute(s).await.map(|_| ())
}

/// Save every field of an existing account (matched by id).
pub async fn update(store: &dyn Store, a: &Account) -> StoreResult<()> {
    let s = statement(
        super::dialect(store),
        "UPDATE accounts SET email = {}, role = {}, display_name = {}, password_hash = {}, \
         email_confirmed = {}, disabled = {}, fhir_ref = {}, totp_secret = {}, \
         totp_last_step = {}, locale = {}, updated_at = {} WHERE id = {}",
        vec![
            Bind::Text(a.email.clone()),
            Bind::Text(a.role.clone()),
            Bind::Text(a.display_name.clone()),
            Bind::Text(a.password_hash.clone()),
            Bind::Bool(a.email_confirmed),
            Bind::Bool(a.disabled),
            Bind::OptText(a.fhir_ref.clone()),
            Bind::OptText(a.totp_secret.clone()),
            Bind::OptInt(a.totp_last_step),
            Bind::Text(a.locale.clone()),
            Bind::Int(a.updated_at),
            Bind::Text(a.id.clone()),
        ],
    );
    match store.execute(s).await? {
        0 => Err(StoreError::Conflict(format!(
            "account {} does not exist",
            a.id
        ))),
        _ => Ok(()),
    }
}

pub async fn by_id(store: &dyn Store, id: &str) -> StoreResult<Option<Account>> {
    one(store, "id", id).await
}

pub async fn by_email(store: &dyn Store, email: &str) -> StoreResult<Option<Account>> {
    one(store, "email", email).await
}

async fn one(store: &dyn Store, column: &str, value: &str) -> StoreResult<Option<Account>> {
    let s = statement(
        super::dialect(store),
        &format!("SELECT {COLUMNS} FROM accounts WHERE {column} = {{}}"),
        vec![Bind::Text(value.to_owned())],
    );
    store
        .query(s)
        .await?
        .first()
        .map(|row| from_row(row))
        .transpose()
}

/// Accounts ordered by email, optionally of one role, a page at a time.
pub async fn list(
    store: &dyn Store,
    role: Option<&str>,
    limit: usize,
    offset: usize,
) -> StoreResult<Vec<Account>> {
    let mut s = super::sql(store);
    s.push("SELECT ").push(COLUMNS).push(" FROM accounts");
    if let Some(role) = role {
        s.push(" WHERE role = ").bind_text(role);
    }
    s.push(" ORDER BY email LIMIT ")
        .bind_int(limit as i64)
        .push(" OFFSET ")
        .bind_int(offset as i64);
    store.query(s).await?.iter().map(|r| from_row(r)).collect()
}
