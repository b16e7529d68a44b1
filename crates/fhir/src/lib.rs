//! FHIR R4 knowledge with no I/O: which resource types exist, what a valid resource looks
//! like, which search parameters each type has and how to index and query them, and the
//! OperationOutcome shape every error is reported in.
//!
//! The definitions are the official R4 data files (see `data/SOURCE.md`), embedded at build
//! time, so this crate needs no configuration and no network.

pub mod outcome;
pub mod resource_types;
pub mod search;
pub mod validate;

pub use outcome::{Issue, IssueCode, Severity};
pub use validate::validate;
