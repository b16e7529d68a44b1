//! Who is calling `/fhir`: a bearer token from `/oauth2/token`, else the web session cookie,
//! else nobody. [`layer`] works this out once per request and leaves a [`Caller`] in the
//! request's extensions, where the audit layer and the FHIR handlers find it; [`require`]
//! then turns anonymous requests away with 401. What each caller may do is decided per
//! interaction in `crate::fhir::access`.

mod caller;
mod tokens;

pub use caller::{account_caller, layer, require, AuthState, Caller};
pub use tokens::{TokenCache, TOKEN_CACHE_TTL};
