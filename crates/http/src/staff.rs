//! Creating a staff account: shared by `carefront account create` and the administrator's
//! practitioner page, so both check and store it the same way.

use carefront_auth::{EmailAddress, Password, Role};
use carefront_store::repository::now_micros;
use carefront_store::tables::accounts::{self, Account};
use carefront_store::{Store, StoreError};

/// A staff account to create; its parts are already parsed.
pub struct NewStaff {
    pub role: Role,
    pub email: EmailAddress,
    pub display_name: String,
    pub password: Password,
    pub locale: String,
    /// `Practitioner/<id>` when the account belongs to a FHIR Practitioner.
    pub fhir_ref: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    #[error("patients create their own account at /signup (it makes their FHIR Patient)")]
    PatientRole,
    #[error("an account already uses this email address")]
    EmailTaken,
    #[error("password hashing failed")]
    Hashing,
    #[error("cannot create the account: {0}")]
    Store(StoreError),
}

/// A display name: 1 to 200 characters, no control characters (trimmed).
pub fn display_name(input: &str) -> Option<String> {
    let name = input.trim();
    let ok = !name.is_empty() && name.chars().count() <= 200 && !name.chars().any(char::is_control);
    ok.then(|| name.to_owned())
}

/// Store the account. The email counts as confirmed (an administrator vouches for it); the
/// authenticator is enrolled at first sign-in.
pub async fn create(store: &dyn Store, new: NewStaff) -> Result<Account, StaffError> {
    if new.role == Role::Patient {
        return Err(StaffError::PatientRole);
    }
    store_vouched(store, new).await
}

/// Store an account of any role whose email someone vouches for (an administrator, or the
/// demo seeding its sample people): confirmed, with no authenticator enrolled yet.
pub async fn store_vouched(store: &dyn Store, new: NewStaff) -> Result<Account, StaffError> {
    // argon2id takes tens of milliseconds of CPU: off the async workers.
    let password = new.password;
    let hash = tokio::task::spawn_blocking(move || carefront_auth::hash_password(&password))
        .await
        .map_err(|_| StaffError::Hashing)?
        .map_err(|_| StaffError::Hashing)?;
    let now = now_micros();
    let account = Account {
        id: uuid::Uuid::new_v4().to_string(),
        email: new.email.as_str().to_lowercase(),
        role: new.role.as_str().to_owned(),
        display_name: new.display_name,
        password_hash: hash.as_str().to_owned(),
        email_confirmed: true,
        disabled: false,
        fhir_ref: new.fhir_ref,
        totp_secret: None,
        totp_last_step: None,
        locale: new.locale,
        created_at: now,
        updated_at: now,
    };
    match accounts::insert(store, &account).await {
        Ok(()) => Ok(account),
        Err(StoreError::Conflict(_)) => Err(StaffError::EmailTaken),
        Err(e) => Err(StaffError::Store(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::display_name;

    #[test]
    fn display_names_are_trimmed_and_bounded() {
        assert_eq!(
            display_name(" Dr Grace Hopper ").as_deref(),
            Some("Dr Grace Hopper")
        );
        assert_eq!(display_name("  "), None);
        assert_eq!(display_name(&"x".repeat(201)), None);
        assert_eq!(display_name("a\nb"), None);
    }
}
