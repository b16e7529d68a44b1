//! The roles a person's account can have. One role per account: someone who is both a patient
//! and a practitioner has two accounts, so that what they can see never depends on which hat
//! they meant to wear.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Patient,
    Practitioner,
    Pharmacist,
    Dispatcher,
    EmployerAdmin,
    Administrator,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?}; expected one of patient, practitioner, pharmacist, dispatcher, employer-admin, administrator")]
pub struct UnknownRole(pub String);

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Patient,
        Role::Practitioner,
        Role::Pharmacist,
        Role::Dispatcher,
        Role::EmployerAdmin,
        Role::Administrator,
    ];

    /// The stored and logged name (`accounts.role`, `audit_log.actor_role`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Patient => "patient",
            Role::Practitioner => "practitioner",
            Role::Pharmacist => "pharmacist",
            Role::Dispatcher => "dispatcher",
            Role::EmployerAdmin => "employer-admin",
            Role::Administrator => "administrator",
        }
    }

    pub fn parse(s: &str) -> Result<Self, UnknownRole> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }

    /// Staff sign in with a password and a TOTP code; patients with a password alone.
    pub fn requires_second_factor(self) -> bool {
        self != Role::Patient
    }

    /// Accounts of this role are created by an administrator, not by signing up.
    pub fn is_self_service(self) -> bool {
        self == Role::Patient
    }
}

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::parse(s)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::{Role, UnknownRole};

    #[test]
    fn names_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Ok(role));
            assert_eq!(role.to_string().parse::<Role>(), Ok(role));
        }
        assert_eq!(Role::EmployerAdmin.as_str(), "employer-admin");
    }

    #[test]
    fn unknown_names_are_refused_by_name() {
        assert_eq!(Role::parse("Admin"), Err(UnknownRole("Admin".into())));
        assert!(Role::parse("Patient").is_err(), "names are case-sensitive");
        assert!(Role::parse("")
            .unwrap_err()
            .to_string()
            .contains("employer-admin"));
    }

    #[test]
    fn only_patients_sign_in_without_totp() {
        let without: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|r| !r.requires_second_factor())
            .collect();
        assert_eq!(without, [Role::Patient]);
        assert!(Role::Patient.is_self_service());
        assert!(!Role::Administrator.is_self_service());
    }
}
