//! Triage over HTTP for programs: the interview loop as JSON under `/api/triage` (see
//! [`api`]), described with the other JSON APIs in `/api/openapi.json`. The web pages call
//! the same service.

pub mod access;
pub mod api;
pub mod view;

pub use api::routes;
