//! Accounts and access control, the pure part: no I/O, no database, no HTTP.
//!
//! Input from outside is parsed once into types that cannot hold a bad value
//! ([`EmailAddress`], [`PersonName`], [`BirthDate`], [`Password`], [`Scope`], [`Role`]);
//! secrets and personal data never print through `Debug` or `Display`. On top of those:
//! password hashing (argon2id), TOTP for staff, SMART on FHIR scopes for system clients, the
//! access decision for every FHIR request, and sign-in throttling. The HTTP and storage
//! layers call these and supply the facts and the clock.

pub mod access;
pub mod base32;
pub mod birth_date;
pub mod email;
pub mod hashing;
pub mod name;
pub mod password;
pub mod random;
pub mod role;
pub mod scope;
pub mod secret;
pub mod throttle;
pub mod totp;

pub use access::{
    classify, decide, AccessRequest, AccountPrincipal, Action, ClientPrincipal, Decision,
    DenyReason, InvalidId, OrganizationRef, PatientRef, Principal, ResourceClass,
};
pub use birth_date::{BirthDate, BirthDateError};
pub use email::{EmailAddress, EmailError};
pub use hashing::{
    hash_password, needs_rehash, verify_password, verify_password_without_account, HashError,
    PasswordHash, PasswordHashParseError,
};
pub use name::{NameError, NamePart, PersonName};
pub use password::{Password, PasswordError};
pub use random::RandomError;
pub use role::{Role, UnknownRole};
pub use scope::{
    Permissions, Scope, ScopeContext, ScopeError, ScopeProblem, ScopeResource, ScopeSet,
};
pub use secret::Secret;
pub use throttle::{Attempt, LoginThrottle, ThrottleKey, ThrottlePolicy, ThrottleState};
pub use totp::{time_step, TotpRejection, TotpSecret, TotpSecretError};
